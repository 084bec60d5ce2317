"""Changing a draft by word in the chat: new words ("change it to say hello"), a new time ("change it to 8pm", "make
it 8pm instead", "schedule it for 8am"), and what a call can't change.

When the words after "change it to" are only a time phrase, the time changes: the time in a template whose one value
is a time ("send Sarah the showing confirmation for 7pm"), else the send time. "make it ... instead", "send it ...
instead", "change the time to", "schedule it for", "move it to" always speak of the send time; a draft due now
becomes scheduled. The reply says what changed, then shows the draft as it is now, problems and all; only a yes
sends it. On SQLite and PostgreSQL, through the chat API of a live Cody on the demo workspace.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from db.models import Organization
from db.session import transaction
from db.types import utcnow
from tests.assistant.chatting import say

DEMO_ZONE = ZoneInfo("America/Los_Angeles")
SMS = "/api/v1/activity/sms/"
SHOWING = "Hi Sarah, this confirms your showing at {}. See you there! - Dana"


@pytest.fixture
def db_url(any_db_url) -> str:
    return any_db_url


def next_at(hour: int, minute: int = 0) -> datetime:
    """The next time it is hour:minute on the demo's clock (today, or tomorrow once it has passed)."""
    now = utcnow().astimezone(DEMO_ZONE)
    today = datetime.combine(now.date(), time(hour, minute), DEMO_ZONE)
    return today if today > now else datetime.combine(now.date() + timedelta(days=1), time(hour, minute), DEMO_ZONE)


def tomorrow_at(hour: int) -> datetime:
    return datetime.combine(utcnow().astimezone(DEMO_ZONE).date() + timedelta(days=1), time(hour), DEMO_ZONE)


def send_at(draft: dict) -> datetime | None:
    return datetime.fromisoformat(draft["args"]["send_at"]) if draft["args"].get("send_at") else None


