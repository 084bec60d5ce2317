"""The Slack bot: slash commands, messages and buttons, mounted at /api/slack/events."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/slack", include_in_schema=False)
