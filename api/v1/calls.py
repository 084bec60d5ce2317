"""Calls: click-to-call and the call log, in Close's dialect.

POST /call/dial/ rings the caller's own phone (their forwarding phone), then connects the contact with the
business number as caller ID; POST /call/prepare/ shows the same call and its problems without placing it.
GET /activity/call/ lists calls (contact, lead, user, status, direction, handled_by, dates), newest first.
"""

import dataclasses
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from sqlalchemy import select

from api.deps import CurrentCtx, SessionDep
from api.v1.call_shapes import CallIn, call_json, prepared_call_json
from api.v1.params import FieldsQuery, PageDep
from api.v1.shapes import page_json, select_fields
from api.voice import intelligence
from db.models import Activity, Organization
from tools.context import Ctx
from tools.messaging import calls
from tools.moments import Moment
from tools.workspaces import members

router = APIRouter(tags=["calls"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def _ids(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _ranges(**bounds: datetime | None) -> tuple[tuple[str, datetime], ...]:
    return tuple((op, when) for op, when in bounds.items() if when is not None)


def _shape(request: Request, session, ctx: Ctx):
    """call_json with the caller's names and whether transcripts can be made here."""
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


@router.post("/call/dial/")
def dial(body: CallIn, request: Request, session: SessionDep, ctx: CurrentCtx,
         idempotency_key: IdempotencyKey = None) -> dict:
    if idempotency_key:
        ctx = dataclasses.replace(ctx, idempotency_key=idempotency_key)
    activity = request.app.state.runtime.messaging.dial(session, ctx, body.call_request())
    return _shape(request, session, ctx)(activity)


@router.get("/activity/call/")
def list_calls(
    request: Request, session: SessionDep, ctx: CurrentCtx, page: PageDep, fields: FieldsQuery = None,
    lead_id: str | None = None, contact_id: str | None = None, user_id: str | None = None,
    status: str | None = None, direction: str | None = None, handled_by: str | None = None,
    id_in: Annotated[str | None, Query(alias="id__in")] = None,
    date_created_gt: Annotated[Moment | None, Query(alias="date_created__gt")] = None,
    date_created_gte: Annotated[Moment | None, Query(alias="date_created__gte")] = None,
    date_created_lt: Annotated[Moment | None, Query(alias="date_created__lt")] = None,
    date_created_lte: Annotated[Moment | None, Query(alias="date_created__lte")] = None,
    activity_at_gt: Annotated[Moment | None, Query(alias="activity_at__gt")] = None,
    activity_at_gte: Annotated[Moment | None, Query(alias="activity_at__gte")] = None,
    activity_at_lt: Annotated[Moment | None, Query(alias="activity_at__lt")] = None,
    activity_at_lte: Annotated[Moment | None, Query(alias="activity_at__lte")] = None,
) -> dict:
    filters = calls.CallFilter(
        ids=_ids(id_in), lead_ids=_ids(lead_id), contact_ids=_ids(contact_id), user_ids=_ids(user_id),
        statuses=_ids(status), directions=_ids(direction), handled_by=_ids(handled_by),
        date_created=_ranges(gt=date_created_gt, gte=date_created_gte, lt=date_created_lt, lte=date_created_lte),
        activity_at=_ranges(gt=activity_at_gt, gte=activity_at_gte, lt=activity_at_lt, lte=activity_at_lte),
    )
    result = calls.list_calls(session, ctx, page, filters)
    shape = _shape(request, session, ctx)
    return page_json([select_fields(shape(x), fields) for x in result.items], result.has_more)


@router.get("/activity/call/{activity_id}/")
def get_call(activity_id: str, request: Request, session: SessionDep, ctx: CurrentCtx,
             fields: FieldsQuery = None) -> dict:
    return select_fields(_shape(request, session, ctx)(calls.get_call(session, ctx, activity_id)), fields)
