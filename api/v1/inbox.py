"""Inbox and threads."""

from fastapi import APIRouter

router = APIRouter(tags=["inbox and threads"])
