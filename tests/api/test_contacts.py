"""Contacts and leads over HTTP: phones stored in E.164, all-or-nothing writes, PUT as a patch, path forms."""

import httpx
import pytest
from sqlalchemy import func, select

from db.models.crm import Contact, ContactEmail, ContactPhone, Lead
from tools.workspaces import NewWorkspace

SARAH = {
    "name": "Sarah Lee",
    "title": "Buyer",
    "phones": [{"phone": "(415) 555-0132", "type": "mobile", "country": "US"}],
    "emails": [{"email": "sarah.lee@example.com", "type": "office"}],
}


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


def _counts(factory) -> dict[str, int]:
    with factory() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Lead, Contact, ContactPhone, ContactEmail)}


def _stored_phones(factory, contact_id: str) -> list[tuple[str, str]]:
    with factory() as session:
        rows = session.scalars(select(ContactPhone).where(ContactPhone.contact_id == contact_id)
                               .order_by(ContactPhone.position))
        return [(r.phone, r.type) for r in rows]


def _create(api: httpx.Client, body: dict) -> dict:
    response = api.post("/api/v1/contact/", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_phone_is_returned_and_stored_in_e164(api: httpx.Client, factory, workspace: NewWorkspace) -> None:
    body = _create(api, SARAH)
    assert body["id"].startswith("cont_")
    assert body["organization_id"] == workspace.organization_id
    assert body["name"] == "Sarah Lee"
    assert body["phones"] == [{"phone": "+14155550132", "phone_formatted": "(415) 555-0132", "type": "mobile"}]
    assert body["emails"] == [{"email": "sarah.lee@example.com", "type": "office"}]

    assert _stored_phones(factory, body["id"]) == [("+14155550132", "mobile")]
    with factory() as session:
        contact = session.get(Contact, body["id"])
        assert contact.organization_id == workspace.organization_id
        assert contact.name == "Sarah Lee"
        lead = session.get(Lead, contact.lead_id)
        assert lead.organization_id == workspace.organization_id
        assert lead.name == "Sarah Lee"  # a contact without lead_id gets its own lead, named after it

    again = api.get(f"/api/v1/contact/{body['id']}/")
    assert again.status_code == 200
    assert again.json()["phones"][0]["phone"] == "+14155550132"
    assert again.json()["phones"][0]["phone_formatted"] == "(415) 555-0132"


def test_country_reads_a_national_number(api: httpx.Client, factory) -> None:
    body = _create(api, {"name": "Ben", "phones": [{"phone": "020 7946 0018", "type": "office", "country": "GB"}]})
    assert body["phones"][0]["phone"] == "+442079460018"
    assert body["phones"][0]["phone_formatted"] == "+44 20 7946 0018"
    assert _stored_phones(factory, body["id"]) == [("+442079460018", "office")]


@pytest.mark.parametrize("bad", ["12", "not a phone"])
def test_invalid_phone_is_400_and_stores_nothing(api: httpx.Client, factory, bad: str) -> None:
    _create(api, {"name": "Existing", "phones": [{"phone": "+14155550100"}]})
    before = _counts(factory)
    assert before["lead"] == 1 and before["contact"] == 1

    response = api.post("/api/v1/contact/", json={
        "name": "Bad Phone", "phones": [{"phone": bad, "type": "mobile", "country": "US"}],
    })
    assert response.status_code == 400, response.text
    errors = response.json()["field-errors"]
    assert set(errors) == {"phones.0.phone"}
    assert bad in errors["phones.0.phone"]
    assert _counts(factory) == before


def test_only_the_bad_phone_is_named(api: httpx.Client, factory) -> None:
    before = _counts(factory)
    response = api.post("/api/v1/contact/", json={"name": "Two Phones", "phones": [
        {"phone": "(415) 555-0132", "type": "mobile"}, {"phone": "12", "type": "office"},
    ]})
    assert response.status_code == 400
    assert set(response.json()["field-errors"]) == {"phones.1.phone"}
    assert _counts(factory) == before


def test_lead_with_nested_contacts_is_stored_whole(api: httpx.Client, factory, workspace: NewWorkspace) -> None:
    response = api.post("/api/v1/lead/", json={"name": "The Smiths", "contacts": [
        {"name": "Mary Smith", "phones": [{"phone": "(415) 555-0143", "type": "mobile"}]},
        {"name": "David Smith", "phones": [{"phone": "+1 415 555 0144", "type": "mobile"}]},
    ]})
    assert response.status_code == 200, response.text
    lead = response.json()
    assert lead["id"].startswith("lead_")
    assert [c["name"] for c in lead["contacts"]] == ["Mary Smith", "David Smith"]
    assert [c["phones"][0]["phone"] for c in lead["contacts"]] == ["+14155550143", "+14155550144"]
    with factory() as session:
        stored = session.scalars(select(Contact).where(Contact.lead_id == lead["id"])).all()
        assert sorted(c.name for c in stored) == ["David Smith", "Mary Smith"]
        assert {c.organization_id for c in stored} == {workspace.organization_id}


def test_lead_with_one_invalid_nested_contact_stores_nothing(api: httpx.Client, factory) -> None:
    _create(api, {"name": "Existing", "phones": [{"phone": "+14155550100"}]})
    before = _counts(factory)

    response = api.post("/api/v1/lead/", json={"name": "The Smiths", "contacts": [
        {"name": "Mary Smith", "phones": [{"phone": "(415) 555-0143", "type": "mobile"}]},
        {"name": "David Smith", "phones": [{"phone": "not a phone", "type": "mobile"}]},
    ]})
    assert response.status_code == 400, response.text
    assert set(response.json()["field-errors"]) == {"contacts.1.phones.0.phone"}
    assert _counts(factory) == before
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Lead).where(Lead.name == "The Smiths")) == 0
        assert session.scalar(select(func.count()).select_from(Contact).where(Contact.name == "Mary Smith")) == 0


