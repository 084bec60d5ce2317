"""Inbound figures: Twilio's incoming-SMS webhook through the whole path, over loopback HTTP, on a live server.

The server is ``python -m bench.live`` in a subprocess (uvicorn, one process, sandbox runtime, dispatcher off),
so the load generator here and the server do not share a GIL. Each request is a distinct MessageSid, signed
over the server's PUBLIC_BASE_URL with the workspace's webhook token, from one of SENDERS numbers to the demo
business line; the first text from an unknown number creates its lead and contact, later ones match it. The path:
signature check, dedupe receipt, routing by the dialled number, contact match, activity, thread, inbox items.

Baseline, same server and database: POST /bench/baseline, a route mounted on the same app instance by the
bench only, which parses the form and inserts one WebhookReceipt row through the app's session factory.

Two measurements per database:
- closed loop: CONCURRENCY requests in flight (httpx.AsyncClient), requests/s and p50/p99 latency;
- open loop at a fixed offered rate of 100 requests/s (the target is p99 under 50 ms), latency measured from
  each request's scheduled send time, so a client or server that falls behind shows up in the figure.
"""

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
from sqlalchemy import func, select

from bench.bench_text import text_corpus
from bench.harness import Figure, percentiles_ms
from bench.live import (
    BASELINE_PATH,
    Server,
    ServerProcess,
    database_kinds,
    temp_database,
)
from db.models import Activity, WebhookReceipt
from db.session import make_engine, make_sessionmaker, transaction
from tools.demo import seed_demo
from tools.settings import TelephonySettings
from tools.telephony.sandbox import SandboxProvider
from tools.telephony.signing import sign, signing_token

CONCURRENCY = 10
TARGET_RATE = 100.0
TARGET_P99_MS = 50.0
WARMUP = {True: 10, False: 30}  # requests per endpoint before timing, by quick
SENDERS = 50
# The demo's contacts first (known senders), then numbers nobody has yet.
KNOWN = ["+14155550132", "+14155550143", "+14155550144", "+12125550123", "+16045550188"]


@dataclass(frozen=True)
class Prepared:
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Result:
    elapsed: float
    latencies: list[float]
    lag: list[float]  # open loop: how late the client started each request
    server_cpu: float = 0.0  # CPU seconds the server process used meanwhile
    client_cpu: float = 0.0  # CPU seconds this (load generator) process used meanwhile


def _senders() -> list[str]:
    extra = [f"+1{area}55501{k:02d}" for area in (212, 312, 617, 305) for k in range(100)]
    return (KNOWN + [p for p in extra if p not in KNOWN])[:SENDERS]


class Requests:
    """Signed webhook requests built ahead of time, so the timed loop only sends bytes."""

    def __init__(self, base_url: str, token: str, to: str):
        self.base_url = base_url
        self.token = token
        self.to = to
        self.sandbox = SandboxProvider(TelephonySettings(_env_file=None, public_base_url=base_url,
                                                         twilio_account_sid=None, twilio_auth_token=None),
                                       post_callback=lambda form: None)
        self.senders = _senders()
        self.texts = text_corpus(1000, seed=4)
        self.made = 0

    def make(self, n: int, baseline: bool) -> list[Prepared]:
        out = []
        for _ in range(n):
            i = self.made
            self.made += 1
            form = self.sandbox.simulate_inbound_sms(self.senders[i % len(self.senders)], self.to,
                                                     self.texts[i % len(self.texts)])
            url = self.base_url + BASELINE_PATH if baseline else form.url
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Twilio-Signature": sign(self.token, form.url, form.params)}
            out.append(Prepared(url, urlencode(form.params).encode(), headers))
        return out


async def _post(client: httpx.AsyncClient, request: Prepared) -> None:
    response = await client.post(request.url, content=request.body, headers=request.headers)
    if response.status_code != 200:
        raise RuntimeError(f"{request.url} answered {response.status_code}: {response.text[:200]}")


async def closed_loop(client: httpx.AsyncClient, requests: list[Prepared], concurrency: int) -> Result:
    pending = iter(requests)
    latencies: list[float] = []

    async def worker() -> None:
        for request in pending:
            began = time.perf_counter()
            await _post(client, request)
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(time.perf_counter() - began, latencies, [])


async def open_loop(client: httpx.AsyncClient, requests: list[Prepared], rate: float) -> Result:
    """Start request i at t0 + i/rate whatever the earlier ones are doing; latency counts from that time."""
    latencies: list[float] = []
    lag: list[float] = []

    async def one(request: Prepared, due: float) -> None:
        lag.append(time.perf_counter() - due)
        await _post(client, request)
        latencies.append(time.perf_counter() - due)

    t0 = time.perf_counter() + 0.01
    tasks = []
    for i, request in enumerate(requests):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(request, due)))
    await asyncio.gather(*tasks)
    return Result(time.perf_counter() - t0, latencies, lag)


