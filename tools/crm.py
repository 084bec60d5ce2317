"""Leads and contacts: validated writes, workspace-scoped reads."""

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Activity, Contact, ContactEmail, ContactPhone, Lead
from tools.context import Ctx
from tools.messaging.holds import hold_sends_to_contact
from tools.paging import Page, PageRequest, fetch_page
from tools.phones import normalise
from tools.problems import Invalid, NotFound, Problem

PHONE_TYPES = ("office", "mobile", "home", "direct", "fax", "other", "url")


class PhoneIn(BaseModel):
    phone: str = Field(max_length=64)
    type: str = Field(default="office", max_length=20)
    country: str | None = Field(default=None, max_length=2, description="Region to read a national number in")


class EmailIn(BaseModel):
    email: str = Field(max_length=320)
    type: str = Field(default="office", max_length=20)


class ContactIn(BaseModel):
    lead_id: str | None = None
    name: str = Field(default="", max_length=300)
    title: str = Field(default="", max_length=300)
    phones: list[PhoneIn] = Field(default_factory=list, max_length=20)
    emails: list[EmailIn] = Field(default_factory=list, max_length=20)
    custom: dict[str, Any] = Field(default_factory=dict)
    do_not_call: bool = False


class ContactPatch(BaseModel):
    name: str | None = Field(default=None, max_length=300)
    title: str | None = Field(default=None, max_length=300)
    phones: list[PhoneIn] | None = Field(default=None, max_length=20)
    emails: list[EmailIn] | None = Field(default=None, max_length=20)
    custom: dict[str, Any] | None = None
    do_not_call: bool | None = None


class LeadIn(BaseModel):
    name: str = Field(default="", max_length=300)
    description: str = Field(default="", max_length=5000)
    url: str | None = Field(default=None, max_length=500)
    custom: dict[str, Any] = Field(default_factory=dict)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=50)


class LeadPatch(BaseModel):
    name: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=5000)
    url: str | None = Field(default=None, max_length=500)
    custom: dict[str, Any] | None = None


def _phones(ctx: Ctx, items: list[PhoneIn], prefix: str = "phones") -> list[ContactPhone]:
    """Normalise every phone to E.164, collecting one problem per bad entry."""
    phones, problems = [], []
    for i, item in enumerate(items):
        if item.type not in PHONE_TYPES:
            problems.append(Problem("invalid", f"{prefix}.{i}.type", f"type must be one of {', '.join(PHONE_TYPES)}."))
            continue
        try:
            phone = normalise(item.phone, (item.country or "US").upper(), field=f"{prefix}.{i}.phone")
        except Invalid as exc:
            problems.extend(exc.problems)
            continue
        phones.append(ContactPhone(organization_id=ctx.organization_id, phone=phone.e164, type=item.type, position=i))
    if problems:
        raise Invalid(problems)
    return phones


def _emails(items: list[EmailIn], prefix: str = "emails") -> list[ContactEmail]:
    problems = [Problem("invalid_email", f"{prefix}.{i}.email", f"{e.email!r} is not an email address.")
                for i, e in enumerate(items) if "@" not in e.email]
    if problems:
        raise Invalid(problems)
    return [ContactEmail(email=e.email.strip(), type=e.type, position=i) for i, e in enumerate(items)]


def get_lead(session: Session, ctx: Ctx, lead_id: str) -> Lead:
    lead = session.scalar(select(Lead).where(Lead.id == lead_id, Lead.organization_id == ctx.organization_id))
    if lead is None:
        raise NotFound("Lead not found.")
    return lead


def get_contact(session: Session, ctx: Ctx, contact_id: str) -> Contact:
    contact = session.scalar(
        select(Contact).where(Contact.id == contact_id, Contact.organization_id == ctx.organization_id)
    )
    if contact is None:
        raise NotFound("Contact not found.")
    return contact


def _new_contact(ctx: Ctx, lead: Lead, data: ContactIn, prefix: str = "") -> Contact:
    return Contact(
        organization_id=ctx.organization_id,
        lead=lead,
        name=data.name.strip(),
        title=data.title,
        custom=data.custom,
        do_not_call=data.do_not_call,
        phones=_phones(ctx, data.phones, f"{prefix}phones"),
        emails=_emails(data.emails, f"{prefix}emails"),
        created_by=ctx.user_id,
        updated_by=ctx.user_id,
    )


