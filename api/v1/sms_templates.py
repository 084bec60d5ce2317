"""SMS templates, in Close's dialect, plus a render endpoint that goes through the messaging service."""

from fastapi import APIRouter, Response

from api.deps import CurrentCtx, SessionDep
from api.v1.params import FieldsQuery, PageDep
from api.v1.shapes import page_json, select_fields
from api.v1.sms import MessagingDep
from api.v1.sms_shapes import template_json
from tools import sms_templates

router = APIRouter(tags=["sms templates"])


@router.get("/sms_template/")
def list_templates(session: SessionDep, ctx: CurrentCtx, page: PageDep, fields: FieldsQuery = None,
                   status: str | None = None) -> dict:
    result = sms_templates.list_templates(session, ctx, page, status)
    return page_json([select_fields(template_json(x), fields) for x in result.items], result.has_more)


@router.post("/sms_template/", status_code=201)
def create_template(body: sms_templates.TemplateIn, session: SessionDep, ctx: CurrentCtx) -> dict:
    template = sms_templates.create_template(session, ctx, body)
    session.commit()
    return template_json(template)


@router.get("/sms_template/{template_id}/")
def get_template(template_id: str, session: SessionDep, ctx: CurrentCtx, fields: FieldsQuery = None) -> dict:
    return select_fields(template_json(sms_templates.get_template(session, ctx, template_id)), fields)


@router.put("/sms_template/{template_id}/")
def update_template(template_id: str, body: sms_templates.TemplatePatch, session: SessionDep, ctx: CurrentCtx) -> dict:
    template = sms_templates.update_template(session, ctx, template_id, body)
    session.commit()
    return template_json(template)


@router.delete("/sms_template/{template_id}/", status_code=204)
def delete_template(template_id: str, session: SessionDep, ctx: CurrentCtx) -> Response:
    sms_templates.delete_template(session, ctx, template_id)
    session.commit()
    return Response(status_code=204)


@router.post("/sms_template/{template_id}/render/")
def render_template(template_id: str, body: sms_templates.RenderIn, session: SessionDep, ctx: CurrentCtx,
                    messaging: MessagingDep) -> dict:
    return sms_templates.render(session, ctx, messaging, template_id, body)
