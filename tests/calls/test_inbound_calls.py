"""Incoming calls through signed voice webhooks: forwarded to the owner's phone, else voicemail; missed calls.

The sandbox plays Twilio: it posts the voice webhook, runs the TwiML it gets back (Dial, Record, ...), posts the
Dial action, the Record action, the recording and the final status, each signed like Twilio's.
"""

import pytest
from sqlalchemy import func, select, update

from db.models import Activity, Contact, Draft, InboxItem, PhoneNumber, User, WebhookReceipt
from db.session import transaction
from tests.calls.conftest import FORWARDING, SARAH, twiml, verbs
from tools.demo import DEMO_NUMBER

VOICE = "/api/webhooks/twilio/voice"
STRANGER = "+14155550177"


def inbound_call(factory, sid: str) -> Activity:
    with factory() as session:
        return session.scalar(select(Activity).where(Activity.provider_sid == sid))


def inbox_types(factory, activity_id: str) -> list[tuple[str, str]]:
    with factory() as session:
        items = session.scalars(select(InboxItem).where(InboxItem.activity_id == activity_id))
        return [(i.user_id, i.type) for i in items]


def call_form(sid: str, from_: str = SARAH, to: str = DEMO_NUMBER, status: str = "ringing") -> list[tuple[str, str]]:
    return [("AccountSid", "ACsandbox"), ("CallSid", sid), ("CallStatus", status), ("Direction", "inbound"),
            ("From", from_), ("To", to), ("Caller", from_), ("Called", to), ("ApiVersion", "2010-04-01")]


def test_an_incoming_call_rings_the_owners_phone_and_is_logged_as_answered(cody, api, factory, demo):
    sid = cody.sandbox.simulate_inbound_call(SARAH, DEMO_NUMBER)
    cody.sandbox.drain()
    url, document = cody.sandbox.twiml_log[0]
    assert url.endswith(VOICE)
    dial = twiml(document).find("Dial")
    assert dial.find("Number").text == FORWARDING
    assert dial.get("timeout") == "20" and "/voice/dial-action?activity_id=" in dial.get("action")
    assert dial.get("record") is None  # recording is off for the workspace
    call = inbound_call(factory, sid)
    logged = api.get(f"/api/v1/activity/call/{call.id}/").json()
    assert (logged["direction"], logged["status"], logged["disposition"], logged["duration"]) == (
        "inbound", "completed", "answered", 42)
    assert (logged["remote_phone"], logged["local_phone"], logged["user_id"], logged["handled_by"]) == (
        SARAH, DEMO_NUMBER, demo.user_id, "user")
    assert logged["contact_id"] is not None
    assert inbox_types(factory, call.id) == []  # an answered call needs nobody's attention


def test_unanswered_it_goes_to_voicemail_with_an_inbox_item(cody, api, factory, demo):
    cody.sandbox.call_outcomes[FORWARDING] = "no-answer"
    sid = cody.sandbox.simulate_inbound_call(SARAH, DEMO_NUMBER, voicemail_seconds=17)
    cody.sandbox.drain()
    documents = dict(cody.sandbox.twiml_log)
    action = next(d for u, d in cody.sandbox.twiml_log if "/voice/dial-action" in u)
    assert verbs(action) == ["Say", "Record", "Say", "Hangup"]
    record = twiml(action).find("Record")
    assert "/voice/voicemail?activity_id=" in record.get("action")
    assert "/voice/recording?activity_id=" in record.get("recordingStatusCallback")
    assert record.get("maxLength") == "120" and record.get("playBeep") == "true"
    assert "leave a message" in twiml(action).find("Say").text
    assert any("/voice/voicemail" in u for u in documents)
    call = inbound_call(factory, sid)
    logged = api.get(f"/api/v1/activity/call/{call.id}/").json()
    assert (logged["status"], logged["disposition"], logged["voicemail_duration"]) == ("voicemail", "vm-left", 17)
    assert logged["voicemail_url"].startswith("https://api.twilio.com/") and logged["voicemail_url"].endswith(".mp3")
    assert logged["recording_url"] is None and logged["handled_by"] is None
    assert inbox_types(factory, call.id) == [(demo.user_id, "voicemail")]


