"""The Inbox and threads over HTTP: what each person sees, marking done, claiming and assigning."""

import pytest
from sqlalchemy import select

from db.models import Activity, Contact
from db.session import transaction
from tests.api.server import both_databases
from tests.api.team import LINE, Team, live_team
from tests.live import http_client, live_cody
from tests.webhooks.test_inbound_sms import SMS, inbound_form
from tools.context import Ctx
from tools.demo import seed_demo
from tools.messaging import SendRequest
from tools.workspaces import add_member, create_api_key, create_user


@pytest.fixture
def db_url(request: pytest.FixtureRequest) -> str:
    """SQLite, or PostgreSQL for a test marked `both_databases`."""
    return request.getfixturevalue({"sqlite": "sqlite_url", "postgres": "pg_url"}[getattr(request, "param", "sqlite")])


@pytest.fixture
def setup(db_url, factory):
    with transaction(factory) as session:
        demo = seed_demo(session)
        mate = create_user(session, "lee@bayview.test", "Lee", "Ng")
        session.flush()
        add_member(session, demo.organization_id, mate)
        mate_key = create_api_key(session, demo.organization_id, mate.id)
    with live_cody(db_url, factory) as cody:
        with http_client(base_url=cody.base_url, auth=(demo.api_key, "")) as me, \
             http_client(base_url=cody.base_url, auth=(mate_key, "")) as mate_api:
            yield cody, demo, me, mate_api, mate.id


def test_inbox_lists_my_items_newest_first_and_marks_done(setup):
    cody, _demo, me, mate, _ = setup
    cody.post_twilio(SMS, inbound_form("first", "SM" + "1" * 32))
    cody.post_twilio(SMS, inbound_form("second", "SM" + "2" * 32, from_="+12125550123"))
    items = me.get("/api/v1/inbox/").json()["data"]
    assert [i["type"] for i in items] == ["incoming_sms", "incoming_sms"]
    assert items[0]["date_created"] >= items[1]["date_created"]
    done = me.post(f"/api/v1/inbox/{items[0]['id']}/done/")
    assert done.status_code == 200 and done.json()["done"] is True
    assert [i["id"] for i in me.get("/api/v1/inbox/", params={"done": "false"}).json()["data"]] == [items[1]["id"]]
    # The teammate's own items are untouched, and mine are not theirs to close.
    assert len(mate.get("/api/v1/inbox/", params={"done": "false"}).json()["data"]) == 2
    assert mate.post(f"/api/v1/inbox/{items[1]['id']}/done/").status_code == 404
    assert me.get("/api/v1/inbox/", params={"type": "bogus"}).status_code == 400


def test_claiming_a_thread_shows_teammates_who_has_it(setup):
    cody, demo, me, mate, mate_id = setup
    cody.post_twilio(SMS, inbound_form("anyone?", "SM" + "3" * 32))
    unclaimed = me.get("/api/v1/thread/", params={"unclaimed": "true"}).json()["data"]
    assert len(unclaimed) == 1 and unclaimed[0]["assignee_id"] is None
    thread_id = unclaimed[0]["id"]
    claimed = mate.post(f"/api/v1/thread/{thread_id}/claim/")
    assert claimed.json()["assignee_name"] == "Lee Ng"
    seen_by_me = me.get(f"/api/v1/thread/{thread_id}/").json()
    assert (seen_by_me["assignee_id"], seen_by_me["unclaimed"]) == (mate_id, False)
    refused = me.post(f"/api/v1/thread/{thread_id}/claim/")
    assert refused.status_code == 400 and "already has" in refused.json()["field-errors"]["assignee_id"]
    assert me.post(f"/api/v1/thread/{thread_id}/assign/", json={"user_id": demo.user_id}).json()["assignee_id"] == demo.user_id
    assert me.post(f"/api/v1/thread/{thread_id}/unassign/").json()["unclaimed"] is True
    assert me.post(f"/api/v1/thread/{thread_id}/assign/", json={"user_id": "user_nobody"}).status_code == 400
    assert [t["id"] for t in me.get("/api/v1/thread/", params={"assigned_to": mate_id}).json()["data"]] == []


