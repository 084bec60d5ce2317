"""Against Twilio and OpenAI (both intercepted by respx): click-to-call, the signed callbacks, the recording fetched
with the account's credentials, transcribed, and summarised as structured output."""

import base64
import json
import time
from urllib.parse import parse_qs

import pytest
import respx
from sqlalchemy import select

from db.models import Contact, Organization
from db.session import transaction
from tests.calls.conftest import FORWARDING, SARAH, live_app, twiml
from tests.live import http_client
from tools.demo import DEMO_NUMBER
from tools.voice.intelligence import NO_MODEL, Intelligence
from tools.voice.settings import VoiceSettings

SID = "AC" + "1" * 32
TOKEN = "tok-5ecret-never-shown-0123456789"
CALL_SID = "CA" + "7" * 32
RECORDING_SID = "RE" + "8" * 32
RECORDING_URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/{RECORDING_SID}"
OPENAI = "https://api.openai.com/v1"

TRANSCRIPT = ("Hi Sarah, it's Dana from Bayview. Hi Dana! I loved the Elm Street house. Great, I'll send you the "
              "disclosure packet by Friday, and you'll get back to me with your offer by Monday.")
INSIGHTS = {
    "summary": "Sarah liked the Elm Street house. Dana will send the disclosures; Sarah will decide on an offer.",
    "sentiment": "positive",
    "commitments": [
        {"text": "Send the disclosure packet", "owner": "Dana", "due_date": "2030-05-10"},
        {"text": "Get back with an offer", "owner": "Sarah", "due_date": "next monday"},
    ],
}


def completion(content: dict) -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": json.dumps(content)}}]}


@pytest.fixture
def mock() -> respx.MockRouter:
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()  # the live server and its own callbacks
        yield router


@pytest.fixture
def twilio_cody(db_url, factory, demo, mock):
    with transaction(factory) as session:
        org = session.get(Organization, demo.organization_id)
        org.recording_enabled = org.transcription_enabled = True
    with live_app(db_url, factory, demo.api_key, twilio_account_sid=SID, twilio_auth_token=TOKEN) as live:
        yield live


def with_model(live) -> None:
    live.app.state.intelligence = Intelligence(VoiceSettings(_env_file=None, openai_api_key="sk-test"),
                                               http_client=http_client())


def sarah_id(factory, demo) -> str:
    with factory() as session:
        return session.scalar(select(Contact.id).where(Contact.organization_id == demo.organization_id,
                                                       Contact.name == "Sarah Lee"))