def test_a_caller_who_hangs_up_first_leaves_a_missed_call_and_a_drafted_text_back(cody, api, factory, demo):
    sid = cody.sandbox.simulate_inbound_call(STRANGER, DEMO_NUMBER, hangs_up_while_ringing=True)
    cody.sandbox.drain()
    call = inbound_call(factory, sid)
    logged = api.get(f"/api/v1/activity/call/{call.id}/").json()
    assert (logged["status"], logged["disposition"], logged["duration"]) == ("missed", "no-answer", 0)
    assert inbox_types(factory, call.id) == [(demo.user_id, "missed_call")]
    with factory() as session:
        draft = session.scalar(select(Draft).where(Draft.user_id == demo.user_id))
        assert (draft.tool, draft.state, draft.args["contact_id"]) == ("send_sms", "pending", call.contact_id)
        assert draft.args["text"].startswith("Sorry I missed your call")
        assert draft.preview["to"] == STRANGER and draft.problems == []
        # A draft only: nothing was texted.
        assert session.scalar(select(func.count()).select_from(Activity).where(Activity.type == "sms")) == 0


def test_hanging_up_at_the_beep_is_a_missed_call_not_a_voicemail(cody, api, factory, demo):
    cody.sandbox.call_outcomes[FORWARDING] = "busy"
    sid = cody.sandbox.simulate_inbound_call(SARAH, DEMO_NUMBER, leaves_voicemail=False)
    cody.sandbox.drain()
    call = inbound_call(factory, sid)
    assert (call.status, call.disposition) == ("missed", "vm-answer")
    assert inbox_types(factory, call.id) == [(demo.user_id, "missed_call")]


def test_without_a_forwarding_phone_the_call_goes_straight_to_voicemail(cody, api, factory, demo):
    api.put("/api/v1/me/", json={"forwarding_phone": None})
    sid = cody.sandbox.simulate_inbound_call(SARAH, DEMO_NUMBER)
    cody.sandbox.drain()
    assert verbs(cody.sandbox.twiml_log[0][1]) == ["Say", "Record", "Say", "Hangup"]
    assert inbound_call(factory, sid).status == "voicemail"


def test_the_numbers_own_forward_to_wins_and_recording_follows_the_workspace(cody, factory, demo):
    with transaction(factory) as session:
        session.execute(update(PhoneNumber).where(PhoneNumber.number == DEMO_NUMBER).values(forward_to="+14155550188"))
        from db.models import Organization

        session.get(Organization, demo.organization_id).recording_enabled = True
    answer = cody.post_twilio(VOICE, call_form("CA" + "5" * 32))
    dial = twiml(answer.text).find("Dial")
    assert dial.find("Number").text == "+14155550188"
    assert dial.get("record") == "record-from-answer-dual"


def test_the_owner_calling_their_own_line_is_not_rung_back(cody, factory, demo):
    answer = cody.post_twilio(VOICE, call_form("CA" + "6" * 32, from_=FORWARDING))
    assert "Record" in verbs(answer.text) and "Dial" not in verbs(answer.text)


def test_a_repeated_webhook_gets_the_same_twiml_and_logs_one_call(cody, factory):
    form = call_form("CA" + "1" * 32)
    answers = [cody.post_twilio(VOICE, form) for _ in range(3)]
    assert {a.status_code for a in answers} == {200}
    assert all(a.headers["content-type"].startswith("application/xml") for a in answers)
    assert len({a.text for a in answers}) == 1
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Activity).where(Activity.type == "call")) == 1


def test_repeated_status_callbacks_make_one_missed_call_and_one_inbox_item(cody, factory, demo):
    sid = "CA" + "2" * 32
    cody.post_twilio(VOICE, call_form(sid))
    activity_id = inbound_call(factory, sid).id
    for _ in range(3):
        answer = cody.post_twilio(f"{VOICE}/status?activity_id={activity_id}", call_form(sid, status="completed")
                                  + [("CallDuration", "9")])
        assert answer.status_code == 200 and verbs(answer.text) == []
    assert inbox_types(factory, activity_id) == [(demo.user_id, "missed_call")]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Draft)) == 1


def test_a_call_to_an_unknown_number_is_answered_and_logs_nothing(cody, factory):
    answer = cody.post_twilio(VOICE, call_form("CA" + "3" * 32, to="+14155550999"))
    assert verbs(answer.text) == ["Say", "Hangup"]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 0


@pytest.mark.parametrize("path", ["", "/status", "/connect", "/dial-action", "/voicemail", "/recording"])
@pytest.mark.parametrize("signature", [None, "forged="])
def test_every_voice_webhook_refuses_a_missing_or_forged_signature(cody, factory, path, signature):
    answer = cody.post_twilio(VOICE + path, call_form("CA" + "4" * 32), signature=signature)
    assert answer.status_code == 403
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 0
        assert session.scalar(select(func.count()).select_from(WebhookReceipt)) == 0


