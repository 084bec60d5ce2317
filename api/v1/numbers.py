"""Phone numbers."""

from fastapi import APIRouter

router = APIRouter(tags=["phone numbers"])
