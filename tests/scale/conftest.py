"""Fixtures for tests/scale: the demo workspace (tests/tools/messaging_fixtures.py) on the per-test SQLite database;
test_multiprocess.py makes its own PostgreSQL database."""

from tests.tools.messaging_fixtures import demo  # noqa: F401
