"""A live Cody server on loopback for each test, and HTTP clients authenticated as each workspace.

The server uses the `db_url` fixture, so a whole test module runs on PostgreSQL as well by overriding it:

    @pytest.fixture
    def db_url(any_db_url):
        return any_db_url

or a single test by decorating it with `tests.api.server.both_databases`.
"""

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.api.team import Team, live_team
from tests.live import http_client, live_cody
from tools.workspaces import NewWorkspace


@pytest.fixture
def db_url(request: pytest.FixtureRequest) -> str:
    """SQLite, unless a test is parametrized indirectly with "postgres" (see `both_databases`)."""
    kind = getattr(request, "param", "sqlite")
    return request.getfixturevalue({"sqlite": "sqlite_url", "postgres": "pg_url"}[kind])


@pytest.fixture
def live_server(db_url: str, factory: sessionmaker[Session]) -> Iterator[str]:
    """The base URL of a live Cody on `db_url` (e.g. "http://127.0.0.1:51234"); its sandbox calls back to itself."""
    with live_cody(db_url, factory) as live:
        yield live.base_url


@pytest.fixture
def api(live_server: str, workspace: NewWorkspace) -> Iterator[httpx.Client]:
    """A client for `workspace`, with Close's Basic auth: the key as user name, empty password."""
    with http_client(base_url=live_server, auth=(workspace.api_key, ""), timeout=30) as client:
        yield client


@pytest.fixture
def other_api(live_server: str, other_workspace: NewWorkspace) -> Iterator[httpx.Client]:
    with http_client(base_url=live_server, auth=(other_workspace.api_key, ""), timeout=30) as client:
        yield client


@pytest.fixture
def anon(live_server: str) -> Iterator[httpx.Client]:
    """A client that sends no credentials."""
    with http_client(base_url=live_server, timeout=30) as client:
        yield client


@pytest.fixture
def team(db_url: str, factory: sessionmaker[Session]) -> Iterator[Team]:
    """A live Cody and a workspace of Ana (admin), Bob and Carol (members) and the contact Sarah (tests/api/team.py)."""
    with live_team(db_url, factory) as team:
        yield team