def wait_for(fetch, done, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def dial_through_twilio(live, mock, factory, demo) -> tuple[dict, respx.Route]:
    create = mock.post(f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Calls.json").respond(
        201, json={"sid": CALL_SID, "status": "queued", "account_sid": SID, "to": FORWARDING, "from": DEMO_NUMBER})
    with live.api() as api:
        answer = api.post("/api/v1/call/dial/", json={"contact_id": sarah_id(factory, demo)})
    assert answer.status_code == 200, answer.text
    return answer.json(), create


def test_click_to_call_asks_twilio_to_ring_your_phone_with_a_signed_connect_url(twilio_cody, mock, factory, demo):
    call, create = dial_through_twilio(twilio_cody, mock, factory, demo)
    request = create.calls.last.request
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    fields = parse_qs(request.content.decode())
    base = twilio_cody.base_url + "/api/webhooks/twilio/voice"
    assert fields["To"] == [FORWARDING] and fields["From"] == [DEMO_NUMBER]
    assert fields["Url"] == [f"{base}/connect?activity_id={call['id']}"]
    assert fields["StatusCallback"] == [f"{base}/status?activity_id={call['id']}"]
    assert fields["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert call["status"] == "queued"

    # Twilio, once the user picks up, fetches the connect URL (signed with the account's auth token).
    connect = twilio_cody.post_twilio(f"/api/webhooks/twilio/voice/connect?activity_id={call['id']}",
                                      [("CallSid", CALL_SID), ("CallStatus", "in-progress"), ("To", FORWARDING)])
    gather = twiml(connect.text).find("Gather")
    assert gather.get("action") == f"{base}/accept?activity_id={call['id']}"
    # A key pressed on the user's phone (a person, not its voicemail) posts Digits to the accept URL.
    accept = twilio_cody.post_twilio(f"/api/webhooks/twilio/voice/accept?activity_id={call['id']}",
                                     [("CallSid", CALL_SID), ("CallStatus", "in-progress"), ("Digits", "1")])
    root = twiml(accept.text)
    assert [v.tag for v in root] == ["Say", "Dial"]
    assert root.find("Say").text == "Calling Sarah Lee."
    dial = root.find("Dial")
    assert (dial.get("callerId"), dial.get("answerOnBridge"), dial.find("Number").text) == (DEMO_NUMBER, "true", SARAH)
    assert dial.get("record") == "record-from-answer-dual"

    for status in ("ringing", "in-progress"):
        twilio_cody.post_twilio(f"/api/webhooks/twilio/voice/status?activity_id={call['id']}",
                                [("CallSid", CALL_SID), ("CallStatus", status)])
    with twilio_cody.api() as api:
        assert api.get(f"/api/v1/activity/call/{call['id']}/").json()["status"] == "in-progress"


def answer_your_phone(live, call_id: str, key: str | None) -> str:
    """Twilio's requests once the user's phone answered: the status, the connect TwiML and, when a key was pressed,
    the accept action; returns the accept's TwiML (empty when no key came)."""
    live.post_twilio(f"/api/webhooks/twilio/voice/status?activity_id={call_id}",
                     [("CallSid", CALL_SID), ("CallStatus", "in-progress")])
    live.post_twilio(f"/api/webhooks/twilio/voice/connect?activity_id={call_id}",
                     [("CallSid", CALL_SID), ("CallStatus", "in-progress"), ("To", FORWARDING)])
    if key is None:
        return ""
    return live.post_twilio(f"/api/webhooks/twilio/voice/accept?activity_id={call_id}",
                            [("CallSid", CALL_SID), ("CallStatus", "in-progress"), ("Digits", key)]).text


def your_call_ended(live, call_id: str, seconds: int) -> None:
    live.post_twilio(f"/api/webhooks/twilio/voice/status?activity_id={call_id}",
                     [("CallSid", CALL_SID), ("CallStatus", "completed"), ("CallDuration", str(seconds))])


@pytest.mark.parametrize("dial_status, seconds, logged_as", [
    ("completed", "95", ("completed", "answered", 95)), ("busy", None, ("busy", "busy", 0)),
    ("no-answer", None, ("no-answer", "no-answer", 0))])
def test_an_accepted_call_whose_end_comes_before_its_dial_result_is_logged_by_the_dial_result(
        twilio_cody, mock, factory, demo, dial_status, seconds, logged_as):
    call, _ = dial_through_twilio(twilio_cody, mock, factory, demo)
    assert [v.tag for v in twiml(answer_your_phone(twilio_cody, call["id"], "1"))] == ["Say", "Dial"]
    # Twilio keeps no order between callbacks: the end of your leg arrives first ...
    your_call_ended(twilio_cody, call["id"], 104)
    with twilio_cody.api() as api:
        logged = api.get(f"/api/v1/activity/call/{call['id']}/").json()
    assert (logged["status"], logged["disposition"], logged["handled_by"]) == ("completed", None, "user")
    assert logged["error_message"] is None
    # ... then the Dial result, which says how the contact's leg went.
    result = [("CallSid", CALL_SID), ("DialCallSid", "CA" + "9" * 32), ("DialCallStatus", dial_status)]
    twilio_cody.post_twilio(f"/api/webhooks/twilio/voice/dial-action?activity_id={call['id']}",
                            result + ([("DialCallDuration", seconds)] if seconds else []))
    with twilio_cody.api() as api:
        logged = api.get(f"/api/v1/activity/call/{call['id']}/").json()
    assert (logged["status"], logged["disposition"], logged["duration"]) == logged_as
    assert logged["error_message"] is None


def test_hanging_up_during_the_prompt_is_logged_not_connected_and_a_late_key_rings_nobody(twilio_cody, mock, factory,
                                                                                         demo):
    call, _ = dial_through_twilio(twilio_cody, mock, factory, demo)
    answer_your_phone(twilio_cody, call["id"], None)
    your_call_ended(twilio_cody, call["id"], 6)  # no accept action: Twilio asks none when the caller hangs up
    with twilio_cody.api() as api:
        logged = api.get(f"/api/v1/activity/call/{call['id']}/").json()
    assert (logged["status"], logged["disposition"], logged["duration"]) == ("canceled", "no-answer", 0)
    assert logged["error_message"] == ("Your call ended before a key was pressed on your phone, so the contact was "
                                       "not called.")
    # A key pressed as you hung up, whose request comes after the call's end, dials nobody.
    late = twilio_cody.post_twilio(f"/api/webhooks/twilio/voice/accept?activity_id={call['id']}",
                                   [("CallSid", CALL_SID), ("CallStatus", "in-progress"), ("Digits", "1")])
    assert twiml(late.text).find("Dial") is None
    with twilio_cody.api() as api:
        logged = api.get(f"/api/v1/activity/call/{call['id']}/").json()
    assert (logged["status"], logged["handled_by"]) == ("canceled", None)


def finish_recorded_call(live, call_id: str) -> None:
    hangup = live.post_twilio(f"/api/webhooks/twilio/voice/dial-action?activity_id={call_id}", [
        ("CallSid", CALL_SID), ("DialCallSid", "CA" + "9" * 32), ("DialCallStatus", "completed"),
        ("DialCallDuration", "95")])
    assert [v.tag for v in twiml(hangup.text)] == ["Hangup"]
    live.post_twilio(f"/api/webhooks/twilio/voice/status?activity_id={call_id}",
                     [("CallSid", CALL_SID), ("CallStatus", "completed"), ("CallDuration", "104")])
    recording = live.post_twilio(f"/api/webhooks/twilio/voice/recording?activity_id={call_id}", [
        ("CallSid", CALL_SID), ("RecordingSid", RECORDING_SID), ("RecordingUrl", RECORDING_URL),
        ("RecordingStatus", "completed"), ("RecordingDuration", "95"), ("RecordingChannels", "2")])
    assert recording.status_code == 200


def test_a_recorded_call_shows_its_transcript_summary_sentiment_and_commitments(twilio_cody, mock, factory, demo):
    with_model(twilio_cody)
    audio = mock.get(RECORDING_URL + ".mp3").respond(200, content=b"ID3fake-mp3",
                                                      headers={"content-type": "audio/mpeg"})
    transcribe = mock.post(f"{OPENAI}/audio/transcriptions").respond(200, json={"text": TRANSCRIPT})
    summarise = mock.post(f"{OPENAI}/chat/completions").respond(200, json=completion(INSIGHTS))
    call, _ = dial_through_twilio(twilio_cody, mock, factory, demo)
    finish_recorded_call(twilio_cody, call["id"])

    with twilio_cody.api() as api:
        logged = wait_for(lambda: api.get(f"/api/v1/activity/call/{call['id']}/").json(),
                          lambda c: c["intelligence_status"] == "available")
    assert (logged["status"], logged["disposition"], logged["duration"]) == ("completed", "answered", 95)
    assert logged["recording_url"] == RECORDING_URL + ".mp3"
    assert logged["transcript"] == TRANSCRIPT
    assert logged["summary"] == INSIGHTS["summary"]
    assert logged["sentiment"] == "positive"
    assert logged["commitments"] == [
        {"text": "Send the disclosure packet", "owner": "Dana", "due_date": "2030-05-10"},
        {"text": "Get back with an offer", "owner": "Sarah", "due_date": None},  # not a date: dropped, not guessed
    ]
    assert logged["intelligence_note"] is None

    # The audio was fetched with the account's credentials, then sent to OpenAI's audio API.
    assert audio.calls.last.request.headers["authorization"].startswith("Basic ")
    upload = transcribe.calls.last.request
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert b"ID3fake-mp3" in upload.content and b"whisper-1" in upload.content
    asked = json.loads(summarise.calls.last.request.content)
    assert asked["response_format"]["type"] == "json_schema"
    assert asked["messages"][-1]["content"] == TRANSCRIPT


def test_without_a_model_the_call_says_plainly_there_is_no_transcript(twilio_cody, mock, factory, demo):
    audio = mock.get(RECORDING_URL + ".mp3").respond(200, content=b"x")
    call, _ = dial_through_twilio(twilio_cody, mock, factory, demo)
    finish_recorded_call(twilio_cody, call["id"])
    with twilio_cody.api() as api:
        time.sleep(0.3)
        logged = api.get(f"/api/v1/activity/call/{call['id']}/").json()
    assert logged["has_recording"] is True
    assert (logged["transcript"], logged["summary"], logged["sentiment"]) == (None, None, None)
    assert logged["commitments"] == []
    assert (logged["intelligence_status"], logged["intelligence_note"]) == ("unavailable", NO_MODEL)
    assert not audio.called  # nothing is fetched when nothing can be done with it


def test_a_model_failure_invents_nothing(twilio_cody, mock, factory, demo):
    with_model(twilio_cody)
    mock.get(RECORDING_URL + ".mp3").respond(200, content=b"ID3", headers={"content-type": "audio/mpeg"})
    transcribe = mock.post(f"{OPENAI}/audio/transcriptions").respond(500, json={"error": {"message": "down"}})
    call, _ = dial_through_twilio(twilio_cody, mock, factory, demo)
    finish_recorded_call(twilio_cody, call["id"])
    wait_for(lambda: transcribe.call_count, lambda n: n >= 1)
    time.sleep(0.3)
    with twilio_cody.api() as api:
        logged = api.get(f"/api/v1/activity/call/{call['id']}/").json()
    assert (logged["transcript"], logged["summary"], logged["sentiment"]) == (None, None, None)
    assert logged["intelligence_status"] == "pending"


def test_repeated_recording_callbacks_transcribe_once(twilio_cody, mock, factory, demo):
    with_model(twilio_cody)
    mock.get(RECORDING_URL + ".mp3").respond(200, content=b"ID3", headers={"content-type": "audio/mpeg"})
    transcribe = mock.post(f"{OPENAI}/audio/transcriptions").respond(200, json={"text": TRANSCRIPT})
    mock.post(f"{OPENAI}/chat/completions").respond(200, json=completion(INSIGHTS))
    call, _ = dial_through_twilio(twilio_cody, mock, factory, demo)
    finish_recorded_call(twilio_cody, call["id"])
    finish_recorded_call(twilio_cody, call["id"])
    with twilio_cody.api() as api:
        wait_for(lambda: api.get(f"/api/v1/activity/call/{call['id']}/").json(),
                 lambda c: c["intelligence_status"] == "available")
    assert transcribe.call_count == 1


def test_a_twilio_refusal_marks_the_call_failed(twilio_cody, mock, factory, demo):
    mock.post(f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Calls.json").respond(
        400, json={"code": 21215, "message": "Geo permission", "status": 400})
    with twilio_cody.api() as api:
        call = api.post("/api/v1/call/dial/", json={"contact_id": sarah_id(factory, demo)}).json()
    assert (call["status"], call["disposition"]) == ("failed", "blocked")
    assert call["error_message"]
