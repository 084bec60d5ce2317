"""How Cody reads a request, end to end through the chat API on the demo workspace: who the draft goes to, its words
and its send time, on SQLite and PostgreSQL.

A time phrase opening the message is the send time ("text Sarah tomorrow at 9 the lockbox code is 4512"), unless it
is loose ("in 10 minutes I'll be there", "at 5 I'll meet you"), part of a sentence or already past; a name
said in lowercase keeps its surname ("text sarah lee the docs are ready"), and a capitalised word opening the message
stays in it when the name with it finds nobody and it is nobody's name ("text Sarah Dinner tonight?"); a holiday is a
day when it can't be a greeting ("Christmas morning", "on Christmas Eve"); several people at once get the
one-at-a-time reply; a text naming a template is the template; a phone number is a recipient; a template's time value
reads as a time ("your showing at 3pm tomorrow").
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from db.session import transaction
from tests.assistant.chatting import say
from tools import crm
from tools.context import Ctx
from tools.sms_templates import TemplateIn, create_template

DEMO_ZONE = ZoneInfo("America/Los_Angeles")
ONE_AT_A_TIME = "I can text one person at a time; ask me once for each of them."
SARAH = "+14155550132"


@pytest.fixture
def db_url(any_db_url) -> str:
    return any_db_url


def only_draft(answer: dict) -> dict:
    assert answer["question"] is None, answer["reply"]
    [draft] = answer["drafts"]
    assert draft["problems"] == [], draft["problems"]
    return draft


def sent_to(draft: dict) -> tuple[str | None, str, str]:
    preview = draft["preview"]
    return preview["contact_name"], preview["to"], preview["text"]


def scheduled(draft: dict) -> datetime | None:
    at = draft["preview"].get("date_scheduled")
    return datetime.fromisoformat(at).astimezone(DEMO_ZONE) if at else None


def tomorrow() -> date:
    return datetime.now(DEMO_ZONE).date() + timedelta(days=1)


def next_monday() -> date:
    today = datetime.now(DEMO_ZONE).date()
    return today + timedelta(days=7 - today.weekday())


# -- a send time opening the message ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "words", "day", "clock"),
    [
        ("text Sarah tomorrow at 9 the lockbox code is 4512", "the lockbox code is 4512", tomorrow, time(9)),
        ("text Sarah tomorrow morning hope the move went well", "hope the move went well", tomorrow, time(9)),
        ("text Sarah Lee next week: hello", "hello", next_monday, time(9)),
        ("text sarah lee tomorrow at 9 the lockbox code is 4512", "the lockbox code is 4512", tomorrow, time(9)),
    ],
)
def test_a_time_opening_the_message_is_the_send_time(chat, request_, words, day, clock):
    draft = only_draft(say(chat, request_))
    assert sent_to(draft) == ("Sarah Lee", SARAH, words)
    when = scheduled(draft)
    assert (when.date(), when.time()) == (day(), clock)


def test_at_5pm_opening_the_message_is_the_next_5pm(chat):
    draft = only_draft(say(chat, "text Sarah at 5pm see you at the house"))
    assert sent_to(draft) == ("Sarah Lee", SARAH, "see you at the house")
    when, now = scheduled(draft), datetime.now(DEMO_ZONE)
    assert when.time() == time(17) and now < when <= now + timedelta(days=1)


def test_in_20_minutes_before_a_colon_is_20_minutes_from_now(chat):
    before = datetime.now(DEMO_ZONE)
    draft = only_draft(say(chat, "text Sarah in 20 minutes: I'm outside"))
    assert sent_to(draft) == ("Sarah Lee", SARAH, "I'm outside")
    assert before + timedelta(minutes=20) <= scheduled(draft) <= datetime.now(DEMO_ZONE) + timedelta(minutes=20)


@pytest.mark.parametrize(
    "request_",
    ["text Sarah I'll be there at 5pm", "text Sarah tomorrow works for me", "text Sarah Friday at 3 is fine",
     "text Sarah in 10 minutes I'll be there", "text Sarah in an hour the lockbox will be open",
     "text Sarah at 5 I'll meet you at the office", "text Sarah next week let's catch up about the duplex"],
)
def test_a_time_that_is_part_of_the_message_stays_in_it(chat, request_):
    draft = only_draft(say(chat, request_))
    assert sent_to(draft) == ("Sarah Lee", SARAH, request_.removeprefix("text Sarah "))
    assert scheduled(draft) is None


def next_at(hour: int, minute: int = 0) -> datetime:
    """The next time the demo's clock shows hour:minute (today, or tomorrow once it has passed)."""
    now = datetime.now(DEMO_ZONE)
    at = datetime.combine(now.date(), time(hour, minute), DEMO_ZONE)
    return at if at > now else datetime.combine(now.date() + timedelta(days=1), time(hour, minute), DEMO_ZONE)