def confirm(chat, draft: dict) -> dict:
    confirmed = chat.post(f"/api/chat/drafts/{draft['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    return confirmed.json()["activity"]


# -- "change it to <a time>" ----------------------------------------------------------------------------------------


def test_change_it_to_8pm_on_the_showing_confirmation_changes_its_time_not_its_words(chat):
    first = say(chat, "send Sarah the showing confirmation for 7pm")
    [draft] = first["drafts"]
    assert draft["preview"]["text"] == SHOWING.format("7pm")
    changed = say(chat, "change it to 8pm", first["conversation_id"])
    [edited] = changed["drafts"]
    assert changed["reply"].splitlines()[0] == "I've changed the time to 8pm."
    assert SHOWING.format("8pm") in changed["reply"]
    assert edited["id"] == draft["id"] and edited["state"] == "pending" and edited["problems"] == []
    assert (edited["args"]["template_id"], edited["args"]["variables"], send_at(edited)) == (
        draft["args"]["template_id"], {"time": "8pm"}, None)
    assert edited["preview"]["text"] == SHOWING.format("8pm")

    sent = say(chat, "yes", first["conversation_id"])["activities"][0]
    assert (sent["text"], sent["template_id"]) == (SHOWING.format("8pm"), draft["args"]["template_id"])


def test_change_it_to_8pm_on_a_scheduled_text_moves_it_and_keeps_its_words(chat):
    first = say(chat, "text Sarah at 7pm: dinner?")
    [draft] = first["drafts"]
    assert send_at(draft) == next_at(19)
    changed = say(chat, "change it to 8pm", first["conversation_id"])
    [edited] = changed["drafts"]
    said = changed["reply"].splitlines()[0]
    assert said.startswith("I've moved it to ") and said.endswith(" at 8:00 PM.")
    assert (edited["id"], edited["preview"]["text"], edited["args"]["text"]) == (draft["id"], "dinner?", "dinner?")
    # 8pm on the evening it was to go (tomorrow's when 7pm had passed, even if 8pm today has not)
    evening = send_at(draft).replace(hour=20)
    assert send_at(edited) == evening == datetime.fromisoformat(edited["preview"]["date_scheduled"])

    sms = confirm(chat, edited)
    assert (sms["status"], sms["text"], datetime.fromisoformat(sms["date_scheduled"])) == (
        "scheduled", "dinner?", evening)


@pytest.mark.parametrize("change", [
    "make it 8pm instead", "change the time to 8pm", "schedule it for 8pm", "move it to 8pm", "send it at 8pm instead",
    "change it to 8pm", "Move it to 8 pm, please.",
])
def test_a_new_send_time_schedules_a_draft_that_was_due_now(chat, change):
    first = say(chat, "text Sarah dinner?")
    assert send_at(first["drafts"][0]) is None
    changed = say(chat, change, first["conversation_id"])
    [edited] = changed["drafts"]
    said = changed["reply"].splitlines()[0]
    assert said.startswith("I've scheduled it for ") and said.endswith(" at 8:00 PM.")
    assert (edited["preview"]["text"], send_at(edited), edited["problems"]) == ("dinner?", next_at(20), [])
    assert say(chat, "yes", first["conversation_id"])["activities"][0]["status"] == "scheduled"


@pytest.mark.parametrize("change", ["yes but at 8pm", "ok, 8pm", "no, make it 8pm instead"])
def test_a_yes_or_no_with_a_new_time_changes_the_draft_and_sends_nothing_until_the_next_yes(chat, change):
    first = say(chat, "text Sarah dinner?")
    changed = say(chat, change, first["conversation_id"])
    [edited] = changed["drafts"]
    said = changed["reply"].splitlines()[0]
    assert said.startswith("I've scheduled it for ") and said.endswith(" at 8:00 PM.")
    assert (edited["state"], send_at(edited), changed["activities"]) == ("pending", next_at(20), [])
    assert chat.get(SMS).json()["data"] == []
    assert say(chat, "yes", first["conversation_id"])["activities"][0]["status"] == "scheduled"


def test_yes_but_a_time_on_the_showing_confirmation_changes_the_showing_time(chat):
    first = say(chat, "send Sarah the showing confirmation for 7pm")
    changed = say(chat, "yes but at 8", first["conversation_id"])
    assert changed["reply"].splitlines()[0] == "I've changed the time to 8pm."
    assert (changed["drafts"][0]["preview"]["text"], changed["activities"]) == (SHOWING.format("8pm"), [])


def test_send_it_tomorrow_at_9_instead_moves_a_scheduled_text(chat):
    first = say(chat, "text Sarah at 7pm: dinner?")
    changed = say(chat, "send it tomorrow at 9 instead", first["conversation_id"])
    assert changed["reply"].splitlines()[0] == "I've moved it to tomorrow at 9:00 AM."
    assert (changed["drafts"][0]["preview"]["text"], send_at(changed["drafts"][0])) == ("dinner?", tomorrow_at(9))


def test_a_new_send_time_for_a_template_keeps_its_time_value(chat):
    first = say(chat, "send Sarah the showing confirmation for 7pm")
    changed = say(chat, "schedule it for 8am", first["conversation_id"])
    [edited] = changed["drafts"]
    assert changed["reply"].splitlines()[0].startswith("I've scheduled it for ")
    assert (edited["preview"]["text"], edited["args"]["variables"], send_at(edited)) == (
        SHOWING.format("7pm"), {"time": "7pm"}, next_at(8))


def test_a_time_already_past_shows_the_problem_and_cannot_be_confirmed(chat):
    first = say(chat, "text Sarah at 7pm: dinner?")
    changed = say(chat, "move it to today at 12:01am", first["conversation_id"])
    [edited] = changed["drafts"]
    assert [p["code"] for p in edited["problems"]] == ["in_the_past"]
    assert "It can't go out yet: " in changed["reply"] and "has passed" in changed["reply"]
    refused = say(chat, "yes", first["conversation_id"])
    assert refused["activities"] == [] and refused["reply"].startswith("I couldn't do that: ")
    assert chat.get(SMS).json()["data"] == []


def test_a_time_in_quiet_hours_shows_the_problem(chat, factory, demo):
    first = say(chat, "text Sarah at 7pm: dinner?")
    with transaction(factory) as session:
        session.execute(update(Organization).where(Organization.id == demo.organization_id)
                        .values(quiet_hours_start=time(5), quiet_hours_end=time(7)))
    changed = say(chat, "move it to tomorrow at 6am", first["conversation_id"])
    [edited] = changed["drafts"]
    assert send_at(edited) == tomorrow_at(6)
    assert [p["code"] for p in edited["problems"]] == ["quiet_hours"]
    assert "It can't go out yet: It's quiet hours for the recipient" in changed["reply"]


def test_quoted_words_or_words_after_a_colon_are_the_message_even_when_they_are_a_time(chat):
    first = say(chat, "text Sarah at 7pm: dinner?")
    quoted = say(chat, 'change it to "8pm"', first["conversation_id"])["drafts"][0]
    assert (quoted["preview"]["text"], send_at(quoted)) == ("8pm", next_at(19))
    colon = say(chat, "change it to: 9pm", first["conversation_id"])["drafts"][0]
    assert (colon["preview"]["text"], send_at(colon)) == ("9pm", next_at(19))


# -- new words ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "words"), [
    ("change it to say hello", "hello"),
    ("edit it to say: yes", "yes"),
    ("change it say see you at 8", "see you at 8"),
    ("make it say 8pm works", "8pm works"),
    ("change the message to: Running late, sorry", "Running late, sorry"),
    ("change it to The inspection moved to Saturday", "The inspection moved to Saturday"),
])
def test_the_new_words_are_what_comes_after_say(chat, change, words):
    first = say(chat, "text Sarah at 7pm: dinner?")
    changed = say(chat, change, first["conversation_id"])
    [edited] = changed["drafts"]
    assert (edited["preview"]["text"], send_at(edited)) == (words, next_at(19))
    assert f"\u201c{words}\u201d" in changed["reply"]
    assert confirm(chat, edited)["text"] == words



