"""Schemathesis over /openapi.json against a live Cody with a valid key: no 5xx, and every documented response
matches its schema. A bounded number of examples per operation keeps it to about a minute in CI.

Webhooks, Slack and the sandbox panel are left out (they are not part of the documented API, or need signatures
that random data can't have); tests/security covers them.
"""

import os
import shutil
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from api.settings import ApiSettings
from db.session import make_engine, make_sessionmaker, transaction
from tests.api.server import bound_socket, running_server
from tests.conftest import empty_pg
from tools.demo import seed_demo
from tools.runtime import build_runtime
from tools.settings import TelephonySettings

MAX_EXAMPLES = int(os.environ.get("CODY_FUZZ_EXAMPLES", "6"))
EXCLUDED = r"^/api/(webhooks|slack|sandbox)/"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fuzz_server(request, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(base URL, API key) of a live Cody on its own database with the demo workspace, rate limit off.

    On SQLite and on PostgreSQL: PostgreSQL refuses values SQLite stores (a NUL character, an integer beyond 64 bits),
    and each must still be a 400, never a 500.
    """
    if request.param == "postgres":
        url = empty_pg(request.getfixturevalue("pg_database"))
    else:
        path = tmp_path_factory.mktemp("fuzz") / "cody.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        demo = seed_demo(session)
    sock = bound_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    runtime = build_runtime(TelephonySettings(_env_file=None, public_base_url=base_url,
                                              sandbox_callback_delay_seconds=0.0), factory, poll_seconds=0.05)
    app = create_app(ApiSettings(database_url=url, run_dispatcher=False, rate_limit_per_minute=0), factory, runtime)
    with running_server(app, sock) as base:
        yield base, demo.api_key
    engine.dispose()


def _documented_operations() -> list:
    """The operations of the app's own schema (the same code the live server runs), webhooks and co. left out."""
    url = "sqlite:///unused-the-schema-needs-no-database.db"  # the engine connects lazily: never, here
    factory = make_sessionmaker(make_engine(url))
    runtime = build_runtime(TelephonySettings(_env_file=None), factory)
    app = create_app(ApiSettings(database_url=url, run_dispatcher=False), factory, runtime)
    loaded = schemathesis.openapi.from_dict(app.openapi()).exclude(path_regex=EXCLUDED)
    return [result.ok() for result in loaded.get_all_operations()]


OPERATIONS = _documented_operations()


def strategy_for(operation):
    """Valid requests, and invalid ones (a branch that yields nothing when the operation has nothing to get wrong)."""
    return st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_the_api_answers_generated_requests_without_a_5xx_or_a_schema_violation(operation, fuzz_server) -> None:
    base_url, key = fuzz_server

    @given(case=strategy_for(operation))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, print_blob=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        case.call_and_validate(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30,
                               checks=[not_a_server_error, response_schema_conformance])

    run()


def test_the_fuzzed_schema_covers_the_api() -> None:
    labels = {operation.label for operation in OPERATIONS}
    assert len(labels) >= 40, sorted(labels)
    assert "POST /api/v1/activity/sms/" in labels and "POST /api/chat/messages" in labels
    assert not [label for label in labels if "/api/webhooks/" in label or "/api/sandbox/" in label]
