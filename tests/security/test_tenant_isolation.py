"""Tenant isolation on every route: another workspace's ids are 404 and change nothing; organization_id in a
body or query is ignored; a webhook for one workspace's number never touches another's rows.

The walker reads the app's OpenAPI document, so a new route with an id in its path is tested the day it is added;
it fails until the route's kind of id is in ID_KINDS (and, for a body it can't make, BODIES).
"""

import re

import httpx
import pytest
from sqlalchemy import select

from db.models import Thread
from tests.security.conftest import (
    B_NUMBER,
    BOB,
    SARAH,
    SMS_WEBHOOK,
    World,
    app_routes,
    changed_tables,
    inbound_form,
    snapshot,
)
from tools.demo import DEMO_NUMBER

# The path before the first "{...}" -> the kind of id it takes (a key of World.b_ids).
ID_KINDS = {
    "/api/v1/lead/": "lead",
    "/api/v1/contact/": "contact",
    "/api/v1/activity/sms/": "sms",
    "/api/v1/activity/call/": "call",
    "/api/v1/sms_template/": "sms_template",
    "/api/v1/phone_number/": "phone_number",
    "/api/v1/thread/": "thread",
    "/api/v1/inbox/": "inbox_item",
    "/api/chat/drafts/": "draft",
    "/api/chat/conversations/": "conversation",
}

# Hidden routes whose path parameter is not a row's id.
NOT_IDS = {"/static/{name}"}

# Bodies that would change B's row if the route forgot whose it is (keyed by method and templated path).
BODIES = {
    ("PUT", "/api/v1/lead/{lead_id}/"): {"name": "Hijacked", "description": "A was here", "url": None},
    ("PUT", "/api/v1/contact/{contact_id}/"): {"name": "Hijacked", "phones": [{"phone": "+14155550199"}]},
    ("PUT", "/api/v1/activity/sms/{activity_id}/"): {"text": "Hijacked", "status": "outbox"},
    ("PUT", "/api/v1/sms_template/{template_id}/"): {"name": "Hijacked", "text": "Hijacked", "status": "archived"},
    ("POST", "/api/v1/sms_template/{template_id}/render/"): {"variables": {}},
    ("PUT", "/api/v1/phone_number/{phone_id}/"): {"label": "Hijacked", "forward_to": "+14155550199"},
    ("POST", "/api/v1/thread/{thread_id}/assign/"): {"user_id": "{a_user}"},
    ("PATCH", "/api/chat/drafts/{draft_id}"): {"args": {"text": "Hijacked"}},
}


def id_bearing_operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [(method.upper(), path, op) for path, ops in schema["paths"].items() if "{" in path
            for method, op in ops.items()]


def kind_of(path: str) -> str | None:
    return ID_KINDS.get(path.split("{", 1)[0])


def fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def body_for(method: str, path: str, op: dict, world: World) -> dict | None:
    if "requestBody" not in op:
        return None
    body = BODIES.get((method, path))
    assert body is not None, f"{method} {path} takes a body: add one to BODIES that would change B's row"
    return _with_placeholders(body, {"{a_user}": world.a.user_id})