@pytest.mark.parametrize(("change", "words"), [
    ("change it to 'running 5 late'", "running 5 late"),
    ("change it to \u2018running 5 late\u2019", "running 5 late"),
    ("change it to say 'ok'", "ok"),
    ("change it to '8pm'", "8pm"),
    ('change it to: the sign out front now says "SOLD"', 'the sign out front now says "SOLD"'),
    ('change it to "Under contract" is official', '"Under contract" is official'),
])
def test_only_quotes_around_the_new_words_are_dropped_as_when_the_text_was_asked_for(chat, change, words):
    first = say(chat, "text Sarah at 7pm: dinner?")
    [edited] = say(chat, change, first["conversation_id"])["drafts"]
    assert (edited["preview"]["text"], send_at(edited)) == (words, next_at(19))



@pytest.mark.parametrize(("request_", "add", "words"), [
    ("text Sarah at 7pm: dinner?", "add 'See you at 7'", "dinner? See you at 7"),
    ("text Sarah at 7pm: running late", "add: Sorry!", "running late Sorry!"),
    ("text Sarah at 7pm: running late", "also add \u201c, sorry\u201d at the end", "running late, sorry"),
])
def test_add_puts_the_quoted_words_at_the_end_and_keeps_the_send_time(chat, request_, add, words):
    first = say(chat, request_)
    changed = say(chat, add, first["conversation_id"])
    [edited] = changed["drafts"]
    assert (edited["preview"]["text"], send_at(edited)) == (words, next_at(19))
    assert confirm(chat, edited)["text"] == words


def test_a_template_draft_takes_words_added_to_what_it_says(chat):
    first = say(chat, "send Sarah the showing confirmation for 7pm")
    [edited] = say(chat, "add: Bring the pre-approval letter.", first["conversation_id"])["drafts"]
    assert edited["preview"]["text"] == SHOWING.format("7pm") + " Bring the pre-approval letter."
    assert edited["args"].get("template_id") is None  # the words are the user's now


def test_add_on_a_call_says_a_call_has_no_words(chat):
    first = say(chat, "call John")
    refused = say(chat, "add 'see you soon'", first["conversation_id"])
    assert refused["reply"].startswith("A call has no words to change, so the call to John Park is as it was")
    assert refused["drafts"][0]["state"] == "pending"

# -- a call has no words --------------------------------------------------------------------------------------------


