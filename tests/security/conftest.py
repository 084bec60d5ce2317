"""Two workspaces on one live Cody: A is the demo workspace (the attacker's key), B has one row of every kind.

`world` builds both through the services and the API as a user would (B's texts, reply, missed call, chat draft),
then collects B's ids by kind for the tenant-isolation walker. `snapshot` reads every table (or one workspace's
rows) so a test can show that a refused request changed nothing. Every test runs on SQLite and on PostgreSQL.
"""

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.settings import ApiSettings
from db.base import Base
from db.models import Activity, InboxItem, PhoneNumber, SmsTemplate, Thread, User
from db.session import transaction
from tests.api.server import bound_socket, running_server
from tests.live import LiveCody, http_client
from tools.demo import DEMO_NUMBER, Demo, seed_demo
from tools.runtime import build_runtime
from tools.settings import TelephonySettings
from tools.workspaces import NewWorkspace, create_organization

SARAH = "+14155550132"  # A's contact (the demo's Sarah Lee)
B_NUMBER = "+14155550300"
B_FORWARDING = "+14155550399"
BOB = "+14155550161"  # B's contact
B_STRANGER = "+14155550177"  # calls B and hangs up: a missed call, an Inbox item and a drafted text-back
SMS_WEBHOOK = "/api/webhooks/twilio/sms"

# Rows nobody's request is about: the rate limiter's counters and the sandbox's signing token.
UNTRACKED_TABLES = frozenset({"rate_limit_bucket", "app_secret"})


@dataclass
class Live(LiveCody):
    app: FastAPI | None = None
    http: httpx.Client = field(default_factory=lambda: http_client(timeout=30))  # one client: no TLS setup per call

    @property
    def sandbox(self):
        return self.runtime.provider

    def _post(self, url: str, **kwargs: object) -> httpx.Response:
        """LiveCody.post_twilio's requests go over the shared client."""
        return self.http.post(url, **kwargs)

    def client(self, key: str | None) -> httpx.Client:
        return http_client(base_url=self.base_url, auth=(key, "") if key else None, timeout=30)


@contextmanager
def live_app(db_url: str, factory: sessionmaker[Session], api: ApiSettings | None = None,
             **telephony: object) -> Iterator[Live]:
    """A live Cody on loopback (sandbox unless Twilio credentials are given) whose public URL is itself."""
    sock = bound_socket()
    # Small responses go out at once (no Nagle delay waiting on the client's delayed ACK): ~6x faster on loopback.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    telephony.setdefault("sandbox_callback_delay_seconds", 0.0)
    settings = TelephonySettings(_env_file=None, public_base_url=base_url, **telephony)
    runtime = build_runtime(settings, factory, poll_seconds=0.05)
    # No rate limit unless a test asks for one: the suite sends many requests with one key.
    api = api or ApiSettings(database_url=db_url, run_dispatcher=False, rate_limit_per_minute=0)
    app = create_app(api, factory, runtime)
    with running_server(app, sock) as url, http_client(timeout=30) as http:
        yield Live(url, runtime, app, http)


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: frozenset[str]
    in_schema: bool


