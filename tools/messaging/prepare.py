"""prepare: resolve recipient and sender, render, count segments, run every check. No side effects."""

from datetime import datetime, timedelta
from functools import lru_cache

import phonenumbers
from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session, joinedload, lazyload

from db.models import Contact, Organization, PhoneNumber, SmsTemplate, User
from db.types import utcnow
from tools.context import Ctx
from tools.messaging import checks, parties
from tools.messaging.request import SEND_STATUSES, Prepared, SendRequest
from tools.messaging.sender import named, named_e164, named_line, personal_first, sender_among, usable
from tools.optouts import OPTED_OUT
from tools.phones import format_phone, normalise
from tools.problems import Invalid, Problem
from tools.segments import count_segments
from tools.templates import render_template


class Recipient:
    """The contact (if any) and the parsed destination number, or the problem with them."""

    def __init__(self, contact: Contact | None, to: str | None, number: phonenumbers.PhoneNumber | None,
                 region: str | None, problems: list[Problem]):
        self.contact, self.to, self.number, self.region, self.problems = contact, to, number, region, problems


def prepare(session: Session, ctx: Ctx, req: SendRequest, default_service: str | None) -> Prepared:
    problems: list[Problem] = _request_problems(req)
    recipient = _recipient(session, ctx, req)
    problems += recipient.problems + parties.lead_problems(session, ctx, req.lead_id, recipient.contact)
    capability = "mms" if req.attachments else "sms"
    sender, sender_problems = (None, [])
    if recipient.to:
        (quiet_start, quiet_end, zone, opted_out), sender, sender_problems = _rules_and_sender(
            session, ctx, recipient, req.local_phone, capability)
        unsupported = checks.supported_country(recipient.region, recipient.to)
        if unsupported is not None:
            # No line can text there, so "add a number in that country" would be wrong advice.
            problems += [p for p in sender_problems if p.code != "country_mismatch"] + [unsupported]
        else:
            problems += sender_problems
        problems += _optional(checks.same_line(recipient.to, sender.number if sender else None, "text"))
        if opted_out:
            problems.append(Problem("opted_out", "remote_phone",
                                    f"{format_phone(recipient.to)} has opted out of texts (replied STOP); "
                                    "they must text START to receive messages again."))
    rendered, render_problems = _text(session, ctx, req, recipient.contact)
    problems += render_problems
    attachments = [a.model_dump() for a in req.attachments]
    text = rendered or ""
    if rendered is not None:  # a template that did not render is not an empty message
        problems += _optional(checks.text_present(text, bool(attachments)), checks.text_length(text))
    service = None
    if sender is not None and not sender_problems:
        service = sender.messaging_service_sid or default_service
        problems += _optional(checks.ten_dlc(recipient.region, sender.country, sender.kind, service))
        if attachments:
            problems += _optional(checks.mms_allowed(sender.country, recipient.region, sender.mms),
                                  checks.attachment_limits(attachments))
    if recipient.number is not None:
        problems += _optional(checks.quiet_hours(recipient.number, _send_time(req), quiet_start, quiet_end, zone))
    segments = count_segments(text)
    return Prepared(
        request=req, organization_id=ctx.organization_id, user_id=ctx.user_id,
        contact_id=recipient.contact.id if recipient.contact else None,
        lead_id=recipient.contact.lead_id if recipient.contact else req.lead_id,
        contact_name=recipient.contact.name if recipient.contact else None,
        to=recipient.to, from_=sender.number if sender else None, phone_number_id=sender.id if sender else None,
        messaging_service_sid=service, text=text, encoding=segments.encoding, segments=segments.segments,
        attachments=attachments, problems=_dedupe(problems),
    )


def _optional(*found: Problem | None) -> list[Problem]:
    return [p for p in found if p is not None]


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        if (p.code, p.field) not in seen:
            seen.add((p.code, p.field))
            out.append(p)
    return out


