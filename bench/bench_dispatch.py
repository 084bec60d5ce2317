"""Dispatch figures: 10,000 scheduled messages due at once on PostgreSQL, drained by 1 and by 3 worker processes.

One fresh migrated PostgreSQL database (bench.live) holds the demo workspace with 1,000 more contacts, and three
batches of messages (N each for the workers, at most 2,000 for the baseline, a rate that is steady by then) written
with core inserts in the shape `Messaging.execute` gives a scheduled text (status `scheduled`, thread, sender,
messaging service, segments, an idempotency key), to its contacts in turn, scheduled an hour ahead: one batch for
each phase (1 worker, 3 workers, the baseline), with VACUUM ANALYZE between phases. Workers are separate processes
(``python -m bench.bench_dispatch --worker``, the loop `cody worker --once` runs: `Dispatcher.drain()`, batches of
50, `FOR UPDATE SKIP LOCKED`), so they do not share a GIL. Each imports everything, builds its runtime and says
READY; then every row of the phase's batch gets date_scheduled = one instant t0 (all due at once) and the workers
are told GO.

Provider: the fake Twilio (bench/fake_twilio.py) in its own process by default, reached by the Twilio SDK over
loopback as a real carrier would be; ``CODY_BENCH_DISPATCH_PROVIDER=sandbox`` uses the sandbox with its status
callbacks off instead (no carrier round trip at all).

Figures: messages/s from GO until the last worker is done; lateness (date_sent - date_scheduled) p50/p99 over every
message. The 3-worker figure's baseline is the 1-worker run (target: at least 2x). The 1-worker figure's baseline is
what the database alone allows the same loop: claim a batch, then one UPDATE to `sent` + COMMIT per message, no
provider, no checks, one process. quick: 500 messages.

Phases (full run), each a carrier and the carrier calls each worker keeps in flight (DISPATCH_CONCURRENCY):
- the fake answering at once, 10,000 messages, one call at a time: Cody and PostgreSQL alone, and how worker
  processes scale on them (the issue's figure);
- the fake answering each create after 20 ms (still quicker than Twilio's API), 600 messages, one call at a time:
  what a worker waiting on a real carrier gains from more worker processes;
- the same carrier, 2,000 messages, with the default concurrency (4): what a worker gains from its own concurrent
  calls, as `cody worker` runs it;
- the same again, but one create in 20 answered after 200 ms, as a real carrier's slowest answers come now and
  then: whether a worker keeps its calls in flight while a slow one is out, or waits on it.
Quick: 500 messages, answering at once, the default concurrency.

PostgreSQL only (SQLite has one writer, so more workers cannot help); skipped with a notice when it does not answer,
except in CI.
"""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import func, insert, select, update

from api.heap import settle_heap
from bench.harness import Figure, percentiles_ms
from bench.live import IN_CI, PG_ADMIN_URL, ROOT, clean_env, pg_reachable, temp_database
from db.ids import new_id
from db.models import Activity, Contact
from db.session import make_engine, make_sessionmaker, transaction
from db.types import utcnow
from tools.context import Ctx
from tools.demo import seed_demo
from tools.messaging.request import SendRequest
from tools.settings import TelephonySettings
from tools.telephony.sandbox import SANDBOX_MESSAGING_SERVICE_SID, SandboxProvider

REPEATS_INSIDE = True  # one drain of 10,000 is long enough to average out: run once by `python -m bench`
N = {True: 500, False: 10_000}
DEFAULT_CONCURRENCY = TelephonySettings.model_fields["dispatch_concurrency"].default


@dataclass(frozen=True)
class Carrier:
    """How the fake Twilio answers a create: after latency_ms, and every slow_every-th one after slow_ms instead."""

    latency_ms: float
    slow_every: int = 0
    slow_ms: float = 0.0

    def options(self) -> list[str]:
        return ["--latency-ms", str(self.latency_ms), "--slow-every", str(self.slow_every), "--slow-ms",
                str(self.slow_ms)]

    @property
    def label(self) -> str:
        slow = f", 1 in {self.slow_every} in {self.slow_ms:g} ms" if self.slow_every else ""
        return f"carrier {self.latency_ms:g} ms{slow}"


