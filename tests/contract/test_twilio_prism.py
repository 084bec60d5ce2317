"""Contract tests: TwilioProvider's real requests, validated by Prism against Twilio's own OpenAPI spec.

Prism (`tests/contract/node_modules/.bin/prism`, installed with `npm ci --prefix tests/contract`) mocks
`<repo>/../shared/specs/twilio_api_v2010.json`: it checks every request against the spec (path, auth scheme,
form fields, formats, enums) and answers with the spec's static example. A 422 (or 400/401) from Prism means our
request broke Twilio's contract. The spec has no error responses, so error mapping is tested with respx instead.
Without Prism the tests skip, except in CI (CI=true), where they fail.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import http_client
from tools.settings import TelephonySettings
from tools.telephony.base import NumberSearch, NumberWebhooks, OutboundCall, OutboundMessage, ProviderError
from tools.telephony.twilio_provider import TwilioProvider

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO.parent / "shared" / "specs" / "twilio_api_v2010.json"
PRISM = REPO / "tests" / "contract" / "node_modules" / ".bin" / "prism"
IN_CI = os.environ.get("CI", "").lower() == "true"
STARTUP_SECONDS = 90

ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "contract-test-token"
SERVICE_SID = "MG" + "b" * 32
MESSAGE_STATUSES = {
    "queued", "sending", "sent", "failed", "delivered", "undelivered", "receiving", "received",
    "accepted", "scheduled", "read", "partially_delivered", "canceled",
}  # fmt: skip


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}; CI must run the Twilio contract tests (npm ci --prefix tests/contract)")
    pytest.skip(f"{reason} (install with: npm ci --prefix tests/contract)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def prism_url(tmp_path_factory) -> Iterator[str]:
    if not SPEC.is_file():
        _unavailable(f"Twilio OpenAPI spec not found at {SPEC}")
    if not PRISM.exists():
        _unavailable(f"Prism is not installed at {PRISM}")
    if shutil.which("node") is None:
        _unavailable("node is not on PATH, so Prism cannot run")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("prism") / "prism.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(PRISM), "mock", "-p", str(port), "-h", "127.0.0.1", str(SPEC)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so teardown ends node and its children
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _answers(port):
            if process.poll() is not None:
                pytest.fail(f"Prism exited with {process.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"Prism did not listen on {port} within {STARTUP_SECONDS}s:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture
def provider(prism_url) -> Iterator[TwilioProvider]:
    settings = TelephonySettings(
        _env_file=None,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_messaging_service_sid=None,
        twilio_api_base_url=prism_url,
        twilio_timeout_seconds=20.0,
    )
    with http_client() as http:
        yield TwilioProvider(settings, http=http)


def _contract(provider: TwilioProvider, action):
    """Run one provider call; a ProviderError here means Prism rejected the request, so show Prism's reasons."""
    try:
        return action()
    except ProviderError as exc:
        response = provider.http_client.last_response
        pytest.fail(f"Prism rejected the request (HTTP {exc.status}): {response.text if response else exc}")


def test_send_sms_matches_the_contract(provider):
    result = _contract(
        provider,
        lambda: provider.send_message(
            OutboundMessage(
                to="+12125550123",
                from_=None,
                body="Hi Ana, the open house is Saturday at 11.",
                messaging_service_sid=SERVICE_SID,
                status_callback="https://cody.example.com/api/webhooks/twilio/status",
            )
        ),
    )
    assert re.fullmatch(r"SM[0-9a-fA-F]{32}", result.sid)
    assert result.status in MESSAGE_STATUSES
    assert provider.http_client.last_response.status_code == 201


def test_send_mms_with_two_media_urls_matches_the_contract(provider):
    result = _contract(
        provider,
        lambda: provider.send_message(
            OutboundMessage(
                to="+12125550123",
                from_="+14155550100",
                body="Two photos of the kitchen",
                media_urls=("https://cdn.example.com/kitchen-1.jpg", "https://cdn.example.com/kitchen-2.png"),
                status_callback="https://cody.example.com/api/webhooks/twilio/status",
            )
        ),
    )
    assert result.sid.startswith(("SM", "MM")) and len(result.sid) == 34
    assert result.status in MESSAGE_STATUSES
    sent = provider.http_client.last_request.data
    assert sent["MediaUrl"] == ["https://cdn.example.com/kitchen-1.jpg", "https://cdn.example.com/kitchen-2.png"]


def test_cancel_message_matches_the_contract(provider):
    _contract(provider, lambda: provider.cancel_message("SM" + "c" * 32))
    assert provider.http_client.last_response.status_code == 200
    assert provider.http_client.last_request.data == {"Status": "canceled"}


def test_fetch_message_status_matches_the_contract(provider):
    status = _contract(provider, lambda: provider.fetch_message_status("SM" + "c" * 32))
    assert status in MESSAGE_STATUSES


def test_start_call_matches_the_contract(provider):
    result = _contract(
        provider,
        lambda: provider.start_call(
            OutboundCall(
                to="+12125550123",
                from_="+14155550100",
                url="https://cody.example.com/api/webhooks/twilio/voice/outbound",
                status_callback="https://cody.example.com/api/webhooks/twilio/call-status",
                record=True,
                recording_status_callback="https://cody.example.com/api/webhooks/twilio/recording",
            )
        ),
    )
    assert re.fullmatch(r"CA[0-9a-fA-F]{32}", result.sid)


def test_number_search_buy_and_release_match_the_contract(provider):
    found = _contract(provider, lambda: provider.search_numbers(NumberSearch(country="US", area_code="510", sms=True, limit=5)))
    assert found and all(n.number.startswith("+") for n in found)
    hooks = NumberWebhooks(
        sms_url="https://cody.example.com/api/webhooks/twilio/sms",
        voice_url="https://cody.example.com/api/webhooks/twilio/voice",
        status_callback="https://cody.example.com/api/webhooks/twilio/call-status",
    )
    bought = _contract(provider, lambda: provider.buy_number(found[0].number, hooks))
    assert re.fullmatch(r"PN[0-9a-fA-F]{32}", bought.sid)
    _contract(provider, lambda: provider.release_number(bought.sid))
    assert provider.http_client.last_response.status_code == 204


def test_prism_really_validates(provider):
    """A request that breaks the contract (StatusCallback must be a URI) is refused, so the passes above mean something."""
    with pytest.raises(ProviderError) as caught:
        provider.send_message(
            OutboundMessage(to="+12125550123", from_="+14155550100", body="Hi", status_callback="not a url")
        )
    assert caught.value.status == 422
    assert "StatusCallback" in provider.http_client.last_response.text
