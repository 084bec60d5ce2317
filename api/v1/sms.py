"""SMS activities, in Close's dialect: list, get, create (log, draft, schedule, send), update, delete.

Drafts, scheduled and outbox messages go through the messaging service's prepare/execute; `inbox` and `sent`
record a message that already happened (Messaging.log_message). Only drafts are edited (Messaging.update_draft),
their lead_id included, checked as a POST's is. Every member reads every text; only its sender edits or sends a
draft; its sender or an admin cancels a waiting text and deletes one that reached no one (not yet sent, or failed) or
that the sender logged; only an admin deletes one Cody sent or one received (403 otherwise;
tools/messaging/service._may).
"""

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request

from api.deps import CurrentCtx, SessionDep
from api.errors import CONFLICT, FORBIDDEN, KEY_REUSED
from api.v1.params import DateRangesDep, FieldsQuery, PageDep, id_list
from api.v1.shapes import page_json, select_fields
from api.v1.sms_shapes import (
    CREATE_STATUSES,
    LOGGED_STATUSES,
    SmsIn,
    SmsPatch,
    sms_json,
)
from tools.context import Ctx
from tools.messaging import Messaging
from tools.messaging.service import SmsFilter
from tools.problems import Invalid
from tools.workspaces import members

router = APIRouter(tags=["sms activities"])


def get_messaging(request: Request) -> Messaging:
    return request.app.state.runtime.messaging


MessagingDep = Annotated[Messaging, Depends(get_messaging)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def _names(session, ctx: Ctx) -> dict[str, str]:
    return {user.id: user.display_name for user in members(session, ctx.organization_id)}


@router.get("/activity/sms/")
def list_sms(
    session: SessionDep, ctx: CurrentCtx, messaging: MessagingDep, page: PageDep, dates: DateRangesDep,
    fields: FieldsQuery = None,
    lead_id: str | None = None, contact_id: str | None = None, user_id: str | None = None,
    status: str | None = None, direction: str | None = None,
    id_in: Annotated[str | None, Query(alias="id__in")] = None,
) -> dict:
    filters = SmsFilter(
        ids=id_list(id_in), lead_ids=id_list(lead_id), contact_ids=id_list(contact_id),
        user_ids=id_list(user_id), statuses=id_list(status), directions=id_list(direction),
        date_created=dates.date_created, activity_at=dates.activity_at,
    )
    result = messaging.list_messages(session, ctx, page, filters)
    names = _names(session, ctx)
    return page_json([select_fields(sms_json(x, names), fields) for x in result.items], result.has_more)


@router.post("/activity/sms/", responses=CONFLICT | KEY_REUSED)
def create_sms(body: SmsIn, session: SessionDep, ctx: CurrentCtx, messaging: MessagingDep,
               idempotency_key: IdempotencyKey = None, send_to_inbox: bool = False) -> dict:
    if body.status not in CREATE_STATUSES:
        raise Invalid.one("invalid_choice", "status", "Not a valid choice.")
    if idempotency_key:
        ctx = dataclasses.replace(ctx, idempotency_key=idempotency_key)
    if body.status in LOGGED_STATUSES:
        activity = messaging.log_message(session, ctx, body.log_request(), send_to_inbox=send_to_inbox)
    else:
        _check_outbound(body)
        activity = messaging.execute(session, ctx, body.send_request())
    return sms_json(activity, _names(session, ctx))


def _check_outbound(body: SmsIn) -> None:
    if body.direction not in (None, "outbound"):
        raise Invalid.one("invalid_choice", "direction", f"A {body.status} message is outbound.")


@router.get("/activity/sms/{activity_id}/")
def get_sms(activity_id: str, session: SessionDep, ctx: CurrentCtx, messaging: MessagingDep,
            fields: FieldsQuery = None) -> dict:
    return select_fields(sms_json(messaging.get(session, ctx, activity_id), _names(session, ctx)), fields)


@router.put("/activity/sms/{activity_id}/", responses=FORBIDDEN)
def update_sms(activity_id: str, body: SmsPatch, session: SessionDep, ctx: CurrentCtx, messaging: MessagingDep) -> dict:
    if body.status is not None and body.status not in CREATE_STATUSES:
        raise Invalid.one("invalid_choice", "status", "Not a valid choice.")
    activity = messaging.update_draft(session, ctx, activity_id, body.send_request())
    return sms_json(activity, _names(session, ctx))


@router.delete("/activity/sms/{activity_id}/", responses=FORBIDDEN | CONFLICT)
def delete_sms(activity_id: str, session: SessionDep, ctx: CurrentCtx, messaging: MessagingDep) -> dict:
    messaging.delete_message(session, ctx, activity_id)
    return {}
