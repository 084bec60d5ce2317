"""Throwaway databases and a live Cody server in a subprocess, for the benchmarks.

Databases: a migrated SQLite file in a temporary directory, and, when PostgreSQL answers at
CODY_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test), a fresh `cody_bench_<hex>`
database, migrated, and dropped afterwards.

Server: ``python -m bench.live`` imports the app, prints ``READY``, reads a database URL from stdin (or takes
``--db-url``), binds a free loopback port, builds the runtime with that address as PUBLIC_BASE_URL (webhook
signatures are computed over it), builds the app with the dispatcher off, mounts one bench-only route on that
app instance, prints ``LISTENING <base url>`` and serves with uvicorn (one process, h11 and the asyncio loop as
installed, the settings `cody serve` uses but with log level warning). The bench-only route,
POST /bench/baseline, parses the form and inserts one WebhookReceipt row through the app's session
factory; it exists only in this process and is not one of the product's routes.
"""

import argparse
import contextlib
import os
import select
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

from api.heap import settle_heap
from db.session import make_engine

PG_ADMIN_URL = os.environ.get("CODY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
ROOT = Path(__file__).resolve().parents[1]
BASELINE_PATH = "/bench/baseline"
STARTUP_TIMEOUT = 60.0

# Benchmarks never reach Twilio: credentials in the environment must not switch the runtime away from the sandbox.
CLEARED_ENV = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE_URL", "TWILIO_MESSAGING_SERVICE_SID",
               "DATABASE_URL", "PUBLIC_BASE_URL", "RUN_DISPATCHER")


# -- databases ---------------------------------------------------------------------------------------------


def pg_reachable() -> bool:
    try:
        engine = make_engine(PG_ADMIN_URL, poolclass=sa.pool.NullPool)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except (sa.exc.SQLAlchemyError, OSError):
        return False


