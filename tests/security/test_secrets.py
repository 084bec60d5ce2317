"""Secrets: API keys are stored hashed, and no API key, Twilio auth token, Slack secret or request signature shows
up in any log line or any response body, through auth failures, signed and forged webhooks, and Twilio errors that
echo the token back.
"""

import base64
import hashlib
import hmac
import logging
import secrets
import time

import httpx
import pytest
import respx
from sqlalchemy import select

from db.base import Base
from db.models import ApiKey
from tests.security.conftest import SARAH, SMS_WEBHOOK, World, inbound_form, live_app
from tools.telephony.signing import FormPairs, sign
from tools.workspaces import hash_key

TWILIO_SID = "AC" + "4" * 32
TWILIO_TOKEN = "tok-5ecret-" + secrets.token_hex(12)
SERVICE = "MG" + "5" * 32
TWILIO = f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO_SID}"
SLACK_SECRET = secrets.token_hex(16)
SLACK_TOKEN = "xoxb-" + secrets.token_hex(12)


def full_dump(factory) -> str:
    with factory() as session:
        return repr([list(session.execute(table.select())) for table in Base.metadata.sorted_tables])


def test_api_keys_are_stored_only_as_hashes(world: World) -> None:
    dump = full_dump(world.factory)
    for key in (world.a.api_key, world.b.api_key):
        assert key not in dump and key[9:] not in dump
        with world.factory() as session:
            row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
        assert row is not None and row.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert key.startswith(row.prefix) and len(row.prefix) < 12  # only a short prefix, to tell keys apart


@pytest.fixture
def every_log(caplog):
    """caplog at DEBUG, with uvicorn's own loggers (which don't propagate) captured as well."""
    caplog.set_level(logging.DEBUG)
    extra = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    for logger in extra:
        logger.addHandler(caplog.handler)
    yield caplog
    for logger in extra:
        logger.removeHandler(caplog.handler)


