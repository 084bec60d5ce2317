"""The Slack bot end to end: signed requests from "Slack" to a live Cody, whose Bolt app talks to a fake Slack.

Each test runs Cody (app + sandbox telephony) on loopback with SLACK_* set, and a fake Slack Web API on another
loopback port (tests/slack/fake_slack.py) that answers auth.test, users.info, chat.*, views.open and records
every call, including the posts to response_url.
"""

import json
import time
from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

from db.models import Activity, Conversation, Draft, WebhookReceipt
from db.session import transaction
from db.types import utcnow
from tests.api.server import both_databases
from tests.live import http_client, live_cody
from tests.slack.fake_slack import (
    BOT_TOKEN,
    BOT_USER_ID,
    TEAM_ID,
    FakeSlack,
    all_text,
    blocks_of,
    buttons,
    fake_slack,
)
from tools.demo import seed_demo
from tools.tls import verifying_context
from tools.workspaces import add_member, create_api_key, create_user

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
EVENTS = "/api/slack/events"
DANA = "UDANA"  # Slack user whose email is the demo user's
STRANGER = "USTRANGER"  # Slack user whose email no Cody user has


@pytest.fixture
def db_url(request: pytest.FixtureRequest) -> str:
    """SQLite, unless a test is parametrized indirectly with "postgres" (`both_databases`)."""
    kind = getattr(request, "param", "sqlite")
    return request.getfixturevalue({"sqlite": "sqlite_url", "postgres": "pg_url"}[kind])


@pytest.fixture
def demo(factory):
    with transaction(factory) as session:
        return seed_demo(session)


@pytest.fixture
def slack():
    with fake_slack() as fake:
        fake.add_user(DANA, "Demo@Cody.local")
        fake.add_user(STRANGER, "stranger@elsewhere.test")
        yield fake


@pytest.fixture
def cody(db_url, factory, demo, slack, monkeypatch):
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_BASE_URL", slack.api_url)
    with live_cody(db_url, factory, run_dispatcher=True, sandbox_callback_delay_seconds=0.02) as live:
        yield live


