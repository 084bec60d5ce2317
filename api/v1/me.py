"""The caller: who they are and which workspace the key belongs to."""

from fastapi import APIRouter
from sqlalchemy import select

from api.deps import CurrentCtx, SessionDep
from api.v1.shapes import iso
from db.models import Organization, User
from tools.phones import format_phone

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