async def _measured(server: Server, loop) -> Result:
    """Run one loop and add the CPU both processes spent on it."""
    server_before, client_before = server.cpu_seconds() or 0.0, time.process_time()
    result = await loop
    result.server_cpu = (server.cpu_seconds() or 0.0) - server_before
    result.client_cpu = time.process_time() - client_before
    return result


async def _drive(server: Server, requests: Requests, n: int, rounds: int, open_n: int,
                 warmup: int) -> dict[str, Result]:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:
        for baseline in (True, False):
            await closed_loop(client, requests.make(warmup, baseline), CONCURRENCY)
        results: dict[str, Result] = {}
        per_round = n // rounds
        for _ in range(rounds):
            for name, baseline in (("baseline", True), ("webhook", False)):
                got = await _measured(server, closed_loop(client, requests.make(per_round, baseline), CONCURRENCY))
                if name in results:
                    results[name].elapsed += got.elapsed
                    results[name].latencies += got.latencies
                    results[name].server_cpu += got.server_cpu
                    results[name].client_cpu += got.client_cpu
                else:
                    results[name] = got
        for name, baseline in (("baseline@rate", True), ("webhook@rate", False)):
            results[name] = await _measured(server, open_loop(client, requests.make(open_n, baseline), TARGET_RATE))
    return results


def _run_database(kind: str, process: ServerProcess, n: int, rounds: int, open_seconds: float,
                  warmup: int) -> list[Figure]:
    open_n = int(TARGET_RATE * open_seconds)
    with temp_database(kind) as url:
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        with transaction(factory) as session:
            demo = seed_demo(session)
        with factory() as session:
            token = signing_token(session, TelephonySettings(_env_file=None, twilio_auth_token=None))
        try:
            with process.serving(url) as server:
                requests = Requests(server.base_url, token, demo.number)
                results = asyncio.run(_drive(server, requests, n, rounds, open_n, warmup))
            per_kind = n // rounds * rounds + warmup + open_n
            with factory() as session:
                logged = session.scalar(select(func.count()).select_from(Activity)
                                        .where(Activity.direction == "inbound"))
                receipts = session.scalar(select(func.count()).select_from(WebhookReceipt)
                                          .where(WebhookReceipt.event == "bench"))
        finally:
            engine.dispose()
    if logged != per_kind or receipts != per_kind:
        raise RuntimeError(f"{logged} texts logged and {receipts} baseline rows, expected {per_kind} of each")

    web, base = results["webhook"], results["baseline"]
    web_p50, web_p99 = percentiles_ms(web.latencies)
    base_p50, base_p99 = percentiles_ms(base.latencies)
    rate_web, rate_base = results["webhook@rate"], results["baseline@rate"]
    r_p50, r_p99 = percentiles_ms(rate_web.latencies)
    rb_p50, rb_p99 = percentiles_ms(rate_base.latencies)
    _, lag_p99 = percentiles_ms(rate_web.lag)
    done = len(web.latencies)
    verdict = "meets" if r_p99 < TARGET_P99_MS else "MISSES"
    return [
        Figure(group="inbound", name=f"SMS webhook, {CONCURRENCY} in flight ({kind})", value=done / web.elapsed,
               unit="req/s", baseline=len(base.latencies) / base.elapsed, baseline_name="form+INSERT",
               p50_ms=web_p50, p99_ms=web_p99,
               note=f"{done:,} requests; server CPU {_per_ms(web.server_cpu, done):.2f} ms/req "
                    f"(baseline {_per_ms(base.server_cpu, len(base.latencies)):.2f}); client CPU "
                    f"{_per_ms(web.client_cpu, done):.2f} ms/req; baseline p50/p99 {base_p50:.1f}/{base_p99:.1f} ms"),
        Figure(group="inbound", name=f"SMS webhook p99 at {TARGET_RATE:.0f} req/s ({kind})", value=r_p99, unit="ms",
               baseline=rb_p99, baseline_name="form+INSERT p99", p50_ms=r_p50, p99_ms=r_p99, higher_is_better=False,
               note=f"open loop {open_n} req in {open_seconds:g} s, done in {rate_web.elapsed:.1f} s; {verdict} "
                    f"p99<{TARGET_P99_MS:.0f} ms; server CPU {_per_ms(rate_web.server_cpu, open_n):.2f} ms/req; "
                    f"baseline p50 {rb_p50:.1f} ms; client lag p99 {lag_p99:.1f} ms"),
    ]


def _per_ms(seconds: float, count: int) -> float:
    return 1000 * seconds / count if count else 0.0


def run(quick: bool, databases: list[str] | None = None) -> list[Figure]:
    n = 100 if quick else 600  # per run; `python -m bench` takes the median of 3 runs
    rounds = 1 if quick else 2
    open_seconds = 1.0 if quick else 3.0
    kinds = database_kinds(databases)
    processes = {kind: ServerProcess() for kind in kinds}  # their imports run side by side, before any timing
    try:
        for process in processes.values():
            process.wait_ready()
        figures: list[Figure] = []
        for kind in kinds:
            figures += _run_database(kind, processes[kind], n, rounds, open_seconds, WARMUP[quick])
        return figures
    finally:
        for process in processes.values():
            process.stop()
