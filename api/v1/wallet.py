"""Wallet."""

from fastapi import APIRouter

router = APIRouter(tags=["wallet"])
