"""A dispatcher keeps several carrier calls in flight (DISPATCH_CONCURRENCY), so a campaign is not held to one
carrier round trip at a time; each recipient still gets its texts one after another, in the order they were due,
and no worker claims a text to a phone another is sending to."""

import threading
import time
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from db.models import Activity
from db.session import transaction
from db.types import utcnow
from tests.tools.messaging_fixtures import (
    CountingSandbox,
    add_contact,
    contact_id,
    ctx_for,
    make_settings,
    send,
    statuses,
)
from tools import locks
from tools.demo import Demo
from tools.messaging.dispatcher import Dispatcher
from tools.runtime import Runtime, build_runtime
from tools.telephony.base import OutboundMessage, ProviderError, SendResult


@pytest.fixture
def db_url(any_db_url) -> str:
    return any_db_url


class InFlightSandbox(CountingSandbox):
    """The sandbox, holding each send a moment and recording how many were in flight at once, overall and per
    recipient, and the order each recipient's texts reached it."""

    def __init__(self, concurrency: int):
        # Each sending thread's first send waits for the others': all `concurrency` are in flight at once, or the
        # barrier breaks and those sends fail.
        super().__init__(make_settings(), callbacks=False, meet=threading.Barrier(concurrency))
        self._flight_lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.to_one_phone: defaultdict[str, int] = defaultdict(int)
        self.most_to_one_phone = 0
        self.received: defaultdict[str, list[str]] = defaultdict(list)

    def send_message(self, message: OutboundMessage) -> SendResult:
        with self._flight_lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.to_one_phone[message.to] += 1
            self.most_to_one_phone = max(self.most_to_one_phone, self.to_one_phone[message.to])
            self.received[message.to].append(message.body)
        try:
            time.sleep(0.02)  # a carrier's answer takes a while: room for the others to start
            return super().send_message(message)
        finally:
            with self._flight_lock:
                self.in_flight -= 1
                self.to_one_phone[message.to] -= 1


def _runtime(factory: sessionmaker[Session], concurrency: int) -> tuple[Runtime, InFlightSandbox]:
    provider = InFlightSandbox(concurrency)
    settings = make_settings(dispatch_concurrency=concurrency)
    return build_runtime(settings, factory, provider=provider,
                         default_messaging_service=provider.messaging_service_sid), provider


def _schedule(runtime: Runtime, demo: Demo, contact: str, text: str, minutes: int) -> str:
    """A text scheduled `minutes` after an hour from now, through the messaging service."""
    at = utcnow() + timedelta(hours=1, minutes=minutes)
    return send(runtime, ctx_for(demo), contact_id=contact, text=text, status="scheduled", date_scheduled=at).id


def _come_due(factory: sessionmaker[Session], scheduled: dict[str, int]) -> None:
    """Two hours pass: each text (id: its minutes past the hour) is due, in the order of their times."""
    now = utcnow()
    with transaction(factory) as session:
        for activity_id, minutes in scheduled.items():
            session.execute(update(Activity).where(Activity.id == activity_id)
                            .values(date_scheduled=now - timedelta(hours=1) + timedelta(minutes=minutes)))


def test_a_dispatcher_has_as_many_texts_in_flight_as_its_concurrency(factory, demo):
    runtime, provider = _runtime(factory, concurrency=3)
    contacts = [add_contact(factory, demo, f"Buyer {n}", f"+1415555{200 + n:04d}") for n in range(7)]
    _come_due(factory, {_schedule(runtime, demo, contact, "The open house starts at 1pm.", 0): 0
                        for contact in contacts})

    assert runtime.dispatcher.drain() == 7

    assert provider.most_in_flight == 3
    assert provider.sends == 7
    assert statuses(factory, demo.organization_id) == {"sent": 7}


