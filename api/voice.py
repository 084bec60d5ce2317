"""Voice commands: a spoken request, answered like the chat API."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/voice", tags=["voice"])
