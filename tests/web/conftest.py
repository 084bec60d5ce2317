"""A live Cody with the demo workspace, and Debian's chromium driven by Playwright (no browser download).

Without /usr/bin/chromium or the `playwright` package the browser tests are skipped, except under CI=true, where
they must run (.ci/run installs both).
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.settings import ApiSettings
from db.session import transaction
from tests.api.server import bound_socket, running_server
from tests.live import live_cody
from tools.demo import Demo, seed_demo
from tools.runtime import build_runtime
from tools.settings import TelephonySettings

CHROMIUM = os.environ.get("CODY_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}; CI must run the browser tests")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def playwright_api():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install playwright; no browser download needed)")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_api):
    browser = playwright_api.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (its own storage) and page; any uncaught script error fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US",
                                  timezone_id="America/Los_Angeles")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.script_errors = []
    page.on("pageerror", lambda exc: page.script_errors.append(str(exc)))
    page.on("console", lambda msg: page.script_errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text else None)
    yield page
    context.close()
    assert page.script_errors == [], "the page raised script errors (or broke its Content-Security-Policy)"


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def demo(factory) -> Demo:
    with transaction(factory) as session:
        return seed_demo(session)


@pytest.fixture
def cody(db_url, factory, demo):
    with live_cody(db_url, factory, run_dispatcher=True, sandbox_callback_delay_seconds=0.05) as live:
        yield live


@contextmanager
def demo_server(db_url: str, factory: sessionmaker[Session], demo_api_key: str) -> Iterator[str]:
    """Cody as `cody serve --demo` starts it: the demo's key is handed to the page so it signs in by itself."""
    sock = bound_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    runtime = build_runtime(TelephonySettings(public_base_url=base_url, sandbox_callback_delay_seconds=0.05),
                            factory, poll_seconds=0.05)
    app = create_app(ApiSettings(database_url=db_url, run_dispatcher=True), factory, runtime)
    app.state.demo_api_key = demo_api_key
    with running_server(app, sock) as url:
        yield url
