"""Who may change whose texts and threads, over real HTTP with an admin's and two members' own API keys.

Every member reads every text and thread. Changes follow the text's sender (its `user_id`):
- only the sender edits or sends their draft, an admin included: sent by anyone else it would go out under the
  sender's name, with words they didn't write;
- the sender or an admin cancels a scheduled or outbox text, and deletes one that reached no one (not yet sent, or
  failed) or that the sender logged (POST with status "sent": sent elsewhere, recorded here);
- deleting a text Cody sent or delivered, or one received, is deleting the conversation's history: an admin's;
- a text with no sender (received on a line nobody owns) is an admin's to change;
- a thread someone holds is theirs: only an admin gives it to someone else or to nobody.
A refusal is a 403 naming what is not allowed, and changes nothing.
"""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from db.models import Activity
from tests.api.team import LINE, SARAH, Team

SMS = "/api/v1/activity/sms/"
INBOUND = "/api/webhooks/twilio/sms"


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


def _text(api: httpx.Client, team: Team, status: str, text: str, **extra) -> dict:
    response = api.post(SMS, json={"contact_id": team.sarah_id, "status": status, "text": text, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def _tomorrow() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).replace(hour=17, minute=0, second=0, microsecond=0).isoformat()


def _row(factory, activity_id: str) -> tuple | None:
    """What the database holds of a text: (status, text, user_id, updated_by), or None once it is gone."""
    with factory() as session:
        row = session.scalar(select(Activity).where(Activity.id == activity_id))
        return (row.status, row.text, row.user_id, row.updated_by) if row is not None else None


def _refused(response: httpx.Response, message: str) -> None:
    assert response.status_code == 403, response.text
    assert response.json() == {"error": message}


def _sarah_texts(team: Team, body: str, sid: str) -> None:
    pairs = [("MessageSid", sid), ("SmsSid", sid), ("AccountSid", "ACsandbox"), ("From", SARAH), ("To", LINE),
             ("Body", body), ("NumMedia", "0"), ("NumSegments", "1")]
    assert team.live.post_twilio(INBOUND, pairs).status_code == 200


def _thread(team: Team) -> dict:
    return team.ana.api.get("/api/v1/thread/", params={"contact_id": team.sarah_id}).json()["data"][0]


# -- texts ----------------------------------------------------------------------------------------------------------


def test_a_member_cannot_cancel_edit_send_or_delete_someone_elses_texts(team, factory) -> None:
    ana, bob = team.ana.api, team.bob.api
    scheduled = _text(ana, team, "scheduled", "Your showing is confirmed", date_scheduled=_tomorrow())
    draft = _text(ana, team, "draft", "Ana's draft, not ready")
    sent = _text(ana, team, "outbox", "Ana's sent text")
    team.live.runtime.provider.drain()
    carrier_sends = len(team.live.runtime.provider.statuses)
    before = {sms["id"]: _row(factory, sms["id"]) for sms in (scheduled, draft, sent)}

    _refused(bob.put(f"{SMS}{scheduled['id']}/", json={"status": "draft"}),
             "You can't cancel Ana Diaz's text: only they or an admin can.")
    _refused(bob.put(f"{SMS}{draft['id']}/", json={"text": "Bob's words under Ana's name", "status": "outbox"}),
             "You can't edit or send Ana Diaz's text: only the person who wrote it can.")
    _refused(bob.put(f"{SMS}{draft['id']}/", json={"text": "Bob's words"}),
             "You can't edit or send Ana Diaz's text: only the person who wrote it can.")
    _refused(bob.put(f"{SMS}{draft['id']}/", json={"status": "outbox"}),
             "You can't edit or send Ana Diaz's text: only the person who wrote it can.")
    _refused(bob.delete(f"{SMS}{draft['id']}/"), "You can't delete Ana Diaz's text: only they or an admin can.")
    _refused(bob.delete(f"{SMS}{scheduled['id']}/"), "You can't delete Ana Diaz's text: only they or an admin can.")
    _refused(bob.delete(f"{SMS}{sent['id']}/"),
             "Only an admin can delete a delivered text: it is part of the conversation's history.")

    assert {sms_id: _row(factory, sms_id) for sms_id in before} == before
    assert len(team.live.runtime.provider.statuses) == carrier_sends  # nothing went to the carrier
    # Reading stays open to every member.
    assert [bob.get(f"{SMS}{sms_id}/").status_code for sms_id in before] == [200, 200, 200]
    # A PUT that only repeats what a sent text says (as Close's clients echo an object) changes nothing: no refusal.
    echo = bob.put(f"{SMS}{sent['id']}/", json={"text": "Ana's sent text"})
    assert echo.status_code == 200 and _row(factory, sent["id"]) == before[sent["id"]]


def test_the_sender_cancels_edits_sends_and_deletes_their_own_unsent_texts(team, factory) -> None:
    bob = team.bob.api
    scheduled = _text(bob, team, "scheduled", "Open house Sunday", date_scheduled=_tomorrow())
    cancelled = bob.put(f"{SMS}{scheduled['id']}/", json={"status": "draft"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "draft"
    sent = bob.put(f"{SMS}{scheduled['id']}/", json={"text": "Open house Saturday", "status": "outbox"})
    assert sent.status_code == 200, sent.text
    assert (sent.json()["status"], sent.json()["user_id"]) == ("sent", team.bob.user_id)
    draft = _text(bob, team, "draft", "Never mind")
    assert bob.delete(f"{SMS}{draft['id']}/").json() == {}
    waiting = _text(bob, team, "scheduled", "Reminder", date_scheduled=_tomorrow())
    assert bob.delete(f"{SMS}{waiting['id']}/").json() == {}
    assert (_row(factory, draft["id"]), _row(factory, waiting["id"])) == (None, None)


def test_an_admin_cancels_and_deletes_a_members_texts_but_never_writes_in_their_name(team, factory) -> None:
    ana, bob = team.ana.api, team.bob.api
    bob_id = team.bob.user_id
    scheduled = _text(bob, team, "scheduled", "Bob's reminder", date_scheduled=_tomorrow())
    draft = _text(bob, team, "draft", "Bob's draft")
    sent = _text(bob, team, "outbox", "Bob's text")
    team.live.runtime.provider.drain()

    # Cancelling with an edit in the same request is an edit: refused, and the text stays scheduled.
    _refused(ana.put(f"{SMS}{scheduled['id']}/", json={"status": "draft", "text": "Ana's words"}),
             "You can't edit or send Bob Ng's text: only the person who wrote it can.")
    assert _row(factory, scheduled["id"]) == ("scheduled", "Bob's reminder", bob_id, bob_id)
    _refused(ana.put(f"{SMS}{draft['id']}/", json={"status": "outbox"}),
             "You can't edit or send Bob Ng's text: only the person who wrote it can.")
    assert _row(factory, draft["id"]) == ("draft", "Bob's draft", bob_id, bob_id)

    cancelled = ana.put(f"{SMS}{scheduled['id']}/", json={"status": "draft"})
    assert cancelled.status_code == 200 and (cancelled.json()["status"], cancelled.json()["user_id"]) == \
        ("draft", bob_id)
    assert ana.delete(f"{SMS}{draft['id']}/").json() == {}
    assert ana.delete(f"{SMS}{sent['id']}/").json() == {}  # history, and an admin's to delete
    assert (_row(factory, draft["id"]), _row(factory, sent["id"])) == (None, None)
    assert bob.get(f"{SMS}{sent['id']}/").status_code == 404


def test_deleting_history_is_an_admins_even_for_its_sender(team, factory) -> None:
    ana, bob = team.ana.api, team.bob.api
    _sarah_texts(team, "Is the house still available?", "SM" + "a" * 32)
    received = bob.get(SMS, params={"direction": "inbound"}).json()["data"][0]
    assert received["user_id"] is None  # the line is shared and the thread was nobody's: no one's text
    sent = _text(bob, team, "outbox", "Yes it is!")
    logged_received = _text(bob, team, "inbox", "She called back from her office line")  # Bob's record, her words
    team.live.runtime.provider.drain()

    _refused(bob.delete(f"{SMS}{sent['id']}/"),
             "Only an admin can delete a delivered text: it is part of the conversation's history.")
    for inbound in (received, logged_received):
        _refused(bob.delete(f"{SMS}{inbound['id']}/"),
                 "Only an admin can delete a received text: it is part of the conversation's history.")
    _refused(bob.put(f"{SMS}{received['id']}/", json={"text": "Not what she said"}),
             "This text has no sender; only an admin can edit or send it.")
    assert [_row(factory, x["id"])[0] for x in (sent, received, logged_received)] == ["delivered", "inbox", "inbox"]
    assert _row(factory, received["id"])[1] == "Is the house still available?"

    for sms in (sent, received, logged_received):
        assert ana.delete(f"{SMS}{sms['id']}/").json() == {}
        assert _row(factory, sms["id"]) is None


def test_the_sender_deletes_their_own_failed_and_logged_texts(team, factory) -> None:
    """A failed text reached no one, and a logged one is the sender's own record of a text sent elsewhere: either is
    its sender's to delete, or an admin's; another member's refusal names whose it is and changes nothing."""
    ana, bob, carol = team.ana.api, team.bob.api, team.carol.api
    failed = _text(bob, team, "outbox", "Hi", contact_id=None, remote_phone="+15005550001")  # the carrier refuses it
    logged = _text(bob, team, "sent", "Sent from my own phone earlier")
    for_ana = _text(bob, team, "sent", "Logged, for the admin to remove")
    team.live.runtime.provider.drain()
    assert (failed["status"], logged["status"], for_ana["status"]) == ("error", "sent", "sent")
    before = {sms["id"]: _row(factory, sms["id"]) for sms in (failed, logged, for_ana)}

    for sms in (failed, logged, for_ana):
        _refused(carol.delete(f"{SMS}{sms['id']}/"), "You can't delete Bob Ng's text: only they or an admin can.")
    assert {sms_id: _row(factory, sms_id) for sms_id in before} == before

    for api, sms in ((bob, failed), (bob, logged), (ana, for_ana)):
        assert api.delete(f"{SMS}{sms['id']}/").json() == {}
        assert _row(factory, sms["id"]) is None
        assert carol.get(f"{SMS}{sms['id']}/").status_code == 404


def test_calls_have_no_route_to_change_or_delete_them(team, factory) -> None:
    ana, bob = team.ana.api, team.bob.api
    assert ana.post("/api/sandbox/call", json={"contact_id": team.sarah_id, "hangs_up": True}).status_code == 200
    team.live.runtime.provider.drain(timeout=20)
    calls = ana.get("/api/v1/activity/call/").json()["data"]
    assert len(calls) == 1
    url = f"/api/v1/activity/call/{calls[0]['id']}/"
    for api in (bob, ana):
        assert api.put(url, json={"status": "completed", "note": "edited"}).status_code == 405
        assert api.delete(url).status_code == 405
    assert bob.get(url).json() == ana.get(url).json() == calls[0]


# -- threads --------------------------------------------------------------------------------------------------------


def test_a_member_cannot_take_or_drop_a_thread_someone_else_holds(team) -> None:
    ana, bob = team.ana.api, team.bob.api
    _sarah_texts(team, "Hello?", "SM" + "b" * 32)
    thread = _thread(team)
    assert ana.post(f"/api/v1/thread/{thread['id']}/claim/").json()["assignee_id"] == team.ana.user_id

    held = "Ana Diaz has this thread; only an admin can reassign or unassign a thread someone else has."
    _refused(bob.post(f"/api/v1/thread/{thread['id']}/assign/", json={"user_id": team.bob.user_id}), held)
    _refused(bob.post(f"/api/v1/thread/{thread['id']}/assign/", json={"user_id": team.carol.user_id}), held)
    _refused(bob.post(f"/api/v1/thread/{thread['id']}/unassign/"), held)
    refused = bob.post(f"/api/v1/thread/{thread['id']}/claim/")
    assert refused.status_code == 400 and refused.json()["problems"][0]["code"] == "already_claimed"
    assert bob.get(f"/api/v1/thread/{thread['id']}/").json()["assignee_id"] == team.ana.user_id


def test_a_member_assigns_a_thread_nobody_holds_or_one_they_hold(team) -> None:
    bob, carol = team.bob.api, team.carol.api
    _sarah_texts(team, "Hello?", "SM" + "c" * 32)
    url = f"/api/v1/thread/{_thread(team)['id']}"
    given = bob.post(f"{url}/assign/", json={"user_id": team.carol.user_id})
    assert given.status_code == 200 and given.json()["assignee_name"] == "Carol Ruiz"
    back = carol.post(f"{url}/assign/", json={"user_id": team.bob.user_id})
    assert back.status_code == 200 and back.json()["assignee_id"] == team.bob.user_id
    dropped = bob.post(f"{url}/unassign/")
    assert dropped.status_code == 200 and dropped.json()["unclaimed"] is True


def test_an_admin_reassigns_or_unassigns_anyones_thread(team) -> None:
    ana, bob = team.ana.api, team.bob.api
    _sarah_texts(team, "Hello?", "SM" + "d" * 32)
    url = f"/api/v1/thread/{_thread(team)['id']}"
    assert bob.post(f"{url}/claim/").json()["assignee_id"] == team.bob.user_id
    assert ana.post(f"{url}/assign/", json={"user_id": team.carol.user_id}).json()["assignee_id"] == team.carol.user_id
    assert ana.post(f"{url}/unassign/").json()["unclaimed"] is True
    assert bob.get(f"{url}/").json()["assignee_id"] is None


def test_an_idempotency_key_another_member_used_is_refused_not_answered_with_their_text(team, factory) -> None:
    ana, bob = team.ana.api, team.bob.api
    key = {"Idempotency-Key": "showing-7pm"}
    body = {"contact_id": team.sarah_id, "status": "draft", "text": "See you at 7"}
    first = ana.post(SMS, json=body, headers=key)
    assert first.status_code == 200, first.text
    refused = bob.post(SMS, json=body, headers=key)
    assert refused.status_code == 422, refused.text
    assert refused.json() == {"error": "This Idempotency-Key was already used by another user of this workspace; use "
                                       "a new key."}
    assert ana.post(SMS, json=body, headers=key).json()["id"] == first.json()["id"]  # still Ana's answer
    mine = bob.post(SMS, json=body, headers={"Idempotency-Key": "bob-showing-7pm"})
    assert mine.status_code == 200 and mine.json()["user_id"] != first.json()["user_id"]
