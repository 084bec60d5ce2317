"""Concurrency: the row is the job, so any number of dispatchers share one database and each message goes out
exactly once; two people replying to one unclaimed thread at once leave exactly one assignee."""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from db.ids import new_id
from db.models import Activity
from db.session import make_engine, make_sessionmaker, transaction
from db.types import utcnow
from tests.tools.messaging_fixtures import (
    SARAH,
    CountingSandbox,
    add_contact,
    add_number,
    contact_id,
    ctx_for,
    make_settings,
    reload,
    set_inbound,
    thread_of,
)
from tools import threads
from tools.demo import Demo, seed_demo
from tools.messaging import SendRequest
from tools.messaging.dispatcher import Dispatcher
from tools.runtime import build_runtime
from tools.telephony.sandbox import SANDBOX_MESSAGING_SERVICE_SID
from tools.workspaces import add_member, create_user


def _seed(url: str) -> Demo:
    engine = make_engine(url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            return seed_demo(session)
    finally:
        engine.dispose()


# More recipients than two batches hold: a worker claims no text to a phone another is sending to, so the two
# dispatchers race over the same rows only when they have different people to send to at once.
RECIPIENTS = 60


def _due_messages(url: str, demo: Demo, count: int) -> list[str]:
    """`count` scheduled messages already due, to RECIPIENTS people in turn, as execute saves them (prepared once per
    person, then inserted in bulk)."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    rt = build_runtime(make_settings(), factory, provider=CountingSandbox(make_settings(), callbacks=False),
                       default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)
    ctx = ctx_for(demo, channel="api")
    people = [add_contact(factory, demo, f"Buyer {k}", f"+1415555{3000 + k:04d}") for k in range(RECIPIENTS)]
    past = utcnow() - timedelta(minutes=5)
    with transaction(factory) as session:
        shapes = []
        for person in people:
            # Prepared as it was scheduled (an hour ahead), saved as it is once that time has come.
            prepared = rt.messaging.prepare(session, ctx, SendRequest(
                contact_id=person, text="Open house Sunday 1-4pm!", status="scheduled",
                date_scheduled=utcnow() + timedelta(hours=1)))
            assert prepared.problems == []
            shapes.append((prepared, threads.thread_for(session, demo.organization_id, person, prepared.lead_id).id))
        now = utcnow()
        rows = [{
            "id": new_id("acti"), "organization_id": demo.organization_id, "type": "sms", "direction": "outbound",
            "status": "scheduled", "lead_id": prepared.lead_id, "contact_id": prepared.contact_id,
            "user_id": demo.user_id, "created_by": demo.user_id, "updated_by": demo.user_id, "activity_at": now,
            "channel": "api", "local_phone": prepared.from_, "remote_phone": prepared.to,
            "text": f"{prepared.text} ({i})", "date_scheduled": past + timedelta(microseconds=i),
            "encoding": prepared.encoding, "segments": prepared.segments, "attachments": [],
            "messaging_service_sid": prepared.messaging_service_sid, "thread_id": thread_id, "attempts": 0,
            "date_created": now, "date_updated": now,
        } for i in range(count) for prepared, thread_id in [shapes[i % RECIPIENTS]]]
        session.execute(insert(Activity), rows)
    engine.dispose()
    return [r["id"] for r in rows]


def _race(url: str, count: int, workers: int = 2, batch: int = 25) -> None:
    demo = _seed(url)
    ids = _due_messages(url, demo, count)
    # Each dispatcher's first send waits for the other's, so both hold claimed messages at once even on a loaded
    # machine (one could otherwise drain them all before the other ran).
    provider = CountingSandbox(make_settings(), callbacks=False, meet=threading.Barrier(workers))
    engines = [make_engine(url) for _ in range(workers)]  # one engine each, as separate processes would have
    dispatchers = []
    for n, engine in enumerate(engines):
        factory = make_sessionmaker(engine)
        rt = build_runtime(provider.settings, factory, provider=provider,
                           default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)
        dispatchers.append(Dispatcher(rt.messaging, factory, batch=batch, worker_id=f"host-{n}:1"))
    start = threading.Barrier(workers)
    errors: list[Exception] = []

    def loop(dispatcher: Dispatcher) -> None:
        try:
            start.wait(timeout=10)
            idle = 0
            while idle < 3:
                if dispatcher.run_once():
                    idle = 0
                else:
                    idle += 1
                    time.sleep(0.02)
        except Exception as exc:  # noqa: BLE001  (a thread's failure is surfaced by the test)
            errors.append(exc)

    pool = [threading.Thread(target=loop, args=(d,), name=d.worker_id) for d in dispatchers]
    try:
        for t in pool:
            t.start()
        for t in pool:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in pool), "a dispatcher did not finish"
        assert errors == []

        assert len(provider.asked) == count
        assert set(provider.asked) == set(ids)
        assert set(provider.asked.values()) == {1}, "some message was sent twice"
        assert all(provider.asked_by_thread[d.worker_id] > 0 for d in dispatchers), provider.asked_by_thread

        factory = make_sessionmaker(engines[0])
        with factory() as session:
            by_status = dict(session.execute(select(Activity.status, func.count()).where(Activity.id.in_(ids))
                                             .group_by(Activity.status)).all())
            sids = session.scalar(select(func.count(func.distinct(Activity.provider_sid))).where(Activity.id.in_(ids)))
            claimed = session.scalar(select(func.count()).select_from(Activity)
                                     .where(Activity.id.in_(ids), Activity.claimed_by.is_not(None)))
        assert by_status == {"sent": count}
        assert sids == count
        assert claimed == 0
    finally:
        for engine in engines:
            engine.dispose()


@pytest.mark.postgres
def test_two_dispatchers_send_1000_messages_exactly_once_on_postgres(pg_url):
    _race(pg_url, 1000)


def test_two_dispatchers_send_each_message_exactly_once_on_sqlite(sqlite_url):
    _race(sqlite_url, 300)


# -- thread assignment under concurrency ---------------------------------------------------------------------


def _two_agents(url: str) -> tuple[Demo, str, str, str]:
    """The demo workspace with a second user (own line), and Sarah's thread holding an unclaimed inbound."""
    demo = _seed(url)
    engine = make_engine(url)
    try:
        factory = make_sessionmaker(engine)
        with transaction(factory) as session:
            sam = create_user(session, "sam@bayview.test", "Sam", "Ortiz")
            session.flush()
            add_member(session, demo.organization_id, sam)
            sam_id = sam.id
        add_number(factory, demo.organization_id, "+14155550112", "US", mms=True, user_id=sam_id, sharing="personal")
        sarah = contact_id(factory, demo, "Sarah Lee")
        set_inbound(factory, sarah, demo.organization_id)
    finally:
        engine.dispose()
    return demo, demo.user_id, sam_id, sarah


def _reply_at_once(url: str, demo: Demo, users: list[str], sarah: str, before_execute: threading.Barrier | None):
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    provider = CountingSandbox(make_settings(), callbacks=False)
    rt = build_runtime(provider.settings, factory, provider=provider,
                       default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)
    sent: dict[str, str] = {}
    errors: list[Exception] = []

    def reply(user_id: str) -> None:
        try:
            if before_execute is not None:
                before_execute.wait(timeout=10)
            with factory() as session:
                activity = rt.messaging.execute(session, ctx_for(demo, user_id=user_id),
                                                SendRequest(contact_id=sarah, text=f"Got it ({user_id[-4:]})"))
                sent[user_id] = activity.id
        except Exception as exc:  # noqa: BLE001  (a thread's failure is surfaced by the test)
            errors.append(exc)

    pool = [threading.Thread(target=reply, args=(u,)) for u in users]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=30)
    try:
        assert errors == []
        assert {reload(factory, a).status for a in sent.values()} == {"sent"}
        assert provider.sends == len(users)
        return thread_of(factory, demo.organization_id, sarah).assignee_id
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_two_replies_to_one_unclaimed_thread_leave_one_assignee_on_postgres(pg_url, monkeypatch):
    """Both replies start together. The first locks the thread as it touches it, so the second waits, then sees the
    first one's claim: one claim is tried, and it wins."""
    demo, dana, sam, sarah = _two_agents(pg_url)
    real_claim = threads.claim_if_unclaimed
    claims: list[tuple[str, bool]] = []

    def counted_claim(session, thread, user_id):
        won = real_claim(session, thread, user_id)
        claims.append((user_id, won))
        return won

    monkeypatch.setattr(threads, "claim_if_unclaimed", counted_claim)
    assignee = _reply_at_once(pg_url, demo, [dana, sam], sarah, before_execute=threading.Barrier(2))
    assert assignee in (dana, sam)
    assert claims == [(assignee, True)]