def test_change_it_to_a_person_on_a_call_says_to_ask_again_and_still_calls_john(chat):
    first = say(chat, "call John")
    [draft] = first["drafts"]
    refused = say(chat, "change it to Sarah", first["conversation_id"])
    assert refused["reply"] == ("A call has no words to change, so the call to John Park is as it was. To call Sarah "
                                "instead, ask me again: \u201ccall Sarah\u201d.")
    [kept] = refused["drafts"]
    assert (kept["id"], kept["state"], kept["args"], kept["preview"]) == (
        draft["id"], "pending", draft["args"], draft["preview"])
    called = say(chat, "yes", first["conversation_id"])["activities"][0]
    assert (called["_type"], called["remote_phone"]) == ("Call", "+12125550123")


def test_new_words_or_a_time_for_a_call_change_nothing(chat):
    first = say(chat, "call John")
    [draft] = first["drafts"]
    words = say(chat, "change it to say I'm on my way", first["conversation_id"])
    assert words["reply"] == ("A call has no words to change, so the call to John Park is as it was: confirm to call, "
                              "or cancel.")
    later = say(chat, "move it to 8pm", first["conversation_id"])
    assert later["reply"] == ("I can't schedule calls, so the call to John Park is as it was: confirm to call now, or "
                              "cancel.")
    assert chat.get(f"/api/chat/drafts/{draft['id']}").json()["args"] == draft["args"]


def test_the_draft_api_refuses_words_for_a_call(chat):
    draft = say(chat, "call John")["drafts"][0]
    refused = chat.patch(f"/api/chat/drafts/{draft['id']}", json={"args": {"text": "Sarah"}})
    assert refused.status_code == 400 and set(refused.json()["field-errors"]) == {"args.text"}
    assert chat.get(f"/api/chat/drafts/{draft['id']}").json()["args"] == draft["args"]


@pytest.mark.parametrize("change", ["change it to say bye", "move it to 8pm"])
def test_a_change_after_the_text_went_out_says_it_was_sent(chat, change):
    first = say(chat, "text Sarah hi")
    confirm(chat, first["drafts"][0])
    late = say(chat, change, first["conversation_id"])
    assert (late["reply"], late["drafts"]) == ("That was already sent, so it can't be changed.", [])
    assert [m["text"] for m in chat.get(SMS).json()["data"]] == ["hi"]


# -- a clock alone, in digits or words, read against the draft's time ------------------------------------------------


@pytest.mark.parametrize(("change", "value"), [
    ("change it to eight pm", "8pm"), ("change it to 8", "8pm"), ("change it to 8 o'clock", "8pm"),
    ("change it to 4", "4pm"), ("change it to 8:00", "8pm"), ("change it to eight", "8pm"),
    ("make it 8pm instead", "8pm"), ("change the time to 8:30pm", "8:30pm"), ("make it 9 instead", "9pm"),
])
def test_a_clock_alone_changes_the_showing_time_read_against_the_old_one(chat, change, value):
    first = say(chat, "send Sarah the showing confirmation for 7pm")
    [draft] = first["drafts"]
    changed = say(chat, change, first["conversation_id"])
    [edited] = changed["drafts"]
    assert changed["reply"].splitlines()[0] == f"I've changed the time to {value}."
    assert (edited["id"], edited["args"]["variables"], send_at(edited), edited["problems"]) == (
        draft["id"], {"time": value}, None, [])
    assert edited["preview"]["text"] == SHOWING.format(value)
    sent = say(chat, "yes", first["conversation_id"])["activities"][0]
    assert (sent["status"], sent["text"]) == ("sent", SHOWING.format(value))


def test_a_clock_alone_keeps_the_day_of_the_showing_time(chat):
    first = say(chat, "send Sarah the showing confirmation for tomorrow at 3")
    assert first["drafts"][0]["args"]["variables"] == {"time": "3pm tomorrow"}
    changed = say(chat, "change it to 4", first["conversation_id"])
    assert changed["reply"].splitlines()[0] == "I've changed the time to 4pm tomorrow."
    assert changed["drafts"][0]["preview"]["text"] == SHOWING.format("4pm tomorrow")


def test_the_time_of_a_scheduled_showing_confirmation_is_its_send_time(chat):
    first = say(chat, "send Sarah the showing confirmation for 7pm")
    say(chat, "schedule it for 8am", first["conversation_id"])
    changed = say(chat, "make it 9am instead", first["conversation_id"])
    [edited] = changed["drafts"]
    assert changed["reply"].splitlines()[0].startswith("I've moved it to ")
    # 9am on the day it was scheduled for (tomorrow when 8am had passed, even if 9am today has not)
    assert (edited["args"]["variables"], send_at(edited)) == ({"time": "7pm"}, next_at(8).replace(hour=9))