# (the fake carrier, messages, carrier calls each worker keeps in flight): answering at once measures Cody and
# PostgreSQL alone (CPU-bound, so on 2 cores the 3 workers share the cores with PostgreSQL and the fake); 20 ms,
# still quicker than Twilio's API, measures what a worker waiting on a real carrier gains from more workers, and
# from its own concurrent calls; the last adds the slow answers a real carrier has now and then (one create in 20
# takes ten times as long), which a worker must not wait on before it claims more.
PHASES = {True: ((Carrier(0), 500, DEFAULT_CONCURRENCY),),
          False: ((Carrier(0), 10_000, 1), (Carrier(20), 600, 1), (Carrier(20), 2_000, DEFAULT_CONCURRENCY),
                  (Carrier(20, slow_every=20, slow_ms=200), 2_000, DEFAULT_CONCURRENCY))}
WORKERS = (1, 3)
BUYERS = 1_000
BATCH = 50
TARGET_SPEEDUP = 2.0
BARE_MAX = 2_000
FAKE_ACCOUNT_SID = "AC" + "0" * 32
FAKE_SERVICE_SID = "MG" + "0" * 32
STARTUP_TIMEOUT = 120.0
TEXTS = ["Hi {name}, your showing at 14 Elm St is confirmed for tomorrow at 10:00.",
         "Reminder: the open house starts at 1pm on Saturday. Reply STOP to opt out.",
         "Thanks {name}! The offer went in; expect an answer by Friday.",
         "Hola {name}, ¿podemos vernos mañana a las 9:30? 🏡"]


def _provider_kind() -> str:
    kind = os.environ.get("CODY_BENCH_DISPATCH_PROVIDER", "twilio")
    if kind not in ("twilio", "sandbox"):
        raise ValueError(f"CODY_BENCH_DISPATCH_PROVIDER must be twilio or sandbox, not {kind!r}")
    return kind


def _settings(fake_url: str | None, concurrency: int) -> TelephonySettings:
    base = {"_env_file": None, "twilio_account_sid": None, "twilio_auth_token": None,
            "twilio_messaging_service_sid": None, "public_base_url": "http://127.0.0.1:9",
            "sandbox_callback_delay_seconds": 0.0, "dispatch_concurrency": concurrency}
    if fake_url:
        base |= {"twilio_account_sid": FAKE_ACCOUNT_SID, "twilio_auth_token": "x", "twilio_api_base_url": fake_url,
                 "twilio_messaging_service_sid": FAKE_SERVICE_SID}
    return TelephonySettings(**base)


class _QuietSandbox(SandboxProvider):
    """The sandbox with its status callbacks off: no thread, no post per message."""

    def _start_callbacks(self, sid, message) -> None:
        pass


def _runtime(url: str, fake_url: str | None, concurrency: int = 1):
    from tools.runtime import build_runtime

    factory = make_sessionmaker(make_engine(url))
    settings = _settings(fake_url, concurrency)
    if fake_url:
        from tools.telephony.twilio_provider import TwilioProvider

        return build_runtime(settings, factory, provider=TwilioProvider(settings),
                             default_messaging_service=FAKE_SERVICE_SID)
    return build_runtime(settings, factory, provider=_QuietSandbox(settings, post_callback=lambda form: None),
                         default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)


# -- the rows ------------------------------------------------------------------------------------------------