def _with_placeholders(value, names: dict[str, str]):
    if isinstance(value, dict):
        return {k: _with_placeholders(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_placeholders(v, names) for v in value]
    return names.get(value, value) if isinstance(value, str) else value


def assert_not_found(response: httpx.Response, what: str) -> None:
    assert response.status_code == 404, (what, response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"} and body["error"], (what, body)


def test_every_route_with_an_id_maps_to_a_kind(world: World) -> None:
    """A new route with an id in its path must be added to ID_KINDS (and so to the walker below)."""
    schema = world.cody.app.openapi()
    unmapped = sorted({path for _, path, _ in id_bearing_operations(schema) if kind_of(path) is None})
    assert unmapped == [], f"add these to ID_KINDS and give World.b_ids an id of their kind: {unmapped}"
    # Routes left out of the schema are walked by nobody: none of them may take an id in its path.
    hidden = sorted(r.path for r in app_routes(world.cody.app)
                    if not r.in_schema and "{" in r.path and r.path not in NOT_IDS)
    assert hidden == [], f"id-bearing routes missing from /openapi.json: {hidden}"


def test_another_workspaces_ids_are_404_on_every_route_and_change_nothing(world: World) -> None:
    schema = world.cody.app.openapi()
    operations = id_bearing_operations(schema)
    assert len(operations) >= 20, "the walker found too few routes; is the schema being read?"
    failures = []
    with world.a_client() as a, world.b_client() as b:
        for method, path, op in operations:
            kind = kind_of(path)
            url = fill(path, world.b_ids[kind])
            if method == "GET":  # the id is real: B itself reads it
                own = b.get(url)
                assert own.status_code == 200, (url, own.text)
            before = snapshot(world.factory)
            response = a.request(method, url, json=body_for(method, path, op, world))
            after = snapshot(world.factory)
            what = f"{method} {path} with B's {kind}"
            if response.status_code != 404 or set(response.json()) != {"error"}:
                failures.append(f"{what}: {response.status_code} {response.text[:200]}")
            if changed_tables(before, after):
                failures.append(f"{what} changed {changed_tables(before, after)}")
            # The answer is the same as for an id that does not exist, so A can't probe for B's ids.
            missing = a.request(method, fill(path, "nope_000"), json=body_for(method, path, op, world))
            if (missing.status_code, missing.json()) != (response.status_code, response.json()):
                failures.append(f"{what}: {response.text[:120]} differs from an unknown id's {missing.text[:120]}")
    assert not failures, "\n".join(failures)


def test_b_still_sees_its_rows_as_they_were(world: World) -> None:
    """A positive control for the walker: the ids it used are B's and B's rows are intact afterwards."""
    with world.a_client() as a:
        for method, path, op in id_bearing_operations(world.cody.app.openapi()):
            a.request(method, fill(path, world.b_ids[kind_of(path)]), json=body_for(method, path, op, world))
    with world.b_client() as b:
        assert b.get(f"/api/v1/lead/{world.b_ids['lead']}/").json()["name"] == "Bob Stone"
        assert b.get(f"/api/v1/contact/{world.b_ids['contact']}/").json()["phones"][0]["phone"] == BOB
        sms = b.get(f"/api/v1/activity/sms/{world.b_ids['sms']}/").json()
        assert (sms["status"], sms["text"]) == ("draft", "Draft for Bob")
        template = b.get(f"/api/v1/sms_template/{world.b_ids['sms_template']}/").json()
        assert (template["name"], template["status"]) == ("Harbor reminder", "active")
        number = b.get(f"/api/v1/phone_number/{world.b_ids['phone_number']}/").json()
        assert (number["label"], number["status"], number["forward_to"]) == ("Harbor line", "active", None)
        assert b.get(f"/api/v1/thread/{world.b_ids['thread']}/").json()["assignee_id"] is None
        items = b.get("/api/v1/inbox/", params={"done": "false"}).json()["data"]
        assert world.b_ids["inbox_item"] in [i["id"] for i in items]
        draft = b.get(f"/api/chat/drafts/{world.b_ids['draft']}").json()
        assert draft["state"] == "pending" and draft["args"]["text"] == "see you at 5"
        assert b.get(f"/api/chat/conversations/{world.b_ids['conversation']}").status_code == 200


# -- organization_id in a query or a body ---------------------------------------------------------------------


def list_operations(schema: dict) -> list[str]:
    return [path for path, ops in schema["paths"].items() if "{" not in path and "get" in ops
            and path.startswith("/api/")]


def test_organization_id_in_a_list_query_is_ignored(world: World) -> None:
    b_org = world.b.organization_id
    leaks = []
    with world.a_client() as a:
        for path in list_operations(world.cody.app.openapi()):
            for params in ({"organization_id": b_org}, {"organization_id": b_org, "org": b_org, "orga": b_org}):
                response = a.get(path, params=params)
                assert response.status_code < 500, (path, response.text)
                text = response.text
                found = [kind for kind, value in world.b_ids.items() if value in text]
                if b_org in text or found:
                    leaks.append(f"{path}: {found or 'organization id'}")
    assert not leaks, "\n".join(leaks)


# Creates that take a body, with a valid body; organization_id (B's) is slipped into each.
CREATES = [
    ("POST", "/api/v1/lead/", {"name": "Planted lead", "contacts": [{"name": "Planted", "phones": [
        {"phone": "+14155550181"}]}]}),
    ("POST", "/api/v1/contact/", {"name": "Planted contact", "phones": [{"phone": "+14155550182"}]}),
    ("POST", "/api/v1/activity/sms/", {"status": "draft", "remote_phone": "+14155550183", "text": "Planted draft"}),
    ("POST", "/api/v1/activity/sms/", {"status": "inbox", "remote_phone": BOB, "text": "Planted log"}),
    ("POST", "/api/v1/sms_template/", {"name": "Planted template", "text": "Hi"}),
    ("POST", "/api/v1/wallet/credit/", {"amount": "5.00", "reason": "planted"}),
    ("PUT", "/api/v1/me/", {"forwarding_phone": "+14155550184"}),
    ("POST", "/api/chat/messages", {"text": "text Bob Stone: planted"}),
    ("POST", "/api/v1/call/prepare/", {"remote_phone": BOB}),
]


def test_organization_id_in_a_body_is_ignored(world: World) -> None:
    b_org = world.b.organization_id
    before = snapshot(world.factory, b_org)
    with world.a_client() as a:
        for method, path, body in CREATES:
            for planted in ({"organization_id": b_org}, {"organization_id": b_org, "user_id": world.b.user_id}):
                response = a.request(method, path, json=body | planted, params={"organization_id": b_org})
                assert response.status_code in (200, 201), (path, response.text)
                created = response.json()
                assert created.get("organization_id", world.a.organization_id) == world.a.organization_id, path
                assert b_org not in response.text, path
    assert changed_tables(before, snapshot(world.factory, b_org)) == []
    with world.b_client() as b:  # nothing A planted shows up for B
        names = [x["name"] for x in b.get("/api/v1/lead/").json()["data"]]
        assert all("Planted" not in n for n in names), names


# -- webhooks ----------------------------------------------------------------------------------------------------


def test_a_text_to_as_number_from_bs_contact_lands_in_a_only(world: World) -> None:
    b_before = snapshot(world.factory, world.b.organization_id)
    response = world.cody.post_twilio(SMS_WEBHOOK, inbound_form("Wrong number?", "SM" + "e" * 32, BOB, DEMO_NUMBER))
    assert response.status_code == 200
    assert changed_tables(b_before, snapshot(world.factory, world.b.organization_id)) == []
    with world.a_client() as a:
        texts = a.get("/api/v1/activity/sms/").json()["data"]
        landed = [t for t in texts if t["text"] == "Wrong number?"]
        assert len(landed) == 1 and landed[0]["organization_id"] == world.a.organization_id
        contact = a.get(f"/api/v1/contact/{landed[0]['contact_id']}/").json()
        assert contact["organization_id"] == world.a.organization_id and contact["id"] != world.b_ids["contact"]


def test_a_text_to_bs_number_lands_in_b_only(world: World) -> None:
    a_before = snapshot(world.factory, world.a.organization_id)
    response = world.cody.post_twilio(SMS_WEBHOOK, inbound_form("For Hana", "SM" + "f" * 32, SARAH, B_NUMBER))
    assert response.status_code == 200
    assert changed_tables(a_before, snapshot(world.factory, world.a.organization_id)) == []


def test_a_call_to_as_number_from_bs_contact_touches_no_row_of_b(world: World) -> None:
    b_before = snapshot(world.factory, world.b.organization_id)
    world.cody.sandbox.simulate_inbound_call(BOB, DEMO_NUMBER, hangs_up_while_ringing=True)
    world.cody.sandbox.drain()
    assert changed_tables(b_before, snapshot(world.factory, world.b.organization_id)) == []
    with world.a_client() as a:
        calls = a.get("/api/v1/activity/call/").json()["data"]
        assert [c["remote_phone"] for c in calls] == [BOB]


@pytest.mark.parametrize("kind", ["sms", "call"])
def test_a_status_callback_naming_bs_activity_with_a_sid_of_as_changes_nothing_of_b(world: World, kind) -> None:
    """The activity_id in a callback URL links a row only when it is still waiting for its carrier id."""
    path = {"sms": "/api/webhooks/twilio/sms/status", "call": "/api/webhooks/twilio/voice/status"}[kind]
    form = ([("MessageSid", "SM" + "9" * 32), ("MessageStatus", "delivered")] if kind == "sms"
            else [("CallSid", "CA" + "9" * 32), ("CallStatus", "completed"), ("CallDuration", "5")])
    b_before = snapshot(world.factory, world.b.organization_id)
    response = world.cody.post_twilio(f"{path}?activity_id={world.b_ids[kind]}", form)
    assert response.status_code == 200
    assert changed_tables(b_before, snapshot(world.factory, world.b.organization_id)) == []


# -- another workspace's ids inside a body ---------------------------------------------------------------------


def test_anothers_ids_inside_a_body_are_not_found_and_show_nothing_of_b(world: World) -> None:
    """Ids in bodies (contact_id, lead_id, template_id, user_id, conversation_id, B's business number) are looked up
    in the caller's workspace only: a refusal that names nothing of B, and no row of B touched."""
    b = world.b_ids
    b_markers = {"Bob Stone", BOB, "Harbor", "Hana", B_NUMBER, world.b.organization_id}
    with world.factory() as session:
        a_thread = session.scalar(select(Thread.id).where(Thread.organization_id == world.a.organization_id))
    b_before = snapshot(world.factory, world.b.organization_id)
    failures = []
    with world.a_client() as a:
        chat = a.post("/api/chat/messages", json={"text": "text Sarah Lee: are you free at 7?"}).json()
        a_draft = chat["drafts"][0]["id"]
        requests = [
            ("POST", "/api/v1/activity/sms/", {"status": "outbox", "contact_id": b["contact"], "text": "Hi"}),
            ("POST", "/api/v1/activity/sms/", {"status": "draft", "contact_id": b["contact"], "text": "Hi"}),
            ("POST", "/api/v1/activity/sms/", {"status": "inbox", "contact_id": b["contact"], "text": "Hi"}),
            ("POST", "/api/v1/activity/sms/", {"status": "sent", "lead_id": b["lead"], "remote_phone": SARAH,
                                               "text": "Hi"}),
            ("POST", "/api/v1/activity/sms/", {"status": "outbox", "remote_phone": SARAH,
                                               "template_id": b["sms_template"]}),
            ("POST", "/api/v1/activity/sms/", {"status": "outbox", "remote_phone": SARAH, "local_phone": B_NUMBER,
                                               "text": "From B's line"}),
            ("POST", f"/api/v1/sms_template/{world.a_ids['sms_template']}/render/",
             {"contact_id": b["contact"], "variables": {"time": "7", "minutes": "5"}}),
            ("POST", "/api/v1/call/prepare/", {"contact_id": b["contact"]}),
            ("POST", "/api/v1/call/dial/", {"contact_id": b["contact"]}),
            ("POST", "/api/v1/call/dial/", {"remote_phone": SARAH, "local_phone": B_NUMBER}),
            ("POST", "/api/v1/contact/", {"lead_id": b["lead"], "name": "Intruder"}),
            ("POST", f"/api/v1/thread/{a_thread}/assign/", {"user_id": world.b.user_id}),
            ("POST", "/api/chat/messages", {"text": "what did Bob say?", "conversation_id": b["conversation"]}),
            ("PATCH", f"/api/chat/drafts/{a_draft}", {"args": {"contact_id": b["contact"]}}),
            ("PATCH", f"/api/chat/drafts/{a_draft}", {"args": {"template_id": b["sms_template"], "text": None}}),
            ("POST", "/api/voice/commands", {"transcript": "what did Bob say?", "conversation_id": b["conversation"]}),
        ]
        for method, path, body in requests:
            response = a.request(method, path, json=body)
            what = f"{method} {path} {body}"
            # Previews (a draft edit, a render, a call prepare) answer 200 with the problem in them.
            previews = path.startswith("/api/chat/drafts/") or path.endswith(("/render/", "/call/prepare/"))
            refused = response.status_code in (400, 404) or (
                previews and response.status_code == 200 and response.json().get("problems"))
            if not refused:
                failures.append(f"{what}: {response.status_code} {response.text[:160]}")
            shown = [m for m in b_markers if m in response.text]
            if shown:
                failures.append(f"{what}: shows {shown}: {response.text[:160]}")
        # The edited draft still can't send anything to B's contact.
        confirmed = a.post(f"/api/chat/drafts/{a_draft}/confirm")
        assert confirmed.status_code in (400, 404, 409), confirmed.text
    assert not failures, "\n".join(failures)
    assert changed_tables(b_before, snapshot(world.factory, world.b.organization_id)) == []
