"""Business phone numbers: search the carrier's stock, buy (paid from the wallet), edit, release.

A number belongs to one workspace: every query filters on the caller's organization, and an active internal number
can be held by one workspace only (the partial unique index `uq_phone_number_active`).

Buying, in this order, so that a refusal or a carrier failure leaves no charge:
1. permission (`numbers_create`), 2. the number is not active anywhere here, 3. the carrier offers it (a search),
4. reserve the first month from the wallet (conditional UPDATE + ledger row, committed), 5. buy at the carrier with
its webhooks pointed at PUBLIC_BASE_URL, 6. on a carrier failure refund the reservation (ledger row), 7. save the
number, paid until one month on. `purchase` and `request_internal` therefore commit by themselves.

Later months are charged by tools/renewals.py. A number being released is `billing_status` "releasing" (committed
before the carrier is asked), so no renewal charges it while the carrier call is under way.
"""

import calendar
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import phonenumbers
from phonenumbers import PhoneNumberType
from pydantic import BaseModel, Field
from sqlalchemy import case, null, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.ids import new_id
from db.models import PhoneNumber
from db.types import utcnow
from tools import wallet
from tools.context import Ctx
from tools.messaging.holds import hold_sends_from_number
from tools.paging import Page, PageRequest, fetch_page
from tools.phones import normalise
from tools.problems import Forbidden, Invalid, NotFound, PaymentRequired, Problem, ServiceError
from tools.telephony.base import AvailableNumber, BoughtNumber, NumberSearch, NumberWebhooks, Provider, ProviderError

log = logging.getLogger("cody.numbers")

KINDS = ("local", "toll_free", "mobile")
SHARING = ("personal", "group")
NUMBER_TYPES = ("internal", "external")
STATUSES = ("active", "inactive")
BILLING_STATUSES = ("paid", "past_due", "releasing")
MAX_SEARCH = 50

SMS_WEBHOOK = "/api/webhooks/twilio/sms"
VOICE_WEBHOOK = "/api/webhooks/twilio/voice"
VOICE_STATUS_WEBHOOK = "/api/webhooks/twilio/voice/status"

# Close's carrier_type for request/internal, as our kinds.
CARRIER_TYPES = {"local": "local", "national": "local", "mobile": "mobile", "tollfree": "toll_free",
                 "toll_free": "toll_free"}
# Twilio's purchase errors for a missing address (21613, 21615, 21631) or regulatory bundle (21649): Close's
# `needs-more-info`.
NEEDS_MORE_INFO_CODES = frozenset({21613, 21615, 21631, 21649})

# Close's request/internal failure statuses, carried by the problem codes below.
STATUS_BY_CODE = {"has_voice_only": "has-voice-only", "needs_more_info": "needs-more-info"}


class ProviderUnavailable(ServiceError):
    """The carrier could not be reached or failed on its side; worth trying again later."""

    status_code = 503


def close_status(exc: ServiceError) -> str:
    """Close's `status` for a failed request/internal: has-voice-only, needs-more-info, billing-error or error."""
    if isinstance(exc, PaymentRequired):
        return "billing-error"
    if isinstance(exc, Invalid):
        for problem in exc.problems:
            if problem.code in STATUS_BY_CODE:
                return STATUS_BY_CODE[problem.code]
    return "error"


# -- billing periods ---------------------------------------------------------------------------------------


def months_after(start: datetime, months: int = 1, day: int | None = None) -> datetime:
    """`start` moved on whole calendar months, to `day` of the month (start's own by default), or to the month's last
    day when it has fewer: a number bought on 31 January is paid until 28 (or 29) February, then 31 March."""
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    return start.replace(year=year, month=month + 1,
                         day=min(day or start.day, calendar.monthrange(year, month + 1)[1]))


def next_paid_until(paid_until: datetime, bought: datetime) -> datetime:
    """The end of the month after the one ending at `paid_until`, on the day of the month the number was bought."""
    return months_after(paid_until, 1, bought.day)


