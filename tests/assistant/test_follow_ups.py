"""Answers to Cody's own questions, typed in the chat: "Which Smith?", "Which template?", "What should I say?".

A typed answer that picks one of the offered choices carries on with the request as it was asked (its message, send
time and template values); an answer to "What should I say to Sarah?" is the message, whatever it looks like. Also
names said with a title or an accented capital, end to end. On SQLite and PostgreSQL, through the chat API of a live
Cody on the demo workspace.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import respx

from assistant.llm import LlmPlanner
from assistant.settings import AssistantSettings
from assistant.setup import build_assistant
from db.session import transaction
from tests.assistant.chatting import say
from tests.assistant.test_llm_planner import call, completion
from tools import crm
from tools.context import Ctx
from tools.sms_templates import TemplateIn, TemplatePatch, create_template, update_template

DEMO_ZONE = ZoneInfo("America/Los_Angeles")
LLM = "http://llm.test/v1"
DROPPED = "Okay, I've dropped that; nothing was sent."
SMITHS = {"Mary Smith": "+14155550143", "David Smith": "+14155550144"}


@pytest.fixture
def db_url(any_db_url) -> str:
    return any_db_url


THANKS = {
    "Thanks for visiting": "Thanks for visiting {{ address }}, {{ contact.first_name }}!",
    "Thanks for coming": "Thanks for coming to {{ address }}!",
}


@pytest.fixture
def thanks_templates(factory, demo) -> dict[str, str]:
    """Two templates that "the thanks template" could mean, each needing the address; their ids by name."""
    ctx = Ctx(demo.organization_id, demo.user_id)
    with transaction(factory) as session:
        return {
            name: create_template(session, ctx, TemplateIn(name=name, text=text)).id for name, text in THANKS.items()
        }


def sent_to(answer: dict) -> list[tuple[str, str]]:
    return [(d["preview"]["contact_name"], d["preview"]["text"]) for d in answer["drafts"]]


def labels(question: dict) -> list[str]:
    return [c["label"] for c in question["choices"]]


# -- "Which Smith do you mean?" -----------------------------------------------------------------------------------


def test_the_question_names_the_choices_in_the_order_of_its_buttons(chat):
    asked = say(chat, "text Smith I'm running late")
    assert asked["drafts"] == [] and len(asked["question"]["choices"]) == 2
    first, second = labels(asked["question"])
    assert asked["reply"] == f"Which Smith do you mean: {first}, or {second}?"


@pytest.mark.parametrize("answer", ["Mary Smith", "Mary", "mary.", "I mean Mary", "Mary Smith please"])
def test_a_typed_name_picks_one_of_the_choices_and_the_request_goes_on(chat, answer):
    asked = say(chat, "text Smith I'm running late")
    drafted = say(chat, answer, asked["conversation_id"])
    assert sent_to(drafted) == [("Mary Smith", "I'm running late")]
    assert drafted["drafts"][0]["preview"]["to"] == SMITHS["Mary Smith"]


@pytest.mark.parametrize(
    ("answer", "position"),
    [
        ("the second one", 1),
        ("2", 1),
        ("#2", 1),
        ("number two", 1),
        ("the first one", 0),
        ("1", 0),
        ("first", 0),
        ("the last one", 1),
    ],
)
def test_a_choice_picked_by_its_position(chat, answer, position):
    asked = say(chat, "text Smith I'm running late")
    picked = labels(asked["question"])[position]
    drafted = say(chat, answer, asked["conversation_id"])
    assert [name for name, _ in sent_to(drafted)] == [picked.split(" (")[0]]


def test_the_button_still_picks_its_choice(chat):
    asked = say(chat, "text Smith I'm running late")
    mary = next(c for c in asked["question"]["choices"] if c["label"].startswith("Mary"))
    assert sent_to(say(chat, mary["value"], asked["conversation_id"])) == [("Mary Smith", "I'm running late")]


@pytest.mark.parametrize("answer", ["Susan", "Smith", "3"])
def test_an_answer_that_picks_none_of_them_asks_again_and_keeps_the_request(chat, answer):
    asked = say(chat, "text Smith I'm running late")
    again = say(chat, answer, asked["conversation_id"])
    assert again["drafts"] == [] and again["reply"] == f"I didn't catch which one. {asked['reply']}"
    assert again["question"] == asked["question"]
    assert sent_to(say(chat, "David", asked["conversation_id"])) == [("David Smith", "I'm running late")]


def test_a_new_request_instead_of_an_answer_is_a_new_request(chat):
    asked = say(chat, "text Smith I'm running late")
    answer = say(chat, "text Sarah hi there", asked["conversation_id"])
    assert sent_to(answer) == [("Sarah Lee", "hi there")]


def test_never_mind_drops_the_question(chat):
    asked = say(chat, "text Smith I'm running late")
    dropped = say(chat, "never mind", asked["conversation_id"])
    assert dropped["reply"] == DROPPED and dropped["drafts"] == [] and dropped["question"] is None
    assert say(chat, "Mary", asked["conversation_id"])["drafts"] == []


def test_who_at_a_household_should_i_call_is_answered_by_typing(chat):
    asked = say(chat, "call the Smiths")
    assert asked["reply"] == "Who at The Smiths (2 contacts) should I call: David Smith, or Mary Smith?"
    drafted = say(chat, "David", asked["conversation_id"])
    assert [(d["tool"], d["preview"]["to"]) for d in drafted["drafts"]] == [("call_contact", SMITHS["David Smith"])]


# -- "Which template do you mean?" --------------------------------------------------------------------------------


def ask_which_thanks(chat) -> dict:
    asked = say(chat, "tomorrow at 9 send Sarah the thanks template for 12 Oak St")
    assert asked["reply"] == "Which template do you mean: Thanks for coming, or Thanks for visiting?"
    return asked


def assert_thanks_for_visiting_tomorrow_at_9(answer: dict, tomorrow: date) -> None:
    [draft] = answer["drafts"]
    assert sent_to(answer) == [("Sarah Lee", "Thanks for visiting 12 Oak St, Sarah!")]
    scheduled = datetime.fromisoformat(draft["preview"]["date_scheduled"]).astimezone(DEMO_ZONE)
    assert (scheduled.date(), scheduled.time()) == (tomorrow, time(9))


@pytest.mark.parametrize("answer", ["Thanks for visiting", "visiting", "the one for visiting", "2", "the second one"])
def test_a_template_picked_by_typing_keeps_the_send_time_and_the_values(chat, thanks_templates, answer):
    tomorrow = datetime.now(DEMO_ZONE).date() + timedelta(days=1)
    asked = ask_which_thanks(chat)
    assert_thanks_for_visiting_tomorrow_at_9(say(chat, answer, asked["conversation_id"]), tomorrow)


def test_a_template_picked_by_its_button_keeps_the_send_time_and_the_values(chat, thanks_templates):
    tomorrow = datetime.now(DEMO_ZONE).date() + timedelta(days=1)
    asked = ask_which_thanks(chat)
    [button] = [c["value"] for c in asked["question"]["choices"] if c["label"] == "Thanks for visiting"]
    assert_thanks_for_visiting_tomorrow_at_9(say(chat, button, asked["conversation_id"]), tomorrow)


def test_a_picked_template_asks_for_its_value_then_drafts_for_the_person_picked_before(chat, thanks_templates):
    asked = say(chat, "send Smith the thanks template")
    template_question = say(chat, "Mary", asked["conversation_id"])
    assert template_question["reply"] == "Which template do you mean: Thanks for coming, or Thanks for visiting?"
    value_question = say(chat, "Thanks for visiting", asked["conversation_id"])
    assert value_question["reply"] == "What should I put for address in the \u201cThanks for visiting\u201d template?"
    drafted = say(chat, "12 Oak St", asked["conversation_id"])
    assert sent_to(drafted) == [("Mary Smith", "Thanks for visiting 12 Oak St, Mary!")]


def test_a_template_archived_before_the_answer_is_not_drafted(chat, factory, demo, thanks_templates):
    asked = say(chat, "send Sarah the thanks template for 12 Oak St")
    with transaction(factory) as session:
        update_template(
            session,
            Ctx(demo.organization_id, demo.user_id),
            thanks_templates["Thanks for visiting"],
            TemplatePatch(status="archived"),
        )
    answer = say(chat, "Thanks for visiting", asked["conversation_id"])
    assert (answer["reply"], answer["drafts"]) == ("That template can't be used any more; nothing was drafted.", [])


# -- "What should I say to Sarah?" --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["Call me when you land", "Text me back", "send the docs when you can", "yes", "Find the keys under the mat"],
)
def test_the_answer_to_what_should_i_say_is_the_message_even_when_it_reads_like_a_command(chat, body):
    asked = say(chat, "text Sarah")
    assert asked["reply"] == "What should I say to Sarah Lee?"
    assert sent_to(say(chat, body, asked["conversation_id"])) == [("Sarah Lee", body)]


def test_the_answer_to_what_exactly_should_i_say_is_the_message(chat):
    asked = say(chat, "tell Sarah to call me")
    assert asked["reply"] == "What exactly should I say to Sarah Lee?"
    answer = say(chat, "Call me when you're free", asked["conversation_id"])
    assert sent_to(answer) == [("Sarah Lee", "Call me when you're free")]


def test_a_message_answer_keeps_the_send_time(chat):
    asked = say(chat, "text Sarah tomorrow at 9")
    [draft] = say(chat, "Call me when you land", asked["conversation_id"])["drafts"]
    assert draft["preview"]["text"] == "Call me when you land" and draft["preview"]["date_scheduled"]


@pytest.mark.parametrize("cancel", ["cancel", "never mind", "no thanks"])
def test_an_explicit_cancel_is_not_a_message(chat, cancel):
    asked = say(chat, "text Sarah")
    dropped = say(chat, cancel, asked["conversation_id"])
    assert (dropped["reply"], dropped["drafts"]) == (DROPPED, [])


# -- "When should I send it?" -------------------------------------------------------------------------------------


def test_the_answer_to_when_should_i_send_it_is_the_send_time(chat):
    asked = say(chat, "schedule a text to Sarah saying see you soon")
    assert asked["reply"] == "When should I send it?"
    answer = say(chat, "tomorrow at 9", asked["conversation_id"])
    [draft] = answer["drafts"]
    tomorrow_9 = datetime.combine(datetime.now(DEMO_ZONE).date() + timedelta(days=1), time(9), DEMO_ZONE)
    assert (draft["tool"], draft["preview"]["text"]) == ("send_sms", "see you soon")
    assert datetime.fromisoformat(draft["args"]["send_at"]) == tomorrow_9
    assert answer["reply"].startswith("Text Sarah Lee tomorrow at 9:00 AM: \u201csee you soon\u201d")


def test_an_answer_to_when_should_i_send_it_that_is_no_time_asks_again(chat):
    asked = say(chat, "schedule a text to Sarah saying see you soon")
    again = say(chat, "whenever works", asked["conversation_id"])
    assert (again["reply"], again["drafts"]) == ("I didn't catch when. When should I send it?", [])
    [draft] = say(chat, "at 5pm", again["conversation_id"])["drafts"]
    assert draft["preview"]["text"] == "see you soon" and draft["args"]["send_at"]


def test_with_the_model_a_send_time_it_could_not_read_is_asked_for_and_the_answer_drafts_the_text(cody, factory, demo):
    """The model's send_at "when the moon is blue" is no time: Cody asks when, keeping the text; the answer is read by
    code (no second model request) and drafts the text for then."""
    settings = AssistantSettings(_env_file=None, openai_api_key="sk-test", openai_base_url=LLM)
    planner = LlmPlanner(settings)
    assistant = build_assistant(cody.runtime.messaging, settings, planner)
    ctx = Ctx(demo.organization_id, demo.user_id, "chat", role="admin")
    try:
        with respx.mock(base_url=LLM) as router, factory() as session:
            route = router.post("/chat/completions").mock(return_value=completion(call(
                "send_sms", {"contact": "Sarah", "text": "see you soon", "send_at": "when the moon is blue"})))
            asked = assistant.handle(session, ctx, "text Sarah see you soon when the moon is blue")
            answer = assistant.handle(session, ctx, "tomorrow at 9", asked.conversation_id)
    finally:
        planner.close()
    assert route.call_count == 1 and asked.drafts == []
    assert asked.reply.startswith("When should I send it to Sarah Lee? I couldn't tell when 'when the moon is blue' is")
    [draft] = answer.drafts
    tomorrow_9 = datetime.combine(datetime.now(DEMO_ZONE).date() + timedelta(days=1), time(9), DEMO_ZONE)
    assert (draft.preview["text"], datetime.fromisoformat(draft.args["send_at"])) == ("see you soon", tomorrow_9)


# -- titles and accented names, end to end ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "name"),
    [
        ("text Dr. Patel the results are in", "Raj Patel"),
        ("text dr patel the results are in", "Raj Patel"),
        ("text Émile the results are in", "Émile Roux"),
        ("text Mr Roux the results are in", "Émile Roux"),
    ],
)
def test_titles_and_accented_capitals_reach_the_person(chat, factory, demo, request_, name):
    ctx = Ctx(demo.organization_id, demo.user_id)
    with transaction(factory) as session:
        for person, phone in (("Raj Patel", "+14155550177"), ("Émile Roux", "+14155550178")):
            crm.create_contact(session, ctx, crm.ContactIn(name=person, phones=[crm.PhoneIn(phone=phone)]))
    assert sent_to(say(chat, request_)) == [(name, "the results are in")]
