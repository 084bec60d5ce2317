"""The caller: who they are and which workspace the key belongs to."""

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.deps import CurrentCtx, SessionDep
from api.v1.shapes import iso
from db.models import Organization, User
from tools.phones import format_phone
from tools.voice.forwarding import set_forwarding_phone

router = APIRouter(tags=["me"])


@router.get("/me/")
def me(session: SessionDep, ctx: CurrentCtx) -> dict:
    user = session.get(User, ctx.user_id)
    org = session.scalar(select(Organization).where(Organization.id == ctx.organization_id))
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "display_name": user.display_name,
        "forwarding_phone": user.forwarding_phone,
        "forwarding_phone_formatted": format_phone(user.forwarding_phone),
        "role": ctx.role,
        "permissions": sorted(ctx.permissions),
        "organizations": [{"id": org.id, "name": org.name, "timezone": org.timezone}],
        "date_created": iso(user.date_created),
    }


class MeIn(BaseModel):
    """PUT /me/: your own phone, which click-to-call rings first and incoming calls are forwarded to."""

    forwarding_phone: str | None = Field(default=None, max_length=64)


@router.put("/me/")
def update_me(body: MeIn, session: SessionDep, ctx: CurrentCtx) -> dict:
    if "forwarding_phone" in body.model_fields_set:
        set_forwarding_phone(session, ctx, body.forwarding_phone)
    return me(session, ctx)
