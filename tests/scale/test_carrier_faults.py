"""Carrier faults, against bench/fake_twilio.py on loopback through the real TwilioProvider (the official SDK over
httpx): 500, 503, 429 and timeouts are retried with bounded, jittered exponential backoff and end as `error` with a
readable message after SEND_RETRY_ATTEMPTS; a 400 is final at once; a send the carrier accepted but whose answer
was lost (the connection dropped, or the process died) is found by recipient and text (find_message) and linked,
never sent twice; a row left in `sending` with a sid is settled by fetching it, never resent.
"""

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlencode

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bench.fake_twilio import FakeTwilio
from db.models import Activity
from db.session import transaction
from db.types import utcnow
from tests.tools.messaging_fixtures import SARAH, ctx_for, make_due, reload, send
from tools.demo import Demo
from tools.messaging.delivery import backoff_seconds
from tools.runtime import Runtime, build_runtime
from tools.settings import TelephonySettings
from tools.telephony.base import OutboundMessage
from tools.telephony.twilio_provider import TwilioProvider

ACCOUNT_SID = "AC" + "0" * 32
SERVICE_SID = "MG" + "0" * 32
CLIENT_TIMEOUT = 0.5  # TWILIO_TIMEOUT_SECONDS: the fake's "timeout" fault holds the answer longer than this
READABLE = {
    "500": "Twilio had an internal error; try again shortly.",
    "503": "Twilio is temporarily unavailable; try again shortly.",
    "429": "Twilio is throttling requests; try again shortly.",
    "timeout": "Twilio did not answer in time (ReadTimeout).",
}


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(stall_seconds=CLIENT_TIMEOUT * 3) as server:
        yield server


def _settings(fake: FakeTwilio, **overrides) -> TelephonySettings:
    values = {"twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": "secret-token", "twilio_api_base_url": fake.url,
              "twilio_messaging_service_sid": SERVICE_SID, "twilio_timeout_seconds": CLIENT_TIMEOUT,
              "public_base_url": "http://127.0.0.1:9", "send_retry_attempts": 3, "sending_timeout_seconds": 60}
    return TelephonySettings(_env_file=None, **(values | overrides))


@pytest.fixture
def twilio(fake: FakeTwilio) -> Iterator[TwilioProvider]:
    provider = TwilioProvider(_settings(fake))
    yield provider
    provider.close()


@pytest.fixture
def rt(factory: sessionmaker[Session], twilio: TwilioProvider) -> Runtime:
    return build_runtime(twilio.settings, factory, provider=twilio, default_messaging_service=SERVICE_SID)


def _created(fake: FakeTwilio, text: str) -> list[dict]:
    return [m for m in fake.messages if m["body"] == text]


def _backoff_between(row: Activity, before: datetime, after: datetime) -> tuple[float, float]:
    """The least and most the retry's wait can be: it was chosen at the failure, some time between before and after
    (a loaded machine can take a second between them)."""
    return (row.date_scheduled - after).total_seconds(), (row.date_scheduled - before).total_seconds()


# -- backoff ---------------------------------------------------------------------------------------------------


def test_backoff_is_exponential_jittered_and_bounded():
    for attempt in range(1, 12):
        samples = [backoff_seconds(attempt) for _ in range(200)]
        ceiling = min(60.0, 2.0 ** attempt)
        assert all(ceiling / 2 <= s <= ceiling for s in samples), attempt
        assert len(set(samples)) > 150  # jitter: two workers retrying together don't hit the carrier together
    assert max(backoff_seconds(30) for _ in range(200)) <= 60.0


