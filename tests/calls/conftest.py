"""A live Cody (app, sandbox or Twilio runtime) on loopback, the demo workspace, and TwiML parsing."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from xml.etree import ElementTree

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.settings import ApiSettings
from db.session import transaction
from tests.api.server import bound_socket, running_server
from tests.live import LiveCody, http_client
from tools.demo import Demo, seed_demo
from tools.runtime import build_runtime
from tools.settings import TelephonySettings

FORWARDING = "+14155550199"  # the demo user's own phone
SARAH = "+14155550132"


@dataclass
class Live(LiveCody):
    app: FastAPI | None = None
    api_key: str = ""

    def api(self) -> httpx.Client:
        return http_client(base_url=self.base_url, auth=(self.api_key, ""), timeout=30)

    @property
    def sandbox(self):
        return self.runtime.provider


@contextmanager
def live_app(db_url: str, factory: sessionmaker[Session], api_key: str, **telephony: object) -> Iterator[Live]:
    sock = bound_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    telephony.setdefault("sandbox_callback_delay_seconds", 0.0)
    settings = TelephonySettings(_env_file=None, public_base_url=base_url, **telephony)
    runtime = build_runtime(settings, factory, poll_seconds=0.05)
    app = create_app(ApiSettings(database_url=db_url, run_dispatcher=False), factory, runtime)
    with running_server(app, sock) as url:
        yield Live(url, runtime, app, api_key)


@pytest.fixture
def demo(factory) -> Demo:
    with transaction(factory) as session:
        return seed_demo(session)


@pytest.fixture
def cody(db_url, factory, demo) -> Iterator[Live]:
    with live_app(db_url, factory, demo.api_key) as live:
        yield live


@pytest.fixture
def api(cody) -> Iterator[httpx.Client]:
    with cody.api() as client:
        yield client


def twiml(document: str) -> ElementTree.Element:
    """Parse TwiML; the root must be <Response>."""
    root = ElementTree.fromstring(document)
    assert root.tag == "Response", document
    return root


def verbs(document: str) -> list[str]:
    return [child.tag for child in twiml(document)]
