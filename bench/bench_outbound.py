"""Outbound figures: sends per second through `Messaging.execute` (status outbox, due now), one process, sequential.

Two providers on each database (SQLite file; PostgreSQL when reachable):

- sandbox: SandboxProvider with a no-op status callback and zero callback delay (it still starts one short-lived
  thread per send, as it does in the app);
- twilio: TwilioProvider (the official SDK over httpx) pointed at bench/fake_twilio.py on loopback.

Each send opens its own session, as an API request does, and ends with the row in `sent` and its provider sid
saved. Baselines from the same run and database, per message: one bare single-row INSERT + COMMIT into a
plain table (for the sandbox), and that INSERT plus one bare httpx POST of a similar form to the same fake with
the same client type (for twilio). Paths are timed in interleaved rounds so load changes hit them alike.
"""

import secrets
import time
from collections.abc import Callable

import httpx
import sqlalchemy as sa
from sqlalchemy import func, select

from bench.bench_text import text_corpus
from bench.fake_twilio import fake_twilio
from bench.harness import Figure, percentiles_ms
from bench.live import database_kinds, temp_database
from db.models import Activity, Contact
from db.session import make_engine, make_sessionmaker, transaction
from tools.context import Ctx
from tools.demo import seed_demo
from tools.messaging.request import SendRequest
from tools.runtime import build_runtime
from tools.settings import TelephonySettings
from tools.telephony.sandbox import SANDBOX_MESSAGING_SERVICE_SID, SandboxProvider
from tools.telephony.twilio_provider import TwilioProvider

FAKE_ACCOUNT_SID = "AC" + "0" * 32
FAKE_SERVICE_SID = "MG" + "0" * 32
WARMUP = {True: 5, False: 20}  # sends per path before timing, by quick

_meta = sa.MetaData()
BENCH_ROW = sa.Table(
    "bench_row", _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sid", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("date_created", sa.DateTime, nullable=False),
)


def _settings(**kw) -> TelephonySettings:
    base = {"_env_file": None, "twilio_account_sid": None, "twilio_auth_token": None,
            "twilio_messaging_service_sid": None, "public_base_url": "http://127.0.0.1:9",
            "sandbox_callback_delay_seconds": 0.0}
    return TelephonySettings(**(base | kw))