def test_a_later_inbound_on_a_claimed_thread_goes_only_to_its_assignee(setup):
    cody, _demo, me, mate, _mate_id = setup
    cody.post_twilio(SMS, inbound_form("hello", "SM" + "4" * 32))
    thread_id = me.get("/api/v1/thread/").json()["data"][0]["id"]
    mate.post(f"/api/v1/thread/{thread_id}/claim/")
    cody.post_twilio(SMS, inbound_form("are you there?", "SM" + "5" * 32))
    mine = [i["activity_id"] for i in me.get("/api/v1/inbox/").json()["data"]]
    theirs = [i["activity_id"] for i in mate.get("/api/v1/inbox/").json()["data"]]
    assert len(theirs) == 2 and mine == []  # the claim took my open item for "hello" too


def test_leads_with_errored_sms_can_be_found(setup, factory):
    cody, demo, me, _, _ = setup
    with factory() as session:
        contact = session.scalar(select(Contact).where(Contact.name == "Sarah Lee"))
        ctx = Ctx(demo.organization_id, demo.user_id)
        # The contact's phone is switched to a number the carrier refuses (Twilio's magic "invalid" number).
        contact.phones[0].phone = "+15005550001"
        session.commit()
        cody.runtime.messaging.execute(session, ctx, SendRequest(contact_id=contact.id, remote_phone="+15005550001",
                                                                 text="hello"))
        lead_id = contact.lead_id
        assert session.scalar(select(Activity.status).where(Activity.remote_phone == "+15005550001")) == "error"
    errored = me.get("/api/v1/lead/", params={"has_errored_sms": "true"}).json()["data"]
    assert [lead["id"] for lead in errored] == [lead_id]
    clean = {lead["id"] for lead in me.get("/api/v1/lead/", params={"has_errored_sms": "false"}).json()["data"]}
    assert lead_id not in clean and len(clean) == 3


# -- Inbox items follow the thread ----------------------------------------------------------------------------------
# While a thread is nobody's, a text from the customer is in every member's Inbox. Whoever takes the thread (by
# answering it, claiming it or being given it) takes its open items: the others' are removed, as if the thread had
# been theirs when the texts came, and a reassigned thread's unanswered items move to its new assignee. Items someone
# already marked done stay theirs.


@pytest.fixture
def team(db_url, factory):
    with live_team(db_url, factory) as team:
        yield team


def _open(person) -> list[dict]:
    return person.api.get("/api/v1/inbox/", params={"done": "false"}).json()["data"]


def _done(person) -> list[dict]:
    return person.api.get("/api/v1/inbox/", params={"done": "true"}).json()["data"]


def _sarah(team: Team, body: str, sid: str) -> str:
    """Sarah texts the shared line; the id of her text."""
    assert team.live.post_twilio(SMS, inbound_form(body, sid, to=LINE)).status_code == 200
    return team.ana.api.get("/api/v1/activity/sms/", params={"direction": "inbound"}).json()["data"][0]["id"]


def _thread_url(team: Team) -> str:
    thread = team.ana.api.get("/api/v1/thread/", params={"contact_id": team.sarah_id}).json()["data"][0]
    return f"/api/v1/thread/{thread['id']}"


@both_databases
def test_answering_a_thread_nobody_had_takes_it_from_the_other_members_inboxes(team):
    ana, bob, carol = team.ana, team.bob, team.carol
    asked = _sarah(team, "Is the house still available?", "SM" + "a" * 32)
    assert [[i["activity_id"] for i in _open(p)] for p in (ana, bob, carol)] == [[asked]] * 3
    carol_item = _open(carol)[0]
    assert carol.api.post(f"/api/v1/inbox/{carol_item['id']}/done/").status_code == 200

    reply = bob.api.post("/api/v1/activity/sms/", json={"contact_id": team.sarah_id, "status": "outbox",
                                                        "text": "Yes it is!"})
    assert reply.status_code == 200 and reply.json()["status"] == "sent"
    assert ana.api.get(f"{_thread_url(team)}/").json()["assignee_id"] == bob.user_id
    # Ana can't answer it too by mistake: it left her Inbox. Carol's item, which she had closed, stays hers.
    assert _open(ana) == [] and _done(ana) == []
    assert _open(carol) == [] and [i["id"] for i in _done(carol)] == [carol_item["id"]]
    assert [i["activity_id"] for i in _open(bob)] == [asked]

    again = _sarah(team, "Can I see it Saturday?", "SM" + "b" * 32)
    assert [i["activity_id"] for i in _open(bob)] == [again, asked]
    assert _open(ana) == _open(carol) == []


