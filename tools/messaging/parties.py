"""Who a text is with, the same for one sent (prepare) and one logged (Messaging.log_message): the lead the caller
names, checked in the workspace and against the contact, and the contact a bare number belongs to."""

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, lazyload

from db.models import Contact, ContactPhone, Lead
from tools.context import Ctx
from tools.problems import Problem


def lead_problems(session: Session, ctx: Ctx, lead_id: str | None, contact: Contact | None) -> list[Problem]:
    """What is wrong with a lead_id given with a text: no such lead in the workspace, or not the contact's lead."""
    if not lead_id or (contact is not None and contact.lead_id == lead_id):
        return []
    if session.scalar(select(Lead.id).where(Lead.id == lead_id, Lead.organization_id == ctx.organization_id)) is None:
        return [Problem("not_found", "lead_id", "Lead not found.")]
    if contact is not None:
        return [Problem("invalid", "lead_id", "The contact belongs to another lead.")]
    return []


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
    return session.get(
        Contact, found[0], options=[joinedload(Contact.phones), lazyload(Contact.lead), lazyload(Contact.emails)]
    )