@pytest.mark.parametrize("change", ["change it to 8", "change it to 8 o'clock", "change it to eight"])
def test_a_bare_number_for_a_text_asks_whether_it_is_the_time_and_a_yes_moves_it(chat, change):
    first = say(chat, "text Sarah at 7pm: see you at 7")
    [draft] = first["drafts"]
    asked = say(chat, change, first["conversation_id"])
    assert asked["reply"] == ("Do you mean the time, 8:00 PM? Say \u201cchange the time to 8pm\u201d, or give the new "
                              "words in quotes.")
    [kept] = asked["drafts"]
    assert (kept["id"], kept["state"], kept["args"], kept["preview"]) == (
        draft["id"], "pending", draft["args"], draft["preview"])
    moved = say(chat, "yes", first["conversation_id"])  # a yes to the question changes the time, and sends nothing
    [edited] = moved["drafts"]
    assert moved["activities"] == [] and chat.get(SMS).json()["data"] == []
    assert moved["reply"].splitlines()[0].startswith("I've moved it to ")
    assert (edited["preview"]["text"], send_at(edited)) == ("see you at 7", next_at(19) + timedelta(hours=1))
    sms = confirm(chat, edited)
    assert (sms["status"], sms["text"]) == ("scheduled", "see you at 7")


def test_after_the_question_the_time_or_quoted_words_change_the_text(chat):
    first = say(chat, "text Sarah dinner at 7?")
    say(chat, "change it to 8", first["conversation_id"])
    timed = say(chat, "change the time to 8pm", first["conversation_id"])["drafts"][0]
    assert (timed["preview"]["text"], send_at(timed)) == ("dinner at 7?", next_at(20))
    say(chat, "change it to 8", first["conversation_id"])
    worded = say(chat, 'change it to "8"', first["conversation_id"])["drafts"][0]
    assert (worded["preview"]["text"], send_at(worded)) == ("8", next_at(20))


def test_change_it_to_8_00_on_a_scheduled_text_keeps_the_evening(chat):
    first = say(chat, "text Sarah at 7pm: dinner?")
    changed = say(chat, "change it to 8:00", first["conversation_id"])
    assert send_at(changed["drafts"][0]) == next_at(19) + timedelta(hours=1)


def test_a_clock_alone_keeps_the_day_the_text_was_to_go(chat):
    first = say(chat, "text Mary on Friday at 2pm: the offer was accepted")
    [draft] = first["drafts"]
    friday = send_at(draft)
    assert (friday.strftime("%A"), friday.hour) == ("Friday", 14)
    changed = say(chat, "change it to 10am", first["conversation_id"])
    [edited] = changed["drafts"]
    assert send_at(edited) == friday.replace(hour=10)
    assert changed["reply"].splitlines()[0].startswith("I've moved it to ")
    assert edited["preview"]["text"] == "the offer was accepted"


# -- "send it now" ---------------------------------------------------------------------------------------------------


def test_send_it_now_sends_a_draft_whose_time_has_passed(chat):
    first = say(chat, "text Sarah at 7pm: dinner?")
    passed = say(chat, "move it to today at 12:01am", first["conversation_id"])
    assert [p["code"] for p in passed["drafts"][0]["problems"]] == ["in_the_past"]
    assert say(chat, "yes", first["conversation_id"])["reply"].startswith("I couldn't do that: ")
    sent = say(chat, "send it now", first["conversation_id"])
    assert sent["reply"] == "Sent."
    [sms] = sent["activities"]
    assert (sms["status"], sms["text"], sms.get("date_scheduled")) == ("sent", "dinner?", None)
    assert sent["drafts"][0]["state"] == "executed" and sent["drafts"][0]["args"]["send_at"] is None


def test_send_it_now_sends_a_scheduled_draft_now(chat):
    first = say(chat, "text Sarah tomorrow at 9am: dinner?")
    sent = say(chat, "send it now", first["conversation_id"])
    assert sent["reply"] == "Sent." and [a["status"] for a in sent["activities"]] == ["sent"]