def test_put_contact_is_a_patch(api: httpx.Client, factory) -> None:
    created = _create(api, SARAH)
    cid = created["id"]

    response = api.put(f"/api/v1/contact/{cid}/", json={"title": "Seller"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == "Seller"
    assert body["name"] == "Sarah Lee"
    assert body["phones"] == created["phones"]
    assert body["emails"] == created["emails"]
    with factory() as session:
        row = session.get(Contact, cid)
        assert (row.name, row.title) == ("Sarah Lee", "Seller")
    assert _stored_phones(factory, cid) == [("+14155550132", "mobile")]

    # Sending phones replaces the phones, and only them.
    response = api.put(f"/api/v1/contact/{cid}/", json={"phones": [{"phone": "212-555-0123", "type": "office"}]})
    assert response.status_code == 200, response.text
    assert response.json()["phones"] == [{"phone": "+12125550123", "phone_formatted": "(212) 555-0123",
                                          "type": "office"}]
    assert response.json()["title"] == "Seller"
    assert _stored_phones(factory, cid) == [("+12125550123", "office")]


def test_put_contact_with_invalid_phone_changes_nothing(api: httpx.Client, factory) -> None:
    cid = _create(api, SARAH)["id"]
    response = api.put(f"/api/v1/contact/{cid}/", json={"name": "Renamed", "phones": [{"phone": "12"}]})
    assert response.status_code == 400
    assert set(response.json()["field-errors"]) == {"phones.0.phone"}
    assert _stored_phones(factory, cid) == [("+14155550132", "mobile")]
    with factory() as session:
        assert session.get(Contact, cid).name == "Sarah Lee"


def test_put_lead_is_a_patch(api: httpx.Client, factory) -> None:
    lead = api.post("/api/v1/lead/", json={"name": "Acme Corp", "description": "HQ move",
                                           "url": "https://acme.example.com"}).json()
    response = api.put(f"/api/v1/lead/{lead['id']}/", json={"description": "Second office"})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Acme Corp"
    assert response.json()["url"] == "https://acme.example.com"
    assert response.json()["description"] == "Second office"



def test_null_clears_what_close_lets_be_null(api: httpx.Client, factory) -> None:
    """Close's Lead has name, description and url nullable, its Contact name and title: a null in a PUT clears the
    field (the text ones to ""), and leaves the others as they were."""
    lead = api.post("/api/v1/lead/", json={"name": "Acme Corp", "description": "HQ move",
                                           "url": "https://acme.example.com"}).json()
    response = api.put(f"/api/v1/lead/{lead['id']}/", json={"description": None, "url": None})
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["description"], response.json()["url"]) == ("Acme Corp", "", None)
    assert api.put(f"/api/v1/lead/{lead['id']}/", json={"name": None}).json()["name"] == ""
    with factory() as session:
        row = session.get(Lead, lead["id"])
        assert (row.name, row.description, row.url) == ("", "", None)

    contact = _create(api, SARAH)
    response = api.put(f"/api/v1/contact/{contact['id']}/", json={"title": None})
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["title"]) == ("Sarah Lee", "")
    assert api.put(f"/api/v1/contact/{contact['id']}/", json={"name": None}).json()["name"] == ""
    with factory() as session:
        row = session.get(Contact, contact["id"])
        assert (row.name, row.title, row.custom) == ("", "", {})
    assert _stored_phones(factory, contact["id"]) == [("+14155550132", "mobile")]