# -- search ------------------------------------------------------------------------------------------------


def check_country(country: str | None, field: str = "country") -> str:
    code = (country or "").strip().upper()
    if len(code) != 2 or not code.isalpha() or phonenumbers.country_code_for_region(code) == 0:
        raise Invalid.one("invalid_country", field, f"{country!r} is not a two-letter ISO country code, such as US.")
    return code


def check_kind(kind: str | None, field: str = "type") -> str:
    value = (kind or "local").strip().lower().replace("-", "_")
    value = {"tollfree": "toll_free"}.get(value, value)
    if value not in KINDS:
        raise Invalid.one("invalid_choice", field, f"Not a valid choice: use one of {', '.join(KINDS)}.")
    return value


def end_transaction(session: Session) -> None:
    """Finish the session's transaction before talking to the carrier: on SQLite every transaction holds the
    database's write lock (BEGIN IMMEDIATE), and nothing should wait on a network call."""
    session.commit()


def _search(provider: Provider, search: NumberSearch) -> list[AvailableNumber]:
    try:
        return provider.search_numbers(search)
    except ProviderError as exc:
        if exc.status == 404:  # the carrier has no such listing (country or kind): nothing for sale
            return []
        if exc.retryable or exc.status is None or exc.status >= 500:
            raise ProviderUnavailable(f"The carrier could not be reached to search numbers: {exc.message}") from exc
        raise Invalid.one("provider_error", "", exc.message) from exc


def _taken(session: Session, numbers: list[str]) -> set[str]:
    """Which of these numbers are active business numbers already (in any workspace)."""
    if not numbers:
        return set()
    return set(session.scalars(select(PhoneNumber.number).where(
        PhoneNumber.number.in_(numbers), PhoneNumber.status == "active", PhoneNumber.number_type == "internal")))


def search_available(session: Session, provider: Provider, search: NumberSearch) -> list[AvailableNumber]:
    """The carrier's numbers for sale that match, minus those already active here."""
    end_transaction(session)
    found = _search(provider, search)
    taken = _taken(session, [n.number for n in found])
    return [n for n in found if n.number not in taken]


def _kinds_for(number: phonenumbers.PhoneNumber) -> tuple[str, ...]:
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.TOLL_FREE:
        return ("toll_free",)
    if kind == PhoneNumberType.MOBILE:
        return ("mobile",)
    if kind == PhoneNumberType.FIXED_LINE:
        return ("local",)
    return ("local", "mobile", "toll_free")


def find_offer(provider: Provider, e164: str, parsed: phonenumbers.PhoneNumber, country: str) -> AvailableNumber | None:
    """The carrier's listing of exactly this number, if it is for sale."""
    national = phonenumbers.national_significant_number(parsed)
    nanp = parsed.country_code == 1
    for kind in _kinds_for(parsed):
        search = NumberSearch(country=country, kind=kind, area_code=national[:3] if nanp else None,
                              contains=national, limit=MAX_SEARCH)
        for offer in _search(provider, search):
            if offer.number == e164:
                return offer
    return None


# -- reading -------------------------------------------------------------------------------------------------


