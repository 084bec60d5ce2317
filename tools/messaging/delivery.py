"""Hand a claimed message to the carrier and record what it answered."""

import logging
import random
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from db.models import Activity
from db.types import utcnow
from tools.optouts import record_opt_out
from tools.telephony.base import OutboundMessage, Provider, ProviderError
from tools.telephony.errors import describe_error, problem_code

log = logging.getLogger("cody.delivery")


def backoff_seconds(attempt: int, cap: float = 60.0) -> float:
    """Exponential backoff with full jitter: up to 1, 2, 4, ... seconds, never over the cap."""
    return random.uniform(0.5, 1.0) * min(cap, 2.0 ** attempt)


def deliver(session: Session, provider: Provider, activity: Activity, status_callback: str, max_attempts: int) -> Activity:
    """Send a row already in `sending`; the row exists before the carrier is called."""
    message = OutboundMessage(
        to=activity.remote_phone, from_=activity.local_phone, body=activity.text,
        media_urls=tuple(a["url"] for a in activity.attachments or ()),
        messaging_service_sid=activity.messaging_service_sid,
        status_callback=f"{status_callback}?activity_id={activity.id}",
    )
    session.commit()
    try:
        result = provider.send_message(message)
    except ProviderError as exc:
        _failed(session, activity, exc, max_attempts)
    else:
        _accepted(session, activity, result.sid, result.price)
    session.commit()
    return activity


def _accepted(session: Session, activity: Activity, sid: str, price) -> None:
    now = utcnow()
    session.execute(
        update(Activity).where(Activity.id == activity.id, Activity.status == "sending")
        .values(status="sent", provider_sid=sid, date_sent=now, cost=abs(price) if price is not None else None,
                claimed_by=None, date_updated=now, error_message=None, error_code=None)  # earlier retries are history
        .execution_options(synchronize_session=False)
    )
    session.refresh(activity)


def _failed(session: Session, activity: Activity, exc: ProviderError, max_attempts: int) -> None:
    now = utcnow()
    if exc.retryable and activity.attempts < max_attempts:
        delay = backoff_seconds(activity.attempts)
        log.warning("send %s failed (%s); retrying in %.1fs", activity.id, exc.message, delay)
        values = {"status": "outbox", "date_scheduled": now + timedelta(seconds=delay), "claimed_by": None,
                  "error_message": exc.message}
    else:
        message = describe_error(exc.code) if exc.code else exc.message
        log.info("send %s failed: %s", activity.id, message)
        values = {"status": "error", "error_message": message, "error_code": problem_code(exc.code), "claimed_by": None}
        if exc.code == 21610:
            record_opt_out(session, activity.organization_id, activity.remote_phone, source="carrier_21610")
    session.execute(update(Activity).where(Activity.id == activity.id, Activity.status == "sending")
                    .values(date_updated=now, **values).execution_options(synchronize_session=False))
    session.refresh(activity)
