"""Incoming texts: route to the workspace by the dialled number, match the contact, log, opt-out, Inbox.

A text from an alphanumeric sender ID (is_sender_id: "VERIFY", "AcmeBank") is logged and lands in every member's Inbox
as any other, but on no contact, lead or thread (as a call from a withheld number): nobody can answer it, and its STOP
opts nobody out."""

import logging
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Row, Select, bindparam, func, select
from sqlalchemy.orm import Session, lazyload

from db.ids import new_id
from db.models import Activity, Contact, ContactPhone, Lead, Membership, PhoneNumber, Thread, WebhookReceipt
from db.types import utcnow
from tools import locks, threads
from tools.inbox import add_inbox_items, recipients_for
from tools.optouts import OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS, keyword_of, record_opt_out, remove_opt_out
from tools.phones import format_phone, normalise
from tools.problems import Invalid
from tools.segments import count_segments
from tools.telephony.signing import FormPairs
from tools.upsert import insert_ignore

log = logging.getLogger("cody.inbound")


@dataclass(frozen=True)
class InboundSms:
    sid: str
    to: str
    from_: str
    body: str
    messaging_service_sid: str | None
    media: list[dict]
    opt_out_type: str | None = None  # what Twilio's Advanced Opt-Out did with this text: STOP, START or HELP

    @classmethod
    def from_form(cls, form: FormPairs) -> "InboundSms":
        count = int(form.get("NumMedia") or 0) if (form.get("NumMedia") or "0").isdigit() else 0
        media = [{"url": form.get(f"MediaUrl{i}"), "content_type": form.get(f"MediaContentType{i}") or "",
                  "filename": None, "size": 0} for i in range(min(count, 10)) if form.get(f"MediaUrl{i}")]
        return cls(sid=form.get("MessageSid") or form.get("SmsSid") or "", to=form.get("To") or "",
                   from_=form.get("From") or "", body=form.get("Body") or "",
                   messaging_service_sid=form.get("MessagingServiceSid"), media=media,
                   opt_out_type=(form.get("OptOutType") or "").upper() or None)


# Built once, values bound at execution (every incoming text and call runs these), through Core: no ORM object is
# built for them.
_NUMBERS = PhoneNumber.__table__
_CONTACTS = Contact.__table__
_THREADS = Thread.__table__
_PHONES = ContactPhone.__table__


def _contact_with_phone(organization_id) -> Select:
    """The id of the workspace's contact with the bound phone; when several share it, the one with the latest thread
    (then the newest)."""
    return (
        select(_CONTACTS.c.id)
        .select_from(_PHONES.join(_CONTACTS, _PHONES.c.contact_id == _CONTACTS.c.id)
                     .outerjoin(_THREADS, (_THREADS.c.contact_id == _CONTACTS.c.id)
                                & (_THREADS.c.organization_id == organization_id)))
        .where(_PHONES.c.organization_id == organization_id, _PHONES.c.phone == bindparam("phone"))
        .order_by(_THREADS.c.last_activity_at.desc().nulls_last(), _CONTACTS.c.date_created.desc())
        .limit(1)
    )


_MATCHED = _CONTACTS.alias("matched")
_MEMBERS = Membership.__table__
_SEPARATOR = " "  # between the members' ids, which hold none
# Routing (the active internal number the text was sent to), the sender's contact and the workspace's members (the
# Inbox of an unclaimed thread), in one round trip.
_ROUTE_AND_MATCH = (
    select(_NUMBERS.c.organization_id, _NUMBERS.c.number, _NUMBERS.c.user_id,
           _MATCHED.c.id.label("contact_id"), _MATCHED.c.lead_id,
           select(func.aggregate_strings(_MEMBERS.c.user_id, _SEPARATOR))
           .where(_MEMBERS.c.organization_id == _NUMBERS.c.organization_id)
           .correlate(_NUMBERS).scalar_subquery().label("members"))
    .select_from(_NUMBERS.outerjoin(
        _MATCHED, _MATCHED.c.id == _contact_with_phone(_NUMBERS.c.organization_id)
        .correlate(_NUMBERS).scalar_subquery()))
    .where(_NUMBERS.c.number == bindparam("to"), _NUMBERS.c.status == "active",
           _NUMBERS.c.number_type == "internal")
)
_MATCH = select(_CONTACTS.c.id, _CONTACTS.c.lead_id).where(
    _CONTACTS.c.id == _contact_with_phone(bindparam("org")).scalar_subquery())
_CONTACT_ONLY = (lazyload(Contact.phones), lazyload(Contact.emails))


def route_and_match(session: Session, sms: InboundSms, phone: str) -> Row | None:
    """(organization_id, number, user_id, contact_id, lead_id, members) of the active internal number the text was
    sent to, of its workspace's contact with this phone (None, None when nobody has it) and of its workspace's members
    (their ids, space-separated); None for an unknown or released number."""
    return session.execute(_ROUTE_AND_MATCH, {"to": sms.to, "phone": phone}).first()


def matched_contact(session: Session, organization_id: str, phone: str) -> Row | None:
    """(id, lead_id) of the workspace's contact with this phone; when several share it, the one with the latest
    thread."""
    return session.execute(_MATCH, {"org": organization_id, "phone": phone}).first()


def match_contact(session: Session, organization_id: str, phone: str) -> Contact | None:
    """The Contact that matched_contact names (its lead, phones and emails load only if the caller reads them)."""
    found = matched_contact(session, organization_id, phone)
    return session.get(Contact, found.id, options=_CONTACT_ONLY) if found is not None else None


