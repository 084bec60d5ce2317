"""Fixtures for tests/tools: the messaging ones live in messaging_fixtures.py (demo, posted, provider, runtime,
messaging); a test module's own fixture of the same name takes precedence."""

from tests.tools.messaging_fixtures import demo, messaging, posted, provider, runtime  # noqa: F401
