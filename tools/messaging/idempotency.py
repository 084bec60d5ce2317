"""Idempotency-Key: a request repeated with the key answers with what the first one made, and makes nothing.

The key names one request: repeated with other values, it is refused (as Stripe does), never answered with a row
made for something else.
"""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Activity
from tools.context import Ctx
from tools.problems import Conflict, ServiceError

_WHAT = {"sms": "a text", "call": "a call"}


class KeyReused(ServiceError):
    """The Idempotency-Key already made a row for a request with other values."""

    status_code = 422


def request_hash(request: BaseModel) -> str:
    """The request's values, parsed, so that the same values in another order or spelling hash alike: keys sorted,
    times in UTC, and fields left at their defaults out (so a field added later changes no earlier request's hash)."""
    values = json.dumps(request.model_dump(exclude_defaults=True), sort_keys=True, default=_plain)
    return hashlib.sha256(f"{type(request).__name__}:{values}".encode()).hexdigest()


def _plain(value: Any) -> str:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat()
    return str(value)


def key_columns(ctx: Ctx, request: BaseModel) -> dict[str, Any]:
    """The Activity columns that remember the caller's key and what it was for."""
    return {
        "idempotency_key": ctx.idempotency_key,
        "request_hash": request_hash(request) if ctx.idempotency_key else None,
    }


def made_before(session: Session, ctx: Ctx, kind: str, request: BaseModel) -> Activity | None:
    """The activity the caller's key already made in this workspace for this same request, by this same user.

    Conflict when the key made another kind of activity; KeyReused when another user made it, or it was made for a
    request with other values.
    """
    if not ctx.idempotency_key:
        return None
    found = session.scalar(
        select(Activity).where(
            Activity.organization_id == ctx.organization_id, Activity.idempotency_key == ctx.idempotency_key
        )
    )
    if found is None:
        return None
    if found.type != kind:
        raise Conflict(
            f"This Idempotency-Key was already used for {_WHAT.get(found.type, found.type)}; "
            f"use a new key for {_WHAT.get(kind, kind)}."
        )
    if found.created_by != ctx.user_id:  # keys are the workspace's; another user's row is not this caller's answer
        raise KeyReused("This Idempotency-Key was already used by another user of this workspace; use a new key.")
    if found.request_hash is not None and found.request_hash != request_hash(request):
        raise KeyReused("This Idempotency-Key was already used with other values; use a new key for a new request.")
    return found
