"""Missed-call text-backs: a text drafted for the thread's owner to confirm when a call is missed, nothing sent by
itself; withdrawn, while still pending, when the call turns out answered after all."""

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant import drafts
from db.models import Activity, Draft, User
from tools.context import Ctx
from tools.messaging import Messaging
from tools.problems import Conflict

log = logging.getLogger("cody.assistant")

TEXT_BACK_HOURS = 24


def draft(session: Session, messaging: Messaging, activity: Activity) -> None:
    """Draft the text-back of a missed call.

    A caller who withheld their number has no contact, so nothing to text. The call is read again, locked, so that a
    <Dial> result that shows it was answered after all (`withdraw`) either comes first and no draft is made, or waits
    for this draft and withdraws it.
    """
    if activity.direction != "inbound" or not activity.contact_id or not activity.user_id:
        return
    if session.scalar(select(Activity.status).where(Activity.id == activity.id).with_for_update()) != "missed":
        session.rollback()
        return
    user = session.get(User, activity.user_id)
    ctx = Ctx(activity.organization_id, activity.user_id, channel="webhook")
    sign_off = f" - {user.first_name}" if user is not None and user.first_name else ""
    args = {"contact_id": activity.contact_id, "text": f"Sorry I missed your call! How can I help?{sign_off}"}
    prepared = messaging.prepare(session, ctx, drafts.request_from_args(args))
    drafts.create_draft(session, ctx, "send_sms", args, prepared, None, TEXT_BACK_HOURS * 60)
    session.commit()


def withdraw(session: Session, activity: Activity) -> None:
    """A missed call that was answered after all: the text-back drafted for it, still pending, is canceled."""
    if not activity.contact_id or not activity.user_id:
        return
    ctx = Ctx(activity.organization_id, activity.user_id, channel="webhook")
    pending = session.scalars(select(Draft).where(
        Draft.organization_id == activity.organization_id, Draft.user_id == activity.user_id,
        Draft.channel == "webhook", Draft.tool == "send_sms", Draft.state == "pending",
        Draft.date_created >= activity.date_created)).all()
    for found in pending:
        if found.args.get("contact_id") != activity.contact_id:
            continue
        try:
            drafts.cancel(session, ctx, found.id)
        except Conflict:  # confirmed (or ended) by the user since it was read: theirs to keep
            log.info("text-back draft %s was no longer pending when its call turned out answered", found.id)
