"""SMS templates over real HTTP: CRUD in Close's shapes, personal visibility, checks at save, and rendering
through the messaging service."""

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from db.models import Activity, PhoneNumber, SmsTemplate
from db.session import transaction
from tests.live import http_client
from tools.workspaces import NewWorkspace, add_member, create_api_key, create_user

TEMPLATES = "/api/v1/sms_template/"
TEMPLATE_FIELDS = {"id", "organization_id", "name", "text", "is_shared", "status", "attachments", "user_id",
                   "created_by", "updated_by", "date_created", "date_updated"}
SHOWING = "Hi {{ contact.first_name }}, your showing is at {{ time }}."


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


@pytest.fixture
def teammate(factory, workspace: NewWorkspace) -> NewWorkspace:
    """A second member of the same workspace, with a key of their own."""
    with transaction(factory) as session:
        user = create_user(session, "bo@acme.test", "Bo", "Kim")
        session.flush()
        add_member(session, workspace.organization_id, user)
        key = create_api_key(session, workspace.organization_id, user.id)
        return NewWorkspace(workspace.organization_id, user.id, key)


@pytest.fixture
def teammate_api(live_server: str, teammate: NewWorkspace) -> Iterator[httpx.Client]:
    with http_client(base_url=live_server, auth=(teammate.api_key, ""), timeout=30) as client:
        yield client


@pytest.fixture
def sarah(api: httpx.Client, factory, workspace: NewWorkspace) -> dict:
    """A contact to render for, and a business line so that sending is possible at all."""
    with transaction(factory) as session:
        session.add(PhoneNumber(organization_id=workspace.organization_id, number="+14155550100", country="US",
                                sms=True, user_id=workspace.user_id, monthly_cost=Decimal(1)))
    response = api.post("/api/v1/contact/", json={"name": "Sarah Lee", "phones": [{"phone": "+14155550132",
                                                                                   "type": "mobile"}]})
    assert response.status_code == 200, response.text
    return response.json()


def _create(client: httpx.Client, **body) -> dict:
    response = client.post(TEMPLATES, json={"name": "Showing", "text": SHOWING} | body)
    assert response.status_code == 201, response.text
    return response.json()


def _field_errors(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 400, response.text
    return response.json()["field-errors"]


def _template_count(factory) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(SmsTemplate))


