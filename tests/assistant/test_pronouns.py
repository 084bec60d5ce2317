""""her", "him" and "them": whom the conversation is about, the contacts Cody's last drafts went to or whose
messages or number were just read, until others take their place; "them" of a household is the household, "her" of
several asks which. In a new conversation Cody asks whom. Drafted like any other request, confirmed before it goes. On SQLite and PostgreSQL, through a live Cody on the demo workspace.
"""

import json

import pytest

from tests.assistant.chatting import llm_assistant, say
from tests.assistant.test_llm_planner import call, completion
from tools.context import Ctx

SARAH = "+14155550132"
MARY = "+14155550143"


@pytest.fixture
def db_url(any_db_url) -> str:
    return any_db_url


def draft_of(answer: dict) -> tuple[str, str, str | None]:
    [draft] = answer["drafts"]
    return draft["tool"], draft["preview"]["contact_name"], draft["preview"].get("text")


def test_after_reading_someones_messages_her_is_that_person(chat):
    read = say(chat, "what did Sarah say?")
    answer = say(chat, "text her I'll be there at 5", read["conversation_id"])
    assert draft_of(answer) == ("send_sms", "Sarah Lee", "I'll be there at 5")


def test_after_looking_up_someones_number_her_is_that_person(chat):
    found = say(chat, "what's Sarah's number?")
    assert found["reply"] == "Sarah Lee (Buyer): (415) 555-0132"
    answer = say(chat, "text her I'm outside", found["conversation_id"])
    assert draft_of(answer) == ("send_sms", "Sarah Lee", "I'm outside")


def test_after_a_text_him_or_her_is_its_recipient_and_a_call_can_follow(chat):
    first = say(chat, "text Mary the offer was accepted!")
    say(chat, "yes", first["conversation_id"])
    call = say(chat, "call her back", first["conversation_id"])
    assert draft_of(call)[:2] == ("call_contact", "Mary Smith")
    assert draft_of(say(chat, "let her know I'm on my way", first["conversation_id"])) == (
        "send_sms", "Mary Smith", "I'm on my way")


def test_the_latest_person_takes_the_place_of_the_one_before(chat):
    first = say(chat, "text Mary hi")
    say(chat, "no", first["conversation_id"])
    say(chat, "what did Sarah say?", first["conversation_id"])
    assert draft_of(say(chat, "text her: see you soon", first["conversation_id"]))[1] == "Sarah Lee"


def test_without_anyone_in_the_conversation_cody_asks_whom(chat):
    answer = say(chat, "text her I'm outside")
    assert answer["drafts"] == []
    assert answer["reply"] == "Who do you mean by \u201cher\u201d? Say their name, as in \u201ctext Sarah ...\u201d."


def test_words_asked_for_still_go_to_the_person(chat):
    read = say(chat, "what did Sarah say?")
    asked = say(chat, "text her", read["conversation_id"])
    assert asked["reply"] == "What should I say to her?"
    assert draft_of(say(chat, "on my way", asked["conversation_id"])) == ("send_sms", "Sarah Lee", "on my way")


def test_them_after_a_households_text_is_the_household(chat):
    first = say(chat, "text the Smiths the closing is Friday")
    assert len(first["drafts"]) == 2
    say(chat, "yes", first["conversation_id"])
    answer = say(chat, "text them: see you there", first["conversation_id"])
    assert sorted(d["preview"]["contact_name"] for d in answer["drafts"]) == ["David Smith", "Mary Smith"]
    assert {d["preview"]["text"] for d in answer["drafts"]} == {"see you there"}


def test_her_after_a_households_text_asks_which_and_the_answer_picks(chat):
    first = say(chat, "text the Smiths the closing is Friday")
    say(chat, "no", first["conversation_id"])
    asked = say(chat, "text her: can you bring the keys?", first["conversation_id"])
    assert asked["drafts"] == []
    labels = [choice["label"] for choice in asked["question"]["choices"]]
    assert sorted(labels) == ["David Smith", "Mary Smith"]
    assert asked["reply"] == f"Who do you mean by \u201cher\u201d: {labels[0]}, or {labels[1]}?"
    picked = say(chat, "Mary", first["conversation_id"])
    assert draft_of(picked) == ("send_sms", "Mary Smith", "can you bring the keys?")


def test_with_the_llm_planner_whose_messages_it_read_is_whom_her_means(cody, factory, demo):
    ctx = Ctx(demo.organization_id, demo.user_id, "chat")
    with llm_assistant(cody.runtime) as (assistant, router), factory() as session:
        route = router.post("/chat/completions").mock(side_effect=[
            completion(call("read_thread", {"contact": "Sarah"}, "call_r1")),
            completion(content="Sarah hasn't written yet."),
            completion(call("send_sms", {"contact": "her", "text": "I'll be there at 5"}, "call_w1")),
        ])
        read = assistant.handle(session, ctx, "what did Sarah say?")
        answer = assistant.handle(session, ctx, "text her I'll be there at 5", read.conversation_id)
    assert (read.reply, read.drafts) == ("Sarah hasn't written yet.", [])
    [draft] = answer.drafts
    assert (draft.tool, draft.preview["contact_name"], draft.preview["to"], draft.preview["text"]) == (
        "send_sms", "Sarah Lee", SARAH, "I'll be there at 5")
    assert route.call_count == 3
    tools = {t["function"]["name"]: t["function"] for t in json.loads(route.calls[2].request.content)["tools"]}
    assert "'her'" in tools["send_sms"]["parameters"]["properties"]["contact"]["description"]