def test_a_group_line_with_no_owner_rings_nobody_and_notifies_everyone(cody, factory, demo):
    from tools.workspaces import add_member, create_user

    with transaction(factory) as session:
        mate = create_user(session, "lee@bayview.test", "Lee", "Ng")
        session.flush()
        add_member(session, demo.organization_id, mate)
        mate_id = mate.id
        session.execute(update(PhoneNumber).where(PhoneNumber.number == DEMO_NUMBER)
                        .values(sharing="group", user_id=None))
        session.get(User, demo.user_id).forwarding_phone = FORWARDING
    sid = cody.sandbox.simulate_inbound_call(STRANGER, DEMO_NUMBER, leaves_voicemail=False)
    cody.sandbox.drain()
    call = inbound_call(factory, sid)
    assert call.status == "missed"
    assert sorted(inbox_types(factory, call.id)) == sorted([(demo.user_id, "missed_call"), (mate_id, "missed_call")])
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Draft)) == 0  # nobody owns the thread yet


# What Twilio puts in From when the caller withheld their number: words, or the words spelled on a keypad (ANONYMOUS,
# RESTRICTED, BLOCKED, UNKNOWN, UNAVAILABLE).
WITHHELD = ["anonymous", "Anonymous", "Restricted", "Unknown", "Private", "", "+266696687", "+7378742833",
            "+2562533", "+8656696", "+86282452253"]


def contact_count(factory) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Contact))


@pytest.mark.parametrize("caller", WITHHELD)
def test_a_withheld_caller_is_logged_and_in_the_inbox_but_is_nobodys_contact_and_gets_no_text_back(
        cody, api, factory, demo, caller):
    contacts = contact_count(factory)
    sid = cody.sandbox.simulate_inbound_call(caller, DEMO_NUMBER, hangs_up_while_ringing=True)
    cody.sandbox.drain()
    assert twiml(cody.sandbox.twiml_log[0][1]).find("Dial").find("Number").text == FORWARDING  # the owner is rung
    call = inbound_call(factory, sid)
    logged = api.get(f"/api/v1/activity/call/{call.id}/").json()
    assert (logged["direction"], logged["status"], logged["user_id"]) == ("inbound", "missed", demo.user_id)
    assert (logged["contact_id"], logged["lead_id"], logged["remote_phone"], logged["phone"]) == (None, None, None, None)
    inbox = api.get("/api/v1/inbox/").json()["data"]
    assert [(i["type"], i["activity_id"], i["thread_id"]) for i in inbox] == [("missed_call", call.id, None)]
    assert contact_count(factory) == contacts
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Draft)) == 0  # nobody to text back


def test_two_withheld_callers_are_two_calls_with_a_voicemail_each_not_one_contact(cody, api, factory, demo):
    contacts = contact_count(factory)
    cody.sandbox.call_outcomes[FORWARDING] = "no-answer"
    sids = [cody.sandbox.simulate_inbound_call(caller, DEMO_NUMBER, voicemail_seconds=9)
            for caller in ("anonymous", "+266696687")]
    cody.sandbox.drain()
    calls = [inbound_call(factory, sid) for sid in sids]
    assert [(c.status, c.contact_id, c.thread_id) for c in calls] == [("voicemail", None, None)] * 2
    assert sorted(inbox_types(factory, c.id) for c in calls) == [[(demo.user_id, "voicemail")]] * 2
    assert contact_count(factory) == contacts


@pytest.mark.parametrize("first", ["call end", "dial result"])
def test_a_call_answered_on_the_owners_phone_is_answered_whichever_callback_comes_first(cody, api, factory, demo,
                                                                                         first):
    """The caller hangs up on an answered call: Twilio ends the <Dial> and the call together, and its status callback
    (asynchronous) may reach Cody before the <Dial> action does."""
    sid = "CA" + "7" * 32
    assert "Dial" in verbs(cody.post_twilio(VOICE, call_form(sid)).text)
    activity_id = inbound_call(factory, sid).id
    ended = call_form(sid, status="completed") + [("CallDuration", "50")]
    dialled = call_form(sid, status="completed") + [("DialCallSid", "CA" + "8" * 32), ("DialCallStatus", "completed"),
                                                    ("DialCallDuration", "42")]
    callbacks = [(f"{VOICE}/status?activity_id={activity_id}", ended),
                 (f"{VOICE}/dial-action?activity_id={activity_id}", dialled)]
    for path, form in callbacks if first == "call end" else reversed(callbacks):
        assert cody.post_twilio(path, form).status_code == 200
    logged = api.get(f"/api/v1/activity/call/{activity_id}/").json()
    assert (logged["status"], logged["disposition"], logged["duration"], logged["handled_by"]) == (
        "completed", "answered", 42, "user")
    assert api.get("/api/v1/inbox/").json()["data"] == []  # an answered call needs nobody's attention
    with factory() as session:  # and nobody is asked to text back (a text-back drafted meanwhile is withdrawn)
        assert session.scalar(select(func.count()).select_from(Draft).where(Draft.state == "pending")) == 0
