"""Sending through Messaging.execute: what the saved activity says (encoding, segments, status, errors), sending
once per idempotency key, the carrier's refusals, and who the contact's thread belongs to afterwards."""

from datetime import timedelta

import pytest

from db.session import transaction
from db.types import utcnow
from tests.tools.messaging_fixtures import (
    MARY,
    SARAH,
    contact_id,
    ctx_for,
    only_problem,
    refused,
    reload,
    send,
    set_inbound,
    thread_of,
)
from tools import crm
from tools.demo import DEMO_NUMBER
from tools.optouts import is_opted_out
from tools.problems import Problem
from tools.telephony.sandbox import SANDBOX_MESSAGING_SERVICE_SID
from tools.workspaces import add_member, create_user

# -- segments and encoding -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, encoding, segments", [
    ("Hi Sarah, I'm running 10 minutes late. Sorry! - Dana", "GSM-7", 1),
    ("See you at the showing 🏡😊", "UCS-2", 1),
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("Prices in € are {fine}", "GSM-7", 1),
    ("é" * 70 + "ł", "UCS-2", 2),
])
def test_saved_activity_has_encoding_and_segments(runtime, demo, factory, text, encoding, segments):
    activity = send(runtime, ctx_for(demo), remote_phone=SARAH, text=text)
    row = reload(factory, activity.id)
    assert (row.status, row.encoding, row.segments, row.text) == ("sent", encoding, segments, text)


def test_a_sent_message_is_the_whole_activity(runtime, demo, factory, provider):
    sarah = contact_id(factory, demo, "Sarah Lee")
    activity = send(runtime, ctx_for(demo), contact_id=sarah, text="On my way")
    row = reload(factory, activity.id)
    assert row.type == "sms" and row.direction == "outbound"
    assert (row.status, row.local_phone, row.remote_phone) == ("sent", DEMO_NUMBER, SARAH)
    assert (row.contact_id, row.user_id, row.channel) == (sarah, demo.user_id, "chat")
    assert row.lead_id is not None and row.thread_id == thread_of(factory, demo.organization_id, sarah).id
    assert row.provider_sid.startswith("SM") and row.date_sent is not None
    assert row.messaging_service_sid == SANDBOX_MESSAGING_SERVICE_SID
    assert (row.error_message, row.error_code, row.claimed_by) == (None, None, None)
    assert row.attempts == 1
    assert provider.asked == {activity.id: 1}


def test_deleting_a_contact_holds_the_texts_still_waiting_to_go_to_them(runtime, demo, factory, provider):
    sarah = contact_id(factory, demo, "Sarah Lee")
    ctx = ctx_for(demo)
    tomorrow = send(runtime, ctx, contact_id=sarah, text="See you tomorrow", status="scheduled",
                    date_scheduled=utcnow() + timedelta(hours=20))
    in_undo_window = send(runtime, ctx, contact_id=sarah, text="Running late", send_in=30)
    sent = send(runtime, ctx, contact_id=sarah, text="Hello")
    with transaction(factory) as session:
        crm.delete_contact(session, ctx_for(demo, role="admin"), sarah)

    for held in (reload(factory, tomorrow.id), reload(factory, in_undo_window.id)):
        assert (held.status, held.date_scheduled, held.contact_id) == ("draft", None, None)
        assert (held.remote_phone, held.lead_id) == (SARAH, sent.lead_id)  # still on the lead's timeline
    assert reload(factory, sent.id).status == "sent"
    assert runtime.dispatcher.drain() == 0
    assert provider.asked == {sent.id: 1}


# -- idempotency ---------------------------------------------------------------------------------------------


def test_same_idempotency_key_sends_once(runtime, demo, factory, provider):
    ctx = ctx_for(demo, idempotency_key="chat-turn-42")
    first = send(runtime, ctx, remote_phone=SARAH, text="Running late")
    second = send(runtime, ctx, remote_phone=SARAH, text="Running late")
    assert second.id == first.id
    assert provider.sends == 1
    assert provider.asked[first.id] == 1
    provider.drain()
    # The sandbox posted one message's callbacks, not two.
    assert sorted(posted_sids(runtime)) == [first.provider_sid, first.provider_sid]


def posted_sids(runtime) -> list[str]:
    return [dict(f.params)["MessageSid"] for f in runtime.provider.post_callback.forms]


def test_different_keys_send_twice(runtime, demo, provider):
    a = send(runtime, ctx_for(demo, idempotency_key="a"), remote_phone=SARAH, text="Hi")
    b = send(runtime, ctx_for(demo, idempotency_key="b"), remote_phone=SARAH, text="Hi")
    assert a.id != b.id
    assert provider.sends == 2


def test_an_idempotency_key_is_per_workspace(runtime, demo, workspace, factory, provider):
    from tests.tools.messaging_fixtures import add_number
    from tools.context import Ctx

    add_number(factory, workspace.organization_id, "+14155550111", "US", mms=True)
    mine = send(runtime, ctx_for(demo, idempotency_key="same"), remote_phone=SARAH, text="Hi")
    theirs = send(runtime, Ctx(workspace.organization_id, workspace.user_id, idempotency_key="same"),
                  remote_phone=SARAH, text="Hi")
    assert mine.id != theirs.id
    assert (mine.organization_id, theirs.organization_id) == (demo.organization_id, workspace.organization_id)
    assert provider.sends == 2


