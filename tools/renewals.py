"""Monthly renewal of bought numbers: each month is charged from the wallet when the number's `paid_until` comes.

A number bought is paid until one month on (tools/numbers). A renewal pass, run by every dispatcher every few minutes
(`Dispatcher.run_forever`) and callable directly (`run_renewals`), takes each active number whose paid_until has come:

- The wallet pays: monthly_cost is debited (ledger reference "<phone_id>:<YYYY-MM-DD>", the first day of the month
  paid for) and paid_until moves on one calendar month, on the day of the month the number was bought. Both happen in
  one transaction with a conditional UPDATE of the number's row (`paid_until` still the one read, billing_status
  unchanged), so a month is charged at most once whatever runs at the same time: on PostgreSQL a second pass waits on
  the row lock and then finds paid_until moved; on SQLite transactions take the write lock at BEGIN. A pass that
  finds several months due (workers were down) charges them one after the other.
- The wallet can't pay: nothing is debited (the balance never goes negative), paid_until stays, and the number becomes
  `past_due` with `grace_until` NUMBER_GRACE_DAYS from then, with a 0.00 ledger row saying so (reference
  "<phone_id>:<YYYY-MM-DD>:past_due") and a "billing" Inbox item for each admin of the workspace naming the number,
  what is owed and the day it is released. It keeps working: texts and calls are routed, it can be used, nobody else
  can buy it. Each pass tries the charge again; once paid, it is `paid` again, paid_until moves on from the month owed
  (the month the workspace kept the number is paid for) and its open billing items are marked done.
- Still unpaid when the grace period is over: it is marked `releasing` (with a 0.00 ledger row, reference
  "<phone_id>:<YYYY-MM-DD>:released"), given back to the carrier, and marked inactive with its texts waiting to go out
  held as drafts, as a release through the API does. If the carrier can't be reached it stays `releasing`, working
  and never charged, and a pass tries again once it has been so for NUMBER_RELEASING_TIMEOUT_SECONDS (by the clock,
  whatever `now` a pass is given: this is about a process or a carrier call, not about the months due).

A number that is released (inactive) or being released is never charged; numbers Cody did not buy (external,
seeded) have no paid_until and are never charged.

The grace period, the interval between passes and the releasing timeout are settings (tools/settings.py:
NUMBER_GRACE_DAYS, NUMBER_RENEWAL_INTERVAL_SECONDS, NUMBER_RELEASING_TIMEOUT_SECONDS).
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from db.models import PhoneNumber
from db.types import utcnow
from tools import inbox, wallet
from tools.context import Ctx
from tools.numbers import mark_released, next_paid_until, release_at_carrier
from tools.phones import format_phone
from tools.problems import ServiceError
from tools.settings import TelephonySettings, telephony_settings
from tools.telephony.base import Provider

log = logging.getLogger("cody.renewals")

RENEW_EVERY_SECONDS: float = TelephonySettings.model_fields["number_renewal_interval_seconds"].default
"""How often a dispatcher built without the setting runs a pass (NUMBER_RENEWAL_INTERVAL_SECONDS's default: a top-up
pays a past-due number within minutes)."""
MAX_MONTHS_PER_PASS = 12
"""Months one pass charges a number at most (the rest on the next pass)."""

BILLED = ("paid", "past_due")


@dataclass
class RenewalReport:
    charged: int = 0  # months charged
    past_due: int = 0  # numbers that became past due
    released: int = 0  # numbers released at the end of their grace period (or a release left unfinished)
    failed: int = 0  # numbers that raised (logged); the next pass tries them again


@dataclass(frozen=True)
class _Number:
    """A number's billing columns as one read saw them."""

    id: str
    organization_id: str
    number: str
    status: str
    provider_sid: str | None
    monthly_cost: Decimal
    paid_until: datetime | None
    billing_status: str | None
    grace_until: datetime | None
    date_created: datetime
    date_updated: datetime

    @property
    def reference(self) -> str:
        """The ledger reference of the month due: the number and the day the month begins (UTC)."""
        return f"{self.id}:{self.paid_until:%Y-%m-%d}"


