"""Shared fixtures: migrated SQLite per test, a PostgreSQL database per run, workspaces built by the services."""

import os
import shutil
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from db.base import Base
from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker, transaction
from tools.workspaces import NewWorkspace, create_organization

# Tests never reach Twilio, OpenAI or Slack: drop any credentials the environment may carry.
for _name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL",
              "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_URL", "PUBLIC_BASE_URL"):
    os.environ.pop(_name, None)

PG_ADMIN_URL = os.environ.get("CODY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


# The longest files start first, so the other worker fills the end of the run with short ones (scripts/test.sh has
# pytest-xdist hand out whole files in the order they were collected).
RUN_FIRST = ("tests/scale/test_multiprocess.py", "tests/test_bench_smoke.py", "tests/security/test_filters.py",
             "tests/api/test_startup.py", "tests/web/test_browser.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, start in enumerate(RUN_FIRST) if item.nodeid.startswith(start)), len(RUN_FIRST))

    items.sort(key=rank)  # a stable sort: each file keeps its own order


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    """One migrated SQLite file per run; each test copies it."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    path = tmp_path / "cody.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def _pg_reachable() -> bool:
    try:
        engine = make_engine(PG_ADMIN_URL, poolclass=sa.pool.NullPool)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except (sa.exc.DBAPIError, OSError):
        return False


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this run, dropped at the end."""
    if not _pg_reachable():
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; CI must run the PostgreSQL tests")
        pytest.skip("PostgreSQL not reachable (set CODY_TEST_POSTGRES_URL)")
    name = f"cody_t_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_ADMIN_URL, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


# Dependents first. DELETE rather than TRUNCATE: a test leaves a few rows, and TRUNCATE gives each of the tables a
# new file (0.26 s a test against 0.01).
_EMPTY_TABLES = "; ".join(f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables))
_RESTART_SEQUENCES = ("SELECT setval(quote_ident(schemaname) || '.' || quote_ident(sequencename), 1, false) "
                      "FROM pg_sequences WHERE schemaname = current_schema()")


def empty_pg(url: str) -> str:
    """Every table of the PostgreSQL database at `url` emptied and its id sequences restarted; returns the URL."""
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(_EMPTY_TABLES)
        conn.exec_driver_sql(_RESTART_SEQUENCES)
    engine.dispose()
    return url


@pytest.fixture
def pg_url(pg_database) -> str:
    """The run's PostgreSQL database, emptied before the test."""
    return empty_pg(pg_database)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db_url(request) -> str:
    """Runs the test on SQLite and on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def db_url(sqlite_url) -> str:
    return sqlite_url


@pytest.fixture
def factory(db_url) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def workspace(factory) -> NewWorkspace:
    with transaction(factory) as session:
        return create_organization(session, "Acme Realty", "ana@acme.test", "Ana", "Diaz")


@pytest.fixture
def other_workspace(factory) -> NewWorkspace:
    with transaction(factory) as session:
        return create_organization(session, "Other Homes", "otto@other.test", "Otto", "Berg")
