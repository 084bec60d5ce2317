"""Who a text or call is with, the same for one sent (prepare), one logged (Messaging.log_message) and a click-to-call
(calls.prepare_call): the lead the caller names, checked in the workspace and against the contact, a number given
with a contact checked against the contact's phones, and the contact a bare number belongs to."""

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, lazyload

from db.models import Contact, ContactPhone, Lead
from tools.context import Ctx
from tools.phones import format_phone
from tools.problems import Problem

NOT_CONTACTS_PHONE = "not_contacts_phone"


def lead_problems(session: Session, ctx: Ctx, lead_id: str | None, contact: Contact | None) -> list[Problem]:
    """What is wrong with a lead_id given with a text: no such lead in the workspace, or not the contact's lead."""
    if not lead_id or (contact is not None and contact.lead_id == lead_id):
        return []
    if session.scalar(select(Lead.id).where(Lead.id == lead_id, Lead.organization_id == ctx.organization_id)) is None:
        return [Problem("not_found", "lead_id", "Lead not found.")]
    if contact is not None:
        return [Problem("invalid", "lead_id", "The contact belongs to another lead.")]
    return []


def phone_problem(contact: Contact | None, phone: str | None, alone: str = "send to") -> Problem | None:
    """A number (E.164) given with a contact must be one of the contact's phones: else the text or call would reach
    someone else while it is filed on the contact's timeline and thread. `alone` says what the caller may do with
    the number instead ("send to", "call")."""
    if contact is None or phone is None or any(p.phone == phone for p in contact.phones):
        return None
    whose = f"{contact.name}'s" if contact.name else "the contact's"
    return Problem(NOT_CONTACTS_PHONE, "remote_phone", f"{format_phone(phone)} is not one of {whose} numbers; add it "
                                                       f"to the contact first, or {alone} the number alone.")


def only_contact_with(session: Session, ctx: Ctx, phone: str, lead_id: str | None) -> Contact | None:
    """The workspace's contact who has this phone (E.164), when exactly one does (on the lead, if given)."""
    stmt = (
        select(ContactPhone.contact_id)
        .join(Contact, ContactPhone.contact_id == Contact.id)
        .where(ContactPhone.organization_id == ctx.organization_id, ContactPhone.phone == phone)
        .distinct()
        .limit(2)
    )
    if lead_id:
        stmt = stmt.where(Contact.lead_id == lead_id)
    found = list(session.scalars(stmt))
    if len(found) != 1:
        return None
    # Its phones with it, as a send reads them; its lead and emails only if something asks.
    return session.get(Contact, found[0], options=[joinedload(Contact.phones), lazyload(Contact.emails)])
