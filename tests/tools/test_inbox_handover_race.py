"""A missed call's Inbox items, made by a status callback while someone claims the thread, follow the claim: the
callback waits for the claim and gives the item to the new assignee only (PostgreSQL, two real connections)."""

import threading
from decimal import Decimal

import pytest
from sqlalchemy import select

from db.models import InboxItem, PhoneNumber, Thread
from db.session import make_engine, make_sessionmaker, transaction
from tools import crm, threads
from tools.context import Ctx
from tools.messaging import calls
from tools.workspaces import add_member, create_organization, create_user

LINE, CALLER, CALL_SID = "+14155550100", "+14155550132", "CA" + "9" * 32


@pytest.fixture
def factory(pg_url):
    engine = make_engine(pg_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.mark.postgres
def test_a_missed_call_while_the_thread_is_being_claimed_goes_to_the_claimer_only(factory):
    with transaction(factory) as session:
        ws = create_organization(session, "Acme", "ana@acme.test", "Ana", "Diaz")
        bob = create_user(session, "bob@acme.test", "Bob", "Ng")
        session.flush()
        add_member(session, ws.organization_id, bob)
        session.add(PhoneNumber(organization_id=ws.organization_id, number=LINE, label="Front desk", country="US",
                                sms=True, mms=True, voice=True, sharing="group", provider="sandbox",
                                provider_sid="PN" + "1" * 32, monthly_cost=Decimal("1")))
        lead = crm.create_lead(session, Ctx(ws.organization_id, ws.user_id, role="admin"), crm.LeadIn(
            name="Sarah", contacts=[crm.ContactIn(name="Sarah", phones=[crm.PhoneIn(phone=CALLER)])]))
        session.flush()
        call = calls.log_inbound_call(session, ws.organization_id, lead.contacts[0], CALL_SID, LINE, CALLER, None)
        ana, call_id, thread_id = ws.user_id, call.id, call.thread_id

    with factory() as claimer, factory() as webhook:
        assert threads.claim_if_unclaimed(claimer, claimer.get(Thread, thread_id), ana)  # not yet committed
        callback = threading.Thread(target=calls.apply_call_status,
                                    args=(webhook, {"CallSid": CALL_SID, "CallStatus": "no-answer"}, call_id))
        callback.start()
        callback.join(0.5)
        assert callback.is_alive(), "the callback waits for the claim"
        claimer.commit()
        callback.join(10)
        webhook.commit()

    with factory() as session:
        holders = list(session.scalars(select(InboxItem.user_id).where(InboxItem.thread_id == thread_id)))
    assert holders == [ana]
