"""Threads: one per contact; who has it, and claiming it atomically."""

from datetime import datetime

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from db.ids import new_id
from db.models import InboxItem, Thread
from db.types import utcnow
from tools.upsert import insert_ignore


def thread_for(session: Session, organization_id: str, contact_id: str, lead_id: str | None) -> Thread:
    """The contact's thread, created on first use (safe when two requests create it at once).

    One SELECT when the thread exists (the usual case); INSERT ... ON CONFLICT DO NOTHING and a second SELECT
    only when it does not yet.
    """
    found = _current_thread(session, organization_id, contact_id)
    if found is not None:
        return found
    now = utcnow()
    insert_ignore(session, Thread, {"id": new_id("thrd"), "organization_id": organization_id, "contact_id": contact_id,
                                    "lead_id": lead_id, "status": "open", "date_created": now, "date_updated": now},
                  ["contact_id"])
    return _current_thread(session, organization_id, contact_id)


# Built once (values are bound at execution): these run on every text in and out, and building a statement and its
# cache key each time cost about as much as running it.
# populate_existing: a session that loaded the thread before (sessions keep objects across commits) must see the
# current assignee and last inbound, or an outbound reply would decide on a stale copy.
_THREAD_OF_CONTACT = (
    select(Thread).where(Thread.organization_id == bindparam("org"), Thread.contact_id == bindparam("contact"))
    .execution_options(populate_existing=True)
)
# A Core UPDATE of the table (the ORM's bulk-update layer around it cost more than the statement). RETURNING the
# assignee: the row is locked from the UPDATE to commit, so this is who has the thread now (a claim that landed since
# the thread was read is seen without reading it again).
_THREADS = Thread.__table__


def _touch_values(inbound: bool) -> dict:
    """What a touch sets: the last activity (and last inbound) to :at."""
    return {"last_activity_at": bindparam("at"), "date_updated": bindparam("now"),
            **({"last_inbound_at": bindparam("at")} if inbound else {})}


_OF_CONTACT = (_THREADS.c.organization_id == bindparam("org"), _THREADS.c.contact_id == bindparam("contact"))
_TOUCH = {
    inbound: _THREADS.update().where(_THREADS.c.id == bindparam("thread")).values(_touch_values(inbound))
    .returning(_THREADS.c.assignee_id)
    for inbound in (False, True)
}
# The same touch, found by contact and RETURNING the whole thread (current assignee, last inbound): the usual case of
# "the contact's thread, touched" in one statement instead of a SELECT and an UPDATE.
_TOUCH_OF_CONTACT = {
    inbound: update(Thread).where(*_OF_CONTACT).values(_touch_values(inbound)).returning(Thread)
    .execution_options(populate_existing=True, synchronize_session=False)
    for inbound in (False, True)
}
# The same, for a caller that needs only the thread's id and assignee (an incoming text): a Core statement, no
# Thread object built.
_TOUCH_IDS_OF_CONTACT = (
    _THREADS.update().where(*_OF_CONTACT).values(_touch_values(True)).returning(_THREADS.c.id, _THREADS.c.assignee_id)
)


def touched_thread(session: Session, organization_id: str, contact_id: str, lead_id: str | None, at: datetime,
                   inbound: bool = False) -> Thread:
    """The contact's thread with its last activity (and last inbound) moved to `at`, created on first use.

    One UPDATE ... RETURNING when the thread exists; the row stays locked to commit, so its assignee is current.
    """
    found = session.scalar(_TOUCH_OF_CONTACT[inbound],
                           {"org": organization_id, "contact": contact_id, "at": at, "now": utcnow()})
    return found if found is not None else _new_thread_touched(session, organization_id, contact_id, lead_id, at,
                                                                inbound)


