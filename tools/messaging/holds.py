"""Texts not yet gone out, when their contact or number changes: those to a contact being deleted, or from a number
being released, return to draft; those of a contact moving to another lead go with it."""

from sqlalchemy import ColumnElement, and_, update
from sqlalchemy.orm import Session

from db.models import Activity
from db.types import utcnow
from tools.context import Ctx
from tools.messaging.lifecycle import CANCELLABLE

# What cancelling a scheduled or outbox message changes: it is a draft again, with no time to go out.
BACK_TO_DRAFT = {"status": "draft", "date_scheduled": None}


def waiting() -> ColumnElement[bool]:
    """A text still waiting to go out: scheduled or in the outbox, and claimed by no worker (one claimed is with the
    carrier), so it can still be held or cancelled."""
    return and_(Activity.status.in_(CANCELLABLE), Activity.claimed_by.is_(None))


def hold_sends_to_contact(session: Session, ctx: Ctx, contact_id: str) -> int:
    """Put the contact's texts still waiting to go out back to draft; returns how many.

    They stay on the lead's timeline for the sender to look at, but nothing goes to the number of a contact the
    workspace removed.
    """
    return _hold(session, ctx, Activity.contact_id == contact_id)


def hold_sends_from_number(session: Session, ctx: Ctx, number: str) -> int:
    """Put the texts still waiting to go out from a business number being released back to draft; returns how many.

    The sender sees them as drafts to send again from another line, instead of finding them failed at their time.
    """
    return _hold(session, ctx, Activity.local_phone == number)


def _hold(session: Session, ctx: Ctx, which: ColumnElement[bool]) -> int:
    """The waiting texts among `which` go back to draft."""
    result = session.execute(
        update(Activity).where(Activity.organization_id == ctx.organization_id, which, Activity.type == "sms", waiting())
        .values(**BACK_TO_DRAFT, date_updated=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def move_unsent_with_contact(session: Session, ctx: Ctx, contact_id: str, lead_id: str) -> int:
    """The contact's texts not yet gone out (drafts, scheduled, in the outbox) go to the lead it moves to, where a send
    would otherwise be refused as filed on a lead the contact left; returns how many. Texts that went out stay on their
    lead, as its history."""
    result = session.execute(
        update(Activity).where(Activity.organization_id == ctx.organization_id, Activity.contact_id == contact_id,
                               Activity.type == "sms", Activity.status.in_(("draft", *CANCELLABLE)))
        .values(lead_id=lead_id).execution_options(synchronize_session=False)
    )
    return result.rowcount
