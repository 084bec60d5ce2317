"""Canceling a text still waiting to go out, in the chat: "cancel the text to Sarah", "don't send the 7pm text to
John", "cancel my scheduled text to the Smiths".

Cody finds the caller's waiting texts to that contact (for an admin, the workspace's), asks which one when there are
several, and drafts the cancel; only a confirmation puts the text back to draft, and only if it is still exactly
what was shown. On SQLite and PostgreSQL, through the chat and REST APIs of a live Cody on the demo workspace; the
texts are scheduled through the REST API for tomorrow, so the replies say "tomorrow".
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from db.types import utcnow
from tests.assistant.chatting import say

DEMO_ZONE = ZoneInfo("America/Los_Angeles")
SMS = "/api/v1/activity/sms/"


@pytest.fixture
def db_url(any_db_url) -> str:
    return any_db_url


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    day = utcnow().astimezone(DEMO_ZONE).date() + timedelta(days=1)
    return datetime.combine(day, time(hour, minute), DEMO_ZONE)


def contact_id(client, name: str) -> str:
    [found] = [c for c in client.get("/api/v1/contact/", params={"query": name}).json()["data"] if c["name"] == name]
    return found["id"]


def schedule(client, name: str, text: str, at: datetime) -> dict:
    made = client.post(SMS, json={"status": "scheduled", "contact_id": contact_id(client, name), "text": text,
                                  "date_scheduled": at.isoformat()})
    assert made.status_code == 200, made.text
    return made.json()


def sms(client, activity_id: str) -> dict:
    return client.get(f"{SMS}{activity_id}/").json()


def labels(answer: dict) -> list[str]:
    return [c["label"] for c in answer["question"]["choices"]]


# -- one waiting text ---------------------------------------------------------------------------------------------


def test_cancel_the_text_to_sarah_is_a_draft_and_confirming_puts_the_text_back_to_draft(chat):
    text = schedule(chat, "Sarah Lee", "See you at the showing", tomorrow_at(19))
    answer = say(chat, "cancel the text to Sarah")
    assert answer["reply"] == ("Cancel the 7:00 PM text to Sarah Lee tomorrow: \u201cSee you at the showing\u201d?\n"
                               "Confirm to cancel it, or say no to keep it.")
    [draft] = answer["drafts"]
    assert (draft["tool"], draft["state"], draft["problems"]) == ("cancel_scheduled_sms", "pending", [])
    preview = draft["preview"]
    assert (preview["contact_name"], preview["to"], preview["from"]) == ("Sarah Lee", "+14155550132", "+14155550100")
    assert (preview["text"], datetime.fromisoformat(preview["date_scheduled"])) == ("See you at the showing",
                                                                                    tomorrow_at(19))
    assert sms(chat, text["id"])["status"] == "scheduled", "nothing changes before the confirmation"

    done = say(chat, "yes", answer["conversation_id"])
    assert done["reply"] == "Canceled: the 7:00 PM text to Sarah Lee tomorrow won't go out; it's kept as a draft."
    assert (done["drafts"][0]["state"], done["drafts"][0]["activity_id"]) == ("executed", text["id"])
    kept = sms(chat, text["id"])
    assert (kept["status"], kept["date_scheduled"], kept["text"]) == ("draft", None, "See you at the showing")


def test_the_confirm_button_cancels_it_too(chat):
    text = schedule(chat, "Sarah Lee", "See you at the showing", tomorrow_at(19))
    draft = say(chat, "please don't send the text to Sarah Lee")["drafts"][0]
    confirmed = chat.post(f"/api/chat/drafts/{draft['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["state"], confirmed.json()["activity"]["status"]) == ("executed", "draft")
    assert sms(chat, text["id"])["status"] == "draft"


def test_no_keeps_the_text_as_it_was(chat):
    text = schedule(chat, "Sarah Lee", "See you at the showing", tomorrow_at(19))
    answer = say(chat, "cancel the text to Sarah")
    kept = say(chat, "no thanks", answer["conversation_id"])
    assert kept["reply"] == "Okay, I've left it: the 7:00 PM text to Sarah Lee tomorrow still goes out."
    assert kept["drafts"][0]["state"] == "canceled"
    assert sms(chat, text["id"])["status"] == "scheduled"


def test_a_cancel_draft_has_nothing_to_edit(chat):
    schedule(chat, "Sarah Lee", "See you at the showing", tomorrow_at(19))
    answer = say(chat, "cancel the text to Sarah")
    edited = say(chat, "change it to see you at 8", answer["conversation_id"])
    assert edited["reply"] == ("I couldn't do that: Canceling a text has nothing to change; confirm it, or say no "
                               "to keep the text as it is.")
    assert edited["drafts"][0]["state"] == "pending"


def test_nothing_waiting_is_said_plainly(chat):
    sent = chat.post(SMS, json={"status": "outbox", "contact_id": contact_id(chat, "Sarah Lee"), "text": "Hi!"})
    assert sent.status_code == 200, sent.text
    answer = say(chat, "cancel the text to Sarah")
    assert answer["reply"] == "There's no text to Sarah Lee waiting to go out, so there's nothing to cancel."
    assert (answer["drafts"], answer["question"]) == ([], None)


def test_a_time_in_the_request_picks_that_text(chat):
    schedule(chat, "John Park", "The keys are in the lockbox", tomorrow_at(9))
    evening = schedule(chat, "John Park", "Reminder: walkthrough at 8", tomorrow_at(19))
    answer = say(chat, "don't send the 7pm text to John")
    assert [d["preview"]["activity_id"] for d in answer["drafts"]] == [evening["id"]]
    at_three = say(chat, "cancel the text to John at 3pm")
    assert at_three["reply"] == ("There's no text to John Park at 3:00 PM waiting to go out, so there's nothing "
                                  "to cancel.")


# -- which one ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["the 7pm one", "7:00 PM", "2", "the second one", "the one about the walkthrough",
                                    "last"])
def test_several_waiting_texts_make_a_question_answered_by_typing(chat, answer):
    schedule(chat, "John Park", "The keys are in the lockbox", tomorrow_at(9))
    evening = schedule(chat, "John Park", "Reminder: walkthrough at 8 tonight, see you there", tomorrow_at(19))
    asked = say(chat, "cancel the text to John")
    assert asked["drafts"] == []
    assert labels(asked) == ["9:00 AM tomorrow (\u201cThe keys are in the lockbox\u201d)",
                             "7:00 PM tomorrow (\u201cReminder: walkthrough at 8 ton\u2026\u201d)"]
    assert asked["reply"] == f"Which text to John Park should I cancel: {labels(asked)[0]}, or {labels(asked)[1]}?"
    drafted = say(chat, answer, asked["conversation_id"])
    assert [d["preview"]["activity_id"] for d in drafted["drafts"]] == [evening["id"]]


def test_an_answer_that_picks_neither_asks_again(chat):
    schedule(chat, "John Park", "The keys are in the lockbox", tomorrow_at(9))
    schedule(chat, "John Park", "Reminder: walkthrough at 8", tomorrow_at(19))
    asked = say(chat, "cancel the text to John")
    again = say(chat, "the 3pm one", asked["conversation_id"])
    assert again["reply"] == f"I didn't catch which one. {asked['reply']}"
    assert again["question"] == asked["question"] and again["drafts"] == []


def test_the_smiths_texts_say_whom_each_goes_to(chat):
    schedule(chat, "Mary Smith", "Your keys are ready", tomorrow_at(10))
    david = schedule(chat, "David Smith", "Your keys are ready", tomorrow_at(11, 30))
    asked = say(chat, "cancel my scheduled text to the Smiths")
    assert labels(asked) == ["10:00 AM tomorrow to Mary Smith (\u201cYour keys are ready\u201d)",
                             "11:30 AM tomorrow to David Smith (\u201cYour keys are ready\u201d)"]
    drafted = say(chat, "David", asked["conversation_id"])
    assert [d["preview"]["activity_id"] for d in drafted["drafts"]] == [david["id"]]


def test_which_smith_is_asked_first_when_the_name_fits_several(chat):
    mary = schedule(chat, "Mary Smith", "Your keys are ready", tomorrow_at(10))
    asked = say(chat, "cancel the text to Smith")
    assert asked["reply"].startswith("Which Smith do you mean: ") and asked["drafts"] == []
    drafted = say(chat, "Mary", asked["conversation_id"])
    assert drafted["reply"].startswith("Cancel the 10:00 AM text to Mary Smith tomorrow")
    assert [d["preview"]["activity_id"] for d in drafted["drafts"]] == [mary["id"]]


# -- whose texts ----------------------------------------------------------------------------------------------------


def test_a_member_sees_only_their_own_texts_and_an_admin_sees_whose_it_is(chat, member):
    kims = schedule(member, "Sarah Lee", "Running 5 minutes late", tomorrow_at(19))
    assert say(member, "cancel the text to Sarah")["drafts"][0]["preview"]["activity_id"] == kims["id"]
    danas = say(chat, "cancel the text to Sarah")
    assert danas["reply"].startswith("Cancel Kim Ro's 7:00 PM text to Sarah Lee tomorrow:")
    schedule(chat, "John Park", "The keys are in the lockbox", tomorrow_at(9))
    assert say(member, "cancel the text to John")["reply"] == ("There's no text to John Park waiting to go out, so "
                                                               "there's nothing to cancel.")


# -- changed since ------------------------------------------------------------------------------------------------


def test_a_text_rescheduled_since_the_draft_is_not_canceled(chat):
    text = schedule(chat, "Sarah Lee", "See you at the showing", tomorrow_at(19))
    draft = say(chat, "cancel the text to Sarah")["drafts"][0]
    later = chat.put(f"{SMS}{text['id']}/", json={"status": "scheduled", "date_scheduled": tomorrow_at(20).isoformat()})
    assert later.status_code == 400, "a scheduled text is moved by taking it back to draft first"
    assert chat.put(f"{SMS}{text['id']}/", json={"status": "draft"}).status_code == 200
    moved = chat.put(f"{SMS}{text['id']}/", json={"status": "scheduled", "date_scheduled": tomorrow_at(20).isoformat()})
    assert moved.status_code == 200, moved.text
    refused = chat.post(f"/api/chat/drafts/{draft['id']}/confirm")
    assert refused.status_code == 409
    assert refused.json()["error"] == ("That text changed or went out since I showed it, so I didn't cancel it. Ask me "
                                       "again to see it as it is now.")
    assert chat.get(f"/api/chat/drafts/{draft['id']}").json()["state"] == "failed"
    still = sms(chat, text["id"])
    assert (still["status"], datetime.fromisoformat(still["date_scheduled"])) == ("scheduled", tomorrow_at(20))


def test_a_text_sent_since_the_draft_is_not_canceled(chat):
    text = schedule(chat, "Sarah Lee", "See you at the showing", tomorrow_at(19))
    answer = say(chat, "cancel the text to Sarah")
    assert chat.put(f"{SMS}{text['id']}/", json={"status": "draft"}).status_code == 200
    assert chat.put(f"{SMS}{text['id']}/", json={"status": "outbox"}).status_code == 200
    refused = say(chat, "yes", answer["conversation_id"])
    assert refused["reply"] == ("I couldn't do that: That text changed or went out since I showed it, so I didn't "
                                "cancel it. Ask me again to see it as it is now.")
    assert refused["drafts"][0]["state"] == "failed"
    assert sms(chat, text["id"])["status"] in ("sent", "delivered")
