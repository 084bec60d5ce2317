"""The SMS lifecycle (DESIGN.md): draft, scheduled, outbox, sending, sent, delivered, error.

Cancel and undo, scheduled sends that wait until due, carrier callbacks that only move forward, retries with
backoff, the reconciler for rows a dead process left in `sending`, a restart that loses nothing, and the sandbox
taking a message to `delivered` through the app's own signed status webhook.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import update

from api.app import create_app
from api.settings import ApiSettings
from db.models import Activity
from db.session import make_engine, make_sessionmaker, transaction
from db.types import utcnow
from tests.live import LiveCody, http_client
from tests.tools.messaging_fixtures import (
    LUC,
    SARAH,
    CountingSandbox,
    activity_id_of,
    contact_id,
    ctx_for,
    make_due,
    make_settings,
    reload,
    send,
    serving,
    wait_for,
)
from tools.demo import seed_demo
from tools.problems import Invalid
from tools.runtime import build_runtime
from tools.telephony.base import ProviderError
from tools.telephony.errors import describe_error
from tools.telephony.sandbox import SANDBOX_MESSAGING_SERVICE_SID

# -- undo and cancel -----------------------------------------------------------------------------------------


def test_send_in_waits_in_the_outbox_and_can_be_cancelled_back_to_draft(runtime, demo, factory, provider):
    before = utcnow()
    activity = send(runtime, ctx_for(demo), remote_phone=SARAH, text="Oops, wrong person", send_in=30)
    assert activity.status == "outbox"
    assert before + timedelta(seconds=29) < activity.date_scheduled < utcnow() + timedelta(seconds=31)

    assert runtime.dispatcher.drain() == 0  # not due for 30 s
    assert reload(factory, activity.id).status == "outbox"

    with factory() as session:
        cancelled = runtime.messaging.cancel(session, ctx_for(demo), activity.id)
    assert (cancelled.status, cancelled.date_scheduled) == ("draft", None)

    # Even once the 30 s have passed, a draft is not the dispatcher's business.
    with transaction(factory) as session:
        session.execute(update(Activity).where(Activity.id == activity.id)
                        .values(date_scheduled=utcnow() - timedelta(minutes=1)))
    assert runtime.dispatcher.drain() == 0
    row = reload(factory, activity.id)
    assert (row.status, row.provider_sid, row.date_sent) == ("draft", None, None)
    assert provider.sends == 0


def test_a_sent_message_cannot_be_cancelled(runtime, demo, factory):
    activity = send(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi")
    with factory() as session, pytest.raises(Invalid) as info:
        runtime.messaging.cancel(session, ctx_for(demo), activity.id)
    assert [(p.code, p.field) for p in info.value.problems] == [("not_cancellable", "status")]
    assert info.value.problems[0].message == "A message that is sent can't be cancelled."
    assert reload(factory, activity.id).status == "sent"


def test_a_message_being_sent_cannot_be_cancelled(runtime, demo, factory):
    activity = send(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi", send_in=30)
    make_due(factory, activity.id)
    with transaction(factory) as session:  # claimed by a worker that has not answered yet
        session.execute(update(Activity).where(Activity.id == activity.id)
                        .values(status="sending", claimed_by="w1", claimed_at=utcnow()))
    with factory() as session, pytest.raises(Invalid):
        runtime.messaging.cancel(session, ctx_for(demo), activity.id)
    assert reload(factory, activity.id).status == "sending"


def test_another_workspace_cannot_cancel(runtime, demo, workspace, factory):
    from tools.context import Ctx
    from tools.problems import NotFound

    activity = send(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi", send_in=30)
    with factory() as session, pytest.raises(NotFound):
        runtime.messaging.cancel(session, Ctx(workspace.organization_id, workspace.user_id), activity.id)
    assert reload(factory, activity.id).status == "outbox"


# -- scheduled -----------------------------------------------------------------------------------------------


def test_scheduled_is_not_claimed_before_it_is_due_and_is_sent_after(runtime, demo, factory, provider):
    when = utcnow() + timedelta(days=1)
    activity = send(runtime, ctx_for(demo), contact_id=contact_id(factory, demo, "Sarah Lee"),
                    text="Reminder: showing tomorrow at 10", status="scheduled", date_scheduled=when)
    assert (activity.status, activity.date_scheduled) == ("scheduled", when)

    assert runtime.dispatcher.run_once() == 0
    assert reload(factory, activity.id).status == "scheduled"

    make_due(factory, activity.id)
    assert runtime.dispatcher.run_once() == 1
    row = reload(factory, activity.id)
    assert (row.status, row.error_message) == ("sent", None)
    assert row.provider_sid.startswith("SM")
    assert provider.asked == {activity.id: 1}
    assert runtime.dispatcher.run_once() == 0  # and only once


def test_a_scheduled_message_can_be_cancelled(runtime, demo, factory, provider):
    activity = send(runtime, ctx_for(demo), remote_phone=SARAH, text="Later", status="scheduled",
                    date_scheduled=utcnow() + timedelta(hours=3))
    with factory() as session:
        assert runtime.messaging.cancel(session, ctx_for(demo), activity.id).status == "draft"
    make_due(factory, activity.id)
    assert runtime.dispatcher.drain() == 0
    assert provider.sends == 0


# -- carrier callbacks ---------------------------------------------------------------------------------------


def _record(runtime, sid: str, status: str, code: int | None = None) -> Activity:
    with runtime.factory() as session:
        return runtime.messaging.record_carrier_status(session, sid, status, code)


def test_sandbox_callbacks_take_a_message_to_delivered(runtime, demo, factory, provider, posted):
    activity = send(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi")
    provider.drain()
    assert posted.statuses() == ["sent", "delivered"]
    for form in posted.forms:
        params = dict(form.params)
        assert form.url == f"{runtime.messaging.status_callback}?activity_id={activity.id}"
        assert params["MessageSid"] == activity.provider_sid
        _record(runtime, params["MessageSid"], params["MessageStatus"])
    assert reload(factory, activity.id).status == "delivered"


def test_a_late_sent_callback_never_turns_delivered_back_into_sent(runtime, demo, factory, provider, posted):
    activity = send(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi")
    provider.drain()
    by_status = {dict(f.params)["MessageStatus"]: dict(f.params) for f in posted.forms}
    _record(runtime, activity.provider_sid, "delivered")
    _record(runtime, by_status["sent"]["MessageSid"], "sent")  # arrives late
    _record(runtime, activity.provider_sid, "delivered")  # and a repeat
    assert reload(factory, activity.id).status == "delivered"


def test_failed_with_30007_reads_as_the_10dlc_problem(runtime, demo, factory):
    activity = send(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi")
    _record(runtime, activity.provider_sid, "failed", 30007)
    row = reload(factory, activity.id)
    assert row.status == "error"
    assert row.error_message == describe_error(30007)
    assert "10DLC registration is not finished" in row.error_message
    # An error is final: a delivered that arrives after it changes nothing.
    _record(runtime, activity.provider_sid, "delivered")
    assert reload(factory, activity.id).status == "error"


def test_undelivered_after_sent_is_an_error(runtime, demo, factory):
    activity = send(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi")
    _record(runtime, activity.provider_sid, "undelivered", 30003)
    row = reload(factory, activity.id)
    assert (row.status, row.error_message) == ("error", "The recipient's phone is unreachable (switched off or out of coverage).")


def test_a_callback_for_an_unknown_sid_changes_nothing(runtime, demo, factory):
    activity = send(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi")
    assert _record(runtime, "SM" + "f" * 32, "failed", 30007) is None
    assert reload(factory, activity.id).status == "sent"


# -- retries -------------------------------------------------------------------------------------------------


def _busy() -> ProviderError:
    return ProviderError("Twilio is busy (503)", status=503, retryable=True)


def test_a_retryable_failure_is_retried_until_it_is_sent(factory, demo):
    provider = CountingSandbox(make_settings(), failures=[_busy(), _busy()])
    rt = build_runtime(provider.settings, factory, provider=provider, default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)

    activity = send(rt, ctx_for(demo), remote_phone=SARAH, text="Hi")
    row = reload(factory, activity.id)
    assert row.status == "outbox"  # waiting for its retry, with a backoff
    assert utcnow() < row.date_scheduled < utcnow() + timedelta(seconds=3)
    assert rt.dispatcher.drain() == 0  # not due yet

    make_due(factory, activity.id)
    assert rt.dispatcher.drain() == 1
    assert reload(factory, activity.id).status == "outbox"

    make_due(factory, activity.id)
    assert rt.dispatcher.drain() == 1
    row = reload(factory, activity.id)
    assert (row.status, row.attempts) == ("sent", 3)
    assert row.provider_sid.startswith("SM")
    assert (row.error_message, row.error_code) == (None, None)  # the earlier failures are not the outcome
    assert provider.asked[activity.id] == 3
    provider.wait_idle(5)


class _AnswerLost(CountingSandbox):
    """Accepts the first send, then its answer times out: Cody sees a retryable failure, the carrier has the text."""

    def send_message(self, message):
        result = super().send_message(message)
        if self.sends == 1:
            raise ProviderError("Read timed out", status=None, retryable=True)
        return result


def test_callbacks_that_come_while_a_retry_waits_link_the_message_and_it_is_not_sent_again(factory, demo, posted):
    provider = _AnswerLost(make_settings(), posted)
    rt = build_runtime(provider.settings, factory, provider=provider, default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)
    activity = send(rt, ctx_for(demo), remote_phone=SARAH, text="Offer accepted!")
    assert reload(factory, activity.id).status == "outbox"
    provider.drain()
    for form in posted.forms:  # the carrier's callbacks, through the webhook, during the backoff
        params = dict(form.params)
        with rt.factory() as session:
            rt.messaging.record_carrier_status(session, params["MessageSid"], params["MessageStatus"], None,
                                               activity_id=activity.id)
    row = reload(factory, activity.id)
    assert (row.status, row.provider_sid, row.error_message) == ("delivered", dict(posted.forms[0].params)["MessageSid"], None)
    make_due(factory, activity.id)
    assert rt.dispatcher.drain() == 0
    assert provider.sends == 1


class _EveryAnswerLost(CountingSandbox):
    """Accepts every send, but each answer times out and its message list lags: every retry sends again, and
    the last one leaves the row in `error` though the carrier has the text."""

    def send_message(self, message):
        super().send_message(message)
        raise ProviderError("Read timed out", status=None, retryable=True)

    def find_message(self, *args, **kwargs):
        return None


def test_a_message_in_error_after_its_last_retry_is_linked_by_the_carriers_callback(factory, demo, posted):
    provider = _EveryAnswerLost(make_settings(), posted)
    rt = build_runtime(provider.settings, factory, provider=provider, default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)
    activity = send(rt, ctx_for(demo), remote_phone=SARAH, text="Keys are under the mat")
    for _ in range(2):
        make_due(factory, activity.id)
        rt.dispatcher.drain()
    row = reload(factory, activity.id)
    assert (row.status, row.error_message, row.attempts) == ("error", "Read timed out", 3)
    provider.drain()
    first_sid = dict(posted.forms[0].params)["MessageSid"]
    for form in posted.forms:  # the carrier reports on every attempt it accepted
        params = dict(form.params)
        with rt.factory() as session:
            rt.messaging.record_carrier_status(session, params["MessageSid"], params["MessageStatus"], None,
                                               activity_id=activity.id)
    row = reload(factory, activity.id)
    assert (row.status, row.provider_sid, row.error_message, row.error_code) == ("delivered", first_sid, None, None)


@contextmanager
def _live(sqlite_url, factory, provider_class, posted) -> Iterator[tuple[LiveCody, httpx.Client]]:
    """The app on loopback with this sandbox, whose status callbacks are kept (in `posted`) for the test to post."""
    holder = {}

    def make_app(base_url: str):
        settings = make_settings(public_base_url=base_url)
        holder["runtime"] = rt = build_runtime(settings, factory, provider=provider_class(settings, posted),
                                               default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)
        return create_app(ApiSettings(_env_file=None, database_url=sqlite_url, run_dispatcher=False, log_json=False),
                          factory, rt)

    with serving(make_app) as base_url, http_client(base_url=base_url, timeout=30) as client:
        yield LiveCody(base_url, holder["runtime"]), client


def _post_callbacks(cody: LiveCody, forms, final_status: str) -> None:
    """The carrier's status callbacks, signed and posted to the URL the message gave it; the last one says
    `final_status` (and so does the carrier when asked)."""
    for form in forms:
        params = [(k, final_status if k in ("MessageStatus", "SmsStatus") and v == "delivered" else v)
                  for k, v in form.params]
        cody.runtime.provider.statuses[dict(params)["MessageSid"]] = dict(params)["MessageStatus"]
        url = urlsplit(form.url)
        assert cody.post_twilio(f"{url.path}?{url.query}", params).status_code == 200


@pytest.mark.parametrize("carrier_says, shown", [("delivered", "delivered"), ("undelivered", "error")])
def test_a_message_cancelled_while_its_lost_answer_waited_shows_the_carriers_status_once_sent_again(
        sqlite_url, factory, demo, posted, carrier_says, shown):
    with _live(sqlite_url, factory, _AnswerLost, posted) as (cody, client):
        api = {"auth": (demo.api_key, "")}
        sms = client.post("/api/v1/activity/sms/", json={"remote_phone": SARAH, "text": "Offer accepted!",
                                                         "status": "outbox"}, **api).json()
        assert sms["status"] == "outbox"  # the carrier's answer was lost: a retry waits
        url = f"/api/v1/activity/sms/{sms['id']}/"
        assert client.put(url, json={"status": "draft"}, **api).json()["status"] == "draft"  # the person cancels
        cody.runtime.provider.drain()
        _post_callbacks(cody, posted.forms, carrier_says)  # it had gone out: the carrier reports on it meanwhile
        assert client.get(url, **api).json()["status"] == "draft"
        resent = client.put(url, json={"status": "outbox"}, **api).json()  # the person sends it again
        shown_now = client.get(url, **api).json()
        assert (resent["status"], shown_now["status"]) == (shown, shown)
        if shown == "error":
            assert shown_now["error_message"] == "The carrier reports this message as undelivered: it was not delivered."
        assert reload(factory, sms["id"]).provider_sid == dict(posted.forms[0].params)["MessageSid"]
        assert cody.runtime.provider.asked[sms["id"]] == 1  # linked to the carrier's message, not sent twice


def test_a_callback_that_found_no_message_still_counts_when_the_carrier_repeats_it(sqlite_url, factory, demo, posted):
    with _live(sqlite_url, factory, _AnswerLost, posted) as (cody, client):
        api = {"auth": (demo.api_key, "")}
        sms = client.post("/api/v1/activity/sms/", json={"remote_phone": SARAH, "text": "See you at 7",
                                                         "status": "outbox"}, **api).json()
        url = f"/api/v1/activity/sms/{sms['id']}/"
        client.put(url, json={"status": "draft"}, **api)
        cody.runtime.provider.drain()
        _post_callbacks(cody, posted.forms, "delivered")  # while it is a draft: they find no message to move
        cody.runtime.provider.statuses[dict(posted.forms[0].params)["MessageSid"]] = "sent"  # its list lags behind
        assert client.put(url, json={"status": "outbox"}, **api).json()["status"] == "sent"
        _post_callbacks(cody, posted.forms[1:], "delivered")  # Twilio repeats the delivered callback
        assert client.get(url, **api).json()["status"] == "delivered"


def test_retries_stop_after_the_last_attempt(factory, demo):
    provider = CountingSandbox(make_settings(), failures=[_busy(), _busy(), _busy()])
    rt = build_runtime(provider.settings, factory, provider=provider, default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)
    activity = send(rt, ctx_for(demo), remote_phone=SARAH, text="Hi")
    for _ in range(2):
        make_due(factory, activity.id)
        rt.dispatcher.drain()
    row = reload(factory, activity.id)
    assert (row.status, row.error_message, row.attempts) == ("error", "Twilio is busy (503)", 3)
    make_due(factory, activity.id)
    assert rt.dispatcher.drain() == 0
    assert provider.asked[activity.id] == 3


def test_a_4xx_is_not_retried(factory, demo):
    refusal = ProviderError(describe_error(21612), code=21612, status=400, retryable=False)
    provider = CountingSandbox(make_settings(), failures=[refusal])
    rt = build_runtime(provider.settings, factory, provider=provider, default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)
    activity = send(rt, ctx_for(demo), remote_phone=SARAH, text="Hi")
    row = reload(factory, activity.id)
    assert (row.status, row.error_code) == ("error", "unroutable")
    assert row.error_message == "Texts cannot be sent between these two numbers (the pair is unreachable)."
    make_due(factory, activity.id)
    assert rt.dispatcher.drain() == 0
    assert provider.asked[activity.id] == 1


# -- the reconciler ------------------------------------------------------------------------------------------


def _left_sending(runtime, demo, factory, **values) -> str:
    """A message a dead worker claimed long ago and never finished."""
    activity = send(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi", send_in=30)
    stale = utcnow() - timedelta(seconds=runtime.settings.sending_timeout_seconds + 60)
    with transaction(factory) as session:
        session.execute(update(Activity).where(Activity.id == activity.id)
                        .values(status="sending", claimed_by="dead-host:1", claimed_at=stale, attempts=1, **values))
    return activity.id


def test_a_stale_claim_without_a_sid_goes_back_to_the_outbox_and_is_sent_once(runtime, demo, factory, provider):
    activity_id = _left_sending(runtime, demo, factory)
    assert runtime.dispatcher.reconcile_stale() == 1
    row = reload(factory, activity_id)
    assert (row.status, row.claimed_by) == ("outbox", None)

    assert runtime.dispatcher.drain() == 1
    assert runtime.dispatcher.reconcile_stale() == 0
    assert runtime.dispatcher.drain() == 0
    assert reload(factory, activity_id).status == "sent"
    assert provider.asked == {activity_id: 1}


@pytest.mark.parametrize("carrier, ours", [("delivered", "delivered"), ("sent", "sent"), ("queued", "sent"),
                                           ("failed", "error"), ("canceled", "error")])
def test_a_stale_claim_with_a_sid_asks_the_carrier_and_is_not_sent_again(runtime, demo, factory, provider, carrier, ours):
    sid = "SM" + "a" * 32
    provider.statuses[sid] = carrier
    activity_id = _left_sending(runtime, demo, factory, provider_sid=sid)
    assert runtime.dispatcher.reconcile_stale() == 1
    row = reload(factory, activity_id)
    assert (row.status, row.claimed_by) == (ours, None)
    if ours == "error":
        assert row.error_message == f"The carrier reports this message as {carrier}: it was not delivered."
    assert provider.fetched == [sid]
    assert runtime.dispatcher.drain() == 0
    assert provider.sends == 0


def test_a_fresh_claim_is_left_alone(runtime, demo, factory, provider):
    activity = send(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi", send_in=30)
    with transaction(factory) as session:
        session.execute(update(Activity).where(Activity.id == activity.id)
                        .values(status="sending", claimed_by="busy-host:1", claimed_at=utcnow()))
    assert runtime.dispatcher.reconcile_stale() == 0
    assert reload(factory, activity.id).status == "sending"
    assert provider.sends == 0


# -- restart -------------------------------------------------------------------------------------------------


def test_a_restart_loses_no_scheduled_send(sqlite_url):
    engine = make_engine(sqlite_url)
    factory = make_sessionmaker(engine)
    first = CountingSandbox(make_settings())
    rt = build_runtime(first.settings, factory, provider=first, default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)
    with transaction(factory) as session:
        demo = seed_demo(session)
    activity = send(rt, ctx_for(demo), remote_phone=LUC, text="Bonjour Luc", status="scheduled",
                    date_scheduled=utcnow() + timedelta(hours=1))
    engine.dispose()  # the process goes away

    engine = make_engine(sqlite_url)
    try:
        factory = make_sessionmaker(engine)
        make_due(factory, activity.id)
        second = CountingSandbox(make_settings())
        rt = build_runtime(second.settings, factory, provider=second,
                           default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)
        assert rt.dispatcher.drain() == 1
        assert reload(factory, activity.id).status == "sent"
        assert (first.sends, second.asked) == (0, {activity.id: 1})
        second.wait_idle(5)
    finally:
        engine.dispose()


# -- the whole way, through the app's webhook ----------------------------------------------------------------


def test_the_sandbox_takes_an_outbox_message_to_delivered_through_the_app(sqlite_url, factory, demo):
    holder = {}

    def make_app(base_url: str):
        settings = make_settings(public_base_url=base_url, sandbox_callback_delay_seconds=0.05)
        holder["runtime"] = rt = build_runtime(settings, factory, poll_seconds=0.05)
        return create_app(ApiSettings(_env_file=None, database_url=sqlite_url, run_dispatcher=True,
                                      dispatcher_poll_seconds=0.05, log_json=False), factory, rt)

    with serving(make_app):
        rt = holder["runtime"]
        activity = send(rt, ctx_for(demo), contact_id=contact_id(factory, demo, "Sarah Lee"), text="On my way!",
                        send_in=1)
        assert activity.status == "outbox"
        row = wait_for(lambda: (r := reload(factory, activity.id)).status == "delivered" and r, timeout=10)
        assert row.provider_sid.startswith("SM")
        assert row.date_sent is not None and row.error_message is None
        rt.provider.wait_idle(5)
        assert rt.provider.callback_errors == []


def test_a_dispatcher_started_again_after_a_stop_keeps_sending(runtime, demo, factory, provider):
    """An app's lifespan may run more than once (tests, reloads); the second start must deliver too."""
    runtime.dispatcher.start()
    runtime.dispatcher.stop()
    activity = send(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi", send_in=30)
    make_due(factory, activity.id)
    runtime.dispatcher.start()
    try:
        wait_for(lambda: reload(factory, activity.id).status == "sent", timeout=5)
    finally:
        runtime.dispatcher.stop()
    assert provider.asked == {activity.id: 1}


class _TakenAway(CountingSandbox):
    """While the first message of a batch is with the carrier, the others are taken back and re-claimed by another
    worker (as the reconciler does when a batch runs past sending_timeout_seconds)."""

    def __init__(self, settings, factory, batch: list[str]):
        super().__init__(settings, callbacks=False)
        self.factory, self.batch, self.first = factory, batch, None

    def send_message(self, message):
        if self.first is None:
            self.first = activity_id_of(message)
            with transaction(self.factory) as session:
                session.execute(update(Activity).where(Activity.id.in_(self.batch), Activity.id != self.first)
                                .values(status="sending", claimed_by="other-host:2", claimed_at=utcnow()))
        return super().send_message(message)


def test_a_worker_does_not_send_a_row_another_worker_has_claimed_since(factory, demo):
    setup = build_runtime(make_settings(), factory, provider=CountingSandbox(make_settings()),
                          default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)
    ids = [send(setup, ctx_for(demo), remote_phone=SARAH, text=f"Reminder {i}", send_in=30).id for i in range(3)]
    make_due(factory, *ids)
    provider = _TakenAway(make_settings(), factory, ids)
    rt = build_runtime(provider.settings, factory, provider=provider, default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)

    assert rt.dispatcher.run_once() == 3
    assert provider.asked == {provider.first: 1}  # the other two are the other worker's now
    assert reload(factory, provider.first).status == "sent"
    for other in set(ids) - {provider.first}:
        row = reload(factory, other)
        assert (row.status, row.claimed_by) == ("sending", "other-host:2")