def grace_period(settings: TelephonySettings) -> timedelta:
    """How long a number whose renewal the wallet could not pay keeps working before it is released."""
    return timedelta(days=settings.number_grace_days)


def releasing_timeout(settings: TelephonySettings) -> timedelta:
    """A number `releasing` for this long was left so by a process that stopped or a carrier that failed: finish it."""
    return timedelta(seconds=settings.number_releasing_timeout_seconds)


def due_numbers(session: Session, now: datetime, settings: TelephonySettings,
                organization_id: str | None = None) -> list[str]:
    """Active numbers whose paid_until has come, and those left `releasing` for the releasing timeout; earliest
    first."""
    stale = utcnow() - releasing_timeout(settings)
    stmt = select(PhoneNumber.id).where(
        PhoneNumber.status == "active", PhoneNumber.number_type == "internal",
        or_(and_(PhoneNumber.billing_status.in_(BILLED), PhoneNumber.paid_until <= now),
            and_(PhoneNumber.billing_status == "releasing", PhoneNumber.date_updated <= stale)))
    if organization_id is not None:
        stmt = stmt.where(PhoneNumber.organization_id == organization_id)
    return list(session.scalars(stmt.order_by(PhoneNumber.paid_until, PhoneNumber.id)))


def run_renewals(factory: sessionmaker[Session], provider: Provider, now: datetime | None = None,
                 settings: TelephonySettings | None = None, organization_id: str | None = None) -> RenewalReport:
    """One renewal pass over every workspace (or one): see the module's docstring. Safe to run from any number of
    processes at once; commits number by number, and talks to the carrier with no transaction open.

    `settings` are the runtime's; without them, the process's (read from the environment, as `cody serve` and
    `cody worker` read theirs)."""
    now = now or utcnow()
    settings = settings or telephony_settings()
    report = RenewalReport()
    with factory() as session:
        ids = due_numbers(session, now, settings, organization_id)
        session.rollback()
        for phone_id in ids:
            try:
                renew_number(session, provider, phone_id, now, settings, report)
            except Exception:
                session.rollback()
                report.failed += 1
                log.exception("renewal of %s failed; the next pass tries again", phone_id)
    if report.charged or report.past_due or report.released or report.failed:
        log.info("renewals: %d month(s) charged, %d number(s) past due, %d released, %d failed",
                 report.charged, report.past_due, report.released, report.failed)
    return report


def _read(session: Session, phone_id: str) -> _Number | None:
    row = session.execute(select(
        PhoneNumber.id, PhoneNumber.organization_id, PhoneNumber.number, PhoneNumber.status, PhoneNumber.provider_sid,
        PhoneNumber.monthly_cost, PhoneNumber.paid_until, PhoneNumber.billing_status, PhoneNumber.grace_until,
        PhoneNumber.date_created, PhoneNumber.date_updated).where(PhoneNumber.id == phone_id)).one_or_none()
    return None if row is None else _Number(*row)


def renew_number(session: Session, provider: Provider, phone_id: str, now: datetime, settings: TelephonySettings,
                 report: RenewalReport | None = None) -> RenewalReport:
    """Charge the months of one number that are due at `now` (or follow the policy when the wallet can't pay)."""
    report = report if report is not None else RenewalReport()
    for _ in range(MAX_MONTHS_PER_PASS):
        number = _read(session, phone_id)
        if number is None or number.status != "active":
            break
        if number.billing_status == "releasing":
            stale = number.date_updated <= utcnow() - releasing_timeout(settings)
            if stale and _finish_release(session, provider, number):
                report.released += 1
            break
        if number.billing_status not in BILLED or number.paid_until is None or number.paid_until > now:
            break
        outcome = _charge_month(session, number, now, grace_period(settings))
        if outcome == "charged":
            report.charged += 1
            continue
        if outcome == "past_due":
            report.past_due += 1
        elif outcome == "release" and _finish_release(session, provider, number):
            report.released += 1
        break
    session.rollback()  # end the read that found nothing to do (SQLite holds its write lock until then)
    return report