def create_lead(session: Session, ctx: Ctx, data: LeadIn) -> Lead:
    """A lead with its nested contacts; nothing is stored if any contact is invalid."""
    lead = Lead(organization_id=ctx.organization_id, name=data.name.strip(), description=data.description,
                url=data.url, custom=data.custom, created_by=ctx.user_id, updated_by=ctx.user_id)
    problems: list[Problem] = []
    contacts = []
    for i, item in enumerate(data.contacts):
        try:
            contacts.append(_new_contact(ctx, lead, item, prefix=f"contacts.{i}."))
        except Invalid as exc:
            problems.extend(exc.problems)
    if problems:
        raise Invalid(problems)
    if not lead.name and contacts:
        lead.name = contacts[0].name
    session.add(lead)
    session.flush()
    return lead


def update_lead(session: Session, ctx: Ctx, lead_id: str, patch: LeadPatch) -> Lead:
    lead = get_lead(session, ctx, lead_id)
    for key, value in patch.model_dump(exclude_unset=True).items():
        if value is None and key != "url":
            continue  # name, description and custom cannot be null; only url may be cleared with null
        setattr(lead, key, value)
    lead.updated_by = ctx.user_id
    session.flush()
    return lead


def delete_lead(session: Session, ctx: Ctx, lead_id: str) -> None:
    session.delete(get_lead(session, ctx, lead_id))
    session.flush()


def list_leads(session: Session, ctx: Ctx, page: PageRequest, query: str | None = None,
               has_errored_sms: bool | None = None) -> Page:
    stmt = select(Lead).where(Lead.organization_id == ctx.organization_id)
    if has_errored_sms is not None:
        errored = select(Activity.id).where(Activity.organization_id == ctx.organization_id, Activity.type == "sms",
                                            Activity.status == "error", Activity.lead_id == Lead.id).exists()
        stmt = stmt.where(errored if has_errored_sms else ~errored)
    if query:
        stmt = stmt.where(Lead.name.ilike(f"%{_escape_like(query)}%", escape="\\"))
    return fetch_page(session, stmt.order_by(Lead.date_created, Lead.id), page)


def create_contact(session: Session, ctx: Ctx, data: ContactIn) -> Contact:
    """A contact on an existing lead, or on a new lead named after the contact."""
    if data.lead_id:
        lead = get_lead(session, ctx, data.lead_id)
    else:
        lead = Lead(organization_id=ctx.organization_id, name=data.name.strip(), created_by=ctx.user_id,
                    updated_by=ctx.user_id)
    contact = _new_contact(ctx, lead, data)
    session.add(contact)
    session.flush()
    return contact


def update_contact(session: Session, ctx: Ctx, contact_id: str, patch: ContactPatch) -> Contact:
    contact = get_contact(session, ctx, contact_id)
    values = patch.model_dump(exclude_unset=True)
    if "phones" in values:
        contact.phones = _phones(ctx, patch.phones or [])
    if "emails" in values:
        contact.emails = _emails(patch.emails or [])
    for key in ("name", "title", "custom", "do_not_call"):
        if key in values and values[key] is not None:
            setattr(contact, key, values[key])
    contact.updated_by = ctx.user_id
    session.flush()
    return contact


def delete_contact(session: Session, ctx: Ctx, contact_id: str) -> None:
    """The contact goes; its logged texts and calls stay on the lead, and texts still waiting to go out are held."""
    contact = get_contact(session, ctx, contact_id)
    hold_sends_to_contact(session, ctx, contact.id)
    session.delete(contact)
    session.flush()


def list_contacts(session: Session, ctx: Ctx, page: PageRequest, lead_id: str | None = None) -> Page:
    stmt = select(Contact).where(Contact.organization_id == ctx.organization_id)
    if lead_id:
        stmt = stmt.where(Contact.lead_id == lead_id)
    return fetch_page(session, stmt.order_by(Contact.date_created, Contact.id), page)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
