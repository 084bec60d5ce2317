"""The demo workspace, a live Cody over loopback HTTP on it, a chat client with the demo's key and one with a member's;
a test module overrides any of them (and picks its databases with `db_url`)."""

from collections.abc import Iterator

import httpx
import pytest

from db.session import transaction
from tests.live import LiveCody, http_client, live_cody
from tools.demo import Demo, seed_demo
from tools.workspaces import add_member, create_api_key, create_user


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
    with http_client(base_url=cody.base_url, auth=(demo.api_key, ""), timeout=30) as client:
        yield client


@pytest.fixture
def member(cody, chat, factory, demo) -> Iterator[httpx.Client]:
    """Kim Ro, a member (not an admin) of the demo workspace, whose main line Dana made a group line."""
    [line] = chat.get("/api/v1/phone_number/").json()["data"]
    assert chat.put(f"/api/v1/phone_number/{line['id']}/", json={"sharing": "group"}).status_code == 200
    with transaction(factory) as session:
        kim = create_user(session, "kim@bayview.test", "Kim", "Ro")
        session.flush()
        add_member(session, demo.organization_id, kim)
        key = create_api_key(session, demo.organization_id, kim.id)
    with http_client(base_url=cody.base_url, auth=(key, ""), timeout=30) as client:
        yield client
