"""Twilio's voice webhooks: inbound calls, call status, dial results, recordings, the voice agent."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/webhooks/twilio", tags=["webhooks"], include_in_schema=False)
