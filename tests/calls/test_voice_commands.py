"""Voice commands: a transcript (or audio, transcribed through OpenAI's audio API) answered like the chat API."""

import httpx
import pytest
import respx
from sqlalchemy import func, select

from db.models import Activity, Draft
from tests.live import http_client

OPENAI = "https://api.openai.com/v1"
COMMANDS = "/api/voice/commands"


def test_a_spoken_request_becomes_a_draft_on_the_voice_channel(cody, api, factory):
    answer = api.post(COMMANDS, json={"transcript": "text Sarah I'm running 10 minutes late"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["transcript"] == "text Sarah I'm running 10 minutes late"
    assert body["conversation_id"] and body["reply"]
    [draft] = body["drafts"]
    assert (draft["tool"], draft["state"], draft["channel"]) == ("send_sms", "pending", "voice")
    assert draft["preview"]["text"] == "I'm running 10 minutes late"
    with factory() as session:  # a draft, never a send
        assert session.scalar(select(func.count()).select_from(Activity)) == 0
        assert session.scalar(select(Draft.channel)) == "voice"


def test_the_conversation_goes_on_across_commands(cody, api):
    first = api.post(COMMANDS, json={"transcript": "text Sarah"}).json()
    assert first["question"] is not None
    second = api.post(COMMANDS, json={"transcript": "See you at the house at noon",
                                      "conversation_id": first["conversation_id"]}).json()
    assert second["conversation_id"] == first["conversation_id"]
    assert [d["preview"]["text"] for d in second["drafts"]] == ["See you at the house at noon"]


def test_a_which_one_question_names_the_choices_and_a_spoken_name_answers_it(cody, api):
    first = api.post(COMMANDS, json={"transcript": "text Smith I'm running late"}).json()
    assert first["drafts"] == [] and "Mary Smith" in first["reply"] and "David Smith" in first["reply"]
    second = api.post(COMMANDS, json={"transcript": "Mary Smith.", "conversation_id": first["conversation_id"]}).json()
    assert [(d["preview"]["contact_name"], d["preview"]["text"]) for d in second["drafts"]] == [
        ("Mary Smith", "I'm running late")]


def test_audio_without_a_model_is_a_plain_501(cody, api):
    answer = api.post(COMMANDS, files={"audio": ("command.webm", b"\x1aE\xdf\xa3fake", "audio/webm")})
    assert answer.status_code == 501
    assert "speech model" in answer.json()["error"]


def test_audio_is_transcribed_through_openai_then_answered(cody, api):
    from tools.voice.intelligence import Intelligence
    from tools.voice.settings import VoiceSettings

    cody.app.state.intelligence = Intelligence(VoiceSettings(_env_file=None, openai_api_key="sk-test"),
                                               http_client=http_client())
    with respx.mock(assert_all_called=False) as mock:
        mock.route(host="127.0.0.1").pass_through()
        route = mock.post(f"{OPENAI}/audio/transcriptions").respond(
            200, json={"text": "text Sarah see you at 7"})
        answer = api.post(COMMANDS, files={"audio": ("command.webm", b"\x1aE\xdf\xa3fake", "audio/webm")})
    assert answer.status_code == 200, answer.text
    assert answer.json()["transcript"] == "text Sarah see you at 7"
    assert [d["preview"]["text"] for d in answer.json()["drafts"]] == ["see you at 7"]
    upload = route.calls.last.request
    assert b'filename="command.webm"' in upload.content and b"\x1aE\xdf\xa3fake" in upload.content


@pytest.mark.parametrize("body", [{}, {"transcript": "   "}])
def test_an_empty_command_is_a_field_error(cody, api, body):
    answer = api.post(COMMANDS, json=body)
    assert answer.status_code == 400
    assert "transcript" in answer.json()["field-errors"]


def test_voice_commands_need_a_key(cody):
    assert httpx.post(cody.base_url + COMMANDS, json={"transcript": "text Sarah hi"}).status_code == 401