def app_routes(app: FastAPI) -> list[RouteInfo]:
    """Every HTTP route of the app with its full path, through included routers (which FastAPI may keep lazily)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before lazily included routers: app.routes is already flat
        pairs = [(r, getattr(r, "path", None)) for r in app.routes]
    else:
        pairs = [(c.original_route, c.path) for c in iter_route_contexts(app.routes)]
    return [RouteInfo(path, frozenset(getattr(route, "methods", None) or ()), getattr(route, "include_in_schema", True))
            for route, path in pairs if path and isinstance(route, APIRoute)]


def inbound_form(body: str, sid: str, from_: str = SARAH, to: str = DEMO_NUMBER) -> list[tuple[str, str]]:
    return [("MessageSid", sid), ("SmsSid", sid), ("SmsMessageSid", sid), ("AccountSid", "ACsandbox"),
            ("From", from_), ("To", to), ("Body", body), ("NumMedia", "0"), ("NumSegments", "1")]


def snapshot(factory: sessionmaker[Session], organization_id: str | None = None) -> dict[str, list[tuple]]:
    """Every row of every table (but UNTRACKED_TABLES), or only the rows of one workspace, in a stable order."""
    tables: dict[str, list[tuple]] = {}
    with factory() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in UNTRACKED_TABLES:
                continue
            stmt = select(table)
            if organization_id is not None:
                if "organization_id" not in table.c:
                    continue
                stmt = stmt.where(table.c.organization_id == organization_id)
            tables[table.name] = sorted(tuple(repr(v) for v in row) for row in session.execute(stmt))
    return tables


def changed_tables(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


@dataclass
class World:
    cody: Live
    factory: sessionmaker[Session]
    a: Demo
    b: NewWorkspace
    b_ids: dict[str, str] = field(default_factory=dict)  # kind -> one of B's ids
    a_ids: dict[str, str] = field(default_factory=dict)

    def a_client(self) -> httpx.Client:
        return self.cody.client(self.a.api_key)

    def b_client(self) -> httpx.Client:
        return self.cody.client(self.b.api_key)

    def secrets(self) -> list[str]:
        return [self.a.api_key, self.b.api_key, self.cody.token()]


def _ok(response: httpx.Response) -> dict:
    assert response.status_code in (200, 201), (response.request.method, response.request.url, response.text)
    return response.json()


def build_b(cody: Live, factory: sessionmaker[Session], b: NewWorkspace) -> dict[str, str]:
    """B's data, made the way B's people would make it; returns one id of each kind."""
    with transaction(factory) as session:
        session.add(PhoneNumber(organization_id=b.organization_id, number=B_NUMBER, label="Harbor line", country="US",
                                sms=True, mms=True, voice=True, user_id=b.user_id, sharing="personal",
                                provider="sandbox", provider_sid="PNharbor000000000000000000000000",
                                monthly_cost=Decimal("1.15")))
        session.get(User, b.user_id).forwarding_phone = B_FORWARDING
    with cody.client(b.api_key) as api:
        lead = _ok(api.post("/api/v1/lead/", json={"name": "Bob Stone", "description": "B's buyer", "contacts": [
            {"name": "Bob Stone", "title": "Buyer", "phones": [{"phone": BOB, "type": "mobile"}]}]}))
        contact_id = lead["contacts"][0]["id"]
        template = _ok(api.post("/api/v1/sms_template/", json={
            "name": "Harbor reminder", "text": "Hi {{ contact.first_name }}, it's {{ organization.name }}."}))
        _ok(api.post("/api/v1/activity/sms/", json={"contact_id": contact_id, "text": "Hello Bob", "status": "outbox"}))
        draft_sms = _ok(api.post("/api/v1/activity/sms/", json={"contact_id": contact_id, "text": "Draft for Bob",
                                                                "status": "draft"}))
        reply = cody.post_twilio(SMS_WEBHOOK, inbound_form("Hi Hana, is Friday ok?", "SM" + "b" * 32, BOB, B_NUMBER))
        assert reply.status_code == 200, reply.text
        chat = _ok(api.post("/api/chat/messages", json={"text": "text Bob Stone: see you at 5"}))
        assert chat["drafts"], chat
    cody.sandbox.simulate_inbound_call(B_STRANGER, B_NUMBER, hangs_up_while_ringing=True)
    cody.sandbox.drain()
    cody.runtime.dispatcher.drain()
    with factory() as session:
        org = b.organization_id
        thread = session.scalar(select(Thread).where(Thread.organization_id == org, Thread.contact_id == contact_id))
        ids = {
            "lead": lead["id"],
            "contact": contact_id,
            "sms": draft_sms["id"],
            "call": session.scalar(select(Activity.id).where(Activity.organization_id == org, Activity.type == "call")),
            "sms_template": template["id"],
            "phone_number": session.scalar(select(PhoneNumber.id).where(PhoneNumber.organization_id == org)),
            "thread": thread.id,
            "inbox_item": session.scalar(select(InboxItem.id).where(InboxItem.organization_id == org,
                                                                    InboxItem.done.is_(False))),
            "draft": chat["drafts"][0]["id"],
            "conversation": chat["conversation_id"],
        }
    assert all(ids.values()), ids
    with cody.client(b.api_key) as api:  # an unclaimed thread, so that a claim from outside would bite
        _ok(api.post(f"/api/v1/thread/{ids['thread']}/unassign/"))
    return ids


def a_ids(factory: sessionmaker[Session], a: Demo) -> dict[str, str]:
    with factory() as session:
        org = a.organization_id
        return {
            "phone_number": session.scalar(select(PhoneNumber.id).where(PhoneNumber.organization_id == org)),
            "sms_template": session.scalar(select(SmsTemplate.id).where(SmsTemplate.organization_id == org)),
        }


@pytest.fixture
def db_url(any_db_url: str) -> str:
    """Every security test runs on SQLite and on PostgreSQL: scoping, limits and refusals must hold on both."""
    return any_db_url


@pytest.fixture
def cody(db_url: str, factory: sessionmaker[Session]) -> Iterator[Live]:
    with live_app(db_url, factory) as live:
        yield live


@pytest.fixture
def demo(factory) -> Demo:
    with transaction(factory) as session:
        return seed_demo(session)


@pytest.fixture
def world(cody: Live, factory: sessionmaker[Session], demo: Demo) -> World:
    with transaction(factory) as session:
        b = create_organization(session, "Harbor Homes", "hana@harbor.test", "Hana", "Ito")
    world = World(cody, factory, demo, b)
    world.b_ids = build_b(cody, factory, b)
    world.a_ids = a_ids(factory, demo)
    return world

