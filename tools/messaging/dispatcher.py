"""The row is the job: claim due messages atomically, deliver them, and resolve stale claims; and, every few
minutes, renew the numbers whose month has come (tools/renewals.py)."""

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Exists, bindparam, literal_column, or_, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from db.models import Activity
from db.types import utcnow
from tools import locks
from tools.messaging.delivery import BACKOFF_CAP_SECONDS, carrier_outcome, find_sent
from tools.messaging.lanes import Lanes
from tools.messaging.service import Messaging
from tools.renewals import RENEW_EVERY_SECONDS, RenewalReport, run_renewals
from tools.telephony.base import ProviderError

log = logging.getLogger("cody.dispatcher")

DUE = ("scheduled", "outbox")


@dataclass(frozen=True)
class Claimed:
    """A message claimed for sending, with what orders it among the others."""

    id: str
    recipient: tuple[str, str | None]  # (workspace, phone): texts to one phone go out one after another
    due: datetime


# A text to this row's recipient is being sent now (ix_activity_sending_recipient): the row waits its turn. The
# status is written into the SQL, not bound, so that a plan PostgreSQL caches for any value still uses the index.
_SENDING = aliased(Activity)
_RECIPIENT_BUSY = (select(_SENDING.id)
                   .where(_SENDING.status == literal_column("'sending'"),
                          _SENDING.organization_id == Activity.organization_id,
                          _SENDING.remote_phone == Activity.remote_phone)
                   .exists())


# A recipient's text waits while an older text of theirs waits to go again after an attempt (the carrier said "not
# now" and it is back in the outbox with a backoff, or the reconciler put it back; ix_activity_retrying_recipient),
# so it does not overtake it. Only one due again within RETRY_HOLD holds the others: a text rescheduled for later
# after it failed holds nothing. The statuses and the attempts are written into the SQL, as for _RECIPIENT_BUSY.
RETRY_HOLD = timedelta(seconds=2 * BACKOFF_CAP_SECONDS)  # longer than the longest backoff
_RETRYING = aliased(Activity)


def _older_text_retrying(now: datetime) -> Exists:
    return (select(_RETRYING.id)
            .where(_RETRYING.status.in_([literal_column(f"'{status}'") for status in DUE]),
                   _RETRYING.attempts > literal_column("0"),
                   _RETRYING.organization_id == Activity.organization_id,
                   _RETRYING.remote_phone == Activity.remote_phone,
                   _RETRYING.date_created < Activity.date_created,
                   _RETRYING.date_scheduled <= now + RETRY_HOLD)
            .exists())


