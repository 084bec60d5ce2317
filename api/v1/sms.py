"""SMS activities."""

from fastapi import APIRouter

router = APIRouter(tags=["sms activities"])
