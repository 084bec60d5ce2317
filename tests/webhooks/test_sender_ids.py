"""Texts from an alphanumeric sender ID ("VERIFY", "AcmeBank"), which carriers deliver for one-way notifications,
arrive by the signed Twilio webhook like any text: logged and in every member's Inbox, but on no contact, lead or
thread, never answered, and a STOP from one opts nobody out."""

import httpx
import pytest
from sqlalchemy import func, select

from db.models import Activity, Contact, Draft, Lead, OptOut
from db.session import transaction
from tests.live import live_cody
from tests.webhooks.test_inbound_sms import SMS, inbound_form
from tools.demo import seed_demo
from tools.messaging.inbound import contact_for_new_sender
from tools.workspaces import add_member, create_api_key, create_user


@pytest.fixture
def db_url(any_db_url) -> str:
    return any_db_url


@pytest.fixture
def demo(factory):
    with transaction(factory) as session:
        return seed_demo(session)


@pytest.fixture
def mate_key(factory, demo) -> str:
    """The API key of a second member of the demo workspace."""
    with transaction(factory) as session:
        mate = create_user(session, "lee@bayview.test", "Lee", "Ng")
        session.flush()
        add_member(session, demo.organization_id, mate)
        return create_api_key(session, demo.organization_id, mate.id)


@pytest.fixture
def cody(db_url, factory, demo):
    with live_cody(db_url, factory) as live:
        yield live


def counts(factory) -> tuple[int, int, int, int]:
    """(leads, contacts, opt-outs, drafts) of every workspace."""
    with factory() as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (Lead, Contact, OptOut, Draft))


def inbox(cody, key: str) -> list[dict]:
    response = httpx.get(cody.base_url + "/api/v1/inbox/", auth=(key, ""), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["data"]


@pytest.mark.parametrize("sender", ["VERIFY", "AcmeBank"])
def test_a_text_from_a_sender_id_is_in_every_members_inbox_on_no_contact(cody, factory, demo, mate_key, sender):
    before = counts(factory)
    sid = "SM" + "1" * 32
    response = cody.post_twilio(SMS, inbound_form("Your code is 482913", sid, from_=sender))
    assert response.status_code == 200
    assert "<Message" not in response.text  # nothing is answered to a name
    assert counts(factory) == before  # no lead, no contact, no text-back drafted
    with factory() as session:
        texts = session.scalars(select(Activity).where(Activity.organization_id == demo.organization_id)).all()
    assert [(a.direction, a.status, a.remote_phone, a.text) for a in texts] == [
        ("inbound", "inbox", sender, "Your code is 482913")]  # and nothing sent back
    text = texts[0]
    assert (text.contact_id, text.lead_id, text.thread_id) == (None, None, None)
    for key in (demo.api_key, mate_key):
        assert [(i["type"], i["activity_id"], i["thread_id"], i["done"]) for i in inbox(cody, key)] == [
            ("incoming_sms", text.id, None, False)]
    shown = httpx.get(f"{cody.base_url}/api/v1/activity/sms/{text.id}/", auth=(demo.api_key, ""), timeout=30).json()
    assert (shown["contact_id"], shown["lead_id"], shown["remote_phone"], shown["text"]) == (
        None, None, sender, "Your code is 482913")


def test_a_stop_from_a_sender_id_opts_nobody_out(cody, factory, demo):
    cody.post_twilio(SMS, inbound_form("STOP", "SM" + "2" * 32, from_="AcmeBank"))
    cody.post_twilio(SMS, inbound_form("Reply STOP to end", "SM" + "3" * 32, from_="AcmeBank")
                     + [("OptOutType", "STOP")])
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(OptOut)) == 0
        logged = session.scalars(select(Activity.text).where(Activity.remote_phone == "AcmeBank")
                                 .order_by(Activity.text)).all()
    assert logged == ["Reply STOP to end", "STOP"]
    assert len(inbox(cody, demo.api_key)) == 2


def test_a_contact_once_made_of_a_sender_id_is_not_given_its_texts(cody, factory, demo):
    """Earlier versions made a lead and contact named after the sender ID; its new texts are no longer filed there."""
    with transaction(factory) as session:
        old = contact_for_new_sender(session, demo.organization_id, "VERIFY").id
    cody.post_twilio(SMS, inbound_form("Your code is 110220", "SM" + "4" * 32, from_="VERIFY"))
    with factory() as session:
        text = session.scalar(select(Activity).where(Activity.provider_sid == "SM" + "4" * 32))
        assert (text.contact_id, text.thread_id, text.remote_phone) == (None, None, "VERIFY")
        assert session.scalar(select(func.count()).select_from(Activity).where(Activity.contact_id == old)) == 0

