"""The wallet over real HTTP: a new workspace starts at zero, admins add credit with a ledger row, amounts are
checked, and a debit is atomic (it never spends the same dollars twice, even under concurrency)."""

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from api.app import create_app
from api.settings import ApiSettings
from db.models import Organization, WalletEntry
from db.session import transaction
from tests.api.server import both_databases, running_server
from tests.api.test_cli import CODY
from tests.live import http_client, live_cody
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
    with http_client(base_url=live_server, auth=(_member_key(factory, workspace, "bo@acme.test"), ""),
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
    with http_client(base_url=live_server, auth=(key, ""), timeout=30) as client:
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


def test_with_twilio_credit_comes_with_a_payment_not_from_an_admin(db_url, factory, workspace):
    """With Twilio the wallet pays for real numbers: an admin can't add credit with no payment behind it, unless the
    deployment says its workspaces may (WALLET_SELF_CREDIT). The sandbox line always lets them (the demo)."""
    twilio = {"twilio_account_sid": "AC" + "3" * 32, "twilio_auth_token": "tok-" + "3" * 28}
    with live_cody(db_url, factory, **twilio) as live, \
            http_client(base_url=live.base_url, auth=(workspace.api_key, ""), timeout=30) as api:
        refused = api.post(CREDIT, json={"amount": 10000})
        assert refused.status_code == 403, refused.text
        assert refused.json() == {"error": "Credit is added with a payment, by whoever runs this Cody (`cody admin "
                                           "credit`); this server takes no credit without one (WALLET_SELF_CREDIT)."}
        assert api.get(WALLET).json()["balance"] == "0.00"
    with live_cody(db_url, factory, wallet_self_credit=True, **twilio) as live, \
            http_client(base_url=live.base_url, auth=(workspace.api_key, ""), timeout=30) as api:
        assert api.post(CREDIT, json={"amount": 10}).json()["balance"] == "10.00"


def test_the_operator_adds_a_payment_with_cody_admin_credit(tmp_path):
    db = tmp_path / "cli.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}"}
    made = subprocess.run([CODY, "admin", "create-org", "--name", "Harbor", "--email", "h@harbor.test", "--json"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True)
    org = json.loads(made.stdout)
    paid = subprocess.run([CODY, "admin", "credit", "--org", org["organization_id"], "--amount", "25.50",
                           "--reference", "inv_1042"], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)
    assert paid.returncode == 0, paid.stderr
    assert f"Added $25.50 to {org['organization_id']}: balance $25.50." in paid.stderr
    bad = subprocess.run([CODY, "admin", "credit", "--org", org["organization_id"], "--amount", "-5",
                          "--reference", "x"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         check=False)
    assert bad.returncode == 2 and "The amount must be more than $0.00." in bad.stderr
    with http_client(timeout=30) as client, running_server(create_app(ApiSettings(database_url=env["DATABASE_URL"]))) \
            as base_url:
        ledger = client.get(f"{base_url}{WALLET}", auth=(org["api_key"], "")).json()
    assert ledger["balance"] == "25.50"
    assert [(e["amount"], e["reason"], e["reference"]) for e in ledger["ledger"]] == [("25.50", "Payment", "inv_1042")]
