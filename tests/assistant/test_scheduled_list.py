"""Asking Cody what is scheduled ("what's scheduled?", "what texts are scheduled", "show my scheduled texts"): the
texts still waiting to go out, soonest first, each with whom it is to, when (as a person says it, in the workspace's
zone) and how it begins; "Nothing is scheduled." when none. It only reads: no draft, nothing changes. A member hears
their own texts; an admin the workspace's, with whose each is when not theirs (the texts each may cancel); never
another workspace's. Through the chat and voice APIs of a live Cody on the demo workspace, and through the LLM
planner's list_scheduled tool (respx answering the model), on SQLite and PostgreSQL.
"""

import json
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
import respx

from assistant.llm import LlmPlanner
from assistant.settings import AssistantSettings
from assistant.setup import build_assistant
from db.models import Organization, PhoneNumber
from db.session import transaction
from db.types import utcnow
from tests.assistant.chatting import say
from tests.assistant.test_cancel_scheduled import DEMO_ZONE, SMS, contact_id, schedule, sms, tomorrow_at
from tests.assistant.test_llm_planner import call, completion
from tests.live import http_client
from tools import crm
from tools.context import Ctx
from tools.workspaces import create_organization

NOTHING = "Nothing is scheduled."
LLM = "http://llm.test/v1"


@pytest.fixture
def db_url(any_db_url) -> str:
    return any_db_url


def in_days(days: int, hour: int) -> datetime:
    day = utcnow().astimezone(DEMO_ZONE).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), DEMO_ZONE)


def said_day(moment: datetime) -> str:
    """A day a few days away as Cody says it: "Tue Dec 8"."""
    return f"{moment:%a %b} {moment.day}"


def only_reply(answer: dict) -> str:
    """The reply of an answer that drafted nothing and asks nothing."""
    assert (answer["drafts"], answer["question"]) == ([], None), answer["reply"]
    return answer["reply"]


@pytest.fixture
def two_scheduled(chat) -> list[dict]:
    """John's text in three days at 9 AM, scheduled first; Sarah's tomorrow at 7 PM, which goes out first."""
    return [schedule(chat, "John Park", "The keys are in the lockbox by the back door", in_days(3, 9)),
            schedule(chat, "Sarah Lee", "See you at the showing", tomorrow_at(19))]


def listed(john_at: datetime) -> str:
    return ("2 texts scheduled:\n"
            "Sarah Lee, tomorrow at 7:00 PM: \u201cSee you at the showing\u201d\n"
            f"John Park, {said_day(john_at)} at 9:00 AM: \u201cThe keys are in the lockbox by\u2026\u201d")


# -- in the chat ------------------------------------------------------------------------------------------------------


def test_nothing_scheduled_is_said_plainly_and_a_text_sent_now_is_not_scheduled(chat):
    assert only_reply(say(chat, "what's scheduled?")) == NOTHING
    sent = chat.post(SMS, json={"status": "outbox", "contact_id": contact_id(chat, "Sarah Lee"), "text": "Hi!"})
    assert sent.status_code == 200, sent.text
    assert only_reply(say(chat, "what's scheduled?")) == NOTHING


@pytest.mark.parametrize("asked", ["what's scheduled?", "what texts are scheduled", "show my scheduled texts",
                                   "Hey Cody, do I have anything scheduled?"])
def test_the_scheduled_texts_are_listed_soonest_first_with_whom_when_and_how_they_begin(chat, two_scheduled, asked):
    assert only_reply(say(chat, asked)) == listed(in_days(3, 9))


def test_listing_changes_nothing_and_a_yes_after_it_confirms_nothing(chat, two_scheduled):
    answer = say(chat, "what's scheduled?")
    after = say(chat, "yes", answer["conversation_id"])
    assert after["reply"] == "There's nothing waiting for your confirmation."
    assert [sms(chat, text["id"])["status"] for text in two_scheduled] == ["scheduled", "scheduled"]


def test_a_text_canceled_through_cody_leaves_the_list(chat, two_scheduled):
    asked = say(chat, "cancel the text to Sarah")
    assert say(chat, "yes", asked["conversation_id"])["reply"].startswith("Canceled: the 7:00 PM text to Sarah Lee")
    assert only_reply(say(chat, "what's scheduled?")) == (
        "1 text scheduled:\n"
        f"John Park, {said_day(in_days(3, 9))} at 9:00 AM: \u201cThe keys are in the lockbox by\u2026\u201d")