def claim_due(session: Session, worker_id: str, batch: int) -> list[Claimed]:
    """Move up to `batch` due messages to `sending` for this worker, oldest due first; no two workers get the same
    row, and none gets a text to a phone that has one in `sending` (a recipient's texts go out one after another) or
    an older one waiting to go again after an attempt.

    Claims take turns (locks.CLAIMS, held to the commit), so each sees the rows every earlier claim moved to
    `sending`: two workers claiming in the same instant cannot each take a text to one phone. A worker's own batch
    keeps each recipient's texts in order (recipient_queues).
    """
    locks.hold(session, locks.CLAIMS, "claims")
    now = utcnow()
    due = (
        select(Activity.id)
        .where(Activity.type == "sms", Activity.status.in_(DUE),
               or_(Activity.date_scheduled.is_(None), Activity.date_scheduled <= now), ~_RECIPIENT_BUSY,
               ~_older_text_retrying(now))
        .order_by(Activity.date_scheduled)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    stmt = (
        update(Activity)
        .where(Activity.id.in_(due.scalar_subquery()), Activity.status.in_(DUE))
        .values(status="sending", claimed_by=worker_id, claimed_at=now, attempts=Activity.attempts + 1, date_updated=now)
        .returning(Activity.id, Activity.organization_id, Activity.remote_phone, Activity.date_scheduled,
                   Activity.date_created)
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(stmt).all()
    session.commit()
    # RETURNING gives the rows in no particular order: sort them as they were due (an outbox text by when it was made).
    claimed = [Claimed(id_, (org, phone), scheduled or created) for id_, org, phone, scheduled, created in rows]
    return sorted(claimed, key=lambda c: (c.due, c.id))


def recipient_queues(claimed: Sequence[Claimed]) -> list[list[str]]:
    """The claimed ids in one queue per recipient, each in the order given: queues may go out side by side, a
    queue's texts one after another, so a recipient gets them in the order they were due."""
    queues: dict[tuple[str, str | None], list[str]] = {}
    for message in claimed:
        queues.setdefault(message.recipient, []).append(message.id)
    return list(queues.values())


# Built once (every message a dispatcher sends runs it): the renewal and the read of the row in one round trip.
_RENEW = (update(Activity)
          .where(Activity.id == bindparam("renew_id"), Activity.status == "sending",
                 Activity.claimed_by == bindparam("renew_worker"))
          .values(claimed_at=bindparam("renew_at"))
          .returning(Activity)
          .execution_options(synchronize_session=False))


class Dispatcher:
    def __init__(self, messaging: Messaging, factory: sessionmaker[Session], batch: int = 50,
                 poll_seconds: float = 0.5, worker_id: str | None = None,
                 renew_every: float | None = RENEW_EVERY_SECONDS, concurrency: int = 1):
        self.messaging = messaging
        self.factory = factory
        self.batch = batch
        self.concurrency = concurrency  # carrier calls in flight at once, each recipient's texts in order
        self.poll_seconds = poll_seconds
        self.worker_id = worker_id or messaging.worker_id
        self.renew_every = renew_every  # seconds between renewal passes in run_forever; None for none
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many were claimed."""
        with self._lanes() as lanes:
            return self._claim_into(lanes)

    def _lanes(self) -> Lanes:
        """Threads for this dispatcher's carrier calls; on leaving its `with`, every queue started is done."""
        return Lanes(self._deliver_queue, self.concurrency, self.worker_id)

    def _claim_into(self, lanes: Lanes) -> int:
        """Claim one batch and start its recipient queues; returns how many were claimed."""
        with self.factory() as session:
            claimed = claim_due(session, self.worker_id, self.batch)
        lanes.start(recipient_queues(claimed))
        return len(claimed)

    def _next_batch(self, lanes: Lanes) -> int:
        """Claim and start the next batch as soon as no queue waits for a thread, so the threads never stand idle
        while a batch's slowest texts are at the carrier; 0 when nothing due can be claimed, not even once the texts
        in flight are done (a recipient's next text waits for its last one)."""
        lanes.wait_for_room()
        claimed = self._claim_into(lanes)
        if claimed == 0 and lanes.busy:
            lanes.wait_all()
            claimed = self._claim_into(lanes)
        return claimed

    def _deliver_queue(self, ids: list[str]) -> None:
        """Deliver one recipient's claimed messages in order, in a session of their own.

        When one goes back to the outbox to be tried again later, the rest are given back unsent, so they do not
        overtake it (claim_due holds them until it has gone). A failure outside a delivery (the database gone) ends
        the queue: its remaining rows stay claimed, `sending`, for the reconciler, and the other queues go on.
        """
        try:
            with self.factory() as session:
                for position, activity_id in enumerate(ids):
                    activity = self._deliver_one(session, activity_id)
                    if activity is not None and activity.status in DUE:
                        self._give_back(session, ids[position + 1:])
                        return
        except Exception:
            log.exception("%s stopped delivering to one recipient; the reconciler will resolve its claimed messages",
                          self.worker_id)

    def _deliver_one(self, session: Session, activity_id: str) -> Activity | None:
        """The row after its delivery; None when it was not this worker's any more, or its delivery broke."""
        activity = self._renew_claim(session, activity_id)
        if activity is None:
            log.warning("%s was taken back before %s could send it; leaving it alone", activity_id, self.worker_id)
            return None
        try:
            return self.messaging.deliver_claimed(session, activity)
        except Exception:
            session.rollback()
            log.exception("delivery of %s failed unexpectedly; the reconciler will resolve it", activity_id)
            return None

    def _give_back(self, session: Session, ids: list[str]) -> None:
        """Claimed rows this worker will not send now go back to the outbox, unclaimed and untried."""
        if not ids:
            return
        session.execute(update(Activity)
                        .where(Activity.id.in_(ids), Activity.status == "sending",
                               Activity.claimed_by == self.worker_id)
                        .values(status="outbox", claimed_by=None, attempts=Activity.attempts - 1,
                                date_updated=utcnow())
                        .execution_options(synchronize_session=False))
        session.commit()

    def _renew_claim(self, session: Session, activity_id: str) -> Activity | None:
        """Just before sending, check the row is still this worker's and restart its timeout; the row as it is now,
        or None when it is not this worker's any more.

        A batch can take longer than sending_timeout_seconds (slow carrier); by then the reconciler may have handed
        a row to another worker, and sending it here as well would send it twice. Renewing claimed_at makes the
        timeout cover one carrier call, not the whole batch.
        """
        activity = session.scalar(_RENEW, {"renew_id": activity_id, "renew_worker": self.worker_id, "renew_at": utcnow()},
                                  execution_options={"populate_existing": True})
        if activity is None:
            session.rollback()
        return activity  # the renewal is committed with the send's first write (before the carrier is called)

    def reconcile_stale(self) -> int:
        """Messages left in `sending` by a dead process: ask the carrier (by sid, or by recipient and text when the
        sid was never saved) before anything is sent again."""
        cutoff = utcnow() - timedelta(seconds=self.messaging.settings.sending_timeout_seconds)
        with self.factory() as session:
            stale = list(session.scalars(select(Activity).where(
                Activity.type == "sms", Activity.status == "sending", Activity.claimed_at < cutoff)))
            claims = {activity.id: activity.claimed_at for activity in stale}  # as seen, before any refresh
            for activity in stale:
                try:
                    self._resolve(session, activity, claims[activity.id])
                except ProviderError as exc:  # the carrier can't be asked now: leave the row for the next round
                    session.rollback()
                    log.warning("could not ask the carrier about %s (%s); will try again", activity.id, exc.message)
                else:
                    session.commit()  # row by row: a slow carrier never holds the others' locks
        return len(stale)

    def _resolve(self, session: Session, activity: Activity, claimed_at: datetime | None) -> None:
        values: dict[str, object]
        if activity.provider_sid:
            values = {**carrier_outcome(self.messaging.provider.fetch_message_status(activity.provider_sid)),
                      "claimed_by": None}
            outcome = f"settled as {values['status']} by asking the carrier"
        elif (found := find_sent(session, self.messaging.provider, activity)) is not None:
            values = {**carrier_outcome(found.status), "provider_sid": found.sid, "date_sent": utcnow(),
                      "claimed_by": None}
            outcome = f"linked to {found.sid}: the carrier had accepted it but the answer was lost"
        else:
            values = {"status": "outbox", "claimed_by": None, "date_scheduled": utcnow()}
            outcome = "put back in the outbox: the carrier has no such message"
        result = session.execute(update(Activity).where(Activity.id == activity.id, Activity.status == "sending",
                                                        Activity.claimed_at == claimed_at)
                                 .values(date_updated=utcnow(), **values).execution_options(synchronize_session=False))
        if result.rowcount == 1:
            log.warning("%s was left sending; %s", activity.id, outcome)
        # else its sender renewed the claim or finished meanwhile: the row is not stale any more

    def renew_numbers(self) -> RenewalReport:
        """One renewal pass (safe alongside other processes' passes)."""
        return run_renewals(self.factory, self.messaging.provider, settings=self.messaging.settings)

    def drain(self, max_rounds: int = 10_000) -> int:
        """Deliver everything due now (tests and `cody worker --once`)."""
        total = 0
        with self._lanes() as lanes:
            for _ in range(max_rounds):
                claimed = self._next_batch(lanes)
                total += claimed
                if claimed == 0:
                    break
        return total

    def run_forever(self) -> None:
        with self._lanes() as lanes:  # on stop, the texts already claimed are sent before it returns
            self._dispatch(lanes)

    def _dispatch(self, lanes: Lanes) -> None:
        last_reconcile = last_renewal = 0.0
        every = min(30.0, max(1.0, self.messaging.settings.sending_timeout_seconds / 2))
        while not self._stop.is_set():
            try:
                claimed = self._next_batch(lanes)
                now = utcnow().timestamp()
                if now - last_reconcile > every:
                    self.reconcile_stale()
                    last_reconcile = now
                if self.renew_every is not None and now - last_renewal > self.renew_every:
                    last_renewal = now  # before the pass: one that fails waits for the next interval too
                    self.renew_numbers()
            except Exception:
                log.exception("dispatcher round failed")
                claimed = 0
            if claimed == 0:
                self._stop.wait(self.poll_seconds)

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            if not self._stop.is_set():
                return  # already running
            self._thread.join()  # still finishing its last round after a stop
        self._stop.clear()  # a stopped dispatcher can be started again (an app's lifespan may run twice)
        self._thread = threading.Thread(target=self.run_forever, name="cody-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