def test_a_clock_said_in_words_opening_the_message_is_the_send_time_as_in_digits(chat):
    draft = only_draft(say(chat, "text Sarah tomorrow at nine am the lockbox code is 4512"))
    assert sent_to(draft) == ("Sarah Lee", SARAH, "the lockbox code is 4512")
    assert (scheduled(draft).date(), scheduled(draft).time()) == (tomorrow(), time(9))
    before = next_at(19, 30)
    answer = say(chat, "text John at seven thirty pm see you there")
    draft = only_draft(answer)
    assert sent_to(draft) == ("John Park", "+12125550123", "see you there")
    assert scheduled(draft) in (before, next_at(19, 30))  # the same evening, unless 7:30 PM passed meanwhile
    assert answer["reply"].startswith("Text John Park ") and " at 7:30 PM: \u201csee you there\u201d" in answer["reply"]


@pytest.mark.parametrize(
    "request_",
    ["text Sarah at one point I thought we were done", "text Sarah at nine I'll be at the office",
     "text Sarah in ten minutes I'll be there", "text Sarah at nine o'clock the doors open",
     "text Sarah today at twelve am we signed"],
)
def test_words_that_are_no_clear_or_coming_send_time_stay_in_the_message(chat, request_):
    """A number word without a clock's shape is words; a bare hour ("at nine o'clock") and an elapsed time are loose,
    and midnight today has passed: all kept as words, sent now, as in digits."""
    draft = only_draft(say(chat, request_))
    assert sent_to(draft) == ("Sarah Lee", SARAH, request_.removeprefix("text Sarah "))
    assert scheduled(draft) is None


def test_remind_keeps_the_time_while_it_asks_for_the_words(chat):
    asked = say(chat, "remind Sarah tomorrow at 10 about the walkthrough")
    assert (asked["reply"], asked["drafts"]) == ("What exactly should I say to Sarah Lee?", [])
    draft = only_draft(say(chat, "The walkthrough is at 11, see you there", asked["conversation_id"]))
    assert sent_to(draft) == ("Sarah Lee", SARAH, "The walkthrough is at 11, see you there")
    when = scheduled(draft)
    assert (when.date(), when.time()) == (tomorrow(), time(10))


# -- names said in lowercase -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        ("text sarah lee the docs are ready", ("Sarah Lee", SARAH, "the docs are ready")),
        ("text Sarah lee, the docs are ready", ("Sarah Lee", SARAH, "the docs are ready")),
        ("text jon park hi", ("John Park", "+12125550123", "hi")),
        ("text mary smith on my way", ("Mary Smith", "+14155550143", "on my way")),
        ("text luc tremblay je suis en retard", ("Luc Tremblay", "+16045550188", "je suis en retard")),
        ("text Sarah leaving now", ("Sarah Lee", SARAH, "leaving now")),
        ("text sarah lee lee is here", ("Sarah Lee", SARAH, "lee is here")),
    ],
)
def test_a_lowercase_full_name_keeps_its_surname_out_of_the_message(chat, request_, expected):
    assert sent_to(only_draft(say(chat, request_))) == expected


def test_the_surname_picks_one_of_two_people_with_the_first_name(chat, factory, demo):
    ctx = Ctx(demo.organization_id, demo.user_id)
    with transaction(factory) as session:
        crm.create_contact(session, ctx, crm.ContactIn(name="Sarah Jones", phones=[crm.PhoneIn(phone="+14155550171")]))
    assert sent_to(only_draft(say(chat, "text sarah jones hi"))) == ("Sarah Jones", "+14155550171", "hi")
    assert sent_to(only_draft(say(chat, "text sarah lee the docs are ready"))) == ("Sarah Lee", SARAH,
                                                                                    "the docs are ready")
    asked = say(chat, "text sarah hi")
    assert asked["drafts"] == [] and len(asked["question"]["choices"]) == 2


def test_two_people_with_the_whole_name_make_a_question_and_the_surname_stays_out(chat, factory, demo):
    ctx = Ctx(demo.organization_id, demo.user_id)
    with transaction(factory) as session:
        for name, phone in (("Sarah Jones", "+14155550171"), ("Sarah Lee", "+14155550172")):
            crm.create_contact(session, ctx, crm.ContactIn(name=name, phones=[crm.PhoneIn(phone=phone)]))
    asked = say(chat, "text sarah lee the docs are ready")
    assert asked["drafts"] == [] and asked["reply"].startswith("Which sarah lee do you mean: Sarah Lee")
    assert len(asked["question"]["choices"]) == 2
    draft = only_draft(say(chat, "the second one", asked["conversation_id"]))
    assert (draft["preview"]["contact_name"], draft["preview"]["text"]) == ("Sarah Lee", "the docs are ready")


