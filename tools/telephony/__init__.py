"""Telephony providers behind one protocol: Twilio (official SDK over httpx) and the offline sandbox."""
