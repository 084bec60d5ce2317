"""The sandbox panel rings the business line from a contact; the call plays out through the signed voice webhooks."""

import time

from sqlalchemy import select

from db.models import Activity, Contact, InboxItem
from db.session import transaction
from tests.live import http_client, live_cody
from tools.demo import seed_demo


def test_a_simulated_call_that_hangs_up_leaves_a_missed_call_in_the_inbox(db_url, factory):
    with transaction(factory) as session:
        demo = seed_demo(session)
    with factory() as session:
        sarah = session.scalar(select(Contact).where(Contact.name == "Sarah Lee")).id
    with live_cody(db_url, factory, sandbox_callback_delay_seconds=0.02) as cody:
        with http_client(base_url=cody.base_url, auth=(demo.api_key, ""), timeout=30) as api:
            answer = api.post("/api/sandbox/call", json={"contact_id": sarah, "hangs_up": True})
            assert answer.status_code == 200 and answer.json()["call_sid"].startswith("CA")
            cody.runtime.provider.drain(timeout=20)
            deadline = time.monotonic() + 10
            kinds: list[str] = []
            while time.monotonic() < deadline and "missed_call" not in kinds:
                kinds = [i["type"] for i in api.get("/api/v1/inbox/").json()["data"]]
                time.sleep(0.1)
    assert "missed_call" in kinds
    with factory() as session:
        call = session.scalar(select(Activity).where(Activity.type == "call"))
        assert (call.direction, call.contact_id) == ("inbound", sarah)
        assert session.scalar(select(InboxItem.type).where(InboxItem.activity_id == call.id)) == "missed_call"
