"""Custom fields on leads and contacts, as Close documents them: `custom.FIELD_ID` keys set a field on create and
update, null removes one, `.add`/`.remove` change one value of a list; the answer carries each as `custom.FIELD_ID`.
"""

import httpx
import pytest
from sqlalchemy import select

from db.models.crm import Contact, Lead
from tests.live import ok

BUDGET, AREAS, ROLE = "cf_budget01", "cf_areas01", "cf_role01"


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


def _stored_custom(factory, model: type[Lead] | type[Contact], row_id: str) -> dict:
    with factory() as session:
        return session.scalar(select(model.custom).where(model.id == row_id))


@pytest.fixture(params=["lead", "contact"])
def resource(request: pytest.FixtureRequest) -> tuple[str, type[Lead] | type[Contact]]:
    """The two kinds of record that carry custom fields: (API path, model)."""
    return {"lead": ("/api/v1/lead/", Lead), "contact": ("/api/v1/contact/", Contact)}[request.param]


def test_custom_field_ids_are_stored_on_create(api: httpx.Client, factory, resource) -> None:
    path, model = resource
    created = ok(
        api.post(
            path,
            json={
                "name": "Acme",
                f"custom.{BUDGET}": "500k",
                f"custom.{AREAS}": ["Midtown", "Uptown"],
                f"custom.{ROLE}": None,
            },
        )
    )
    assert created[f"custom.{BUDGET}"] == "500k"
    assert created[f"custom.{AREAS}"] == ["Midtown", "Uptown"]
    assert f"custom.{ROLE}" not in created  # null on create is no value
    assert created["custom"] == {BUDGET: "500k", AREAS: ["Midtown", "Uptown"]}
    assert _stored_custom(factory, model, created["id"]) == {BUDGET: "500k", AREAS: ["Midtown", "Uptown"]}
    assert ok(api.get(f"{path}{created['id']}/"))[f"custom.{BUDGET}"] == "500k"


def test_a_nested_contact_keeps_its_custom_field_ids(api: httpx.Client, factory) -> None:
    lead = ok(
        api.post(
            "/api/v1/lead/",
            json={
                "name": "The Smiths",
                f"custom.{BUDGET}": "450k",
                "contacts": [{"name": "Mary Smith", f"custom.{ROLE}": "Buyer"}],
            },
        )
    )
    assert lead["custom"] == {BUDGET: "450k"}
    assert lead["contacts"][0]["custom"] == {ROLE: "Buyer"}
    assert lead["contacts"][0][f"custom.{ROLE}"] == "Buyer"
    assert _stored_custom(factory, Contact, lead["contacts"][0]["id"]) == {ROLE: "Buyer"}


def test_custom_field_ids_over_a_custom_dict_on_create(api: httpx.Client, resource) -> None:
    path, _ = resource
    created = ok(
        api.post(path, json={"name": "Acme", "custom": {"Budget": "1M", ROLE: "Seller"}, f"custom.{ROLE}": "Buyer"})
    )
    assert created["custom"] == {"Budget": "1M", ROLE: "Buyer"}


def test_put_with_a_custom_field_id_changes_only_that_field(api: httpx.Client, factory, resource) -> None:
    path, model = resource
    created = ok(api.post(path, json={"name": "Acme", f"custom.{BUDGET}": "500k", f"custom.{AREAS}": ["Midtown"]}))
    url = f"{path}{created['id']}/"

    changed = ok(api.put(url, json={f"custom.{BUDGET}": "600k"}))
    assert changed["custom"] == {BUDGET: "600k", AREAS: ["Midtown"]}
    assert changed["name"] == "Acme"

    removed = ok(api.put(url, json={f"custom.{BUDGET}": None}))
    assert removed["custom"] == {AREAS: ["Midtown"]}
    assert f"custom.{BUDGET}" not in removed
    assert _stored_custom(factory, model, created["id"]) == {AREAS: ["Midtown"]}

    gone = ok(api.put(url, json={f"custom.{ROLE}": None}))  # removing a field that has no value is no change
    assert gone["custom"] == {AREAS: ["Midtown"]}


def test_put_adds_to_and_removes_from_a_list(api: httpx.Client, factory, resource) -> None:
    path, model = resource
    created = ok(api.post(path, json={"name": "Acme", f"custom.{AREAS}": ["Midtown"]}))
    url = f"{path}{created['id']}/"

    added = ok(api.put(url, json={f"custom.{AREAS}.add": "Uptown"}))
    assert added[f"custom.{AREAS}"] == ["Midtown", "Uptown"]
    again = ok(api.put(url, json={f"custom.{AREAS}.add": "Uptown"}))  # a value already there is not repeated
    assert again[f"custom.{AREAS}"] == ["Midtown", "Uptown"]
    fresh = ok(api.put(url, json={f"custom.{ROLE}.add": "Buyer"}))  # a field with no value starts a list
    assert fresh[f"custom.{ROLE}"] == ["Buyer"]

    removed = ok(api.put(url, json={f"custom.{AREAS}.remove": "Midtown"}))
    assert removed[f"custom.{AREAS}"] == ["Uptown"]
    emptied = ok(api.put(url, json={f"custom.{AREAS}.remove": "Uptown"}))
    assert f"custom.{AREAS}" not in emptied
    assert _stored_custom(factory, model, created["id"]) == {ROLE: ["Buyer"]}