def test_crud(api: httpx.Client, workspace: NewWorkspace, factory) -> None:
    created = _create(api)
    assert set(created) == TEMPLATE_FIELDS
    assert created["id"].startswith("smstmpl_")
    assert created["organization_id"] == workspace.organization_id
    assert created["is_shared"] is True and created["status"] == "active"
    assert created["user_id"] == created["created_by"] == workspace.user_id

    assert api.get(f"{TEMPLATES}{created['id']}/").json() == created
    listed = api.get(TEMPLATES).json()
    assert listed == {"data": [created], "has_more": False}

    updated = api.put(f"{TEMPLATES}{created['id']}/", json={"name": "Showing (7pm)", "status": "archived"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "Showing (7pm)"
    assert updated.json()["status"] == "archived"
    assert updated.json()["text"] == SHOWING
    assert api.get(TEMPLATES, params={"status": "active"}).json()["data"] == []
    assert [t["id"] for t in api.get(TEMPLATES, params={"status": "archived"}).json()["data"]] == [created["id"]]

    deleted = api.delete(f"{TEMPLATES}{created['id']}/")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert api.get(f"{TEMPLATES}{created['id']}/").status_code == 404
    assert api.delete(f"{TEMPLATES}{created['id']}/").status_code == 404
    assert _template_count(factory) == 0


def test_paging(api: httpx.Client) -> None:
    made = [_create(api, name=f"T{i}")["id"] for i in range(5)]
    seen, skip = [], 0
    while True:
        page = api.get(TEMPLATES, params={"_skip": skip, "_limit": 2}).json()
        seen += [t["id"] for t in page["data"]]
        skip += len(page["data"])
        if not page["has_more"]:
            break
    assert seen == made


def test_personal_templates_are_visible_only_to_their_owner(api, teammate_api, workspace, teammate) -> None:
    personal = _create(api, name="Mine", is_shared=False)
    shared = _create(api, name="Ours")
    theirs = _create(teammate_api, name="Bo's", is_shared=False)

    assert {t["id"] for t in api.get(TEMPLATES).json()["data"]} == {personal["id"], shared["id"]}
    assert {t["id"] for t in teammate_api.get(TEMPLATES).json()["data"]} == {shared["id"], theirs["id"]}
    url = f"{TEMPLATES}{personal['id']}/"
    for response in (teammate_api.get(url), teammate_api.put(url, json={"name": "x"}), teammate_api.delete(url)):
        assert response.status_code == 404, response.text
    assert teammate_api.post(f"{url}render/", json={}).status_code == 404
    assert api.get(url).json()["name"] == "Mine"

    # The teammate cannot send with the owner's personal template either.
    sent = teammate_api.post("/api/v1/activity/sms/", json={"status": "draft", "remote_phone": "+14155550132",
                                                             "template_id": personal["id"]})
    assert "template_id" in _field_errors(sent)

    # A shared template is everyone's to send from, not any colleague's to rewrite, hide or delete.
    for refused in (teammate_api.put(f"{TEMPLATES}{shared['id']}/", json={"name": "Ours v2"}),
                    teammate_api.put(f"{TEMPLATES}{shared['id']}/", json={"is_shared": False}),
                    teammate_api.delete(f"{TEMPLATES}{shared['id']}/")):
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == ("Only the template's owner or an admin can "
                                           f"{'delete' if refused.request.method == 'DELETE' else 'change'} it "
                                           "(templates_manage); make a template of your own instead.")
    assert api.get(f"{TEMPLATES}{shared['id']}/").json()["name"] == "Ours"
    # The teammate's own shared template is theirs to change, and the admin's to change too.
    own = _create(teammate_api, name="Bo's shared")
    assert teammate_api.put(f"{TEMPLATES}{own['id']}/", json={"name": "Bo's v2"}).status_code == 200
    assert api.put(f"{TEMPLATES}{own['id']}/", json={"name": "Bo's v3"}).json()["name"] == "Bo's v3"

    # Making a shared template personal hides it from everyone else.
    assert api.put(f"{TEMPLATES}{shared['id']}/", json={"is_shared": False}).json()["is_shared"] is False
    assert teammate_api.get(f"{TEMPLATES}{shared['id']}/").status_code == 404


def test_other_workspace_cannot_see_or_change_templates(api, other_api) -> None:
    created = _create(api)
    url = f"{TEMPLATES}{created['id']}/"
    for response in (other_api.get(url), other_api.put(url, json={"text": "x"}), other_api.delete(url),
                     other_api.post(f"{url}render/", json={"variables": {"time": "7"}})):
        assert response.status_code == 404, response.text
    assert other_api.get(TEMPLATES).json()["data"] == []
    assert api.get(url).json() == created


@pytest.mark.parametrize("text, code", [
    ("Hi {{ contact.first_name }", "template_syntax"),
    ("Hi {{ contact.first_name", "template_syntax"),
    ("{% for x in range(10) %}{{ x }}{% endfor %}", "template_unsafe"),
    ("{{ contact.__class__ }}", "template_unsafe"),
    ("{{ ''.__class__.__mro__ }}", "template_unsafe"),
    ("{{ contact.shoe_size }}", "unknown_tag"),
    ("   ", "empty"),
    # Nested past what the parser or Python's compiler allow: a 400, not a 500, nor a template that never renders.
    ("Hi {{ " + "(" * 100 + "contact.first_name" + ")" * 100 + " }}", "template_syntax"),
    ("{% if contact.first_name %}" * 100 + "Hi" + "{% endif %}" * 100, "template_syntax"),
])
def test_bad_template_text_is_refused_at_create(api, factory, text: str, code: str) -> None:
    response = api.post(TEMPLATES, json={"name": "Bad", "text": text})
    assert set(_field_errors(response)) == {"text"}
    assert code in [p["code"] for p in response.json()["problems"]]
    assert _template_count(factory) == 0


def test_bad_template_text_is_refused_at_update(api) -> None:
    created = _create(api)
    response = api.put(f"{TEMPLATES}{created['id']}/", json={"text": "{{ lipsum() }}"})
    assert set(_field_errors(response)) == {"text"}
    assert api.get(f"{TEMPLATES}{created['id']}/").json()["text"] == SHOWING


def test_name_and_status_are_checked(api) -> None:
    assert "name" in _field_errors(api.post(TEMPLATES, json={"text": "Hi"}))
    assert "name" in _field_errors(api.post(TEMPLATES, json={"name": "  ", "text": "Hi"}))
    created = _create(api)
    assert _field_errors(api.put(f"{TEMPLATES}{created['id']}/", json={"status": "deleted"})) == {
        "status": "Not a valid choice."}
    assert "status" in _field_errors(api.get(TEMPLATES, params={"status": "gone"}))


def test_render_goes_through_messaging(api, sarah) -> None:
    created = _create(api)
    url = f"{TEMPLATES}{created['id']}/render/"

    missing = api.post(url, json={"contact_id": sarah["id"]})
    assert missing.status_code == 200, missing.text
    body = missing.json()
    assert set(body) == {"text", "encoding", "segments", "problems"}
    assert {"code": "missing_variable", "field": "variables.time",
            "message": "The template needs a value for time."} in body["problems"]

    rendered = api.post(url, json={"contact_id": sarah["id"], "variables": {"time": "7pm"}}).json()
    assert rendered == {"text": "Hi Sarah, your showing is at 7pm.", "encoding": "GSM-7", "segments": 1,
                        "problems": []}

    unicode = api.post(url, json={"contact_id": sarah["id"], "variables": {"time": "7pm 🏡"}}).json()
    assert unicode["encoding"] == "UCS-2" and unicode["problems"] == []


def test_archived_template_cannot_be_used_to_send(api, sarah, factory) -> None:
    created = _create(api)
    body = {"status": "outbox", "contact_id": sarah["id"], "template_id": created["id"], "variables": {"time": "7pm"}}
    ok = api.post("/api/v1/activity/sms/", json=body | {"status": "draft"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["text"] == "Hi Sarah, your showing is at 7pm."

    assert api.put(f"{TEMPLATES}{created['id']}/", json={"status": "archived"}).status_code == 200
    refused = api.post("/api/v1/activity/sms/", json=body)
    assert set(_field_errors(refused)) == {"template_id"}
    assert [p["code"] for p in refused.json()["problems"]] == ["not_found"]
    render = api.post(f"{TEMPLATES}{created['id']}/render/", json={"contact_id": sarah["id"],
                                                                   "variables": {"time": "7pm"}}).json()
    assert [p["field"] for p in render["problems"]] == ["template_id"]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 1  # only the draft from before
