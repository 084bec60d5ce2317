"""/openapi.json documents the refusals the API really makes: a 403 (not allowed), a 409 (conflict) and a 422 (an
Idempotency-Key reused with other values) on the routes that answer them, each with the body they answer."""


import httpx
import pytest

from tests.api.team import Team
from tests.assistant.chatting import say

SMS = "/api/v1/activity/sms/"
SMS_ONE = "/api/v1/activity/sms/{activity_id}/"
CONFIRM = "/api/chat/drafts/{draft_id}/confirm"
# (method, path): the refusals beyond a 400 that the route's code can answer.
REFUSALS = {
    ("post", SMS): {"409", "422"},
    ("put", SMS_ONE): {"403"},
    ("delete", SMS_ONE): {"403", "409"},
    ("post", "/api/v1/call/dial/"): {"409", "422"},
    ("post", "/api/v1/thread/{thread_id}/assign/"): {"403"},
    ("post", "/api/v1/thread/{thread_id}/unassign/"): {"403"},
    ("post", "/api/v1/wallet/credit/"): {"403"},
    ("post", "/api/v1/phone_number/purchase/"): {"403"},
    ("post", "/api/v1/phone_number/request/internal/"): {"403"},
    ("put", "/api/v1/phone_number/{phone_id}/"): {"403"},
    ("delete", "/api/v1/phone_number/{phone_id}/"): {"403"},
    ("post", CONFIRM): {"403", "409"},
    ("patch", "/api/chat/drafts/{draft_id}"): {"403", "409"},
    ("post", "/api/chat/drafts/{draft_id}/cancel"): {"403", "409"},
    ("delete", "/api/v1/lead/{lead_id}/"): {"403"},
    ("delete", "/api/v1/contact/{contact_id}/"): {"403"},
}


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


@pytest.fixture
def openapi(team: Team) -> dict:
    response = httpx.get(f"{team.live.base_url}/openapi.json", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _declared(openapi: dict, method: str, path: str, status: int) -> dict:
    """The body schema the route declares for `status`, its $ref followed."""
    body = openapi["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
    return openapi["components"]["schemas"][body["$ref"].removeprefix("#/components/schemas/")]


def _answers_as_declared(openapi: dict, method: str, path: str, response: httpx.Response, status: int) -> None:
    """The response has `status`, and its body has exactly the declared fields, each a string as declared."""
    assert response.status_code == status, response.text
    body, schema = response.json(), _declared(openapi, method, path, status)
    assert set(body) == set(schema["properties"]) >= set(schema["required"])
    assert {name: schema["properties"][name]["type"] for name in body} == {name: "string" for name in body}
    assert all(isinstance(value, str) and value for value in body.values())


def test_every_route_that_refuses_declares_it(openapi: dict) -> None:
    for (method, path), codes in REFUSALS.items():
        responses = openapi["paths"][path][method]["responses"]
        assert codes <= set(responses), (method, path, sorted(responses))
        for code in codes:
            assert responses[code]["description"], (method, path, code)
            assert set(_declared(openapi, method, path, int(code))["required"]) >= {"error"}
    # Routes that only read declare no refusal; a request Cody can't parse stays a 400, never FastAPI's 422 body.
    assert not {"403", "409", "422"} & set(openapi["paths"]["/api/v1/activity/sms/"]["get"]["responses"])
    assert "400" in openapi["paths"][SMS]["post"]["responses"]
    assert "HTTPValidationError" not in openapi["components"]["schemas"]


def test_a_real_403_409_and_422_answer_the_declared_body(team: Team, openapi: dict) -> None:
    ana, bob = team.ana.api, team.bob.api
    draft = ana.post(SMS, json={"contact_id": team.sarah_id, "status": "draft", "text": "Ana's draft"}).json()
    _answers_as_declared(openapi, "delete", SMS_ONE, bob.delete(f"{SMS}{draft['id']}/"), 403)
    _answers_as_declared(openapi, "put", SMS_ONE, bob.put(f"{SMS}{draft['id']}/", json={"text": "Bob's"}), 403)

    proposed = say(ana, "text Sarah see you at the house")["drafts"][0]
    confirm = CONFIRM.format(draft_id=proposed["id"])
    assert ana.post(confirm).status_code == 200
    _answers_as_declared(openapi, "post", CONFIRM, ana.post(confirm), 409)
    _answers_as_declared(openapi, "post", CONFIRM, bob.post(confirm), 403)

    key = {"Idempotency-Key": "documented-422"}
    assert ana.post(SMS, json={"contact_id": team.sarah_id, "status": "draft", "text": "One"}, headers=key).is_success
    reused = ana.post(SMS, json={"contact_id": team.sarah_id, "status": "draft", "text": "Two"}, headers=key)
    _answers_as_declared(openapi, "post", SMS, reused, 422)
