"""Per-API-key rate limit, shared by every API process through the database.

Pure ASGI middleware over every /api/ route a key calls (REST, chat, the web page's API, voice commands, the
sandbox, Slack's link code); the signed webhooks of Twilio and Slack, the page and /healthz are never limited.
Each request with credentials costs one statement: an upsert of its (sha256(key)[:32], window start) bucket that
returns the new count, made only for a key that exists and is not revoked. Windows are fixed and aligned to the epoch:
`ApiSettings.rate_limit_window_seconds` long (default 60), `ApiSettings.rate_limit_per_minute` requests each (0
turns the limit off). Requests without credentials, or with a key that is not one, are not counted and write
nothing: authentication answers them 401.

Over the limit the answer is 429 with `RateLimit: limit=N, remaining=0, reset=S`, `Retry-After: S` and
`{"error": "Rate limit exceeded: ...", "rate_reset": S}`, which Close's Python client reads to sleep and retry.
Answers under the limit carry the RateLimit header too. If the database cannot be reached the request goes
through (the endpoint will fail on its own).
"""

import hashlib
import json
import logging
import math
import re
import time
from dataclasses import dataclass

from sqlalchemy import delete, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api.deps import api_key_from_header
from db.models import ApiKey, RateLimitBucket
from tools.workspaces import hash_key

log = logging.getLogger("cody.ratelimit")

LIMITED_PREFIX = "/api/"
UNLIMITED_PREFIXES = ("/api/webhooks/", "/api/slack/events")  # signed by the carrier or Slack: never refused
_SLASHES = re.compile(r"/{2,}")


def bucket_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Verdict:
    limit: int
    count: int
    reset: int  # whole seconds until the window ends (at least 1)

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    def header(self) -> bytes:
        return f"limit={self.limit}, remaining={self.remaining}, reset={self.reset}".encode()


def count_request(factory: sessionmaker[Session], api_key: str, window_start: int) -> int | None:
    """Add one to the key's bucket, atomically on SQLite and PostgreSQL alike; the bucket's new count, or None (and
    nothing written) when no live API key has this value."""
    known = select(literal(bucket_key(api_key)), literal(window_start), literal(1)).where(
        ApiKey.key_hash == hash_key(api_key), ApiKey.revoked.is_(False))
    with factory() as session, session.begin():
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        stmt = (dialect.insert(RateLimitBucket).from_select(["key", "window_start", "count"], known)
                .on_conflict_do_update(index_elements=["key", "window_start"],
                                       set_={"count": RateLimitBucket.count + 1})
                .returning(RateLimitBucket.count))
        count = session.execute(stmt).scalar_one_or_none()
        return int(count) if count is not None else None


def drop_old_buckets(factory: sessionmaker[Session], before: int) -> None:
    with factory() as session, session.begin():
        session.execute(delete(RateLimitBucket).where(RateLimitBucket.window_start < before))


class RateLimit:
    def __init__(self, app):
        self.app = app
        self._swept_window: int | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not _limited(_SLASHES.sub("/", scope["path"])):
            await self.app(scope, receive, send)
            return
        app = scope.get("app")
        settings = getattr(getattr(app, "state", None), "settings", None)
        limit = int(getattr(settings, "rate_limit_per_minute", 0) or 0)
        window = max(1, int(getattr(settings, "rate_limit_window_seconds", 60) or 60))
        authorization = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"authorization"), None)
        api_key = api_key_from_header(authorization)
        if limit <= 0 or api_key is None:
            await self.app(scope, receive, send)
            return
        verdict = await run_in_threadpool(self._check, app.state.factory, api_key, limit, window)
        if verdict is None:
            await self.app(scope, receive, send)
        elif verdict.allowed:
            await self.app(scope, receive, _with_header(send, verdict))
        else:
            await _refuse(send, verdict, window)

    def _check(self, factory: sessionmaker[Session], api_key: str, limit: int, window: int) -> Verdict | None:
        now = time.time()
        window_start = int(now // window) * window
        try:
            if self._swept_window != window_start:
                self._swept_window = window_start
                drop_old_buckets(factory, window_start - window)
            count = count_request(factory, api_key, window_start)
        except Exception:
            log.exception("rate limit check failed; letting the request through")
            return None
        if count is None:
            return None
        reset = max(1, math.ceil(window_start + window - now))
        return Verdict(limit=limit, count=count, reset=reset)


def _limited(path: str) -> bool:
    return path.startswith(LIMITED_PREFIX) and not path.startswith(UNLIMITED_PREFIXES)


def _with_header(send, verdict: Verdict):
    async def sending(message):
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"ratelimit"]
            message = dict(message, headers=headers + [(b"ratelimit", verdict.header())])
        await send(message)
    return sending


async def _refuse(send, verdict: Verdict, window: int) -> None:
    body = json.dumps({
        "error": f"Rate limit exceeded: at most {verdict.limit} requests per {window} seconds per API key. "
                 f"Try again in {verdict.reset} seconds.",
        "rate_reset": verdict.reset,
        "rate_limit": verdict.limit,
    }).encode()
    await send({"type": "http.response.start", "status": 429, "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"ratelimit", verdict.header()),
        (b"retry-after", str(verdict.reset).encode()),
    ]})
    await send({"type": "http.response.body", "body": body})