def list_numbers(session: Session, ctx: Ctx, page: PageRequest, number_type: str | None = None,
                 status: str | None = "active", number: str | None = None, user_id: str | None = None,
                 is_group_number: bool | None = None, billing_status: str | None = None) -> Page:
    """The workspace's numbers; active ones unless `status` says "inactive" or "all"; `billing_status` "past_due"
    finds those whose renewal the wallet could not pay."""
    stmt = select(PhoneNumber).where(PhoneNumber.organization_id == ctx.organization_id)
    problems = []
    if number_type is not None:
        if number_type not in NUMBER_TYPES:
            problems.append(Problem("invalid_choice", "number_type", f"Not a valid choice: use one of {', '.join(NUMBER_TYPES)}."))
        stmt = stmt.where(PhoneNumber.number_type == number_type)
    status = status or "active"
    if status not in (*STATUSES, "all"):
        problems.append(Problem("invalid_choice", "status", "Not a valid choice: use active, inactive or all."))
    elif status != "all":
        stmt = stmt.where(PhoneNumber.status == status)
    if billing_status is not None:
        if billing_status not in BILLING_STATUSES:
            problems.append(Problem("invalid_choice", "billing_status",
                                    f"Not a valid choice: use one of {', '.join(BILLING_STATUSES)}."))
        stmt = stmt.where(PhoneNumber.billing_status == billing_status)
    if problems:
        raise Invalid(problems)
    if number:
        stmt = stmt.where(PhoneNumber.number == normalise(number, field="number").e164)
    if user_id:
        stmt = stmt.where(PhoneNumber.user_id == user_id)
    if is_group_number is not None:
        stmt = stmt.where((PhoneNumber.sharing == "group") if is_group_number else (PhoneNumber.sharing != "group"))
    return fetch_page(session, stmt.order_by(PhoneNumber.date_created, PhoneNumber.id), page)


def get_number(session: Session, ctx: Ctx, phone_id: str) -> PhoneNumber:
    row = session.scalar(select(PhoneNumber).where(PhoneNumber.id == phone_id,
                                                   PhoneNumber.organization_id == ctx.organization_id))
    if row is None:
        raise NotFound("Phone number not found.")
    return row


# -- editing -------------------------------------------------------------------------------------------------


class NumberPatch(BaseModel):
    """PUT /phone_number/{id}/: a patch; fields left out keep their value. Unknown fields are ignored."""

    label: str | None = Field(default=None, max_length=200)
    forward_to: str | None = Field(default=None, max_length=64)
    sharing: str | None = Field(default=None, max_length=20)


def _may_manage(ctx: Ctx, number: PhoneNumber) -> bool:
    """Admins and number managers may edit any number; others only their own personal numbers."""
    if ctx.is_admin or ctx.can("numbers_create"):
        return True
    return number.sharing == "personal" and number.user_id == ctx.user_id


def update_number(session: Session, ctx: Ctx, phone_id: str, data: NumberPatch) -> PhoneNumber:
    number = get_number(session, ctx, phone_id)
    given = data.model_fields_set
    if not _may_manage(ctx, number) or ("sharing" in given and not ctx.can("numbers_create")):
        raise Forbidden("You can only change your own personal numbers (numbers_create is needed for others).")
    if number.status != "active":
        raise Invalid.one("inactive", "status", "This number has been released and can no longer be changed.")
    problems: list[Problem] = []
    forward_to: str | None = number.forward_to
    if "forward_to" in given:
        raw = (data.forward_to or "").strip()
        if raw:
            try:
                forward_to = normalise(raw, number.country or "US", field="forward_to").e164
            except Invalid as exc:
                problems += exc.problems
            else:
                if forward_to == number.number:
                    problems.append(Problem("invalid_phone", "forward_to", "A number cannot forward to itself."))
        else:
            forward_to = None
    if "sharing" in given and data.sharing not in SHARING:
        problems.append(Problem("invalid_choice", "sharing", "Not a valid choice: use personal or group."))
    if "label" in given and data.label is None:
        problems.append(Problem("invalid", "label", "label cannot be null."))
    if problems:
        raise Invalid(problems)
    if "label" in given:
        number.label = data.label.strip()
    number.forward_to = forward_to
    if "sharing" in given:
        number.sharing = data.sharing
        if data.sharing == "personal" and number.user_id is None:
            number.user_id = ctx.user_id
    number.date_updated = utcnow()
    session.flush()
    return number


