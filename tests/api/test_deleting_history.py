"""Deleting a lead or a contact that holds conversation history is an admin's, as deleting one text of it is.

History is every call, and every text that went out or came in (sent, delivered, failed, received); drafts and texts
still waiting to go out are not. A member's DELETE of a lead or contact with history is a 403 that says how much
history it holds, and changes nothing; a member may still delete one without history. Over real HTTP with an
admin's and a member's own API keys, on SQLite and PostgreSQL.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from db.models import Activity, Contact, Lead, Thread
from tests.api.team import LINE, SARAH, Team
from tests.live import ok

SMS = "/api/v1/activity/sms/"


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


def _sarahs_lead(team: Team) -> str:
    return ok(team.ana.api.get(f"/api/v1/contact/{team.sarah_id}/"))["lead_id"]


def _stored(factory, lead_id: str, contact_id: str) -> tuple:
    """What the database holds of a lead and its contact: (lead?, contact?, its activities, its threads)."""
    with factory() as session:
        return (session.get(Lead, lead_id) is not None, session.get(Contact, contact_id) is not None,
                session.scalar(select(func.count()).select_from(Activity).where(Activity.lead_id == lead_id)),
                session.scalar(select(func.count()).select_from(Thread).where(Thread.contact_id == contact_id)))


def _sarah_texts_in(team: Team) -> None:
    sid = "SM" + "c" * 32
    pairs = [("MessageSid", sid), ("SmsSid", sid), ("AccountSid", "ACsandbox"), ("From", SARAH), ("To", LINE),
             ("Body", "Is 7 still good?"), ("NumMedia", "0"), ("NumSegments", "1")]
    assert team.live.post_twilio("/api/webhooks/twilio/sms", pairs).status_code == 200


def _sarah_calls_and_hangs_up(team: Team) -> None:
    assert team.ana.api.post("/api/sandbox/call", json={"contact_id": team.sarah_id, "hangs_up": True}).is_success
    team.live.runtime.provider.drain(timeout=20)
    deadline = time.monotonic() + 10
    while not team.ana.api.get("/api/v1/activity/call/").json()["data"]:
        assert time.monotonic() < deadline, "the simulated call was never logged"
        time.sleep(0.05)


def test_a_member_cannot_delete_a_lead_or_contact_with_texts_and_calls(team: Team, factory) -> None:
    ana, bob = team.ana.api, team.bob.api
    lead_id = _sarahs_lead(team)
    sent = ok(ana.post(SMS, json={"contact_id": team.sarah_id, "status": "outbox", "text": "See you at 7"}))
    team.live.runtime.provider.drain()
    _sarah_texts_in(team)
    _sarah_calls_and_hangs_up(team)
    before = _stored(factory, lead_id, team.sarah_id)
    assert before == (True, True, 3, 1)

    refusal = {"error": "Sarah Lee has 3 texts and calls; only an admin can delete its history."}
    for path in (f"/api/v1/lead/{lead_id}/", f"/api/v1/contact/{team.sarah_id}/"):
        response = bob.delete(path)
        assert (response.status_code, response.json()) == (403, refusal)
    assert _stored(factory, lead_id, team.sarah_id) == before
    assert ok(bob.get(f"{SMS}{sent['id']}/"))["status"] in ("sent", "delivered")

    # The admin deletes the contact: its texts and calls stay on the lead, which is still the admin's to delete.
    assert ok(ana.delete(f"/api/v1/contact/{team.sarah_id}/")) == {}
    assert _stored(factory, lead_id, team.sarah_id) == (True, False, 3, 0)
    response = bob.delete(f"/api/v1/lead/{lead_id}/")
    assert (response.status_code, response.json()) == (403, refusal)
    assert ok(ana.delete(f"/api/v1/lead/{lead_id}/")) == {}
    assert _stored(factory, lead_id, team.sarah_id) == (False, False, 0, 0)
    assert bob.get(f"{SMS}{sent['id']}/").status_code == 404


def test_one_received_text_is_history_too(team: Team, factory) -> None:
    ana, bob = team.ana.api, team.bob.api
    lead = ok(ana.post("/api/v1/lead/", json={"name": "Acme Corp", "contacts": [
        {"name": "John Park", "phones": [{"phone": "(212) 555-0123", "type": "mobile"}]}]}))
    john = lead["contacts"][0]["id"]
    ok(ana.post(SMS, json={"contact_id": john, "status": "inbox", "text": "Call me back", "local_phone": LINE}))

    response = bob.delete(f"/api/v1/lead/{lead['id']}/")
    assert (response.status_code, response.json()) == (
        403, {"error": "Acme Corp has 1 text or call; only an admin can delete its history."})
    response = bob.delete(f"/api/v1/contact/{john}/")
    assert (response.status_code, response.json()) == (
        403, {"error": "John Park has 1 text or call; only an admin can delete its history."})
    assert _stored(factory, lead["id"], john) == (True, True, 1, 1)


def test_a_member_may_delete_a_lead_or_contact_without_history(team: Team, factory) -> None:
    """Drafts and texts still waiting to go out are no history: the member deletes the contact (its waiting texts
    go back to draft, on the lead), then the lead with them."""
    bob = team.bob.api
    lead = ok(bob.post("/api/v1/lead/", json={"name": "The Smiths", "contacts": [
        {"name": "Mary Smith", "phones": [{"phone": "(415) 555-0143", "type": "mobile"}]}]}))
    mary = lead["contacts"][0]["id"]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=17, minute=0, second=0, microsecond=0)
    draft = ok(bob.post(SMS, json={"contact_id": mary, "status": "draft", "text": "Draft for Mary"}))
    scheduled = ok(bob.post(SMS, json={"contact_id": mary, "status": "scheduled", "text": "Reminder",
                                        "date_scheduled": tomorrow.isoformat()}))

    assert ok(bob.delete(f"/api/v1/contact/{mary}/")) == {}
    held = ok(bob.get(f"{SMS}{scheduled['id']}/"))
    assert (held["status"], held["contact_id"], held["lead_id"]) == ("draft", None, lead["id"])
    assert ok(bob.delete(f"/api/v1/lead/{lead['id']}/")) == {}
    assert _stored(factory, lead["id"], mary) == (False, False, 0, 0)
    for sms in (draft, scheduled):
        assert bob.get(f"{SMS}{sms['id']}/").status_code == 404