@pytest.mark.postgres
def test_many_replies_at_once_leave_one_assignee_on_postgres(pg_url):
    demo, dana, sam, sarah = _two_agents(pg_url)
    users = [dana, sam] * 3
    assignee = _reply_at_once(pg_url, demo, users, sarah, before_execute=threading.Barrier(len(users)))
    assert assignee in (dana, sam)


def test_two_replies_at_once_leave_one_assignee_on_sqlite(sqlite_url):
    demo, dana, sam, sarah = _two_agents(sqlite_url)
    assignee = _reply_at_once(sqlite_url, demo, [dana, sam], sarah, before_execute=threading.Barrier(2))
    assert assignee in (dana, sam)


# -- one idempotency key, two requests at once -----------------------------------------------------------------


def _same_key_at_once(url: str, hold_after_lookup: bool) -> None:
    demo = _seed(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    provider = CountingSandbox(make_settings(), callbacks=False)
    rt = build_runtime(provider.settings, factory, provider=provider,
                       default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)
    ctx = ctx_for(demo, channel="api", idempotency_key="retry-of-request-7")
    if hold_after_lookup:
        # Both requests have looked the key up and found nothing before either saves.
        both_checked = threading.Barrier(2)
        real_prepare = rt.messaging.prepare

        def prepare_then_wait(session, ctx, request):
            prepared = real_prepare(session, ctx, request)
            both_checked.wait(timeout=10)
            return prepared

        rt.messaging.prepare = prepare_then_wait
    ids: list[str] = []
    errors: list[Exception] = []

    def post() -> None:
        try:
            with factory() as session:
                ids.append(rt.messaging.execute(session, ctx, SendRequest(remote_phone=SARAH, text="Hi")).id)
        except Exception as exc:  # noqa: BLE001  (a thread's failure is surfaced by the test)
            errors.append(exc)

    pool = [threading.Thread(target=post) for _ in range(2)]
    try:
        for t in pool:
            t.start()
        for t in pool:
            t.join(timeout=30)
        assert errors == []
        assert len(ids) == 2 and ids[0] == ids[1]
        assert provider.sends == 1
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_one_idempotency_key_sent_twice_at_once_sends_once_on_postgres(pg_url):
    _same_key_at_once(pg_url, hold_after_lookup=True)


def test_one_idempotency_key_sent_twice_at_once_sends_once_on_sqlite(sqlite_url):
    _same_key_at_once(sqlite_url, hold_after_lookup=False)  # SQLite serialises writers: no overlap to force