PAST_GRACE = timedelta(minutes=1)  # a time of "now" that took a moment to reach the server


def _request_problems(req: SendRequest) -> list[Problem]:
    problems = _optional(checks.whatsapp(req.whatsapp))
    if req.status not in SEND_STATUSES:
        problems.append(Problem("invalid", "status", f"status must be one of {', '.join(SEND_STATUSES)} to send."))
    if req.status == "scheduled" and req.date_scheduled is None:
        problems.append(Problem("required", "date_scheduled", "date_scheduled is required for a scheduled message."))
    if req.date_scheduled is not None and req.date_scheduled.tzinfo is None:
        problems.append(Problem("invalid", "date_scheduled", "date_scheduled needs a time zone (e.g. ...Z or +00:00)."))
    elif req.status == "scheduled" and req.date_scheduled is not None and req.date_scheduled < utcnow() - PAST_GRACE:
        # The dispatcher would send it at once, while the person was told it goes out then ("today at 9am" at 6pm).
        problems.append(Problem("in_the_past", "date_scheduled",
                                f"{said_time(req.date_scheduled)} has passed; choose a later time, or send it now."))
    if req.send_in is not None:
        if req.status != "outbox":
            problems.append(Problem("invalid", "send_in", "send_in is only for status outbox."))
        elif not 0 <= req.send_in < 60:
            problems.append(Problem("invalid", "send_in", "send_in must be at least 0 and under 60 seconds."))
    if req.text and req.template_id:
        problems.append(Problem("invalid", "text", "Give text or template_id, not both."))
    return problems + checks.attachment_problems([a.model_dump() for a in req.attachments])


def said_time(when: datetime) -> str:
    """A time as a person reads it, in the zone it was given in: "Sun Dec 6 at 8:00 PM (UTC-08:00)"; a problem's
    message is also read aloud by phone."""
    return f"{when:%a %b} {when.day} at {when:%I:%M %p}".replace(" at 0", " at ") + f" ({when.tzname()})"


def _send_time(req: SendRequest) -> datetime:
    """When the message would go out: a date_scheduled already past means now, as the dispatcher will send it."""
    now = utcnow()
    if req.status == "scheduled" and req.date_scheduled and req.date_scheduled.tzinfo:
        return max(req.date_scheduled, now)
    delay = req.send_in if req.send_in is not None and 0 <= req.send_in < 60 else 0  # else a problem already
    return now + timedelta(seconds=delay)


_RULES = (Organization.quiet_hours_start, Organization.quiet_hours_end, Organization.timezone, OPTED_OUT)
# The workspace's quiet hours and whether the recipient opted out (built once): four columns, not the whole row
# through the identity map.
_WORKSPACE_RULES = select(*_RULES).where(Organization.id == bindparam("org"))
# The rules and the line the caller named, in one round trip (built once; the dispatcher runs it for every message,
# since the row names its sender): one row, with no line when the workspace has no active one with that number.
_RULES_WITH_NAMED = (select(*_RULES, PhoneNumber).select_from(Organization)
                     .outerjoin(PhoneNumber, and_(PhoneNumber.organization_id == Organization.id, named()))
                     .where(Organization.id == bindparam("org")))


@lru_cache(maxsize=2)
def _rules_with_lines(no_user: bool) -> Select:
    """The rules and the lines the caller may text from, in the one round trip every send makes before it is
    saved: a row per line, or one row with no line when there is none."""
    return (select(*_RULES, PhoneNumber).select_from(Organization)
            .outerjoin(PhoneNumber, and_(PhoneNumber.organization_id == Organization.id, usable(no_user)))
            .where(Organization.id == bindparam("org")).order_by(PhoneNumber.date_created, PhoneNumber.id))


