"""Voice: TwiML builders, call intelligence (transcription, summary) and the voice settings."""