# -- retryable faults -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["500", "503", "429", "timeout"])
def test_a_transient_fault_is_retried_with_growing_backoff_until_sent(rt, demo, factory, fake, fault):
    fake.fail_next(fault, 2)
    text = f"Your showing is at 5pm ({fault})"
    before = utcnow()
    activity = send(rt, ctx_for(demo), remote_phone=SARAH, text=text)

    row, after = reload(factory, activity.id), utcnow()
    assert (row.status, row.attempts, row.provider_sid) == ("outbox", 1, None)
    assert row.error_message == READABLE[fault]
    least, most = _backoff_between(row, before, after)
    assert least <= 2.0 and most >= 1.0  # first retry: 1-2 s
    assert rt.dispatcher.drain() == 0  # not due yet

    make_due(factory, activity.id)
    before = utcnow()
    assert rt.dispatcher.drain() == 1
    row, after = reload(factory, activity.id), utcnow()
    assert (row.status, row.attempts) == ("outbox", 2)
    least, most = _backoff_between(row, before, after)
    assert least <= 4.0 and most >= 2.0  # second retry: 2-4 s

    make_due(factory, activity.id)
    assert rt.dispatcher.drain() == 1
    row = reload(factory, activity.id)
    assert (row.status, row.attempts, row.error_message, row.error_code) == ("sent", 3, None, None)
    [created] = _created(fake, text)  # the faults created nothing; the third attempt created exactly one
    assert row.provider_sid == created["sid"]
    assert fake.pending_faults() == 0


@pytest.mark.parametrize("fault", ["500", "503", "429", "timeout"])
def test_retries_stop_after_send_retry_attempts_with_a_readable_error(rt, demo, factory, fake, fault):
    fake.fail_next(fault, 3)
    text = f"Open house Sunday ({fault})"
    activity = send(rt, ctx_for(demo), remote_phone=SARAH, text=text)
    for _ in range(2):
        make_due(factory, activity.id)
        assert rt.dispatcher.drain() == 1

    row = reload(factory, activity.id)
    assert (row.status, row.attempts, row.claimed_by) == ("error", 3, None)
    assert row.error_message == READABLE[fault]
    assert "secret-token" not in row.error_message and ACCOUNT_SID not in row.error_message
    make_due(factory, activity.id)
    assert rt.dispatcher.drain() == 0  # final
    assert _created(fake, text) == []
    assert fake.pending_faults() == 0


def test_a_4xx_is_final_and_not_retried(rt, demo, factory, fake):
    fake.fail_next("400")
    before = fake.counter.value
    activity = send(rt, ctx_for(demo), remote_phone=SARAH, text="Hi Sarah")

    row = reload(factory, activity.id)
    assert (row.status, row.attempts, row.error_code) == ("error", 1, "invalid_phone")
    assert row.error_message == "The recipient's number is not a valid phone number."
    make_due(factory, activity.id)
    assert rt.dispatcher.drain() == 0
    assert rt.dispatcher.reconcile_stale() == 0
    assert fake.counter.value - before == 1  # one request, never repeated
    assert _created(fake, "Hi Sarah") == []


# -- accepted, answer lost ----------------------------------------------------------------------------------


def test_an_accepted_send_whose_answer_was_dropped_is_linked_on_retry_not_sent_again(rt, demo, factory, fake):
    fake.fail_next("drop")  # the fake creates the message, then closes the connection without answering
    text = "The inspection moved to Thursday"
    activity = send(rt, ctx_for(demo), remote_phone=SARAH, text=text)

    row = reload(factory, activity.id)
    assert (row.status, row.provider_sid) == ("outbox", None)  # to the client it looked like a network failure
    [created] = _created(fake, text)  # ... but the carrier has it

    make_due(factory, activity.id)
    assert rt.dispatcher.drain() == 1
    row = reload(factory, activity.id)
    assert (row.status, row.provider_sid, row.attempts) == ("sent", created["sid"], 2)
    assert len(_created(fake, text)) == 1
    make_due(factory, activity.id)
    assert rt.dispatcher.drain() == 0


def test_a_retry_after_a_real_failure_still_sends(rt, demo, factory, fake):
    """The lookup before a resend finds nothing when the first attempt never reached the carrier."""
    fake.fail_next("timeout")
    text = "Keys are in the lockbox"
    activity = send(rt, ctx_for(demo), remote_phone=SARAH, text=text)
    assert _created(fake, text) == []
    make_due(factory, activity.id)
    assert rt.dispatcher.drain() == 1
    [created] = _created(fake, text)
    assert reload(factory, activity.id).provider_sid == created["sid"]