def database_kinds(requested: list[str] | None = None) -> list[str]:
    """The databases to run on: the requested ones, or SQLite and (when it answers) PostgreSQL.

    An unreachable PostgreSQL is skipped with a notice on stderr, unless CI is "true" or it was asked for by name.
    """
    if requested is not None:
        return list(requested)
    if pg_reachable():
        return ["sqlite", "postgres"]
    if IN_CI:
        raise RuntimeError(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; CI must run the PostgreSQL benchmarks")
    print(f"bench: PostgreSQL not reachable at {PG_ADMIN_URL}; PostgreSQL figures skipped "
          "(set CODY_TEST_POSTGRES_URL)", file=sys.stderr)
    return ["sqlite"]


@contextmanager
def temp_database(kind: str, template: str | None = None) -> Iterator[str]:
    """A migrated, empty database of this kind ("sqlite" or "postgres"), or on PostgreSQL a copy of the database
    named `template` (no connection may be open to it); removed on exit."""
    from db.migrate import upgrade

    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="cody_bench_") as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(url)
            yield url
        return
    if kind != "postgres":
        raise ValueError(f"unknown database kind {kind!r}")
    name = f"cody_bench_{uuid.uuid4().hex[:10]}"
    pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        if template is None:
            upgrade(url)
        yield url
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_admin(statement: str) -> None:
    """Run one statement outside a transaction (CREATE or DROP DATABASE) on the benchmarks' PostgreSQL server."""
    admin = make_engine(PG_ADMIN_URL, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(statement)
    admin.dispose()


def settle(engine: sa.Engine) -> None:
    """After a bulk load on PostgreSQL, what autovacuum would do: statistics and the visibility map."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}


# -- the server --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int

    def cpu_seconds(self) -> float | None:
        """User + system CPU the server process has used so far (Linux /proc; None elsewhere)."""
        return process_cpu_seconds(self.pid)


def process_cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


class ServerProcess:
    """``python -m bench.live`` started now: it imports the app at once, then waits for a database to serve.

    Starting it before the database is ready lets its imports (seconds on a slow machine) overlap other setup.
    """

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.live"], cwd=ROOT, env=clean_env(),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, text=True)
        self.ready = False

    def wait_ready(self) -> None:
        """Block until the child has imported everything (it prints READY)."""
        if not self.ready:
            self._expect("READY")
            self.ready = True

    @contextmanager
    def serving(self, db_url: str) -> Iterator[Server]:
        """Serve this database; yield once /healthz answers; stop the process on exit."""
        try:
            self.wait_ready()
            self.proc.stdin.write(db_url + "\n")
            self.proc.stdin.flush()
            base_url = self._expect("LISTENING").split(" ", 1)[1].strip()
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while True:
                try:
                    if httpx.get(base_url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"bench server did not come up (exit code {self.proc.poll()})")
                time.sleep(0.05)
            yield Server(base_url, self.proc.pid)
        finally:
            self.stop()

    def stop(self) -> None:
        proc = self.proc
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None and not stream.closed:
                with contextlib.suppress(OSError):
                    stream.close()

    def _expect(self, word: str) -> str:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                line = self.proc.stdout.readline()
                if line.startswith(word):
                    return line
                if not line:
                    break
            elif self.proc.poll() is not None:
                break
        raise RuntimeError(f"bench server never said {word} (exit code {self.proc.poll()})")


@contextmanager
def live_server(db_url: str) -> Iterator[Server]:
    """A fresh server process on this database, yielded once /healthz answers."""
    with ServerProcess().serving(db_url) as server:
        yield server


def build_app(db_url: str, base_url: str):
    """Cody's app as `cody serve` builds it (sandbox runtime, dispatcher off), plus the bench-only baseline route."""
    from fastapi import Request
    from fastapi.responses import Response
    from starlette.concurrency import run_in_threadpool

    from api.app import create_app
    from api.settings import ApiSettings
    from db.models import WebhookReceipt
    from db.session import make_sessionmaker
    from db.types import utcnow
    from tools.runtime import build_runtime
    from tools.settings import TelephonySettings

    factory = make_sessionmaker(make_engine(db_url))
    settings = TelephonySettings(_env_file=None, public_base_url=base_url, twilio_account_sid=None,
                                 twilio_auth_token=None)
    runtime = build_runtime(settings, factory)
    app = create_app(ApiSettings(_env_file=None, database_url=db_url, run_dispatcher=False, log_level="warning"),
                     factory, runtime)

    def insert_receipt(sid: str) -> None:
        with app.state.factory() as session:
            session.add(WebhookReceipt(provider_sid=sid, event="bench", date_created=utcnow()))
            session.commit()

    async def baseline(request: Request) -> Response:
        """Parse the form, insert one row (in the threadpool, as the sync webhook handler runs), answer."""
        form = await request.form()
        await run_in_threadpool(insert_receipt, str(form.get("MessageSid") or uuid.uuid4().hex))
        return Response("<Response/>", media_type="application/xml")

    app.router.add_api_route(BASELINE_PATH, baseline, methods=["POST"], include_in_schema=False)
    return app


def serve(db_url: str) -> None:
    import uvicorn

    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and accepted ones
    # inherit this. Without it every response (headers, then body, in two writes) waited ~40 ms for the client's
    # delayed ACK (Nagle), which `cody serve` (uvicorn binding host:port itself) never does.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = build_app(db_url, base_url)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    settle_heap()  # as `cody serve` does before uvicorn starts
    print(f"LISTENING {base_url}", flush=True)
    server.run(sockets=[sock])


def main() -> None:
    """Import the app, say READY, read the database URL from stdin (or --db-url), serve it."""
    parser = argparse.ArgumentParser(description="Serve Cody for a benchmark on a free loopback port.")
    parser.add_argument("--db-url", help="serve this database now instead of reading its URL from stdin")
    args = parser.parse_args()
    import uvicorn  # noqa: F401

    import api.app  # noqa: F401 - the slow part of starting, done before the database is known

    print("READY", flush=True)
    db_url = args.db_url or sys.stdin.readline().strip()
    if db_url:
        serve(db_url)


if __name__ == "__main__":
    main()
