"""Each user's own phone (the forwarding phone): click-to-call rings it first, inbound calls ring it."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import PhoneNumber, User
from tools.context import Ctx
from tools.phones import format_phone, normalise
from tools.problems import Invalid


def set_forwarding_phone(session: Session, ctx: Ctx, raw: str | None) -> User:
    """Store the phone in E.164 (None or blank clears it); a workspace's own business line is refused (a loop)."""
    user = session.get(User, ctx.user_id)
    phone = None
    if raw is not None and raw.strip():
        phone = normalise(raw, "US", field="forwarding_phone").e164
        ours = session.scalar(select(PhoneNumber.id).where(PhoneNumber.organization_id == ctx.organization_id,
                                                           PhoneNumber.number == phone,
                                                           PhoneNumber.number_type == "internal",
                                                           PhoneNumber.status == "active"))
        if ours is not None:
            raise Invalid.one("forwarding_loop", "forwarding_phone",
                              f"{format_phone(phone)} is one of your business lines; give the phone you carry.")
    user.forwarding_phone = phone
    session.commit()
    return user
