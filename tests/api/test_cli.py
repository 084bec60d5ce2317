"""The `cody` command as a user runs it: `admin create-org --json`, and `serve --demo` (the README's first command)."""

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.settings import ApiSettings
from tests.api.server import free_port, running_server, stop_process
from tests.live import http_client

CODY = str(Path(sys.executable).parent / "cody")
STARTUP_TIMEOUT = 60.0


def _env(db_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = f"sqlite:///{db_path}"
    env.pop("PUBLIC_BASE_URL", None)
    return env


def test_create_org_json(tmp_path: Path) -> None:
    db_path = tmp_path / "cli.db"  # does not exist yet: the command migrates it
    result = subprocess.run([CODY, "admin", "create-org", "--name", "Harbor Homes", "--email", "Hana@Harbor.test",
                             "--json"], cwd=tmp_path, env=_env(db_path), capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr

    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    created = json.loads(lines[0])
    assert isinstance(created, dict)
    assert set(created) == {"organization_id", "user_id", "api_key"}
    assert created["organization_id"].startswith("orga_")
    assert created["user_id"].startswith("user_")
    assert created["api_key"].startswith("cody_")
    assert db_path.exists()

    app = create_app(ApiSettings(database_url=f"sqlite:///{db_path}"))
    with running_server(app) as base_url:
        me = httpx.get(f"{base_url}/api/v1/me/", auth=(created["api_key"], ""), timeout=30)
        assert me.status_code == 200, me.text
        assert me.json()["id"] == created["user_id"]
        assert me.json()["email"] == "hana@harbor.test"
        assert me.json()["organizations"][0] == {"id": created["organization_id"], "name": "Harbor Homes",
                                                 "timezone": "America/New_York"}
        assert httpx.get(f"{base_url}/api/v1/me/", auth=("cody_wrong", ""), timeout=30).status_code == 401


def test_python_dash_m_api_cli_is_the_cody_command(tmp_path: Path) -> None:
    db_path = tmp_path / "cli.db"
    result = subprocess.run([sys.executable, "-m", "api.cli", "migrate"], cwd=tmp_path, env=_env(db_path),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert db_path.exists() and db_path.stat().st_size > 0  # it did what `cody migrate` does, not nothing


def test_create_org_refuses_a_bad_email(tmp_path: Path) -> None:
    result = subprocess.run([CODY, "admin", "create-org", "--name", "X", "--email", "[/nope]", "--json"],
                            cwd=tmp_path, env=_env(tmp_path / "cli.db"), capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "[/nope]" in result.stderr and "not an email address" in result.stderr
    assert "Traceback" not in result.stderr


class Serve:
    """`cody serve --demo` (or with other `args`) in a subprocess, its merged output read line by line in a thread."""

    def __init__(self, tmp_path: Path, db_path: Path, args: tuple[str, ...] = ("--demo",),
                 env: dict[str, str] | None = None):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([CODY, "serve", *args, "--port", str(self.port)], cwd=tmp_path,
                                     env=_env(db_path) | (env or {}), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = STARTUP_TIMEOUT) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines:
                if match := re.search(pattern, line):
                    return match
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"no line matching {pattern!r} within {timeout} s; output:\n" + "\n".join(self.lines))
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"cody serve exited ({self.proc.wait()}) before printing {pattern!r}; output:\n"
                            + "\n".join(self.lines))
            self.lines.append(line)

    def wait_until_listening(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """The demo is printed before uvicorn binds; poll /healthz until it answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"cody serve exited with {self.proc.returncode}; output:\n" + "\n".join(self.lines))
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail("cody serve did not start listening")

    def stop(self) -> list[str]:
        """Stop the server; return every line it printed."""
        stop_process(self.proc)
        try:
            while (line := self._queue.get(timeout=10)) is not None:
                self.lines.append(line)
        except queue.Empty:
            pass
        return self.lines


def _start_demo(tmp_path: Path, db_path: Path) -> tuple[Serve, str, str, str]:
    """Start the server; return it, the printed key, organization id and created/existing."""
    serve = Serve(tmp_path, db_path)
    try:
        ready = serve.wait_for(r"Demo workspace ready \((created|existing)\): (orga_\w+)")
        key = serve.wait_for(r"API key: (\S+)").group(1)
        curl = serve.wait_for(r"Try: curl -u (\S+): (\S+)")
        assert curl.group(1) == key
        assert curl.group(2) == f"{serve.base_url}/api/v1/me/"  # the whole command is on one line
        serve.wait_until_listening()
    except BaseException:
        serve.stop()
        raise
    return serve, key, ready.group(2), ready.group(1)


@pytest.mark.slow
def test_serve_demo_then_again(tmp_path: Path) -> None:
    db_path = tmp_path / "demo.db"

    serve, key, org_id, how = _start_demo(tmp_path, db_path)
    try:
        assert how == "created"
        assert key.startswith("cody_")
        with http_client(base_url=serve.base_url, auth=(key, ""), timeout=30) as client:
            me = client.get("/api/v1/me/")
            assert me.status_code == 200, me.text
            org = me.json()["organizations"][0]
            assert org["id"] == org_id
            assert org["name"] == "Bayview Realty (demo)"
            assert me.json()["email"] == "demo@cody.local"

            contacts = client.get("/api/v1/contact/")
            assert contacts.status_code == 200
            sarah = [c for c in contacts.json()["data"] if c["name"] == "Sarah Lee"]
            assert len(sarah) == 1
            assert sarah[0]["phones"][0]["phone"] == "+14155550132"
            assert sarah[0]["phones"][0]["phone_formatted"] == "(415) 555-0132"
            assert sarah[0]["organization_id"] == org_id

            leads = client.get("/api/v1/lead/").json()["data"]
            assert {lead["name"] for lead in leads} >= {"Sarah Lee", "The Smiths", "Acme Corp", "Luc Tremblay"}
            seeded_contacts = len(contacts.json()["data"])
        assert httpx.get(f"{serve.base_url}/api/v1/me/", timeout=30).status_code == 401
    finally:
        serve.stop()
    assert serve.proc.returncode is not None

    # Second run against the same database: same workspace, a fresh key that works, nothing seeded twice, and the
    # first run's key (which its page handed out) no longer works.
    serve2, key2, org_id2, how2 = _start_demo(tmp_path, db_path)
    try:
        assert how2 == "existing"
        assert org_id2 == org_id
        assert key2 != key and key2.startswith("cody_")
        assert any("Revoked the demo's earlier keys (1): only this one works now." in line for line in serve2.lines)
        assert httpx.get(f"{serve2.base_url}/api/v1/me/", auth=(key, ""), timeout=30).status_code == 401
        with http_client(base_url=serve2.base_url, auth=(key2, ""), timeout=30) as client:
            me = client.get("/api/v1/me/")
            assert me.status_code == 200, me.text
            assert me.json()["organizations"][0]["id"] == org_id
            contacts = client.get("/api/v1/contact/").json()["data"]
            assert len(contacts) == seeded_contacts
            assert [c["name"] for c in contacts].count("Sarah Lee") == 1
    finally:
        serve2.stop()