def test_the_lookup_skips_an_identical_text_another_row_owns(rt, demo, factory, fake):
    """"On my way" sent twice to Sarah: the second row's lost answer must not be matched to the first's message."""
    first = send(rt, ctx_for(demo), remote_phone=SARAH, text="On my way")
    assert reload(factory, first.id).status == "sent"
    fake.fail_next("timeout")
    second = send(rt, ctx_for(demo), remote_phone=SARAH, text="On my way")
    make_due(factory, second.id)
    assert rt.dispatcher.drain() == 1
    sids = {reload(factory, first.id).provider_sid, reload(factory, second.id).provider_sid}
    assert sids == {m["sid"] for m in _created(fake, "On my way")}
    assert len(sids) == 2


class _Crash(BaseException):
    """The process dies (kill -9) right after the carrier accepted the message, before the answer is saved."""


class _DiesAfterSend(TwilioProvider):
    def send_message(self, message: OutboundMessage):
        super().send_message(message)
        raise _Crash


def _crash_while_sending(factory, demo: Demo, fake: FakeTwilio, text: str) -> str:
    """A scheduled message a worker claims, sends and dies on; its claim is then made older than the timeout."""
    dying = _DiesAfterSend(_settings(fake))
    worker = build_runtime(dying.settings, factory, provider=dying, default_messaging_service=SERVICE_SID)
    activity = send(worker, ctx_for(demo), remote_phone=SARAH, text=text, send_in=30)
    make_due(factory, activity.id)
    with pytest.raises(_Crash):
        worker.dispatcher.run_once()
    dying.close()
    with transaction(factory) as session:
        session.execute(update(Activity).where(Activity.id == activity.id)
                        .values(claimed_at=utcnow() - timedelta(seconds=dying.settings.sending_timeout_seconds + 5)))
    return activity.id


def test_a_send_lost_with_its_process_is_found_by_the_reconciler_and_never_sent_again(rt, demo, factory, fake):
    text = "Offer accepted! Call me."
    activity_id = _crash_while_sending(factory, demo, fake, text)
    row = reload(factory, activity_id)
    assert (row.status, row.provider_sid) == ("sending", None)
    [created] = _created(fake, text)

    creates = fake.counter.messages_created
    assert rt.dispatcher.reconcile_stale() == 1
    row = reload(factory, activity_id)
    assert (row.status, row.provider_sid, row.claimed_by) == ("sent", created["sid"], None)
    assert rt.dispatcher.drain() == 0
    assert rt.dispatcher.reconcile_stale() == 0
    assert fake.counter.messages_created == creates
    assert len(_created(fake, text)) == 1


def test_a_stale_claim_the_carrier_never_saw_goes_back_to_the_outbox_and_is_sent_once(rt, demo, factory, fake):
    activity = send(rt, ctx_for(demo), remote_phone=SARAH, text="Closing docs attached", send_in=30)
    with transaction(factory) as session:
        session.execute(update(Activity).where(Activity.id == activity.id).values(
            status="sending", claimed_by="dead-host:1", claimed_at=utcnow() - timedelta(minutes=5), attempts=1))
    assert rt.dispatcher.reconcile_stale() == 1
    assert (reload(factory, activity.id).status, reload(factory, activity.id).claimed_by) == ("outbox", None)
    assert rt.dispatcher.drain() == 1
    assert reload(factory, activity.id).status == "sent"
    assert len(_created(fake, "Closing docs attached")) == 1


def test_a_lost_answer_linked_by_the_status_callback_is_settled_not_resent(rt, demo, factory, fake):
    text = "Appraisal came in at asking"
    activity_id = _crash_while_sending(factory, demo, fake, text)
    [created] = _created(fake, text)
    with factory() as session:  # Twilio's callback URL carries the activity id
        rt.messaging.record_carrier_status(session, created["sid"], "delivered", None, activity_id=activity_id)
    row = reload(factory, activity_id)
    assert (row.status, row.provider_sid) == ("delivered", created["sid"])
    assert rt.dispatcher.reconcile_stale() == 0
    assert rt.dispatcher.drain() == 0
    assert len(_created(fake, text)) == 1


# -- a stale claim with a sid ------------------------------------------------------------------------------


