"""Each user's own phone (the forwarding phone): click-to-call rings it first, inbound calls ring it."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Contact, ContactPhone, Membership, PhoneNumber, User
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
        _refuse_someone_elses(session, ctx, phone)
    user.forwarding_phone = phone
    session.commit()
    return user


def _refuse_someone_elses(session: Session, ctx: Ctx, phone: str) -> None:
    """A contact's phone, or a colleague's own phone, is not the caller's: set as theirs, that person's calls to a
    team line would ask for a voice PIN (and reach nobody), and click-to-call would ring them first."""
    contact = session.scalar(select(Contact.name).join(ContactPhone, ContactPhone.contact_id == Contact.id)
                             .where(ContactPhone.organization_id == ctx.organization_id, ContactPhone.phone == phone)
                             .limit(1))
    if contact is not None:
        raise Invalid.one("not_your_phone", "forwarding_phone",
                          f"{format_phone(phone)} is {contact or 'a contact'}'s number in this workspace; give the "
                          "phone you carry.")
    colleague = session.scalar(select(User.id).join(Membership, Membership.user_id == User.id)
                               .where(Membership.organization_id == ctx.organization_id, User.id != ctx.user_id,
                                      User.forwarding_phone == phone).limit(1))
    if colleague is not None:
        raise Invalid.one("not_your_phone", "forwarding_phone",
                          f"{format_phone(phone)} is a colleague's own phone in this workspace; give the phone you "
                          "carry.")
