"""A number whose renewal the wallet could not pay is in each admin's Inbox, once per time it goes past due, saying
which number, what is owed and when it is released; paid again, the item is marked done. Over real HTTP and the real
renewal pass, on SQLite and PostgreSQL."""

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from db.session import transaction
from tests.api.test_number_renewals import MINUTE, _at, _buy, _counts, _credit, _number, _renew
from tests.live import LiveCody, live_cody
from tools.numbers import next_paid_until
from tools.phones import format_phone
from tools.workspaces import ADMIN_PERMISSIONS, NewWorkspace, add_member, create_api_key, create_user

INBOX = "/api/v1/inbox/"


@pytest.fixture
def db_url(any_db_url) -> str:
    return any_db_url


@pytest.fixture
def cody(db_url: str, factory) -> Iterator[LiveCody]:
    with live_cody(db_url, factory) as live:
        yield live


@pytest.fixture
def people(cody: LiveCody, factory, workspace: NewWorkspace) -> Iterator[tuple[httpx.Client, ...]]:
    """(the first admin, a second admin, a plain member) of `workspace`, each a client with their own key."""
    keys = []
    with transaction(factory) as session:
        for email, role, permissions in (("ray@acme.test", "admin", ADMIN_PERMISSIONS), ("mo@acme.test", "member", ())):
            user = create_user(session, email, email.split("@")[0].title())
            session.flush()
            add_member(session, workspace.organization_id, user, role=role, permissions=permissions)
            keys.append(create_api_key(session, workspace.organization_id, user.id))
    with cody.client(workspace.api_key) as ana, cody.client(keys[0]) as ray, cody.client(keys[1]) as mo:
        yield ana, ray, mo


def _items(client: httpx.Client, **params: str) -> list[dict]:
    response = client.get(INBOX, params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _said(phone: dict, due, grace_until) -> str:
    return (f"Phone number {format_phone(phone['number'])} is past due: $1.15 for the month from {due:%Y-%m-%d} could "
            f"not be paid, the wallet balance is too low. Add credit to keep it: it is released on "
            f"{grace_until:%Y-%m-%d} unless paid by then.")


def test_a_past_due_number_is_in_each_admins_inbox_once_and_done_once_paid(cody, people):
    ana, ray, mo = people
    _credit(ana, "1.15")
    phone = _buy(ana)
    due = _at(phone["paid_until"])
    now = due + MINUTE
    assert _counts(_renew(cody, now)) == (0, 1, 0, 0)
    grace_until = _at(_number(ana, phone["id"])["grace_until"])
    assert grace_until == now + timedelta(days=7)

    # Every pass tries again; the admins still have one item each, the member none.
    for later in (now + timedelta(minutes=5), now + timedelta(days=1)):
        assert _counts(_renew(cody, later)) == (0, 0, 0, 0)
    for admin in (ana, ray):
        items = _items(admin)
        assert [(i["type"], i["done"], i["phone_number_id"], i["activity_id"], i["thread_id"], i["text"])
                for i in items] == [("billing", False, phone["id"], None, None, _said(phone, due, grace_until))]
        assert _items(admin, type="billing") == items
    assert _items(mo) == []

    # Paid again: the item is done, and stays in the Inbox as such.
    _credit(ana, "1.15")
    assert _counts(_renew(cody, now + timedelta(days=2))) == (1, 0, 0, 0)
    for admin in (ana, ray):
        assert _items(admin, done="false") == []
        assert [(i["type"], i["done"]) for i in _items(admin)] == [("billing", True)]

    # The next month the wallet can't pay is a new time past due: a new item.
    next_due = next_paid_until(due, _at(phone["date_created"]))
    assert _counts(_renew(cody, next_due + MINUTE)) == (0, 1, 0, 0)
    for admin in (ana, ray):
        items = _items(admin)
        assert [(i["done"], i["text"]) for i in items] == [
            (False, _said(phone, next_due, next_due + MINUTE + timedelta(days=7))),
            (True, _said(phone, due, grace_until))]
    assert _items(mo) == []


def test_an_admin_who_marked_the_item_done_gets_no_new_one_while_the_number_stays_past_due(cody, people):
    ana, ray, _mo = people
    _credit(ana, "1.15")
    phone = _buy(ana)
    now = _at(phone["paid_until"]) + MINUTE
    _renew(cody, now)
    item = _items(ana)[0]
    assert ana.post(f"{INBOX}{item['id']}/done/").json()["done"] is True
    assert ray.post(f"{INBOX}{item['id']}/done/").status_code == 404  # each admin's item is their own
    assert _counts(_renew(cody, now + timedelta(days=1))) == (0, 0, 0, 0)
    assert [i["done"] for i in _items(ana)] == [True]
    assert [i["done"] for i in _items(ray)] == [False]