def test_do_not_call_is_true_or_false_never_null(api: httpx.Client, factory) -> None:
    """do_not_call is stored as true or false: a null in a PUT is a 400 naming it that changes nothing, not even the
    fields sent with it; a create with a null, alone or nested in a lead, is refused the same way and stores nothing."""
    contact = _create(api, SARAH | {"do_not_call": True})
    url = f"/api/v1/contact/{contact['id']}/"
    refused = api.put(url, json={"title": "Seller", "do_not_call": None})
    assert refused.status_code == 400, refused.text
    assert refused.json()["field-errors"] == {"do_not_call": "do_not_call must be true or false, not null."}
    assert api.get(url).json()["do_not_call"] is True
    with factory() as session:
        row = session.get(Contact, contact["id"])
        assert (row.do_not_call, row.title) == (True, "Buyer")

    assert api.put(url, json={"title": "Seller"}).json()["do_not_call"] is True  # left out: kept
    assert api.put(url, json={"do_not_call": False}).json()["do_not_call"] is False
    with factory() as session:
        assert session.get(Contact, contact["id"]).do_not_call is False

    before = _counts(factory)
    for path, body, field in (
        ("/api/v1/contact/", {"name": "Ann Baker", "do_not_call": None}, "do_not_call"),
        ("/api/v1/lead/", {"name": "Acme", "contacts": [{"name": "Ann Baker", "do_not_call": None}]},
         "contacts.0.do_not_call"),
    ):
        response = api.post(path, json=body)
        assert response.status_code == 400, response.text
        assert response.json()["field-errors"] == {field: "do_not_call must be true or false, not null."}
    assert _counts(factory) == before


def test_create_takes_null_where_close_allows_it(api: httpx.Client, factory) -> None:
    lead = api.post("/api/v1/lead/", json={"name": "Acme Corp", "description": None, "url": None, "contacts": [
        {"name": "Ann Baker", "title": None, "lead_id": None}]})
    assert lead.status_code == 200, lead.text
    assert (lead.json()["description"], lead.json()["url"]) == ("", None)
    assert lead.json()["contacts"][0]["title"] == ""

    contact = api.post("/api/v1/contact/", json={"name": None, "title": None, "lead_id": lead.json()["id"],
                                                 "phones": [{"phone": "+14155550132", "country": None}]})
    assert contact.status_code == 200, contact.text
    assert (contact.json()["name"], contact.json()["title"]) == ("", "")
    assert contact.json()["phones"][0]["phone"] == "+14155550132"
    for path in ("/api/v1/lead/", "/api/v1/contact/"):  # a contact without lead_id gets a lead named after it
        nameless = api.post(path, json={"name": None})
        assert nameless.status_code == 200, nameless.text
        assert nameless.json()["name"] == ""
    with factory() as session:
        assert session.get(Lead, lead.json()["id"]).description == ""
        assert session.get(Contact, contact.json()["id"]).title == ""


def test_fields_chooses_what_a_create_or_update_answers(api: httpx.Client) -> None:
    contact = api.post("/api/v1/contact/", params={"_fields": "id,name"}, json=SARAH)
    assert contact.status_code == 200, contact.text
    assert set(contact.json()) == {"id", "name"}
    updated = api.put(f"/api/v1/contact/{contact.json()['id']}/", params={"_fields": "id,title"}, json={"title": "Seller"})
    assert updated.json() == {"id": contact.json()["id"], "title": "Seller"}
    lead = api.post("/api/v1/lead/", params={"_fields": "id"}, json={"name": "Acme Corp"}).json()
    assert set(lead) == {"id"}
    assert api.put(f"/api/v1/lead/{lead['id']}/", params={"_fields": "name"}, json={"name": "Acme Inc"}).json() == {
        "name": "Acme Inc"}


