"""Calls: click-to-call and the call log, in Close's dialect.

POST /call/dial/ rings the caller's own phone (their forwarding phone), then connects the contact with the
business number as caller ID; POST /call/prepare/ shows the same call and its problems without placing it.
GET /activity/call/ lists calls (contact, lead, user, status, direction, handled_by, dates), newest first.
"""

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from sqlalchemy import select

from api.deps import CurrentCtx, SessionDep
from api.errors import CONFLICT, KEY_REUSED
from api.v1.call_shapes import CallIn, call_json, prepared_call_json
from api.v1.params import DateRangesDep, FieldsQuery, PageDep, id_list
from api.v1.shapes import page_json, select_fields
from api.voice import intelligence
from db.models import Activity, Organization
from tools.context import Ctx
from tools.messaging import calls
from tools.workspaces import members

router = APIRouter(tags=["calls"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def call_shaper(request: Request, session, ctx: Ctx):
    """call_json with the caller's names and whether transcripts can be made here (also for GET /activity/)."""
    names = {user.id: user.display_name for user in members(session, ctx.organization_id)}
    enabled = bool(session.scalar(select(Organization.transcription_enabled)
                                  .where(Organization.id == ctx.organization_id)))
    ready = intelligence(request.app).available

    def shape(activity: Activity) -> dict:
        return call_json(activity, names, transcription_enabled=enabled, model_ready=ready)

    return shape


@router.post("/call/prepare/")
def prepare_call(body: CallIn, request: Request, session: SessionDep, ctx: CurrentCtx) -> dict:
    """The call as it would be placed, with every problem; nothing happens."""
    return prepared_call_json(request.app.state.runtime.messaging.prepare_call(session, ctx, body.call_request()))


@router.post("/call/dial/", responses=CONFLICT | KEY_REUSED)
def dial(body: CallIn, request: Request, session: SessionDep, ctx: CurrentCtx,
         idempotency_key: IdempotencyKey = None) -> dict:
    if idempotency_key:
        ctx = dataclasses.replace(ctx, idempotency_key=idempotency_key)
    activity = request.app.state.runtime.messaging.dial(session, ctx, body.call_request())
    return call_shaper(request, session, ctx)(activity)


@router.get("/activity/call/")
def list_calls(
    request: Request, session: SessionDep, ctx: CurrentCtx, page: PageDep, dates: DateRangesDep,
    fields: FieldsQuery = None,
    lead_id: str | None = None, contact_id: str | None = None, user_id: str | None = None,
    status: str | None = None, direction: str | None = None, handled_by: str | None = None,
    id_in: Annotated[str | None, Query(alias="id__in")] = None,
) -> dict:
    filters = calls.CallFilter(
        ids=id_list(id_in), lead_ids=id_list(lead_id), contact_ids=id_list(contact_id),
        user_ids=id_list(user_id), statuses=id_list(status), directions=id_list(direction),
        handled_by=id_list(handled_by),
        date_created=dates.date_created, activity_at=dates.activity_at,
    )
    result = calls.list_calls(session, ctx, page, filters)
    shape = call_shaper(request, session, ctx)
    return page_json([select_fields(shape(x), fields) for x in result.items], result.has_more)


@router.get("/activity/call/{activity_id}/")
def get_call(activity_id: str, request: Request, session: SessionDep, ctx: CurrentCtx,
             fields: FieldsQuery = None) -> dict:
    return select_fields(call_shaper(request, session, ctx)(calls.get_call(session, ctx, activity_id)), fields)