@pytest.mark.parametrize("carrier, ours", [("queued", "sent"), ("delivered", "delivered"), ("undelivered", "error")])
def test_a_stale_sending_row_with_a_sid_is_settled_by_fetch_never_resent(rt, demo, factory, fake, twilio, carrier, ours):
    text = "See you at the closing"
    activity = send(rt, ctx_for(demo), remote_phone=SARAH, text=text, send_in=30)
    sid = twilio.send_message(OutboundMessage(to=SARAH, from_=demo.number, body=text)).sid  # the dead worker's send
    fake.get(sid, carrier)
    with transaction(factory) as session:
        session.execute(update(Activity).where(Activity.id == activity.id).values(
            status="sending", provider_sid=sid, claimed_by="dead-host:1", attempts=1,
            claimed_at=utcnow() - timedelta(minutes=5)))
    creates = fake.counter.messages_created

    assert rt.dispatcher.reconcile_stale() == 1
    row = reload(factory, activity.id)
    assert (row.status, row.provider_sid, row.claimed_by) == (ours, sid, None)
    if ours == "error":
        assert row.error_message == "The carrier reports this message as undelivered: it was not delivered."
    assert rt.dispatcher.drain() == 0
    assert fake.counter.messages_created == creates


# -- find_message against the fake ----------------------------------------------------------------------------


def test_a_request_cut_off_before_its_whole_form_arrived_creates_no_message(fake):
    """A sender killed mid-request (the multi-process test kills a worker mid-send): no partial form is acted on."""
    host, port = fake.url.removeprefix("http://").split(":")
    form = urlencode({"To": "+14155550100", "From": "+12015550100", "Body": "Cut off mid-request"}).encode()
    with socket.create_connection((host, int(port))) as conn:
        conn.sendall(f"POST /2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json HTTP/1.1\r\nHost: {host}\r\n"
                     f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(form)}\r\n\r\n"
                     .encode() + form[:len(form) // 2])
        conn.shutdown(socket.SHUT_WR)
        assert conn.recv(1024) == b""  # the fake hung up without an answer
    assert fake.messages == []


def test_find_message_pages_back_filters_by_sender_and_stops_at_since(twilio, fake):
    since = datetime.now(UTC)
    sent = {i: twilio.send_message(OutboundMessage(to=SARAH, from_="+14155550100", body=f"Reminder {i}")).sid
            for i in range(120)}
    twilio.send_message(OutboundMessage(to="+14155550143", from_="+14155550100", body="Reminder 3"))

    assert twilio.find_message(SARAH, "+14155550100", "Reminder 3", since).sid == sent[3]  # 3 pages back
    assert twilio.find_message(SARAH, None, "Reminder 3", since).sid == sent[3]
    assert twilio.find_message(SARAH, "+14155550101", "Reminder 3", since) is None  # another sender
    assert twilio.find_message(SARAH, "+14155550100", "Reminder 3", since, exclude={sent[3]}) is None
    assert twilio.find_message(SARAH, "+14155550100", "Reminder", since) is None  # the whole body must match

    old = format_datetime(datetime.now(UTC) - timedelta(hours=3)).replace("-0000", "+0000")
    for message in fake._messages.values():  # age the fake's records
        message["date_created"] = message["date_sent"] = old
    assert twilio.find_message(SARAH, "+14155550100", "Reminder 3", since) is None
    assert twilio.find_message(SARAH, "+14155550100", "Reminder 3", since - timedelta(hours=4)).sid == sent[3]


def test_the_fake_answers_every_nth_create_slowly_as_a_real_carrier_now_and_then_does():
    with FakeTwilio(slow_every=2, slow_seconds=0.3) as slow:
        provider = TwilioProvider(_settings(slow, twilio_timeout_seconds=5))
        took = []
        for n in range(4):
            began = time.perf_counter()
            provider.send_message(OutboundMessage(to=SARAH, from_="+14155550100", body=f"Showing {n}"))
            took.append(time.perf_counter() - began)
        provider.close()

    assert [seconds >= 0.3 for seconds in took] == [False, True, False, True]
    assert slow.counter.messages_created == 4
