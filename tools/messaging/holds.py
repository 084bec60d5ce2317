"""Sends held back after all: texts waiting to go out to a contact that is being deleted return to draft."""

from sqlalchemy import update
from sqlalchemy.orm import Session

from db.models import Activity
from db.types import utcnow
from tools.context import Ctx
from tools.messaging.lifecycle import CANCELLABLE

# What cancelling a scheduled or outbox message changes: it is a draft again, with no time to go out.
BACK_TO_DRAFT = {"status": "draft", "date_scheduled": None}


def hold_sends_to_contact(session: Session, ctx: Ctx, contact_id: str) -> int:
    """Put the contact's scheduled and outbox texts that no worker has claimed back to draft; returns how many.

    They stay on the lead's timeline for the sender to look at, but nothing goes to the number of a contact the
    workspace removed. A text already claimed by a worker is on its way to the carrier and can't be held.
    """
    result = session.execute(
        update(Activity).where(Activity.organization_id == ctx.organization_id, Activity.contact_id == contact_id,
                               Activity.type == "sms", Activity.status.in_(CANCELLABLE),
                               Activity.claimed_by.is_(None))
        .values(**BACK_TO_DRAFT, date_updated=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