def contact_for_new_sender(session: Session, organization_id: str, phone: str) -> Contact:
    """The contact of a sender nobody had at first look: found again under the sender's lock (a text or call that
    raced this one may have made it since), else made now, as a new lead and contact.

    Two first messages from a new number that arrive together (texts or calls, in any process) thus make one lead.
    """
    locks.hold(session, locks.SENDER, organization_id, phone)
    return match_contact(session, organization_id, phone) or _new_contact_for(session, organization_id, phone)


def _new_contact_for(session: Session, organization_id: str, phone: str) -> Contact:
    """An unknown sender becomes a new lead and contact named by the formatted number, as Close does."""
    name = format_phone(phone) or phone
    lead = Lead(organization_id=organization_id, name=name)
    contact = Contact(organization_id=organization_id, lead=lead, name=name,
                      phones=[ContactPhone(organization_id=organization_id, phone=phone, type="mobile")])
    session.add(contact)
    session.flush()
    return contact


def receive_sms(session: Session, form: FormPairs) -> str | None:
    """Log one incoming text exactly once; its activity's id, or None when it was a repeat or for nobody here."""
    sms = InboundSms.from_form(form)
    if not sms.sid:
        return None
    from_ = e164_or_raw(sms.from_)
    number = route_and_match(session, sms, from_)
    if number is None:
        log.info("incoming text to %s: not an active business number, ignored", sms.to)
        return None
    if not insert_ignore(session, WebhookReceipt, {"provider_sid": sms.sid, "event": "inbound",
                                                   "organization_id": number.organization_id,
                                                   "date_created": utcnow()}, ["provider_sid", "event"]):
        return None
    org_id = number.organization_id
    contact = _sender_contact(session, number, from_)
    if contact is not None:
        _apply_keyword(session, org_id, from_, sms)
    activity_id, thread_id, assignee_id = _log(session, number, contact, sms, from_)
    members = number.members.split(_SEPARATOR) if number.members else []
    add_inbox_items(session, org_id, activity_id, thread_id, recipients_for(session, assignee_id, org_id, members),
                    "incoming_sms")
    session.commit()
    return activity_id


@dataclass(frozen=True)
class _Sender:
    """A matched contact's ids: all the log needs of it."""

    id: str
    lead_id: str


def _sender_contact(session: Session, number: Row, from_: str) -> "_Sender | Contact | None":
    """The sender's contact (made now for a new number); none for a sender with no number to answer (is_sender_id), even
    one an earlier version of Cody made a contact of."""
    if is_sender_id(from_):
        return None
    if number.contact_id is not None:
        return _Sender(number.contact_id, number.lead_id)
    return contact_for_new_sender(session, number.organization_id, from_)


# A Core INSERT: the ORM's unit of work around one row cost more than the statement (the columns' Python-side
# defaults, timestamps and empty lists, still apply).
_INSERT_ACTIVITY = Activity.__table__.insert()


def _log(session: Session, number: Row, contact: "_Sender | Contact | None", sms: InboundSms,
         from_: str) -> tuple[str, str | None, str | None]:
    """The text's activity on the contact's thread, now touched: (activity id, thread id, thread's assignee); a text
    from no contact (a sender ID) on no thread."""
    now = utcnow()
    thread_id, assignee_id = (
        threads.touched_inbound(session, number.organization_id, contact.id, contact.lead_id, now)
        if contact is not None else (None, None))
    segments = count_segments(sms.body)
    activity_id = new_id("acti")
    session.execute(_INSERT_ACTIVITY, {
        "id": activity_id, "organization_id": number.organization_id, "type": "sms", "direction": "inbound",
        "status": "inbox", "lead_id": contact.lead_id if contact else None,
        "contact_id": contact.id if contact else None,
        "user_id": assignee_id or number.user_id, "thread_id": thread_id, "activity_at": now, "channel": "webhook",
        "local_phone": number.number, "remote_phone": from_ or None, "text": sms.body, "attachments": sms.media,
        "provider_sid": sms.sid, "encoding": segments.encoding, "segments": segments.segments,
        "messaging_service_sid": sms.messaging_service_sid, "source": "External"})
    return activity_id, thread_id, assignee_id


def _apply_keyword(session: Session, organization_id: str, phone: str, sms: InboundSms) -> None:
    """Opt the sender out or back in. Twilio's word (`OptOutType`, sent when Advanced Opt-Out handled the text,
    with keywords of the account's own, such as ARRET or SUBSCRIBE) wins; without it, the default keywords."""
    if sms.opt_out_type is not None:
        opted_out, opted_in = sms.opt_out_type == "STOP", sms.opt_out_type == "START"
    else:
        keyword = keyword_of(sms.body)
        opted_out, opted_in = keyword in OPT_OUT_KEYWORDS, keyword in OPT_IN_KEYWORDS
    if opted_out:
        record_opt_out(session, organization_id, phone)
    elif opted_in:
        remove_opt_out(session, organization_id, phone)


@lru_cache(maxsize=4096)  # a busy line hears from the same numbers again and again; parsing one costs ~0.2 ms
def e164_or_raw(raw: str) -> str:
    """A sender's number in E.164, or as it came when it is no number (an alphanumeric sender ID): the key it is
    matched, locked and stored by, the same for texts and calls."""
    try:
        return normalise(raw, None, field="From").e164
    except Invalid:
        return raw


def is_sender_id(sender: str) -> bool:
    """Whether a text's sender (as e164_or_raw gave it) is no phone number: an alphanumeric sender ID ("VERIFY",
    "AcmeBank", which carriers deliver one-way notifications from) or nothing at all. Nobody can text it back, so it
    is matched to no contact and made none, and its STOP opts nobody out."""
    return not sender.strip() or any(c.isalpha() for c in sender)
