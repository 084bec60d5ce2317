"""Which business number a text goes out from."""

from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy import ColumnElement, Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from db.models import PhoneNumber
from tools.context import Ctx
from tools.messaging import countries
from tools.phones import format_phone, normalise
from tools.problems import Invalid, Problem

NO_BUSINESS_LINE = Problem("no_business_line", "local_phone", "Set up a business line first (Settings, Business Phone)")


def usable_numbers(session: Session, ctx: Ctx) -> list[PhoneNumber]:
    """The caller's own internal numbers and the workspace's group numbers, personal first."""
    return personal_first(session.scalars(_usable_statement(ctx.user_id is None),
                                          {"org": ctx.organization_id, "user": ctx.user_id}))


def personal_first(numbers: Iterable[PhoneNumber]) -> list[PhoneNumber]:
    return sorted(numbers, key=lambda n: n.sharing != "personal")


def usable(no_user: bool) -> ColumnElement[bool]:
    """The lines a caller may use (binds "org", and "user" when there is one); without a user, "the caller's own"
    are the numbers owned by nobody."""
    own = PhoneNumber.user_id.is_(None) if no_user else PhoneNumber.user_id == bindparam("user")
    return and_(PhoneNumber.organization_id == bindparam("org"), PhoneNumber.number_type == "internal",
                PhoneNumber.status == "active", or_(own, PhoneNumber.sharing == "group"))


@lru_cache(maxsize=2)
def _usable_statement(no_user: bool) -> Select:
    """Built once (every call runs it)."""
    return select(PhoneNumber).where(usable(no_user)).order_by(PhoneNumber.date_created, PhoneNumber.id)


# What a line must be able to do for each kind of send; the first missing one is the problem reported.
NEEDS = {"sms": ("sms",), "mms": ("sms", "mms"), "voice": ("voice",)}


def choose_sender(session: Session, ctx: Ctx, to_region: str | None, local_phone: str | None,
                  capability: str = "sms") -> tuple[PhoneNumber | None, list[Problem]]:
    """The number to send from, or the problems that stop every candidate."""
    if local_phone:
        return named_sender(session, ctx, to_region, local_phone, capability)
    return sender_among(usable_numbers(session, ctx), to_region, capability)


def sender_among(numbers: list[PhoneNumber], to_region: str | None,
                 capability: str) -> tuple[PhoneNumber | None, list[Problem]]:
    """The line to use of the caller's usable ones (personal first), or the problems that stop every one.

    A line in the recipient's zone comes first: when it lacks a capability (pictures, say) that is the problem
    to report, not that some other country's line could send pictures but not to this country.
    """
    if not numbers:
        return None, [NO_BUSINESS_LINE]
    in_zone = [n for n in numbers if countries.zone(n.country) == countries.zone(to_region)]
    for number in in_zone:
        if _missing(number, capability) is None:
            return number, []
    if in_zone:
        # The line that lacks the least: one without MMS before one that can't text at all.
        closest = max(in_zone, key=lambda n: NEEDS[capability].index(_missing(n, capability)))
        return closest, [_not_capable(closest, _missing(closest, capability))]
    basic = NEEDS[capability][0]
    first = next((n for n in numbers if getattr(n, basic)), numbers[0])
    if not getattr(first, basic):
        return first, [_not_capable(first, basic)]
    return first, [_mismatch(first, to_region)]


def _missing(number: PhoneNumber, capability: str) -> str | None:
    return next((need for need in NEEDS[capability] if not getattr(number, need)), None)


def named() -> ColumnElement[bool]:
    """The workspace's active line with the named number (binds "org" and "number")."""
    return and_(PhoneNumber.organization_id == bindparam("org"), PhoneNumber.number == bindparam("number"),
                PhoneNumber.status == "active")


# Built once (every call from a named line runs it).
_NAMED = select(PhoneNumber).where(named())


def named_sender(session: Session, ctx: Ctx, to_region: str | None, local_phone: str,
                  capability: str) -> tuple[PhoneNumber | None, list[Problem]]:
    e164, problems = named_e164(local_phone)
    if e164 is None:
        return None, problems
    number = session.scalar(_NAMED, {"org": ctx.organization_id, "number": e164})
    return named_line(ctx, to_region, e164, number, capability)


def named_e164(local_phone: str) -> tuple[str | None, list[Problem]]:
    """The named line's number in E.164, or the problem with it."""
    try:
        return normalise(local_phone, "US", field="local_phone").e164, []
    except Invalid as exc:
        return None, exc.problems


def named_line(ctx: Ctx, to_region: str | None, e164: str, number: PhoneNumber | None,
               capability: str) -> tuple[PhoneNumber | None, list[Problem]]:
    """The line the caller named (`number`, the workspace's active line with that E.164, if any) if they may send
    from it to to_region, or the problem with it."""
    if number is None:
        return None, [Problem("unknown_local_phone", "local_phone",
                              f"{format_phone(e164)} is not one of this workspace's business numbers.")]
    if number.number_type != "internal":
        return None, [Problem("external_number", "local_phone",
                              f"{format_phone(e164)} is an external number; texts go out only from business numbers.")]
    if number.sharing != "group" and number.user_id not in (None, ctx.user_id):
        return None, [Problem("not_your_number", "local_phone", f"{format_phone(e164)} belongs to another user.")]
    missing = _missing(number, capability)
    if missing is not None:
        return number, [_not_capable(number, missing)]
    if countries.zone(number.country) != countries.zone(to_region):
        return number, [_mismatch(number, to_region)]
    return number, []


def _not_capable(number: PhoneNumber, capability: str) -> Problem:
    what = {"sms": "send texts", "mms": "send pictures", "voice": "make calls"}[capability]
    code = {"sms": "not_sms_capable", "mms": "mms_not_supported", "voice": "not_voice_capable"}[capability]
    return Problem(code, "local_phone", f"Your business line {format_phone(number.number)} can't {what}.")


def _mismatch(number: PhoneNumber, to_region: str | None) -> Problem:
    return Problem("country_mismatch", "local_phone",
                   f"Your business line {format_phone(number.number)} ({number.country}) can't text a number in "
                   f"{to_region or 'that country'}; add a number in that country.")
