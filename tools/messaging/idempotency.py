"""Idempotency-Key: a request repeated with the key answers with what the first one made, and makes nothing."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Activity
from tools.context import Ctx
from tools.problems import Conflict

_WHAT = {"sms": "a text", "call": "a call"}


def made_before(session: Session, ctx: Ctx, kind: str) -> Activity | None:
    """The activity the caller's key already made in this workspace; Conflict when it made another kind."""
    if not ctx.idempotency_key:
        return None
    found = session.scalar(select(Activity).where(Activity.organization_id == ctx.organization_id,
                                                  Activity.idempotency_key == ctx.idempotency_key))
    if found is not None and found.type != kind:
        raise Conflict(f"This Idempotency-Key was already used for {_WHAT.get(found.type, found.type)}; "
                       f"use a new key for {_WHAT.get(kind, kind)}.")
    return found
