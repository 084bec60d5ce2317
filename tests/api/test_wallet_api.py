"""The wallet over real HTTP: a new workspace starts at zero, admins add credit with a ledger row, amounts are
checked, and a debit is atomic (it never spends the same dollars twice, even under concurrency)."""

import threading
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from db.models import Organization, WalletEntry
from db.session import transaction
from tests.api.server import both_databases
from tools import wallet
from tools.workspaces import NewWorkspace, add_member, create_api_key, create_user

WALLET = "/api/v1/wallet/"
CREDIT = "/api/v1/wallet/credit/"


def _member_key(factory, workspace: NewWorkspace, email: str, permissions=()) -> str:
    with transaction(factory) as session:
        user = create_user(session, email, "Bo", "Kim")
        session.flush()
        add_member(session, workspace.organization_id, user, permissions=permissions)
        return create_api_key(session, workspace.organization_id, user.id)


@pytest.fixture
def member_api(live_server: str, factory, workspace: NewWorkspace) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, auth=(_member_key(factory, workspace, "bo@acme.test"), ""),
                      timeout=30) as client:
        yield client


def test_a_new_workspace_starts_at_zero(api):
    response = api.get(WALLET)
    assert response.status_code == 200
    assert response.json() == {"balance": "0.00", "currency": "USD", "ledger": []}


@both_databases
def test_an_admin_adds_credit_with_a_ledger_row(api, workspace):
    response = api.post(CREDIT, json={"amount": 25})
    assert response.status_code == 200, response.text
    assert response.json()["balance"] == "25.00"
    response = api.post(CREDIT, json={"amount": "0.10", "reason": "Top-up"})
    body = response.json()
    assert body["balance"] == "25.10" and body["currency"] == "USD"
    latest, first = body["ledger"]
    assert (latest["amount"], latest["balance_after"], latest["reason"]) == ("0.10", "25.10", "Top-up")
    assert (first["amount"], first["balance_after"], first["reason"]) == ("25.00", "25.00", "Credit")
    assert latest["id"].startswith("wall_") and latest["date_created"] and latest["user_id"] == workspace.user_id
    assert api.get(WALLET).json() == body


def test_a_member_without_wallet_credit_is_refused(api, member_api):
    response = member_api.post(CREDIT, json={"amount": 10})
    assert response.status_code == 403
    assert response.json() == {"error": "You don't have permission to add wallet credit (wallet_credit)."}
    assert api.get(WALLET).json()["balance"] == "0.00"
    assert member_api.get(WALLET).json()["balance"] == "0.00"  # members may look


def test_a_member_with_wallet_credit_may_add_credit(live_server, factory, workspace):
    key = _member_key(factory, workspace, "cy@acme.test", permissions=["wallet_credit"])
    with httpx.Client(base_url=live_server, auth=(key, ""), timeout=30) as client:
        assert client.post(CREDIT, json={"amount": "5"}).json()["balance"] == "5.00"


@pytest.mark.parametrize("amount", [0, -5, "-0.01", 10000.01, "10001", "abc", None, True, "1.234", "NaN",
                                    "Infinity", [], {"usd": 1}, ""])
def test_a_bad_amount_is_a_field_error(api, amount):
    response = api.post(CREDIT, json={"amount": amount})
    assert response.status_code == 400, response.text
    assert "amount" in response.json()["field-errors"]
    assert api.get(WALLET).json() == {"balance": "0.00", "currency": "USD", "ledger": []}


def test_a_missing_amount_is_a_field_error(api):
    response = api.post(CREDIT, json={})
    assert response.status_code == 400 and "amount" in response.json()["field-errors"]


def test_the_largest_credit_is_accepted(api):
    assert api.post(CREDIT, json={"amount": 10000}).json()["balance"] == "10000.00"


def test_each_workspace_has_its_own_wallet(api, other_api):
    api.post(CREDIT, json={"amount": 7})
    assert other_api.get(WALLET).json() == {"balance": "0.00", "currency": "USD", "ledger": []}


def test_the_ledger_shows_the_latest_fifty(api):
    for _ in range(52):
        api.post(CREDIT, json={"amount": "1"})
    body = api.get(WALLET).json()
    assert body["balance"] == "52.00" and len(body["ledger"]) == 50
    assert body["ledger"][0]["balance_after"] == "52.00"


# -- debit, the function purchases use ------------------------------------------------------------------------


def _balance(factory, organization_id: str) -> Decimal:
    with factory() as session:
        return wallet.balance(session, organization_id)


@both_databases
def test_debit_takes_only_what_the_balance_covers(factory, workspace):
    org = workspace.organization_id
    with transaction(factory) as session:
        wallet.add_credit(session, org, Decimal("2.30"), "Credit")
    with transaction(factory) as session:
        assert wallet.debit(session, org, Decimal("1.15"), "first", "ref1") is True
    with transaction(factory) as session:
        assert wallet.debit(session, org, Decimal("1.15"), "second", "ref2") is True  # exactly what is left
    with transaction(factory) as session:
        assert wallet.debit(session, org, Decimal("0.01"), "third", "ref3") is False
    assert _balance(factory, org) == Decimal(0)
    with factory() as session:
        entries = session.scalars(select(WalletEntry).where(WalletEntry.organization_id == org)).all()
        assert sorted(e.amount for e in entries) == [Decimal("-1.15"), Decimal("-1.15"), Decimal("2.30")]
        assert {e.reference for e in entries if e.amount < 0} == {"ref1", "ref2"}


@both_databases
def test_concurrent_debits_never_overspend(factory, workspace):
    org = workspace.organization_id
    with transaction(factory) as session:
        wallet.add_credit(session, org, Decimal("10.00"), "Credit")
    results: list[bool] = []
    lock = threading.Lock()

    def spend() -> None:
        with transaction(factory) as session:
            ok = wallet.debit(session, org, Decimal("1.00"), "spend", None)
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=spend) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 10 and results.count(False) == 6
    assert _balance(factory, org) == Decimal(0)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(WalletEntry)
                              .where(WalletEntry.organization_id == org, WalletEntry.amount < 0)) == 10
        assert session.get(Organization, org).wallet_balance == Decimal(0)
