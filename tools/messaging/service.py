"""The messaging service: one object the app, the worker, the assistant and jobs all share."""

import dataclasses
import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import Activity, Contact, Membership, User, WebhookReceipt
from db.types import utcnow
from tools import inbox, threads
from tools.activities import SharedFilter, narrowed, refuse_unknown_choices
from tools.context import Ctx
from tools.messaging import calls, checks, lifecycle, parties
from tools.messaging.calls import CallRequest, PreparedCall
from tools.messaging.delivery import deliver
from tools.messaging.holds import BACK_TO_DRAFT, waiting
from tools.messaging.idempotency import key_columns, made_before
from tools.messaging.prepare import _text, _textable_phone, prepare
from tools.messaging.request import Attachment, Prepared, SendRequest
from tools.moments import Moment
from tools.paging import Page, PageRequest, fetch_page
from tools.phones import format_phone, normalise
from tools.problems import Conflict, Forbidden, Invalid, NotFound, Problem
from tools.segments import count_segments
from tools.settings import TelephonySettings
from tools.telephony.base import Provider
from tools.telephony.errors import describe_error
from tools.upsert import insert_ignore

log = logging.getLogger("cody.messaging")

STATUS_CALLBACK_PATH = "/api/webhooks/twilio/sms/status"
# Problems that still let a draft be saved: a draft is not sent, so only a broken recipient or text stops it
# (a template refused as unsafe or unparsable is broken text, and one missing a value renders no text at all).
TEMPLATE_GONE = "template_unavailable"  # a template draft sent to someone else, its template no longer usable
DRAFT_BLOCKING = frozenset({"invalid_phone", "short_code", "not_found", "too_long", "invalid", "required",
                            "template_unsafe", "template_syntax", "missing_variable", parties.NOT_CONTACTS_PHONE,
                            TEMPLATE_GONE})
LOG_STATUSES = ("inbox", "sent")
LOGGED_DIRECTION = {"inbox": "inbound", "sent": "outbound"}
SMS_STATUSES = ("draft", "scheduled", "outbox", "sending", "sent", "delivered", "error", "inbox")
DIRECTIONS = ("inbound", "outbound")
SOURCES = ("Close.io", "External")
# The fields of an SMS a draft edit may change, compared with the row to tell a real change from an echo.
EDIT_FIELDS = ("status", "contact_id", "lead_id", "remote_phone", "local_phone", "text", "template_id",
               "date_scheduled", "attachments")


class LogRequest(BaseModel):
    """An SMS that was already sent or received elsewhere, recorded as it was: no checks, no provider call."""

    status: str
    direction: str | None = None
    contact_id: str | None = None
    lead_id: str | None = None
    remote_phone: str | None = Field(default=None, max_length=64)
    local_phone: str | None = Field(default=None, max_length=64)
    text: str | None = Field(default=None, max_length=10_000)
    template_id: str | None = None
    variables: dict[str, str] = Field(default_factory=dict)
    attachments: list[Attachment] = Field(default_factory=list, max_length=50)
    activity_at: Moment | None = None
    source: str = "External"


@dataclass(frozen=True)
class SmsFilter(SharedFilter):
    """The SMS list's filters: the shared ones, and the text's status and direction."""

    statuses: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()


