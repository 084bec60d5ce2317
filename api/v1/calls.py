"""Calls: click-to-call and the call log."""

from fastapi import APIRouter

router = APIRouter(tags=["calls"])
