"""Every Twilio webhook refuses a forged, missing, re-signed-elsewhere, tampered or stale signature, and stores
nothing when it does; a faithful replay of a signed request changes nothing either (Twilio signatures carry no
timestamp, so a replay is answered by the WebhookReceipt idempotency instead).

Slack's events (commands, button clicks, Events API) are checked the same way: Bolt's v0 HMAC over timestamp and
body, and timestamps more than five minutes away refused; a forged "Confirm" click sends nothing.
"""

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import func, select

from db.models import Activity, Draft, WebhookReceipt
from tests.security.conftest import (
    Live,
    World,
    app_routes,
    changed_tables,
    inbound_form,
    snapshot,
)
from tools.demo import DEMO_NUMBER
from tools.telephony.signing import FormPairs, sign

STRANGER = "+14155550177"
TWILIO_PREFIX = "/api/webhooks/twilio"


def twilio_routes(live: Live) -> list[str]:
    return sorted(r.path for r in app_routes(live.app) if r.path.startswith(TWILIO_PREFIX))


def form_for(path: str, world: World, n: int) -> list[tuple[str, str]]:
    """A form that does something on this route when it is signed properly."""
    if path == f"{TWILIO_PREFIX}/sms":
        return inbound_form(f"forged {n}", f"SM{n:032d}", STRANGER, DEMO_NUMBER)
    if path == f"{TWILIO_PREFIX}/sms/status":
        return [("MessageSid", f"SM{n:032d}"), ("MessageStatus", "delivered"), ("AccountSid", "ACsandbox")]
    return [("AccountSid", "ACsandbox"), ("CallSid", f"CA{n:032d}"), ("CallStatus", "completed"),
            ("Direction", "inbound"), ("From", STRANGER), ("To", DEMO_NUMBER), ("Caller", STRANGER),
            ("Called", DEMO_NUMBER), ("CallDuration", "5"), ("DialCallStatus", "no-answer"),
            ("DialCallDuration", "0"), ("RecordingUrl", f"https://api.twilio.com/rec/RE{n:032d}"),
            ("RecordingSid", f"RE{n:032d}"), ("RecordingDuration", "5"), ("RecordingStatus", "completed")]


def post(live: Live, path: str, pairs: list[tuple[str, str]], signature: str | None) -> httpx.Response:
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return live.http.post(live.base_url + path, data=FormPairs(pairs).as_httpx(), headers=headers)


def forgeries(live: Live, path: str, pairs: list[tuple[str, str]]) -> dict[str, tuple[str, list, str | None]]:
    """name -> (path to post to, form, X-Twilio-Signature): each one must be refused."""
    token = live.token()
    url = live.base_url + path
    good = sign(token, url, pairs)
    changed = [(k, v + " and text everyone" if k in ("Body", "CallStatus", "MessageStatus") else v) for k, v in pairs]
    other_path = f"{TWILIO_PREFIX}/sms" if not path.endswith("/sms") else f"{TWILIO_PREFIX}/sms/status"
    stale_token = hashlib.sha1(b"the token before it was rotated").hexdigest()[:32]
    sep = "&" if "?" in path else "?"
    return {
        "missing": (path, pairs, None),
        "empty": (path, pairs, ""),
        "garbage": (path, pairs, "forged+signature="),
        "plausible": (path, pairs, base64.b64encode(b"x" * 20).decode()),
        "sha256 instead of sha1": (path, pairs, base64.b64encode(
            hmac.new(token.encode(), url.encode(), hashlib.sha256).digest()).decode()),
        "stale token": (path, pairs, sign(stale_token, url, pairs)),
        "another host": (path, pairs, sign(token, "https://attacker.example" + path, pairs)),
        "another route": (path, pairs, sign(token, live.base_url + other_path, pairs)),
        "body changed after signing": (path, changed, good),
        "field added after signing": (path, pairs + [("To", "+14155550300")], good),
        "field removed after signing": (path, pairs[1:], good),
        "query added after signing": (path + f"{sep}activity_id=acti_x", pairs, good),
    }


def test_every_twilio_webhook_is_covered(world: World) -> None:
    routes = twilio_routes(world.cody)
    assert f"{TWILIO_PREFIX}/sms" in routes and f"{TWILIO_PREFIX}/voice" in routes, routes


