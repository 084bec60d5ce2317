"""Authentication over real HTTP: Close's Basic auth (key as user, empty password), Bearer, and the failures."""

import base64

import httpx
import pytest
from sqlalchemy import select

from db.models.workspace import ApiKey
from tools.workspaces import NewWorkspace


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


def _assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert isinstance(body["error"], str) and body["error"]


def test_healthz(anon: httpx.Client) -> None:
    response = anon.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_basic_auth_shows_the_workspace(api: httpx.Client, workspace: NewWorkspace) -> None:
    response = api.get("/api/v1/me/")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == workspace.user_id
    assert body["email"] == "ana@acme.test"
    assert body["organizations"][0]["id"] == workspace.organization_id
    assert body["organizations"][0]["name"] == "Acme Realty"
    assert len(body["organizations"]) == 1


def test_basic_auth_header_as_close_client_sends_it(anon: httpx.Client, workspace: NewWorkspace) -> None:
    token = base64.b64encode(f"{workspace.api_key}:".encode()).decode()
    response = anon.get("/api/v1/me/", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["organizations"][0]["id"] == workspace.organization_id


def test_bearer_auth(anon: httpx.Client, workspace: NewWorkspace) -> None:
    response = anon.get("/api/v1/me/", headers={"Authorization": f"Bearer {workspace.api_key}"})
    assert response.status_code == 200, response.text
    assert response.json()["organizations"][0]["id"] == workspace.organization_id


def test_missing_header_is_401_json(anon: httpx.Client, workspace: NewWorkspace) -> None:
    response = anon.get("/api/v1/me/")
    _assert_401(response)
    assert response.headers.get("www-authenticate", "").lower().startswith("basic")
    _assert_401(anon.get("/api/v1/contact/"))
    _assert_401(anon.post("/api/v1/contact/", json={"name": "Nobody"}))


def test_wrong_key_is_401(anon: httpx.Client, workspace: NewWorkspace) -> None:
    _assert_401(anon.get("/api/v1/me/", auth=("cody_not_a_real_key_at_all_0000000000", "")))
    _assert_401(anon.get("/api/v1/me/", headers={"Authorization": "Bearer cody_wrong"}))
    # A key that differs from the real one in its last character is still refused.
    near = workspace.api_key[:-1] + ("A" if workspace.api_key[-1] != "A" else "B")
    _assert_401(anon.get("/api/v1/me/", auth=(near, "")))


@pytest.mark.parametrize("header", [
    "Basic",
    "Basic !!!not-base64!!!",
    "Basic " + base64.b64encode(b":password-only").decode(),
    "Basic " + base64.b64encode(b"\xff\xfe\xfa").decode(),
    "Bearer",
    "Token abc",
    "garbage",
])
def test_malformed_header_is_401(anon: httpx.Client, workspace: NewWorkspace, header: str) -> None:
    _assert_401(anon.get("/api/v1/me/", headers={"Authorization": header}))


def test_basic_auth_with_key_base64_but_no_colon(anon: httpx.Client, workspace: NewWorkspace) -> None:
    # Some clients omit the ":" when the password is empty; the user part is still the key.
    token = base64.b64encode(workspace.api_key.encode()).decode()
    response = anon.get("/api/v1/me/", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["organizations"][0]["id"] == workspace.organization_id


def test_each_key_sees_its_own_workspace(api: httpx.Client, other_api: httpx.Client,
                                         workspace: NewWorkspace, other_workspace: NewWorkspace) -> None:
    assert workspace.organization_id != other_workspace.organization_id
    mine = api.get("/api/v1/me/")
    theirs = other_api.get("/api/v1/me/")
    assert mine.status_code == theirs.status_code == 200
    assert mine.json()["organizations"][0]["id"] == workspace.organization_id
    assert theirs.json()["organizations"][0]["id"] == other_workspace.organization_id
    assert theirs.json()["organizations"][0]["name"] == "Other Homes"
    assert theirs.json()["email"] == "otto@other.test"


def test_api_key_is_stored_hashed(factory, workspace: NewWorkspace, other_workspace: NewWorkspace) -> None:
    with factory() as session:
        rows = list(session.scalars(select(ApiKey)))
    assert {r.organization_id for r in rows} == {workspace.organization_id, other_workspace.organization_id}
    plain_keys = [workspace.api_key, other_workspace.api_key]
    for row in rows:
        for column in ApiKey.__table__.columns:
            value = getattr(row, column.key)
            if isinstance(value, str):
                for plain in plain_keys:
                    assert plain not in value, f"plain key found in api_key.{column.key}"
                    # Nor is the secret part (after the visible prefix) stored in any form we can spot.
                    assert plain[9:] not in value
        assert row.key_hash and row.revoked is False


def test_revoked_key_is_401(factory, anon: httpx.Client, workspace: NewWorkspace) -> None:
    assert anon.get("/api/v1/me/", auth=(workspace.api_key, "")).status_code == 200
    with factory.begin() as session:
        for row in session.scalars(select(ApiKey).where(ApiKey.organization_id == workspace.organization_id)):
            row.revoked = True
    _assert_401(anon.get("/api/v1/me/", auth=(workspace.api_key, "")))
