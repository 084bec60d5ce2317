"""The scaled deployment of docs/DEPLOY.md, for real: two `cody serve --no-dispatcher` and three `cody worker`
processes on one PostgreSQL, Twilio replaced by bench/fake_twilio.py on loopback (in its own process).

5,000 messages (CODY_SCALE_MESSAGES) go in through both APIs, 40% due now (sent by the API process that saved
them), 30% with send_in and 30% scheduled a few seconds ahead (sent by the workers). One worker is killed with
SIGKILL midway; its claimed rows stay in `sending` until SENDING_TIMEOUT_SECONDS (8 here) passes and another
worker's reconciler asks the fake whether each went out (find_message) before putting it back in the outbox.
At the end every message must have been created at the fake exactly once and no row may be left unsent.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import phonenumbers
import pytest
import sqlalchemy as sa

from db.models import Activity
from db.session import make_engine, make_sessionmaker, transaction
from tests.api.server import free_port, stop_process
from tests.conftest import IN_CI, PG_ADMIN_URL, _pg_reachable
from tests.live import http_client
from tools.demo import seed_demo

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(600)]

MESSAGES = int(os.environ.get("CODY_SCALE_MESSAGES", "5000"))
CLIENT_THREADS = 16
SENDING_TIMEOUT = 8  # well above TWILIO_TIMEOUT_SECONDS (2): a live, slow send must never look stale
SETTLE_SECONDS = float(os.environ.get("CODY_SCALE_SETTLE_SECONDS", "240"))  # after the last request is answered
ACCOUNT_SID = "AC" + "0" * 32
SERVICE_SID = "MG" + "0" * 32
PENDING = ("scheduled", "outbox", "sending")
ROOT = Path(__file__).resolve().parents[2]
CODY = Path(sys.executable).parent / "cody"


def _cody(*args: str) -> list[str]:
    """The `cody` command (its console script when installed, else the same entry point through python -c)."""
    if CODY.exists():
        return [str(CODY), *args]
    return [sys.executable, "-c", "from api.cli import app; app()", *args]


@pytest.fixture
def scale_db() -> Iterator[str]:
    """A fresh PostgreSQL database of its own (not migrated: `cody migrate` does that), dropped at the end."""
    if not _pg_reachable():
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; CI must run the PostgreSQL tests")
        pytest.skip("PostgreSQL not reachable (set CODY_TEST_POSTGRES_URL)")
    name = f"cody_scale_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_ADMIN_URL, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


class Processes:
    """Child processes with their output in files, stopped (and reported when they died) at the end."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.procs: dict[str, subprocess.Popen] = {}
        self.killed: set[str] = set()

    def start(self, name: str, argv: list[str], env: dict[str, str], stdout=None) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=stdout or log, stderr=log)
        self.procs[name] = proc
        return proc

    def kill(self, name: str) -> None:
        self.killed.add(name)
        os.kill(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait(timeout=10)

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if name not in self.killed and proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def count(self, phrase: str) -> int:
        """Lines of all the children's logs that contain `phrase`."""
        return sum(path.read_text(errors="replace").count(phrase) for path in self.logs.glob("*.log"))

    def cpu_seconds(self) -> dict[str, float]:
        """User + system CPU each live child has used so far (from /proc; empty where there is none)."""
        ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        used = {}
        for name, proc in self.procs.items():
            try:
                fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            used[name] = (int(fields[11]) + int(fields[12])) / ticks
        return used

    def stop_all(self) -> None:
        for proc in self.procs.values():
            stop_process(proc)


def _wait_healthy(url: str, procs: Processes, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.check_alive()
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not become healthy in {timeout} s")


def _recipients(count: int) -> list[str]:
    """Valid US mobile-range numbers in the fictional 555-01XX block, across area codes."""
    found = []
    for area in range(201, 990):
        for line in range(100, 200):
            number = f"+1{area}555{line:04d}"
            parsed = phonenumbers.parse(number)
            if not phonenumbers.is_valid_number(parsed):
                break
            found.append(number)
            if len(found) == count:
                return found
    return found


def _request(i: int, run: str, to: str) -> dict:
    """Message i: 40% due now, 30% send_in 1-3 s, 30% scheduled 2-6 s ahead; its text carries a unique token."""
    body = {"status": "outbox", "remote_phone": to, "text": f"Scale {run} #{i:06d}: your showing is confirmed."}
    kind = i % 10
    if kind in (4, 5, 6):
        body["send_in"] = 1 + i % 3
    elif kind in (7, 8, 9):
        body["status"] = "scheduled"
        body["date_scheduled"] = (datetime.now(UTC) + timedelta(seconds=2 + i % 5)).isoformat()
    return body


def _claimed_by(factory, worker_id: str) -> int:
    with factory() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Activity)
                              .where(Activity.status == "sending", Activity.claimed_by == worker_id))


