"""What an operator sees when `cody serve` and `cody worker` start.

A misconfiguration stops them before anything is created, with exit code 2 and one message naming the setting and
the fix, and never quoting a secret. A good configuration logs which carrier the process sends through (never the
auth token), and from then on every log line, Cody's and uvicorn's, is written as LOG_JSON says, secrets masked.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from db.migrate import upgrade
from tests.api.server import STARTUP_TIMEOUT, free_port, stop_process
from tests.api.test_cli import CODY, Serve

SID = "AC" + "4" * 32
TOKEN = "live-auth-token-0123456789abcdef"
SERVICE = "MG" + "5" * 32
TWILIO = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN}
PUBLIC = {"PUBLIC_BASE_URL": "https://cody.example.com"}


def environment(tmp_path: Path, **env: str) -> dict[str, str]:
    """This process's environment with only `env` set among Cody's settings (a SQLite file in `tmp_path` by default)."""
    clean = {name: value for name, value in os.environ.items()
             if not name.upper().startswith(("TWILIO_", "PUBLIC_BASE_URL", "LOG_", "DATABASE_URL", "RUN_DISPATCHER"))}
    clean["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cody.db'}"
    return clean | env


def cody(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run `cody ARGS` in `tmp_path` with only `env` set among Cody's settings (a SQLite file there by default)."""
    return subprocess.run([CODY, *args], cwd=tmp_path, env=environment(tmp_path, **env), capture_output=True,
                          text=True, timeout=120, check=False)


def refused(result: subprocess.CompletedProcess, tmp_path: Path) -> str:
    """The one message a refused start printed; checks that it is only that."""
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output and TOKEN not in output
    assert not (tmp_path / "cody.db").exists(), "nothing is created before the configuration is checked"
    assert result.stderr.startswith("Cody can't start: "), output
    return " ".join(result.stderr.split())


@pytest.mark.parametrize("command", [["serve"], ["worker", "--once"]])
def test_an_account_sid_with_a_misspelt_token_stops_cody(tmp_path, command):
    result = cody(tmp_path, *command, TWILIO_ACCOUNT_SID=SID, TWILIO_AUTHTOKEN=TOKEN)
    message = refused(result, tmp_path)
    assert "TWILIO_ACCOUNT_SID is set but TWILIO_AUTH_TOKEN is not. Set TWILIO_AUTH_TOKEN (from the Twilio console) " \
           "to send through Twilio, or unset TWILIO_ACCOUNT_SID to use the sandbox line." in message
    assert "TWILIO_AUTHTOKEN is set, but Cody reads no such setting (did you mean TWILIO_AUTH_TOKEN?)" in message


def test_a_misspelt_token_in_the_env_file_is_named_too(tmp_path):
    (tmp_path / ".env").write_text(f"TWILIO_ACCOUNT_SID={SID}\nTWILIO_AUTHTOKEN={TOKEN}\n")
    message = refused(cody(tmp_path, "worker", "--once"), tmp_path)
    assert "TWILIO_ACCOUNT_SID is set but TWILIO_AUTH_TOKEN is not." in message
    assert "TWILIO_AUTHTOKEN is set, but Cody reads no such setting (did you mean TWILIO_AUTH_TOKEN?)" in message
    assert TOKEN not in message


