"""Close's paging over HTTP: `_skip += len(data)` until has_more is false walks every row exactly once."""

from datetime import UTC, datetime

import httpx
import pytest

from db.models.crm import Contact
from db.session import transaction
from tests.api.server import both_databases
from tools import crm
from tools.context import Ctx
from tools.paging import PageRequest
from tools.workspaces import NewWorkspace

TOTAL = 57


def _seed(factory, ws: NewWorkspace, count: int, prefix: str = "Contact") -> list[str]:
    ctx = Ctx(organization_id=ws.organization_id, user_id=ws.user_id)
    ids = []
    with transaction(factory) as session:
        for i in range(count):
            contact = crm.create_contact(session, ctx, crm.ContactIn(
                name=f"{prefix} {i:02d}", phones=[crm.PhoneIn(phone=f"+1415555{i:04d}")]))
            ids.append(contact.id)
    return ids


def _walk(api: httpx.Client, path: str, limit: int) -> tuple[list[str], list[int]]:
    """Page like Close's docs say; return the ids in order and the size of each page."""
    ids, sizes, skip = [], [], 0
    for _ in range(100):
        response = api.get(path, params={"_skip": skip, "_limit": limit})
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"data", "has_more"}
        ids += [item["id"] for item in body["data"]]
        sizes.append(len(body["data"]))
        skip += len(body["data"])
        if not body["has_more"]:
            return ids, sizes
        assert body["data"], "has_more is true but the page is empty"
    pytest.fail("paging did not end")


@both_databases
def test_every_contact_exactly_once(api: httpx.Client, factory, workspace: NewWorkspace,
                                    other_workspace: NewWorkspace) -> None:
    created = _seed(factory, workspace, TOTAL)
    _seed(factory, other_workspace, 5, prefix="Other")

    ids, sizes = _walk(api, "/api/v1/contact/", 10)
    assert len(ids) == TOTAL
    assert len(set(ids)) == TOTAL
    assert set(ids) == set(created)
    assert sizes == [10, 10, 10, 10, 10, 7]
    assert ids == created  # oldest first, as created


@both_databases
def test_leads_page_the_same_way(api: httpx.Client, factory, workspace: NewWorkspace) -> None:
    created = _seed(factory, workspace, TOTAL)
    with factory() as session:
        lead_ids = [session.get(Contact, cid).lead_id for cid in created]
    ids, sizes = _walk(api, "/api/v1/lead/", 10)
    assert ids == lead_ids
    assert sizes[-1] == 7


@both_databases
def test_paging_is_stable_when_timestamps_tie(api: httpx.Client, factory, workspace: NewWorkspace) -> None:
    """Rows written in the same instant still page without repeats or gaps (the id breaks the tie)."""
    created = _seed(factory, workspace, TOTAL)
    same = datetime(2024, 1, 1, tzinfo=UTC)
    with transaction(factory) as session:
        for cid in created:
            session.get(Contact, cid).date_created = same

    ids, _ = _walk(api, "/api/v1/contact/", 10)
    assert len(ids) == TOTAL
    assert set(ids) == set(created)
    assert ids == sorted(created)
    # Another page size gives the same order.
    ids_by_7, sizes = _walk(api, "/api/v1/contact/", 7)
    assert ids_by_7 == ids
    assert sizes == [7] * 8 + [1]


@both_databases
def test_exact_multiple_ends_with_has_more_false(api: httpx.Client, factory, workspace: NewWorkspace) -> None:
    _seed(factory, workspace, 20)
    first = api.get("/api/v1/contact/", params={"_limit": 10}).json()
    assert len(first["data"]) == 10 and first["has_more"] is True
    last = api.get("/api/v1/contact/", params={"_skip": 10, "_limit": 10}).json()
    assert len(last["data"]) == 10 and last["has_more"] is False
    past = api.get("/api/v1/contact/", params={"_skip": 20, "_limit": 10}).json()
    assert past == {"data": [], "has_more": False}


def test_default_limit_is_100(api: httpx.Client, factory, workspace: NewWorkspace) -> None:
    _seed(factory, workspace, TOTAL)
    body = api.get("/api/v1/contact/").json()
    assert len(body["data"]) == TOTAL
    assert body["has_more"] is False


@pytest.mark.parametrize(("params", "fields"), [
    ({"_limit": 0}, {"_limit"}),
    ({"_limit": 10000}, {"_limit"}),
    ({"_limit": 201}, {"_limit"}),
    ({"_limit": -5}, {"_limit"}),
    ({"_limit": "ten"}, {"_limit"}),
    ({"_skip": -1}, {"_skip"}),
    ({"_skip": "x"}, {"_skip"}),
    ({"_skip": -1, "_limit": 0}, {"_skip", "_limit"}),
])
@pytest.mark.parametrize("path", ["/api/v1/contact/", "/api/v1/lead/"])
def test_bad_paging_params_are_400(api: httpx.Client, path: str, params: dict, fields: set[str]) -> None:
    response = api.get(path, params=params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body["field-errors"]) == fields
    assert all(body["field-errors"][f] for f in fields)


def test_limit_bounds_are_accepted(api: httpx.Client, factory, workspace: NewWorkspace) -> None:
    _seed(factory, workspace, 3)
    assert len(api.get("/api/v1/contact/", params={"_limit": 1}).json()["data"]) == 1
    assert len(api.get("/api/v1/contact/", params={"_limit": 200}).json()["data"]) == 3


def test_page_request_checks_its_own_bounds() -> None:
    """The service refuses bad paging too, whoever calls it."""
    from tools.problems import Invalid

    with pytest.raises(Invalid) as info:
        PageRequest(skip=-1, limit=0)
    assert {p.field for p in info.value.problems} == {"_skip", "_limit"}
