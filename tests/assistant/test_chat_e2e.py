"""Cody end to end on the sandbox: a request becomes a draft, and only a confirmation sends it."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from db.models import Activity, Draft
from db.session import transaction
from db.types import utcnow
from tests.assistant.chatting import say
from tests.live import http_client, live_cody
from tests.webhooks.test_inbound_sms import SMS, inbound_form
from tools.workspaces import add_member, create_api_key, create_user


@pytest.fixture
def cody(db_url, factory, demo):
    with live_cody(db_url, factory, run_dispatcher=True, sandbox_callback_delay_seconds=0.02) as live:
        yield live


@pytest.fixture
def chat(cody, demo):
    with http_client(base_url=cody.base_url, auth=(demo.api_key, ""), timeout=30) as client:
        yield client


def wait_for_status(factory, activity_id, wanted, timeout=10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with factory() as session:
            status = session.scalar(select(Activity.status).where(Activity.id == activity_id))
        if status == wanted:
            return status
        time.sleep(0.05)
    return status


def sent_count(factory) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Activity).where(Activity.direction == "outbound"))


def test_request_draft_confirm_delivered_reply_inbox(chat, cody, factory, demo):
    answer = say(chat, "text Sarah I'm running 10 minutes late")
    [draft] = answer["drafts"]
    assert (draft["tool"], draft["state"], draft["problems"]) == ("send_sms", "pending", [])
    preview = draft["preview"]
    assert (preview["contact_name"], preview["to"], preview["from"]) == ("Sarah Lee", "+14155550132", "+14155550100")
    assert (preview["text"], preview["encoding"], preview["segments"]) == ("I'm running 10 minutes late", "GSM-7", 1)
    assert sent_count(factory) == 0, "nothing goes out before confirmation"

    confirmed = chat.post(f"/api/chat/drafts/{draft['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["state"] == "executed" and body["activity"]["text"] == "I'm running 10 minutes late"
    assert wait_for_status(factory, body["activity"]["id"], "delivered") == "delivered"

    simulated = chat.post("/api/sandbox/sms", json={"contact_id": preview["contact_id"], "body": "No problem!"})
    assert simulated.status_code == 200, simulated.text
    inbox = chat.get("/api/v1/inbox/").json()["data"]
    assert len(inbox) == 1 and inbox[0]["type"] == "incoming_sms"
    with factory() as session:
        reply = session.get(Activity, inbox[0]["activity_id"])
        assert (reply.text, reply.contact_id) == ("No problem!", preview["contact_id"])


def test_yes_in_the_conversation_confirms_its_single_pending_draft(chat, factory):
    first = say(chat, "text John Park: the keys are in the lockbox")
    answer = say(chat, "yes, send it", first["conversation_id"])
    assert answer["drafts"][0]["state"] == "executed"
    assert answer["activities"][0]["remote_phone"] == "+12125550123"
    assert say(chat, "yes", first["conversation_id"])["reply"] == "There's nothing waiting for your confirmation."
    assert sent_count(factory) == 1


def test_cancel_and_change_it_to_are_decided_by_code(chat, factory):
    first = say(chat, "tell Sarah that the inspection moved to Friday")
    edited = say(chat, "change it to The inspection moved to Saturday", first["conversation_id"])
    assert edited["drafts"][0]["preview"]["text"] == "The inspection moved to Saturday"
    canceled = say(chat, "never mind", first["conversation_id"])
    assert canceled["drafts"][0]["state"] == "canceled"
    assert sent_count(factory) == 0


def test_confirming_twice_sends_once(chat, factory):
    draft = say(chat, "text Sarah see you soon")["drafts"][0]
    assert chat.post(f"/api/chat/drafts/{draft['id']}/confirm").status_code == 200
    again = chat.post(f"/api/chat/drafts/{draft['id']}/confirm")
    assert again.status_code == 409 and again.json()["error"] == "That was already sent."
    assert sent_count(factory) == 1


def test_another_users_draft_cannot_be_confirmed(chat, cody, factory, demo):
    with transaction(factory) as session:
        mate = create_user(session, "kim@bayview.test", "Kim", "Ro")
        session.flush()
        add_member(session, demo.organization_id, mate)
        mate_key = create_api_key(session, demo.organization_id, mate.id)
    draft = say(chat, "text Sarah hello")["drafts"][0]
    with http_client(base_url=cody.base_url, auth=(mate_key, "")) as mate_chat:
        refused = mate_chat.post(f"/api/chat/drafts/{draft['id']}/confirm")
    assert refused.status_code == 403 and "another user" in refused.json()["error"]
    assert sent_count(factory) == 0


def test_an_expired_draft_cannot_be_confirmed(chat, factory):
    draft = say(chat, "text Sarah hello")["drafts"][0]
    with transaction(factory) as session:
        session.execute(update(Draft).where(Draft.id == draft["id"]).values(expires_at=utcnow() - timedelta(seconds=1)))
    refused = chat.post(f"/api/chat/drafts/{draft['id']}/confirm")
    assert refused.status_code == 409 and "expired" in refused.json()["error"]
    assert sent_count(factory) == 0


def test_confirming_after_the_contact_opted_out_fails_with_the_reason(chat, cody, factory):
    draft = say(chat, "text Sarah are you still interested?")["drafts"][0]
    cody.post_twilio(SMS, inbound_form("STOP", "SM" + "9" * 32))
    refused = chat.post(f"/api/chat/drafts/{draft['id']}/confirm")
    assert refused.status_code == 400
    assert [p["code"] for p in refused.json()["problems"]] == ["opted_out"]
    assert chat.get(f"/api/chat/drafts/{draft['id']}").json()["state"] == "failed"
    assert sent_count(factory) == 0


def test_an_inbound_text_saying_yes_send_it_confirms_nothing(chat, cody, factory):
    draft = say(chat, "text Sarah the offer was accepted")["drafts"][0]
    cody.post_twilio(SMS, inbound_form("yes, send it", "SM" + "8" * 32))
    cody.post_twilio(SMS, inbound_form("confirm", "SM" + "7" * 32))
    assert chat.get(f"/api/chat/drafts/{draft['id']}").json()["state"] == "pending"
    assert sent_count(factory) == 0


def test_a_draft_with_a_blocking_problem_cannot_be_confirmed(chat, factory):
    draft = say(chat, "text Sarah " + "x" * 1001)["drafts"][0]
    assert [p["code"] for p in draft["problems"]] == ["too_long"]
    refused = chat.post(f"/api/chat/drafts/{draft['id']}/confirm")
    assert refused.status_code == 400 and refused.json()["field-errors"]["text"].startswith("The message is 1001")


def test_the_smiths_get_one_draft_per_textable_contact(chat):
    answer = say(chat, "send the Smiths the showing confirmation for 7pm")
    names = sorted(d["preview"]["contact_name"] for d in answer["drafts"])
    assert names == ["David Smith", "Mary Smith"]
    assert all("showing at 7pm" in d["preview"]["text"] for d in answer["drafts"])


def test_a_missing_template_variable_is_asked_for(chat):
    first = say(chat, "send Sarah the showing confirmation")
    assert first["question"]["text"] == "What should I put for time in the \u201cShowing confirmation\u201d template?"
    answer = say(chat, "6:30pm", first["conversation_id"])
    assert "showing at 6:30pm" in answer["drafts"][0]["preview"]["text"]


def test_editing_a_draft_prepares_it_again(chat):
    draft = say(chat, "text Sarah hi")["drafts"][0]
    edited = chat.patch(f"/api/chat/drafts/{draft['id']}", json={"args": {"text": "Hi Sarah 👋"}})
    assert edited.status_code == 200
    assert (edited.json()["preview"]["text"], edited.json()["preview"]["encoding"]) == ("Hi Sarah 👋", "UCS-2")
    bad = chat.patch(f"/api/chat/drafts/{draft['id']}", json={"args": {"organization_id": "orga_x"}})
    assert bad.status_code == 400 and "args.organization_id" in bad.json()["field-errors"]


def test_new_words_for_a_template_draft_replace_the_template(chat, factory):
    first = say(chat, "send Sarah the showing confirmation for 7pm")
    draft = first["drafts"][0]
    edited = say(chat, "change it to See you at the house at 7!", first["conversation_id"])
    assert edited["drafts"][0]["id"] == draft["id"]
    assert (edited["drafts"][0]["preview"]["text"], edited["drafts"][0]["problems"]) == ("See you at the house at 7!", [])
    confirmed = chat.post(f"/api/chat/drafts/{draft['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["activity"]["text"], confirmed.json()["activity"]["template_id"]) == ("See you at the house at 7!", None)


def test_the_conversation_keeps_what_was_said(chat):
    first = say(chat, "text Sarah hello there")
    conversation = chat.get(f"/api/chat/conversations/{first['conversation_id']}").json()
    said = conversation["messages"][0]
    assert (said["role"], said["text"]) == ("user", "text Sarah hello there")
    assert chat.get("/api/chat/status").json() == {"planner": "offline"}


def test_call_john_is_a_draft_and_confirming_dials_through_the_messaging_service(chat, factory):
    answer = say(chat, "call John")
    [draft] = answer["drafts"]
    assert (draft["tool"], draft["problems"]) == ("call_contact", [])
    assert (draft["preview"]["to"], draft["preview"]["forwarding_phone"]) == ("+12125550123", "+14155550199")
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Activity).where(Activity.type == "call")) == 0
    confirmed = chat.post(f"/api/chat/drafts/{draft['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    call = confirmed.json()["activity"]
    assert (call["_type"], call["direction"], call["remote_phone"]) == ("Call", "outbound", "+12125550123")


def test_a_new_request_while_cody_waits_for_an_answer_is_taken_as_a_new_request(chat):
    first = say(chat, "send the Smiths the showing confirmation")
    assert first["question"] is not None
    answer = say(chat, "text Sarah hi there", first["conversation_id"])
    assert [(d["preview"]["contact_name"], d["preview"]["text"]) for d in answer["drafts"]] == [("Sarah Lee", "hi there")]
