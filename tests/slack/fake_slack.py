"""A fake Slack on loopback: the Web API methods Cody calls, and response_url endpoints, each call recorded.

Bolt's AsyncWebClient is pointed at `<base>/api/` (base_url), and the payloads the tests send carry response_urls
of the form `<base>/respond/<name>`; both land here. slack_sdk speaks aiohttp, so a real server is the way to
observe it (as Bolt's own tests do).
"""

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from tests.api.server import running_server

TEAM_ID = "T0CODY"
BOT_USER_ID = "UCODYBOT"
BOT_TOKEN = "xoxb-test-token"


@dataclass
class Call:
    method: str  # "chat.postMessage", ... or "respond" for a response_url post
    args: dict[str, Any]
    token: str | None = None
    name: str | None = None  # the response_url's name


@dataclass
class FakeSlack:
    base_url: str = ""
    users: dict[str, dict] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base_url}/respond/{name}"

    def add_user(self, slack_user_id: str, email: str | None, **extra: Any) -> None:
        profile = {"email": email} if email else {}
        self.users[slack_user_id] = {"id": slack_user_id, "team_id": TEAM_ID, "name": slack_user_id.lower(),
                                     "deleted": False, "is_bot": False, "is_email_confirmed": True,
                                     "profile": profile, **extra}

    def of(self, method: str, name: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (name is None or c.name == name)]

    def wait_for(self, method: str, name: str | None = None, count: int = 1, timeout: float = 15.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(method, name)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{method} {name or ''} called {len(self.of(method, name))} times, wanted {count}; "
                             f"calls: {[(c.method, c.name) for c in self.calls]}")

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    # -- the server -----------------------------------------------------------------------------------------

    async def _api(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        args: dict[str, Any] = dict(request.query_params)
        raw = await request.body()
        kind = request.headers.get("content-type", "")
        if raw and "json" in kind:
            args.update(json.loads(raw))
        elif raw:
            args.update(dict(parse_qsl(raw.decode())))
        for key in ("blocks", "view"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        token = request.headers.get("authorization", "").removeprefix("Bearer ") or args.get("token")
        self._record(Call(method, args, token))
        if token != BOT_TOKEN:
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        return JSONResponse(self._answer(method, args))

    def _answer(self, method: str, args: dict) -> dict:
        if method == "auth.test":
            return {"ok": True, "url": "https://cody-test.slack.com/", "team": "Cody Test", "user": "cody",
                    "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": "BCODY", "is_enterprise_install": False}
        if method == "users.info":
            user = self.users.get(args.get("user", ""))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "chat.postMessage":
            return {"ok": True, "channel": args.get("channel"), "ts": f"{time.time():.6f}", "message": args}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{time.time():.6f}"}
        if method == "views.open":
            return {"ok": True, "view": {"id": "V0EDIT", **(args.get("view") or {})}}
        return {"ok": True}

    async def _respond(self, request: Request) -> PlainTextResponse:
        self._record(Call("respond", json.loads(await request.body() or b"{}"), name=request.path_params["name"]))
        return PlainTextResponse("ok")

    def asgi(self) -> Starlette:
        return Starlette(routes=[
            Route("/api/{method}", self._api, methods=["GET", "POST"]),
            Route("/respond/{name}", self._respond, methods=["POST"]),
        ])


@contextmanager
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    with running_server(fake.asgi()) as url:
        fake.base_url = url
        yield fake


def blocks_of(call: Call) -> list[dict]:
    return call.args.get("blocks") or []


def find_block(blocks: list[dict], predicate: Callable[[dict], bool]) -> dict | None:
    return next((b for b in blocks if predicate(b)), None)


def buttons(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def all_text(blocks: list[dict]) -> str:
    """Every text in the blocks, joined, for loose assertions."""
    parts = []
    for b in blocks:
        if isinstance(b.get("text"), dict):
            parts.append(b["text"]["text"])
        for e in b.get("elements", []):
            if isinstance(e.get("text"), dict):
                parts.append(e["text"]["text"])
            elif isinstance(e.get("text"), str):
                parts.append(e["text"])
    return "\n".join(parts)
