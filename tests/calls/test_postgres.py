"""The main call flows again on PostgreSQL: click-to-call, forward, voicemail, missed call with its draft."""

import pytest
from sqlalchemy import select

from db.models import Activity, Contact, Draft, InboxItem
from tests.calls.conftest import FORWARDING, SARAH
from tools.demo import DEMO_NUMBER

pytestmark = pytest.mark.postgres


@pytest.fixture
def db_url(pg_url) -> str:
    return pg_url


def test_call_flows_on_postgres(cody, api, factory, demo):
    with factory() as session:
        sarah = session.scalar(select(Contact.id).where(Contact.organization_id == demo.organization_id,
                                                        Contact.name == "Sarah Lee"))
    call = api.post("/api/v1/call/dial/", json={"contact_id": sarah}).json()
    answered = cody.sandbox.simulate_inbound_call(SARAH, DEMO_NUMBER)
    cody.sandbox.drain()
    cody.sandbox.call_outcomes[FORWARDING] = "no-answer"
    voicemail = cody.sandbox.simulate_inbound_call(SARAH, DEMO_NUMBER)
    missed = cody.sandbox.simulate_inbound_call("+14155550177", DEMO_NUMBER, hangs_up_while_ringing=True)
    cody.sandbox.drain()
    with factory() as session:
        def status(sid: str) -> str:
            return session.scalar(select(Activity.status).where(Activity.provider_sid == sid))

        assert session.get(Activity, call["id"]).status == "completed"
        assert (status(answered), status(voicemail), status(missed)) == ("completed", "voicemail", "missed")
        assert sorted(session.scalars(select(InboxItem.type))) == ["missed_call", "voicemail"]
        assert session.scalar(select(Draft.state)) == "pending"
