"""Yes and no by word, in the chat and by voice (POST /api/voice/commands, which has no buttons), and what a draft no
longer waiting says when it is confirmed or canceled again.

A yes or a no acts on the drafts of Cody's last answer, never on older ones the user was not just shown: a yes
confirms each of them that can go and says which can't and why, a no cancels them all. While Cody waits for the
answer to a question ("Which Smith do you mean?"), a yes asks it again. Right after a text went out to wait
(scheduled), "cancel it" offers to cancel that text, as "cancel the text to Sarah" does. On SQLite and PostgreSQL,
through a live Cody on the demo workspace.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from db.models import Draft
from db.session import transaction
from db.types import utcnow
from tests.webhooks.test_inbound_sms import SMS as INBOUND
from tests.webhooks.test_inbound_sms import inbound_form

DEMO_ZONE = ZoneInfo("America/Los_Angeles")
SMS = "/api/v1/activity/sms/"
DAVID = "+14155550144"
STILL = "This is still waiting for you: {}\nConfirm to send, edit it, or cancel."
DAVID_OPTED_OUT = ("(415) 555-0144 has opted out of texts (replied STOP); they must text START to receive messages "
                   "again.")


@pytest.fixture
def db_url(any_db_url) -> str:
    return any_db_url


@pytest.fixture(params=["chat", "voice"])
def say(request, chat):
    """A turn typed in the chat, or spoken to the voice commands API (its reply is read aloud; no buttons)."""
    def turn(text: str, conversation_id: str | None = None) -> dict:
        if request.param == "chat":
            answer = chat.post("/api/chat/messages", json={"text": text, "conversation_id": conversation_id})
        else:
            answer = chat.post("/api/voice/commands", json={"transcript": text, "conversation_id": conversation_id})
        assert answer.status_code == 200, answer.text
        return answer.json()
    return turn


@pytest.fixture
def david_opted_out(cody, chat):
    cody.post_twilio(INBOUND, inbound_form("STOP", "SM" + "4" * 32, from_=DAVID))


def next_at(hour: int) -> datetime:
    now = utcnow().astimezone(DEMO_ZONE)
    today = datetime.combine(now.date(), time(hour), DEMO_ZONE)
    return today if today > now else datetime.combine(now.date() + timedelta(days=1), time(hour), DEMO_ZONE)


def texts(chat) -> list[tuple[str, str, str]]:
    """The texts sent or waiting to go out: (to, words, status)."""
    return sorted((m["remote_phone"], m["text"], m["status"]) for m in chat.get(SMS).json()["data"]
                  if m["direction"] == "outbound")


def state(chat, draft: dict) -> str:
    return chat.get(f"/api/chat/drafts/{draft['id']}").json()["state"]


def post(chat, draft: dict, verb: str):
    return chat.post(f"/api/chat/drafts/{draft['id']}/{verb}")


# -- a yes or a no for several drafts ---------------------------------------------------------------------------------


def test_yes_sends_the_household_text_to_whoever_can_get_it_and_says_who_cannot(say, chat, david_opted_out):
    asked = say("text the Smiths see you at 7")
    assert sorted(d["preview"]["contact_name"] for d in asked["drafts"]) == ["David Smith", "Mary Smith"]
    done = say("yes", asked["conversation_id"])
    assert sorted(done["reply"].splitlines()) == ["David Smith: not sent; " + DAVID_OPTED_OUT, "Mary Smith: Sent."]
    assert [(a["remote_phone"], a["text"]) for a in done["activities"]] == [("+14155550143", "see you at 7")]
    assert sorted((d["preview"]["contact_name"], d["state"]) for d in done["drafts"]) == [
        ("David Smith", "pending"), ("Mary Smith", "executed")]
    assert [(to, text) for to, text, _ in texts(chat)] == [("+14155550143", "see you at 7")]


def test_no_cancels_every_draft_of_the_household_text(say, chat, david_opted_out):
    asked = say("text the Smiths see you at 7")
    dropped = say("no", asked["conversation_id"])
    assert dropped["reply"] == "Canceled; nothing was sent."
    assert [d["state"] for d in dropped["drafts"]] == ["canceled", "canceled"]
    assert texts(chat) == []


def test_yes_sends_every_draft_of_the_last_answer(say, chat):
    asked = say("text the Smiths running 5 minutes late")
    done = say("ok, send it", asked["conversation_id"])
    assert sorted(done["reply"].splitlines()) == ["David Smith: Sent.", "Mary Smith: Sent."]
    assert sorted((to, text) for to, text, _ in texts(chat)) == [
        ("+14155550143", "running 5 minutes late"), (DAVID, "running 5 minutes late")]


def test_yes_confirms_only_the_draft_just_shown_not_an_earlier_one(say, chat):
    earlier = say("text Sarah hi")
    asked = say("text John Park: the keys are in the lockbox", earlier["conversation_id"])
    done = say("yes", asked["conversation_id"])
    assert done["reply"] == "Sent."
    assert [(d["preview"]["contact_name"], d["state"]) for d in done["drafts"]] == [("John Park", "executed")]
    assert [(to, text) for to, text, _ in texts(chat)] == [("+12125550123", "the keys are in the lockbox")]
    assert state(chat, earlier["drafts"][0]) == "pending"
    again = say("yes", asked["conversation_id"])  # Sarah's draft is shown again, not sent unseen
    assert again["reply"] == STILL.format("Text Sarah Lee: \u201chi\u201d")
    assert [d["id"] for d in again["drafts"]] == [earlier["drafts"][0]["id"]]
    assert state(chat, earlier["drafts"][0]) == "pending"
    assert say("yes", asked["conversation_id"])["reply"] == "Sent."
    assert state(chat, earlier["drafts"][0]) == "executed"


def test_a_yes_after_an_answer_with_no_draft_confirms_nothing(say, chat):
    earlier = say("text Sarah hi")
    read = say("what's in my inbox", earlier["conversation_id"])
    assert say("yes", read["conversation_id"])["reply"] == STILL.format("Text Sarah Lee: \u201chi\u201d")
    assert state(chat, earlier["drafts"][0]) == "pending" and texts(chat) == []


def test_a_yes_with_nothing_waiting_in_the_conversation_says_so(say, chat):
    read = say("what's in my inbox")
    assert say("yes", read["conversation_id"])["reply"] == "There's nothing waiting for your confirmation."


# -- a yes, no or change after a turn without the draft: the draft still waiting is shown again -----------------------


def test_a_yes_after_a_question_shows_the_waiting_draft_then_a_yes_sends_it(say, chat):
    asked = say("text Mary the offer was accepted!")
    [draft] = asked["drafts"]
    assert draft["preview"]["contact_name"] == "Mary Smith"
    other = say("what did Mary say?", asked["conversation_id"])
    assert other["drafts"] == []
    again = say("yes", asked["conversation_id"])
    assert again["reply"] == STILL.format("Text Mary Smith: \u201cthe offer was accepted!\u201d")
    assert [(d["id"], d["state"]) for d in again["drafts"]] == [(draft["id"], "pending")]
    assert texts(chat) == []
    done = say("yes", asked["conversation_id"])
    assert done["reply"] == "Sent."
    assert [(to, text) for to, text, _ in texts(chat)] == [("+14155550143", "the offer was accepted!")]


@pytest.mark.parametrize("misread", ["make it snappier", "yes but say hi", "no, John"])
def test_what_cody_cannot_read_while_a_draft_waits_changes_nothing_and_says_so(say, chat, misread):
    asked = say("text Mary the offer was accepted!")
    [draft] = asked["drafts"]
    other = say(misread, asked["conversation_id"])
    assert other["reply"] == (
        "I didn't understand that, so nothing was changed or sent. To change it, say \u201cchange it to say ...\u201d "
        "or \u201cchange the time to 7pm\u201d.\n" + STILL.format("Text Mary Smith: \u201cthe offer was accepted!\u201d"))
    assert [(d["id"], d["state"]) for d in other["drafts"]] == [(draft["id"], "pending")] and texts(chat) == []
    assert say("yes", asked["conversation_id"])["reply"] == "Sent."
    assert [(to, text) for to, text, _ in texts(chat)] == [("+14155550143", "the offer was accepted!")]


def test_a_new_request_while_a_draft_waits_is_drafted(say, chat):
    asked = say("text Mary the offer was accepted!")
    other = say("text John I'm outside", asked["conversation_id"])
    assert [d["preview"]["text"] for d in other["drafts"]] == ["I'm outside"]


def test_a_no_after_a_question_shows_the_waiting_draft_then_a_no_cancels_it(say, chat):
    asked = say("text Mary the offer was accepted!")
    say("what did Mary say?", asked["conversation_id"])
    again = say("no", asked["conversation_id"])
    assert again["reply"] == STILL.format("Text Mary Smith: \u201cthe offer was accepted!\u201d")
    assert state(chat, asked["drafts"][0]) == "pending"
    assert say("no", asked["conversation_id"])["reply"] == "Canceled; nothing was sent."
    assert state(chat, asked["drafts"][0]) == "canceled" and texts(chat) == []


def test_a_change_after_a_question_shows_the_waiting_draft_then_a_change_changes_it(say, chat):
    asked = say("text Mary the offer was accepted!")
    say("what did Mary say?", asked["conversation_id"])
    again = say("change it to say the offer is signed", asked["conversation_id"])
    assert again["reply"] == STILL.format("Text Mary Smith: \u201cthe offer was accepted!\u201d")
    changed = say("change it to say the offer is signed", asked["conversation_id"])
    assert changed["drafts"][0]["preview"]["text"] == "the offer is signed"
    assert say("yes", asked["conversation_id"])["reply"] == "Sent."
    assert [(to, text) for to, text, _ in texts(chat)] == [("+14155550143", "the offer is signed")]


# -- a yes while Cody asks a question ---------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["yes", "ok, send it", "change it to 8pm"])
def test_a_yes_while_cody_asks_which_one_asks_again(say, chat, answer):
    asked = say("text Smith I'm running late")
    first, second = (c["label"] for c in asked["question"]["choices"])
    again = say(answer, asked["conversation_id"])
    assert again["reply"] == f"Which one? {first}, or {second}?"
    assert (again["question"], again["drafts"], again["activities"]) == (asked["question"], [], [])
    drafted = say("Mary", asked["conversation_id"])
    assert [(d["preview"]["contact_name"], d["preview"]["text"]) for d in drafted["drafts"]] == [
        ("Mary Smith", "I'm running late")]


def test_a_yes_while_cody_asks_which_one_does_not_confirm_an_earlier_draft(say, chat):
    earlier = say("text Sarah hi")
    asked = say("text Smith I'm running late", earlier["conversation_id"])
    again = say("yes", asked["conversation_id"])
    assert again["reply"].startswith("Which one? ") and again["activities"] == []
    assert state(chat, earlier["drafts"][0]) == "pending" and texts(chat) == []


def test_a_yes_while_cody_asks_for_a_value_asks_for_it_again(say):
    asked = say("send Sarah the showing confirmation")
    again = say("yes", asked["conversation_id"])
    assert again["reply"] == "What should I put for time in the \u201cShowing confirmation\u201d template?"
    drafted = say("6:30pm", asked["conversation_id"])
    assert "showing at 6:30pm" in drafted["drafts"][0]["preview"]["text"]


# -- "cancel it" right after a text went out to wait ----------------------------------------------------------------


@pytest.mark.parametrize("cancel", ["cancel it", "wait, cancel that", "no, don't send it"])
def test_cancel_it_right_after_scheduling_a_text_offers_to_cancel_that_text(say, chat, cancel):
    asked = say("text Sarah at 7pm: dinner?")
    done = say("yes", asked["conversation_id"])
    [scheduled] = done["activities"]
    assert scheduled["status"] == "scheduled"
    offered = say(cancel, asked["conversation_id"])
    [undo] = offered["drafts"]
    assert (undo["tool"], undo["state"], undo["args"]) == ("cancel_scheduled_sms", "pending",
                                                           {"activity_id": scheduled["id"]})
    assert offered["reply"].startswith("Cancel the 7:00 PM text to Sarah Lee")
    assert offered["reply"].endswith(": \u201cdinner?\u201d?\nConfirm to cancel it, or say no to keep it.")
    assert texts(chat) == [("+14155550132", "dinner?", "scheduled")], "nothing changes before the confirmation"

    canceled = say("yes", asked["conversation_id"])
    assert canceled["reply"].startswith("Canceled: the 7:00 PM text to Sarah Lee")
    kept = chat.get(f"{SMS}{scheduled['id']}/").json()
    assert (kept["status"], kept["date_scheduled"], kept["text"]) == ("draft", None, "dinner?")


def test_cancel_it_after_the_confirm_button_offers_to_cancel_the_text_and_no_keeps_it(say, chat):
    asked = say("text Sarah at 7pm: dinner?")
    confirmed = post(chat, asked["drafts"][0], "confirm")
    assert confirmed.status_code == 200, confirmed.text
    offered = say("cancel it", asked["conversation_id"])
    assert [d["tool"] for d in offered["drafts"]] == ["cancel_scheduled_sms"]
    kept = say("no", asked["conversation_id"])
    assert kept["reply"].startswith("Okay, I've left it: the 7:00 PM text to Sarah Lee")
    assert texts(chat) == [("+14155550132", "dinner?", "scheduled")]
    assert datetime.fromisoformat(chat.get(SMS).json()["data"][0]["date_scheduled"]) == next_at(19)


def test_cancel_it_after_a_text_went_out_says_it_cannot_be_called_back(say, chat):
    asked = say("text Sarah hi")
    say("yes", asked["conversation_id"])
    late = say("cancel it", asked["conversation_id"])
    assert (late["reply"], late["drafts"]) == ("That text already went out, so it can't be canceled.", [])


# -- a draft no longer waiting says what became of it ---------------------------------------------------------------


def test_a_sent_draft_says_it_was_sent(chat):
    draft = chat.post("/api/chat/messages", json={"text": "text Sarah see you soon"}).json()["drafts"][0]
    assert post(chat, draft, "confirm").status_code == 200
    for verb, says in [("confirm", "That was already sent."),
                       ("cancel", "That was already sent, so it can't be canceled.")]:
        again = post(chat, draft, verb)
        assert (again.status_code, again.json()["error"]) == (409, says)
    edited = chat.patch(f"/api/chat/drafts/{draft['id']}", json={"args": {"text": "bye"}})
    assert (edited.status_code, edited.json()["error"]) == (409, "That was already sent, so it can't be changed.")
    assert len(texts(chat)) == 1


def test_a_scheduled_draft_says_it_was_scheduled(chat):
    draft = chat.post("/api/chat/messages", json={"text": "text Sarah at 7pm: dinner?"}).json()["drafts"][0]
    assert post(chat, draft, "confirm").status_code == 200
    assert post(chat, draft, "confirm").json()["error"] == "That was already scheduled."
    assert post(chat, draft, "cancel").json()["error"] == ("That was already scheduled, so it can't be canceled. To "
                                                           "stop it, ask me to cancel the text.")


def test_a_placed_call_says_it_was_placed(chat):
    draft = chat.post("/api/chat/messages", json={"text": "call John"}).json()["drafts"][0]
    assert post(chat, draft, "confirm").status_code == 200
    again = post(chat, draft, "confirm")
    assert (again.status_code, again.json()["error"]) == (409, "That call was already placed.")


def test_a_draft_being_sent_says_so(chat, factory):
    draft = chat.post("/api/chat/messages", json={"text": "text Sarah see you soon"}).json()["drafts"][0]
    with transaction(factory) as session:  # another request confirmed it, and is sending it now
        session.execute(update(Draft).where(Draft.id == draft["id"]).values(state="confirmed"))
    assert post(chat, draft, "confirm").json()["error"] == "That is being sent now."
    assert post(chat, draft, "cancel").json()["error"] == "That is being sent now, so it can't be canceled."


def test_a_canceled_an_expired_and_a_failed_draft_say_so(chat, cody, factory):
    canceled = chat.post("/api/chat/messages", json={"text": "text Sarah hi"}).json()["drafts"][0]
    assert post(chat, canceled, "cancel").status_code == 200
    assert post(chat, canceled, "confirm").json()["error"] == "This draft was canceled; nothing was sent."

    expired = chat.post("/api/chat/messages", json={"text": "text Sarah hello"}).json()["drafts"][0]
    with transaction(factory) as session:
        session.execute(update(Draft).where(Draft.id == expired["id"]).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert post(chat, expired, "confirm").json()["error"] == ("This draft is expired; nothing was sent. Ask Cody again "
                                                              "to make a new one.")

    failed = chat.post("/api/chat/messages", json={"text": "text Sarah are you free?"}).json()["drafts"][0]
    cody.post_twilio(INBOUND, inbound_form("STOP", "SM" + "5" * 32))
    assert post(chat, failed, "confirm").status_code == 400
    again = post(chat, failed, "confirm")
    assert (again.status_code, again.json()["error"]) == (409, "That couldn't be sent: (415) 555-0132 has opted out "
                                                               "of texts (replied STOP); they must text START to "
                                                               "receive messages again.")
    assert texts(chat) == []
