"""Two requests in one turn, joined by "and" ("call John and text Sarah I'm on my way", "text Sarah hi and call
John"): a draft for each, shown together in one list with one closing line, as a household's drafts are, and
confirmed or dropped together. Only when the second opens with text, call or send and names someone the workspace has
(and, for a template, a template it has); otherwise the words stay the text's, as before. Through the chat API of a
live Cody on the demo workspace, on SQLite and PostgreSQL.
"""

import pytest

from tests.assistant.chatting import say

SARAH, JOHN = "+14155550132", "+12125550123"
BOTH = "Confirm to call and send, edit the text, or cancel."


@pytest.fixture
def db_url(any_db_url) -> str:
    return any_db_url


def made(answer: dict) -> list[tuple[str, str | None, str | None]]:
    """Each draft of an answer: its tool, whom it goes to and its words."""
    assert answer["question"] is None, answer["reply"]
    return [(d["tool"], d["preview"].get("contact_name"), d["preview"].get("text")) for d in answer["drafts"]]


def test_call_john_and_text_sarah_makes_both_drafts_shown_together(chat):
    answer = say(chat, "call John and text Sarah I'm on my way")
    assert made(answer) == [("call_contact", "John Park", None), ("send_sms", "Sarah Lee", "I'm on my way")]
    assert answer["reply"] == f"Call John Park?\nText Sarah Lee: \u201cI'm on my way\u201d\n{BOTH}"


def test_text_sarah_hi_and_call_john_takes_the_call_out_of_the_words_and_a_yes_does_both(chat):
    answer = say(chat, "text Sarah hi and call John")
    assert made(answer) == [("send_sms", "Sarah Lee", "hi"), ("call_contact", "John Park", None)]
    assert answer["reply"] == f"Text Sarah Lee: \u201chi\u201d\nCall John Park?\n{BOTH}"

    done = say(chat, "yes", answer["conversation_id"])
    assert done["reply"] == ("Sarah Lee: Sent.\n"
                             "John Park: Calling: your phone will ring first, then I'll connect you.")
    assert [d["state"] for d in done["drafts"]] == ["executed", "executed"]
    texts = [(m["remote_phone"], m["text"]) for m in chat.get("/api/v1/activity/sms/").json()["data"]]
    calls = [c["remote_phone"] for c in chat.get("/api/v1/activity/call/").json()["data"]]
    assert (texts, calls) == ([(SARAH, "hi")], [JOHN])


def test_a_no_drops_both(chat):
    answer = say(chat, "call John and text Sarah I'm on my way")
    dropped = say(chat, "no", answer["conversation_id"])
    assert dropped["reply"] == "Canceled; nothing was sent."
    assert [d["state"] for d in dropped["drafts"]] == ["canceled", "canceled"]
    assert chat.get("/api/v1/activity/sms/").json()["data"] == []


def test_a_second_request_to_a_household_and_a_template_are_drafted_too(chat):
    answer = say(chat, "text Sarah on my way and send the Smiths the showing confirmation for 7pm")
    assert made(answer) == [
        ("send_sms", "Sarah Lee", "on my way"),
        ("send_template", "Mary Smith", "Hi Mary, this confirms your showing at 7pm. See you there! - Dana"),
        ("send_template", "David Smith", "Hi David, this confirms your showing at 7pm. See you there! - Dana")]
    assert answer["reply"].endswith("\nConfirm to send, edit it, or cancel.") and answer["reply"].count("Confirm") == 1


@pytest.mark.parametrize(("request_", "expected"), [
    ("text Sarah hi and call Bob", [("send_sms", "Sarah Lee", "hi and call Bob")]),
    ("text Sarah sign and send John the papers", [("send_sms", "Sarah Lee", "sign and send John the papers")]),
    ("text Sarah: buy milk and call John", [("send_sms", "Sarah Lee", "buy milk and call John")]),
    ("text Sarah I'll bring the keys and call you later", [
        ("send_sms", "Sarah Lee", "I'll bring the keys and call you later")]),
    ("call John and text Bob hi", [("call_contact", "John Park", None)]),
])
def test_a_second_part_naming_nobody_the_workspace_has_stays_as_before(chat, request_, expected):
    """Words after "and" that don't name a contact (Bob), a template (papers), or that follow a colon stay the
    text's; a call's are dropped, as they were."""
    assert made(say(chat, request_)) == expected