def test_put_with_a_custom_dict_replaces_every_custom_field(api: httpx.Client, resource) -> None:
    """The deprecated `custom` dict is one field: sent, it is the new set of custom fields; `custom.X` keys apply
    over it."""
    path, _ = resource
    created = ok(api.post(path, json={"name": "Acme", f"custom.{BUDGET}": "500k", f"custom.{AREAS}": ["Midtown"]}))
    url = f"{path}{created['id']}/"
    replaced = ok(api.put(url, json={"custom": {ROLE: "Buyer"}, f"custom.{BUDGET}": "700k"}))
    assert replaced["custom"] == {ROLE: "Buyer", BUDGET: "700k"}
    cleared = ok(api.put(url, json={"custom": None}))
    assert cleared["custom"] == {}


def test_a_record_read_edited_in_its_custom_dict_and_sent_back_keeps_the_edit(api: httpx.Client, factory,
                                                                              resource) -> None:
    """A GET answers each field twice (in `custom` and as `custom.FIELD_ID`): a client that edits the dict and PUTs
    the whole record back must not have its edit undone by the echoed keys."""
    path, model = resource
    created = ok(api.post(path, json={"name": "Acme", f"custom.{BUDGET}": "500k", f"custom.{AREAS}": ["Midtown"]}))
    url = f"{path}{created['id']}/"
    record = ok(api.get(url))
    record["custom"][BUDGET] = "650k"
    del record["custom"][AREAS]
    edited = ok(api.put(url, json=record))
    assert edited["custom"] == {BUDGET: "650k"}
    assert _stored_custom(factory, model, created["id"]) == {BUDGET: "650k"}

    both = api.put(url, json={"custom": {BUDGET: "700k"}, f"custom.{BUDGET}": "800k"})
    assert both.status_code == 400
    assert f"custom.{BUDGET}" in both.json()["field-errors"]
    assert _stored_custom(factory, model, created["id"]) == {BUDGET: "650k"}


@pytest.mark.parametrize(
    "key, value, reason",
    [
        ("custom.", "x", "custom field"),
        ("custom..add", "x", "custom field"),
        (f"custom.{BUDGET}.add", None, "value"),
        (f"custom.{BUDGET}.add", "x", "one value"),
    ],
)
def test_a_bad_custom_key_on_update_is_a_400_naming_it_and_changes_nothing(
    api: httpx.Client, factory, resource, key: str, value, reason: str
) -> None:
    path, model = resource
    created = ok(api.post(path, json={"name": "Acme", f"custom.{BUDGET}": "500k"}))
    response = api.put(f"{path}{created['id']}/", json={"name": "Renamed", key: value})
    assert response.status_code == 400, response.text
    errors = response.json()["field-errors"]
    assert set(errors) == {key}
    assert reason in errors[key]
    assert _stored_custom(factory, model, created["id"]) == {BUDGET: "500k"}
    assert ok(api.get(f"{path}{created['id']}/"))["name"] == "Acme"


def test_a_bad_custom_key_on_create_stores_nothing(api: httpx.Client, factory) -> None:
    response = api.post("/api/v1/lead/", json={"name": "Acme", "contacts": [{"name": "Mary", "custom.": "x"}]})
    assert response.status_code == 400, response.text
    assert set(response.json()["field-errors"]) == {"contacts.0.custom."}
    with factory() as session:
        assert session.scalars(select(Lead)).all() == []


def test_fields_selects_custom_fields(api: httpx.Client, resource) -> None:
    path, _ = resource
    body = {"name": "Acme", f"custom.{BUDGET}": "500k", f"custom.{AREAS}": ["Midtown"]}
    one = ok(api.post(path, params={"_fields": f"id,custom.{BUDGET}"}, json=body))
    assert set(one) == {"id", f"custom.{BUDGET}"}
    every = ok(api.get(f"{path}{one['id']}/", params={"_fields": "custom"}))
    assert every == {
        "custom": {BUDGET: "500k", AREAS: ["Midtown"]},
        f"custom.{BUDGET}": "500k",
        f"custom.{AREAS}": ["Midtown"],
    }


def test_another_workspace_cannot_set_custom_fields(
    api: httpx.Client, other_api: httpx.Client, factory, resource
) -> None:
    path, model = resource
    created = ok(api.post(path, json={"name": "Acme", f"custom.{BUDGET}": "500k"}))
    response = other_api.put(f"{path}{created['id']}/", json={f"custom.{BUDGET}": "1"})
    assert response.status_code == 404
    assert _stored_custom(factory, model, created["id"]) == {BUDGET: "500k"}


# -- limits: Close's custom field types hold one value or a list of them, and a record's fields stay small --------

LONG_ID = "cf_" + "x" * 98  # 101 characters
MAX_TEXT = "y" * 10_000


