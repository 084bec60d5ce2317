"""The web page: chat with Cody, contacts, Inbox, calls and settings."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