def test_forged_missing_tampered_and_stale_signatures_are_refused_and_store_nothing(world: World) -> None:
    live = world.cody
    with world.factory() as session:
        call_id = session.scalar(select(Activity.id).where(Activity.organization_id == world.b.organization_id,
                                                           Activity.type == "call"))
    failures = []
    requests = []
    for n, route in enumerate(twilio_routes(live)):
        path = route if route.endswith(("/sms", "/voice")) else f"{route}?activity_id={call_id}"
        requests.append((route, path, form_for(route, world, n)))
    before = snapshot(world.factory)
    for route, path, pairs in requests:
        for name, (where, form, signature) in forgeries(live, path, pairs).items():
            response = post(live, where, form, signature)
            if response.status_code != 403 or response.json() != {"error": "Invalid Twilio signature."}:
                failures.append(f"{route} {name}: {response.status_code} {response.text[:120]}")
    if changed := changed_tables(before, snapshot(world.factory)):
        failures.append(f"refused webhooks changed {changed}")
    # The control: the same requests, signed as Twilio would, are accepted.
    for route, path, pairs in requests:
        accepted = post(live, path, pairs, sign(live.token(), live.base_url + path, pairs))
        if accepted.status_code != 200:
            failures.append(f"{route} signed properly: {accepted.status_code} {accepted.text[:200]}")
    assert changed_tables(before, snapshot(world.factory)), "the signed requests did nothing: a weak control"
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("route", ["/sms", "/sms/status", "/voice"])
def test_a_replayed_signed_request_changes_nothing_the_second_time(world: World, route: str) -> None:
    live = world.cody
    path = TWILIO_PREFIX + route
    pairs = form_for(path, world, 77)
    signature = sign(live.token(), live.base_url + path, pairs)
    assert post(live, path, pairs, signature).status_code == 200
    after_first = snapshot(world.factory)
    for _ in range(3):
        assert post(live, path, pairs, signature).status_code == 200
    assert changed_tables(after_first, snapshot(world.factory)) == []
    with world.factory() as session:
        sid = pairs[0][1] if route != "/voice" else dict(pairs)["CallSid"]
        # A status callback about a message Cody doesn't have keeps no receipt, so that it counts if repeated once the
        # message is linked (tools/messaging/service.py, record_carrier_status).
        assert session.scalar(select(func.count()).select_from(WebhookReceipt)
                              .where(WebhookReceipt.provider_sid == sid)) == (0 if route == "/sms/status" else 1)


def test_a_replay_with_a_changed_body_is_refused(world: World) -> None:
    """An attacker who captured one signed text can't reuse its signature to post their own."""
    live = world.cody
    path = f"{TWILIO_PREFIX}/sms"
    original = inbound_form("See you at 7", "SM" + "7" * 32, STRANGER, DEMO_NUMBER)
    signature = sign(live.token(), live.base_url + path, original)
    assert post(live, path, original, signature).status_code == 200
    before = snapshot(world.factory)
    for body, sid in (("STOP", "SM" + "7" * 32), ("See you at 7", "SM" + "8" * 32),
                      ("Text everyone: FREE", "SM" + "7" * 32)):
        forged = [(k, {"Body": body}.get(k, sid if k in ("MessageSid", "SmsSid", "SmsMessageSid") else v))
                  for k, v in original]
        response = post(live, path, forged, signature)
        assert response.status_code == 403, (body, sid, response.text)
    assert changed_tables(before, snapshot(world.factory)) == []


# -- Slack ---------------------------------------------------------------------------------------------------------

SLACK_SECRET = "3c9f0e7d5b1a48e2a6f4c0b8d2e7f915"
SLACK_EVENTS = "/api/slack/events"


