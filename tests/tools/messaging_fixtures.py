"""Shared pieces for the messaging and dispatcher tests: a demo workspace, a counting sandbox, send helpers.

Test modules import the fixtures they use by name:

    from tests.tools.messaging_fixtures import demo, posted, provider, runtime  # noqa: F401
"""

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import uvicorn
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from db.models import Activity, Contact, PhoneNumber, Thread
from db.session import transaction
from db.types import utcnow
from tools import crm
from tools.context import Ctx
from tools.demo import Demo, seed_demo
from tools.messaging import Messaging, SendRequest
from tools.problems import Invalid, Problem
from tools.runtime import Runtime, build_runtime
from tools.settings import TelephonySettings
from tools.telephony.base import CallbackForm, OutboundMessage, ProviderError, SendResult
from tools.telephony.sandbox import SandboxProvider

PUBLIC_URL = "http://127.0.0.1:9"  # nothing listens: a stray real callback fails fast
SARAH = "+14155550132"
MARY = "+14155550143"
JOHN = "+12125550123"
LUC = "+16045550188"  # Vancouver: Canada, same +1 zone as the US line
GB_MOBILE = "+447400123456"
GB_LINE = "+447400123457"


def make_settings(**overrides) -> TelephonySettings:
    values = {"public_base_url": PUBLIC_URL, "sandbox_callback_delay_seconds": 0.01}
    values.update(overrides)
    return TelephonySettings(_env_file=None, **values)


class Recorder:
    """A sandbox post_callback that keeps every form it is given."""

    def __init__(self):
        self.forms: list[CallbackForm] = []
        self.lock = threading.Lock()

    def __call__(self, form: CallbackForm) -> None:
        with self.lock:
            self.forms.append(form)

    def statuses(self) -> list[str]:
        with self.lock:
            return [dict(f.params)["MessageStatus"] for f in self.forms]


def activity_id_of(message: OutboundMessage) -> str | None:
    """The activity a send is for, from the status callback URL messaging gives the carrier."""
    query = parse_qs(urlsplit(message.status_callback or "").query)
    return query.get("activity_id", [None])[0]


class CountingSandbox(SandboxProvider):
    """The sandbox, counting every send it is asked for (per activity), with scripted failures first.

    `failures` are raised, in order, by the next sends; `callbacks=False` skips the simulated status callbacks
    (for the big concurrency tests, where 1,000 callback threads would only add noise). With `meet`, each thread's
    first send waits there for the others' (a race test's senders then all hold messages at once, however the
    machine schedules them).
    """

    def __init__(self, settings: TelephonySettings, post_callback: Callable[[CallbackForm], None] | None = None, *,
                 callbacks: bool = True, failures: list[ProviderError] | None = None,
                 meet: threading.Barrier | None = None):
        super().__init__(settings, post_callback or Recorder())
        self.callbacks = callbacks
        self.meet = meet
        self.failures = list(failures or [])
        self.asked = Counter()
        self.asked_by_thread = Counter()
        self.fetched: list[str] = []
        self._count_lock = threading.Lock()

    @property
    def sends(self) -> int:
        with self._count_lock:
            return sum(self.asked.values())

    def send_message(self, message: OutboundMessage) -> SendResult:
        with self._count_lock:
            self.asked[activity_id_of(message)] += 1
            self.asked_by_thread[threading.current_thread().name] += 1
            first = self.asked_by_thread[threading.current_thread().name] == 1
            failure = self.failures.pop(0) if self.failures else None
        if first and self.meet is not None:
            self.meet.wait(timeout=30)
        if failure is not None:
            raise failure
        return super().send_message(message)

    def fetch_message_status(self, sid: str) -> str | None:
        self.fetched.append(sid)
        return super().fetch_message_status(sid)

    def _start_callbacks(self, sid: str, message: OutboundMessage) -> None:
        if self.callbacks:
            super()._start_callbacks(sid, message)


# -- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture
def demo(factory: sessionmaker[Session]) -> Demo:
    """The demo workspace: Dana's US line +14155550100 (sms, mms) and Sarah, the Smiths, John, Luc."""
    with transaction(factory) as session:
        return seed_demo(session)


@pytest.fixture
def posted() -> Recorder:
    return Recorder()


@pytest.fixture
def provider(posted: Recorder) -> Iterator[CountingSandbox]:
    sandbox = CountingSandbox(make_settings(), posted)
    yield sandbox
    sandbox.wait_idle(5)


@pytest.fixture
def runtime(factory: sessionmaker[Session], provider: CountingSandbox) -> Runtime:
    """As build_provider wires the sandbox when 10DLC is registered: its messaging service is the default."""
    return build_runtime(provider.settings, factory, provider=provider,
                         default_messaging_service=provider.messaging_service_sid, poll_seconds=0.05)


