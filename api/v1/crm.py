"""Leads and contacts."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentCtx, SessionDep
from api.errors import FORBIDDEN
from api.v1.params import FieldsQuery, PageDep
from api.v1.shapes import contact_json, lead_json, page_json, select_fields
from tools import crm

router = APIRouter(tags=["leads and contacts"])


# Close's `query` (tools.crm.search_text).
SearchQuery = Annotated[str | None, Query(max_length=200, description=(
    "Search: a lead whose name, or one of whose contacts' name, email or phone, contains this text; a contact whose "
    "name, email or phone does. Any case; a phone number in any format (4155551003, (415) 555-1003, +14155551003) "
    "is matched by its digits."))]


@router.get("/lead/")
def list_leads(session: SessionDep, ctx: CurrentCtx, page: PageDep, fields: FieldsQuery = None,
               query: SearchQuery = None, has_errored_sms: bool | None = None) -> dict:
    result = crm.list_leads(session, ctx, page, query, has_errored_sms)
    return page_json([select_fields(lead_json(x), fields) for x in result.items], result.has_more)


@router.post("/lead/")
def create_lead(body: crm.LeadIn, session: SessionDep, ctx: CurrentCtx, fields: FieldsQuery = None) -> dict:
    lead = crm.create_lead(session, ctx, body)
    session.commit()
    return select_fields(lead_json(lead), fields)


@router.get("/lead/{lead_id}/")
def get_lead(lead_id: str, session: SessionDep, ctx: CurrentCtx, fields: FieldsQuery = None) -> dict:
    return select_fields(lead_json(crm.get_lead(session, ctx, lead_id)), fields)


@router.put("/lead/{lead_id}/")
def update_lead(lead_id: str, body: crm.LeadPatch, session: SessionDep, ctx: CurrentCtx,
                fields: FieldsQuery = None) -> dict:
    lead = crm.update_lead(session, ctx, lead_id, body)
    session.commit()
    return select_fields(lead_json(lead), fields)


@router.delete("/lead/{lead_id}/", responses=FORBIDDEN)
def delete_lead(lead_id: str, session: SessionDep, ctx: CurrentCtx) -> dict:
    crm.delete_lead(session, ctx, lead_id)
    session.commit()
    return {}


@router.get("/contact/")
def list_contacts(session: SessionDep, ctx: CurrentCtx, page: PageDep, fields: FieldsQuery = None,
                  lead_id: str | None = None, query: SearchQuery = None) -> dict:
    result = crm.list_contacts(session, ctx, page, lead_id, query)
    return page_json([select_fields(contact_json(x), fields) for x in result.items], result.has_more)


@router.post("/contact/")
def create_contact(body: crm.ContactIn, session: SessionDep, ctx: CurrentCtx, fields: FieldsQuery = None) -> dict:
    contact = crm.create_contact(session, ctx, body)
    session.commit()
    return select_fields(contact_json(contact), fields)


@router.get("/contact/{contact_id}/")
def get_contact(contact_id: str, session: SessionDep, ctx: CurrentCtx, fields: FieldsQuery = None) -> dict:
    return select_fields(contact_json(crm.get_contact(session, ctx, contact_id)), fields)


@router.put("/contact/{contact_id}/")
def update_contact(contact_id: str, body: crm.ContactPatch, session: SessionDep, ctx: CurrentCtx,
                fields: FieldsQuery = None) -> dict:
    contact = crm.update_contact(session, ctx, contact_id, body)
    session.commit()
    return select_fields(contact_json(contact), fields)


@router.delete("/contact/{contact_id}/", responses=FORBIDDEN)
def delete_contact(contact_id: str, session: SessionDep, ctx: CurrentCtx) -> dict:
    crm.delete_contact(session, ctx, contact_id)
    session.commit()
    return {}