class SlackSender:
    """Posts requests to Cody as Slack does: form bodies or JSON, signed with the signing secret."""

    def __init__(self, base_url: str, fake: FakeSlack):
        self.url = base_url + EVENTS
        self.fake = fake

    def post(self, body: str, content_type: str, timestamp: int | None = None, secret: str = SECRET,
             signature: str | None = None, headers: dict | None = None) -> httpx.Response:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        sig = signature or SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        sent = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
                **(headers or {})}
        return httpx.post(self.url, content=body.encode(), headers=sent, timeout=30, verify=verifying_context())

    def command_body(self, text: str, user: str = DANA, name: str = "cmd") -> str:
        return urlencode({"token": "legacy", "team_id": TEAM_ID, "team_domain": "cody-test", "channel_id": "C0GENERAL",
                          "channel_name": "general", "user_id": user, "user_name": user.lower(), "command": "/cody",
                          "text": text, "api_app_id": "A0CODY", "response_url": self.fake.response_url(name),
                          "trigger_id": f"trigger-{name}"})

    def command(self, text: str, user: str = DANA, name: str = "cmd", **kw) -> httpx.Response:
        return self.post(self.command_body(text, user, name), "application/x-www-form-urlencoded", **kw)

    def interactive(self, payload: dict, **kw) -> httpx.Response:
        return self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", **kw)

    def click(self, action_id: str, value: str, user: str = DANA, name: str = "btn",
              block_id: str | None = None) -> httpx.Response:
        return self.interactive({
            "type": "block_actions", "team": {"id": TEAM_ID, "domain": "cody-test"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID}, "api_app_id": "A0CODY",
            "token": "legacy", "trigger_id": f"trigger-{name}", "response_url": self.fake.response_url(name),
            "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0GENERAL",
                          "is_ephemeral": True},
            "channel": {"id": "C0GENERAL", "name": "general"},
            "actions": [{"type": "button", "action_id": action_id, "block_id": block_id or f"draft:{value}",
                         "value": value, "action_ts": "1700000001.000200"}]})

    def submit_view(self, view: dict, text: str, user: str = DANA) -> httpx.Response:
        return self.interactive({
            "type": "view_submission", "team": {"id": TEAM_ID, "domain": "cody-test"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID}, "api_app_id": "A0CODY",
            "token": "legacy", "trigger_id": "trigger-view",
            "view": {"id": "V0EDIT", "type": "modal", "team_id": TEAM_ID, "callback_id": view["callback_id"],
                     "private_metadata": view["private_metadata"], "blocks": view["blocks"],
                     "state": {"values": {"text": {"text": {"type": "plain_text_input", "value": text}}}}}})

    def event_body(self, event: dict, event_id: str) -> str:
        return json.dumps({"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0CODY", "type": "event_callback",
                           "event_id": event_id, "event_time": int(time.time()), "event": event,
                           "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}]})

    def event(self, event: dict, event_id: str, **kw) -> httpx.Response:
        return self.post(self.event_body(event, event_id), "application/json", **kw)


@pytest.fixture
def sender(cody, slack) -> SlackSender:
    return SlackSender(cody.base_url, slack)


def drafts_in_db(factory) -> list[Draft]:
    with factory() as session:
        return list(session.scalars(select(Draft).order_by(Draft.date_created)))


def outbound(factory) -> list[Activity]:
    with factory() as session:
        return list(session.scalars(select(Activity).where(Activity.direction == "outbound")))


def count(factory, model) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def wait_for_status(factory, activity_id: str, wanted: set[str], timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        with factory() as session:
            status = session.get(Activity, activity_id).status
        if status in wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def draft_card(sender: SlackSender, slack: FakeSlack, text: str, name: str = "cmd"):
    """Run `/cody <text>`; the draft card that came back through response_url, and its draft id."""
    acked = sender.command(text, name=name)
    assert acked.status_code == 200, acked.text
    [reply] = slack.wait_for("respond", name)
    blocks = blocks_of(reply)
    [draft_id] = {b["value"] for b in buttons(blocks)}
    return reply, blocks, draft_id


# -- slash command -> draft -> buttons ----------------------------------------------------------------------


@both_databases
def test_slash_command_drafts_a_card_and_confirm_sends_it(sender, slack, factory, demo):
    started = time.monotonic()
    acked = sender.command("text Sarah I'm running late")
    assert acked.status_code == 200 and time.monotonic() - started < 3
    assert acked.json() == {"response_type": "ephemeral", "text": "Working on it\u2026"}

    [reply] = slack.wait_for("respond", "cmd")
    assert reply.args["response_type"] == "ephemeral"
    blocks = blocks_of(reply)
    assert [(b["action_id"], b["text"]["text"]) for b in buttons(blocks)] == [
        ("cody_confirm", "Confirm"), ("cody_edit", "Edit"), ("cody_cancel", "Cancel")]
    [draft] = drafts_in_db(factory)
    assert {b["value"] for b in buttons(blocks)} == {draft.id}, "a button's value is the draft id, nothing else"
    assert (draft.state, draft.channel, draft.user_id) == ("pending", "slack", demo.user_id)
    exact = [b for b in blocks if b["type"] == "section" and b["text"]["type"] == "plain_text"]
    assert [b["text"]["text"] for b in exact] == ["I'm running late"]
    text = all_text(blocks)
    assert "*Text Sarah Lee*  (415) 555-0132" in text and "From (415) 555-0100" in text
    assert "GSM-7 \u00b7 1 segment" in text and "Sends when you confirm" in text
    assert slack.of("users.info")[0].args["user"] == DANA
    assert len(slack.of("auth.test")) == 1
    assert outbound(factory) == [], "nothing goes out before Confirm"

    started = time.monotonic()
    clicked = sender.click("cody_confirm", draft.id)
    assert clicked.status_code == 200 and time.monotonic() - started < 3, "acknowledged within Slack's 3 seconds"
    [update] = slack.wait_for("respond", "btn")
    assert update.args["replace_original"] is True
    assert "Sent to Sarah Lee" in all_text(blocks_of(update)) and buttons(blocks_of(update)) == []
    [activity] = outbound(factory)
    assert (activity.text, activity.remote_phone, activity.user_id) == ("I'm running late", "+14155550132",
                                                                        demo.user_id)
    assert wait_for_status(factory, activity.id, {"sent", "delivered"}) in ("sent", "delivered")
    [draft] = drafts_in_db(factory)
    assert (draft.state, draft.activity_id) == ("executed", activity.id)

    sender.click("cody_confirm", draft.id, name="again")
    [again] = slack.wait_for("respond", "again")
    assert "That was already sent." in again.args["text"] and len(outbound(factory)) == 1, "confirming twice sends once"


def test_cancel_cancels_and_sends_nothing(sender, slack, factory):
    _, _, draft_id = draft_card(sender, slack, "text Sarah the inspection moved to Friday")
    assert sender.click("cody_cancel", draft_id).status_code == 200
    [update] = slack.wait_for("respond", "btn")
    assert update.args["replace_original"] is True
    assert "Canceled; nothing was sent." in all_text(blocks_of(update)) and buttons(blocks_of(update)) == []
    assert [d.state for d in drafts_in_db(factory)] == ["canceled"]
    sender.click("cody_confirm", draft_id, name="late")
    [late] = slack.wait_for("respond", "late")
    assert "canceled" in late.args["text"]
    assert outbound(factory) == []


def test_edit_opens_a_modal_and_the_submission_changes_the_draft(sender, slack, factory):
    _, _, draft_id = draft_card(sender, slack, "text Sarah the inspection moved to Friday")
    assert sender.click("cody_edit", draft_id, name="edit").status_code == 200
    [opened] = slack.wait_for("views.open")
    assert opened.args["trigger_id"] == "trigger-edit"
    view = opened.args["view"]
    assert view["callback_id"] == "cody_edit_modal"
    assert view["blocks"][1]["element"]["initial_value"] == "the inspection moved to Friday"
    metadata = json.loads(view["private_metadata"])
    assert metadata == {"draft_id": draft_id, "response_url": slack.response_url("edit")}

    empty = sender.submit_view(view, "   ")
    assert empty.json() == {"response_action": "errors", "errors": {"text": "Write the text to send."}}

    saved = sender.submit_view(view, "The inspection moved to Saturday & it's at 10")
    assert saved.status_code == 200 and saved.text == ""
    [draft] = drafts_in_db(factory)
    assert (draft.state, draft.args["text"], draft.preview["text"]) == (
        "pending", "The inspection moved to Saturday & it's at 10", "The inspection moved to Saturday & it's at 10")
    [update] = slack.wait_for("respond", "edit")
    assert update.args["replace_original"] is True
    exact = [b["text"]["text"] for b in blocks_of(update) if b["type"] == "section" and b["text"]["type"] == "plain_text"]
    assert exact == ["The inspection moved to Saturday & it's at 10"]
    assert {b["value"] for b in buttons(blocks_of(update))} == {draft_id}
    assert outbound(factory) == [], "editing sends nothing"

    sender.click("cody_cancel", draft_id)
    slack.wait_for("respond", "btn")
    refused = sender.submit_view(view, "one more change")
    assert refused.json()["response_action"] == "errors" and "canceled" in refused.json()["errors"]["text"]
    sender.click("cody_edit", draft_id, name="again")
    [settled] = slack.wait_for("respond", "again")
    assert settled.args["text"] == "This draft was canceled; nothing was sent."


def scheduled_for_sarah(cody, demo) -> str:
    """A text to Sarah scheduled through the REST API for tomorrow at 19:00 UTC; its activity id."""
    at = (utcnow() + timedelta(days=1)).replace(hour=19, minute=0, second=0, microsecond=0)
    with http_client(base_url=cody.base_url, auth=(demo.api_key, ""), timeout=30) as api:
        sarah = next(c["id"] for c in api.get("/api/v1/contact/", params={"query": "Sarah Lee"}).json()["data"])
        made = api.post("/api/v1/activity/sms/", json={
            "status": "scheduled", "contact_id": sarah, "text": "See you at the showing",
            "date_scheduled": at.isoformat()})
    assert made.status_code == 200, made.text
    return made.json()["id"]


def test_a_cancel_card_cancels_the_scheduled_text_with_its_own_buttons(sender, slack, factory, cody, demo):
    text_id = scheduled_for_sarah(cody, demo)
    _, blocks, draft_id = draft_card(sender, slack, "cancel the text to Sarah")
    assert [(b["action_id"], b["text"]["text"]) for b in buttons(blocks)] == [
        ("cody_confirm", "Cancel the text"), ("cody_cancel", "Keep it")]
    text = all_text(blocks)
    assert "*Cancel the text to Sarah Lee*  (415) 555-0132" in text and "Scheduled for <!date^" in text
    assert "See you at the showing" in text and "Sends when you confirm" not in text

    sender.click("cody_confirm", draft_id)
    [update] = slack.wait_for("respond", "btn")
    assert "Canceled: it won't go out; it's kept as a draft." in all_text(blocks_of(update))
    assert buttons(blocks_of(update)) == []
    with factory() as session:
        assert (session.get(Activity, text_id).status, session.get(Draft, draft_id).state) == ("draft", "executed")


def test_keep_it_leaves_the_scheduled_text_alone(sender, slack, factory, cody, demo):
    text_id = scheduled_for_sarah(cody, demo)
    _, _, draft_id = draft_card(sender, slack, "cancel the text to Sarah")
    sender.click("cody_cancel", draft_id)
    [update] = slack.wait_for("respond", "btn")
    assert "Kept; the text still goes out." in all_text(blocks_of(update))
    with factory() as session:
        assert session.get(Activity, text_id).status == "scheduled"


def test_a_question_comes_with_choice_buttons_that_answer_it(sender, slack, factory):
    sender.command("text Smith the keys are ready")
    [asked] = slack.wait_for("respond", "cmd")
    [question] = [b for b in blocks_of(asked) if b["type"] == "actions"]
    assert question["block_id"].startswith("cody_q:conv_")
    choices = {e["text"]["text"]: e for e in question["elements"]}
    assert "Mary Smith (The Smiths)" in choices and drafts_in_db(factory) == []
    mary = choices["Mary Smith (The Smiths)"]
    sender.click(mary["action_id"], mary["value"], block_id=question["block_id"], name="choice")
    [answered] = slack.wait_for("respond", "choice")
    assert answered.args["replace_original"] is True
    [draft] = drafts_in_db(factory)
    assert (draft.preview["contact_name"], draft.preview["text"]) == ("Mary Smith", "the keys are ready")
    assert {b["value"] for b in buttons(blocks_of(answered))} == {draft.id}


def test_an_unlinked_slack_user_is_told_and_nothing_is_drafted(sender, slack, factory):
    assert sender.command("text Sarah hello", user=STRANGER).status_code == 200
    [reply] = slack.wait_for("respond", "cmd")
    assert reply.args["response_type"] == "ephemeral"
    assert "I don't know you yet: no Cody user has the email stranger@elsewhere.test" in reply.args["text"]
    assert "/cody link CODE" in reply.args["text"] and not reply.args.get("blocks")
    assert drafts_in_db(factory) == [] and count(factory, Conversation) == 0


@both_databases
def test_a_link_code_from_the_web_page_links_a_slack_user(sender, slack, cody, factory, demo):
    got = httpx.post(cody.base_url + "/api/slack/link-code", auth=(demo.api_key, ""))
    assert got.status_code == 200, got.text
    code = got.json()["code"]
    assert got.json()["command"] == f"/cody link {code}"

    sender.command(f"link {code.lower()}", user=STRANGER, name="link")
    [linked] = slack.wait_for("respond", "link")
    assert linked.args["text"] == "Linked: in Slack you are now Dana Reyes (demo@cody.local) in Cody."
    _, _, draft_id = draft_card_as(sender, slack, "text Sarah hello", STRANGER)
    [draft] = drafts_in_db(factory)
    assert (draft.id, draft.user_id) == (draft_id, demo.user_id)

    sender.command(f"link {code}", user="UOTHER", name="reuse")
    [reuse] = slack.wait_for("respond", "reuse")
    assert "isn't valid or has expired" in reuse.args["text"], "a code works once"


def draft_card_as(sender, slack, text, user):
    sender.command(text, user=user, name="as")
    [reply] = slack.wait_for("respond", "as")
    [draft_id] = {b["value"] for b in buttons(blocks_of(reply))}
    return reply, blocks_of(reply), draft_id


def test_another_slack_users_click_cannot_confirm_the_draft(sender, slack, factory, demo):
    with transaction(factory) as session:
        mate = create_user(session, "kim@bayview.test", "Kim", "Ro")
        session.flush()
        add_member(session, demo.organization_id, mate)
        create_api_key(session, demo.organization_id, mate.id)
    slack.add_user("UKIM", "kim@bayview.test")
    _, _, draft_id = draft_card(sender, slack, "text Sarah hello")
    sender.click("cody_confirm", draft_id, user="UKIM", name="kim")
    [refused] = slack.wait_for("respond", "kim")
    assert refused.args["replace_original"] is False and "another user" in refused.args["text"]
    assert [d.state for d in drafts_in_db(factory)] == ["pending"] and outbound(factory) == []


# -- direct messages and mentions ---------------------------------------------------------------------------


def dm(text: str, user: str = DANA) -> dict:
    return {"type": "message", "channel": "D0DANA", "channel_type": "im", "user": user, "text": text,
            "ts": "1700000000.000100", "event_ts": "1700000000.000100"}


@both_databases
def test_a_retried_event_is_handled_once(sender, slack, factory):
    body = sender.event_body(dm("text Sarah see you at 5"), "Ev0RETRY")
    assert sender.post(body, "application/json").status_code == 200
    retried = sender.post(body, "application/json", headers={"X-Slack-Retry-Num": "1",
                                                              "X-Slack-Retry-Reason": "http_timeout"})
    assert retried.status_code == 200
    [posted] = slack.wait_for("chat.postMessage")
    assert posted.args["channel"] == "D0DANA"
    assert {b["value"] for b in buttons(posted.args["blocks"])} == {d.id for d in drafts_in_db(factory)}
    time.sleep(0.5)
    assert len(slack.of("chat.postMessage")) == 1 and len(drafts_in_db(factory)) == 1
    with factory() as session:
        assert session.scalars(select(WebhookReceipt.provider_sid)).all() == ["Ev0RETRY"]


def test_a_mention_answers_only_the_person_who_asked(sender, slack, factory):
    mention = {"type": "app_mention", "channel": "C0GENERAL", "user": DANA, "ts": "1700000000.000300",
               "text": f"<@{BOT_USER_ID}> text Sarah I&amp;#39;ll call you &lt;soon&gt;", "event_ts": "1700000000.000300"}
    assert sender.event(mention, "Ev0MENTION").status_code == 200
    [posted] = slack.wait_for("chat.postEphemeral")
    assert (posted.args["channel"], posted.args["user"]) == ("C0GENERAL", DANA)
    [draft] = drafts_in_db(factory)
    assert draft.args["text"] == "I&#39;ll call you <soon>"
    assert slack.of("chat.postMessage") == []


def test_bot_messages_and_channel_messages_are_not_requests(sender, slack, factory):
    sender.event({**dm("text Sarah hi"), "bot_id": "BOTHER", "subtype": "bot_message"}, "Ev0BOT")
    sender.event({**dm("text Sarah hi"), "channel": "C0GENERAL", "channel_type": "channel"}, "Ev0CHAN")
    time.sleep(0.5)
    assert drafts_in_db(factory) == [] and slack.of("chat.postMessage") == []


# -- request verification and configuration ----------------------------------------------------------------


def test_a_forged_signature_is_refused_and_nothing_is_stored(sender, slack, factory):
    forged = sender.command("text Sarah hello", secret="not-the-secret")
    assert forged.status_code == 401
    event = sender.event(dm("text Sarah hello"), "Ev0FORGED", signature="v0=" + "0" * 64)
    assert event.status_code == 401
    time.sleep(0.3)
    assert drafts_in_db(factory) == [] and count(factory, WebhookReceipt) == 0 and count(factory, Conversation) == 0
    assert slack.calls == [], "a forged request reaches nothing, not even auth.test"


def test_a_stale_timestamp_is_refused(sender, slack, factory):
    stale = sender.command("text Sarah hello", timestamp=int(time.time()) - 10 * 60)
    assert stale.status_code == 401
    assert drafts_in_db(factory) == [] and slack.calls == []


def test_url_verification_answers_the_challenge(sender):
    body = json.dumps({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    answered = sender.post(body, "application/json")
    assert answered.status_code == 200
    assert answered.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_help_is_answered_in_the_ack(sender, slack):
    helped = sender.command("")
    assert helped.status_code == 200 and "/cody link CODE" in helped.json()["blocks"][0]["text"]["text"]


def test_without_slack_settings_the_endpoint_says_slack_is_off(db_url, factory, demo):
    with live_cody(db_url, factory) as live:
        off = httpx.post(live.base_url + EVENTS, content=b"command=%2Fcody&text=hi",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        code = httpx.post(live.base_url + "/api/slack/link-code", auth=(demo.api_key, ""))
    assert off.status_code == 503
    assert off.json() == {"error": "Slack isn't configured: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN to turn the "
                                   "Slack bot on."}
    assert code.status_code == 503