def test_delete_contact(api: httpx.Client, factory) -> None:
    keep = _create(api, {"name": "Keep Me", "phones": [{"phone": "+14155550100"}]})
    gone = _create(api, SARAH)
    response = api.delete(f"/api/v1/contact/{gone['id']}/")
    assert response.status_code == 200
    assert response.json() == {}
    assert api.get(f"/api/v1/contact/{gone['id']}/").status_code == 404
    with factory() as session:
        assert session.get(Contact, gone["id"]) is None
        assert session.get(Contact, keep["id"]) is not None
    assert _stored_phones(factory, gone["id"]) == []
    listed = api.get("/api/v1/contact/").json()["data"]
    assert [c["id"] for c in listed] == [keep["id"]]
    # Deleting it again is a 404, not a silent success.
    again = api.delete(f"/api/v1/contact/{gone['id']}/")
    assert again.status_code == 404
    assert "error" in again.json()


def test_delete_lead_removes_its_contacts(api: httpx.Client, factory) -> None:
    contact = _create(api, SARAH)
    response = api.delete(f"/api/v1/lead/{contact['lead_id']}/")
    assert response.status_code == 200
    assert response.json() == {}
    assert api.get(f"/api/v1/lead/{contact['lead_id']}/").status_code == 404
    assert api.get(f"/api/v1/contact/{contact['id']}/").status_code == 404
    assert _counts(factory) == {"lead": 0, "contact": 0, "contact_phone": 0, "contact_email": 0}


def test_repeated_slashes_and_missing_trailing_slash_route(api: httpx.Client) -> None:
    created = api.post("/api/v1//contact//", json=SARAH)
    assert created.status_code == 200, created.text
    cid = created.json()["id"]

    origin = str(api.base_url).rstrip("/")
    # A full URL, because httpx would read a relative "//api..." as a host name.
    for path in ("/api/v1//contact//", "/api/v1/contact", "//api//v1//contact", "/api///v1/contact///"):
        response = api.get(origin + path)
        assert response.status_code == 200, (path, response.status_code, response.text)
        assert [c["id"] for c in response.json()["data"]] == [cid]

    for path in (f"/api/v1/contact/{cid}", f"/api/v1//contact//{cid}//"):
        response = api.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text)
        assert response.json()["id"] == cid

    response = api.put(f"/api/v1/contact/{cid}", json={"title": "Seller"})
    assert response.status_code == 200
    assert api.get(f"/api/v1/contact/{cid}/").json()["title"] == "Seller"

    assert api.get("/api/v1/me").status_code == 200
    assert api.delete(f"/api/v1//contact/{cid}").status_code == 200
    assert api.get(f"/api/v1/contact/{cid}/").status_code == 404


def test_malformed_json_is_400_with_a_general_error(api: httpx.Client, factory) -> None:
    before = _counts(factory)
    response = api.post("/api/v1/contact/", content=b'{"name": "x",', headers={"content-type": "application/json"})
    assert response.status_code == 400
    body = response.json()
    assert body["field-errors"] == {}
    assert body["errors"] and "JSON" in body["errors"][0]
    assert _counts(factory) == before


def test_unknown_contact_id_is_404_json(api: httpx.Client) -> None:
    response = api.get("/api/v1/contact/cont_doesnotexist/")
    assert response.status_code == 404
    assert set(response.json()) == {"error"}


# -- phones and emails ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["+1 415 555 0188 ext 12", "(415) 555-0188 x12", "+14155550188;ext=12"])
def test_a_phone_with_an_extension_is_a_400_naming_it(api: httpx.Client, factory, phone: str) -> None:
    """Cody keeps numbers without extensions (every text, call and inbound match compares the number alone), so an
    extension is refused rather than silently dropped; nothing is stored or changed."""
    before = _counts(factory)
    for path, body, field in (
        ("/api/v1/contact/", {"name": "Desk", "phones": [{"phone": "+14155550100"}, {"phone": phone}]},
         "phones.1.phone"),
        ("/api/v1/lead/", {"name": "Acme", "contacts": [{"name": "Desk", "phones": [{"phone": phone}]}]},
         "contacts.0.phones.0.phone"),
    ):
        response = api.post(path, json=body)
        assert response.status_code == 400, response.text
        errors = response.json()["field-errors"]
        assert set(errors) == {field}
        assert "extension (12)" in errors[field] and phone in errors[field]
    assert _counts(factory) == before

    cid = _create(api, SARAH)["id"]
    response = api.put(f"/api/v1/contact/{cid}/", json={"phones": [{"phone": phone, "type": "office"}]})
    assert response.status_code == 400
    assert set(response.json()["field-errors"]) == {"phones.0.phone"}
    assert _stored_phones(factory, cid) == [("+14155550132", "mobile")]


