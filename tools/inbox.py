"""The Inbox: what each person must look at, and the threads they can claim."""

from datetime import datetime

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from db.ids import new_id
from db.models import Activity, InboxItem, Membership, Thread, User
from db.types import utcnow
from tools.context import Ctx
from tools.paging import Page, PageRequest, fetch_page
from tools.problems import Forbidden, Invalid, NotFound
from tools.threads import claim_if_unclaimed, hand_over_items
from tools.upsert import insert_ignore_many

INBOX_TYPES = ("incoming_sms", "missed_call", "voicemail", "billing")
BILLING = "billing"  # an item about a business number (its renewal the wallet could not pay), with its own text


_MEMBERS = select(Membership.user_id).where(Membership.organization_id == bindparam("org"))  # built once


def recipients_for(session: Session, assignee_id: str | None, organization_id: str,
                   members: list[str] | None = None) -> list[str]:
    """The thread's assignee, or every member of the workspace while the thread is unclaimed (`members`, when the
    caller has already read them)."""
    if assignee_id:
        return [assignee_id]
    return members if members is not None else list(session.scalars(_MEMBERS, {"org": organization_id}))


def create_inbox_items(session: Session, activity: Activity, item_type: str = "incoming_sms") -> int:
    """One item per person who must see this activity; a repeat makes nothing new.

    The thread's row is locked while its assignee is read, as an inbound text's touch locks it: a claim or an
    assignment committing meanwhile is waited for, and its hand-over of items never misses these.
    """
    assignee_id = session.scalar(_ASSIGNEE, {"thread": activity.thread_id}) if activity.thread_id else None
    recipients = recipients_for(session, assignee_id, activity.organization_id)
    return add_inbox_items(session, activity.organization_id, activity.id, activity.thread_id, recipients, item_type)


_ASSIGNEE = select(Thread.assignee_id).where(Thread.id == bindparam("thread")).with_for_update()  # built once


def add_inbox_items(session: Session, organization_id: str, activity_id: str, thread_id: str | None,
                    recipients: list[str], item_type: str, at: datetime | None = None) -> int:
    """create_inbox_items for a caller that has the activity's ids and its recipients (recipients_for) at hand: one
    INSERT for all of them, dated `at` (now unless given). A recipient who has an item for the activity keeps it."""
    now = utcnow()
    rows = [{"id": new_id("inbx"), "organization_id": organization_id, "user_id": user_id,
             "thread_id": thread_id, "activity_id": activity_id, "type": item_type, "done": False,
             "date_created": at or now, "date_updated": now}
            for user_id in recipients]
    return insert_ignore_many(session, InboxItem, rows, ["activity_id", "user_id"])


def share_items(session: Session, thread: Thread) -> None:
    """The thread's unanswered messages, once it is nobody's, are in every member's Inbox again, as an unclaimed
    thread's new messages are: each message that still has an open item gets one for each member who has none
    (dated as the first). Items a member already has stay as they are, done or not; a message whose items are all
    done was answered, and stays so.

    Call it with the thread's row locked by the unassignment (its UPDATE), as hand_over_items.
    """
    unanswered = session.execute(
        select(InboxItem.activity_id, InboxItem.type, func.min(InboxItem.date_created))
        .where(InboxItem.organization_id == thread.organization_id, InboxItem.thread_id == thread.id,
               InboxItem.done.is_(False))
        .group_by(InboxItem.activity_id, InboxItem.type)
    ).all()
    if not unanswered:
        return
    members = recipients_for(session, None, thread.organization_id)
    for activity_id, item_type, at in unanswered:
        add_inbox_items(session, thread.organization_id, activity_id, thread.id, members, item_type, at)


def remove_inbox_items(session: Session, organization_id: str, activity_id: str, item_type: str) -> int:
    """Take back the items of this type an activity made (a missed call that was answered after all)."""
    return session.execute(delete(InboxItem).where(InboxItem.organization_id == organization_id,
                                                   InboxItem.activity_id == activity_id, InboxItem.type == item_type)
                           .execution_options(synchronize_session=False)).rowcount


def add_billing_items(session: Session, organization_id: str, phone_number_id: str, text: str) -> int:
    """An item saying `text` about the number for each admin of the workspace who has no open one about it yet; how
    many were made."""
    open_item = (select(InboxItem.id)
                 .where(InboxItem.organization_id == organization_id, InboxItem.user_id == Membership.user_id,
                        InboxItem.phone_number_id == phone_number_id, InboxItem.type == BILLING,
                        InboxItem.done.is_(False))
                 .exists())
    admins = session.scalars(select(Membership.user_id).where(Membership.organization_id == organization_id,
                                                              Membership.role == "admin", ~open_item)).all()
    if not admins:
        return 0
    now = utcnow()
    session.execute(insert(InboxItem), [
        {"id": new_id("inbx"), "organization_id": organization_id, "user_id": user_id, "thread_id": None,
         "activity_id": None, "phone_number_id": phone_number_id, "text": text, "type": BILLING, "done": False,
         "date_created": now, "date_updated": now}
        for user_id in admins])
    return len(admins)