@pytest.mark.parametrize(
    "key, value, reason",
    [
        (f"custom.{LONG_ID}", "x", "at most 100 characters; this one has 101"),
        (f"custom.{LONG_ID}.add", "x", "at most 100 characters"),
        (f"custom.{BUDGET}", MAX_TEXT + "y", "at most 10,000 characters"),
        (f"custom.{AREAS}", ["z" * 5_000, "z" * 5_000], "at most 10,000 characters (a list counted as its JSON text)"),
        (f"custom.{BUDGET}", {"nested": {"deep": 1}}, "not an object"),
        (f"custom.{AREAS}", ["Midtown", {"area": "Uptown"}], "not lists, objects or nulls"),
        (f"custom.{AREAS}", [["Midtown"]], "not lists, objects or nulls"),
        (f"custom.{AREAS}", ["Midtown", None], "not lists, objects or nulls"),
        (f"custom.{AREAS}.add", {"area": "Uptown"}, "Add one value"),
        (f"custom.{AREAS}.remove", ["Midtown"], "Remove one value"),
    ],
)
def test_a_custom_value_too_long_or_nested_is_a_400_naming_its_key(api: httpx.Client, factory, resource, key: str,
                                                                     value, reason: str) -> None:
    path, model = resource
    created = ok(api.post(path, json={"name": "Acme", f"custom.{AREAS}": ["Midtown"]}))
    response = api.put(f"{path}{created['id']}/", json={"name": "Renamed", key: value})
    assert response.status_code == 400, response.text
    errors = response.json()["field-errors"]
    assert set(errors) == {key}
    assert reason in errors[key]
    assert _stored_custom(factory, model, created["id"]) == {AREAS: ["Midtown"]}
    assert ok(api.get(f"{path}{created['id']}/"))["name"] == "Acme"

    refused = api.post(path, json={"name": "Acme", key: value})
    assert refused.status_code == 400, refused.text
    assert set(refused.json()["field-errors"]) == {key}
    with factory() as session:
        assert len(session.scalars(select(model)).all()) == 1


def test_the_longest_id_and_value_are_kept(api: httpx.Client, factory, resource) -> None:
    path, model = resource
    longest_id = LONG_ID[:100]
    created = ok(api.post(path, json={"name": "Acme", f"custom.{longest_id}": MAX_TEXT, f"custom.{AREAS}": [
        "Midtown", 3, 2.5, True], f"custom.{ROLE}": 12}))
    assert created["custom"] == {longest_id: MAX_TEXT, AREAS: ["Midtown", 3, 2.5, True], ROLE: 12}
    assert _stored_custom(factory, model, created["id"]) == created["custom"]


def test_a_custom_dict_is_held_to_the_same_limits(api: httpx.Client, factory) -> None:
    """The deprecated `custom` dict, on its own or nested in a lead's contact, names a bad field as custom.FIELD_ID."""
    response = api.post("/api/v1/lead/", json={"name": "Acme", "custom": {BUDGET: {"nested": 1}}, "contacts": [
        {"name": "Mary", "custom": {LONG_ID: "x", ROLE: ["Buyer", ["Seller"]]}}]})
    assert response.status_code == 400, response.text
    assert set(response.json()["field-errors"]) == {
        f"custom.{BUDGET}", f"contacts.0.custom.{LONG_ID}", f"contacts.0.custom.{ROLE}"}
    with factory() as session:
        assert session.scalars(select(Lead)).all() == []

    contact = ok(api.post("/api/v1/contact/", json={"name": "Ann"}))
    response = api.put(f"/api/v1/contact/{contact['id']}/", json={"custom": {BUDGET: MAX_TEXT + "y"}})
    assert response.status_code == 400, response.text
    assert set(response.json()["field-errors"]) == {f"custom.{BUDGET}"}
    assert _stored_custom(factory, Contact, contact["id"]) == {}


def test_a_record_holds_at_most_200_custom_fields(api: httpx.Client, factory, resource) -> None:
    path, model = resource
    many = {f"custom.cf_{i:03d}": i for i in range(200)}
    created = ok(api.post(path, json={"name": "Acme", **many}))
    url = f"{path}{created['id']}/"
    assert len(created["custom"]) == 200

    response = api.put(url, json={"custom.cf_200": "one too many", "custom.cf_000": "changed"})
    assert response.status_code == 400, response.text
    errors = response.json()["field-errors"]
    assert set(errors) == {"custom.cf_200"}
    assert "at most 200 custom fields" in errors["custom.cf_200"]
    assert _stored_custom(factory, model, created["id"])["cf_000"] == 0

    # Changing a field it has, or removing one to make room, is fine.
    swapped = ok(api.put(url, json={"custom.cf_000": "changed", "custom.cf_001": None, "custom.cf_200": "new"}))
    assert len(swapped["custom"]) == 200
    assert (swapped["custom"]["cf_000"], swapped["custom"]["cf_200"]) == ("changed", "new")

    refused = api.post(path, json={"name": "Too many", "custom": {f"cf_{i:03d}": i for i in range(201)}})
    assert refused.status_code == 400, refused.text
    assert set(refused.json()["field-errors"]) == {"custom.cf_200"}
