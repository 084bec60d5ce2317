"""Close's GET /activity/: a lead's texts and calls in one list, each in its own shape, through Close's own client."""

import closeio_api
import pytest
from sqlalchemy import select

from db.models import Contact
from tests.calls.conftest import SARAH


@pytest.fixture
def close(cody, demo):
    return closeio_api.API(base_url=cody.base_url + "/api/v1/", api_key=demo.api_key, max_retries=1)


def test_a_leads_texts_and_calls_come_in_one_timeline(cody, close, factory, demo):
    with factory() as session:
        sarah = session.scalar(select(Contact).where(Contact.organization_id == demo.organization_id,
                                                     Contact.name == "Sarah Lee"))
        sarah_id, lead_id = sarah.id, sarah.lead_id
    received = close.post("activity/sms", {"status": "inbox", "contact_id": sarah_id, "text": "Can you call me?"})
    call = close.post("call/dial", {"contact_id": sarah_id})
    cody.sandbox.drain()
    sent = close.post("activity/sms", {"status": "outbox", "contact_id": sarah_id, "text": "Great talking!"})
    cody.sandbox.drain()

    timeline = close.get("activity", params={"lead_id": lead_id})
    assert [(a["_type"], a["id"]) for a in timeline["data"]] == [
        ("SMS", sent["id"]), ("Call", call["id"]), ("SMS", received["id"])]  # newest first
    assert timeline["data"][1]["remote_phone"] == SARAH and "duration" in timeline["data"][1]
    assert timeline["data"][0]["text"] == "Great talking!"

    only_calls = close.get("activity", params={"lead_id": lead_id, "_type": "Call", "_fields": "id,_type"})
    assert only_calls["data"] == [{"id": call["id"], "_type": "Call"}]
    oldest_first = close.get("activity", params={"contact_id": sarah_id, "_order_by": "date_created", "_limit": 2})
    assert [a["id"] for a in oldest_first["data"]] == [received["id"], call["id"]] and oldest_first["has_more"]

    with pytest.raises(closeio_api.ValidationError) as refused:
        close.get("activity", params={"lead_id": lead_id, "_type": "Email", "_order_by": "-text"})
    assert set(refused.value.field_errors) == {"_type", "_order_by"}
    assert refused.value.field_errors["_type"] == "Email: not a kind of activity Cody keeps; use SMS, Call."


def test_another_workspace_sees_none_of_it(cody, close, other_workspace):
    logged = close.post("activity/sms", {"status": "inbox", "remote_phone": SARAH, "text": "Hi"})
    assert logged["id"] in [a["id"] for a in close.get("activity")["data"]]
    other = closeio_api.API(base_url=cody.base_url + "/api/v1/", api_key=other_workspace.api_key, max_retries=1)
    assert other.get("activity")["data"] == []