@pytest.fixture
def messaging(runtime: Runtime) -> Messaging:
    return runtime.messaging


# -- helpers -----------------------------------------------------------------------------------------------


def ctx_for(demo: Demo, user_id: str | None = None, **kw) -> Ctx:
    return Ctx(organization_id=demo.organization_id, user_id=user_id or demo.user_id, **{"channel": "chat", **kw})


def send(runtime: Runtime, ctx: Ctx, **request) -> Activity:
    """Execute one send in its own session, as a request handler would, and return the saved row."""
    with runtime.factory() as session:
        return runtime.messaging.execute(session, ctx, SendRequest(**request))


def refused(runtime: Runtime, ctx: Ctx, **request) -> list[Problem]:
    """The problems execute raises for this send (it must refuse it); checks that nothing was saved."""
    with runtime.factory() as session:
        before = _count_sms(session, ctx.organization_id)
        with pytest.raises(Invalid) as info:
            runtime.messaging.execute(session, ctx, SendRequest(**request))
        session.rollback()
        assert _count_sms(session, ctx.organization_id) == before, "a refused send must not save an activity"
    return info.value.problems


def _count_sms(session: Session, organization_id: str) -> int:
    return session.scalar(select(func.count()).select_from(Activity).where(Activity.organization_id == organization_id,
                                                                            Activity.type == "sms"))


def only_problem(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def reload(factory: sessionmaker[Session], activity_id: str) -> Activity:
    with factory() as session:
        return session.get(Activity, activity_id)


def contact_id(factory: sessionmaker[Session], demo: Demo, name: str) -> str:
    with factory() as session:
        return session.scalar(select(Contact.id).where(Contact.organization_id == demo.organization_id,
                                                       Contact.name == name))


def add_contact(factory: sessionmaker[Session], demo: Demo, name: str, phone: str, type_: str = "mobile") -> str:
    with transaction(factory) as session:
        lead = crm.create_lead(session, ctx_for(demo, role="admin"), crm.LeadIn(
            name=name, contacts=[crm.ContactIn(name=name, phones=[crm.PhoneIn(phone=phone, type=type_)])]))
        session.flush()
        return lead.contacts[0].id


def add_number(factory: sessionmaker[Session], organization_id: str, number: str, country: str, **kw) -> str:
    """A PhoneNumber row as the numbers service would leave it; kw overrides capabilities, owner, type."""
    values = {"sms": True, "mms": False, "voice": True, "sharing": "group", "kind": "local", "provider": "sandbox"}
    values.update(kw)
    with transaction(factory) as session:
        row = PhoneNumber(organization_id=organization_id, number=number, country=country, **values)
        session.add(row)
        session.flush()
        return row.id


def make_due(factory: sessionmaker[Session], *activity_ids: str) -> None:
    """Move date_scheduled into the past instead of sleeping until it comes."""
    with transaction(factory) as session:
        session.execute(update(Activity).where(Activity.id.in_(activity_ids))
                        .values(date_scheduled=utcnow() - timedelta(seconds=1)))


def set_inbound(factory: sessionmaker[Session], thread_contact_id: str, organization_id: str,
                assignee_id: str | None = None) -> str:
    """The contact's thread as an inbound text leaves it: last_inbound_at set (created when missing)."""
    from tools import threads

    with transaction(factory) as session:
        contact = session.get(Contact, thread_contact_id)
        thread = threads.thread_for(session, organization_id, contact.id, contact.lead_id)
        session.execute(update(Thread).where(Thread.id == thread.id)
                        .values(last_inbound_at=utcnow(), last_activity_at=utcnow(), assignee_id=assignee_id))
        return thread.id


def thread_of(factory: sessionmaker[Session], organization_id: str, cid: str) -> Thread:
    with factory() as session:
        return session.scalar(select(Thread).where(Thread.organization_id == organization_id,
                                                   Thread.contact_id == cid))


def statuses(factory: sessionmaker[Session], organization_id: str) -> Counter:
    with factory() as session:
        return Counter(session.scalars(select(Activity.status).where(Activity.organization_id == organization_id,
                                                                     Activity.type == "sms")))


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


@contextmanager
def serving(make_app: Callable[[str], object]) -> Iterator[str]:
    """Bind a loopback port, build the app for that base URL, serve it with uvicorn in a thread; yield the URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(make_app(base_url), host="127.0.0.1", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="uvicorn-messaging")
    thread.start()
    try:
        wait_for(lambda: server.started or not thread.is_alive(), timeout=20, interval=0.01)
        assert thread.is_alive(), "uvicorn exited before it started"
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
