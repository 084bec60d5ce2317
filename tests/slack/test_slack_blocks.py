"""Block Kit rendering and Slack text decoding, without a server."""

from datetime import UTC, datetime, timedelta

import pytest

from api import slack_blocks as kit
from assistant.service import ChatResult
from db.models import Draft
from tests.slack.fake_slack import all_text, buttons


@pytest.mark.parametrize(("slack_text", "typed"), [
    ("text Sarah hi &amp; bye &lt;3", "text Sarah hi & bye <3"),
    ("<@UCODYBOT> text Sarah hi", "text Sarah hi"),
    ("text <@U123|kim> the link <https://example.com/a?b=1|example.com/a?b=1>", "text @kim the link example.com/a?b=1"),
    ("mail <mailto:a@b.test|a@b.test> in <#C1|general> <!here>", "mail a@b.test in #general @here"),
    ("see <https://example.com>", "see https://example.com"),
])
def test_from_slack_gives_back_what_the_user_typed(slack_text, typed):
    assert kit.from_slack(slack_text, bot_user_id="UCODYBOT") == typed


def make_draft(**kw) -> Draft:
    preview = {"contact_id": "cont_1", "contact_name": "Sarah Lee", "to": "+14155550132", "from": "+14155550100",
               "text": "Hi *Sarah* <3", "encoding": "GSM-7", "segments": 1, "attachments": [], "date_scheduled": None}
    values = {"id": "draft_1", "tool": "send_sms", "state": "pending", "args": {"text": "Hi *Sarah* <3"},
              "preview": preview, "problems": [], "channel": "slack",
              "expires_at": datetime.now(UTC) + timedelta(minutes=30)}
    return Draft(**{**values, **kw})


def test_a_pending_draft_has_the_exact_text_and_three_buttons_carrying_only_its_id():
    blocks = kit.draft_blocks(make_draft())
    assert {"type": "section", "text": {"type": "plain_text", "text": "Hi *Sarah* <3", "emoji": False}} in blocks
    assert [(b["action_id"], b["value"]) for b in buttons(blocks)] == [
        ("cody_confirm", "draft_1"), ("cody_edit", "draft_1"), ("cody_cancel", "draft_1")]


def test_a_draft_with_a_problem_shows_it_and_offers_no_confirm():
    draft = make_draft(problems=[{"code": "opted_out", "field": "contact_id", "message": "Sarah opted out <STOP>."}])
    blocks = kit.draft_blocks(draft)
    assert ":warning: Sarah opted out &lt;STOP&gt;." in all_text(blocks)
    assert [b["action_id"] for b in buttons(blocks)] == ["cody_edit", "cody_cancel"]


def test_a_scheduled_draft_shows_the_time_in_the_readers_zone():
    preview = {**make_draft().preview, "date_scheduled": "2030-01-02T17:00:00+00:00"}
    text = all_text(kit.draft_blocks(make_draft(preview=preview)))
    assert "Scheduled for <!date^1893603600^{date_short_pretty} at {time}|2030-01-02T17:00:00+00:00>" in text


def test_finished_drafts_have_no_buttons():
    for state, says in [("canceled", "Canceled; nothing was sent."), ("expired", "expired"),
                        ("failed", "Not sent: Sarah opted out.")]:
        blocks = kit.draft_blocks(make_draft(state=state, error="Sarah opted out."))
        assert buttons(blocks) == [] and says in all_text(blocks)
        assert "Sends when you confirm" not in all_text(blocks)


def test_a_call_draft_cannot_be_edited_as_text():
    blocks = kit.draft_blocks(make_draft(tool="call_contact", preview={"contact_name": "Sarah Lee", "to": "+14155550132"},
                                         problems=[{"code": "calls_unavailable", "field": "tool", "message": "No."}]))
    assert "*Call Sarah Lee*" in all_text(blocks) and [b["action_id"] for b in buttons(blocks)] == ["cody_cancel"]


def test_a_finished_cancel_card_says_whether_the_text_still_goes_out():
    preview = {**make_draft().preview, "activity_id": "acti_1", "status": "scheduled", "scheduled_by": None}
    for state, says in [("executed", "Canceled: it won't go out; it's kept as a draft."),
                        ("canceled", "Kept; the text still goes out."),
                        ("failed", "Not canceled: That text changed."),
                        ("expired", "This draft expired; the text still goes out.")]:
        blocks = kit.draft_blocks(make_draft(tool="cancel_scheduled_sms", preview=preview, state=state,
                                             error="That text changed."))
        assert buttons(blocks) == [] and says in all_text(blocks)
        assert "*Cancel the text to Sarah Lee*" in all_text(blocks) and "nothing was sent" not in all_text(blocks)


def test_a_reply_is_plain_text_and_the_fallback_is_escaped():
    text, blocks = kit.result_message(ChatResult(conversation_id="conv_1", reply="Sarah <sarah@x.test> *said* hi"))
    assert text == "Sarah &lt;sarah@x.test&gt; *said* hi"
    assert blocks == [{"type": "section", "text": {"type": "plain_text", "text": "Sarah <sarah@x.test> *said* hi",
                                                    "emoji": False}}]


def test_the_edit_modal_carries_the_exact_text_and_its_metadata():
    view = kit.edit_modal(make_draft(), "Hi *Sarah* <3", {"draft_id": "draft_1"})
    assert view["callback_id"] == "cody_edit_modal" and view["private_metadata"] == '{"draft_id": "draft_1"}'
    assert view["blocks"][1]["element"]["initial_value"] == "Hi *Sarah* <3"