def release_number(session: Session, ctx: Ctx, provider: Provider, phone_id: str) -> PhoneNumber:
    """Release the number at the carrier and mark it inactive; texts and calls to it are no longer routed.

    A billed number is marked "releasing" (committed) before the carrier is asked, so no renewal charges it meanwhile;
    if the carrier refuses, it goes back to what it was."""
    number = get_number(session, ctx, phone_id)
    if not ctx.can("numbers_delete"):
        raise Forbidden("You don't have permission to release phone numbers (numbers_delete).")
    if number.status != "active":
        return number
    if number.number_type == "internal" and number.provider_sid:
        claimed = claim_release(session, number.id) if number.billing_status is not None else False
        end_transaction(session)
        try:
            release_at_carrier(provider, number.provider_sid)
        except BaseException:
            if claimed:
                session.rollback()
                give_back_release(session, number.id)
                session.commit()
            raise
    mark_released(session, ctx, number.id, number.number)
    session.refresh(number)
    return number


# What a billed number's billing_status is once no longer "releasing": past due when its grace period had begun.
SETTLED_BILLING_STATUS = case((PhoneNumber.billing_status.is_(None), null()),
                              (PhoneNumber.grace_until.is_(None), "paid"), else_="past_due")


def claim_release(session: Session, phone_id: str) -> bool:
    """Mark an active billed number "releasing" (no renewal charges it from then on); the caller commits."""
    done = session.execute(update(PhoneNumber)
                           .where(PhoneNumber.id == phone_id, PhoneNumber.status == "active",
                                  PhoneNumber.billing_status.is_not(None))
                           .values(billing_status="releasing", date_updated=utcnow())
                           .execution_options(synchronize_session=False))
    return done.rowcount == 1


def give_back_release(session: Session, phone_id: str) -> None:
    """The carrier kept the number: it is billed again as it was before `claim_release`."""
    session.execute(update(PhoneNumber)
                    .where(PhoneNumber.id == phone_id, PhoneNumber.status == "active",
                           PhoneNumber.billing_status == "releasing")
                    .values(billing_status=SETTLED_BILLING_STATUS, date_updated=utcnow())
                    .execution_options(synchronize_session=False))


def release_at_carrier(provider: Provider, sid: str) -> None:
    """Give the number back to the carrier; one the carrier no longer has (404) counts as given back."""
    try:
        provider.release_number(sid)
    except ProviderError as exc:
        if exc.status != 404:  # already gone at the carrier: release here too
            if exc.retryable or exc.status is None or exc.status >= 500:
                raise ProviderUnavailable(f"The carrier could not release the number: {exc.message}") from exc
            raise Invalid.one("provider_error", "", f"The carrier could not release the number: {exc.message}") from exc


