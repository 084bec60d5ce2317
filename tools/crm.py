"""Leads and contacts: validated writes, workspace-scoped reads."""

import json
import math
import unicodedata
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationInfo,
    model_validator,
)
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.functions import FunctionElement

from db.models import Activity, Contact, ContactEmail, ContactPhone, Lead, Thread
from tools.context import Ctx
from tools.messaging.holds import hold_sends_to_contact, move_unsent_with_contact
from tools.messaging.lifecycle import CANCELLABLE
from tools.paging import Page, PageRequest, fetch_page
from tools.phones import normalise, search_digits
from tools.problems import Forbidden, Invalid, NotFound, Problem
from tools.search_index import fts_contacts, fts_leads, fts_ready

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
    lead_id: str | None = Field(default=None, description="Moves the contact to this lead of the workspace; its texts "
                                                          "and calls stay on the lead they were made on.")
    name: str | None = Field(default=None, max_length=300)
    title: str | None = Field(default=None, max_length=300)
    phones: list[PhoneIn] | None = Field(default=None, max_length=20)
    emails: list[EmailIn] | None = Field(default=None, max_length=20)
    custom: dict[str, Any] | None = None
    do_not_call: TrueOrFalse = Field(default=False, description="Left out, it keeps its value.")


def _web_address(value: str | None) -> str | None:
    """A lead's url: an http or https address with a host (Close shows it as a link); blank is none."""
    url = (value or "").strip()
    if not url:
        return None
    try:
        parts = urlsplit(url)
        web = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:  # malformed, such as an unclosed [IPv6] host
        web = False
    if not web or any(c.isspace() or _is_control(c) for c in url):
        raise ValueError("url must be a web address beginning with http:// or https://, such as "
                         "https://acme.example.com.")
    return url


WebAddress = Annotated[str | None, Field(max_length=500), AfterValidator(_web_address)]


class LeadIn(WithCustomKeys):
    name: str | None = Field(default="", max_length=300)
    description: str | None = Field(default="", max_length=5000)
    url: WebAddress = None
    custom: dict[str, Any] | None = Field(default_factory=dict)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=50)


class LeadPatch(WithCustomKeys):
    name: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=5000)
    url: WebAddress = None
    custom: dict[str, Any] | None = None


# What a record's custom fields may hold. Close's custom field types (text, number, date, choices, user, ...) each
# hold one value or a list of them, so nothing nests; the sizes keep every read of a lead, which carries them all,
# small.
MAX_CUSTOM_FIELDS = 200  # on one lead or contact
MAX_FIELD_ID = 100  # characters of the FIELD_ID in custom.FIELD_ID
MAX_CUSTOM_VALUE = 10_000  # characters of one value: a text's own, a list's as JSON


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