def _fill(url: str, fake_url: str | None, batches: dict[str, int]) -> None:
    """The demo workspace and, per batch, n scheduled texts to its contacts in execute's shape, due in an hour.

    A batch's rows carry idempotency keys "<batch>-<i>" (as texts sent through the API with an Idempotency-Key do),
    which is how a phase makes only its own batch due.
    """
    runtime = _runtime(url, fake_url)
    factory = runtime.factory
    with transaction(factory) as session:
        demo = seed_demo(session)
    ctx = Ctx(organization_id=demo.organization_id, user_id=demo.user_id, channel="api")
    with transaction(factory) as session:
        _add_buyers(session, ctx)
    later = utcnow() + timedelta(hours=1)
    with factory() as session:
        contacts = list(session.scalars(select(Contact).where(Contact.organization_id == demo.organization_id)
                                        .order_by(Contact.id)))
        from tools import threads

        shapes = []
        for n, contact in enumerate(contacts):  # rows go to each contact in turn: neighbours to different people
            text = TEXTS[n % len(TEXTS)].format(name=contact.name.split(" ")[0])
            prepared = runtime.messaging.prepare(session, ctx, SendRequest(
                contact_id=contact.id, text=text, status="scheduled", date_scheduled=later))
            if [p for p in prepared.problems if p.code != "quiet_hours"]:
                continue  # a contact the demo makes unreachable (no phone, opted out)
            thread = threads.thread_for(session, ctx.organization_id, contact.id, prepared.lead_id)
            shapes.append((prepared, thread.id))
        session.commit()
    if not shapes:
        raise RuntimeError("the demo workspace has no textable contact")
    now = utcnow()
    rows = []
    for batch, i in ((b, i) for b, count in batches.items() for i in range(count)):
        p, thread_id = shapes[i % len(shapes)]
        rows.append({
            "id": new_id("acti"), "organization_id": ctx.organization_id, "type": "sms", "direction": "outbound",
            "status": "scheduled", "source": "Close.io", "lead_id": p.lead_id, "contact_id": p.contact_id,
            "user_id": ctx.user_id, "created_by": ctx.user_id, "updated_by": ctx.user_id, "thread_id": thread_id,
            "activity_at": now, "channel": "api", "local_phone": p.from_, "remote_phone": p.to, "text": p.text,
            "date_scheduled": later, "encoding": p.encoding, "segments": p.segments, "attachments": [],
            "messaging_service_sid": p.messaging_service_sid, "attempts": 0, "commitments": [],
            "idempotency_key": f"{batch}-{i}", "date_created": now, "date_updated": now,
        })
    engine = factory.kw["bind"]
    with engine.begin() as conn:
        for i in range(0, len(rows), 2_000):
            conn.execute(insert(Activity), rows[i:i + 2_000])
    engine.dispose()
    _vacuum(url)


def _add_buyers(session, ctx: Ctx) -> None:
    """BUYERS more people to text, as a campaign's list has: a batch reaches many recipients, not the demo's few
    (a dispatcher sends each recipient's texts one after another, and claims none to a phone another is sending to)."""
    from tools import crm

    for i in range(BUYERS):
        name = f"Buyer {i:03d}"
        crm.create_lead(session, ctx, crm.LeadIn(name=name, contacts=[
            crm.ContactIn(name=name, phones=[crm.PhoneIn(phone=f"+1415555{200 + i:04d}", type="mobile")])]))


