"""Leads and contacts: validated writes, workspace-scoped reads."""

from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationInfo,
    model_validator,
)
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


CUSTOM = "custom."  # Close's `custom.FIELD_ID` body keys
LIST_CHANGES = ("add", "remove")  # `custom.FIELD_ID.add` / `.remove`: one value of a field holding a list


class WithCustomKeys(BaseModel):
    """A body that may carry Close's `custom.FIELD_ID` keys beside its declared fields; `custom_keys` holds them,
    in the order given."""

    model_config = ConfigDict(json_schema_extra={"patternProperties": {r"^custom\.": {}}})
    _custom_keys: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_custom_keys(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        model = handler(data)
        if isinstance(data, dict):
            model._custom_keys = {k: v for k, v in data.items() if isinstance(k, str) and k.startswith(CUSTOM)}
        return model

    @property
    def custom_keys(self) -> dict[str, Any]:
        return self._custom_keys


def _true_or_false(value: Any, info: ValidationInfo) -> Any:
    """Refuse a null for a yes/no field by name: stored, it is never null, and a PUT must not drop it silently."""
    if value is None:
        raise ValueError(f"{info.field_name} must be true or false, not null.")
    return value


TrueOrFalse = Annotated[bool, BeforeValidator(_true_or_false)]


class ContactIn(WithCustomKeys):
    lead_id: str | None = None
    name: str | None = Field(default="", max_length=300)
    title: str | None = Field(default="", max_length=300)
    phones: list[PhoneIn] = Field(default_factory=list, max_length=20)
    emails: list[EmailIn] = Field(default_factory=list, max_length=20)
    custom: dict[str, Any] | None = Field(default_factory=dict)
    do_not_call: TrueOrFalse = False


class ContactPatch(WithCustomKeys):
    name: str | None = Field(default=None, max_length=300)
    title: str | None = Field(default=None, max_length=300)
    phones: list[PhoneIn] | None = Field(default=None, max_length=20)
    emails: list[EmailIn] | None = Field(default=None, max_length=20)
    custom: dict[str, Any] | None = None
    do_not_call: TrueOrFalse = Field(default=False, description="Left out, it keeps its value.")


class LeadIn(WithCustomKeys):
    name: str | None = Field(default="", max_length=300)
    description: str | None = Field(default="", max_length=5000)
    url: str | None = Field(default=None, max_length=500)
    custom: dict[str, Any] | None = Field(default_factory=dict)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=50)


class LeadPatch(WithCustomKeys):
    name: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=5000)
    url: str | None = Field(default=None, max_length=500)
    custom: dict[str, Any] | None = None


