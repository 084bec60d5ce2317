"""Close's GET /activity/: a lead's (or the workspace's) texts and calls in one list, each in its own kind's shape."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import CurrentCtx, SessionDep
from api.v1.calls import call_shaper
from api.v1.params import DateRangesDep, FieldsQuery, PageDep, id_list
from api.v1.shapes import page_json, select_fields
from api.v1.sms_shapes import sms_json
from tools.activities import ActivityFilter, list_activities
from tools.workspaces import members

router = APIRouter(tags=["activities"])


@router.get("/activity/")
def list_all(
    request: Request, session: SessionDep, ctx: CurrentCtx, page: PageDep, dates: DateRangesDep,
    fields: FieldsQuery = None,
    lead_id: str | None = None, contact_id: str | None = None, user_id: str | None = None,
    type_: Annotated[str | None, Query(alias="_type")] = None,
    type_in: Annotated[str | None, Query(alias="_type__in")] = None,
    id_in: Annotated[str | None, Query(alias="id__in")] = None,
    lead_id_in: Annotated[str | None, Query(alias="lead_id__in")] = None,
    contact_id_in: Annotated[str | None, Query(alias="contact_id__in")] = None,
    user_id_in: Annotated[str | None, Query(alias="user_id__in")] = None,
    order_by: Annotated[str, Query(alias="_order_by")] = "-date_created",
) -> dict:
    """Texts (`_type` SMS) and calls (`Call`), newest first; `_order_by` takes date_created or activity_at, either
    way round."""
    filters = ActivityFilter(
        ids=id_list(id_in), lead_ids=id_list(lead_id) + id_list(lead_id_in),
        contact_ids=id_list(contact_id) + id_list(contact_id_in), user_ids=id_list(user_id) + id_list(user_id_in),
        types=id_list(type_) + id_list(type_in), date_created=dates.date_created, activity_at=dates.activity_at,
        order_by=order_by,
    )
    result = list_activities(session, ctx, page, filters)
    names = {user.id: user.display_name for user in members(session, ctx.organization_id)}
    call_json = call_shaper(request, session, ctx)
    return page_json([select_fields(call_json(a) if a.type == "call" else sms_json(a, names), fields)
                      for a in result.items], result.has_more)
