"""The Inbox and threads over HTTP: what each person sees, marking done, claiming and assigning."""

import httpx
import pytest
from sqlalchemy import select

from db.models import Activity, Contact
from db.session import transaction
from tests.live import live_cody
from tests.webhooks.test_inbound_sms import SMS, inbound_form
from tools.context import Ctx
from tools.demo import seed_demo
from tools.messaging import SendRequest
from tools.workspaces import add_member, create_api_key, create_user


@pytest.fixture
def setup(db_url, factory):
    with transaction(factory) as session:
        demo = seed_demo(session)
        mate = create_user(session, "lee@bayview.test", "Lee", "Ng")
        session.flush()
        add_member(session, demo.organization_id, mate)
        mate_key = create_api_key(session, demo.organization_id, mate.id)
    with live_cody(db_url, factory) as cody:
        with httpx.Client(base_url=cody.base_url, auth=(demo.api_key, "")) as me, \
             httpx.Client(base_url=cody.base_url, auth=(mate_key, "")) as mate_api:
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
    assert len(theirs) == 2 and len(mine) == 1


def test_leads_with_errored_sms_can_be_found(setup, factory):
    cody, demo, me, _, _ = setup
    with factory() as session:
        contact = session.scalar(select(Contact).where(Contact.name == "Sarah Lee"))
        ctx = Ctx(demo.organization_id, demo.user_id)
        # The contact's phone is switched to a number the carrier refuses (Twilio's magic "invalid" number).
        cody.runtime.messaging.execute(session, ctx, SendRequest(contact_id=contact.id, remote_phone="+15005550001",
                                                                 text="hello"))
        lead_id = contact.lead_id
        assert session.scalar(select(Activity.status).where(Activity.remote_phone == "+15005550001")) == "error"
    errored = me.get("/api/v1/lead/", params={"has_errored_sms": "true"}).json()["data"]
    assert [lead["id"] for lead in errored] == [lead_id]
    clean = {lead["id"] for lead in me.get("/api/v1/lead/", params={"has_errored_sms": "false"}).json()["data"]}
    assert lead_id not in clean and len(clean) == 3
