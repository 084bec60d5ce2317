"""The page's shell and its two helper routes, without a browser."""

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from db.session import transaction
from tools import crm
from tools.context import Ctx
from tools.demo import seed_demo
from tools.runtime import build_runtime
from tools.settings import TelephonySettings


@pytest.fixture
def demo(factory):
    with transaction(factory) as session:
        return seed_demo(session)


def make_app(db_url, factory, provider=None):
    settings = TelephonySettings(public_base_url="http://testserver")
    runtime = build_runtime(settings, factory, provider=provider)
    return create_app(ApiSettings(database_url=db_url, run_dispatcher=False), factory, runtime)


@pytest.fixture
def app(db_url, factory, demo):
    return make_app(db_url, factory)


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client


def auth(demo) -> dict:
    return {"Authorization": f"Bearer {demo.api_key}"}


def test_the_page_is_a_shell_with_no_key_in_it(client, demo):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert 'src="/static/app.js"' in html and 'id="sandbox"' in html and 'data-sandbox="true"' in html
    assert "cody-demo-key" not in html and demo.api_key not in html
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def here(app, address: str = "127.0.0.1", host: str = "127.0.0.1:8000") -> TestClient:
    """A browser at `address` asking for http://`host`/."""
    return TestClient(app, base_url=f"http://{host}", client=(address, 50000))


def test_a_demo_server_puts_its_key_in_the_page_escaped(app, demo):
    app.state.demo_api_key = demo.api_key
    with here(app) as browser_here:
        assert f'<meta name="cody-demo-key" content="{demo.api_key}">' in browser_here.get("/").text
        app.state.demo_api_key = '"><script>alert(1)</script>'
        html = browser_here.get("/").text
    assert "<script>alert(1)" not in html and "&#34;&gt;&lt;script&gt;" in html


@pytest.mark.parametrize(("address", "host"), [
    ("127.0.0.1", "127.0.0.1:8000"), ("::1", "[::1]:8000"), ("::ffff:127.0.0.1", "localhost:8000"),
])
def test_a_demo_servers_key_reaches_a_browser_on_its_own_machine(app, demo, address, host):
    app.state.demo_api_key = demo.api_key
    with here(app, address, host) as browser:
        assert f'<meta name="cody-demo-key" content="{demo.api_key}">' in browser.get("/").text


@pytest.mark.parametrize(("address", "host"), [
    ("203.0.113.7", "cody.example.com"), ("192.168.1.20", "192.168.1.5:8000"), ("2001:db8::7", "[::1]:8000"),
    ("testclient", "127.0.0.1:8000"),
    ("127.0.0.1", "rebound.example.com:8000"),  # a web site whose name now points at 127.0.0.1 (DNS rebinding)
])
def test_a_demo_servers_key_reaches_no_other_browser(app, demo, address, host):
    """The demo key is an admin's (numbers, wallet): a visitor from anywhere else gets the page without it."""
    app.state.demo_api_key = demo.api_key
    with here(app, address, host) as elsewhere:
        page = elsewhere.get("/")
    assert page.status_code == 200 and "cody-demo-key" not in page.text and demo.api_key not in page.text


def test_no_sandbox_panel_with_a_real_carrier(db_url, factory, demo):
    class Carrier:
        name = "twilio"

    with TestClient(make_app(db_url, factory, provider=Carrier())) as client:
        html = client.get("/").text
        assert 'id="sandbox"' not in html and 'data-sandbox="false"' in html
        assert client.get("/api/web/config", headers=auth(demo)).json() == {"sandbox": False, "planner": "offline"}


def test_static_files_and_nothing_else(client):
    script = client.get("/static/app.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert client.get("/static/app.css").headers["content-type"].startswith("text/css")
    for path in ("/static/missing.js", "/static/..%2Fweb.py", "/static/.hidden.js", "/static/app.py"):
        response = client.get(path)
        assert response.status_code == 404 and response.json() == {"error": "Not found."}, path


def test_config_needs_a_key(client, demo):
    assert client.get("/api/web/config").status_code == 401
    assert client.get("/api/web/config", headers=auth(demo)).json() == {"sandbox": True, "planner": "offline"}


def test_contact_search_by_name_lead_phone_and_email(client, demo):
    def names(query, **params):
        response = client.get("/api/web/contacts/", params={"query": query, **params}, headers=auth(demo))
        assert response.status_code == 200, response.text
        return [c["name"] for c in response.json()["data"]]

    assert names("") == ["David Smith", "John Park", "Luc Tremblay", "Mary Smith", "Sarah Lee"]
    assert names("smith") == ["David Smith", "Mary Smith"]
    assert names("acme") == ["John Park"]
    assert names("(415) 555-0132") == ["Sarah Lee"]
    assert names("SARAH.LEE@example") == ["Sarah Lee"]
    assert names("100%_") == []
    page = client.get("/api/web/contacts/", params={"_limit": 2, "_skip": 2}, headers=auth(demo)).json()
    assert [c["name"] for c in page["data"]] == ["Luc Tremblay", "Mary Smith"] and page["has_more"] is True
    assert page["data"][0]["lead_name"] == "Luc Tremblay"


def test_contact_search_stays_in_the_callers_workspace(client, factory, demo, workspace):
    with transaction(factory) as session:
        ctx = Ctx(organization_id=workspace.organization_id, user_id=workspace.user_id, role="admin")
        crm.create_contact(session, ctx, crm.ContactIn(name="Sarah Other"))
    found = client.get("/api/web/contacts/", params={"query": "sarah"}, headers=auth(demo)).json()["data"]
    assert [c["name"] for c in found] == ["Sarah Lee"]
    theirs = client.get("/api/web/contacts/", headers={"Authorization": f"Bearer {workspace.api_key}"}).json()
    assert [c["name"] for c in theirs["data"]] == ["Sarah Other"]
