"""Workspaces are sealed: another workspace's key never sees, changes or attaches to your leads and contacts."""

import httpx
import pytest
from sqlalchemy import func, select

from db.models.crm import Contact, ContactPhone, Lead
from tests.api.server import both_databases
from tools.workspaces import NewWorkspace


@pytest.fixture
def a_records(api: httpx.Client) -> dict:
    """Workspace A's lead with one contact, as A sees them."""
    response = api.post("/api/v1/lead/", json={"name": "Sarah Lee", "description": "A's lead", "contacts": [
        {"name": "Sarah Lee", "title": "Buyer", "phones": [{"phone": "(415) 555-0132", "type": "mobile"}]},
    ]})
    assert response.status_code == 200, response.text
    lead = response.json()
    return {"lead": lead, "contact": lead["contacts"][0]}


def _assert_404(response: httpx.Response) -> None:
    assert response.status_code == 404, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"} and body["error"]


def _snapshot(api: httpx.Client, records: dict) -> tuple[dict, dict]:
    lead = api.get(f"/api/v1/lead/{records['lead']['id']}/")
    contact = api.get(f"/api/v1/contact/{records['contact']['id']}/")
    assert lead.status_code == contact.status_code == 200
    return lead.json(), contact.json()


@both_databases
def test_lists_are_empty_for_the_other_workspace(api: httpx.Client, other_api: httpx.Client, a_records: dict) -> None:
    assert len(api.get("/api/v1/lead/").json()["data"]) == 1
    assert len(api.get("/api/v1/contact/").json()["data"]) == 1
    assert other_api.get("/api/v1/lead/").json() == {"data": [], "has_more": False}
    assert other_api.get("/api/v1/contact/").json() == {"data": [], "has_more": False}
    # Filters that name A's rows find nothing either.
    assert other_api.get("/api/v1/contact/", params={"lead_id": a_records["lead"]["id"]}).json()["data"] == []
    assert other_api.get("/api/v1/lead/", params={"query": "Sarah"}).json()["data"] == []
    assert len(api.get("/api/v1/lead/", params={"query": "Sarah"}).json()["data"]) == 1


@both_databases
def test_reads_and_writes_of_anothers_ids_are_404(api: httpx.Client, other_api: httpx.Client,
                                                  a_records: dict, factory) -> None:
    lead_id, contact_id = a_records["lead"]["id"], a_records["contact"]["id"]
    before = _snapshot(api, a_records)

    _assert_404(other_api.get(f"/api/v1/lead/{lead_id}/"))
    _assert_404(other_api.get(f"/api/v1/contact/{contact_id}/"))
    _assert_404(other_api.put(f"/api/v1/lead/{lead_id}/", json={"name": "Hijacked", "description": "B was here"}))
    _assert_404(other_api.put(f"/api/v1/contact/{contact_id}/",
                              json={"name": "Hijacked", "phones": [{"phone": "+14155550199"}]}))
    _assert_404(other_api.delete(f"/api/v1/contact/{contact_id}/"))
    _assert_404(other_api.delete(f"/api/v1/lead/{lead_id}/"))

    # The answers are the same as for ids that do not exist at all, so B cannot even probe for A's ids.
    assert other_api.get(f"/api/v1/lead/{lead_id}/").json() == other_api.get("/api/v1/lead/lead_nope/").json()
    assert (other_api.get(f"/api/v1/contact/{contact_id}/").json()
            == other_api.get("/api/v1/contact/cont_nope/").json())

    after = _snapshot(api, a_records)
    assert after == before
    assert after[0]["name"] == "Sarah Lee" and after[1]["phones"][0]["phone"] == "+14155550132"
    with factory() as session:
        assert session.get(Lead, lead_id).name == "Sarah Lee"
        assert session.get(Contact, contact_id).name == "Sarah Lee"
        phones = session.scalars(select(ContactPhone.phone).where(ContactPhone.contact_id == contact_id)).all()
        assert phones == ["+14155550132"]


def test_contact_on_anothers_lead_is_404(api: httpx.Client, other_api: httpx.Client, a_records: dict,
                                         factory) -> None:
    with factory() as session:
        contacts_before = session.scalar(select(func.count()).select_from(Contact))
        leads_before = session.scalar(select(func.count()).select_from(Lead))
    response = other_api.post("/api/v1/contact/", json={"lead_id": a_records["lead"]["id"], "name": "Intruder",
                                                       "phones": [{"phone": "+14155550199"}]})
    _assert_404(response)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == contacts_before
        assert session.scalar(select(func.count()).select_from(Lead)) == leads_before
    lead = api.get(f"/api/v1/lead/{a_records['lead']['id']}/").json()
    assert [c["name"] for c in lead["contacts"]] == ["Sarah Lee"]


def test_organization_id_in_the_body_is_ignored(api: httpx.Client, other_api: httpx.Client,
                                                workspace: NewWorkspace, other_workspace: NewWorkspace,
                                                factory) -> None:
    a_org = workspace.organization_id
    contact = other_api.post("/api/v1/contact/", json={"organization_id": a_org, "name": "Planted",
                                                      "phones": [{"phone": "+14155550111"}]})
    assert contact.status_code == 200, contact.text
    assert contact.json()["organization_id"] == other_workspace.organization_id

    lead = other_api.post("/api/v1/lead/", json={"organization_id": a_org, "name": "Planted Lead", "contacts": [
        {"organization_id": a_org, "name": "Nested", "phones": [{"phone": "+14155550112"}]},
    ]})
    assert lead.status_code == 200, lead.text
    assert lead.json()["organization_id"] == other_workspace.organization_id
    assert lead.json()["contacts"][0]["organization_id"] == other_workspace.organization_id

    with factory() as session:
        for model in (Lead, Contact, ContactPhone):
            orgs = set(session.scalars(select(model.organization_id)))
            assert orgs == {other_workspace.organization_id}, model.__tablename__
        created = session.get(Contact, contact.json()["id"])
        assert created.created_by == other_workspace.user_id

    # A still sees an empty workspace.
    assert api.get("/api/v1/contact/").json() == {"data": [], "has_more": False}
    assert api.get("/api/v1/lead/").json() == {"data": [], "has_more": False}

    # Nor can an update move a row into another workspace.
    moved = other_api.put(f"/api/v1/contact/{contact.json()['id']}/", json={"organization_id": a_org, "title": "X"})
    assert moved.status_code == 200
    assert moved.json()["organization_id"] == other_workspace.organization_id
    moved = other_api.put(f"/api/v1/lead/{lead.json()['id']}/", json={"organization_id": a_org})
    assert moved.status_code == 200
    with factory() as session:
        assert session.get(Contact, contact.json()["id"]).organization_id == other_workspace.organization_id
        assert session.get(Lead, lead.json()["id"]).organization_id == other_workspace.organization_id
    assert api.get("/api/v1/contact/").json()["data"] == []


def test_me_with_another_key_does_not_leak(other_api: httpx.Client, workspace: NewWorkspace) -> None:
    body = other_api.get("/api/v1/me/").json()
    assert workspace.organization_id not in str(body)
    assert workspace.user_id not in str(body)
