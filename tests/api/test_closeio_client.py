"""Close's own Python client, unchanged, against a live Cody: the whole SMS workflow of issue 5."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import closeio_api
import pytest

from db.models import PhoneNumber
from db.session import transaction
from tests.api.server import both_databases


@pytest.fixture
def close(live_server, workspace):
    return closeio_api.API(base_url=live_server + "/api/v1/", api_key=workspace.api_key, max_retries=1)


def field_errors(call) -> dict:
    with pytest.raises(closeio_api.ValidationError) as failure:
        call()
    return failure.value.field_errors


def test_the_close_client_drives_leads_numbers_templates_and_the_sms_lifecycle(close, live_server, factory, workspace):
    lead = close.post("lead", {"name": "The Parkers", "contacts": [
        {"name": "Nina Parker", "phones": [{"phone": "(415) 555-0161", "type": "mobile"}]}]})
    contact_id = lead["contacts"][0]["id"]
    assert lead["contacts"][0]["phones"][0]["phone"] == "+14155550161"

    close.post("wallet/credit", {"amount": "20"})
    offered = close.get("phone_number/available", params={"country": "US", "area_code": "415", "sms_enabled": "true"})
    number = close.post("phone_number/purchase", {"number": offered["data"][0]["number"], "sharing": "personal"})
    local = number["number"]

    template = close.post("sms_template", {"name": "Hello", "text": "Hi {{ contact.first_name }}!", "is_shared": True})
    assert template["id"].startswith("smstmpl_")

    draft = close.post("activity/sms", {"status": "draft", "contact_id": contact_id, "local_phone": local,
                                        "text": "See you at the open house"})
    assert (draft["_type"], draft["status"]) == ("SMS", "draft")
    outbox = close.put(f"activity/sms/{draft['id']}", {"status": "outbox", "send_in": 30})
    assert outbox["status"] == "outbox"
    back = close.put(f"activity/sms/{draft['id']}", {"status": "draft"})
    assert back["status"] == "draft"
    when = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0).isoformat()
    scheduled = close.put(f"activity/sms/{draft['id']}", {"status": "scheduled", "date_scheduled": when})
    assert scheduled["status"] == "scheduled" and scheduled["date_scheduled"].startswith(when[:16])
    assert close.delete(f"activity/sms/{draft['id']}") == {}

    for i in range(25):
        close.post("activity/sms", {"status": "inbox", "contact_id": contact_id, "remote_phone": "+14155550161",
                                    "local_phone": local, "text": f"message {i}"})
    seen, skip = [], 0
    while True:
        page = close.get("activity/sms", params={"_skip": skip, "_limit": 2, "contact_id": contact_id})
        seen += [item["id"] for item in page["data"]]
        skip += len(page["data"])
        if not page["has_more"]:
            break
    assert len(seen) == 25 and len(set(seen)) == 25

    with transaction(factory) as session:
        session.add(PhoneNumber(organization_id=workspace.organization_id, number="+14155550177", number_type="external",
                                country="US", user_id=workspace.user_id, monthly_cost=Decimal("0")))
    assert "local_phone" in field_errors(lambda: close.post("activity/sms", {
        "status": "outbox", "contact_id": contact_id, "local_phone": "+14155550177", "text": "hi"}))
    assert "send_in" in field_errors(lambda: close.post("activity/sms", {
        "status": "outbox", "contact_id": contact_id, "text": "hi", "send_in": 60}))
    assert "date_scheduled" in field_errors(lambda: close.post("activity/sms", {
        "status": "scheduled", "contact_id": contact_id, "text": "hi"}))
    sent = close.post("activity/sms", {"status": "outbox", "contact_id": contact_id, "local_phone": local, "text": "hi"})
    assert set(field_errors(lambda: close.put(f"activity/sms/{sent['id']}", {"text": "changed"}))) & {"text", "status"}
    assert field_errors(lambda: close.post("activity/sms", {"status": "bogus", "contact_id": contact_id, "text": "x"})) == {
        "status": "Not a valid choice."}

    with pytest.raises(closeio_api.APIError) as missing:
        close.get("activity/sms/acti_doesnotexist")
    assert missing.value.response.status_code == 404
    stranger = closeio_api.API(base_url=live_server + "/api/v1/", api_key="cody_not_a_key", max_retries=1)
    with pytest.raises(closeio_api.APIError) as refused:
        stranger.get("me")
    assert refused.value.response.status_code == 401


def test_the_close_client_sets_and_clears_fields_as_close_documents(close):
    """`custom.FIELD_ID` keys set, change and remove one custom field each; null clears what Close lets be null."""
    lead = close.post("lead", {"name": "The Parkers", "description": None, "custom.cf_budget": "500k"})
    assert (lead["description"], lead["custom.cf_budget"]) == ("", "500k")
    lead = close.put(f"lead/{lead['id']}", {"custom.cf_areas.add": "Midtown", "custom.cf_budget": None})
    assert lead["custom"] == {"cf_areas": ["Midtown"]} and "custom.cf_budget" not in lead

    contact = close.post("contact", {"lead_id": lead["id"], "name": "Nina Parker", "title": "Buyer",
                                     "custom.cf_role": "Decision maker"})
    assert contact["custom.cf_role"] == "Decision maker"
    contact = close.put(f"contact/{contact['id']}", {"title": None, "custom.cf_role": "Influencer"})
    assert (contact["title"], contact["custom"]) == ("", {"cf_role": "Influencer"})
    assert set(field_errors(lambda: close.put(f"contact/{contact['id']}", {"custom.cf_role.add": "x"}))) == {
        "custom.cf_role.add"}
    assert close.get(f"contact/{contact['id']}", params={"_fields": "custom.cf_role"}) == {
        "custom.cf_role": "Influencer"}


@both_databases
def test_the_close_client_finds_a_caller_moves_a_contact_and_is_told_what_it_may_not_do(close):
    """The lookups a phone-line integration makes with `query` (a caller's number as it arrived, a name, an email),
    a contact moved with lead_id, and the 400s that name the field."""
    acme = close.post("lead", {"name": "Acme Corp", "url": "https://acme.example.com", "contacts": [
        {"name": "John Park", "phones": [{"phone": "(212) 555-0123", "type": "mobile"}],
         "emails": [{"email": "john@acme.example"}]}]})
    parkers = close.post("lead", {"name": "The Parkers"})
    for query in ("+12125550123", "212-555-0123", "John", "JOHN@ACME"):
        assert [lead["id"] for lead in close.get("lead", params={"query": query})["data"]] == [acme["id"]], query
    john = close.get("contact", params={"query": "2125550123"})["data"]
    assert [c["name"] for c in john] == ["John Park"]

    moved = close.put(f"contact/{john[0]['id']}", {"lead_id": parkers["id"]})
    assert moved["lead_id"] == parkers["id"]
    assert [lead["id"] for lead in close.get("lead", params={"query": "John"})["data"]] == [parkers["id"]]

    assert set(field_errors(lambda: close.put(f"lead/{acme['id']}", {"url": "acme dot com"}))) == {"url"}
    assert set(field_errors(lambda: close.put(f"contact/{john[0]['id']}", {"lead_id": "lead_nope"}))) == {"lead_id"}
    assert set(field_errors(lambda: close.put(f"lead/{acme['id']}", {"custom.cf_notes": {"deep": 1}}))) == {
        "custom.cf_notes"}
    assert set(field_errors(lambda: close.get("lead", params={"query": "John\x00"}))) == {"query"}
    assert set(field_errors(lambda: close.post("contact", {"name": "Desk", "phones": [
        {"phone": "+1 212 555 0100 ext 7"}]}))) == {"phones.0.phone"}