def _pending(factory) -> int:
    with factory() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Activity)
                              .where(Activity.type == "sms", Activity.status.in_(PENDING)))


def test_two_apis_and_three_workers_send_every_message_exactly_once(scale_db, tmp_path):
    run = uuid.uuid4().hex[:6]
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "OPENAI_", "SLACK_"))}
    base_env.update(DATABASE_URL=scale_db, LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    migrated = subprocess.run(_cody("migrate"), cwd=ROOT, env=base_env, capture_output=True, text=True, timeout=120,
                              check=False)
    assert migrated.returncode == 0, migrated.stderr

    engine = make_engine(scale_db)
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        demo = seed_demo(session)

    procs = Processes(tmp_path)
    try:
        fake = procs.start("fake_twilio", [sys.executable, "-m", "bench.fake_twilio"], base_env,
                           stdout=subprocess.PIPE)
        line = fake.stdout.readline().decode().strip()
        assert line.startswith("FAKE_TWILIO_URL="), line or procs.tail("fake_twilio")
        fake_url = line.split("=", 1)[1]

        ports = [free_port(), free_port()]
        apis = [f"http://127.0.0.1:{port}" for port in ports]
        env = dict(base_env, TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN="x", TWILIO_API_BASE_URL=fake_url,
                   TWILIO_MESSAGING_SERVICE_SID=SERVICE_SID, TWILIO_TIMEOUT_SECONDS="2", PUBLIC_BASE_URL=apis[0],
                   SENDING_TIMEOUT_SECONDS=str(SENDING_TIMEOUT), RATE_LIMIT_PER_MINUTE="0", LOG_JSON="false")
        for n, port in enumerate(ports):
            procs.start(f"api{n}", _cody("serve", "--no-dispatcher", "--host", "127.0.0.1", "--port", str(port)), env)
        workers = [procs.start(f"worker{n}", _cody("worker", "--poll", "0.05"), env) for n in range(3)]
        for url in apis:
            _wait_healthy(url, procs)

        recipients = _recipients(1000)
        local = threading.local()
        failures: list[str] = []
        done = Counter()
        lock = threading.Lock()

        def post(i: int) -> None:
            client = getattr(local, "client", None)
            if client is None:  # idle connections are dropped before uvicorn's 5 s keep-alive closes them
                client = local.client = http_client(auth=(demo.api_key, ""), timeout=60,
                                                     limits=httpx.Limits(keepalive_expiry=2.0))
            body = _request(i, run, recipients[i % len(recipients)])
            for attempt in range(4):
                # A transport error leaves it unknown whether the message was saved: retry with the same
                # Idempotency-Key (on the other API, as a load balancer would), which returns the saved row.
                try:
                    answer = client.post(f"{apis[(i + attempt) % 2]}/api/v1/activity/sms/", json=body,
                                         headers={"Idempotency-Key": f"scale-{run}-{i}"})
                    break
                except httpx.TransportError as exc:
                    with lock:
                        done["transport_retries"] += 1
                    if attempt == 3:
                        raise AssertionError(f"#{i}: {exc!r}") from exc
                    time.sleep(0.2)
            with lock:
                done["requests"] += 1
                if answer.status_code != 200:
                    failures.append(f"#{i}: {answer.status_code} {answer.text[:300]}")

        victim = "worker0"
        victim_id = f"{socket.gethostname()}:{workers[0].pid}"
        started = time.monotonic()
        with ThreadPoolExecutor(CLIENT_THREADS) as pool:
            futures = [pool.submit(post, i) for i in range(MESSAGES)]
            while done["requests"] < MESSAGES // 2:  # midway: kill a worker while the others keep going
                procs.check_alive()
                time.sleep(0.05)
            busy_by = time.monotonic() + 15  # ... preferably while it holds claimed rows
            while time.monotonic() < busy_by and not _claimed_by(factory, victim_id):
                time.sleep(0.01)
            procs.kill(victim)
            killed_at = time.monotonic() - started
            stranded = _claimed_by(factory, victim_id)
            for future in futures:
                future.result()
        submitted = time.monotonic() - started
        assert failures == [], failures[:5]

        deadline = time.monotonic() + SETTLE_SECONDS
        while (left := _pending(factory)) > 0:
            procs.check_alive()
            assert time.monotonic() < deadline, f"{left} message(s) still pending {SETTLE_SECONDS:.0f} s after the last request"
            time.sleep(0.5)
        settled = time.monotonic() - started

        created = httpx.get(f"{fake_url}/_fake/messages", timeout=60).json()["messages"]
        tokens = Counter(m["body"].split(":", 1)[0] for m in created if m["body"].startswith(f"Scale {run} #"))
        expected = {f"Scale {run} #{i:06d}" for i in range(MESSAGES)}
        duplicates = sum(n - 1 for n in tokens.values() if n > 1)
        lost = len(expected - set(tokens))
        with factory() as session:
            statuses = dict(session.execute(sa.select(Activity.status, sa.func.count())
                                            .where(Activity.type == "sms").group_by(Activity.status)).all())
            sids = session.scalar(sa.select(sa.func.count(sa.func.distinct(Activity.provider_sid)))
                                  .where(Activity.type == "sms"))
            retried = session.scalar(sa.select(sa.func.count()).select_from(Activity)
                                     .where(Activity.type == "sms", Activity.attempts > 1))
        cpu = procs.cpu_seconds()
        print(f"\nmessages={MESSAGES} duplicates={duplicates} lost={lost}", flush=True)
        print(f"submitted in {submitted:.1f} s, all settled in {settled:.1f} s; {victim} SIGKILLed at "
              f"{killed_at:.1f} s with {stranded} row(s) in sending; {retried} row(s) claimed more than once; "
              f"statuses {statuses}; fake created {len(created)}; client retries after a transport error "
              f"{done['transport_retries']}", flush=True)
        print(f"reconciler: {procs.count('; linked to SM')} linked to the carrier's message, "
              f"{procs.count('; put back in the outbox')} put back in the outbox; {procs.count('was taken back before')} "
              f"taken back from a batch before it was sent; {procs.count('; retrying in')} carrier failures retried",
              flush=True)
        print("CPU seconds: " + ", ".join(f"{name} {secs:.1f}" for name, secs in cpu.items()), flush=True)

        assert duplicates == 0
        assert lost == 0
        assert len(tokens) == MESSAGES == len(created)
        assert statuses == {"sent": MESSAGES}
        assert sids == MESSAGES
        for name in ("api0", "api1", "worker1", "worker2"):
            assert procs.procs[name].poll() is None, f"{name} died:\n{procs.tail(name)}"
    except BaseException:
        for name in procs.procs:
            print(f"--- {name} (last lines)\n{procs.tail(name)}", flush=True)
        raise
    finally:
        procs.stop_all()
        engine.dispose()