def _charge_month(session: Session, number: _Number, now: datetime, grace: timedelta) -> str:
    """Charge the month beginning at number.paid_until: "charged", "past_due" (now), "unpaid" (still in its grace
    period), "release" (its grace period is over; marked releasing) or "lost" (another pass got there first)."""
    paid_until = next_paid_until(number.paid_until, number.date_created)
    moved = session.execute(update(PhoneNumber)
                            .where(PhoneNumber.id == number.id, PhoneNumber.status == "active",
                                   PhoneNumber.billing_status == number.billing_status,
                                   PhoneNumber.paid_until == number.paid_until)
                            .values(paid_until=paid_until, billing_status="paid", grace_until=None,
                                    date_updated=utcnow())
                            .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        session.rollback()
        return "lost"
    cost = Decimal(number.monthly_cost)
    reason = f"Phone number {number.number}: month {number.paid_until:%Y-%m-%d} to {paid_until:%Y-%m-%d}"
    if cost <= 0 or wallet.debit(session, number.organization_id, cost, reason, reference=number.reference):
        if number.billing_status == "past_due":
            inbox.close_billing_items(session, number.organization_id, number.id)
        session.commit()
        log.info("charged $%s for %s (%s), paid until %s", wallet.money(cost), number.number, number.id,
                 f"{paid_until:%Y-%m-%d}")
        return "charged"

    # The wallet can't pay. The row is still locked by the UPDATE above: put paid_until back and apply the policy.
    due = f"${wallet.money(cost)} due {number.paid_until:%Y-%m-%d}"
    if number.billing_status == "paid":
        grace_until = now + grace
        _unpaid(session, number, "past_due", grace_until)
        wallet.note(session, number.organization_id,
                    f"Phone number {number.number}: {due} not paid, the balance is too low; it is released on "
                    f"{grace_until:%Y-%m-%d} unless paid by then", reference=number.reference + ":past_due")
        inbox.add_billing_items(session, number.organization_id, number.id, _past_due_text(number, cost, grace_until))
        session.commit()
        log.warning("%s (%s) is past due: %s not paid; released on %s unless paid", number.number, number.id, due,
                    f"{grace_until:%Y-%m-%d}")
        return "past_due"
    if number.grace_until is not None and number.grace_until <= now:
        _unpaid(session, number, "releasing", number.grace_until)
        wallet.note(session, number.organization_id,
                    f"Phone number {number.number}: released, {due} was not paid by {number.grace_until:%Y-%m-%d}",
                    reference=number.reference + ":released")
        session.commit()
        log.warning("releasing %s (%s): %s was not paid by the end of its grace period", number.number, number.id,
                    due)
        return "release"
    session.rollback()
    return "unpaid"


def _past_due_text(number: _Number, cost: Decimal, grace_until: datetime) -> str:
    """What the admins' Inbox item says of a number that just went past due."""
    return (f"Phone number {format_phone(number.number)} is past due: ${wallet.money(cost)} for the month from "
            f"{number.paid_until:%Y-%m-%d} could not be paid, the wallet balance is too low. Add credit to keep it: it "
            f"is released on {grace_until:%Y-%m-%d} unless paid by then.")


def _unpaid(session: Session, number: _Number, billing_status: str, grace_until: datetime) -> None:
    session.execute(update(PhoneNumber).where(PhoneNumber.id == number.id)
                    .values(paid_until=number.paid_until, billing_status=billing_status, grace_until=grace_until,
                            date_updated=utcnow())
                    .execution_options(synchronize_session=False))


def _finish_release(session: Session, provider: Provider, number: _Number) -> bool:
    """Give a `releasing` number back to the carrier (no transaction open meanwhile) and mark it inactive; False when
    the carrier could not (it stays releasing, and a later pass tries again) or it was released already."""
    session.rollback()
    if number.provider_sid:
        try:
            release_at_carrier(provider, number.provider_sid)
        except ServiceError as exc:
            log.error("could not release %s (%s) at the carrier: %s; will try again", number.number, number.id,
                      exc.message)
            return False
    ctx = Ctx(organization_id=number.organization_id, user_id=None, channel="job")
    released = mark_released(session, ctx, number.id, number.number)
    session.commit()
    if released:
        log.warning("released %s (%s)", number.number, number.id)
    return released