def test_no_secret_reaches_a_log_line_or_a_response(world: World, db_url, every_log) -> None:
    responses: list[httpx.Response] = []
    a_key = world.a.api_key
    wrong_key = "cody_" + secrets.token_urlsafe(32)
    near_key = a_key[:-1] + ("A" if a_key[-1] != "A" else "B")
    signatures: list[str] = []

    # 1. Authentication: wrong keys, malformed headers, and the right key on requests that fail in other ways.
    live = world.cody
    for header in (f"Bearer {wrong_key}", f"Bearer {near_key}",
                   "Basic " + base64.b64encode(f"{wrong_key}:".encode()).decode(),
                   "Basic " + base64.b64encode(f"{near_key}:x".encode()).decode(),
                   f"Basic {wrong_key}", f"Token {a_key}", f"bearer   {wrong_key}"):
        for method, path in (("GET", "/api/v1/me/"), ("POST", "/api/chat/messages"), ("GET", "/api/v1/lead/x/")):
            responses.append(live.http.request(method, live.base_url + path, headers={"Authorization": header},
                                               json={"text": "hi"}))
    with world.a_client() as a:
        responses += [a.get("/api/v1/me/"), a.get("/api/v1/lead/lead_nope/"), a.post("/api/v1/lead/", json=[]),
                      a.post("/api/v1/activity/sms/", json={"status": "outbox", "remote_phone": "+15005550001",
                                                            "text": "x"}),
                      a.get("/api/v1/lead/", params={"_limit": 0})]

    # 2. Twilio webhooks (sandbox token): forged, tampered and valid signatures.
    for n in range(3):
        pairs = inbound_form(f"hello {n}", f"SM{n:032d}")
        good = sign(live.token(), live.base_url + SMS_WEBHOOK, pairs)
        forged = base64.b64encode(secrets.token_bytes(20)).decode()
        signatures += [good, forged]
        for signature in (forged, good):
            responses.append(live.http.post(live.base_url + SMS_WEBHOOK, data=FormPairs(pairs).as_httpx(),
                                            headers={"X-Twilio-Signature": signature}))
        tampered = [(k, v + "!" if k == "Body" else v) for k, v in pairs]
        responses.append(live.http.post(live.base_url + SMS_WEBHOOK, data=FormPairs(tampered).as_httpx(),
                                        headers={"X-Twilio-Signature": good}))

    # 3. Slack, when it is built: forged and stale signatures.
    try:
        from api.slack import SlackSettings
    except ImportError:  # pragma: no cover - Slack not built
        SlackSettings = None
    if SlackSettings is not None:
        live.app.state.slack_settings = SlackSettings(_env_file=None, slack_signing_secret=SLACK_SECRET,
                                                      slack_bot_token=SLACK_TOKEN,
                                                      slack_api_base_url="http://127.0.0.1:9/api/")
        if hasattr(live.app.state, "slack_bot"):
            del live.app.state.slack_bot
        body = "command=%2Fcody&text=text+Sarah+hi&user_id=UDANA&team_id=T0CODY"
        for ts in (int(time.time()) - 3600, int(time.time())):
            for secret in (SLACK_SECRET, "wrong-secret"):
                sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
                if ts > time.time() - 60 and secret == SLACK_SECRET:
                    continue  # a valid request would call Slack; only refusals here
                signatures.append(sig)
                responses.append(live.http.post(live.base_url + "/api/slack/events", content=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": str(ts),
                    "X-Slack-Signature": sig}))

    # 4. Twilio itself, with an auth token it echoes back in its errors.
    with respx.mock(assert_all_called=False) as twilio, live_app(
            db_url, world.factory, twilio_account_sid=TWILIO_SID, twilio_auth_token=TWILIO_TOKEN,
            twilio_messaging_service_sid=SERVICE) as real:
        twilio.route(host="127.0.0.1").pass_through()
        twilio.post(f"{TWILIO}/Messages.json").respond(401, json={
            "code": 20003, "status": 401, "message": f"Authenticate: token {TWILIO_TOKEN} is wrong",
            "more_info": "https://www.twilio.com/docs/errors/20003"})
        twilio.post(f"{TWILIO}/Calls.json").respond(503, text=f"upstream trouble for {TWILIO_TOKEN}")
        twilio.get(url__startswith=TWILIO).mock(side_effect=httpx.ConnectTimeout(f"timeout {TWILIO_TOKEN}"))
        with real.client(a_key) as a:
            contact = a.get("/api/v1/contact/").json()["data"]
            sarah = next(c["id"] for c in contact if c["name"] == "Sarah Lee")
            responses += [a.post("/api/v1/activity/sms/", json={"contact_id": sarah, "text": "Hi", "status": "outbox"}),
                          a.post("/api/v1/call/dial/", json={"contact_id": sarah}),
                          a.get("/api/v1/phone_number/available/", params={"area_code": "415"})]
        pairs = inbound_form("via Twilio", "SM" + "6" * 32, SARAH)
        good = sign(TWILIO_TOKEN, real.base_url + SMS_WEBHOOK, pairs)
        stale = sign("the-previous-token", real.base_url + SMS_WEBHOOK, pairs)
        signatures += [good, stale]
        for signature in (stale, good):
            responses.append(real.http.post(real.base_url + SMS_WEBHOOK, data=FormPairs(pairs).as_httpx(),
                                            headers={"X-Twilio-Signature": signature}))
        assert [r.status_code for r in responses[-2:]] == [403, 200]

    secret_values = {
        "A's API key": a_key, "B's API key": world.b.api_key, "a wrong API key": wrong_key, "a near API key": near_key,
        "the sandbox webhook token": live.token(), "the Twilio auth token": TWILIO_TOKEN,
        "Twilio basic auth": base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode(),
        "the Slack signing secret": SLACK_SECRET, "the Slack bot token": SLACK_TOKEN,
    } | {f"signature {i}": s for i, s in enumerate(signatures)}
    assert every_log.records, "nothing was logged: is the capture working?"
    assert any("signature" in r.getMessage().lower() for r in every_log.records), "the refusals were not logged"
    logged = every_log.text + "\n".join(r.getMessage() for r in every_log.records)
    in_logs = [name for name, value in secret_values.items() if value in logged]
    in_bodies = [(name, r.request.url.path) for r in responses for name, value in secret_values.items()
                 if value in r.text]
    assert in_logs == [], in_logs
    assert in_bodies == [], in_bodies