def touched_inbound(session: Session, organization_id: str, contact_id: str, lead_id: str | None,
                    at: datetime) -> tuple[str, str | None]:
    """touched_thread(inbound=True) as (thread id, assignee id)."""
    found = session.execute(_TOUCH_IDS_OF_CONTACT,
                            {"org": organization_id, "contact": contact_id, "at": at, "now": utcnow()}).first()
    if found is not None:
        return found[0], found[1]
    thread = _new_thread_touched(session, organization_id, contact_id, lead_id, at, inbound=True)
    return thread.id, thread.assignee_id


def _new_thread_touched(session: Session, organization_id: str, contact_id: str, lead_id: str | None, at: datetime,
                        inbound: bool) -> Thread:
    """When the touch found no thread: the contact's thread, made now (or by a request that raced this one)."""
    thread = thread_for(session, organization_id, contact_id, lead_id)
    touch(session, thread, at, inbound)
    return thread


def _current_thread(session: Session, organization_id: str, contact_id: str) -> Thread | None:
    return session.scalar(_THREAD_OF_CONTACT, {"org": organization_id, "contact": contact_id})


def claim_if_unclaimed(session: Session, thread: Thread, user_id: str) -> bool:
    """Assign the thread to user_id only if nobody has it; exactly one of racing claimers wins. The winner's claim
    takes the thread's open Inbox items with it (hand_over_items): the other members' are theirs no more."""
    result = session.execute(
        update(Thread)
        .where(Thread.id == thread.id, Thread.assignee_id.is_(None))
        .values(assignee_id=user_id, date_updated=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.refresh(thread)
    if result.rowcount != 1:
        return False
    hand_over_items(session, thread, user_id)
    return True


def hand_over_items(session: Session, thread: Thread, user_id: str) -> None:
    """The thread's open Inbox items follow it to its new assignee, who is now the one to answer them.

    For each message with an open item held by someone else: if `user_id` has no item for it, one of those items
    moves to them (kept open, with its id and date); the others' open items for it are removed, as if the thread had
    been theirs when the message came (what a claimed thread's new messages do). An item `user_id` already has stays
    as it is, done or not. Done items of the others stay: they are what those people did.

    Call it with the thread's row locked by the assignment (its UPDATE): an inbound message touches that row before
    it makes items, so it either made them before this reads them or makes them for the new assignee only.
    """
    rows = session.execute(
        select(InboxItem.id, InboxItem.activity_id, InboxItem.user_id)
        .where(InboxItem.organization_id == thread.organization_id, InboxItem.thread_id == thread.id,
               or_(InboxItem.done.is_(False), InboxItem.user_id == user_id))
        .order_by(InboxItem.date_created, InboxItem.id)
    ).all()
    held = {activity_id for _, activity_id, holder in rows if holder == user_id}
    move, drop = [], []
    for item_id, activity_id, holder in rows:
        if holder == user_id:
            continue
        if activity_id in held:
            drop.append(item_id)
        else:
            move.append(item_id)
            held.add(activity_id)
    if drop:
        session.execute(delete(InboxItem).where(InboxItem.organization_id == thread.organization_id,
                                                InboxItem.id.in_(drop)))
    if move:
        session.execute(update(InboxItem).where(InboxItem.organization_id == thread.organization_id,
                                                InboxItem.id.in_(move))
                        .values(user_id=user_id, date_updated=utcnow()))


def touch(session: Session, thread: Thread, at: datetime, inbound: bool = False) -> None:
    if session.autoflush:
        session.flush()  # as an ORM statement would: the message being logged goes in before its thread is touched
    assignee = session.execute(_TOUCH[inbound], {"thread": thread.id, "at": at, "now": utcnow()}).first()
    if assignee is not None:
        set_committed_value(thread, "assignee_id", assignee[0])


def assign_after_outbound(session: Session, thread: Thread, user_id: str | None) -> None:
    """An outbound reply to a thread with an unclaimed inbound makes the thread the sender's."""
    if user_id and thread.last_inbound_at is not None and thread.assignee_id is None:
        claim_if_unclaimed(session, thread, user_id)
