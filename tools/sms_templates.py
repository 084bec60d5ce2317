"""SMS templates: checked when saved; shared ones belong to the workspace, personal ones to their owner.

Rendering is not here: every render goes through the messaging service (Messaging.prepare), see `render`.
"""

from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.models import SmsTemplate
from db.types import utcnow
from tools.context import Ctx
from tools.messaging import Messaging, SendRequest
from tools.paging import Page, PageRequest, fetch_page
from tools.problems import Forbidden, Invalid, NotFound, Problem
from tools.templates import check_template_to_save

STATUSES = ("active", "archived")


class TemplateIn(BaseModel):
    name: str = Field(max_length=200)
    text: str = Field(default="", max_length=10_000)
    is_shared: bool = True


class TemplatePatch(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    text: str | None = Field(default=None, max_length=10_000)
    is_shared: bool | None = None
    status: str | None = Field(default=None, max_length=20)


class RenderIn(BaseModel):
    contact_id: str | None = Field(default=None, max_length=40)
    variables: dict[str, str] = Field(default_factory=dict)


def _visible(ctx: Ctx):
    """Shared templates of the workspace, and the caller's own personal ones."""
    return (SmsTemplate.organization_id == ctx.organization_id) & or_(
        SmsTemplate.is_shared.is_(True), SmsTemplate.user_id == ctx.user_id)


def list_templates(session: Session, ctx: Ctx, page: PageRequest, status: str | None = None) -> Page:
    stmt = select(SmsTemplate).where(_visible(ctx))
    if status is not None:
        if status not in STATUSES:
            raise Invalid.one("invalid_choice", "status", "Not a valid choice.")
        stmt = stmt.where(SmsTemplate.status == status)
    return fetch_page(session, stmt.order_by(SmsTemplate.date_created, SmsTemplate.id), page)


def get_template(session: Session, ctx: Ctx, template_id: str) -> SmsTemplate:
    template = session.scalar(select(SmsTemplate).where(SmsTemplate.id == template_id, _visible(ctx)))
    if template is None:
        raise NotFound("SMS template not found.")
    return template


def _problems(name: str | None, text: str | None, status: str | None) -> list[Problem]:
    problems = []
    if name is not None and not name.strip():
        problems.append(Problem("required", "name", "A template name is required."))
    if text is not None:
        problems += check_template_to_save(text)
    if status is not None and status not in STATUSES:
        problems.append(Problem("invalid_choice", "status", "Not a valid choice."))
    return problems


def create_template(session: Session, ctx: Ctx, data: TemplateIn) -> SmsTemplate:
    problems = _problems(data.name, data.text, None)
    if problems:
        raise Invalid(problems)
    template = SmsTemplate(organization_id=ctx.organization_id, name=data.name.strip(), text=data.text,
                           is_shared=data.is_shared, status="active", user_id=ctx.user_id,
                           created_by=ctx.user_id, updated_by=ctx.user_id)
    session.add(template)
    session.flush()
    return template


def _changeable(session: Session, ctx: Ctx, template_id: str, doing: str) -> SmsTemplate:
    """A template the caller may change: their own, or any with `templates_manage` (admins have it); a shared
    template everyone sends from is not any colleague's to rewrite or delete."""
    template = get_template(session, ctx, template_id)
    if template.user_id != ctx.user_id and not ctx.can("templates_manage"):
        raise Forbidden(f"Only the template's owner or an admin can {doing} it (templates_manage); make a template "
                        "of your own instead.")
    return template


def update_template(session: Session, ctx: Ctx, template_id: str, data: TemplatePatch) -> SmsTemplate:
    template = _changeable(session, ctx, template_id, "change")
    given = data.model_fields_set
    problems = _problems(data.name if "name" in given else None, data.text if "text" in given else None,
                         data.status if "status" in given else None)
    for name in ("is_shared", "status"):
        if name in given and getattr(data, name) is None:
            problems.append(Problem("invalid", name, f"{name} cannot be null."))
    if "is_shared" in given and data.is_shared is False and template.user_id != ctx.user_id:
        problems.append(Problem("not_owner", "is_shared", "Only the template's owner can make it personal."))
    if problems:
        raise Invalid(problems)
    if "name" in given and data.name is not None:
        template.name = data.name.strip()
    if "text" in given and data.text is not None:
        template.text = data.text
    if "is_shared" in given and data.is_shared is not None:
        template.is_shared = data.is_shared
    if "status" in given and data.status is not None:
        template.status = data.status
    template.updated_by = ctx.user_id
    template.date_updated = utcnow()
    session.flush()
    return template


def delete_template(session: Session, ctx: Ctx, template_id: str) -> None:
    session.delete(_changeable(session, ctx, template_id, "delete"))
    session.flush()


def render(session: Session, ctx: Ctx, messaging: Messaging, template_id: str, data: RenderIn) -> dict:
    """The template rendered for a contact, as a send would render it: through Messaging.prepare, the one path."""
    get_template(session, ctx, template_id)
    prepared = messaging.prepare(session, ctx, SendRequest(template_id=template_id, contact_id=data.contact_id,
                                                           variables=data.variables, status="draft"))
    return {"text": prepared.text, "encoding": prepared.encoding, "segments": prepared.segments,
            "problems": [p.as_dict() for p in prepared.problems]}
