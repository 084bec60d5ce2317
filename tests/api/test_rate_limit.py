"""The per-key rate limit over real HTTP: counted in the database (so every process shares it), answered as
Close answers it (429 with RateLimit and Retry-After), survived by Close's own client, and never applied to
webhooks, /healthz or requests without credentials."""

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import closeio_api
import httpx
from sqlalchemy import select

from api.app import create_app
from api.ratelimit import bucket_key
from api.settings import ApiSettings
from db.models import RateLimitBucket
from tests.api.server import both_databases, running_server
from tests.live import http_client

ME = "/api/v1/me/"
HEADER = re.compile(r"limit=(\d+), remaining=(\d+), reset=(\d+)")


@contextmanager
def server(db_url: str, factory, limit: int, window: int = 3600) -> Iterator[str]:
    settings = ApiSettings(_env_file=None, database_url=db_url, run_dispatcher=False, rate_limit_per_minute=limit,
                           rate_limit_window_seconds=window)
    with running_server(create_app(settings, factory)) as base_url:
        yield base_url


def fresh_window(window: int, needed: float) -> None:
    """Sleep into the next window when fewer than `needed` seconds remain in this one (windows align to the epoch)."""
    left = window - time.time() % window
    if left < needed:
        time.sleep(left + 0.05)


def client(base_url: str, key: str) -> httpx.Client:
    return http_client(base_url=base_url, auth=(key, ""), timeout=30)


def parse(response: httpx.Response) -> tuple[int, int, int]:
    match = HEADER.fullmatch(response.headers["RateLimit"])
    assert match, response.headers["RateLimit"]
    return tuple(int(x) for x in match.groups())


@both_databases
def test_the_sixth_request_in_a_window_is_refused_with_closes_headers(db_url, factory, workspace):
    with server(db_url, factory, limit=5) as base_url, client(base_url, workspace.api_key) as api:
        fresh_window(3600, 10)
        answers = [api.get(ME) for _ in range(6)]
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 200, 429]
    assert [parse(r)[:2] for r in answers[:5]] == [(5, 4), (5, 3), (5, 2), (5, 1), (5, 0)]
    refused = answers[5]
    limit, remaining, reset = parse(refused)
    assert (limit, remaining) == (5, 0) and 1 <= reset <= 3600
    assert refused.headers["Retry-After"] == str(reset)
    body = refused.json()
    assert body["error"].startswith("Rate limit exceeded: ") and body["rate_reset"] == reset


def test_each_key_has_its_own_bucket_and_the_plain_key_is_not_stored(db_url, factory, workspace, other_workspace):
    with (server(db_url, factory, limit=2) as base_url, client(base_url, workspace.api_key) as api,
          client(base_url, other_workspace.api_key) as other):
        fresh_window(3600, 10)
        assert [api.get(ME).status_code for _ in range(3)] == [200, 200, 429]
        assert other.get(ME).status_code == 200
    with factory() as session:
        keys = set(session.scalars(select(RateLimitBucket.key)))
        counts = {b.key: b.count for b in session.scalars(select(RateLimitBucket))}
    assert keys == {bucket_key(workspace.api_key), bucket_key(other_workspace.api_key)}
    assert all(len(k) == 32 and workspace.api_key not in k for k in keys)
    assert counts[bucket_key(workspace.api_key)] == 3


def test_webhooks_healthz_and_requests_without_credentials_are_not_limited(db_url, factory, workspace):
    with server(db_url, factory, limit=1) as base_url, client(base_url, workspace.api_key) as api:
        fresh_window(3600, 10)
        assert api.get(ME).status_code == 200
        assert api.get(ME).status_code == 429
        health = api.get("/healthz")
        assert health.status_code == 200 and "RateLimit" not in health.headers
        # An unsigned webhook is refused by its signature check, not by the limiter.
        assert api.post("/api/webhooks/twilio/sms", data={"MessageSid": "SM1"}).status_code == 403
        anonymous = [httpx.get(base_url + ME, timeout=30).status_code for _ in range(5)]
        assert anonymous == [401] * 5
    with factory() as session:
        assert [b.key for b in session.scalars(select(RateLimitBucket))] == [bucket_key(workspace.api_key)]


def test_every_route_a_key_calls_shares_its_limit(db_url, factory, workspace):
    """The assistant, the web page's API and the sandbox cost as much as REST: one bucket per key for all of them."""
    with server(db_url, factory, limit=3) as base_url, client(base_url, workspace.api_key) as api:
        fresh_window(3600, 10)
        assert api.get("/api/web/contacts/").status_code == 200
        assert api.post("/api/chat/messages", json={"text": "hello"}).status_code == 200
        assert api.get(ME).status_code == 200
        refused = [api.get("/api/web/contacts/"), api.post("/api/chat/messages", json={"text": "hello"}),
                   api.post("/api/voice/commands", json={"text": "hello"}), api.get(ME)]
    assert [r.status_code for r in refused] == [429] * 4


def test_keys_that_are_not_keys_write_nothing(db_url, factory, workspace):
    with server(db_url, factory, limit=5) as base_url:
        fresh_window(3600, 10)
        for n in range(10):
            with client(base_url, f"made-up-key-{n}") as stranger:
                assert stranger.get(ME).status_code == 401
    with factory() as session:
        assert session.scalars(select(RateLimitBucket)).all() == []


def test_the_count_is_shared_by_every_process_on_the_database(db_url, factory, workspace):
    with (server(db_url, factory, limit=4) as first, server(db_url, factory, limit=4) as second,
          client(first, workspace.api_key) as a, client(second, workspace.api_key) as b):
        fresh_window(3600, 10)
        codes = [a.get(ME).status_code, b.get(ME).status_code, a.get(ME).status_code, b.get(ME).status_code,
                 a.get(ME).status_code, b.get(ME).status_code]
    assert codes == [200, 200, 200, 200, 429, 429]


@both_databases
def test_concurrent_requests_are_counted_exactly(db_url, factory, workspace):
    codes: list[int] = []
    lock = threading.Lock()
    with server(db_url, factory, limit=10) as base_url:
        fresh_window(3600, 20)

        def call() -> None:
            with client(base_url, workspace.api_key) as api:
                status = api.get(ME).status_code
            with lock:
                codes.append(status)

        threads = [threading.Thread(target=call) for _ in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert codes.count(200) == 10 and codes.count(429) == 14


def test_closes_client_sleeps_through_a_429_and_succeeds(db_url, factory, workspace):
    """With a 2-second window, the client's first call is refused; it sleeps per the RateLimit header and its
    retry, in the next window, succeeds."""
    with server(db_url, factory, limit=1, window=2) as base_url:
        close = closeio_api.API(base_url=base_url + "/api/v1/", api_key=workspace.api_key, max_retries=3)
        statuses: list[int] = []
        close.session.hooks["response"].append(lambda response, *args, **kwargs: statuses.append(response.status_code))
        # Start early in a window so that the spent request and the client's first call share it.
        while time.time() % 2 > 0.5:
            time.sleep(0.02)
        with client(base_url, workspace.api_key) as api:
            assert api.get(ME).status_code == 200
        began = time.monotonic()
        me = close.get("me")
        waited = time.monotonic() - began
    assert me["organizations"][0]["id"] == workspace.organization_id
    assert statuses == [429, 200]
    assert 1.0 <= waited < 5.0


def test_a_limit_of_zero_turns_the_limiter_off(db_url, factory, workspace):
    with server(db_url, factory, limit=0) as base_url, client(base_url, workspace.api_key) as api:
        responses = [api.get(ME) for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5
    assert "RateLimit" not in responses[0].headers
