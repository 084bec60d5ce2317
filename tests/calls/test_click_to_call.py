"""Click-to-call on the sandbox: your own phone rings first, then the contact, and the call log follows the legs."""

from datetime import time

import pytest
from sqlalchemy import select, update

from db.models import Activity, Contact, ContactPhone, Organization, PhoneNumber, User
from db.session import transaction
from tests.calls.conftest import FORWARDING, SARAH, twiml
from tests.live import http_client
from tools.demo import DEMO_NUMBER


def sarah_id(factory, demo) -> str:
    with factory() as session:
        return session.scalar(select(Contact.id).where(Contact.organization_id == demo.organization_id,
                                                       Contact.name == "Sarah Lee"))


def set_org(factory, demo, **values) -> None:
    with transaction(factory) as session:
        session.execute(update(Organization).where(Organization.id == demo.organization_id).values(**values))


def test_put_me_stores_the_forwarding_phone_in_e164(api):
    answer = api.put("/api/v1/me/", json={"forwarding_phone": "(415) 555-0177"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["forwarding_phone"] == "+14155550177"
    assert api.get("/api/v1/me/").json()["forwarding_phone_formatted"] == "(415) 555-0177"


@pytest.mark.parametrize("phone", ["not a phone", "+1 415 555", DEMO_NUMBER])
def test_put_me_refuses_a_bad_forwarding_phone_with_a_field_error(api, phone):
    answer = api.put("/api/v1/me/", json={"forwarding_phone": phone})
    assert answer.status_code == 400
    assert set(answer.json()["field-errors"]) == {"forwarding_phone"}
    assert api.get("/api/v1/me/").json()["forwarding_phone"] == FORWARDING


def test_a_click_to_call_rings_you_then_connects_the_contact_from_the_business_line(cody, api, factory, demo):
    set_org(factory, demo, recording_enabled=True)
    answer = api.post("/api/v1/call/dial/", json={"contact_id": sarah_id(factory, demo)})
    assert answer.status_code == 200, answer.text
    call = answer.json()
    assert (call["_type"], call["direction"], call["local_phone"], call["remote_phone"]) == (
        "Call", "outbound", DEMO_NUMBER, SARAH)
    cody.sandbox.drain()

    # The sandbox rang the user's own phone; once answered, it was asked for a key, then the contact was dialled.
    url, document = next((u, d) for u, d in cody.sandbox.twiml_log if "/voice/connect" in u)
    assert f"activity_id={call['id']}" in url
    gather = twiml(document).find("Gather")
    assert (gather.get("numDigits"), gather.get("actionOnEmptyResult")) == ("1", "true")
    assert gather.find("Say").text == "Cody: your call to Sarah Lee. Press any key to connect."
    assert twiml(document).find("Dial") is None  # nobody is rung before the key
    url, document = next((u, d) for u, d in cody.sandbox.twiml_log if "/voice/accept" in u)
    assert f"activity_id={call['id']}" in url
    dial = twiml(document).find("Dial")
    assert dial.get("callerId") == DEMO_NUMBER
    assert dial.get("answerOnBridge") == "true"
    assert dial.get("record") == "record-from-answer-dual"
    assert "/voice/dial-action" in dial.get("action") and "/voice/recording" in dial.get("recordingStatusCallback")
    assert dial.find("Number").text == SARAH

    logged = api.get(f"/api/v1/activity/call/{call['id']}/").json()
    assert (logged["status"], logged["disposition"], logged["duration"]) == ("completed", "answered", 42)
    assert logged["date_answered"] and logged["date_ended"] and logged["date_answered"] < logged["date_ended"]
    # The sandbox's 42 seconds take no real time: the call is not shown answered before it was placed.
    assert logged["date_created"] <= logged["date_answered"]
    assert logged["has_recording"] and logged["recording_url"].endswith(".mp3")
    assert logged["user_id"] == demo.user_id and logged["handled_by"] == "user"
    # Transcription is off: the call says so, and shows nothing made up.
    assert (logged["transcript"], logged["summary"], logged["sentiment"]) == (None, None, None)
    assert logged["commitments"] == []
    assert logged["intelligence_status"] == "unavailable" and "Transcription is off" in logged["intelligence_note"]
    with factory() as session:
        row = session.get(Activity, call["id"])
        assert row.provider_sid and row.provider_sid.startswith("CA")
        assert cody.sandbox.call_statuses[row.provider_sid] == "completed"


@pytest.mark.parametrize("contact_answer, status, disposition", [
    ("busy", "busy", "busy"), ("no-answer", "no-answer", "no-answer"), ("failed", "failed", "error")])
def test_the_contact_leg_outcome_is_logged(cody, api, factory, demo, contact_answer, status, disposition):
    cody.sandbox.call_outcomes[SARAH] = contact_answer
    call = api.post("/api/v1/call/dial/", json={"remote_phone": "415-555-0132"}).json()
    assert call["contact_id"] == sarah_id(factory, demo)  # a bare number finds its contact
    cody.sandbox.drain()
    logged = api.get(f"/api/v1/activity/call/{call['id']}/").json()
    assert (logged["status"], logged["disposition"], logged["duration"], logged["has_recording"]) == (
        status, disposition, 0, False)


def test_when_you_do_not_pick_up_the_contact_is_never_dialled(cody, api, factory, demo):
    cody.sandbox.call_outcomes[FORWARDING] = "no-answer"
    call = api.post("/api/v1/call/dial/", json={"contact_id": sarah_id(factory, demo)}).json()
    cody.sandbox.drain()
    assert not [u for u, _ in cody.sandbox.twiml_log if "/voice/connect" in u]
    logged = api.get(f"/api/v1/activity/call/{call['id']}/").json()
    assert (logged["status"], logged["disposition"]) == ("no-answer", "no-answer")


def test_a_carrier_refusal_is_logged_as_failed(cody, api, factory, demo):
    with transaction(factory) as session:
        session.get(User, demo.user_id).forwarding_phone = "+15005550002"  # Twilio's magic "unreachable" (21214)
    call = api.post("/api/v1/call/dial/", json={"contact_id": sarah_id(factory, demo)}).json()
    assert call["status"] == "failed" and call["disposition"] == "blocked" and call["error_message"]


def test_the_same_idempotency_key_places_one_call(cody, api, factory, demo):
    body = {"contact_id": sarah_id(factory, demo)}
    first = api.post("/api/v1/call/dial/", json=body, headers={"Idempotency-Key": "call-1"}).json()
    again = api.post("/api/v1/call/dial/", json=body, headers={"Idempotency-Key": "call-1"}).json()
    assert first["id"] == again["id"]
    cody.sandbox.drain()
    assert api.get("/api/v1/activity/call/").json()["data"].__len__() == 1


def test_a_key_that_placed_a_call_cannot_send_a_text(cody, api, factory, demo):
    contact_id = sarah_id(factory, demo)
    call = api.post("/api/v1/call/dial/", json={"contact_id": contact_id}, headers={"Idempotency-Key": "k-42"}).json()
    text = api.post("/api/v1/activity/sms/", json={"status": "outbox", "contact_id": contact_id, "text": "Hi"},
                    headers={"Idempotency-Key": "k-42"})
    assert text.status_code == 409, text.text
    assert text.json()["error"] == "This Idempotency-Key was already used for a call; use a new key for a text."
    cody.sandbox.drain()
    assert api.get("/api/v1/activity/sms/").json()["data"] == []
    assert [c["id"] for c in api.get("/api/v1/activity/call/").json()["data"]] == [call["id"]]


def problem_codes(answer) -> set[str]:
    assert answer.status_code == 400, answer.text
    return {p["code"] for p in answer.json()["problems"]}


def test_every_check_goes_through_the_messaging_service(cody, api, factory, demo):
    contact_id = sarah_id(factory, demo)
    assert problem_codes(api.post("/api/v1/call/dial/", json={"remote_phone": "12"})) == {"invalid_phone"}
    assert problem_codes(api.post("/api/v1/call/dial/", json={})) == {"required"}
    assert problem_codes(api.post("/api/v1/call/dial/", json={"contact_id": "cont_nobody"})) == {"not_found"}

    api.put("/api/v1/me/", json={"forwarding_phone": None})
    answer = api.post("/api/v1/call/dial/", json={"contact_id": contact_id})
    assert problem_codes(answer) == {"no_forwarding_phone"}
    assert "forwarding_phone" in answer.json()["field-errors"]
    api.put("/api/v1/me/", json={"forwarding_phone": FORWARDING})

    answer = api.post("/api/v1/call/dial/", json={"remote_phone": DEMO_NUMBER})
    assert answer.json()["field-errors"] == {"remote_phone": "(415) 555-0100 is the business line this call would go "
                                                             "out from; a line can't call itself."}

    with transaction(factory) as session:
        session.get(Contact, contact_id).do_not_call = True
    assert problem_codes(api.post("/api/v1/call/dial/", json={"contact_id": contact_id})) == {"do_not_call"}
    # The bare number of a do-not-call contact is refused too.
    assert problem_codes(api.post("/api/v1/call/dial/", json={"remote_phone": SARAH})) == {"do_not_call"}
    with transaction(factory) as session:
        session.get(Contact, contact_id).do_not_call = False

    with transaction(factory) as session:
        session.execute(update(PhoneNumber).where(PhoneNumber.number == DEMO_NUMBER).values(voice=False))
    assert problem_codes(api.post("/api/v1/call/dial/", json={"contact_id": contact_id})) == {"not_voice_capable"}
    with transaction(factory) as session:
        session.execute(update(PhoneNumber).where(PhoneNumber.number == DEMO_NUMBER).values(status="inactive"))
    answer = api.post("/api/v1/call/dial/", json={"contact_id": contact_id})
    assert problem_codes(answer) == {"no_business_line"}
    assert "business line" in answer.json()["field-errors"]["local_phone"]
    with factory() as session:
        assert session.scalar(select(Activity).where(Activity.type == "call")) is None


def test_a_voicemail_that_answers_your_phone_never_rings_the_contact(cody, api, factory, demo):
    cody.sandbox.voicemail_answers.add(FORWARDING)
    call = api.post("/api/v1/call/dial/", json={"contact_id": sarah_id(factory, demo)}).json()
    cody.sandbox.drain()

    _, document = next((u, d) for u, d in cody.sandbox.twiml_log if "/voice/accept" in u)
    assert twiml(document).find("Dial") is None
    assert twiml(document).find("Say").text == "No key was pressed, so Sarah Lee was not called. Goodbye."
    logged = api.get(f"/api/v1/activity/call/{call['id']}/").json()
    assert (logged["status"], logged["disposition"], logged["duration"]) == ("no-answer", "no-answer", 0)
    assert logged["error_message"].startswith("No key was pressed on your phone")
    assert logged["handled_by"] is None


def test_hanging_up_while_asked_for_a_key_never_rings_the_contact(cody, api, factory, demo):
    cody.sandbox.prompt_hangups.add(FORWARDING)
    call = api.post("/api/v1/call/dial/", json={"contact_id": sarah_id(factory, demo)}).json()
    cody.sandbox.drain()

    # Your phone was asked for a key; you hung up, so Twilio asked nothing more (no accept, no Dial).
    assert [u for u, _ in cody.sandbox.twiml_log if "/voice/connect" in u]
    assert not [u for u, _ in cody.sandbox.twiml_log if "/voice/accept" in u or "/voice/dial-action" in u]
    logged = api.get(f"/api/v1/activity/call/{call['id']}/").json()
    assert (logged["status"], logged["disposition"], logged["duration"]) == ("canceled", "no-answer", 0)
    assert logged["error_message"] == ("Your call ended before a key was pressed on your phone, so the contact was "
                                       "not called.")
    assert (logged["handled_by"], logged["date_answered"]) == (None, None) and logged["date_ended"]


def test_do_not_call_holds_for_the_number_whichever_contact_the_call_is_filed_under(cody, api, factory, demo):
    with transaction(factory) as session:
        session.get(Contact, sarah_id(factory, demo)).do_not_call = True
        john_id = session.scalar(select(Contact.id).where(Contact.organization_id == demo.organization_id,
                                                          Contact.name == "John Park"))
        session.add(ContactPhone(organization_id=demo.organization_id, contact_id=john_id, phone=SARAH, type="office"))
    answer = api.post("/api/v1/call/dial/", json={"contact_id": john_id, "remote_phone": SARAH})
    assert problem_codes(answer) == {"do_not_call"}
    assert answer.json()["field-errors"]["remote_phone"] == "Sarah Lee is marked Do Not Call; remove the mark to call."
    with factory() as session:
        assert session.scalar(select(Activity).where(Activity.type == "call")) is None


def test_a_number_given_with_a_contact_must_be_one_of_theirs(cody, api, factory, demo):
    """As for a text: a call to a stranger's number is never filed on a customer's timeline and thread."""
    contact_id = sarah_id(factory, demo)
    answer = api.post("/api/v1/call/dial/", json={"contact_id": contact_id, "remote_phone": "(415) 555-9999"})
    assert problem_codes(answer) == {"not_contacts_phone"}
    assert answer.json()["field-errors"] == {"remote_phone": "(415) 555-9999 is not one of Sarah Lee's numbers; add it "
                                                             "to the contact first, or call the number alone."}
    with factory() as session:
        assert session.scalar(select(Activity).where(Activity.type == "call")) is None

    hers = api.post("/api/v1/call/prepare/", json={"contact_id": contact_id, "remote_phone": "415-555-0132"}).json()
    assert (hers["ok"], hers["contact_id"], hers["to"]) == (True, contact_id, SARAH)
    alone = api.post("/api/v1/call/prepare/", json={"remote_phone": "(415) 555-9999"}).json()
    assert (alone["ok"], alone["contact_id"], alone["to"]) == (True, None, "+14155559999")


def test_quiet_hours_hold_for_calls_as_for_texts(cody, api, factory, demo):
    set_org(factory, demo, quiet_hours_start=time(0, 0), quiet_hours_end=time(23, 59))
    preview = api.post("/api/v1/call/prepare/", json={"contact_id": sarah_id(factory, demo)}).json()
    assert preview["ok"] is False
    assert [(p["code"], p["field"]) for p in preview["problems"]] == [("quiet_hours", "contact_id")]
    assert "quiet hours for the recipient (00:00-23:59 their time)" in preview["problems"][0]["message"]
    assert problem_codes(api.post("/api/v1/call/dial/", json={"remote_phone": SARAH})) == {"quiet_hours"}
    assert api.get("/api/v1/activity/call/").json()["data"] == []


def test_prepare_shows_the_call_and_its_problems_without_placing_it(cody, api, factory, demo):
    preview = api.post("/api/v1/call/prepare/", json={"contact_id": sarah_id(factory, demo)}).json()
    assert (preview["to"], preview["from"], preview["forwarding_phone"], preview["ok"]) == (
        SARAH, DEMO_NUMBER, FORWARDING, True)
    assert preview["contact_name"] == "Sarah Lee"
    assert api.get("/api/v1/activity/call/").json()["data"] == []


def test_the_call_log_filters(cody, api, factory, demo):
    contact_id = sarah_id(factory, demo)
    answered = api.post("/api/v1/call/dial/", json={"contact_id": contact_id}).json()
    cody.sandbox.drain()
    cody.sandbox.call_outcomes["+12125550123"] = "busy"
    busy = api.post("/api/v1/call/dial/", json={"remote_phone": "+1 212 555 0123"}).json()
    cody.sandbox.drain()

    def ids(**params) -> list[str]:
        answer = api.get("/api/v1/activity/call/", params=params)
        assert answer.status_code == 200, answer.text
        return [c["id"] for c in answer.json()["data"]]

    assert ids() == [busy["id"], answered["id"]]
    assert ids(contact_id=contact_id) == [answered["id"]]
    assert ids(status="busy") == [busy["id"]]
    assert ids(status="completed,busy", direction="outbound") == [busy["id"], answered["id"]]
    assert ids(direction="inbound") == []
    assert ids(handled_by="user") == [busy["id"], answered["id"]]  # you took both on your phone (a key pressed)
    assert ids(handled_by="ai") == []
    assert ids(_limit=1) == [busy["id"]]
    assert api.get("/api/v1/activity/call/", params={"status": "ringing-ish"}).status_code == 400
    assert api.get("/api/v1/activity/call/acti_nope/").status_code == 404


def test_another_workspace_sees_none_of_it(cody, api, factory, demo, other_workspace):
    call = api.post("/api/v1/call/dial/", json={"contact_id": sarah_id(factory, demo)}).json()
    cody.sandbox.drain()

    with http_client(base_url=cody.base_url, auth=(other_workspace.api_key, "")) as other:
        assert other.get(f"/api/v1/activity/call/{call['id']}/").status_code == 404
        assert other.get("/api/v1/activity/call/").json()["data"] == []
        assert other.post("/api/v1/call/dial/", json={"contact_id": call["contact_id"]}).status_code == 400