def test_the_same_phone_or_email_twice_is_kept_once(api: httpx.Client, factory) -> None:
    body = _create(api, {"name": "Sarah Lee", "phones": [
        {"phone": "+14155550188", "type": "mobile"}, {"phone": "(415) 555-0188", "type": "office"},
        {"phone": "+1 212 555 0123", "type": "home"}, {"phone": "415.555.0188", "type": "home"},
    ], "emails": [
        {"email": "Sarah.Lee@Example.com", "type": "office"}, {"email": "sarah.lee@example.com ", "type": "home"},
        {"email": "sarah@home.example", "type": "home"},
    ]})
    assert [(p["phone"], p["type"]) for p in body["phones"]] == [("+14155550188", "mobile"), ("+12125550123", "home")]
    assert [(e["email"], e["type"]) for e in body["emails"]] == [("Sarah.Lee@Example.com", "office"),
                                                                 ("sarah@home.example", "home")]
    assert _stored_phones(factory, body["id"]) == [("+14155550188", "mobile"), ("+12125550123", "home")]
    with factory() as session:
        stored = session.scalars(select(ContactEmail).where(ContactEmail.contact_id == body["id"])
                                 .order_by(ContactEmail.position)).all()
        assert [(e.email, e.position) for e in stored] == [("Sarah.Lee@Example.com", 0), ("sarah@home.example", 1)]

    response = api.put(f"/api/v1/contact/{body['id']}/", json={"phones": [
        {"phone": "(212) 555-0123", "type": "office"}, {"phone": "+12125550123", "type": "mobile"}]})
    assert response.status_code == 200, response.text
    assert [(p["phone"], p["type"]) for p in response.json()["phones"]] == [("+12125550123", "office")]
    assert _stored_phones(factory, body["id"]) == [("+12125550123", "office")]


# -- moving a contact to another lead ---------------------------------------------------------------------------------


def test_a_contact_moves_to_another_lead_and_its_history_stays(api: httpx.Client, factory) -> None:
    """PUT lead_id moves the contact, its thread and its texts not yet gone out; the texts it had stay on the old
    lead as that lead's history (as in Close), and the ones after the move are filed on the new lead."""
    sarah = _create(api, SARAH)
    old_lead = sarah["lead_id"]
    logged = api.post("/api/v1/activity/sms/", json={"status": "inbox", "contact_id": sarah["id"],
                                                     "text": "Is the house still for sale?"})
    assert logged.status_code == 200, logged.text
    draft = api.post("/api/v1/activity/sms/", json={"status": "draft", "contact_id": sarah["id"],
                                                    "text": "Sending the offer tonight"})
    assert draft.status_code == 200, draft.text
    acme = api.post("/api/v1/lead/", json={"name": "Acme Corp"}).json()

    moved = api.put(f"/api/v1/contact/{sarah['id']}/", json={"lead_id": acme["id"], "title": "Buyer's agent"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["lead_id"], moved.json()["title"]) == (acme["id"], "Buyer's agent")
    assert [c["id"] for c in api.get(f"/api/v1/lead/{acme['id']}/").json()["contacts"]] == [sarah["id"]]
    assert api.get(f"/api/v1/lead/{old_lead}/").json()["contacts"] == []
    assert [lead["id"] for lead in api.get("/api/v1/lead/", params={"query": "Sarah"}).json()["data"]] == [
        old_lead, acme["id"]]  # the old lead keeps its name; the new one has her as a contact
    thread = api.get("/api/v1/thread/", params={"contact_id": sarah["id"]}).json()["data"]
    assert [t["lead_id"] for t in thread] == [acme["id"]]
    assert api.get(f"/api/v1/activity/sms/{logged.json()['id']}/").json()["lead_id"] == old_lead
    # A text not yet gone out goes with her, so it can still be edited and sent.
    edited = api.put(f"/api/v1/activity/sms/{draft.json()['id']}/", json={"text": "Sending the offer at 8"})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["lead_id"], edited.json()["text"]) == (acme["id"], "Sending the offer at 8")

    later = api.post("/api/v1/activity/sms/", json={"status": "inbox", "contact_id": sarah["id"], "text": "Hello?"})
    assert later.status_code == 200, later.text
    assert later.json()["lead_id"] == acme["id"]
    with factory() as session:
        assert session.get(Contact, sarah["id"]).lead_id == acme["id"]


