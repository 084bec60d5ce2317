"""The engines Cody opens: what each database connection is set up with."""

import time

import pytest
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from db.session import PING_AFTER_IDLE_SECONDS, SQLITE_MMAP_BYTES, make_engine, make_sessionmaker


@pytest.mark.postgres
def test_postgres_connections_price_random_reads_for_cached_data(pg_url):
    engine = make_engine(pg_url)
    factory = make_sessionmaker(engine)
    with factory() as session:
        assert session.scalar(text("SHOW random_page_cost")) == "1.1"
        session.rollback()  # a session-level setting: a rolled-back transaction keeps it
        assert session.scalar(text("SHOW random_page_cost")) == "1.1"
    engine.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


def _last_query(admin, pid: int) -> str | None:
    """What the server last ran on that backend, as another connection sees it."""
    with admin.connect() as conn:
        return conn.scalar(text("SELECT query FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})


@pytest.mark.postgres
def test_postgres_pings_a_pooled_connection_only_after_it_sat_idle(pg_url):
    engine, admin = make_engine(pg_url), make_engine(pg_url, poolclass=NullPool)
    pid = _backend_pid(engine)
    with engine.connect():
        assert _last_query(admin, pid) == "ROLLBACK"  # the reset when it went back to the pool, and no ping since
    time.sleep(PING_AFTER_IDLE_SECONDS + 0.2)
    with engine.connect():
        assert _last_query(admin, pid) == ";"  # the psycopg dialect's ping: an empty statement
    engine.dispose()
    admin.dispose()


@pytest.mark.postgres
def test_postgres_replaces_a_pooled_connection_the_server_closed_while_it_sat_idle(pg_url):
    engine, admin = make_engine(pg_url), make_engine(pg_url, poolclass=NullPool)
    pid = _backend_pid(engine)
    with admin.connect() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    time.sleep(PING_AFTER_IDLE_SECONDS + 0.2)
    with make_sessionmaker(engine)() as session:
        assert session.scalar(text("SELECT pg_backend_pid()")) != pid
    engine.dispose()
    admin.dispose()


def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'cody.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_sqlite_reads_the_file_through_a_memory_map(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'cody.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA mmap_size").scalar() == SQLITE_MMAP_BYTES
    engine.dispose()