def test_a_lowercase_full_name_alone_asks_for_the_words_by_the_stored_name(chat):
    asked = say(chat, "text sarah lee")
    assert (asked["reply"], asked["drafts"]) == ("What should I say to Sarah Lee?", [])
    assert sent_to(only_draft(say(chat, "See you at 5", asked["conversation_id"]))) == ("Sarah Lee", SARAH,
                                                                                         "See you at 5")


# -- a capitalised first word of the message -------------------------------------------------------------------


@pytest.mark.parametrize(("request_", "words"), [
    ("text Sarah Dinner tonight?", "Dinner tonight?"),
    ("text Sarah Bob says hi", "Bob says hi"),
    ("text John Park Keys are under the mat", "Keys are under the mat"),
    ("text Sarah Merry Christmas!", "Merry Christmas!"),  # a greeting's word is never a name's second word
])
def test_a_capitalised_word_opening_the_message_that_is_nobodys_name_is_the_message(chat, request_, words):
    draft = only_draft(say(chat, request_))
    assert (draft["preview"]["text"], scheduled(draft)) == (words, None)


@pytest.mark.parametrize(("request_", "name"), [
    ("text Sarah Smith hi", "Sarah Smith"),  # Smith is the Smiths' name: not the first word of the message
    ("text Sarah Bob: says hi", "Sarah Bob"),  # said as the name, before the colon
    ("text Luc Bonjour, je suis en retard", "Luc Bonjour"),
])
def test_a_name_that_finds_nobody_still_finds_nobody_when_its_word_is_a_name_or_it_was_said_as_one(chat, request_,
                                                                                                     name):
    answer = say(chat, request_)
    assert answer["drafts"] == [] and answer["reply"].startswith(f"I couldn't find anyone called {name}")


def test_a_holiday_with_a_part_of_the_day_is_the_send_time(chat):
    draft = only_draft(say(chat, "text Sarah Christmas morning: Merry Christmas!"))
    today = datetime.now(DEMO_ZONE).date()
    christmas = date(today.year, 12, 25) if today <= date(today.year, 12, 25) else date(today.year + 1, 12, 25)
    assert sent_to(draft) == ("Sarah Lee", SARAH, "Merry Christmas!")
    assert (scheduled(draft).date(), scheduled(draft).time()) == (christmas, time(9))


# -- several people ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        "text Sarah, John and Mary: meeting moved to 3pm",
        "text sarah and john office closed",
        "text sarah, john and mary: meeting moved to 3pm",
        "let Sarah and John know the office is closed",
    ],
)
def test_several_people_at_once_get_the_one_at_a_time_reply(chat, request_):
    answer = say(chat, request_)
    assert (answer["reply"], answer["drafts"], answer["question"]) == (ONE_AT_A_TIME, [], None)


# -- a template named after a text verb ----------------------------------------------------------------------------


def test_text_with_a_templates_name_sends_the_template(chat):
    draft = only_draft(say(chat, "text Sarah Lee the showing confirmation for 7pm"))
    assert draft["tool"] == "send_template" and draft["args"]["template_id"]
    assert sent_to(draft) == ("Sarah Lee", SARAH, "Hi Sarah, this confirms your showing at 7pm. See you there! - Dana")


def test_text_with_a_template_missing_its_value_asks_for_it(chat):
    asked = say(chat, "text the Smiths the running late")
    assert asked["reply"] == "What should I put for minutes in the \u201cRunning late\u201d template?"
    answer = say(chat, "10", asked["conversation_id"])
    assert sorted(d["preview"]["contact_name"] for d in answer["drafts"]) == ["David Smith", "Mary Smith"]
    assert all("running about 10 minutes late" in d["preview"]["text"] for d in answer["drafts"])


@pytest.mark.parametrize("said", ["15 minutes", "15 min", "15"])
def test_a_value_said_with_the_unit_the_template_already_says_is_not_said_twice(chat, said):
    asked = say(chat, "send Sarah the running late")
    answer = say(chat, said, asked["conversation_id"])
    assert "I'm running about 15 minutes late. Sorry!" in only_draft(answer)["preview"]["text"]


@pytest.mark.parametrize("said", ["about 15", "about 15 minutes", "About 15 min"])
def test_a_value_said_with_the_word_the_template_says_before_it_is_not_said_twice(chat, said):
    asked = say(chat, "send Sarah the running late")
    answer = say(chat, said, asked["conversation_id"])
    assert "I'm running about 15 minutes late. Sorry!" in only_draft(answer)["preview"]["text"]