class _Paths:
    """The four things timed on one database, each taking the index of the message to send."""

    def __init__(self, url: str, fake_url: str, texts: list[str]):
        self.engine = make_engine(url)
        self.factory = make_sessionmaker(self.engine)
        self.texts = texts
        _meta.create_all(self.engine)
        with transaction(self.factory) as session:
            demo = seed_demo(session)
        with self.factory() as session:
            self.contacts = list(session.scalars(select(Contact.id).where(Contact.organization_id == demo.organization_id)
                                                 .order_by(Contact.id)))
        self.ctx = Ctx(organization_id=demo.organization_id, user_id=demo.user_id, channel="api")

        self.sandbox = SandboxProvider(_settings(), post_callback=lambda form: None)
        self.sandbox_runtime = build_runtime(_settings(), self.factory, provider=self.sandbox,
                                             default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)
        twilio_settings = _settings(twilio_account_sid=FAKE_ACCOUNT_SID, twilio_auth_token="x",
                                    twilio_api_base_url=fake_url, twilio_messaging_service_sid=FAKE_SERVICE_SID)
        self.sdk_http = httpx.Client(timeout=10.0)
        self.twilio = TwilioProvider(twilio_settings, http=self.sdk_http)
        self.twilio_runtime = build_runtime(twilio_settings, self.factory, provider=self.twilio,
                                            default_messaging_service=FAKE_SERVICE_SID)
        self.bare_http = httpx.Client(timeout=10.0)
        self.fake_messages = f"{fake_url}/2010-04-01/Accounts/{FAKE_ACCOUNT_SID}/Messages.json"
        self.callback = "http://127.0.0.1:9/api/webhooks/twilio/sms/status"

    def close(self) -> None:
        self.sandbox.drain()
        self.twilio.close()
        self.sdk_http.close()
        self.bare_http.close()
        self.engine.dispose()

    def _send(self, runtime, i: int) -> None:
        request = SendRequest(contact_id=self.contacts[i % len(self.contacts)], text=self.texts[i % len(self.texts)])
        with self.factory() as session:
            activity = runtime.messaging.execute(session, self.ctx, request)
        if activity.status != "sent":
            raise RuntimeError(f"send {i} ended {activity.status}: {activity.error_message}")

    def send_sandbox(self, i: int) -> None:
        self._send(self.sandbox_runtime, i)

    def send_twilio(self, i: int) -> None:
        self._send(self.twilio_runtime, i)

    def insert(self, i: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(BENCH_ROW.insert().values(sid=secrets.token_hex(16), body=self.texts[i % len(self.texts)],
                                                   date_created=sa.func.now()))

    def insert_post(self, i: int) -> None:
        self.insert(i)
        response = self.bare_http.post(
            self.fake_messages, auth=(FAKE_ACCOUNT_SID, "x"),
            data={"To": "+14155550132", "Body": self.texts[i % len(self.texts)],
                  "MessagingServiceSid": FAKE_SERVICE_SID, "StatusCallback": self.callback},
        )
        response.raise_for_status()
        response.json()

    def sent_rows(self) -> int:
        with self.factory() as session:
            return session.scalar(select(func.count()).select_from(Activity).where(Activity.status == "sent"))


def _timed(fn: Callable[[int], None], start: int, count: int, latencies: list[float]) -> tuple[float, float]:
    """Wall and process CPU seconds for calling fn on count message indexes; each call's latency is appended."""
    began, cpu = time.perf_counter(), time.process_time()
    for i in range(start, start + count):
        t = time.perf_counter()
        fn(i)
        latencies.append(time.perf_counter() - t)
    return time.perf_counter() - began, time.process_time() - cpu


def _run_database(kind: str, n: int, rounds: int, warmup: int) -> list[Figure]:
    texts = [t for t in text_corpus(500, seed=3) if len(t) <= 1000]
    names = ("sandbox", "insert", "twilio", "insert_post")
    spent = dict.fromkeys(names, 0.0)
    cpu = dict.fromkeys(names, 0.0)
    latencies: dict[str, list[float]] = {name: [] for name in names}
    with temp_database(kind) as url, fake_twilio() as (fake_url, counter):
        paths = _Paths(url, fake_url, texts)
        try:
            fns = {"sandbox": paths.send_sandbox, "insert": paths.insert, "twilio": paths.send_twilio,
                   "insert_post": paths.insert_post}
            for fn in fns.values():
                _timed(fn, 0, warmup, [])
            per_round = n // rounds
            for r in range(rounds):
                for name, fn in fns.items():
                    wall, used = _timed(fn, warmup + r * per_round, per_round, latencies[name])
                    spent[name] += wall
                    cpu[name] += used
            done = per_round * rounds
            per_path = warmup + done
            if paths.sent_rows() != 2 * per_path:  # sandbox and twilio sends, all in `sent` with a sid
                raise RuntimeError(f"{paths.sent_rows()} rows sent, expected {2 * per_path}")
            if counter.messages_created != 2 * per_path:  # twilio sends and the baseline's bare POSTs
                raise RuntimeError(f"fake Twilio created {counter.messages_created}, expected {2 * per_path}")
        finally:
            paths.close()

    def figure(name: str, value: str, baseline: str, baseline_name: str) -> Figure:
        p50, p99 = percentiles_ms(latencies[value])
        return Figure(group="outbound", name=f"{name} ({kind})", value=done / spent[value], unit="sends/s",
                      baseline=done / spent[baseline], baseline_name=baseline_name, p50_ms=p50, p99_ms=p99,
                      note=f"{done:,} sequential, {rounds} round(s); CPU {1000 * cpu[value] / done:.2f} ms/send "
                           f"(baseline {1000 * cpu[baseline] / done:.2f})")

    return [
        figure("send, sandbox", "sandbox", "insert", "INSERT"),
        figure("send, twilio SDK -> fake", "twilio", "insert_post", "INSERT+POST"),
    ]


def run(quick: bool, databases: list[str] | None = None) -> list[Figure]:
    n = 50 if quick else 450  # per run; `python -m bench` takes the median of 3 runs
    rounds = 1 if quick else 3
    figures: list[Figure] = []
    for kind in database_kinds(databases):
        figures += _run_database(kind, n, rounds, WARMUP[quick])
    return figures
