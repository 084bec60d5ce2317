"""Cody's replies say things as a person would: times in the workspace's zone, never a timestamp; a call's draft asks
to call; a long text says how many texts it goes as; "any missed calls?" is answered about calls."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from assistant.wording import duration, since, texts_note, variable_question, when
from db.models import Activity, PhoneNumber
from db.session import transaction
from db.types import utcnow
from tests.assistant.chatting import say
from tests.webhooks.test_inbound_sms import SMS, inbound_form
from tools.demo import DEMO_NUMBER
from tools.inbox import add_billing_items, close_billing_items
from tools.segments import count_segments

LA = ZoneInfo("America/Los_Angeles")  # the demo workspace's zone
NOW = datetime(2026, 12, 7, 4, 38, tzinfo=UTC)  # 8:38 PM on Sun Dec 6 in Los Angeles
FORWARDING = "+14155550199"  # the demo user's own phone
STRANGER = "+14155550177"
ISO = r"\d{4}-\d\d-\d\dT"


# -- the words alone ------------------------------------------------------------------------------------------------


def test_a_time_is_said_in_the_workspaces_zone_from_today():
    assert when(datetime(2026, 12, 7, 4, 38, 7, 420050, tzinfo=UTC), LA, NOW) == "today at 8:38 PM"
    assert when("2026-12-07T19:00:00-08:00", LA, NOW) == "tomorrow at 7:00 PM"
    assert when("2026-12-08T17:00:00+00:00", LA, NOW) == "Tue Dec 8 at 9:00 AM"
    assert when(datetime(2026, 12, 6, 17, 5, tzinfo=LA), LA, NOW) == "today at 5:05 PM"
    assert when(datetime(2026, 12, 5, 9, 0, tzinfo=LA), LA, NOW) == "yesterday at 9:00 AM"
    assert when(datetime(2027, 7, 1, 12, 0, tzinfo=LA), LA, NOW) == "Thu Jul 1, 2027 at 12:00 PM"


def test_since_and_durations_are_said_plainly():
    assert since(datetime(2026, 12, 6, 0, 0, tzinfo=LA), LA, NOW) == "today"
    assert since(datetime(2026, 12, 5, 0, 0, tzinfo=LA), LA, NOW) == "since yesterday"
    assert since(datetime(2026, 11, 30, 0, 0, tzinfo=LA), LA, NOW) == "since Monday"
    assert [duration(s) for s in (1, 42, 65, 150)] == ["1 second", "42 seconds", "1 minute", "3 minutes"]


def test_a_long_text_says_how_many_texts_it_goes_as_and_what_unicode_costs():
    plain = "word " * 100
    assert texts_note("hi", 1, "GSM-7") == ""
    assert texts_note(plain, count_segments(plain).segments, "GSM-7") == " (goes as 4 texts)"
    curly = "I\u2019m " + "running late " * 10
    shape = count_segments(curly)
    assert (shape.encoding, shape.segments) == ("UCS-2", 2)
    assert texts_note(curly, shape.segments, shape.encoding) == " (goes as 2 texts; 1 without \u2019)"
    emoji = "\U0001f44d\U0001f3fd " * 40  # a thumbs-up with a skin tone is one character to a reader
    shape = count_segments(emoji)
    assert texts_note(emoji, shape.segments, shape.encoding) == f" (goes as {shape.segments} texts)"  # nothing left
    short = "Caf\u00e9 \u00e0 7? " + "\u0436" * 80  # é and à are GSM; Cyrillic is not, and is the whole text
    shape = count_segments(short)
    assert texts_note(short, shape.segments, shape.encoding) == " (goes as 2 texts; 1 without \u0436)"


def test_a_template_value_is_asked_for_by_the_templates_name():
    assert variable_question("minutes", "Running late") == (
        "What should I put for minutes in the \u201cRunning late\u201d template?")
    assert variable_question("move_in_date", "Welcome template") == (
        "What should I put for move in date in the \u201cWelcome template\u201d?")


# -- through the chat ----------------------------------------------------------------------------------------------


def test_a_scheduled_text_is_drafted_and_confirmed_with_a_spoken_time(chat):
    drafted = say(chat, "text Sarah tomorrow at 7pm: see you at the showing")
    assert drafted["reply"] == ("Text Sarah Lee tomorrow at 7:00 PM: \u201csee you at the showing\u201d\n"
                                "Confirm to send, edit it, or cancel.")
    done = say(chat, "yes", drafted["conversation_id"])
    assert done["reply"] == "Scheduled for tomorrow at 7:00 PM."
    assert re.search(ISO, drafted["reply"] + done["reply"]) is None


def test_a_call_draft_asks_to_call(chat):
    drafted = say(chat, "call Sarah")
    assert [d["tool"] for d in drafted["drafts"]] == ["call_contact"] and drafted["drafts"][0]["problems"] == []
    assert drafted["reply"] == "Call Sarah Lee?\nConfirm to call, or cancel."


@pytest.mark.parametrize(("request_", "reply"), [
    ("text sarah", "What should I say to Sarah Lee?"),
    ("tell sarah to call me", "What exactly should I say to Sarah Lee?"),
    ("send sarah", "What should I send to Sarah Lee?"),
    ("send sarah the", "Which template should I send to Sarah Lee?"),
    ("text the smiths", "What should I say to The Smiths?"),
    ("text 4155550143", "What should I say to Mary Smith?"),
    ("text 415.555.0199", "What should I say to (415) 555-0199?"),
    ("text bob", "What should I say to bob?"),
])
def test_a_question_names_the_recipient_as_stored_not_as_typed(chat, request_, reply):
    """Someone the name finds is named as the workspace has them; a number as people write it (or as the one contact
    who has it); a name that finds nobody is said as typed."""
    asked = say(chat, request_)
    assert (asked["reply"], asked["drafts"]) == (reply, [])


def test_the_answer_goes_on_to_the_person_named_in_the_question(chat):
    asked = say(chat, "text sarah")
    drafted = say(chat, "See you at 5", asked["conversation_id"])
    assert drafted["reply"] == "Text Sarah Lee: \u201cSee you at 5\u201d\nConfirm to send, edit it, or cancel."


@pytest.mark.parametrize(("request_", "first_line"), [
    ("text sarah hi", "Text Sarah Lee: \u201chi\u201d"),
    ("text 415-555-0199 hello", "Text (415) 555-0199: \u201chello\u201d"),
    ("text +442079460958 hello", "Text +44 20 7946 0958: \u201chello\u201d"),
    ("call 4155550199", "Call (415) 555-0199?"),
])
def test_a_draft_names_the_contact_as_stored_and_a_bare_number_as_people_write_it(chat, request_, first_line):
    drafted = say(chat, request_)
    assert drafted["reply"].split("\n")[0] == first_line
    assert re.search(r"\+1\d{10}|sarah", drafted["reply"]) is None


def test_a_long_text_is_drafted_saying_it_goes_as_several_texts(chat):
    words = " ".join(["The showing at 12 Elm St moved to Saturday at noon, bring the signed offer."] * 5)
    drafted = say(chat, f"text Sarah {words}")
    [draft] = drafted["drafts"]
    assert draft["preview"]["segments"] == 3
    assert drafted["reply"].split("\n")[0].endswith("\u201d (goes as 3 texts)")


def test_the_thread_is_read_in_the_workspaces_zone(chat, cody, factory):
    assert cody.post_twilio(SMS, inbound_form("Thanks, see you at 7", "SM" + "e" * 32)).status_code == 200
    yesterday = utcnow().astimezone(LA).date() - timedelta(days=1)
    evening = datetime(yesterday.year, yesterday.month, yesterday.day, 20, 19, tzinfo=LA)  # the next day in UTC
    with transaction(factory) as session:
        session.execute(update(Activity).where(Activity.provider_sid == "SM" + "e" * 32).values(activity_at=evening))
    answer = say(chat, "what did Sarah say?")
    assert answer["reply"] == "Messages with Sarah Lee (Buyer):\nThey (yesterday at 8:19 PM): Thanks, see you at 7"


def test_any_missed_calls_is_answered_about_calls(chat, cody, factory):
    assert say(chat, "any missed calls?")["reply"] == (
        "Your Inbox is clear: no texts, missed calls or voicemails.")
    assert cody.post_twilio(SMS, inbound_form("Is 7 still ok?", "SM" + "f" * 32)).status_code == 200
    texts_only = say(chat, "any missed calls?")["reply"].split("\n")
    assert texts_only[:2] == ["No missed calls or voicemails.", "1 text:"]
    assert texts_only[2].startswith("Sarah Lee (today at ") and texts_only[2].endswith("): Is 7 still ok?")

    sandbox = cody.runtime.provider
    sandbox.simulate_inbound_call(STRANGER, DEMO_NUMBER, hangs_up_while_ringing=True)
    sandbox.drain()
    sandbox.call_outcomes[FORWARDING] = "no-answer"
    sandbox.simulate_inbound_call("+14155550132", DEMO_NUMBER, voicemail_seconds=17)
    sandbox.drain()
    with factory() as session:
        calls = {a.status: a for a in session.scalars(select(Activity).where(Activity.type == "call"))}
    answer = say(chat, "any missed calls today?")
    assert answer["drafts"] == [] and answer["activities"] == []
    assert answer["reply"] == "\n".join([
        "1 missed call and 1 voicemail today:",
        f"Voicemail from Sarah Lee {when(calls['voicemail'].activity_at, LA)} (17 seconds)",
        f"Missed call from (415) 555-0177 {when(calls['missed'].activity_at, LA)}",
        "1 text today:",
        texts_only[2],
    ])


def test_a_past_due_number_is_said_first_when_asked_about_the_inbox(chat, cody, factory, demo):
    notice = ("Your business line (415) 555-0100 is past due: $1.15 for December. It is released on Dec 14 unless the "
              "wallet can pay it.")
    with transaction(factory) as session:
        line = session.scalar(select(PhoneNumber.id).where(PhoneNumber.organization_id == demo.organization_id))
        add_billing_items(session, demo.organization_id, line, notice)
    assert say(chat, "anything in my inbox?")["reply"] == (
        f"Billing: {notice}\nNo texts, missed calls or voicemails.")

    assert cody.post_twilio(SMS, inbound_form("Is 7 still ok?", "SM" + "d" * 32)).status_code == 200
    lines = say(chat, "any new messages?")["reply"].split("\n")
    assert lines[:3] == [f"Billing: {notice}", "No missed calls or voicemails.", "1 text:"]
    with transaction(factory) as session:
        close_billing_items(session, demo.organization_id, line)
    assert say(chat, "any new messages?")["reply"].split("\n")[:2] == ["No missed calls or voicemails.", "1 text:"]