def test_each_recipient_gets_its_texts_one_at_a_time_in_the_order_they_were_due(factory, demo):
    runtime, provider = _runtime(factory, concurrency=2)
    sarah, mary = contact_id(factory, demo, "Sarah Lee"), contact_id(factory, demo, "Mary Smith")
    scheduled = {}
    for minutes in (30, 10, 20):  # made in another order than they are due: the due time decides
        scheduled[_schedule(runtime, demo, sarah, f"Sarah, text due at +{minutes}", minutes)] = minutes
        scheduled[_schedule(runtime, demo, mary, f"Mary, text due at +{minutes}", minutes)] = minutes
    _come_due(factory, scheduled)

    assert runtime.dispatcher.drain() == 6

    assert provider.most_in_flight == 2
    assert provider.most_to_one_phone == 1
    assert provider.received == {
        "+14155550132": ["Sarah, text due at +10", "Sarah, text due at +20", "Sarah, text due at +30"],
        "+14155550143": ["Mary, text due at +10", "Mary, text due at +20", "Mary, text due at +30"],
    }
    assert statuses(factory, demo.organization_id) == {"sent": 6}


def test_a_dispatcher_with_concurrency_one_sends_one_text_at_a_time(factory, demo):
    runtime, provider = _runtime(factory, concurrency=1)
    _come_due(factory, {_schedule(runtime, demo, contact_id(factory, demo, name), "Showing moved to 3pm.", 0): 0
                        for name in ("Sarah Lee", "Mary Smith", "David Smith")})

    assert runtime.dispatcher.drain() == 3

    assert provider.most_in_flight == 1
    assert statuses(factory, demo.organization_id) == {"sent": 3}


class HoldingSandbox(CountingSandbox):
    """The sandbox, holding the send of one text until told to let it go, and recording what each phone got."""

    def __init__(self, held_text: str):
        super().__init__(make_settings(), callbacks=False)
        self.held_text = held_text
        self.holding = threading.Event()
        self.release = threading.Event()
        self.received: defaultdict[str, list[str]] = defaultdict(list)

    def send_message(self, message: OutboundMessage) -> SendResult:
        self.received[message.to].append(message.body)
        if message.body == self.held_text:
            self.holding.set()
            assert self.release.wait(timeout=30), "the held send was never let go"
        return super().send_message(message)


def test_no_worker_claims_a_text_to_a_phone_another_is_sending_to(factory, demo):
    provider = HoldingSandbox(held_text="Sarah, first")
    runtime = build_runtime(make_settings(), factory, provider=provider,
                            default_messaging_service=provider.messaging_service_sid)
    other = Dispatcher(runtime.messaging, factory, batch=1, worker_id="other-host:1")
    sarah, mary = contact_id(factory, demo, "Sarah Lee"), contact_id(factory, demo, "Mary Smith")
    _come_due(factory, {_schedule(runtime, demo, sarah, "Sarah, first", 0): 0,
                        _schedule(runtime, demo, sarah, "Sarah, second", 1): 1,
                        _schedule(runtime, demo, mary, "Mary, first", 2): 2})
    sending = threading.Thread(target=other.run_once)
    sending.start()  # the other worker claims Sarah's first text and waits on the carrier
    try:
        assert provider.holding.wait(timeout=30)
        assert runtime.dispatcher.run_once() == 1  # Mary's: Sarah's second waits its turn
        assert provider.received == {"+14155550132": ["Sarah, first"], "+14155550143": ["Mary, first"]}
    finally:
        provider.release.set()
        sending.join(timeout=30)

    assert runtime.dispatcher.drain() == 1
    assert provider.received["+14155550132"] == ["Sarah, first", "Sarah, second"]
    assert statuses(factory, demo.organization_id) == {"sent": 3}


def test_a_claim_waits_for_one_made_in_the_same_instant_and_skips_its_recipients(factory, demo):
    provider = HoldingSandbox(held_text="")
    runtime = build_runtime(make_settings(), factory, provider=provider,
                            default_messaging_service=provider.messaging_service_sid)
    sarah, mary = contact_id(factory, demo, "Sarah Lee"), contact_id(factory, demo, "Mary Smith")
    sarah_first = _schedule(runtime, demo, sarah, "Sarah, first", 0)
    _come_due(factory, {sarah_first: 0, _schedule(runtime, demo, sarah, "Sarah, second", 1): 1,
                        _schedule(runtime, demo, mary, "Mary, first", 2): 2})
    claimed: list[int] = []
    with factory() as other:  # another worker, between claiming Sarah's first text and committing the claim
        locks.hold(other, locks.CLAIMS, "claims")
        other.execute(update(Activity).where(Activity.id == sarah_first)
                      .values(status="sending", claimed_by="other-host:1", claimed_at=utcnow()))
        claiming = threading.Thread(target=lambda: claimed.append(runtime.dispatcher.run_once()))
        claiming.start()
        claiming.join(timeout=0.5)
        assert claiming.is_alive()  # this worker's claim waits for the other's
        other.commit()
    claiming.join(timeout=30)

    assert claimed == [1]  # Mary's: Sarah's second waits until her first is sent
    assert provider.received == {"+14155550143": ["Mary, first"]}
    with factory() as session:
        assert session.get(Activity, sarah_first).claimed_by == "other-host:1"


