"""Engine and session factory; the URL is always given by the caller."""

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

DEFAULT_URL = "sqlite:///cody.db"


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def make_engine(url: str, **kwargs) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        if "poolclass" not in kwargs and ":memory:" not in url and os.environ.get("CODY_SQLITE_POOL") != "many":
            # Every transaction takes the write lock at BEGIN (below), so only one connection can work at a time
            # anyway: with one pooled connection the others wait on the pool, woken as soon as it is returned,
            # instead of in SQLite's busy handler, which sleeps and retries (up to 100 ms a nap) and made the
            # latency tail. A second session opened in a thread already holding a transaction could not get the
            # lock before either (busy_timeout, 30 s); now it waits pool_timeout, the same 30 s.
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("pool_timeout", 30)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    pooled = "poolclass" not in kwargs
    if pooled:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _postgres_planner_costs)
    if pooled:
        event.listen(engine, "checkin", _stamp_checkin)
        event.listen(engine, "checkout", _pinger(engine))
    return engine


# A pooled PostgreSQL connection is pinged before use only when it sat in the pool longer than this. A ping is a
# round trip of its own (an empty statement), and a send makes about ten others: SQLAlchemy's pool_pre_ping pings at
# every checkout, so a send, which checks out twice (before and after the carrier's answer), paid two, and a
# resolution one of its five.
# A connection that was in use a moment ago is alive unless the server went away in that moment, and then the
# request fails as it would have one statement later anyway; the failure invalidates the whole pool, as a failed
# ping does, so no later request meets a dead connection.
PING_AFTER_IDLE_SECONDS = 1.0


def _stamp_checkin(_dbapi_conn, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _pinger(engine: Engine) -> Callable[[object, ConnectionPoolEntry, object], None]:
    """A checkout listener that pings a connection idle for over PING_AFTER_IDLE_SECONDS, as pool_pre_ping would."""
    dialect = engine.dialect

    def ping_if_idle(dbapi_conn, record: ConnectionPoolEntry, _proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_conn, None):
                raise exc.InvalidatePoolError() from error  # the pool reconnects and retries the checkout
            raise

    return ping_if_idle


# PostgreSQL's default cost of reading a random page (4, against 1 for the next page of a scan) is for a disk that
# seeks. Cody's queries are a few index lookups into a working set that stays in memory; priced for a disk, looking
# up 50 leads' contacts and phones at 10,000 contacts became a hash join over every contact and every phone (12 ms
# instead of 1.7). PostgreSQL's documentation says to lower it when the data is cached and gives 1.1 for SSDs. Set on
# each connection, not on the server, so the plans do not depend on how the server was tuned, and nothing else on a
# shared server changes.
RANDOM_PAGE_COST = 1.1


# SQLite reads the database file through memory mapping, up to this many bytes of it, instead of copying each page
# it needs from the operating system's cache into its own (2 MB a connection by default) with a read() call. A
# workspace of 100,000 contacts is a file of about 300 MB, so most of what resolving a name reads missed SQLite's
# cache: mapped, resolution took 0.86-0.89x the time at the median and at the p99 there, and the same at 1,000
# contacts (docs/PERFORMANCE.md). Writes still go through write(). The file must be on a local disk: an I/O error
# on a mapped page stops the process instead of failing the statement.
SQLITE_MMAP_BYTES = 1 << 30


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cur.close()
    dbapi_conn.create_function("lower_unicode", 1, _lower_unicode, deterministic=True)


def _lower_unicode(text: str | None) -> str | None:
    """SQLite's lower() and LIKE fold ASCII letters only; this folds "Ä" to "ä" as PostgreSQL's lower() does, so a
    search (tools/crm.py, `folded`) answers the same on both databases."""
    return text.lower() if isinstance(text, str) else text


def _postgres_planner_costs(dbapi_conn, _record) -> None:
    autocommit = dbapi_conn.autocommit
    dbapi_conn.autocommit = True
    with dbapi_conn.cursor() as cur:
        cur.execute(f"SET random_page_cost = {RANDOM_PAGE_COST}")
    dbapi_conn.autocommit = autocommit


def _sqlite_begin_immediate(conn) -> None:
    """Take the write lock at BEGIN, so concurrent writers queue instead of failing to upgrade."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session
