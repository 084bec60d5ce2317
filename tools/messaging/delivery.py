"""Hand a claimed message to the carrier and record what it answered."""

import logging
import random
from datetime import timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from db.models import Activity
from db.types import utcnow
from tools.optouts import record_opt_out
from tools.telephony.base import OutboundMessage, Provider, ProviderError, SendResult
from tools.telephony.errors import describe_error, problem_code

log = logging.getLogger("cody.delivery")


BACKOFF_CAP_SECONDS = 60.0  # the longest a retry waits


def backoff_seconds(attempt: int, cap: float = BACKOFF_CAP_SECONDS) -> float:
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
    resend = activity.attempts > 1
    session.commit()
    try:
        # An earlier attempt may have reached the carrier though its answer was lost (timeout, dropped connection,
        # a crash): link that message rather than send a second one.
        result = (find_sent(session, provider, activity) if resend else None) or provider.send_message(message)
    except ProviderError as exc:
        _failed(session, activity, exc, max_attempts)
    else:
        _accepted(session, activity, result)
    session.commit()
    return activity


def find_sent(session: Session, provider: Provider, activity: Activity, tries: int = 20) -> SendResult | None:
    """The carrier's message for this row, if one was accepted, with the status the carrier gives it now; messages
    other rows own (the same text sent to the same phone twice) are skipped."""
    skip: set[str] = set()
    for _ in range(tries):
        found = provider.find_message(activity.remote_phone, activity.local_phone, activity.text or "",
                                      activity.date_created, exclude=skip)
        if found is None:
            return None
        owner = session.scalar(select(Activity.id).where(Activity.provider_sid == found.sid).limit(1))
        if owner is None or owner == activity.id:
            return found
        skip.add(found.sid)
    return None


NOT_DELIVERED = ("failed", "undelivered", "canceled")


def carrier_outcome(carrier_status: str | None) -> dict[str, str | None]:
    """Our status and error for a message the carrier has, from the status it gives it: `sent` until the carrier
    says delivered (or read), `error` once it says the message will not arrive.

    A message linked after its answer was lost (a retry found it, or the reconciler did) takes the carrier's word
    now: its callbacks may have come while nothing could be linked to them, and will not come again.
    """
    if carrier_status in NOT_DELIVERED:
        return {"status": "error", "error_code": "provider_error",
                "error_message": f"The carrier reports this message as {carrier_status}: it was not delivered."}
    return {"status": "delivered" if carrier_status in ("delivered", "read") else "sent", "error_code": None,
            "error_message": None}


# Built once (every send ends here), a Core UPDATE of the table (the ORM's bulk-update layer around it cost more
# than the statement); earlier retries' errors are history.
_ACTIVITIES = Activity.__table__
_SENT = (
    _ACTIVITIES.update().where(_ACTIVITIES.c.id == bindparam("sent_id"), _ACTIVITIES.c.status == "sending")
    .values(status=bindparam("sent_status"), provider_sid=bindparam("sent_sid"), date_sent=bindparam("sent_at"),
            cost=bindparam("sent_cost"), claimed_by=None, date_updated=bindparam("sent_at"),
            error_message=bindparam("sent_error_message"), error_code=bindparam("sent_error_code"))
)


def _accepted(session: Session, activity: Activity, result: SendResult) -> None:
    now = utcnow()
    cost = abs(result.price) if result.price is not None else None
    outcome = carrier_outcome(result.status)
    if session.autoflush:
        session.flush()  # as an ORM statement would (a sender changed by deliver_claimed goes in first)
    updated = session.execute(_SENT, {"sent_id": activity.id, "sent_sid": result.sid, "sent_at": now,
                                      "sent_cost": cost, "sent_status": outcome["status"],
                                      "sent_error_message": outcome["error_message"],
                                      "sent_error_code": outcome["error_code"]})
    if updated.rowcount == 1 and result.price is None:
        values = {**outcome, "provider_sid": result.sid, "date_sent": now, "cost": None, "claimed_by": None,
                  "date_updated": now}
        # Our `sending` row took exactly these values: set them on the object rather than read the row back.
        for key, value in values.items():
            set_committed_value(activity, key, value)
    else:  # something moved it first (a status callback, the reconciler), or the price needs the column's rounding
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