def test_the_next_batch_goes_out_while_a_slow_text_of_the_last_one_is_still_at_the_carrier(factory, demo):
    provider = HoldingSandbox(held_text="Sarah, the slow one")
    settings = make_settings(dispatch_concurrency=2)
    runtime = build_runtime(settings, factory, provider=provider, default_messaging_service=provider.messaging_service_sid)
    dispatcher = Dispatcher(runtime.messaging, factory, batch=2, concurrency=2)
    sarah, mary = contact_id(factory, demo, "Sarah Lee"), contact_id(factory, demo, "Mary Smith")
    buyer = add_contact(factory, demo, "Buyer One", "+14155550201")
    _come_due(factory, {_schedule(runtime, demo, sarah, "Sarah, the slow one", 0): 0,
                        _schedule(runtime, demo, mary, "Mary, first batch", 1): 1,
                        _schedule(runtime, demo, buyer, "Buyer, second batch", 2): 2})
    drained: list[int] = []
    draining = threading.Thread(target=lambda: drained.append(dispatcher.drain()))
    draining.start()
    try:
        assert provider.holding.wait(timeout=30)
        deadline = time.monotonic() + 10
        while "+14155550201" not in provider.received and time.monotonic() < deadline:
            time.sleep(0.01)
        assert provider.received["+14155550201"] == ["Buyer, second batch"]  # Sarah's is still at the carrier
    finally:
        provider.release.set()
        draining.join(timeout=30)

    assert drained == [3]
    assert statuses(factory, demo.organization_id) == {"sent": 3}


class ThrottlingSandbox(CountingSandbox):
    """The sandbox, answering 429 (retryable) to the first send of one text, and recording what each phone got."""

    def __init__(self, throttled_text: str):
        super().__init__(make_settings(), callbacks=False)
        self.throttled_text = throttled_text
        self.throttled = False
        self.received: defaultdict[str, list[str]] = defaultdict(list)

    def send_message(self, message: OutboundMessage) -> SendResult:
        if message.body == self.throttled_text and not self.throttled:
            self.throttled = True
            raise ProviderError("Twilio is throttling requests; try again shortly.", status=429, retryable=True)
        self.received[message.to].append(message.body)
        return super().send_message(message)


@pytest.mark.parametrize("batch", [50, 1])  # the later text in the same batch as the throttled one, or in the next
def test_a_text_sent_again_after_the_carrier_said_not_now_is_not_overtaken_by_the_next(factory, demo, batch):
    provider = ThrottlingSandbox(throttled_text="Sarah, running late")
    runtime = build_runtime(make_settings(dispatch_concurrency=2), factory, provider=provider,
                            default_messaging_service=provider.messaging_service_sid)
    dispatcher = Dispatcher(runtime.messaging, factory, batch=batch, concurrency=2)
    sarah, mary = contact_id(factory, demo, "Sarah Lee"), contact_id(factory, demo, "Mary Smith")
    late = _schedule(runtime, demo, sarah, "Sarah, running late", 0)
    _come_due(factory, {late: 0, _schedule(runtime, demo, sarah, "Sarah, see you at 7", 1): 1,
                        _schedule(runtime, demo, mary, "Mary, the offer went in", 2): 2})

    dispatcher.drain()  # Sarah's first is back in the outbox with a backoff; her second waits for it

    assert provider.received == {"+14155550143": ["Mary, the offer went in"]}
    with factory() as session:
        retry = session.get(Activity, late)
        assert (retry.status, retry.error_message) == ("outbox", "Twilio is throttling requests; try again shortly.")
    _come_due(factory, {late: 0})  # its backoff is over

    dispatcher.drain()

    assert provider.received["+14155550132"] == ["Sarah, running late", "Sarah, see you at 7"]
    assert statuses(factory, demo.organization_id) == {"sent": 3}
