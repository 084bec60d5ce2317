"""Monthly renewal of bought numbers, over real HTTP and the real services: a number bought is paid until a month on;
a pass once that date has come charges the month once and moves the date on (however many passes run, at once or
later); a renewal the wallet can't pay makes the number past due, still working, until its grace period ends and it is
released at the carrier; a released number is never charged. No sleeping: the pass is given `now`, or paid_until is
moved through the database."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from db.migrate import downgrade, upgrade
from db.models import Activity, PhoneNumber, WalletEntry
from db.session import make_engine, make_sessionmaker, transaction
from tests.api.server import both_databases
from tests.live import LiveCody, http_client, live_cody
from tests.webhooks.test_inbound_sms import inbound_form
from tools.numbers import months_after, next_paid_until
from tools.renewals import releasing_timeout, run_renewals
from tools.telephony.base import ProviderError
from tools.workspaces import NewWorkspace, create_organization

NUMBERS = "/api/v1/phone_number/"
AVAILABLE = "/api/v1/phone_number/available/"
PURCHASE = "/api/v1/phone_number/purchase/"
WALLET = "/api/v1/wallet/"
SMS_WEBHOOK = "/api/webhooks/twilio/sms"
MINUTE = timedelta(minutes=1)
GRACE_PERIOD = timedelta(days=7)  # NUMBER_GRACE_DAYS's default


@pytest.fixture
def cody(db_url: str, factory) -> Iterator[LiveCody]:
    with live_cody(db_url, factory) as live:
        yield live


@pytest.fixture
def api(cody: LiveCody, workspace: NewWorkspace) -> Iterator[httpx.Client]:
    with http_client(base_url=cody.base_url, auth=(workspace.api_key, ""), timeout=30) as client:
        yield client


def _credit(api: httpx.Client, amount: str) -> None:
    response = api.post(WALLET + "credit/", json={"amount": amount})
    assert response.status_code == 200, response.text


def _buy(api: httpx.Client) -> dict:
    offer = api.get(AVAILABLE, params={"country": "US", "area_code": "212", "sms_enabled": "true"}).json()["data"][0]
    response = api.post(PURCHASE, json={"number": offer["number"]})
    assert response.status_code == 201, response.text
    assert response.json()["monthly_cost"] == "1.15"
    return response.json()


def _number(api: httpx.Client, phone_id: str) -> dict:
    response = api.get(NUMBERS + phone_id + "/")
    assert response.status_code == 200, response.text
    return response.json()


def _wallet(api: httpx.Client) -> dict:
    response = api.get(WALLET)
    assert response.status_code == 200, response.text
    return response.json()


def _at(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _renew(cody: LiveCody, now: datetime | None = None):
    return run_renewals(cody.runtime.factory, cody.runtime.provider, now=now, settings=cody.runtime.settings)


def _counts(report) -> tuple[int, int, int, int]:
    return report.charged, report.past_due, report.released, report.failed


def _charges(factory, reference: str) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(WalletEntry)
                              .where(WalletEntry.reference == reference, WalletEntry.amount < 0))


def _set(factory, phone_id: str, **values) -> None:
    with transaction(factory) as session:
        session.execute(update(PhoneNumber).where(PhoneNumber.id == phone_id).values(**values))


# -- paid until ------------------------------------------------------------------------------------------------


def test_a_month_on_keeps_the_day_the_number_was_bought():
    bought = datetime(2027, 1, 31, 15, 30, tzinfo=UTC)
    assert months_after(bought) == datetime(2027, 2, 28, 15, 30, tzinfo=UTC)
    assert next_paid_until(months_after(bought), bought) == datetime(2027, 3, 31, 15, 30, tzinfo=UTC)
    assert months_after(datetime(2027, 12, 15, tzinfo=UTC)) == datetime(2028, 1, 15, tzinfo=UTC)
    assert months_after(datetime(2028, 1, 30, tzinfo=UTC)) == datetime(2028, 2, 29, tzinfo=UTC)  # leap year
    assert months_after(bought, 13) == datetime(2028, 2, 29, 15, 30, tzinfo=UTC)


@both_databases
def test_a_number_bought_is_paid_until_a_month_on(api, factory):
    _credit(api, "5")
    phone = _buy(api)
    created = _at(phone["date_created"])
    assert _at(phone["paid_until"]) == months_after(created)
    assert (phone["billing_status"], phone["grace_until"]) == ("paid", None)
    assert _number(api, phone["id"]) == phone
    with factory() as session:
        row = session.get(PhoneNumber, phone["id"])
        assert (row.paid_until, row.billing_status, row.grace_until) == (months_after(created), "paid", None)


# -- charging ----------------------------------------------------------------------------------------------------


@both_databases
def test_a_pass_once_paid_until_has_come_charges_the_month_once_and_moves_it_on(cody, api, factory):
    _credit(api, "5")
    phone = _buy(api)
    due = _at(phone["paid_until"])
    assert _counts(_renew(cody)) == (0, 0, 0, 0)  # not due yet
    assert _wallet(api)["balance"] == "3.85"

    assert _counts(_renew(cody, due + MINUTE)) == (1, 0, 0, 0)
    renewed = _number(api, phone["id"])
    assert _at(renewed["paid_until"]) == next_paid_until(due, _at(phone["date_created"]))
    assert (renewed["billing_status"], renewed["status"], renewed["grace_until"]) == ("paid", "active", None)
    wallet = _wallet(api)
    assert wallet["balance"] == "2.70"
    charge = wallet["ledger"][0]
    assert (charge["amount"], charge["balance_after"]) == ("-1.15", "2.70")
    assert charge["reference"] == f"{phone['id']}:{due:%Y-%m-%d}"
    assert charge["reason"] == (f"Phone number {phone['number']}: month {due:%Y-%m-%d} to "
                                f"{_at(renewed['paid_until']):%Y-%m-%d}")

    # Again, at the same time or later in the month: nothing more.
    assert _counts(_renew(cody, due + MINUTE)) == (0, 0, 0, 0)
    assert _counts(_renew(cody, due + timedelta(days=20))) == (0, 0, 0, 0)
    assert _wallet(api) == wallet and _number(api, phone["id"]) == renewed

    # The month after is charged when it comes.
    assert _counts(_renew(cody, _at(renewed["paid_until"]))) == (1, 0, 0, 0)
    assert _wallet(api)["balance"] == "1.55"


@both_databases
def test_passes_at_once_charge_each_month_once(cody, api, factory):
    _credit(api, "10")
    phones = [_buy(api) for _ in range(3)]
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    for phone in phones:
        _set(factory, phone["id"], paid_until=an_hour_ago)
    reports = []
    barrier = threading.Barrier(6)

    def renew() -> None:
        barrier.wait()
        reports.append(_renew(cody))

    threads = [threading.Thread(target=renew) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.charged for r in reports) == 3 and not any(r.failed for r in reports)
    for phone in phones:
        assert _charges(factory, f"{phone['id']}:{an_hour_ago:%Y-%m-%d}") == 1
        assert _at(_number(api, phone["id"])["paid_until"]) > datetime.now(UTC)
    assert _wallet(api)["balance"] == "3.10"  # 10 - 3 first months - 3 renewals


def test_months_missed_while_no_worker_ran_are_charged_one_by_one(cody, api):
    _credit(api, "10")
    phone = _buy(api)
    due = _at(phone["paid_until"])
    assert _counts(_renew(cody, months_after(due, 2) + MINUTE)) == (3, 0, 0, 0)
    assert _at(_number(api, phone["id"])["paid_until"]) == months_after(due, 3)
    ledger = _wallet(api)["ledger"]
    assert [e["reference"] for e in ledger[:3]] == [f"{phone['id']}:{months_after(due, n):%Y-%m-%d}"
                                                    for n in (2, 1, 0)]
    assert _wallet(api)["balance"] == "5.40"  # 10 - 4 months


# -- a wallet that can't pay -----------------------------------------------------------------------------------


@both_databases
def test_a_renewal_the_wallet_cannot_pay_makes_the_number_past_due_and_it_keeps_working(cody, api, factory):
    _credit(api, "1.15")
    phone = _buy(api)
    due = _at(phone["paid_until"])
    now = due + MINUTE
    assert _counts(_renew(cody, now)) == (0, 1, 0, 0)

    past_due = _number(api, phone["id"])
    assert (past_due["status"], past_due["billing_status"]) == ("active", "past_due")
    assert _at(past_due["paid_until"]) == due and _at(past_due["grace_until"]) == now + GRACE_PERIOD
    assert [p["id"] for p in api.get(NUMBERS, params={"billing_status": "past_due"}).json()["data"]] == [phone["id"]]
    assert [p["id"] for p in api.get(NUMBERS).json()["data"]] == [phone["id"]]
    wallet = _wallet(api)
    assert wallet["balance"] == "0.00"  # never below zero
    note = wallet["ledger"][0]
    assert (note["amount"], note["balance_after"]) == ("0.00", "0.00")
    assert note["reference"] == f"{phone['id']}:{due:%Y-%m-%d}:past_due"
    assert note["reason"] == (f"Phone number {phone['number']}: $1.15 due {due:%Y-%m-%d} not paid, the balance is "
                              f"too low; it is released on {now + GRACE_PERIOD:%Y-%m-%d} unless paid by then")
    # Texts to it are still routed.
    inbound = cody.post_twilio(SMS_WEBHOOK, inbound_form("Still there?", "SM" + "c" * 32, to=phone["number"]))
    assert inbound.status_code == 200
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Activity)
                              .where(Activity.local_phone == phone["number"])) == 1

    # Each pass tries again, without a new ledger row while it can't pay.
    assert _counts(_renew(cody, now + timedelta(days=1))) == (0, 0, 0, 0)
    assert _wallet(api) == wallet and _number(api, phone["id"]) == past_due

    # Paid once the wallet can: the month owed, from the day it was due.
    _credit(api, "5")
    assert _counts(_renew(cody, now + timedelta(days=2))) == (1, 0, 0, 0)
    paid = _number(api, phone["id"])
    assert (paid["billing_status"], paid["grace_until"], paid["status"]) == ("paid", None, "active")
    assert _at(paid["paid_until"]) == next_paid_until(due, _at(phone["date_created"]))
    wallet = _wallet(api)
    assert wallet["balance"] == "3.85"
    latest = wallet["ledger"][0]
    assert (latest["amount"], latest["reference"]) == ("-1.15", f"{phone['id']}:{due:%Y-%m-%d}")
    assert _charges(factory, f"{phone['id']}:{due:%Y-%m-%d}") == 1
    assert api.get(NUMBERS, params={"billing_status": "past_due"}).json()["data"] == []


@both_databases
def test_a_number_still_unpaid_when_its_grace_period_ends_is_released_at_the_carrier(cody, api, factory):
    _credit(api, "1.15")
    phone = _buy(api)
    due = _at(phone["paid_until"])
    with factory() as session:
        sid = session.get(PhoneNumber, phone["id"]).provider_sid
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    waiting = api.post("/api/v1/activity/sms/", json={
        "status": "scheduled", "date_scheduled": tomorrow, "remote_phone": "+14155550132",
        "local_phone": phone["number"], "text": "See you at the showing"})
    assert waiting.status_code == 200, waiting.text
    assert _counts(_renew(cody, due + MINUTE)) == (0, 1, 0, 0)
    grace_until = _at(_number(api, phone["id"])["grace_until"])

    assert _counts(_renew(cody, grace_until - MINUTE)) == (0, 0, 0, 0)  # the last minute of grace
    assert sid in cody.runtime.provider.numbers
    assert _counts(_renew(cody, grace_until)) == (0, 0, 1, 0)
    released = _number(api, phone["id"])
    assert (released["status"], released["billing_status"]) == ("inactive", "past_due")
    assert released["date_released"] and _at(released["paid_until"]) == due
    assert sid not in cody.runtime.provider.numbers
    assert api.get(NUMBERS).json()["data"] == []
    held = api.get(f"/api/v1/activity/sms/{waiting.json()['id']}/").json()
    assert (held["status"], held["date_scheduled"]) == ("draft", None)
    wallet = _wallet(api)
    assert wallet["balance"] == "0.00"
    assert [(e["amount"], e["reference"]) for e in wallet["ledger"][:2]] == [
        ("0.00", f"{phone['id']}:{due:%Y-%m-%d}:released"), ("0.00", f"{phone['id']}:{due:%Y-%m-%d}:past_due")]
    assert wallet["ledger"][0]["reason"] == (f"Phone number {phone['number']}: released, $1.15 due {due:%Y-%m-%d} "
                                             f"was not paid by {grace_until:%Y-%m-%d}")

    # Released, it is never charged, however much the wallet holds later.
    _credit(api, "5")
    assert _counts(_renew(cody, grace_until + timedelta(days=90))) == (0, 0, 0, 0)
    assert _wallet(api)["balance"] == "5.00" and _charges(factory, f"{phone['id']}:{due:%Y-%m-%d}") == 0


@both_databases
@pytest.mark.parametrize("grace_days", [2, 0])
def test_the_grace_period_is_the_one_set(db_url, factory, workspace, grace_days):
    """NUMBER_GRACE_DAYS decides how long a past-due number keeps working; 0 releases it at the next pass."""
    grace = timedelta(days=grace_days)
    with live_cody(db_url, factory, number_grace_days=grace_days) as cody, \
            http_client(base_url=cody.base_url, auth=(workspace.api_key, ""), timeout=30) as api:
        _credit(api, "1.15")
        phone = _buy(api)
        due = _at(phone["paid_until"])
        now = due + MINUTE
        assert _counts(_renew(cody, now)) == (0, 1, 0, 0)
        past_due = _number(api, phone["id"])
        assert (past_due["billing_status"], _at(past_due["grace_until"])) == ("past_due", now + grace)
        assert _wallet(api)["ledger"][0]["reason"].endswith(
            f"it is released on {now + grace:%Y-%m-%d} unless paid by then")
        if grace_days:
            assert _counts(_renew(cody, now + grace - MINUTE)) == (0, 0, 0, 0)
            assert _number(api, phone["id"])["status"] == "active"
        assert _counts(_renew(cody, now + grace)) == (0, 0, 1, 0)
        assert _number(api, phone["id"])["status"] == "inactive"


def test_a_release_at_the_end_of_grace_the_carrier_fails_is_never_charged_and_is_finished_later(cody, api, factory,
                                                                                               monkeypatch):
    _credit(api, "1.15")
    phone = _buy(api)
    _renew(cody, _at(phone["paid_until"]) + MINUTE)
    grace_until = _at(_number(api, phone["id"])["grace_until"])

    def unreachable(sid):
        raise ProviderError("Service unavailable", status=503, retryable=True)

    release = cody.runtime.provider.release_number
    monkeypatch.setattr(cody.runtime.provider, "release_number", unreachable)
    assert _counts(_renew(cody, grace_until)) == (0, 0, 0, 0)
    releasing = _number(api, phone["id"])
    assert (releasing["status"], releasing["billing_status"]) == ("active", "releasing")

    _credit(api, "5")  # too late: it is being released, and never charged again
    assert _counts(_renew(cody, grace_until + MINUTE)) == (0, 0, 0, 0)
    monkeypatch.setattr(cody.runtime.provider, "release_number", release)
    assert _counts(_renew(cody, grace_until + MINUTE)) == (0, 0, 0, 0)  # another process may be releasing it
    left = datetime.now(UTC) - releasing_timeout(cody.runtime.settings) - MINUTE
    _set(factory, phone["id"], date_updated=left)  # left so for a while
    assert _counts(_renew(cody, grace_until + MINUTE)) == (0, 0, 1, 0)
    assert _number(api, phone["id"])["status"] == "inactive"
    assert _wallet(api)["balance"] == "5.00"


# -- released numbers ------------------------------------------------------------------------------------------


@both_databases
def test_a_released_number_is_not_charged(cody, api, factory):
    _credit(api, "5")
    phone = _buy(api)
    assert api.delete(NUMBERS + phone["id"] + "/").status_code == 200
    released = _number(api, phone["id"])
    assert (released["status"], released["billing_status"]) == ("inactive", "paid")
    _set(factory, phone["id"], paid_until=datetime.now(UTC) - timedelta(days=1))
    assert _counts(_renew(cody)) == (0, 0, 0, 0)
    assert _counts(_renew(cody, datetime.now(UTC) + timedelta(days=400))) == (0, 0, 0, 0)
    assert _wallet(api)["balance"] == "3.85"


def test_a_release_the_carrier_refuses_leaves_the_number_billed_as_before(cody, api, monkeypatch):
    _credit(api, "5")
    phone = _buy(api)

    def unreachable(sid):
        raise ProviderError("Service unavailable", status=503, retryable=True)

    monkeypatch.setattr(cody.runtime.provider, "release_number", unreachable)
    assert api.delete(NUMBERS + phone["id"] + "/").status_code == 503
    after = _number(api, phone["id"])
    assert after | {"date_updated": None} == phone | {"date_updated": None}  # active, paid, paid_until as it was
    assert _counts(_renew(cody, _at(phone["paid_until"]))) == (1, 0, 0, 0)


def test_the_billing_status_filter_is_checked(api):
    response = api.get(NUMBERS, params={"billing_status": "overdue"})
    assert response.status_code == 400 and "billing_status" in response.json()["field-errors"]
    assert api.get(NUMBERS, params={"billing_status": "paid"}).json() == {"data": [], "has_more": False}


# -- the worker ------------------------------------------------------------------------------------------------


def test_the_dispatcher_renews_numbers_as_it_runs(cody, api, factory):
    _credit(api, "5")
    phone = _buy(api)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    _set(factory, phone["id"], paid_until=an_hour_ago)
    reference = f"{phone['id']}:{an_hour_ago:%Y-%m-%d}"
    dispatcher = cody.runtime.dispatcher
    assert dispatcher.renew_every is not None
    dispatcher.start()
    try:
        done = threading.Event()
        for _ in range(200):  # its first round runs a pass; wait for it, at most 10 s
            if _charges(factory, reference):
                break
            done.wait(0.05)
    finally:
        dispatcher.stop()
    assert _charges(factory, reference) == 1
    assert _at(_number(api, phone["id"])["paid_until"]) > datetime.now(UTC)


# -- the migration ---------------------------------------------------------------------------------------------


def test_the_migration_fills_paid_until_for_numbers_bought_before_it(tmp_path):
    """Bought numbers are paid until their next monthly anniversary after the migration (the months before it are not
    billed after the fact); numbers without a carrier sid, or released, are not billed."""
    url = f"sqlite:///{tmp_path / 'billing.db'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    created = datetime.now(UTC) - timedelta(days=75)
    with transaction(factory) as session:
        org = create_organization(session, "Acme Realty", "ann@acme.test", "Ann", "Acme").organization_id
        for phone_id, number, sid, status in (("phon_bought", "+12125550101", "PN1", "active"),
                                              ("phon_seeded", "+12125550102", None, "active"),
                                              ("phon_gone", "+12125550103", "PN2", "inactive")):
            session.add(PhoneNumber(id=phone_id, organization_id=org, number=number, country="US", provider_sid=sid,
                                    status=status, date_created=created))
    engine.dispose()
    downgrade(url, "0006")
    before = datetime.now(UTC)
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        rows = {r.id: r for r in session.scalars(select(PhoneNumber))}
    engine.dispose()
    months = next(n for n in range(1, 5) if months_after(created, n) > before)
    assert months == 3
    assert (rows["phon_bought"].paid_until, rows["phon_bought"].billing_status) == (months_after(created, 3), "paid")
    for phone_id in ("phon_seeded", "phon_gone"):
        assert (rows[phone_id].paid_until, rows[phone_id].billing_status, rows[phone_id].grace_until) == (None,) * 3