def test_a_contact_moves_only_to_a_lead_of_its_workspace(api: httpx.Client, other_api: httpx.Client, factory) -> None:
    sarah = _create(api, SARAH)
    theirs = other_api.post("/api/v1/lead/", json={"name": "Their lead"}).json()
    for lead_id, message in ((theirs["id"], "Lead not found."), ("lead_nope", "Lead not found."),
                             (None, "A contact belongs to a lead: give the id of the lead to move it to."),
                             ("", "A contact belongs to a lead: give the id of the lead to move it to.")):
        response = api.put(f"/api/v1/contact/{sarah['id']}/", json={"lead_id": lead_id, "name": "Renamed"})
        assert response.status_code == 400, response.text
        assert response.json()["field-errors"] == {"lead_id": message}
        with factory() as session:
            row = session.get(Contact, sarah["id"])
            assert (row.lead_id, row.name) == (sarah["lead_id"], "Sarah Lee")
    assert other_api.get(f"/api/v1/lead/{theirs['id']}/").json()["contacts"] == []
    # Its own lead again is no move.
    response = api.put(f"/api/v1/contact/{sarah['id']}/", json={"lead_id": sarah["lead_id"]})
    assert (response.status_code, response.json()["lead_id"]) == (200, sarah["lead_id"])


# -- what a PUT takes -----------------------------------------------------------------------------------------------


def test_a_read_lead_or_contact_sent_back_whole_is_accepted(api: httpx.Client, factory) -> None:
    """Close ignores fields it does not take (its schemas read only the fields they declare), so a client may send
    back the record it read, read-only fields and all, with one field changed; Cody does the same."""
    lead = api.post("/api/v1/lead/", json={"name": "Acme Corp", "url": "https://acme.example.com",
                                           "contacts": [SARAH]}).json()
    response = api.put(f"/api/v1/lead/{lead['id']}/", json=lead | {"description": "HQ move", "nmae": "typo"})
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["description"]) == ("Acme Corp", "HQ move")
    contact = lead["contacts"][0]
    response = api.put(f"/api/v1/contact/{contact['id']}/", json=contact | {"title": "Seller"})
    assert response.status_code == 200, response.text
    assert response.json() | {"date_updated": None} == contact | {"title": "Seller", "date_updated": None}
    with factory() as session:
        assert session.get(Lead, lead["id"]).name == "Acme Corp"


@pytest.mark.parametrize("url", ["not a url", "acme.example.com", "ftp://acme.example.com", "javascript:alert(1)",
                                 "http://", "https://acme example.com", "https://[::1", "https://acme.example.com/a\nb"])
def test_a_lead_url_is_a_web_address(api: httpx.Client, factory, url: str) -> None:
    before = _counts(factory)
    response = api.post("/api/v1/lead/", json={"name": "Acme Corp", "url": url})
    assert response.status_code == 400, response.text
    assert response.json()["field-errors"] == {
        "url": "url must be a web address beginning with http:// or https://, such as https://acme.example.com."}
    assert _counts(factory) == before

    lead = api.post("/api/v1/lead/", json={"name": "Acme Corp", "url": "https://acme.example.com/about?x=1"}).json()
    assert lead["url"] == "https://acme.example.com/about?x=1"
    response = api.put(f"/api/v1/lead/{lead['id']}/", json={"url": url, "name": "Renamed"})
    assert response.status_code == 400, response.text
    assert set(response.json()["field-errors"]) == {"url"}
    with factory() as session:
        row = session.get(Lead, lead["id"])
        assert (row.url, row.name) == ("https://acme.example.com/about?x=1", "Acme Corp")
    for blank in ("", "  "):
        assert api.put(f"/api/v1/lead/{lead['id']}/", json={"url": blank}).json()["url"] is None
    assert api.put(f"/api/v1/lead/{lead['id']}/", json={"url": " HTTP://Acme.example.com "}).json()["url"] == \
        "HTTP://Acme.example.com"