# -- the carrier's answer ------------------------------------------------------------------------------------


def test_carrier_refusal_ends_in_error_with_a_readable_message(runtime, demo, factory, provider):
    activity = send(runtime, ctx_for(demo), remote_phone="+15005550001", text="Hi")
    row = reload(factory, activity.id)
    assert row.status == "error"
    assert row.error_message == "The recipient's number is not a valid phone number."
    assert row.error_code == "invalid_phone"
    assert (row.provider_sid, row.claimed_by) == (None, None)
    assert provider.asked[activity.id] == 1  # a 400 is final: not retried


def test_recipient_who_replied_stop_is_opted_out_for_the_next_send(runtime, demo, factory, provider):
    activity = send(runtime, ctx_for(demo), remote_phone="+15005550004", text="Hi")
    row = reload(factory, activity.id)
    assert (row.status, row.error_code) == ("error", "opted_out")
    assert row.error_message == "The recipient replied STOP and has opted out of texts from this number."
    with factory() as session:
        assert is_opted_out(session, demo.organization_id, "+15005550004")

    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone="+15005550004", text="Hi again"))
    assert problem == Problem("opted_out", "remote_phone",
                              "(500) 555-0004 has opted out of texts (replied STOP); "
                              "they must text START to receive messages again.")
    assert provider.sends == 1


# -- thread assignment ---------------------------------------------------------------------------------------


def _second_user(factory, demo, number: str = "+14155550112") -> str:
    from tests.tools.messaging_fixtures import add_number

    with transaction(factory) as session:
        user = create_user(session, "sam@bayview.test", "Sam", "Ortiz")
        session.flush()
        add_member(session, demo.organization_id, user)
        user_id = user.id
    add_number(factory, demo.organization_id, number, "US", mms=True, user_id=user_id, sharing="personal")
    return user_id


def test_a_reply_to_an_unclaimed_inbound_assigns_the_thread_to_the_sender(runtime, demo, factory):
    sarah = contact_id(factory, demo, "Sarah Lee")
    set_inbound(factory, sarah, demo.organization_id)
    send(runtime, ctx_for(demo), contact_id=sarah, text="Thanks, see you then")
    assert thread_of(factory, demo.organization_id, sarah).assignee_id == demo.user_id


def test_a_thread_already_assigned_keeps_its_assignee(runtime, demo, factory):
    sam = _second_user(factory, demo)
    sarah = contact_id(factory, demo, "Sarah Lee")
    set_inbound(factory, sarah, demo.organization_id, assignee_id=sam)
    send(runtime, ctx_for(demo), contact_id=sarah, text="Thanks, see you then")
    assert thread_of(factory, demo.organization_id, sarah).assignee_id == sam


def test_an_outbound_with_no_inbound_does_not_claim_the_thread(runtime, demo, factory):
    mary = contact_id(factory, demo, "Mary Smith")
    activity = send(runtime, ctx_for(demo), contact_id=mary, text="Hello from Bayview")
    thread = thread_of(factory, demo.organization_id, mary)
    assert thread.assignee_id is None
    assert thread.last_activity_at is not None
    assert reload(factory, activity.id).remote_phone == MARY


def test_a_draft_does_not_claim_the_thread(runtime, demo, factory):
    sarah = contact_id(factory, demo, "Sarah Lee")
    set_inbound(factory, sarah, demo.organization_id)
    draft = send(runtime, ctx_for(demo), contact_id=sarah, text="Draft reply", status="draft")
    assert draft.status == "draft"
    assert thread_of(factory, demo.organization_id, sarah).assignee_id is None


def test_a_second_sender_does_not_take_a_claimed_thread(runtime, demo, factory):
    sam = _second_user(factory, demo)
    sarah = contact_id(factory, demo, "Sarah Lee")
    set_inbound(factory, sarah, demo.organization_id)
    send(runtime, ctx_for(demo, user_id=sam), contact_id=sarah, text="I'll take this one")
    send(runtime, ctx_for(demo), contact_id=sarah, text="Me too")
    assert thread_of(factory, demo.organization_id, sarah).assignee_id == sam


def test_a_session_that_read_the_thread_earlier_still_sees_a_newer_inbound(runtime, demo, factory):
    """A long-lived session (the assistant read the thread, then the person confirmed) must not act on a stale copy."""
    from tools import threads
    from tools.messaging import SendRequest

    sarah = contact_id(factory, demo, "Sarah Lee")
    with factory() as session:
        lead_id = reload(factory, send(runtime, ctx_for(demo), contact_id=sarah, text="Hello", status="draft").id).lead_id
        seen = threads.thread_for(session, demo.organization_id, sarah, lead_id)
        session.commit()
        assert seen.last_inbound_at is None
        set_inbound(factory, sarah, demo.organization_id)  # Sarah replies meanwhile
        runtime.messaging.execute(session, ctx_for(demo), SendRequest(contact_id=sarah, text="Great, see you at 7"))
    assert thread_of(factory, demo.organization_id, sarah).assignee_id == demo.user_id
