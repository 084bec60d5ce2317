"""A recipient named by what they last did: "reply to the last text: on my way", "text back the last person",
"call back the last caller". The person is the sender of the caller's newest incoming text or call (by what was
said): one that reached their Inbox, or a call they answered. Drafted like any other request, confirmed before it
goes. On SQLite and PostgreSQL, through a live Cody on the demo workspace and the sandbox's signed webhooks.
"""

import pytest

from tests.assistant.chatting import llm_assistant, say
from tests.assistant.test_llm_planner import call, completion
from tests.calls.conftest import FORWARDING
from tests.webhooks.test_inbound_sms import SMS as INBOUND
from tests.webhooks.test_inbound_sms import inbound_form
from tools.context import Ctx
from tools.demo import DEMO_NUMBER

SARAH = "+14155550132"
MARY = "+14155550143"
STRANGER = "+14155550177"


@pytest.fixture
def db_url(any_db_url) -> str:
    return any_db_url


def texted(cody, body: str, sid_char: str, from_: str) -> None:
    assert cody.post_twilio(INBOUND, inbound_form(body, "SM" + sid_char * 32, from_=from_)).status_code == 200


def missed_call(cody, from_: str) -> None:
    cody.runtime.provider.simulate_inbound_call(from_, DEMO_NUMBER, hangs_up_while_ringing=True)
    cody.runtime.provider.drain()


def draft_of(answer: dict) -> tuple[str, str, str | None, str | None]:
    [draft] = answer["drafts"]
    return draft["tool"], draft["preview"]["contact_name"], draft["preview"].get("to"), draft["preview"].get("text")


@pytest.mark.parametrize(("request_", "reply"), [
    ("reply to the last text: on my way", "No one has texted you yet."),
    ("call back the last caller", "No one has called you yet."),
    ("text the last person: hi", "No one has texted or called you yet."),
])
def test_with_nobody_yet_cody_says_so(chat, request_, reply):
    answer = say(chat, request_)
    assert (answer["reply"], answer["drafts"]) == (reply, [])


@pytest.mark.parametrize("request_", [
    "reply to the last text: on my way", "text the last person who texted me: on my way",
    "text whoever texted me last on my way", "text back the last person, on my way",
])
def test_a_text_goes_to_whoever_texted_last_once_confirmed(chat, cody, request_):
    texted(cody, "Is the house still available?", "a", MARY)
    texted(cody, "Running late?", "b", SARAH)
    answer = say(chat, request_)
    assert draft_of(answer) == ("send_sms", "Sarah Lee", SARAH, "on my way")
    assert chat.get("/api/v1/activity/sms/", params={"direction": "outbound"}).json()["data"] == []
    sent = say(chat, "yes", answer["conversation_id"])["activities"][0]
    assert (sent["remote_phone"], sent["text"]) == (SARAH, "on my way")


def test_texts_calls_and_either_are_told_apart(chat, cody):
    texted(cody, "Running late?", "b", SARAH)
    missed_call(cody, MARY)
    assert draft_of(say(chat, "call back the last caller"))[:3] == ("call_contact", "Mary Smith", MARY)
    assert draft_of(say(chat, "call whoever texted me last"))[:3] == ("call_contact", "Sarah Lee", SARAH)
    assert draft_of(say(chat, "text the last person: hi"))[:3] == ("send_sms", "Mary Smith", MARY)


def test_without_words_cody_asks_for_them_by_the_persons_name(chat, cody):
    texted(cody, "Running late?", "b", SARAH)
    asked = say(chat, "text back the last person")
    assert (asked["reply"], asked["drafts"]) == ("What should I say to Sarah Lee?", [])
    assert draft_of(say(chat, "no rush", asked["conversation_id"])) == ("send_sms", "Sarah Lee", SARAH, "no rush")


def test_a_number_no_contact_had_before_is_answered_at_that_number(chat, cody):
    texted(cody, "Hi, is this the agent for 12 Oak St?", "c", STRANGER)
    assert draft_of(say(chat, "reply to the last text: yes, it is"))[2:] == (STRANGER, "yes, it is")


def test_the_last_person_is_the_callers_own_not_a_text_that_went_to_a_colleague(chat, member, cody):
    texted(cody, "Are you free Friday?", "a", MARY)  # an unclaimed thread: in both Dana's and Kim's Inbox
    say(chat, "yes", say(chat, "text Mary let me check")["conversation_id"])  # Dana's reply claims Mary's thread
    texted(cody, "Running late?", "b", SARAH)  # unclaimed: both
    texted(cody, "Friday works", "d", MARY)  # only Dana's
    assert draft_of(say(chat, "reply to the last text: thanks"))[1] == "Mary Smith"
    assert draft_of(say(member, "reply to the last text: thanks"))[1] == "Sarah Lee"


def test_an_answered_call_is_the_last_caller_of_who_answered_it(chat, cody):
    cody.runtime.provider.call_outcomes[FORWARDING] = "completed"
    cody.runtime.provider.simulate_inbound_call(MARY, DEMO_NUMBER)
    cody.runtime.provider.drain()
    assert draft_of(say(chat, "call back the last caller"))[1] == "Mary Smith"


def test_the_llm_planner_passes_the_phrase_on_and_cody_finds_who_in_one_model_request(cody, factory, demo):
    texted(cody, "Running late?", "b", SARAH)
    answer = completion(call("send_sms", {"contact": "the last person who texted me", "text": "on my way"}))
    with llm_assistant(cody.runtime) as (assistant, router), factory() as session:
        route = router.post("/chat/completions").mock(return_value=answer)
        result = assistant.handle(session, Ctx(demo.organization_id, demo.user_id, "chat"),
                                  "reply to whoever texted me last: on my way")
        [draft] = result.drafts
        assert (draft.preview["contact_name"], draft.preview["to"], draft.preview["text"]) == (
            "Sarah Lee", SARAH, "on my way")
    assert route.call_count == 1