class Messaging:
    def __init__(self, provider: Provider, settings: TelephonySettings, default_messaging_service: str | None = None):
        self.provider = provider
        self.settings = settings
        self.default_messaging_service = default_messaging_service
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"

    @property
    def status_callback(self) -> str:
        return self.settings.public_base_url.rstrip("/") + STATUS_CALLBACK_PATH

    def prepare(self, session: Session, ctx: Ctx, request: SendRequest) -> Prepared:
        """Everything about the message and every problem with it; changes nothing."""
        return prepare(session, ctx, request, self.default_messaging_service)

    def execute(self, session: Session, ctx: Ctx, request: SendRequest, expected_fingerprint: str | None = None) -> Activity:
        """Re-check, save the activity, assign the thread, and deliver it now if it is due now."""
        existing = made_before(session, ctx, "sms", request)
        if existing is not None:
            return existing
        prepared = self.prepare(session, ctx, request)
        _raise_blocking(prepared)
        if expected_fingerprint is not None and expected_fingerprint != prepared.fingerprint():
            raise Conflict("The message changed since it was previewed; review it again before sending.")
        try:
            # _save flushes: on PostgreSQL a concurrent request with the same key fails there, not at commit.
            activity = self._save(session, ctx, prepared)
            session.commit()
        except IntegrityError:
            session.rollback()
            existing = made_before(session, ctx, "sms", request)
            if existing is None:
                raise
            return existing
        if activity.status == "sending":
            deliver(session, self.provider, activity, self.status_callback, self.settings.send_retry_attempts)
        return activity

    def deliver_claimed(self, session: Session, activity: Activity) -> Activity:
        """Send a row the dispatcher claimed, after checking again that it may still go out."""
        ctx = Ctx(organization_id=activity.organization_id, user_id=activity.user_id, channel="job")
        request = SendRequest(contact_id=activity.contact_id, remote_phone=activity.remote_phone,
                              local_phone=activity.local_phone, text=activity.text,
                              attachments=activity.attachments or [], status="outbox")
        prepared = self.prepare(session, ctx, request)
        blocking = [p for p in prepared.problems if p.code != "quiet_hours"]
        if blocking:
            session.execute(update(Activity).where(Activity.id == activity.id, Activity.status == "sending")
                            .values(status="error", error_message=blocking[0].message, error_code=blocking[0].code,
                                    claimed_by=None, date_updated=utcnow())
                            .execution_options(synchronize_session=False))
            session.commit()
            session.refresh(activity)
            return activity
        if prepared.messaging_service_sid != activity.messaging_service_sid:
            activity.messaging_service_sid = prepared.messaging_service_sid
        return deliver(session, self.provider, activity, self.status_callback, self.settings.send_retry_attempts)

    def cancel(self, session: Session, ctx: Ctx, activity_id: str) -> Activity:
        """A scheduled or not-yet-sent outbox message goes back to draft: the sender's own, or anyone's for an admin
        (Forbidden otherwise)."""
        activity = self._back_to_draft(session, ctx, activity_id)
        session.commit()
        return activity

    def _back_to_draft(self, session: Session, ctx: Ctx, activity_id: str) -> Activity:
        """cancel's change, not yet committed."""
        activity = self.get(session, ctx, activity_id)
        _may(session, ctx, activity, "cancel")
        result = session.execute(
            update(Activity).where(Activity.id == activity.id, waiting())
            .values(**BACK_TO_DRAFT, date_updated=utcnow())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            session.rollback()
            raise Invalid.one("not_cancellable", "status", f"A message that is {activity.status} can't be cancelled.")
        session.refresh(activity)
        return activity

    def record_carrier_status(self, session: Session, sid: str, carrier_status: str, error_code: int | None,
                              activity_id: str | None = None) -> Activity | None:
        """Apply a delivery callback once; only ever moves a message forward.

        `activity_id` (from the callback URL) links a row whose carrier answer was lost before it was saved. A callback
        that finds no message keeps no receipt: the same callback, repeated once the message is linked, still counts.
        """
        if not insert_ignore(session, WebhookReceipt, {"provider_sid": sid, "event": f"status:{carrier_status}",
                                                       "date_created": utcnow()}, ["provider_sid", "event"]):
            return None
        activity = session.scalar(select(Activity).where(Activity.provider_sid == sid))
        if activity is None and activity_id:
            activity = self._link_lost_sid(session, activity_id, sid)
        if activity is None:
            session.rollback()
            return None
        new = lifecycle.CARRIER_STATUS.get(carrier_status)
        if new is not None:
            values = {"status": new, "date_updated": utcnow(), "claimed_by": None}
            if new == "error":
                values |= {"error_message": describe_error(error_code), "error_code": str(error_code or "")}
            session.execute(update(Activity)
                            .where(Activity.id == activity.id, Activity.status.in_(lifecycle.earlier_than(new)))
                            .values(**values).execution_options(synchronize_session=False))
        session.commit()
        session.refresh(activity)
        return activity

    def _link_lost_sid(self, session: Session, activity_id: str, sid: str) -> Activity | None:
        """The row of a send the carrier accepted though its answer was lost: still `sending`, back in the outbox
        waiting for a retry (which the callback shows is not needed), or in `error` after its last retry failed too
        (a callback for this row's URL proves the carrier has one of its attempts)."""
        tried = and_(Activity.status.in_(("outbox", "error")), Activity.attempts >= 1)
        activity = session.scalar(select(Activity).where(Activity.id == activity_id, Activity.provider_sid.is_(None),
                                                         or_(Activity.status == "sending", tried)))
        if activity is not None:
            activity.provider_sid = sid
            activity.date_sent = utcnow()
            if activity.status in ("outbox", "error"):
                activity.status, activity.date_scheduled = "sent", None
                activity.error_message = activity.error_code = None
            session.flush()
        return activity

    def get(self, session: Session, ctx: Ctx, activity_id: str) -> Activity:
        activity = session.scalar(select(Activity).where(Activity.id == activity_id, Activity.type == "sms",
                                                         Activity.organization_id == ctx.organization_id))
        if activity is None:
            raise NotFound("SMS activity not found.")
        return activity

    def log_message(self, session: Session, ctx: Ctx, request: LogRequest, send_to_inbox: bool = False) -> Activity:
        """Record an SMS already received (`inbox`) or sent elsewhere (`sent`); nothing goes to the provider.

        Normalises the phones, finds the contact (by id, or by the remote phone when exactly one contact has it),
        renders a template if one is named, counts segments, writes the row and touches the contact's thread.
        With `send_to_inbox`, a received SMS also lands in the Inbox of whoever must see it.
        """
        existing = made_before(session, ctx, "sms", request)
        if existing is not None:
            return existing
        contact, lead_id, remote, local = _log_parties(session, ctx, request)
        rendered, problems = _text(session, ctx, SendRequest(text=request.text, template_id=request.template_id,
                                                              variables=request.variables), contact)
        text = rendered or ""
        if request.text and request.template_id:
            problems.append(Problem("invalid", "text", "Give text or template_id, not both."))
        attachments = [a.model_dump() for a in request.attachments]
        problems += [p for p in (checks.text_present(text, bool(attachments)),) if p is not None]
        if problems:
            raise Invalid(problems)
        now = utcnow()
        at = _aware(request.activity_at) or now
        direction = LOGGED_DIRECTION[request.status]
        segments = count_segments(text)
        activity = Activity(
            organization_id=ctx.organization_id, type="sms", direction=direction, status=request.status,
            source=request.source, lead_id=lead_id, contact_id=contact.id if contact else None, user_id=ctx.user_id,
            created_by=ctx.user_id, updated_by=ctx.user_id, activity_at=at, date_sent=at, channel=ctx.channel,
            **key_columns(ctx, request), local_phone=local, remote_phone=remote, text=text,
            template_id=request.template_id, variables=_kept_variables(request.template_id, request.variables),
            encoding=segments.encoding, segments=segments.segments, attachments=attachments,
        )
        session.add(activity)
        if contact is not None:
            thread = threads.touched_thread(session, ctx.organization_id, contact.id, lead_id, at,
                                            inbound=direction == "inbound")
            activity.thread_id = thread.id
            if direction == "outbound":
                threads.assign_after_outbound(session, thread, ctx.user_id)
        session.flush()
        if send_to_inbox and request.status == "inbox":
            inbox.create_inbox_items(session, activity)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            existing = made_before(session, ctx, "sms", request)
            if existing is None:
                raise
            return existing
        return activity

    def update_draft(self, session: Session, ctx: Ctx, activity_id: str, changes: SendRequest) -> Activity:
        """Edit a draft, or move it on to `scheduled` or `outbox` under execute's checks, keeping its id.

        Only the fields set in `changes` (pydantic's `model_fields_set`) change; the others stay as the draft has
        them. `status: "draft"` on a scheduled or not-yet-sent outbox message cancels it first. Anything else
        about a message that is not a draft is refused; fields repeated with their current value are ignored.

        Only the message's sender edits or sends it (else Forbidden, before anything changes); a cancel alone is
        also an admin's to make (`cancel`).

        A draft sent to another contact (or to a number that is someone else's or no one's) whose words its template
        wrote is rendered again for them, with the values it was rendered with (`activity.variables`) and any the patch
        gives; a row saved before the values were kept is refused on the recipient field until the patch gives them
        (or the text). Hand-written words are kept. Values given alone change those named and keep the others.
        """
        activity = self.get(session, ctx, activity_id)
        given = _given_fields(activity, changes)
        if not given:
            return activity
        cancelling = "status" in given and changes.status == "draft" and activity.status in lifecycle.CANCELLABLE
        if cancelling:
            given.discard("status")
        if given:
            _may(session, ctx, activity, "edit")
        if cancelling:
            if not given:
                return self.cancel(session, ctx, activity_id)
            # Cancelled and edited in one transaction: an edit refused below leaves the message scheduled.
            activity = self._back_to_draft(session, ctx, activity_id)
        if activity.status not in lifecycle.EDITABLE:
            raise _not_editable(activity, given)
        request, template_id = _merged_request(activity, changes, given)
        prepared = self.prepare(session, ctx, request)
        if _written_for_someone_else(activity, given, request, template_id, prepared):
            request = request.model_copy(update={"text": None, "template_id": template_id})
            prepared = _rewritten(self.prepare(session, ctx, request),
                                  "contact_id" if "contact_id" in given and request.contact_id else "remote_phone")
        try:
            _raise_blocking(prepared)
        except Invalid:
            session.rollback()
            raise
        now = utcnow()
        status, when = _initial_status(request, now)
        sending = status == "sending"
        values = {
            "status": status, "date_scheduled": when, "contact_id": prepared.contact_id, "lead_id": prepared.lead_id,
            "local_phone": prepared.from_, "remote_phone": prepared.to, "text": prepared.text,
            "template_id": template_id, "variables": _kept_variables(template_id, request.variables),
            "encoding": prepared.encoding, "segments": prepared.segments,
            "attachments": prepared.attachments, "messaging_service_sid": prepared.messaging_service_sid,
            "updated_by": ctx.user_id, "date_updated": now, "thread_id": None,
            "claimed_by": self.worker_id if sending else None, "claimed_at": now if sending else None,
            "attempts": Activity.attempts + 1 if sending else Activity.attempts,
        }
        if status != "draft":
            values["activity_at"] = now
        thread = None
        if prepared.contact_id:
            thread = threads.thread_for(session, ctx.organization_id, prepared.contact_id, prepared.lead_id)
            values["thread_id"] = thread.id
        result = session.execute(update(Activity).where(Activity.id == activity.id, Activity.status == "draft")
                                 .values(**values).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            session.rollback()
            session.refresh(activity)
            raise Invalid.one("not_editable", "status", f"Only drafts can be edited; this message is {activity.status}.")
        if thread is not None:
            if status != "draft":
                threads.assign_after_outbound(session, thread, ctx.user_id)
            threads.touch(session, thread, now)
        session.commit()
        session.refresh(activity)
        if sending:
            deliver(session, self.provider, activity, self.status_callback, self.settings.send_retry_attempts)
        return activity

    def delete_message(self, session: Session, ctx: Ctx, activity_id: str) -> None:
        """Remove an SMS activity; one the dispatcher is handing to the carrier right now stays.

        A text that reached no one (draft, scheduled, outbox, failed) or that its sender logged is its sender's or an
        admin's to delete; one Cody sent or delivered, or one received, is the conversation's history, an admin's only
        (Forbidden otherwise, and nothing changes).
        """
        activity = self.get(session, ctx, activity_id)
        _may(session, ctx, activity, "delete")
        stmt = delete(Activity).where(Activity.id == activity.id, Activity.organization_id == ctx.organization_id,
                                      Activity.status != "sending")
        if not ctx.is_admin:  # what the check allowed: a text that went out since is history, not the sender's
            stmt = stmt.where(_SENDERS_TO_DELETE)
        result = session.execute(stmt.execution_options(synchronize_session=False))
        if result.rowcount != 1:
            session.rollback()
            activity = self.get(session, ctx, activity_id)
            if activity.status != "sending":
                _may(session, ctx, activity, "delete")
            raise Conflict("The message is being sent right now; try again in a moment.")
        session.commit()

    def list_messages(self, session: Session, ctx: Ctx, page: PageRequest, filters: SmsFilter = SmsFilter()) -> Page:
        """The workspace's SMS activities, newest first (then by id, so pages never overlap)."""
        refuse_unknown_choices(("status", filters.statuses, SMS_STATUSES), ("direction", filters.directions, DIRECTIONS))
        stmt = narrowed(select(Activity).where(Activity.organization_id == ctx.organization_id, Activity.type == "sms"),
                        filters, (Activity.status, filters.statuses), (Activity.direction, filters.directions))
        return fetch_page(session, stmt.order_by(Activity.date_created.desc(), Activity.id.desc()), page)

    def prepare_call(self, session: Session, ctx: Ctx, request: CallRequest) -> PreparedCall:
        """Everything about a click-to-call and every problem with it; changes nothing (tools/messaging/calls)."""
        return calls.prepare_call(session, ctx, request)

    def dial(self, session: Session, ctx: Ctx, request: CallRequest, expected_fingerprint: str | None = None) -> Activity:
        """Click-to-call: ring the user's own phone, then connect the contact (tools/messaging/calls)."""
        return calls.execute_call(session, ctx, self.provider, self.settings, request, expected_fingerprint)

    def _save(self, session: Session, ctx: Ctx, prepared: Prepared) -> Activity:
        req, now = prepared.request, utcnow()
        status, when = _initial_status(req, now)
        # The thread first (found and touched in one statement), so the row is inserted with its thread_id.
        thread = None
        if prepared.contact_id:
            thread = threads.touched_thread(session, ctx.organization_id, prepared.contact_id, prepared.lead_id, now)
        activity = Activity(
            organization_id=ctx.organization_id, type="sms", direction="outbound", status=status,
            lead_id=prepared.lead_id, contact_id=prepared.contact_id, user_id=ctx.user_id, created_by=ctx.user_id,
            updated_by=ctx.user_id, activity_at=now, channel=ctx.channel, **key_columns(ctx, req),
            local_phone=prepared.from_, remote_phone=prepared.to, text=prepared.text, template_id=req.template_id,
            variables=_kept_variables(req.template_id, req.variables), date_scheduled=when,
            encoding=prepared.encoding, segments=prepared.segments, attachments=prepared.attachments,
            messaging_service_sid=prepared.messaging_service_sid,
            claimed_by=self.worker_id if status == "sending" else None, claimed_at=now if status == "sending" else None,
            attempts=1 if status == "sending" else 0, thread_id=thread.id if thread is not None else None,
        )
        session.add(activity)
        if thread is not None and status != "draft":
            threads.assign_after_outbound(session, thread, ctx.user_id)
        session.flush()
        return activity


def _initial_status(req: SendRequest, now) -> tuple[str, object]:
    if req.status == "draft":
        return "draft", req.date_scheduled
    if req.status == "scheduled":
        return "scheduled", req.date_scheduled
    if req.send_in:
        return "outbox", now + timedelta(seconds=req.send_in)
    return "sending", None


def _raise_blocking(prepared: Prepared) -> None:
    problems: list[Problem] = prepared.problems
    if prepared.request.status == "draft":
        problems = [p for p in problems if p.code in DRAFT_BLOCKING]
    if problems:
        raise Invalid(problems)


def _aware(when: datetime | None) -> datetime | None:
    """A time without a zone is read as UTC."""
    if when is not None and when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when


def _log_parties(session: Session, ctx: Ctx, req: LogRequest) -> tuple[Contact | None, str | None, str | None, str | None]:
    """The contact, lead, remote and local phone of a logged SMS, or Invalid naming every field at fault."""
    problems: list[Problem] = []
    if req.status not in LOG_STATUSES:
        problems.append(Problem("invalid_choice", "status", "Not a valid choice."))
    if req.direction is not None and req.direction not in DIRECTIONS:
        problems.append(Problem("invalid_choice", "direction", "Not a valid choice."))
    elif req.direction is not None and LOGGED_DIRECTION.get(req.status, req.direction) != req.direction:
        expected = LOGGED_DIRECTION[req.status]
        problems.append(Problem("invalid_choice", "direction",
                                f"A text logged as {req.status} is {expected}: give direction {expected}, or leave it out."))
    if req.source not in SOURCES:
        problems.append(Problem("invalid_choice", "source", "Not a valid choice."))
    contact = None
    if req.contact_id:
        contact = session.scalar(select(Contact).where(Contact.id == req.contact_id,
                                                       Contact.organization_id == ctx.organization_id))
        if contact is None:
            problems.append(Problem("not_found", "contact_id", "Contact not found."))
    problems += parties.lead_problems(session, ctx, req.lead_id, contact)
    remote = local = None
    raw = req.remote_phone or _textable_phone(contact)
    if not raw:
        problems.append(Problem("required", "remote_phone", "remote_phone is required (or a contact with a phone)."))
    else:
        try:
            remote = normalise(raw, "US", field="remote_phone").e164
        except Invalid as exc:
            problems += exc.problems
        problems += [p for p in (parties.phone_problem(contact, remote),) if p is not None]
    if req.local_phone:
        try:
            local = normalise(req.local_phone, "US", field="local_phone").e164
        except Invalid as exc:
            problems += exc.problems
    if problems:
        raise Invalid(problems)
    if contact is None and remote:
        contact = parties.only_contact_with(session, ctx, remote, req.lead_id)
    return contact, contact.lead_id if contact else req.lead_id, remote, local


def _given_fields(activity: Activity, changes: SendRequest) -> set[str]:
    """The fields a patch sets; on a message that is not a draft, only those that differ from the row."""
    given = set(changes.model_fields_set)
    if activity.status in lifecycle.EDITABLE:
        return given
    current = {name: getattr(activity, name) for name in EDIT_FIELDS}
    current["attachments"] = activity.attachments or []
    asked = changes.model_dump(include=set(EDIT_FIELDS))
    asked["attachments"] = [a.model_dump() for a in changes.attachments]
    for name in EDIT_FIELDS:
        if name in given and asked[name] == current[name]:
            given.discard(name)
    if "date_scheduled" in given and changes.date_scheduled and activity.date_scheduled \
            and _aware(changes.date_scheduled) == activity.date_scheduled:
        given.discard("date_scheduled")
    given -= {"variables"} if "template_id" not in given else set()
    return given


def _not_editable(activity: Activity, given: set[str]) -> Invalid:
    """The refusal of a change to a text that is not a draft, on the field that asked for it."""
    if "lead_id" in given and not given & {"text", "status"}:
        return Invalid.one("not_editable", "lead_id", f"Only a draft can move to another lead; this message is "
                                                      f"{activity.status}, so it stays on its lead.")
    field = "text" if "text" in given else "status"
    return Invalid.one("not_editable", field, f"Only drafts can be edited; this message is {activity.status}.")


def _merged_request(activity: Activity, changes: SendRequest, given: set[str]) -> tuple[SendRequest, str | None]:
    """The draft as it will be: the patch's fields over the row's; and the template_id to keep on the row."""
    contact_id = changes.contact_id if "contact_id" in given else activity.contact_id
    if "remote_phone" in given:
        remote = changes.remote_phone
    else:
        remote = None if "contact_id" in given else activity.remote_phone
    text, render, template_id = _merged_words(activity, changes, given)
    request = SendRequest(
        contact_id=contact_id, remote_phone=remote,
        lead_id=_merged_lead(activity, changes, given),
        local_phone=changes.local_phone if "local_phone" in given else activity.local_phone,
        text=text, template_id=render, variables=_merged_variables(activity, changes, given),
        attachments=changes.attachments if "attachments" in given else [Attachment(**a) for a in activity.attachments or []],
        status=changes.status if "status" in given else "draft",
        date_scheduled=changes.date_scheduled if "date_scheduled" in given else activity.date_scheduled,
        send_in=changes.send_in if "send_in" in given else None,
        whatsapp=changes.whatsapp,
    )
    return request, template_id


def _merged_variables(activity: Activity, changes: SendRequest, given: set[str]) -> dict[str, str]:
    """The template values the draft will be rendered with: those given over those it was rendered with, unless the
    patch names a template (its own values, then)."""
    if "template_id" in given:
        return dict(changes.variables)
    return {**(activity.variables or {}), **changes.variables}


def _kept_variables(template_id: str | None, variables: dict[str, str]) -> dict[str, str] | None:
    """What a row keeps of the values: those of the template its words came from; none for words a person wrote."""
    return dict(variables) if template_id else None


def _written_for_someone_else(activity: Activity, given: set[str], request: SendRequest, template_id: str | None,
                              prepared: Prepared) -> bool:
    """Whether the draft keeps words its template wrote for the contact it had, while the patch sends it to another
    (a contact, or a number that is someone else's or no one's): they must be written again for the new recipient."""
    keeps_templates_words = template_id is not None and request.template_id is None
    readdressed = bool(given & {"contact_id", "remote_phone"}) and prepared.to is not None
    return keeps_templates_words and readdressed and prepared.contact_id != activity.contact_id


def _rewritten(prepared: Prepared, field: str) -> Prepared:
    """The template rendered again for the draft's new recipient; a value it still lacks (a row saved before values
    were kept) or a template no longer available is a problem on the recipient `field`, asking for them or the text."""
    who = prepared.contact_name or format_phone(prepared.to) or "the new recipient"
    missing = [p.field.removeprefix("variables.") for p in prepared.problems if p.code == "missing_variable"]
    gone = any(p.code == "not_found" and p.field == "template_id" for p in prepared.problems)
    problems = [p for p in prepared.problems if p.code != "missing_variable" and not (gone and p.field == "template_id")]
    if missing:
        problems.append(Problem("missing_variable", field, f"The text was written from its template for the previous "
                                                           f"recipient; give the template's variables again "
                                                           f"({', '.join(missing)}) to write it for {who}, or give "
                                                           "the text."))
    if gone:
        problems.append(Problem(TEMPLATE_GONE, field, f"The text was written for the previous recipient from a template "
                                                      f"that is no longer available; give the text for {who}."))
    return dataclasses.replace(prepared, problems=problems)


def _merged_words(activity: Activity, changes: SendRequest, given: set[str]) -> tuple[str | None, str | None, str | None]:
    """The draft's text, the template to render it from (None keeps the text), and the template_id the row keeps.

    New words replace a template (the row no longer claims them); the draft's own words given back, as a client
    echoing the row does, are not new words.
    """
    if "template_id" in given and changes.template_id:
        return (changes.text if "text" in given else None), changes.template_id, changes.template_id
    if "template_id" in given:
        return (changes.text if "text" in given else activity.text), None, None
    if "text" in given and changes.text != activity.text:
        return changes.text, None, None
    if "variables" in given and activity.template_id:
        return None, activity.template_id, activity.template_id
    return activity.text, None, activity.template_id


def _merged_lead(activity: Activity, changes: SendRequest, given: set[str]) -> str | None:
    """The lead the patch names (prepare checks it is the workspace's and the contact's), else the draft's own, unless
    the recipient changes: a new recipient brings its own lead."""
    if "lead_id" in given:
        return changes.lead_id
    return None if given & {"contact_id", "remote_phone"} else activity.lead_id


# -- who may change a text ------------------------------------------------------------------------------------------

# Texts not yet gone out.
UNSENT = ("draft", *lifecycle.CANCELLABLE)
_HISTORY_WORDS = {"inbox": "received"}
# The texts a sender may delete, not only an admin: those that reached no one (not yet gone out, or failed) and those
# the sender logged (POST status "sent": sent elsewhere, recorded here, no carrier message behind it). Any other
# (sent or delivered by Cody, received) is the conversation's history. `_senders_to_delete` says the same of a row.
_SENDERS_TO_DELETE = or_(
    Activity.status.in_(UNSENT),
    and_(Activity.direction == "outbound",
         or_(Activity.status == "error", and_(Activity.status == "sent", Activity.provider_sid.is_(None)))),
)


def _senders_to_delete(activity: Activity) -> bool:
    """Whether the text is one its sender may delete (_SENDERS_TO_DELETE): unsent, failed, or logged by them."""
    if activity.status in UNSENT:
        return True
    logged = activity.status == "sent" and activity.provider_sid is None
    return activity.direction == "outbound" and (activity.status == "error" or logged)


def _may(session: Session, ctx: Ctx, activity: Activity, action: str) -> None:
    """Forbidden unless ctx may `action` ("edit", "cancel" or "delete") this text.

    Editing or sending is the sender's only (`user_id`): sent by anyone else it would carry the sender's name on
    words they didn't write. Cancelling a waiting text, and deleting one that reached no one or that its sender
    logged, are the sender's or an admin's; deleting history is an admin's. A text with no sender (logged or
    received with no user) is an admin's to change.
    """
    own = activity.user_id is not None and activity.user_id == ctx.user_id
    if action == "delete" and activity.status != "sending" and not _senders_to_delete(activity):
        if ctx.is_admin:
            return
        word = _HISTORY_WORDS.get(activity.status, activity.status)
        raise Forbidden(f"Only an admin can delete a {word} text: it is part of the conversation's history.")
    if own or (ctx.is_admin and (action != "edit" or activity.user_id is None)):
        return
    whose = _sender_name(session, ctx, activity)
    if action == "edit":
        raise Forbidden(f"You can't edit or send {whose} text: only the person who wrote it can."
                        if whose else "This text has no sender; only an admin can edit or send it.")
    verb = "cancel" if action == "cancel" else "delete"
    raise Forbidden(f"You can't {verb} {whose} text: only they or an admin can."
                    if whose else f"This text has no sender; only an admin can {verb} it.")


def _sender_name(session: Session, ctx: Ctx, activity: Activity) -> str | None:
    """"Ana Diaz's" for the text's sender in ctx's workspace, "another user's" for one no longer in it, None when
    the text has no sender."""
    if activity.user_id is None:
        return None
    user = session.scalar(select(User).join(Membership, Membership.user_id == User.id)
                          .where(User.id == activity.user_id, Membership.organization_id == ctx.organization_id))
    return f"{user.display_name}'s" if user is not None else "another user's"