def _vacuum(url: str) -> None:
    """Fresh statistics and no dead rows from an earlier phase: each phase starts from the same state."""
    engine = make_engine(url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM ANALYZE activity")
    engine.dispose()


def _in_batch(batch: str):
    return Activity.idempotency_key.like(f"{batch}-%")


def _make_due(url: str, batch: str) -> None:
    """Every row of the batch due at one instant: now."""
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(update(Activity).where(Activity.status == "scheduled", _in_batch(batch))
                     .values(date_scheduled=utcnow()))
    engine.dispose()


def _outcome(url: str, batch: str) -> tuple[int, int, list[float]]:
    """(rows sent, rows in any other status, lateness in seconds of each sent row) of the batch."""
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        late = [(sent - due).total_seconds() for sent, due in conn.execute(
            select(Activity.date_sent, Activity.date_scheduled).where(_in_batch(batch), Activity.status == "sent"))]
        other = conn.scalar(select(func.count()).select_from(Activity)
                            .where(_in_batch(batch), Activity.status != "sent"))
    engine.dispose()
    return len(late), other, late


# -- the workers -----------------------------------------------------------------------------------------------


class _Worker:
    def __init__(self, url: str, fake_url: str | None, concurrency: int):
        args = ([sys.executable, "-m", "bench.bench_dispatch", "--worker", url, str(concurrency)]
                + ([fake_url] if fake_url else []))
        self.proc = subprocess.Popen(args, cwd=ROOT, env=clean_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)

    def expect(self, word: str, timeout: float = STARTUP_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith(word):
                return line
            if not line:
                break
        raise RuntimeError(f"dispatch worker never said {word} (exit code {self.proc.poll()})")

    def go(self) -> None:
        self.proc.stdin.write("GO\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()


def worker_main(url: str, concurrency: int, fake_url: str | None) -> None:
    """One dispatcher process: build the runtime, say READY, wait for GO, drain, say DONE <sent> <cpu seconds>."""
    runtime = _runtime(url, fake_url, concurrency)
    with runtime.factory() as session:  # connect and warm the pool before the clock starts
        session.execute(sa.text("SELECT 1"))
    settle_heap()  # as `cody worker` does before it dispatches
    print("READY", flush=True)
    if sys.stdin.readline().strip() != "GO":
        return
    cpu = time.process_time()
    sent = runtime.dispatcher.drain()
    print(f"DONE {sent} {time.process_time() - cpu:.3f}", flush=True)


def _drain(url: str, procs: list[_Worker], batch: str) -> dict:
    for p in procs:
        p.expect("READY")
    _make_due(url, batch)
    began = time.perf_counter()
    for p in procs:
        p.go()
    done = [p.expect("DONE", timeout=3600).split() for p in procs]
    elapsed = time.perf_counter() - began
    sent, other, late = _outcome(url, batch)
    return {"elapsed": elapsed, "claimed": sum(int(d[1]) for d in done), "cpu": sum(float(d[2]) for d in done),
            "sent": sent, "other": other, "late": late}


# -- the baseline: the database alone ---------------------------------------------------------------------------


def _bare_count(n: int) -> int:
    """The baseline is a rate, steady after a couple of thousand messages: it need not drain all n."""
    return min(n, BARE_MAX)


def _bare(url: str, batch: str) -> dict:
    """Claim batches as the dispatcher does, then UPDATE each row to sent and COMMIT: no provider, no checks."""
    from tools.messaging.dispatcher import claim_due

    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    _make_due(url, batch)
    began, cpu = time.perf_counter(), time.process_time()
    done = 0
    with factory() as session:
        while claimed := claim_due(session, "bench-bare", BATCH):
            for activity_id in (message.id for message in claimed):
                now = utcnow()
                session.execute(update(Activity).where(Activity.id == activity_id, Activity.status == "sending")
                                .values(status="sent", provider_sid="SM" + activity_id[-32:], date_sent=now,
                                        claimed_by=None, date_updated=now)
                                .execution_options(synchronize_session=False))
                session.commit()
                done += 1
    elapsed, used = time.perf_counter() - began, time.process_time() - cpu
    engine.dispose()
    return {"elapsed": elapsed, "cpu": used, "done": done}


# -- figures ----------------------------------------------------------------------------------------------------


def _run(n: int, fake_url: str | None, concurrency: int) -> tuple[dict[int, dict], dict]:
    """One database, three batches: n drained by 1 worker, n by 3 workers, and fewer by the bare loop, in turn."""
    results: dict[int, dict] = {}
    with temp_database("postgres") as url:
        # Every worker process starts now: their imports overlap the filling, not the timing.
        procs = {workers: [_Worker(url, fake_url, concurrency) for _ in range(workers)] for workers in WORKERS}
        try:
            _fill(url, fake_url, {f"w{w}": n for w in WORKERS} | {"bare": _bare_count(n)})
            for workers in WORKERS:
                got = _drain(url, procs[workers], f"w{workers}")
                if got["sent"] != n or got["other"] or got["claimed"] != n:
                    raise RuntimeError(f"{workers} worker(s): {got['sent']} sent, {got['other']} not, "
                                       f"{got['claimed']} claimed; expected {n} sent")
                results[workers] = got
                _vacuum(url)
        finally:
            for group in procs.values():
                for p in group:
                    p.stop()
        bare = _bare(url, "bare")
    if bare["done"] != _bare_count(n):
        raise RuntimeError(f"baseline sent {bare['done']} of {n}")
    return results, bare


def run(quick: bool) -> list[Figure]:
    if not pg_reachable():
        if IN_CI:
            raise RuntimeError(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; CI must run the dispatch benchmark")
        print(f"bench: PostgreSQL not reachable at {PG_ADMIN_URL}; dispatch figures skipped", file=sys.stderr)
        return []
    kind = _provider_kind()
    figures: list[Figure] = []
    for carrier, n, concurrency in PHASES[quick] if kind == "twilio" else ((Carrier(0), N[quick], DEFAULT_CONCURRENCY),):
        with _fake_carrier(kind, carrier) as fake_url:
            results, bare = _run(n, fake_url, concurrency)
        figures += _figures(n, kind, carrier, concurrency, results, bare)
    return figures


@contextmanager
def _fake_carrier(kind: str, carrier: Carrier) -> Iterator[str | None]:
    """The fake Twilio in its own process, answering as `carrier` says, or None for the sandbox."""
    if kind != "twilio":
        yield None
        return
    fake = subprocess.Popen([sys.executable, "-m", "bench.fake_twilio", *carrier.options()], cwd=ROOT,
                            env=clean_env(), stdout=subprocess.PIPE, text=True)
    try:
        line = fake.stdout.readline()
        if not line.startswith("FAKE_TWILIO_URL="):
            raise RuntimeError("the fake Twilio did not start")
        yield line.split("=", 1)[1].strip()
    finally:
        fake.terminate()
        fake.wait(timeout=10)
        fake.stdout.close()


def _figures(n: int, kind: str, fake: Carrier, concurrency: int, results: dict[int, dict],
             bare: dict) -> list[Figure]:
    provider = f"Twilio SDK -> fake Twilio, {fake.label}" if kind == "twilio" else "sandbox, callbacks off"
    carrier = fake.label if kind == "twilio" else "sandbox"
    calls = "1 call at a time" if concurrency == 1 else f"{concurrency} calls in flight each"
    rate = {w: n / r["elapsed"] for w, r in results.items()}
    bare_rate = bare["done"] / bare["elapsed"]
    figures = []
    for workers, r in results.items():
        p50, p99 = percentiles_ms(r["late"])
        speedup = rate[workers] / rate[1]
        if workers == 1:
            baseline, baseline_name = bare_rate, "claim+UPDATE only, 1 process"
            extra = f"baseline CPU {1000 * bare['cpu'] / bare['done']:.2f} ms/msg over {bare['done']:,}"
        else:
            baseline, baseline_name = rate[1], "1 worker"
            verdict = "meets" if speedup >= TARGET_SPEEDUP else "MISSES"
            extra = f"{speedup:.2f}x the 1-worker rate: {verdict} >= {TARGET_SPEEDUP:.0f}x"
        figures.append(Figure(
            group="dispatch", name=f"drain {n:,} due at once, {workers} worker process(es), {calls}, {carrier} (postgres)",
            value=rate[workers], unit="msg/s", baseline=baseline, baseline_name=baseline_name, p50_ms=p50,
            p99_ms=p99,
            note=f"p50/p99 = lateness (date_sent - date_scheduled); {provider}; drained in {r['elapsed']:.1f} s; "
                 f"worker CPU {1000 * r['cpu'] / n:.2f} ms/msg; {extra}"))
    return figures


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
    else:
        from rich.console import Console

        from bench.__main__ import render

        Console(width=200).print(render(run(quick="--quick" in sys.argv)))