def with_custom_keys(custom: dict[str, Any], keys: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A copy of `custom` changed by Close's `custom.FIELD_ID` keys: a value sets the field, null removes it, and
    `.add` / `.remove` add a value to or take one from a field holding a list. Invalid names every bad key."""
    result = dict(custom)
    problems = []
    for key, value in keys.items():
        reason = _apply_custom_key(result, key.removeprefix(CUSTOM), value)
        if reason:
            problems.append(Problem("invalid", f"{prefix}{key}", reason))
    if problems:
        raise Invalid(problems)
    return result


def _apply_custom_key(custom: dict[str, Any], name: str, value: Any) -> str | None:
    """Apply one `custom.` key (`name` is what follows it) to `custom` in place; why it can't be, if it can't."""
    field_id, change = _split_custom_name(name)
    if not field_id:
        return f"Name a custom field after {CUSTOM!r}, as in custom.cf_..."
    if change is None:
        if value is None:
            custom.pop(field_id, None)
        else:
            custom[field_id] = value
        return None
    if value is None:
        return f"Give the value to {change}."
    current = custom.get(field_id)
    if current is not None and not isinstance(current, list):
        return f"{CUSTOM}{field_id} holds one value, not a list; set it with {CUSTOM}{field_id}."
    values = [v for v in current or [] if change == "add" or v != value]
    if change == "add" and value not in values:
        values.append(value)
    if values:
        custom[field_id] = values
    else:
        custom.pop(field_id, None)
    return None


def _split_custom_name(name: str) -> tuple[str, str | None]:
    """("cf_x", "add") for "cf_x.add", ("cf_x", None) for "cf_x"."""
    for change in LIST_CHANGES:
        if name.endswith(f".{change}"):
            return name.removesuffix(f".{change}"), change
    return name, None


def _patched_custom(current: dict[str, Any] | None, patch: LeadPatch | ContactPatch) -> dict[str, Any]:
    """The custom fields after a PUT: a `custom` dict, when given, replaces them all (null: none); then each
    `custom.FIELD_ID` key changes its one field."""
    if "custom" not in patch.model_fields_set:
        return with_custom_keys(current or {}, patch.custom_keys)
    return with_custom_keys(patch.custom or {}, _changes_beside(current or {}, patch.custom or {}, patch.custom_keys))


def _changes_beside(stored: dict[str, Any], sent: dict[str, Any], keys: dict[str, Any]) -> dict[str, Any]:
    """The `custom.FIELD_ID` keys of a PUT that also sends the whole `custom` dict, kept only where they change a
    field. A key repeating the stored value is the echo of a read (read the record, edit its dict, send it all
    back), so the dict's edit stands; a key and the dict that change one field two ways are a 400."""
    changes, problems = {}, []
    for key, value in keys.items():
        field_id, change = _split_custom_name(key.removeprefix(CUSTOM))
        if change is not None:
            changes[key] = value
        elif value != stored.get(field_id):
            if field_id in sent and sent[field_id] not in (value, stored.get(field_id)):
                problems.append(Problem("invalid", key, f"{key} and the custom dict give {field_id} two values; "
                                                        "send one."))
            changes[key] = value
    if problems:
        raise Invalid(problems)
    return changes


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
        name=(data.name or "").strip(),
        title=data.title or "",
        custom=with_custom_keys(data.custom or {}, data.custom_keys, prefix),
        do_not_call=data.do_not_call,
        phones=_phones(ctx, data.phones, f"{prefix}phones"),
        emails=_emails(data.emails, f"{prefix}emails"),
        created_by=ctx.user_id,
        updated_by=ctx.user_id,
    )


def create_lead(session: Session, ctx: Ctx, data: LeadIn) -> Lead:
    """A lead with its nested contacts; nothing is stored if it or any contact is invalid."""
    problems: list[Problem] = []
    try:
        custom = with_custom_keys(data.custom or {}, data.custom_keys)
    except Invalid as exc:
        custom = {}
        problems.extend(exc.problems)
    lead = Lead(organization_id=ctx.organization_id, name=(data.name or "").strip(), description=data.description or "",
                url=data.url, custom=custom, created_by=ctx.user_id, updated_by=ctx.user_id)
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
    """Change only the fields given; null clears name and description (to "") and url, as Close lets it."""
    lead = get_lead(session, ctx, lead_id)
    lead.custom = _patched_custom(lead.custom, patch)
    given = patch.model_fields_set
    for key in given & {"name", "description"}:
        setattr(lead, key, getattr(patch, key) or "")
    if "url" in given:
        lead.url = patch.url
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
        lead = Lead(organization_id=ctx.organization_id, name=(data.name or "").strip(), created_by=ctx.user_id,
                    updated_by=ctx.user_id)
    contact = _new_contact(ctx, lead, data)
    session.add(contact)
    session.flush()
    return contact


def update_contact(session: Session, ctx: Ctx, contact_id: str, patch: ContactPatch) -> Contact:
    """Change only the fields given, all checked before any changes; null clears name and title (to "") and
    phones, emails and custom (to none)."""
    contact = get_contact(session, ctx, contact_id)
    given = patch.model_fields_set
    custom = _patched_custom(contact.custom, patch)
    phones = _phones(ctx, patch.phones or []) if "phones" in given else contact.phones
    emails = _emails(patch.emails or []) if "emails" in given else contact.emails
    contact.custom, contact.phones, contact.emails = custom, phones, emails
    for key in given & {"name", "title"}:
        setattr(contact, key, getattr(patch, key) or "")
    if "do_not_call" in given:
        contact.do_not_call = patch.do_not_call
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
