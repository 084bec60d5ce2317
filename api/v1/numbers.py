"""Phone numbers in Close's dialect: list, get, update, release; search the carrier's stock and buy.

Buying is paid from the workspace's wallet (tools/wallet); see tools/numbers for the order of steps. Each later month
is charged when `paid_until` comes (tools/renewals): `billing_status` says "past_due" when the wallet could not pay,
and `grace_until` when the number is released unless it is paid by then.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import CurrentCtx, SessionDep
from api.errors import FORBIDDEN, ErrorBody
from api.v1.params import FieldsQuery, PageDep
from api.v1.shapes import iso, page_json, select_fields
from db.models import PhoneNumber
from tools import numbers
from tools.phones import format_phone
from tools.problems import Invalid, Problem, ServiceError
from tools.telephony.base import AvailableNumber, NumberSearch
from tools.wallet import money

router = APIRouter(tags=["phone numbers"])


def phone_number_json(row: PhoneNumber) -> dict[str, Any]:
    return {
        "id": row.id,
        "organization_id": row.organization_id,
        "number": row.number,
        "number_formatted": format_phone(row.number),
        "label": row.label,
        "type": row.number_type,
        "kind": row.kind,
        "is_group_number": row.sharing == "group",
        "sharing": row.sharing,
        "user_id": row.user_id,
        "country": row.country,
        "capabilities": {"sms": row.sms, "mms": row.mms, "voice": row.voice, "fax": row.fax},
        "supports_sms": row.sms,
        "supports_mms": row.mms,
        "supports_voice": row.voice,
        "sms_enabled": row.sms,
        "mms_enabled": row.mms,
        "forward_to": row.forward_to,
        "forward_to_formatted": format_phone(row.forward_to),
        "forward_to_enabled": row.forward_to is not None,
        "status": row.status,
        "monthly_cost": money(row.monthly_cost),
        "paid_until": iso(row.paid_until),
        "billing_status": row.billing_status,
        "grace_until": iso(row.grace_until),
        "date_created": iso(row.date_created),
        "date_updated": iso(row.date_updated),
        "date_released": iso(row.date_released),
    }


def available_json(offer: AvailableNumber) -> dict[str, Any]:
    return {
        "number": offer.number,
        "number_formatted": format_phone(offer.number),
        "country": offer.country,
        "type": offer.kind,
        "capabilities": {"sms": offer.sms, "mms": offer.mms, "voice": offer.voice},
        "monthly_cost": money(offer.monthly_cost),
        "locality": offer.locality,
        "region": offer.region,
    }


def _flag(value: str | None, field: str, problems: list[Problem]) -> bool | None:
    """A lenient boolean query parameter: empty means "either"."""
    text = (value or "").strip().lower()
    if not text:
        return None
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    problems.append(Problem("invalid", field, "Use true or false."))
    return None


def _checked(check, value: str | None, field: str, problems: list[Problem]) -> str | None:
    try:
        return check(value, field)
    except Invalid as exc:
        problems += exc.problems
        return None


@router.get("/phone_number/")
def list_numbers(session: SessionDep, ctx: CurrentCtx, page: PageDep, fields: FieldsQuery = None,
                 number_type: Annotated[str | None, Query(max_length=20)] = None,
                 status: Annotated[str | None, Query(max_length=20)] = None,
                 number: Annotated[str | None, Query(max_length=64)] = None,
                 user_id: Annotated[str | None, Query(max_length=40)] = None,
                 is_group_number: Annotated[str | None, Query(max_length=10)] = None,
                 billing_status: Annotated[str | None, Query(max_length=20)] = None) -> dict:
    problems: list[Problem] = []
    group = _flag(is_group_number, "is_group_number", problems)
    if problems:
        raise Invalid(problems)
    result = numbers.list_numbers(session, ctx, page, number_type, status, number, user_id, group,
                                  (billing_status or "").strip() or None)
    return page_json([select_fields(phone_number_json(x), fields) for x in result.items], result.has_more)


@router.get("/phone_number/available/")
def search_available(request: Request, session: SessionDep, ctx: CurrentCtx,
                     country: Annotated[str, Query(max_length=8)] = "US",
                     area_code: Annotated[str | None, Query(max_length=8)] = None,
                     type: Annotated[str | None, Query(max_length=20)] = None,
                     sms_enabled: Annotated[str | None, Query(max_length=10)] = None,
                     mms_enabled: Annotated[str | None, Query(max_length=10)] = None,
                     voice_enabled: Annotated[str | None, Query(max_length=10)] = None,
                     contains: Annotated[str | None, Query(max_length=20)] = None,
                     limit: Annotated[int, Query(alias="_limit")] = 20) -> dict:
    problems: list[Problem] = []
    code = _checked(numbers.check_country, country, "country", problems)
    kind = _checked(numbers.check_kind, type, "type", problems)
    area = (area_code or "").strip() or None
    if area is not None and not area.isdigit():
        problems.append(Problem("invalid", "area_code", "The area code must be digits, such as 212."))
    flags = {name: _flag(value, name, problems) for name, value in
             (("sms_enabled", sms_enabled), ("mms_enabled", mms_enabled), ("voice_enabled", voice_enabled))}
    if not 1 <= limit <= numbers.MAX_SEARCH:
        problems.append(Problem("invalid", "_limit", f"_limit must be between 1 and {numbers.MAX_SEARCH}."))
    if problems:
        raise Invalid(problems)
    search = NumberSearch(country=code, kind=kind, area_code=area, contains=(contains or "").strip() or None,
                          sms=flags["sms_enabled"], mms=flags["mms_enabled"], voice=flags["voice_enabled"], limit=limit)
    found = numbers.search_available(session, request.app.state.runtime.provider, search)
    return {"data": [available_json(x) for x in found]}


class PurchaseIn(BaseModel):
    number: str = Field(max_length=64)
    sharing: str = Field(default="personal", max_length=20)
    label: str = Field(default="", max_length=200)


@router.post("/phone_number/purchase/", status_code=201, responses=FORBIDDEN)
def purchase(body: PurchaseIn, request: Request, session: SessionDep, ctx: CurrentCtx) -> dict:
    runtime = request.app.state.runtime
    row = numbers.purchase(session, ctx, runtime.provider, runtime.settings.public_base_url, body.number,
                           body.sharing, body.label)
    return phone_number_json(row)


class RentalError(ErrorBody):
    """A failed request/internal, as Close answers it: its `status` (here "error") beside the error."""

    status: str


@router.post("/phone_number/request/internal/", status_code=201,
             responses={403: FORBIDDEN[403] | {"model": RentalError}})
def request_internal(body: numbers.RequestInternal, request: Request, session: SessionDep, ctx: CurrentCtx) -> Any:
    """Close's rental call: a failure answers with Close's `status` (has-voice-only, needs-more-info,
    billing-error, error) next to `error`."""
    runtime = request.app.state.runtime
    try:
        row = numbers.request_internal(session, ctx, runtime.provider, runtime.settings.public_base_url, body)
    except ServiceError as exc:
        content: dict[str, Any] = {"status": numbers.close_status(exc), "error": exc.message}
        if isinstance(exc, Invalid):
            content["errors"] = [p.message for p in exc.problems if not p.field]
            content["field-errors"] = {p.field: p.message for p in exc.problems if p.field}
        return JSONResponse(content, status_code=exc.status_code)
    return phone_number_json(row)


@router.get("/phone_number/{phone_id}/")
def get_number(phone_id: str, session: SessionDep, ctx: CurrentCtx, fields: FieldsQuery = None) -> dict:
    return select_fields(phone_number_json(numbers.get_number(session, ctx, phone_id)), fields)


@router.put("/phone_number/{phone_id}/", responses=FORBIDDEN)
def update_number(phone_id: str, body: numbers.NumberPatch, session: SessionDep, ctx: CurrentCtx) -> dict:
    row = numbers.update_number(session, ctx, phone_id, body)
    session.commit()
    return phone_number_json(row)


@router.delete("/phone_number/{phone_id}/", responses=FORBIDDEN)
def delete_number(phone_id: str, request: Request, session: SessionDep, ctx: CurrentCtx) -> dict:
    numbers.release_number(session, ctx, request.app.state.runtime.provider, phone_id)
    session.commit()
    return {}
