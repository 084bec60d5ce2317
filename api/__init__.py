"""HTTP faces (Close-compatible REST, chat, webhooks, Slack, voice, web page) and the CLI."""