def close_billing_items(session: Session, organization_id: str, phone_number_id: str) -> int:
    """Mark done every open billing item about the number (it is paid again); how many were open."""
    return session.execute(update(InboxItem).where(InboxItem.organization_id == organization_id,
                                                   InboxItem.phone_number_id == phone_number_id,
                                                   InboxItem.type == BILLING, InboxItem.done.is_(False))
                           .values(done=True, date_updated=utcnow())
                           .execution_options(synchronize_session=False)).rowcount


def list_inbox(session: Session, ctx: Ctx, page: PageRequest, done: bool | None = None, item_type: str | None = None) -> Page:
    if item_type is not None and item_type not in INBOX_TYPES:
        raise Invalid.one("invalid", "type", f"type must be one of {', '.join(INBOX_TYPES)}.")
    stmt = select(InboxItem).where(InboxItem.organization_id == ctx.organization_id, InboxItem.user_id == ctx.user_id)
    if done is not None:
        stmt = stmt.where(InboxItem.done.is_(done))
    if item_type:
        stmt = stmt.where(InboxItem.type == item_type)
    return fetch_page(session, stmt.order_by(InboxItem.date_created.desc(), InboxItem.id.desc()), page)


def mark_done(session: Session, ctx: Ctx, item_id: str) -> InboxItem:
    item = session.scalar(select(InboxItem).where(InboxItem.id == item_id, InboxItem.user_id == ctx.user_id,
                                                  InboxItem.organization_id == ctx.organization_id))
    if item is None:
        raise NotFound("Inbox item not found.")
    item.done = True
    session.flush()
    return item


def get_thread(session: Session, ctx: Ctx, thread_id: str) -> Thread:
    thread = session.scalar(select(Thread).where(Thread.id == thread_id, Thread.organization_id == ctx.organization_id))
    if thread is None:
        raise NotFound("Thread not found.")
    return thread


def list_threads(session: Session, ctx: Ctx, page: PageRequest, contact_id: str | None = None,
                 assigned_to: str | None = None, unclaimed: bool | None = None) -> Page:
    stmt = select(Thread).where(Thread.organization_id == ctx.organization_id)
    if contact_id:
        stmt = stmt.where(Thread.contact_id == contact_id)
    if assigned_to:
        stmt = stmt.where(Thread.assignee_id == assigned_to)
    if unclaimed is not None:
        stmt = stmt.where(Thread.assignee_id.is_(None) if unclaimed else Thread.assignee_id.is_not(None))
    order = (Thread.last_activity_at.desc().nulls_last(), Thread.id)
    return fetch_page(session, stmt.order_by(*order), page)


def claim(session: Session, ctx: Ctx, thread_id: str) -> Thread:
    """Take an unclaimed thread; someone else's thread stays theirs."""
    thread = get_thread(session, ctx, thread_id)
    if not claim_if_unclaimed(session, thread, ctx.user_id) and thread.assignee_id != ctx.user_id:
        raise Invalid.one("already_claimed", "assignee_id", "Someone else already has this thread.")
    return thread


def assign(session: Session, ctx: Ctx, thread_id: str, user_id: str | None) -> Thread:
    """Give the thread to a member of the workspace, or to nobody.

    A member may do so with a thread nobody has or one they have; taking a thread from someone else (to give it to
    anyone, themselves included, or to nobody) is for an admin. The thread's open Inbox items go with it to its new
    assignee (hand_over_items); unassigned, its unanswered messages are every member's again (share_items).
    """
    # Read with the row locked (PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the database), so the holder
    # checked is still the holder when the thread changes hands, and the items handed over are the current ones.
    thread = session.scalar(select(Thread).where(Thread.id == thread_id, Thread.organization_id == ctx.organization_id)
                            .with_for_update().execution_options(populate_existing=True))
    if thread is None:
        raise NotFound("Thread not found.")
    holder = thread.assignee_id
    if holder is not None and holder != ctx.user_id and not ctx.is_admin:
        who = session.scalar(select(User).join(Membership, Membership.user_id == User.id)
                             .where(User.id == holder, Membership.organization_id == ctx.organization_id))
        raise Forbidden(f"{who.display_name if who is not None else 'Someone else'} has this thread; only an admin "
                        "can reassign or unassign a thread someone else has.")
    if user_id is not None:
        member = session.scalar(select(Membership.id).where(Membership.organization_id == ctx.organization_id,
                                                            Membership.user_id == user_id))
        if member is None:
            raise Invalid.one("invalid", "user_id", "That user is not a member of this workspace.")
    session.execute(update(Thread).where(Thread.id == thread.id, Thread.organization_id == ctx.organization_id)
                    .values(assignee_id=user_id, date_updated=utcnow())
                    .execution_options(synchronize_session=False))
    session.refresh(thread)
    if user_id is not None and user_id != holder:
        hand_over_items(session, thread, user_id)
    elif user_id is None and holder is not None:
        share_items(session, thread)
    return thread