def test_a_long_list_says_how_many_more(chat):
    for hour in range(8, 20):
        schedule(chat, "Sarah Lee", f"Reminder {hour}", tomorrow_at(hour))
    lines = only_reply(say(chat, "show my scheduled texts")).split("\n")
    assert lines[0] == "12 texts scheduled:"
    assert lines[1:3] == ["Sarah Lee, tomorrow at 8:00 AM: \u201cReminder 8\u201d",
                          "Sarah Lee, tomorrow at 9:00 AM: \u201cReminder 9\u201d"]
    assert (len(lines), lines[-1]) == (12, "\u2026and 2 more")


def test_a_member_hears_their_own_texts_and_an_admin_the_workspaces_with_whose_each_is(chat, member):
    schedule(chat, "John Park", "Walkthrough at 8", tomorrow_at(9))
    schedule(member, "Sarah Lee", "Running 5 minutes late", tomorrow_at(19))
    assert only_reply(say(member, "what's scheduled?")) == (
        "1 text scheduled:\nSarah Lee, tomorrow at 7:00 PM: \u201cRunning 5 minutes late\u201d")
    assert only_reply(say(chat, "what's scheduled?")) == (
        "2 texts scheduled:\n"
        "John Park, tomorrow at 9:00 AM: \u201cWalkthrough at 8\u201d\n"
        "Sarah Lee, tomorrow at 7:00 PM, from Kim Ro: \u201cRunning 5 minutes late\u201d")


def test_another_workspaces_scheduled_texts_are_never_listed(cody, chat, factory):
    with transaction(factory) as session:
        other = create_organization(session, "Other Homes", "otto@other.test", "Otto", "Berg", DEMO_ZONE.key)
        session.get(Organization, other.organization_id).wallet_balance = Decimal("10.00")
        session.add(PhoneNumber(organization_id=other.organization_id, number="+14155550300", label="Main", country="US",
                                sms=True, mms=True, voice=True, user_id=other.user_id, sharing="personal",
                                provider="sandbox", provider_sid="PNother0000000000000000000000000",
                                monthly_cost=Decimal("1.15")))
        crm.create_lead(session, Ctx(other.organization_id, other.user_id, role="admin"), crm.LeadIn(
            name="Bob Stone", contacts=[crm.ContactIn(name="Bob Stone", phones=[crm.PhoneIn(phone="(415) 555-0161")])]))
    with http_client(base_url=cody.base_url, auth=(other.api_key, ""), timeout=30) as otto:
        schedule(otto, "Bob Stone", "Offer attached", tomorrow_at(10))
        assert only_reply(say(otto, "what's scheduled?")) == (
            "1 text scheduled:\nBob Stone, tomorrow at 10:00 AM: \u201cOffer attached\u201d")
    assert only_reply(say(chat, "what's scheduled?")) == NOTHING


# -- by voice ---------------------------------------------------------------------------------------------------------


def test_by_voice_the_list_is_the_spoken_reply(chat, two_scheduled):
    answer = chat.post("/api/voice/commands", json={"transcript": "what texts are scheduled"})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["reply"], answer.json()["drafts"]) == (listed(in_days(3, 9)), [])


# -- through the language model ----------------------------------------------------------------------------------


@pytest.mark.parametrize("read_rounds", [0, 1])
def test_the_llm_planner_lists_them_with_its_list_scheduled_tool(cody, factory, demo, two_scheduled, read_rounds):
    """With a read round left, the list goes back to the model, which answers in its words; with none, Cody answers
    with the list itself."""
    settings = AssistantSettings(_env_file=None, openai_api_key="sk-test", openai_base_url=LLM,
                                 llm_max_read_rounds=read_rounds)
    planner = LlmPlanner(settings)
    assistant = build_assistant(cody.runtime.messaging, settings, planner)
    answers = [completion(call("list_scheduled", {})), completion(content="Two texts are scheduled; Sarah's goes first.")]
    try:
        with respx.mock(base_url=LLM, assert_all_called=False) as router, factory() as session:
            route = router.post("/chat/completions").mock(side_effect=answers)
            result = assistant.handle(session, Ctx(demo.organization_id, demo.user_id, "chat", role="admin"),
                                      "what's going out this week?")
    finally:
        planner.close()
    assert result.drafts == []
    if read_rounds:
        tool_result = json.loads(route.calls[1].request.content)["messages"][-1]
        assert tool_result == {"role": "tool", "tool_call_id": "call_1", "content": listed(in_days(3, 9))}
        assert result.reply == "Two texts are scheduled; Sarah's goes first."
    else:
        assert route.call_count == 1 and result.reply == listed(in_days(3, 9))