@pytest.mark.parametrize(("env", "says"), [
    ({"TWILIO_AUTH_TOKEN": TOKEN}, "TWILIO_AUTH_TOKEN is set but TWILIO_ACCOUNT_SID is not. Set TWILIO_ACCOUNT_SID"),
    ({"TWILIO_MESSAGING_SERVICE_SID": SERVICE},
     "TWILIO_MESSAGING_SERVICE_SID is set but TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not."),
    ({"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "  "}, "TWILIO_ACCOUNT_SID is set but TWILIO_AUTH_TOKEN is not."),
])
def test_half_a_twilio_configuration_never_runs_as_the_sandbox(tmp_path, env, says):
    assert says in refused(cody(tmp_path, "serve", **env, **PUBLIC), tmp_path)


@pytest.mark.parametrize(("command", "public_base_url", "says"), [
    ("serve", None, "PUBLIC_BASE_URL is not set, and Twilio credentials are."),
    ("worker", None, "PUBLIC_BASE_URL is not set, and Twilio credentials are."),
    ("serve", "http://cody.example.com", "PUBLIC_BASE_URL (http://cody.example.com) is not an https URL."),
    ("worker", "https://127.0.0.1:8000",
     "PUBLIC_BASE_URL (https://127.0.0.1:8000) names an address Twilio cannot reach (127.0.0.1)"),
    ("serve", "https://0.0.0.0:8000", "names an address Twilio cannot reach (0.0.0.0)"),
    ("worker", "https://localhost", "names an address Twilio cannot reach (localhost)"),
    ("serve", "https://10.1.2.3", "names an address Twilio cannot reach (10.1.2.3)"),
])
def test_twilio_needs_a_public_https_url_to_call_back(tmp_path, command, public_base_url, says):
    args = ["serve", "--host", "0.0.0.0"] if command == "serve" else ["worker", "--once"]
    env = TWILIO | ({"PUBLIC_BASE_URL": public_base_url} if public_base_url else {})
    message = refused(cody(tmp_path, *args, **env), tmp_path)
    assert says in message
    assert "Set PUBLIC_BASE_URL to the https URL Twilio reaches this server at (e.g. https://cody.example.com)" \
        in message


def test_a_carrier_on_this_machine_may_call_back_on_loopback(tmp_path):
    """TWILIO_API_BASE_URL pointing at a fake carrier (load tests, tests/scale) runs with a loopback PUBLIC_BASE_URL."""
    upgrade(f"sqlite:///{tmp_path / 'cody.db'}")
    result = cody(tmp_path, "worker", "--once", **TWILIO, TWILIO_API_BASE_URL="http://127.0.0.1:9",
                  PUBLIC_BASE_URL="http://127.0.0.1:8000")
    assert result.returncode == 0, result.stderr
    assert "Telephony: Twilio, account AC...4444 at http://127.0.0.1:9," in result.stderr


def test_the_demo_does_not_run_with_twilio_credentials(tmp_path):
    message = refused(cody(tmp_path, "serve", "--demo", **TWILIO, **PUBLIC), tmp_path)
    assert "--demo runs on the sandbox line and signs the web page in with an admin key, so it does not run with " \
           "Twilio credentials. Unset TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to try the demo" in message


def test_a_log_level_logging_does_not_know_is_named(tmp_path):
    message = refused(cody(tmp_path, "worker", "--once", LOG_LEVEL="verbose"), tmp_path)
    assert message == "Cody can't start: LOG_LEVEL: 'verbose' is not a log level; use one of DEBUG, INFO, WARNING, " \
                      "ERROR, CRITICAL"


@pytest.mark.parametrize("command", [["serve"], ["worker", "--once"]])
def test_a_negative_grace_period_stops_cody_naming_it(tmp_path, command):
    message = refused(cody(tmp_path, *command, NUMBER_GRACE_DAYS="-1"), tmp_path)
    assert message == "Cody can't start: NUMBER_GRACE_DAYS: Input should be greater than or equal to 0"


def json_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


def test_a_twilio_worker_logs_its_carrier_and_never_the_token(tmp_path):
    upgrade(f"sqlite:///{tmp_path / 'cody.db'}")
    result = cody(tmp_path, "worker", "--once", **TWILIO, **PUBLIC, TWILIO_MESSAGING_SERVICE_SID=SERVICE,
                  TWILIO_ACOUNT_SID="AC-typo")
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stdout + result.stderr
    logs, said = result.stderr.split("Sent 0 due message(s).")
    assert said.strip() == ""
    entries = json_lines(logs)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:]{8}\.\d{3}\+00:00", e["ts"]) for e in entries)  # UTC, zoned
    assert {"level": "INFO", "logger": "cody.runtime",
            "msg": f"Telephony: Twilio, account AC...4444 at https://api.twilio.com, messaging service {SERVICE}; "
                   "webhooks and status callbacks at https://cody.example.com"} in [
        {k: e[k] for k in ("level", "logger", "msg")} for e in entries]
    assert {"level": "WARNING", "logger": "cody.runtime",
            "msg": "TWILIO_ACOUNT_SID is set, but Cody reads no such setting (did you mean TWILIO_ACCOUNT_SID?)"} in [
        {k: e[k] for k in ("level", "logger", "msg")} for e in entries]


def test_a_sandbox_worker_says_so_in_plain_lines_when_log_json_is_false(tmp_path):
    upgrade(f"sqlite:///{tmp_path / 'cody.db'}")
    result = cody(tmp_path, "worker", "--once", LOG_JSON="false")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^\d{4}-\d\d-\d\dT[\d:]{8}\.\d{3}\+00:00 INFO cody\.runtime Telephony: the sandbox line \(no Twilio "
                     r"credentials\): no text or call reaches a carrier; its callbacks go to http://127\.0\.0\.1:8000$",
                     result.stderr, re.MULTILINE), result.stderr


@pytest.mark.slow
def test_serve_writes_every_log_line_as_json_with_secrets_masked(tmp_path):
    serve = Serve(tmp_path, tmp_path / "cody.db", args=())
    secret = "cody_" + "s3cr3t" * 6
    try:
        serve.wait_until_listening()
        # A forged Twilio webhook is refused with a warning; a key in a query string is in the access log.
        forged = httpx.post(f"{serve.base_url}/api/webhooks/twilio/sms", data={"From": "+1", "Body": "x"}, timeout=30)
        assert forged.status_code == 403
        assert httpx.get(f"{serve.base_url}/api/v1/me/?api_key={secret}", timeout=30).status_code == 401
    finally:
        lines = serve.stop()
    entries = json_lines("\n".join(lines))  # every line, uvicorn's too, is one JSON object
    said = [(e["level"], e["logger"], e["msg"]) for e in entries]
    assert ("INFO", "cody.runtime", "Telephony: the sandbox line (no Twilio credentials): no text or call reaches a "
            f"carrier; its callbacks go to {serve.base_url}") in said
    assert ("WARNING", "cody.webhooks", "refused a Twilio webhook with a missing or wrong signature") in said
    assert ("INFO", "uvicorn.error", f"Uvicorn running on {serve.base_url} (Press CTRL+C to quit)") in said
    assert any(logger == "cody.heap" and msg.startswith("Heap settled: ") for _, logger, msg in said)
    access = [msg for level, logger, msg in said if logger == "uvicorn.access" and "/api/v1/me/" in msg]
    assert access and "api_key=***" in access[0]
    assert secret not in "\n".join(lines)


def _listening(proc: subprocess.Popen, base_url: str) -> None:
    """Wait until the server answers /healthz."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the server exited with {proc.returncode}"
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("the server did not start listening")


@pytest.mark.slow
def test_uvicorns_app_factory_writes_every_log_line_as_cody_serve_does(tmp_path):
    """`uvicorn api.app:create_app --factory` (uvicorn sets up its own logging first) logs as `cody serve` does: every
    line, uvicorn's too, one JSON object with secrets masked."""
    upgrade(f"sqlite:///{tmp_path / 'cody.db'}")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    secret = "cody_" + "s3cr3t" * 6
    with (tmp_path / "out.log").open("w+") as out:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--port",
                                 str(port)], cwd=tmp_path, env=environment(tmp_path), stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            _listening(proc, base_url)
            forged = httpx.post(f"{base_url}/api/webhooks/twilio/sms", data={"From": "+1", "Body": "x"}, timeout=30)
            assert forged.status_code == 403
            assert httpx.get(f"{base_url}/api/v1/me/?api_key={secret}", timeout=30).status_code == 401
        finally:
            stop_process(proc)
        out.seek(0)
        output = out.read()
    said = [(e["level"], e["logger"], e["msg"]) for e in json_lines(output)]  # every line is one JSON object
    assert ("INFO", "cody.runtime", "Telephony: the sandbox line (no Twilio credentials): no text or call reaches a "
            "carrier; its callbacks go to http://127.0.0.1:8000") in said
    assert ("WARNING", "cody.webhooks", "refused a Twilio webhook with a missing or wrong signature") in said
    assert ("INFO", "uvicorn.error", f"Uvicorn running on {base_url} (Press CTRL+C to quit)") in said
    assert any(logger == "cody.heap" and msg.startswith("Heap settled: ") for _, logger, msg in said)
    access = [msg for level, logger, msg in said if logger == "uvicorn.access" and "/api/v1/me/" in msg]
    assert access and "api_key=***" in access[0]
    assert secret not in output


@pytest.mark.slow
def test_a_dispatching_worker_settles_its_heap_once_started(tmp_path):
    """`cody worker` (not --once) leaves start-up's objects out of the cycle collector's passes, and says so; it
    also says how many carrier calls it keeps in flight (DISPATCH_CONCURRENCY)."""
    upgrade(f"sqlite:///{tmp_path / 'cody.db'}")
    settled = re.compile(r"^\S+ INFO cody\.heap Heap settled: [\d,]+ objects from start-up are left out of the cycle "
                         r"collector's passes$", re.MULTILINE)
    with (tmp_path / "out.log").open("w+") as out:
        proc = subprocess.Popen([CODY, "worker"], cwd=tmp_path,
                                env=environment(tmp_path, LOG_JSON="false", DISPATCH_CONCURRENCY="6"),
                                stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while not settled.search((tmp_path / "out.log").read_text()) and time.monotonic() < deadline:
                assert proc.poll() is None, (tmp_path / "out.log").read_text()
                time.sleep(0.1)
        finally:
            stop_process(proc)
        out.seek(0)
        output = out.read()
    assert settled.search(output), output
    assert "dispatching, up to 6 carrier calls at a time" in " ".join(output.split())  # however the console wraps
