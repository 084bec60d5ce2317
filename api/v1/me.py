"""The caller: who they are and which workspace the key belongs to."""

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.deps import CurrentCtx, SessionDep
from api.v1.shapes import iso
from db.models import Organization, User
from tools.phones import format_phone
from tools.voice.forwarding import set_forwarding_phone
from tools.voice.pin import set_voice_pin

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
        "voice_pin_set": user.voice_pin_hash is not None,
        "role": ctx.role,
        "permissions": sorted(ctx.permissions),
        "organizations": [{"id": org.id, "name": org.name, "timezone": org.timezone}],
        "date_created": iso(user.date_created),
    }


class MeIn(BaseModel):
    """PUT /me/: your own phone, which click-to-call rings first and incoming calls are forwarded to, and the PIN
    (4 to 8 digits; null clears it) Cody asks for when that phone calls your business line with voice commands."""

    forwarding_phone: str | None = Field(default=None, max_length=64)
    voice_pin: str | None = Field(default=None, max_length=64)


@router.put("/me/")
def update_me(body: MeIn, session: SessionDep, ctx: CurrentCtx) -> dict:
    if "forwarding_phone" in body.model_fields_set:
        set_forwarding_phone(session, ctx, body.forwarding_phone)
    if "voice_pin" in body.model_fields_set:
        set_voice_pin(session, ctx, body.voice_pin)
    return me(session, ctx)
