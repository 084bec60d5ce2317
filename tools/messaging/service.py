"""The messaging service: one object the app, the worker, the assistant and jobs all share."""

import logging
import os
import socket
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import Activity
from db.types import utcnow
from tools import threads
from tools.context import Ctx
from tools.messaging import lifecycle
from tools.messaging.delivery import deliver
from tools.messaging.prepare import prepare
from tools.messaging.request import Prepared, SendRequest
from tools.problems import Conflict, Invalid, NotFound, Problem
from tools.settings import TelephonySettings
from tools.telephony.base import Provider
from tools.telephony.errors import describe_error

log = logging.getLogger("cody.messaging")

STATUS_CALLBACK_PATH = "/api/webhooks/twilio/sms/status"
# Problems that still let a draft be saved: a draft is not sent, so only a broken recipient or text stops it.
DRAFT_BLOCKING = frozenset({"invalid_phone", "short_code", "not_found", "too_long", "invalid", "required"})


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
        existing = self._by_idempotency_key(session, ctx)
        if existing is not None:
            return existing
        prepared = self.prepare(session, ctx, request)
        _raise_blocking(prepared)
        if expected_fingerprint is not None and expected_fingerprint != prepared.fingerprint():
            raise Conflict("The message changed since it was previewed; review it again before sending.")
        activity = self._save(session, ctx, prepared)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            existing = self._by_idempotency_key(session, ctx)
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
        """A scheduled or not-yet-sent outbox message goes back to draft."""
        activity = self.get(session, ctx, activity_id)
        result = session.execute(
            update(Activity).where(Activity.id == activity.id, Activity.status.in_(lifecycle.CANCELLABLE),
                                   Activity.claimed_by.is_(None))
            .values(status="draft", date_scheduled=None, date_updated=utcnow())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            session.rollback()
            raise Invalid.one("not_cancellable", "status", f"A message that is {activity.status} can't be cancelled.")
        session.commit()
        session.refresh(activity)
        return activity

    def record_carrier_status(self, session: Session, sid: str, carrier_status: str, error_code: int | None) -> Activity | None:
        """Apply a delivery callback; only ever moves a message forward."""
        new = lifecycle.CARRIER_STATUS.get(carrier_status)
        activity = session.scalar(select(Activity).where(Activity.provider_sid == sid))
        if activity is None or new is None:
            return activity
        values = {"status": new, "date_updated": utcnow()}
        if new == "error":
            values |= {"error_message": describe_error(error_code), "error_code": str(error_code or "")}
        session.execute(update(Activity).where(Activity.id == activity.id, Activity.status.in_(lifecycle.earlier_than(new)))
                        .values(**values).execution_options(synchronize_session=False))
        session.commit()
        session.refresh(activity)
        return activity

    def get(self, session: Session, ctx: Ctx, activity_id: str) -> Activity:
        activity = session.scalar(select(Activity).where(Activity.id == activity_id, Activity.type == "sms",
                                                         Activity.organization_id == ctx.organization_id))
        if activity is None:
            raise NotFound("SMS activity not found.")
        return activity

    def _by_idempotency_key(self, session: Session, ctx: Ctx) -> Activity | None:
        if not ctx.idempotency_key:
            return None
        return session.scalar(select(Activity).where(Activity.organization_id == ctx.organization_id,
                                                     Activity.idempotency_key == ctx.idempotency_key))

    def _save(self, session: Session, ctx: Ctx, prepared: Prepared) -> Activity:
        req, now = prepared.request, utcnow()
        status, when = _initial_status(req, now)
        activity = Activity(
            organization_id=ctx.organization_id, type="sms", direction="outbound", status=status,
            lead_id=prepared.lead_id, contact_id=prepared.contact_id, user_id=ctx.user_id, created_by=ctx.user_id,
            updated_by=ctx.user_id, activity_at=now, channel=ctx.channel, idempotency_key=ctx.idempotency_key,
            local_phone=prepared.from_, remote_phone=prepared.to, text=prepared.text, template_id=req.template_id,
            date_scheduled=when, encoding=prepared.encoding, segments=prepared.segments,
            attachments=prepared.attachments, messaging_service_sid=prepared.messaging_service_sid,
            claimed_by=self.worker_id if status == "sending" else None, claimed_at=now if status == "sending" else None,
            attempts=1 if status == "sending" else 0,
        )
        session.add(activity)
        if prepared.contact_id:
            thread = threads.thread_for(session, ctx.organization_id, prepared.contact_id, prepared.lead_id)
            activity.thread_id = thread.id
            if status != "draft":
                threads.assign_after_outbound(session, thread, ctx.user_id)
            threads.touch(session, thread, now)
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