def slack_sign(body: str, timestamp: int, secret: str = SLACK_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slack_post(live: Live, body: str, content_type: str, timestamp: str | None,
               signature: str | None) -> httpx.Response:
    headers = {"Content-Type": content_type}
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = timestamp
    if signature is not None:
        headers["X-Slack-Signature"] = signature
    return live.http.post(live.base_url + SLACK_EVENTS, content=body.encode(), headers=headers)


@pytest.fixture
def slack_world(world: World):
    """The world's Cody with its Slack bot on, talking to a fake Slack that records every call."""
    fake_slack = pytest.importorskip("tests.slack.fake_slack")
    from api.slack import SlackSettings

    app = world.cody.app
    with fake_slack.fake_slack() as fake:
        app.state.slack_settings = SlackSettings(_env_file=None, slack_signing_secret=SLACK_SECRET,
                                                 slack_bot_token="xoxb-security-suite", slack_api_base_url=fake.api_url)
        if hasattr(app.state, "slack_bot"):
            del app.state.slack_bot
        yield world, fake


def test_slack_requests_with_bad_or_stale_signatures_are_refused_and_reach_nothing(slack_world) -> None:
    world, fake = slack_world
    live = world.cody
    with live.client(world.a.api_key) as a:  # a pending draft that a forged "Confirm" click would send
        chat = a.post("/api/chat/messages", json={"text": "text Sarah Lee: the forged click test"}).json()
    draft_id = chat["drafts"][0]["id"]
    command = urlencode({"token": "legacy", "team_id": "T0CODY", "user_id": "UDANA", "command": "/cody",
                         "text": "text Sarah hello", "channel_id": "C0GENERAL", "response_url": fake.response_url("c"),
                         "trigger_id": "t1"})
    click = urlencode({"payload": json.dumps({
        "type": "block_actions", "team": {"id": "T0CODY"}, "user": {"id": "UDANA", "team_id": "T0CODY"},
        "response_url": fake.response_url("b"), "trigger_id": "t2", "channel": {"id": "C0GENERAL"},
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0GENERAL"},
        "actions": [{"type": "button", "action_id": "cody_confirm", "block_id": f"draft:{draft_id}",
                     "value": draft_id, "action_ts": "1700000001.000200"}]})})
    event = json.dumps({"type": "event_callback", "team_id": "T0CODY", "event_id": "Ev0SECURITY",
                        "event": {"type": "message", "channel_type": "im", "user": "UDANA", "text": "text Sarah hi",
                                  "channel": "D0DM", "ts": "1700000000.000300"}})
    now = int(time.time())
    form = "application/x-www-form-urlencoded"
    cases = []
    for name, body, ctype in (("command", command, form), ("confirm click", click, form),
                              ("event", event, "application/json")):
        good = slack_sign(body, now)
        cases += [
            (f"{name}: missing signature", body, ctype, str(now), None),
            (f"{name}: missing timestamp", body, ctype, None, good),
            (f"{name}: garbage", body, ctype, str(now), "v0=" + "0" * 64),
            (f"{name}: wrong secret", body, ctype, str(now), slack_sign(body, now, "not-the-secret")),
            (f"{name}: stale (10 minutes old)", body, ctype, str(now - 600), slack_sign(body, now - 600)),
            (f"{name}: from the future", body, ctype, str(now + 600), slack_sign(body, now + 600)),
            (f"{name}: timestamp changed after signing", body, ctype, str(now - 1), good),
            (f"{name}: replayed with a changed body", body.replace("T0CODY", "T0EVIL"), ctype, str(now), good),
            (f"{name}: v1 scheme", body, ctype, str(now), good.replace("v0=", "v1=")),
        ]
    before = snapshot(world.factory)
    failures = [f"{name}: {r.status_code} {r.text[:100]}" for name, body, ctype, ts, sig in cases
                if (r := slack_post(live, body, ctype, ts, sig)).status_code != 401]
    time.sleep(0.3)  # anything a listener would have done happens after the ack
    assert not failures, "\n".join(failures)
    assert changed_tables(before, snapshot(world.factory)) == []
    assert fake.calls == [], "a refused request reaches nothing, not even auth.test"
    with world.factory() as session:
        assert session.get(Draft, draft_id).state == "pending"

    # The control: a correctly signed request is answered.
    challenge = json.dumps({"token": "legacy", "challenge": "abc123", "type": "url_verification"})
    answered = slack_post(live, challenge, "application/json", str(now), slack_sign(challenge, now))
    assert (answered.status_code, answered.json()) == (200, {"challenge": "abc123"})