def mark_released(session: Session, ctx: Ctx, phone_id: str, number: str) -> bool:
    """Mark an active number inactive (released now) and hold the texts waiting to go out from it; False when it was
    released already. Its billing_status keeps what it was (paid, or past due). The caller commits."""
    now = utcnow()
    done = session.execute(update(PhoneNumber)
                           .where(PhoneNumber.id == phone_id, PhoneNumber.status == "active")
                           .values(status="inactive", billing_status=SETTLED_BILLING_STATUS, date_released=now,
                                   date_updated=now)
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return False
    hold_sends_from_number(session, ctx, number)
    return True


# -- buying --------------------------------------------------------------------------------------------------


def webhooks_for(public_base_url: str) -> NumberWebhooks:
    base = public_base_url.rstrip("/")
    return NumberWebhooks(sms_url=base + SMS_WEBHOOK, voice_url=base + VOICE_WEBHOOK,
                          status_callback=base + VOICE_STATUS_WEBHOOK)


def _check_may_buy(ctx: Ctx) -> None:
    if not ctx.can("numbers_create"):
        raise Forbidden("You don't have permission to buy phone numbers (numbers_create).")


def _check_sharing(sharing: str | None) -> str:
    value = sharing or "personal"
    if value not in SHARING:
        raise Invalid.one("invalid_choice", "sharing", "Not a valid choice: use personal or group.")
    return value


def _in_use(number: str) -> Invalid:
    return Invalid.one("number_taken", "number", f"{number} is already in use as a business number.")


@dataclass(frozen=True)
class Purchase:
    number: PhoneNumber
    cost: Decimal


def _buy(session: Session, ctx: Ctx, provider: Provider, public_base_url: str, offer: AvailableNumber,
         sharing: str, label: str) -> PhoneNumber:
    """Reserve the first month, buy at the carrier, save; refund the reservation if the carrier refuses."""
    phone_id = new_id("phon")
    cost = Decimal(offer.monthly_cost)
    reason = f"Phone number {offer.number}: first month"
    if not wallet.debit(session, ctx.organization_id, cost, reason, reference=phone_id, user_id=ctx.user_id):
        available = wallet.balance(session, ctx.organization_id)
        session.rollback()
        raise PaymentRequired(f"Insufficient wallet balance: ${wallet.money(cost)} needed, "
                                  f"${wallet.money(max(available, Decimal(0)))} available")
    session.commit()

    def refund(why: str) -> None:
        session.rollback()
        wallet.add_credit(session, ctx.organization_id, cost, f"Refund for {offer.number}: {why}"[:200],
                          reference=phone_id, user_id=ctx.user_id)
        session.commit()

    try:
        bought = _buy_at_carrier(provider, offer.number, webhooks_for(public_base_url))
    except ProviderError as exc:
        refund("the carrier refused the purchase")
        code = "needs_more_info" if exc.code in NEEDS_MORE_INFO_CODES else "provider_error"
        if exc.retryable and code == "provider_error":
            raise ProviderUnavailable(f"The carrier could not be reached to buy {offer.number}: {exc.message}") from exc
        raise Invalid.one(code, "number", exc.message) from exc
    except BaseException:
        refund("the purchase failed")
        raise

    now = utcnow()
    row = PhoneNumber(id=phone_id, organization_id=ctx.organization_id, number=bought.number or offer.number,
                      label=label, number_type="internal", kind=offer.kind, country=offer.country,
                      sms=bought.sms, mms=bought.mms, voice=bought.voice, status="active", sharing=sharing,
                      user_id=ctx.user_id if sharing == "personal" else None, provider=provider.name,
                      provider_sid=bought.sid, monthly_cost=cost, date_created=now, date_updated=now,
                      paid_until=months_after(now), billing_status="paid")
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        # Someone else's purchase of the same number won the race: give ours back (unless what the carrier holds
        # is the winner's, found after our answer was lost) and refund.
        session.rollback()
        if not _saved_sid(session, bought.sid):
            try:
                provider.release_number(bought.sid)
            except ProviderError:
                log.exception("could not release %s (%s) after a lost purchase race", offer.number, bought.sid)
        refund("the number was taken by another purchase")
        raise _in_use(offer.number) from None
    return row


def _buy_at_carrier(provider: Provider, number: str, webhooks: NumberWebhooks) -> BoughtNumber:
    """Buy the number. When the answer never came (a timeout, a 5xx), ask the carrier whether the purchase went
    through after all (`recover_number`, which makes the number ready as a purchase does: in the messaging service's
    sender pool), so a number bought there is kept and paid for, not refunded and left billing at the carrier.
    A refusal the carrier answered is final; so is a recovery that failed (its error is raised, and the purchase
    refunded)."""
    try:
        return provider.buy_number(number, webhooks)
    except ProviderError as exc:
        if exc.status is not None and exc.status < 500 and not exc.retryable:
            raise
        try:
            held = provider.recover_number(number)
        except ProviderError as recovery:
            log.exception("the purchase of %s may have gone through at the carrier, but it could not be recovered: %s",
                          number, recovery.message)
            raise
        if held is None:
            raise
        log.warning("the purchase of %s went through at the carrier (%s) though its answer was lost", number, held.sid)
        return held


def _saved_sid(session: Session, sid: str) -> bool:
    return session.scalar(select(PhoneNumber.id).where(PhoneNumber.provider_sid == sid)) is not None


def purchase(session: Session, ctx: Ctx, provider: Provider, public_base_url: str, number: str,
             sharing: str | None = "personal", label: str = "") -> PhoneNumber:
    """Buy one number the carrier offers (see the module's docstring for the order of steps)."""
    _check_may_buy(ctx)
    sharing = _check_sharing(sharing)
    phone = normalise(number or "", "US", field="number")
    if _taken(session, [phone.e164]):
        raise _in_use(phone.e164)
    end_transaction(session)
    offer = find_offer(provider, phone.e164, phone.number, phone.region) if phone.region else None
    if offer is None:
        raise Invalid.one("not_available", "number", f"{phone.e164} is not available to buy.")
    return _buy(session, ctx, provider, public_base_url, offer, sharing, label.strip())


class RequestInternal(BaseModel):
    """Close's POST /phone_number/request/internal/."""

    country: str | None = Field(default=None, max_length=8)
    sharing: str = Field(default="personal", max_length=20)
    prefix: str | None = Field(default="", max_length=20)
    with_sms: bool | None = None
    with_mms: bool | None = None
    carrier_type: str | None = Field(default=None, max_length=20)
    label: str = Field(default="", max_length=200)


def request_internal(session: Session, ctx: Ctx, provider: Provider, public_base_url: str,
                     data: RequestInternal) -> PhoneNumber:
    """Buy the first number matching country, prefix (area code) and capabilities, as Close's request/internal."""
    _check_may_buy(ctx)
    problems: list[Problem] = []
    country = kind = None
    try:
        country = check_country(data.country)
    except Invalid as exc:
        problems += exc.problems
    try:
        kind = CARRIER_TYPES[(data.carrier_type or "local").strip().lower()]
    except KeyError:
        problems.append(Problem("invalid_choice", "carrier_type", "Not a valid choice: use local, national, mobile or tollfree."))
    try:
        sharing = _check_sharing(data.sharing)
    except Invalid as exc:
        problems += exc.problems
    prefix = (data.prefix or "").strip().lstrip("+").replace(" ", "").replace("-", "")
    if prefix and not prefix.isdigit():
        problems.append(Problem("invalid", "prefix", "The prefix must be digits, such as an area code (212)."))
    if data.with_mms and data.with_sms is False:
        problems.append(Problem("invalid", "with_mms", "An MMS number must take SMS too: set with_sms to true."))
    if problems:
        raise Invalid(problems)

    area_code = contains = None
    if prefix:
        calling_code = phonenumbers.country_code_for_region(country)
        if calling_code == 1 and len(prefix) == 3:
            area_code = prefix
        else:
            contains = f"+{calling_code}{prefix.lstrip('0') if calling_code != 1 else prefix}"
    want_sms = data.with_sms is not False  # SMS-capable by default, as Close rents them
    search = NumberSearch(country=country, kind=kind, area_code=area_code, contains=contains,
                          sms=True if want_sms else None, mms=True if data.with_mms else None, limit=MAX_SEARCH)
    offers = search_available(session, provider, search)
    if not offers:
        anything = search_available(session, provider, NumberSearch(country=country, kind=kind, area_code=area_code,
                                                                    contains=contains, limit=MAX_SEARCH))
        where = f"{country}" + (f" with prefix {prefix}" if prefix else "")
        if anything and want_sms and not any(n.sms for n in anything):
            raise Invalid.one("has_voice_only", "with_sms",
                              f"Only numbers without SMS are available in {where}; pass with_sms false to rent one.")
        if anything and data.with_mms:
            raise Invalid.one("no_mms", "with_mms", f"No MMS-capable numbers are available in {where}.")
        raise Invalid.one("not_available", "prefix" if prefix else "country", f"No numbers are available in {where}.")
    return _buy(session, ctx, provider, public_base_url, offers[0], sharing, data.label.strip())
