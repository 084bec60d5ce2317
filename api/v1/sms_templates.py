"""SMS templates."""

from fastapi import APIRouter

router = APIRouter(tags=["sms templates"])