def _sent_custom(custom: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A whole `custom` dict sent in a body, checked as its `custom.FIELD_ID` keys are; Invalid names every bad
    field as custom.FIELD_ID."""
    problems = []
    for i, (field_id, value) in enumerate(custom.items()):
        reason = _field_id_problem(field_id) or (None if value is None else _value_problem(value))
        if reason is None and i == MAX_CUSTOM_FIELDS:
            reason = _TOO_MANY_FIELDS
        if reason:
            problems.append(Problem("invalid", f"{prefix}{CUSTOM}{field_id}", reason))
    if problems:
        raise Invalid(problems)
    return custom


def _apply_custom_key(custom: dict[str, Any], name: str, value: Any) -> str | None:
    """Apply one `custom.` key (`name` is what follows it) to `custom` in place; why it can't be, if it can't."""
    field_id, change = _split_custom_name(name)
    reason = _field_id_problem(field_id)
    if reason:
        return reason
    if change is None:
        if value is None:
            custom.pop(field_id, None)
            return None
        return _set_custom(custom, field_id, value)
    if value is None:
        return f"Give the value to {change}."
    if not _is_scalar(value):
        return f"{change.capitalize()} one value (text, a number, true or false) at a time."
    current = custom.get(field_id)
    if current is not None and not isinstance(current, list):
        return f"{CUSTOM}{field_id} holds one value, not a list; set it with {CUSTOM}{field_id}."
    values = [v for v in current or [] if change == "add" or v != value]
    if change == "add" and value not in values:
        values.append(value)
    if not values:
        custom.pop(field_id, None)
        return None
    return _set_custom(custom, field_id, values)


_TOO_MANY_FIELDS = (f"A lead or contact holds at most {MAX_CUSTOM_FIELDS} custom fields; remove one (set it to null) "
                    "to add another.")


def _set_custom(custom: dict[str, Any], field_id: str, value: Any) -> str | None:
    """Set one field to a value that is not null, if it may hold it and there is room for it."""
    reason = _value_problem(value)
    if reason is None and field_id not in custom and len(custom) >= MAX_CUSTOM_FIELDS:
        reason = _TOO_MANY_FIELDS
    if reason is None:
        custom[field_id] = value
    return reason


def _field_id_problem(field_id: str) -> str | None:
    if not field_id:
        return f"Name a custom field after {CUSTOM!r}, as in custom.cf_..."
    if len(field_id) > MAX_FIELD_ID:
        return f"A custom field's id is at most {MAX_FIELD_ID} characters; this one has {len(field_id):,}."
    return None


def _value_problem(value: Any) -> str | None:
    """Why a custom field can't hold `value` (not null): it holds one value or a list of them, not too long."""
    if isinstance(value, list):
        if not all(_is_scalar(v) for v in value):
            return "A custom field's list holds values (text, numbers, true or false), not lists, objects or nulls."
        size = len(json.dumps(value, ensure_ascii=False))
    elif _is_scalar(value):
        size = len(value) if isinstance(value, str) else 0
    else:
        return "A custom field holds a value (text, a number, true or false) or a list of them, not an object."
    if size > MAX_CUSTOM_VALUE:
        return (f"A custom field's value is at most {MAX_CUSTOM_VALUE:,} characters (a list counted as its JSON text); "
                f"this one has {size:,}.")
    return None


def _is_scalar(value: Any) -> bool:
    """Text, true or false, or a finite number: what one custom field value is."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str | int | bool)


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
    sent = _sent_custom(patch.custom or {})
    return with_custom_keys(sent, _changes_beside(current or {}, sent, patch.custom_keys))


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
    """Normalise every phone to E.164, collecting one problem per bad entry; a number given twice is kept once, with
    the type it was first given."""
    phones: dict[str, ContactPhone] = {}
    problems = []
    for i, item in enumerate(items):
        if item.type not in PHONE_TYPES:
            problems.append(Problem("invalid", f"{prefix}.{i}.type", f"type must be one of {', '.join(PHONE_TYPES)}."))
            continue
        field = f"{prefix}.{i}.phone"
        try:
            phone = normalise(item.phone, (item.country or "US").upper(), field=field)
        except Invalid as exc:
            problems.extend(exc.problems)
            continue
        if phone.number.extension:
            problems.append(Problem("extension_not_supported", field, _no_extensions(item.phone, phone.number.extension)))
            continue
        if phone.e164 not in phones:
            phones[phone.e164] = ContactPhone(organization_id=ctx.organization_id, phone=phone.e164, type=item.type,
                                              position=len(phones))
    if problems:
        raise Invalid(problems)
    return list(phones.values())


def _no_extensions(raw: str, extension: str) -> str:
    # The number alone is what every text, call and inbound match uses (they compare E.164 numbers); an extension
    # kept in it would make the contact's own number look like a stranger's.
    return (f"{raw!r} has an extension ({extension}); Cody keeps phone numbers without extensions, so give the number "
            "alone and note the extension elsewhere (the contact's title or a custom field).")


def _emails(items: list[EmailIn], prefix: str = "emails") -> list[ContactEmail]:
    """Every email, checked; one given twice (in any case) is kept once, as it was first given."""
    problems = [Problem("invalid_email", f"{prefix}.{i}.email", f"{e.email!r} is not an email address.")
                for i, e in enumerate(items) if "@" not in e.email]
    if problems:
        raise Invalid(problems)
    emails: dict[str, ContactEmail] = {}
    for item in items:
        email = item.email.strip()
        if email.casefold() not in emails:
            emails[email.casefold()] = ContactEmail(email=email, type=item.type, position=len(emails))
    return list(emails.values())


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
        custom=with_custom_keys(_sent_custom(data.custom or {}, prefix), data.custom_keys, prefix),
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
        custom = with_custom_keys(_sent_custom(data.custom or {}), data.custom_keys)
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
    """The lead goes with its contacts, and every text and call on it: a member may delete it only while it has no
    conversation history (_HISTORY), an admin always."""
    lead = get_lead(session, ctx, lead_id)
    if not ctx.is_admin:
        _lock(session, lead)
        _refuse_deleting_history(session, ctx, Activity.lead_id == lead.id, lead.name or "This lead")
    session.delete(lead)
    session.flush()


def list_leads(session: Session, ctx: Ctx, page: PageRequest, query: str | None = None,
               has_errored_sms: bool | None = None) -> Page:
    """The workspace's leads, oldest first; with a query, those whose name, or a contact's name, email or phone,
    contains it (matching_contacts)."""
    stmt = select(Lead).where(Lead.organization_id == ctx.organization_id)
    if has_errored_sms is not None:
        errored = select(Activity.id).where(Activity.organization_id == ctx.organization_id, Activity.type == "sms",
                                            Activity.status == "error", Activity.lead_id == Lead.id).exists()
        stmt = stmt.where(errored if has_errored_sms else ~errored)
    text = search_text(query)
    if text and _by_trigrams(session, text):
        named = select(Lead.id).where(Lead.organization_id == ctx.organization_id, _contains(Lead.name, text))
        stmt = stmt.where(Lead.id.in_(union(named, select(Contact.lead_id).where(
            Contact.id.in_(matching_contacts(ctx, text))))))
    elif text and _by_fts(session, text):
        stmt = stmt.where(Lead.id.in_(union(fts_leads(text), select(Contact.lead_id).where(
            Contact.id.in_(fts_contacts(text))))))
    elif text:
        stmt = stmt.where(or_(_contains(Lead.name, text),
                              exists().where(Contact.lead_id == Lead.id, _contact_found(ctx, text))))
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
    phones, emails and custom (to none). A lead_id moves the contact (_move)."""
    contact = get_contact(session, ctx, contact_id)
    given = patch.model_fields_set
    custom = _patched_custom(contact.custom, patch)
    phones = _phones(ctx, patch.phones or []) if "phones" in given else contact.phones
    emails = _emails(patch.emails or []) if "emails" in given else contact.emails
    lead = _lead_to_move_to(session, ctx, patch.lead_id) if "lead_id" in given else contact.lead
    contact.custom, contact.phones, contact.emails = custom, phones, emails
    for key in given & {"name", "title"}:
        setattr(contact, key, getattr(patch, key) or "")
    if "do_not_call" in given:
        contact.do_not_call = patch.do_not_call
    if lead.id != contact.lead_id:
        _move(session, ctx, contact, lead)
    contact.updated_by = ctx.user_id
    session.flush()
    return contact


def _lead_to_move_to(session: Session, ctx: Ctx, lead_id: str | None) -> Lead:
    """The workspace's lead a PUT names in lead_id, or a 400 on lead_id."""
    if not lead_id:
        raise Invalid.one("required", "lead_id", "A contact belongs to a lead: give the id of the lead to move it to.")
    lead = session.scalar(select(Lead).where(Lead.id == lead_id, Lead.organization_id == ctx.organization_id))
    if lead is None:
        raise Invalid.one("not_found", "lead_id", "Lead not found.")
    return lead


def _move(session: Session, ctx: Ctx, contact: Contact, lead: Lead) -> None:
    """The contact and its thread go to another lead, and so do its texts not yet gone out (drafts, scheduled, in the
    outbox), which would otherwise be refused as filed on a lead the contact left. Its texts and calls that happened
    stay on the lead they were made on, as that lead's history (Close keeps activities on their lead)."""
    contact.lead = lead
    session.execute(update(Thread).where(Thread.organization_id == ctx.organization_id,
                                         Thread.contact_id == contact.id).values(lead_id=lead.id))
    move_unsent_with_contact(session, ctx, contact.id, lead.id)


def delete_contact(session: Session, ctx: Ctx, contact_id: str) -> None:
    """The contact goes with its thread; its logged texts and calls stay on the lead, and texts still waiting to go
    out are held. A member may delete it only while it has no conversation history (_HISTORY), an admin always."""
    contact = get_contact(session, ctx, contact_id)
    if not ctx.is_admin:
        _lock(session, contact)
        _refuse_deleting_history(session, ctx, Activity.contact_id == contact.id, contact.name or "This contact")
    hold_sends_to_contact(session, ctx, contact.id)
    session.delete(contact)
    session.flush()


def list_contacts(session: Session, ctx: Ctx, page: PageRequest, lead_id: str | None = None,
                  query: str | None = None) -> Page:
    """The workspace's contacts, oldest first; with a query, those whose name, email or phone contains it."""
    stmt = select(Contact).where(Contact.organization_id == ctx.organization_id)
    if lead_id:
        stmt = stmt.where(Contact.lead_id == lead_id)
    text = search_text(query)
    if text and _by_trigrams(session, text):
        stmt = stmt.where(Contact.id.in_(matching_contacts(ctx, text)))
    elif text and _by_fts(session, text):
        stmt = stmt.where(Contact.id.in_(fts_contacts(text)))
    elif text:
        stmt = stmt.where(_contact_found(ctx, text))
    # The page's leads are read after the page is chosen (selectin), not joined to every contact the search matched.
    stmt = stmt.options(selectinload(Contact.lead))
    return fetch_page(session, stmt.order_by(Contact.date_created, Contact.id), page)


# -- deleting history -----------------------------------------------------------------------------------------------

# A lead's or contact's conversation history: every call, and every text that went out or came in (sent, delivered,
# failed, received). Texts not yet gone out (drafts, scheduled, in the outbox) are not history. As deleting a text
# that is history is an admin's (tools/messaging/service.py), so is deleting the lead or contact that holds it.
_HISTORY = or_(Activity.type == "call", and_(Activity.type == "sms", Activity.status.not_in(("draft", *CANCELLABLE))))
# Counted up to this many: the refusal says how much history there is without reading all of a large lead's.
HISTORY_COUNTED = 1_000


def _refuse_deleting_history(session: Session, ctx: Ctx, whose: ColumnElement[bool], name: str) -> None:
    """Forbidden when the activities `whose` selects (a lead's or a contact's, through its index) hold history."""
    found = select(literal(1)).where(Activity.organization_id == ctx.organization_id, whose, _HISTORY) \
        .limit(HISTORY_COUNTED).subquery()
    count = session.scalar(select(func.count()).select_from(found))
    if count:
        how_many = "1 text or call" if count == 1 else \
            f"{'at least ' if count >= HISTORY_COUNTED else ''}{count:,} texts and calls"
        raise Forbidden(f"{name} has {how_many}; only an admin can delete its history.")


def _lock(session: Session, row: Lead | Contact) -> None:
    """Lock the row to the end of the transaction (PostgreSQL; SQLite's transactions hold the write lock already): a
    text or call being filed on it waits, so the history checked is the history deleted."""
    model = type(row)
    session.execute(select(model.id).where(model.id == row.id).with_for_update())


# -- search ---------------------------------------------------------------------------------------------------------


TRIGRAM_MIN = 3  # pg_trgm's indexes serve a LIKE pattern holding a trigram: three characters or more


def search_text(query: str | None) -> str | None:
    """A search's text, trimmed (None when blank); Invalid on `query` when it holds a control character such as NUL,
    which no name, email or phone has (and which SQLite would take as the end of the pattern)."""
    text = (query or "").strip()
    if any(_is_control(c) for c in text):
        raise Invalid.one("invalid", "query", "query can't contain control characters (such as NUL, a tab or a "
                                              "line break).")
    return text or None


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc"


class folded(FunctionElement):
    """Text in lower case by Unicode's rules on both databases: PostgreSQL's lower(), and on SQLite, whose lower()
    and LIKE fold only ASCII ("Ä" stays "Ä"), lower_unicode(), which db/session.py registers on each connection."""

    type = String()
    inherit_cache = True


@compiles(folded)
def _folded(element: folded, compiler, **kw) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(folded, "sqlite")
def _folded_sqlite(element: folded, compiler, **kw) -> str:
    return f"lower_unicode({compiler.process(element.clauses, **kw)})"


def _contains(column: ColumnElement[str], text: str) -> ColumnElement[bool]:
    """The column holds the text, in any case; LIKE's wildcards in the text are plain characters."""
    return folded(column).like(folded(literal(f"%{_escape_like(text)}%")), escape="\\")


def _by_trigrams(session: Session, text: str) -> bool:
    """Whether the search goes by the trigram indexes (PostgreSQL, migration 0009), which serve a text of three
    characters or more. Else (SQLite: _by_fts; or a shorter text, which matches many) the list is read in its order,
    each row tested, until the page is full."""
    return session.get_bind().dialect.name == "postgresql" and len(text) >= TRIGRAM_MIN


def _by_fts(session: Session, text: str) -> bool:
    """Whether the search goes by SQLite's FTS5 trigram tables (migration 0011, tools/search_index.py), which serve a
    text of three characters or more."""
    return len(text) >= TRIGRAM_MIN and fts_ready(session)


def matching_contacts(ctx: Ctx, text: str) -> CompoundSelect:
    """The ids of the workspace's contacts whose name or one of whose emails contains the text, or, when the text is a
    phone number or part of one ("4155551003", "(415) 555-1003", "+1 415..."), one of whose phones holds its digits.

    One query per field, each served by its own trigram index on PostgreSQL, joined by UNION: an OR across the tables
    would test every contact of the workspace."""
    named = select(Contact.id).where(Contact.organization_id == ctx.organization_id, _contains(Contact.name, text))
    return union(named, *_matching_details(ctx, text))


def _contact_found(ctx: Ctx, text: str) -> ColumnElement[bool]:
    """matching_contacts as a test of each contact read in list order: its name, one of its emails (by its contact's
    index), or its id among those whose phones hold the text's digits (the workspace's phones read once, along
    their (organization_id, phone) index)."""
    found = [_contains(Contact.name, text),
             exists().where(ContactEmail.contact_id == Contact.id, _contains(ContactEmail.email, text))]
    digits = search_digits(text)
    if digits:
        found.append(Contact.id.in_(_phones_holding(ctx, digits)))
    return or_(*found)


def _matching_details(ctx: Ctx, text: str) -> list[Select]:
    """The ids of the workspace's contacts with an email containing the text, and with a phone holding its digits
    when it has some."""
    emails = (select(ContactEmail.contact_id).join(Contact, Contact.id == ContactEmail.contact_id)
              .where(Contact.organization_id == ctx.organization_id, _contains(ContactEmail.email, text)))
    digits = search_digits(text)
    return [emails, _phones_holding(ctx, digits)] if digits else [emails]


def _phones_holding(ctx: Ctx, digits: str) -> Select:
    """The ids of the workspace's contacts with a phone (E.164) holding these digits."""
    return select(ContactPhone.contact_id).where(ContactPhone.organization_id == ctx.organization_id,
                                                 ContactPhone.phone.like(f"%{digits}%"))


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
