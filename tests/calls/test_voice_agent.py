"""The AI voice agent (workspace switch): <Gather input="speech">, answers from the business info, logged as
handled by AI; without a model it says so and takes a message."""

import json

import httpx
import respx
from sqlalchemy import select, update

from db.models import Activity, InboxItem, Organization
from db.session import transaction
from tests.calls.conftest import SARAH, twiml
from tests.calls.test_twilio_calls import completion, wait_for
from tests.live import http_client
from tools.demo import DEMO_NUMBER
from tools.voice.agent import NO_MODEL_REPLY
from tools.voice.intelligence import Intelligence
from tools.voice.settings import VoiceSettings

OPENAI = "https://api.openai.com/v1"


def agent_on(factory, demo) -> None:
    with transaction(factory) as session:
        session.execute(update(Organization).where(Organization.id == demo.organization_id)
                        .values(voice_agent_enabled=True))


def call_of(factory, sid) -> Activity:
    with factory() as session:
        return session.scalar(select(Activity).where(Activity.provider_sid == sid))


def test_the_agent_answers_and_listens(cody, factory, demo):
    agent_on(factory, demo)
    sid = cody.sandbox.simulate_inbound_call(SARAH, DEMO_NUMBER, leaves_voicemail=False)
    cody.sandbox.drain()
    root = twiml(cody.sandbox.twiml_log[0][1])
    gather = root.find("Gather")
    assert gather.get("input") == "speech" and "/voice/agent?activity_id=" in gather.get("action")
    assert "How can I help?" in gather.find("Say").text
    assert [v.tag for v in root][1:] == ["Say", "Record", "Say", "Hangup"]  # silence: offer voicemail
    assert call_of(factory, sid).status == "missed"  # said nothing, left nothing


def test_without_a_model_the_agent_says_so_and_takes_a_message(cody, api, factory, demo):
    agent_on(factory, demo)
    sid = cody.sandbox.simulate_inbound_call(SARAH, DEMO_NUMBER, speech=["Are you open on Sunday?"])
    cody.sandbox.drain()
    reply = next(d for u, d in cody.sandbox.twiml_log if "/voice/agent" in u)
    assert twiml(reply).find("Say").text == NO_MODEL_REPLY and twiml(reply).find("Record") is not None
    call = call_of(factory, sid)
    logged = api.get(f"/api/v1/activity/call/{call.id}/").json()
    assert (logged["status"], logged["handled_by"]) == ("voicemail", "ai")
    assert logged["transcript"] == f"Caller: Are you open on Sunday?\nCody: {NO_MODEL_REPLY}"
    assert logged["summary"] is None
    with factory() as session:
        assert session.scalar(select(InboxItem.type).where(InboxItem.activity_id == call.id)) == "voicemail"


def test_with_a_model_the_agent_answers_from_the_business_info_and_the_call_is_summarised(cody, api, factory, demo):
    agent_on(factory, demo)
    cody.app.state.intelligence = Intelligence(VoiceSettings(_env_file=None, openai_api_key="sk-test"),
                                               http_client=http_client())
    replies = iter(["Yes, we're open 9 to 6 every day, Sundays included.", "You're welcome. Goodbye!"])
    insights = {"summary": "Sarah asked about Sunday hours; Cody said 9 to 6 daily.", "sentiment": "positive",
                "commitments": []}
    asked = []

    def chat(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        asked.append(body)
        if "response_format" in body:
            return httpx.Response(200, json=completion(insights))
        return httpx.Response(200, json={"id": "c", "object": "chat.completion", "created": 1, "model": "m",
                                         "choices": [{"index": 0, "finish_reason": "stop", "message": {
                                             "role": "assistant", "content": next(replies)}}]})

    with respx.mock(assert_all_called=False) as mock:
        mock.route(host="127.0.0.1").pass_through()
        mock.post(f"{OPENAI}/chat/completions").mock(side_effect=chat)
        sid = cody.sandbox.simulate_inbound_call(SARAH, DEMO_NUMBER,
                                                 speech=["Are you open on Sunday?", "Great, thank you"])
        cody.sandbox.drain()
        call = call_of(factory, sid)
        logged = wait_for(lambda: api.get(f"/api/v1/activity/call/{call.id}/").json(), lambda c: c["summary"])
    assert (logged["status"], logged["disposition"], logged["handled_by"]) == ("completed", "answered", "ai")
    assert logged["transcript"].splitlines() == [
        "Caller: Are you open on Sunday?", "Cody: Yes, we're open 9 to 6 every day, Sundays included.",
        "Caller: Great, thank you", "Cody: You're welcome. Goodbye!"]
    assert logged["summary"] == insights["summary"] and logged["sentiment"] == "positive"
    # The model saw the business info, and the caller's words only as the user's turn.
    assert "Open 9-6 daily" in asked[0]["messages"][0]["content"]
    assert asked[0]["messages"][-1] == {"role": "user", "content": "Are you open on Sunday?"}
    ai_calls = api.get("/api/v1/activity/call/", params={"handled_by": "ai"}).json()["data"]
    assert [c["id"] for c in ai_calls] == [call.id]