def _rules_and_sender(session: Session, ctx: Ctx, recipient: Recipient, local_phone: str | None,
                      capability: str) -> tuple[tuple, PhoneNumber | None, list[Problem]]:
    """The workspace's rules for texting the recipient, and the line to send from (the one named, else the best of
    the caller's usable lines) or the problems with it, in one round trip."""
    binds = {"org": ctx.organization_id, "user": ctx.user_id, "phone": recipient.to}
    if local_phone:
        e164, problems = named_e164(local_phone)
        if e164 is None:
            return tuple(session.execute(_WORKSPACE_RULES, binds).one()), None, problems
        row = session.execute(_RULES_WITH_NAMED, binds | {"number": e164}).first()
        return tuple(row[:4]), *named_line(ctx, recipient.region, e164, row[4], capability)
    rows = session.execute(_rules_with_lines(ctx.user_id is None), binds).all()
    lines = personal_first(row[4] for row in rows if row[4] is not None)
    return tuple(rows[0][:4]), *sender_among(lines, recipient.region, capability)


# The contact and its phones in one statement (built once); its lead (templates only) and emails (never needed to
# send) load only if something reads them.
_CONTACT_TO_TEXT = (
    select(Contact)
    .options(joinedload(Contact.phones), lazyload(Contact.emails))
    .where(Contact.id == bindparam("contact"), Contact.organization_id == bindparam("org"))
)


def _recipient(session: Session, ctx: Ctx, req: SendRequest) -> Recipient:
    contact = None
    if req.contact_id:
        contact = session.execute(_CONTACT_TO_TEXT, {"contact": req.contact_id, "org": ctx.organization_id}
                                  ).unique().scalar_one_or_none()
        if contact is None:
            return Recipient(None, None, None, None, [Problem("not_found", "contact_id", "Contact not found.")])
    raw = req.remote_phone or _textable_phone(contact)
    if not raw:
        who = contact.name if contact and contact.name else "The recipient"
        field = "contact_id" if contact else "remote_phone"
        return Recipient(contact, None, None, None, [Problem("no_phone", field, f"{who} has no phone number to text.")])
    short = checks.short_code(raw)
    if short:
        return Recipient(contact, None, None, None, [short])
    try:
        phone = normalise(raw, "US", field="remote_phone")
    except Invalid as exc:
        return Recipient(contact, None, None, None, exc.problems)
    elsewhere = parties.phone_problem(contact, phone.e164) if req.remote_phone else None
    if elsewhere is not None:
        return Recipient(contact, None, None, None, [elsewhere])
    if contact is None:
        contact = parties.only_contact_with(session, ctx, phone.e164, req.lead_id)
    return Recipient(contact, phone.e164, phone.number, phone.region, [])


def _textable_phone(contact: Contact | None) -> str | None:
    """Mobile first, then any phone that is not a fax."""
    if contact is None:
        return None
    phones = sorted((p for p in contact.phones if p.type not in ("fax", "url")), key=lambda p: p.type != "mobile")
    return phones[0].phone if phones else None


def _text(session: Session, ctx: Ctx, req: SendRequest, contact: Contact | None) -> tuple[str | None, list[Problem]]:
    """The words to send (None when a template did not render) and the template's problems."""
    if not req.template_id:
        return req.text or "", []
    template = find_template(session, ctx, req.template_id)
    if template is None:
        return None, [Problem("not_found", "template_id", "Template not found.")]
    rendered = render_template(
        template.text, contact=contact, lead=contact.lead if contact else None,
        user=session.get(User, ctx.user_id) if ctx.user_id else None,
        organization=session.get(Organization, ctx.organization_id), variables=req.variables,
    )
    return rendered.text, rendered.problems


def find_template(session: Session, ctx: Ctx, template_id: str) -> SmsTemplate | None:
    """An active template the caller may use: shared ones, or their own personal ones."""
    return session.scalar(select(SmsTemplate).where(
        SmsTemplate.id == template_id, SmsTemplate.organization_id == ctx.organization_id,
        SmsTemplate.status == "active", or_(SmsTemplate.is_shared.is_(True), SmsTemplate.user_id == ctx.user_id),
    ))