@both_databases
def test_claiming_a_thread_takes_its_open_items_from_the_other_members(team):
    ana, bob, carol = team.ana, team.bob, team.carol
    asked = _sarah(team, "Anyone there?", "SM" + "c" * 32)
    bobs = _open(bob)
    assert bob.api.post(f"{_thread_url(team)}/claim/").status_code == 200
    assert _open(bob) == bobs and bobs[0]["activity_id"] == asked
    assert _open(ana) == _open(carol) == []


@both_databases
def test_a_reassigned_thread_brings_its_unanswered_items_to_the_new_assignee(team):
    ana, bob, carol = team.ana, team.bob, team.carol
    first = _sarah(team, "Is the house still available?", "SM" + "d" * 32)
    assert bob.api.post("/api/v1/activity/sms/", json={"contact_id": team.sarah_id, "status": "outbox",
                                                       "text": "Yes it is!"}).status_code == 200
    assert bob.api.post(f"/api/v1/inbox/{_open(bob)[0]['id']}/done/").status_code == 200  # answered it
    second = _sarah(team, "Can I see it Saturday?", "SM" + "e" * 32)
    unanswered = _open(bob)
    assert [i["activity_id"] for i in unanswered] == [second]

    # Bob goes on leave: Ana gives the thread to Carol, and Sarah's question goes with it.
    given = ana.api.post(f"{_thread_url(team)}/assign/", json={"user_id": carol.user_id})
    assert given.status_code == 200 and given.json()["assignee_id"] == carol.user_id
    moved = _open(carol)
    assert [(i["id"], i["activity_id"], i["user_id"]) for i in moved] == [(unanswered[0]["id"], second, carol.user_id)]
    assert _open(bob) == [] and [i["activity_id"] for i in _done(bob)] == [first]
    assert _open(ana) == []

    third = _sarah(team, "Saturday at 11?", "SM" + "f" * 32)
    assert [i["activity_id"] for i in _open(carol)] == [third, second]
    assert _open(bob) == _open(ana) == []


@both_databases
def test_a_member_giving_a_thread_nobody_had_to_a_colleague_gives_them_its_items(team):
    ana, bob, carol = team.ana, team.bob, team.carol
    asked = _sarah(team, "Hello?", "SM" + "1" * 32)
    carols = _open(carol)
    assert bob.api.post(f"{_thread_url(team)}/assign/", json={"user_id": carol.user_id}).status_code == 200
    assert _open(carol) == carols and carols[0]["activity_id"] == asked
    assert _open(ana) == _open(bob) == []


@both_databases
def test_an_unassigned_thread_puts_its_unanswered_messages_back_in_everyones_inbox(team):
    ana, bob, carol = team.ana, team.bob, team.carol
    answered = _sarah(team, "Is the house still available?", "SM" + "2" * 32)
    assert bob.api.post(f"{_thread_url(team)}/claim/").status_code == 200
    assert bob.api.post(f"/api/v1/inbox/{_open(bob)[0]['id']}/done/").status_code == 200  # he answered that one
    unanswered = _sarah(team, "Can I see it Saturday?", "SM" + "3" * 32)
    assert _open(ana) == _open(carol) == []

    # Bob goes on leave: Ana puts the thread back to nobody, and Sarah's question is the whole team's to answer.
    freed = ana.api.post(f"{_thread_url(team)}/unassign/")
    assert freed.status_code == 200 and freed.json()["assignee_id"] is None
    for person in (ana, bob, carol):
        assert [(i["activity_id"], i["user_id"]) for i in _open(person)] == [(unanswered, person.user_id)]
    assert [i["activity_id"] for i in _done(bob)] == [answered]
    assert _done(ana) == _done(carol) == []

    # Whoever answers first takes it from the others again.
    assert carol.api.post("/api/v1/activity/sms/", json={"contact_id": team.sarah_id, "status": "outbox",
                                                         "text": "Saturday works!"}).status_code == 200
    assert [i["activity_id"] for i in _open(carol)] == [unanswered]
    assert _open(ana) == _open(bob) == []
