"""Threads: one per contact; who has it, and claiming it atomically."""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.ids import new_id
from db.models import Thread
from db.types import utcnow
from tools.upsert import insert_ignore


def thread_for(session: Session, organization_id: str, contact_id: str, lead_id: str | None) -> Thread:
    """The contact's thread, created on first use (safe when two requests create it at once)."""
    now = utcnow()
    insert_ignore(session, Thread, {"id": new_id("thrd"), "organization_id": organization_id, "contact_id": contact_id,
                                    "lead_id": lead_id, "status": "open", "date_created": now, "date_updated": now},
                  ["organization_id", "contact_id"])
    # populate_existing: a session that loaded the thread before (sessions keep objects across commits) must see
    # the current assignee and last inbound, or an outbound reply would decide on a stale copy.
    return session.scalar(
        select(Thread).where(Thread.organization_id == organization_id, Thread.contact_id == contact_id)
        .execution_options(populate_existing=True)
    )


def claim_if_unclaimed(session: Session, thread: Thread, user_id: str) -> bool:
    """Assign the thread to user_id only if nobody has it; exactly one of racing claimers wins."""
    result = session.execute(
        update(Thread)
        .where(Thread.id == thread.id, Thread.assignee_id.is_(None))
        .values(assignee_id=user_id, date_updated=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.refresh(thread)
    return result.rowcount == 1


def touch(session: Session, thread: Thread, at: datetime, inbound: bool = False) -> None:
    values = {"last_activity_at": at, "date_updated": utcnow()}
    if inbound:
        values["last_inbound_at"] = at
    session.execute(update(Thread).where(Thread.id == thread.id).values(**values)
                    .execution_options(synchronize_session=False))


def assign_after_outbound(session: Session, thread: Thread, user_id: str | None) -> None:
    """An outbound reply to a thread with an unclaimed inbound makes the thread the sender's."""
    if user_id and thread.last_inbound_at is not None and thread.assignee_id is None:
        claim_if_unclaimed(session, thread, user_id)
