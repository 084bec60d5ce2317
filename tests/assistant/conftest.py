"""The demo workspace, a live Cody over loopback HTTP on it, and a chat client with the demo's key; a test module
overrides any of them (and picks its databases with `db_url`)."""

from collections.abc import Iterator

import httpx
import pytest

from db.session import transaction
from tests.live import LiveCody, live_cody
from tools.demo import Demo, seed_demo


@pytest.fixture
def demo(factory) -> Demo:
    with transaction(factory) as session:
        return seed_demo(session)


@pytest.fixture
def cody(db_url, factory, demo) -> Iterator[LiveCody]:
    with live_cody(db_url, factory, sandbox_callback_delay_seconds=0.0) as live:
        yield live


@pytest.fixture
def chat(cody, demo) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cody.base_url, auth=(demo.api_key, ""), timeout=30) as client:
        yield client
