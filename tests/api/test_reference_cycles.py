"""Reading leads and contacts leaves no reference cycles: a page's objects are freed as soon as its answer is built,
not held until Python's cycle collector comes by (a pause of 100-300 ms on a server's heap, docs/PERFORMANCE.md)."""

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api import web
from api.v1.shapes import contact_json, lead_json
from db.models import Contact, ContactEmail, ContactPhone, Lead
from db.session import transaction
from tools import crm
from tools.context import Ctx
from tools.paging import PageRequest
from tools.workspaces import NewWorkspace

ROWS = (Lead, Contact, ContactPhone, ContactEmail)
PAGE = PageRequest(limit=100, skip=0)


@contextmanager
def rows_left_in_cycles() -> Iterator[list[object]]:
    """The leads, contacts, phones and emails made inside the block that only the cycle collector could free."""
    gc.collect()
    found: list[object] = []
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds unreachable goes to gc.garbage instead of being freed
    try:
        yield found
        gc.collect()
        found.extend(o for o in gc.garbage if isinstance(o, ROWS))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


@pytest.fixture
def ctx(factory: sessionmaker[Session], workspace: NewWorkspace) -> Ctx:
    """Four leads of two people, each with a phone and an email."""
    ctx = Ctx(organization_id=workspace.organization_id, user_id=workspace.user_id)
    with transaction(factory) as session:
        for family in ("Lee", "Park", "Cruz", "Shaw"):
            crm.create_lead(session, ctx, crm.LeadIn(name=f"The {family}s", contacts=[
                crm.ContactIn(name=f"{first} {family}", phones=[crm.PhoneIn(phone=f"+1415555{i:04d}")],
                              emails=[crm.EmailIn(email=f"{first.lower()}@{family.lower()}.example")])
                for i, first in enumerate(("Ana", "Ben"), start=len(family))]))
    return ctx


def answered(factory: sessionmaker[Session], read: Callable[[Session], Any]) -> Any:
    """What an endpoint answers: read in a session of its own, closed before it returns, as a request's is."""
    with factory() as session:
        return read(session)


def test_a_page_of_leads(factory: sessionmaker[Session], ctx: Ctx) -> None:
    with rows_left_in_cycles() as left:
        body = answered(factory, lambda s: [lead_json(lead) for lead in crm.list_leads(s, ctx, PAGE).items])
    assert [len(lead["contacts"]) for lead in body] == [2, 2, 2, 2]
    assert left == []


def test_one_lead(factory: sessionmaker[Session], ctx: Ctx) -> None:
    lead_id = answered(factory, lambda s: crm.list_leads(s, ctx, PAGE).items[0].id)
    with rows_left_in_cycles() as left:
        body = answered(factory, lambda s: lead_json(crm.get_lead(s, ctx, lead_id)))
    assert (body["name"], [c["name"] for c in body["contacts"]]) == ("The Lees", ["Ana Lee", "Ben Lee"])
    assert left == []


def test_a_page_of_contacts(factory: sessionmaker[Session], ctx: Ctx) -> None:
    with rows_left_in_cycles() as left:
        body = answered(factory, lambda s: [contact_json(c) for c in crm.list_contacts(s, ctx, PAGE).items])
    assert len(body) == 8
    assert left == []


def test_the_web_pages_contact_search(factory: sessionmaker[Session], ctx: Ctx) -> None:
    with rows_left_in_cycles() as left:
        body = answered(factory, lambda s: web.search_contacts(s, ctx, PageRequest(limit=50, skip=0), "park"))
    assert [(c["name"], c["lead_name"]) for c in body["data"]] == [("Ana Park", "The Parks"), ("Ben Park", "The Parks")]
    assert left == []