def test_a_value_said_with_the_word_before_it_in_the_request_is_not_said_twice(chat):
    draft = only_draft(say(chat, "send Sarah the running late template with about 15 minutes"))
    assert "I'm running about 15 minutes late. Sorry!" in draft["preview"]["text"]


@pytest.mark.parametrize("words", ["the showing went great", "the showing confirmation is attached"])
def test_words_that_only_mention_a_template_stay_words(chat, words):
    draft = only_draft(say(chat, f"text Sarah {words}"))
    assert (draft["tool"], sent_to(draft)) == ("send_sms", ("Sarah Lee", SARAH, words))


# -- phone numbers -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("request_", ["text Sarah's cell I'm outside", "text Sarah Lee's mobile: I'm outside"])
def test_the_phone_said_with_the_name_is_not_part_of_the_message(chat, request_):
    assert sent_to(only_draft(say(chat, request_))) == ("Sarah Lee", SARAH, "I'm outside")


@pytest.mark.parametrize("number", ["415-555-0143", "(415) 555 0143", "+1 415.555.0143"])
def test_who_is_a_number_names_the_contact_who_has_it(chat, number):
    assert say(chat, f"who is {number}?")["reply"] == "Mary Smith (The Smiths): (415) 555-0143"


def test_what_a_number_said_is_the_thread_of_its_contact(chat):
    assert say(chat, "what did 415-555-0132 say?")["reply"] == "No messages with Sarah Lee (Buyer) yet."


def test_a_number_of_a_contact_reaches_that_contact_at_that_number(chat):
    draft = only_draft(say(chat, "text 415-555-0144 hi"))
    assert sent_to(draft) == ("David Smith", "+14155550144", "hi")
    assert draft["args"]["remote_phone"] == "+14155550144"


def test_calling_a_number_of_a_contact(chat):
    draft = only_draft(say(chat, "call 415-555-0143"))
    assert (draft["tool"], draft["preview"]["to"]) == ("call_contact", "+14155550143")


def test_a_number_nobody_has_is_texted_as_it_is(chat):
    draft = only_draft(say(chat, "text 4155550199 test"))
    assert (draft["preview"]["contact_name"], draft["preview"]["to"], draft["preview"]["text"]) == (
        None, "+14155550199", "test")
    confirmed = chat.post(f"/api/chat/drafts/{draft['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["activity"]["remote_phone"] == "+14155550199"


def test_a_template_to_a_number_asks_its_value_and_keeps_the_number(chat):
    asked = say(chat, "send 415-555-0144 the showing confirmation")
    assert asked["reply"] == "What should I put for time in the \u201cShowing confirmation\u201d template?"
    draft = only_draft(say(chat, "7pm", asked["conversation_id"]))
    assert sent_to(draft) == ("David Smith", "+14155550144",
                              "Hi David, this confirms your showing at 7pm. See you there! - Dana")


def test_canceling_the_texts_to_a_number_looks_for_its_contact(chat):
    answer = say(chat, "cancel the text to 415-555-0143")
    assert answer["reply"] == "There's no text to Mary Smith waiting to go out, so there's nothing to cancel."


def test_a_number_that_is_no_phone_number_says_so(chat):
    answer = say(chat, "text 555-0100 hi")
    assert (answer["reply"], answer["drafts"]) == ("555-0100 isn't a phone number I can use.", [])


# -- a template's time value ---------------------------------------------------------------------------------------


def test_a_showing_tomorrow_at_3_reads_as_a_time_and_goes_now(chat):
    draft = only_draft(say(chat, "send sarah the showing confirmation tomorrow at 3"))
    assert sent_to(draft)[2] == "Hi Sarah, this confirms your showing at 3pm tomorrow. See you there! - Dana"
    assert scheduled(draft) is None


def test_an_answer_for_the_time_loses_its_at(chat):
    asked = say(chat, "send Sarah the showing confirmation")
    draft = only_draft(say(chat, "at 6:30 tomorrow", asked["conversation_id"]))
    assert "your showing at 6:30pm tomorrow." in sent_to(draft)[2]


def test_a_time_for_a_template_without_a_time_is_the_send_time(chat, factory, demo):
    with transaction(factory) as session:
        create_template(session, Ctx(demo.organization_id, demo.user_id),
                        TemplateIn(name="Thanks for visiting", text="Thanks for visiting {{ address }}!"))
    asked = say(chat, "send Sarah the thanks for visiting template tomorrow at 9")
    assert asked["reply"] == "What should I put for address in the \u201cThanks for visiting\u201d template?"
    draft = only_draft(say(chat, "at 12 Oak St", asked["conversation_id"]))
    assert sent_to(draft) == ("Sarah Lee", SARAH, "Thanks for visiting 12 Oak St!")
    when = scheduled(draft)
    assert (when.date(), when.time()) == (tomorrow(), time(9))
