"""The Twilio provider: the official `twilio` SDK over httpx (see httpx_client), errors mapped to ProviderError.

Base URL: the SDK composes every v2010 URL as `<domain.base_url stripped of "/">/2010-04-01/<path>`, where the
domain is `client.api` (messages, calls, available_phone_numbers and incoming_phone_numbers all hang off
`client.api.v2010.account`). Pagination follows `next_page_uri` through the same `domain.absolute_url`, so setting
`client.api.base_url` moves every request to the configured host. `edge`/`region` (or TWILIO_EDGE/TWILIO_REGION in
the environment) rewrite the host, so they are cleared when a custom base URL is set.

Number prices: the AvailablePhoneNumbers list has no price, so `monthly_cost` reads MONTHLY_COST below, Twilio's
approximate list prices in USD per month. They are estimates for showing a cost before buying; Twilio's pricing
API / pricing pages are the source of truth.
"""

import logging
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from tools.settings import TelephonySettings
from tools.telephony.base import (
    AvailableNumber,
    BoughtNumber,
    NumberSearch,
    NumberWebhooks,
    OutboundCall,
    OutboundMessage,
    ProviderError,
    SendResult,
)
from tools.telephony.errors import describe_error, is_retryable_status
from tools.telephony.httpx_client import HttpxTwilioClient, TwilioTransportError

log = logging.getLogger(__name__)

TWILIO_DEFAULT_API_BASE_URL = "https://api.twilio.com"
CALL_STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
NUMBER_KINDS = ("local", "toll_free", "mobile")

# Approximate Twilio list prices, USD per month, per (country, kind). Unknown pairs fall back to DEFAULT_MONTHLY_COST.
MONTHLY_COST: dict[tuple[str, str], Decimal] = {
    ("US", "local"): Decimal("1.15"),
    ("US", "toll_free"): Decimal("2.15"),
    ("CA", "local"): Decimal("1.15"),
    ("CA", "toll_free"): Decimal("2.15"),
    ("PR", "local"): Decimal("3.00"),
    ("GB", "local"): Decimal("1.15"),
    ("GB", "mobile"): Decimal("1.15"),
    ("GB", "toll_free"): Decimal("2.00"),
    ("DE", "local"): Decimal("1.15"),
    ("DE", "mobile"): Decimal("1.15"),
    ("DE", "toll_free"): Decimal("20.00"),
    ("AU", "local"): Decimal("3.00"),
    ("AU", "mobile"): Decimal("6.50"),
    ("AU", "toll_free"): Decimal("16.00"),
    ("FR", "local"): Decimal("1.15"),
    ("FR", "mobile"): Decimal("3.00"),
    ("FR", "toll_free"): Decimal("20.00"),
    ("BE", "local"): Decimal("1.15"),
    ("BE", "mobile"): Decimal("3.00"),
    ("BE", "toll_free"): Decimal("25.00"),
    ("DK", "local"): Decimal("4.00"),
    ("DK", "mobile"): Decimal("4.00"),
    ("DK", "toll_free"): Decimal("25.00"),
    ("IL", "local"): Decimal("5.00"),
    ("IL", "mobile"): Decimal("15.00"),
    ("IL", "toll_free"): Decimal("25.00"),
    ("ZA", "local"): Decimal("4.25"),
    ("ZA", "mobile"): Decimal("4.25"),
    ("ZA", "toll_free"): Decimal("25.00"),
    ("AT", "local"): Decimal("1.15"),
    ("AT", "mobile"): Decimal("3.00"),
    ("AT", "toll_free"): Decimal("25.00"),
    ("CH", "local"): Decimal("2.00"),
    ("CH", "mobile"): Decimal("10.00"),
    ("CH", "toll_free"): Decimal("25.00"),
    ("FI", "local"): Decimal("1.15"),
    ("FI", "mobile"): Decimal("3.00"),
    ("FI", "toll_free"): Decimal("25.00"),
    ("NL", "local"): Decimal("1.15"),
    ("NL", "mobile"): Decimal("3.00"),
    ("NL", "toll_free"): Decimal("25.00"),
    ("PL", "local"): Decimal("1.15"),
    ("PL", "mobile"): Decimal("3.00"),
    ("PL", "toll_free"): Decimal("25.00"),
    ("SE", "local"): Decimal("3.00"),
    ("SE", "mobile"): Decimal("3.00"),
    ("SE", "toll_free"): Decimal("25.00"),
}
DEFAULT_MONTHLY_COST = Decimal("5.00")

# Twilio's answer when the messaging service's sender pool already has the number: it joined already (through a
# request whose answer was lost, or a purchase of the same number that raced ours).
ALREADY_IN_SERVICE = 21710
# How many of the account's numbers recover_number reads: Twilio's PhoneNumber filter also matches partial numbers.
RECOVER_SCAN_LIMIT = 20

# find_message reads the newest messages to a number back to `since` (less this slack, for clock skew between us and
# Twilio), at most FIND_SCAN_LIMIT of them.
FIND_SLACK = timedelta(minutes=2)
FIND_SCAN_LIMIT = 500


def monthly_cost(country: str, kind: str) -> Decimal:
    """Estimated monthly price of a number (see MONTHLY_COST)."""
    return MONTHLY_COST.get((country.upper(), kind), DEFAULT_MONTHLY_COST)


def capability_flags(capabilities: Any) -> tuple[bool, bool, bool]:
    """(sms, mms, voice) from Twilio's capabilities object, whose keys come as "SMS"/"MMS"/"voice" or any case."""
    if not isinstance(capabilities, dict):
        return False, False, False
    lowered = {str(k).lower(): v for k, v in capabilities.items()}

    def flag(key: str) -> bool:
        value = lowered.get(key)
        if isinstance(value, str):
            return value.strip().lower() == "true"
        return bool(value)

    return flag("sms"), flag("mms"), flag("voice")


def _decimal(value: Any) -> Decimal | None:
    """Twilio prices are strings like "-0.00790" (negative = charged); Cody keeps the positive amount."""
    if value in (None, ""):
        return None
    try:
        return abs(Decimal(str(value)))
    except InvalidOperation:
        return None


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


class TwilioProvider:
    name = "twilio"

    def __init__(self, settings: TelephonySettings, http: httpx.Client | None = None):
        if not settings.twilio_account_sid or not settings.twilio_auth_token:
            raise ValueError("TwilioProvider needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        self.settings = settings
        self._token = settings.twilio_auth_token.get_secret_value()
        self.http_client = HttpxTwilioClient(http, timeout=settings.twilio_timeout_seconds)
        self.client = Client(settings.twilio_account_sid, self._token, http_client=self.http_client)
        base_url = (settings.twilio_api_base_url or TWILIO_DEFAULT_API_BASE_URL).rstrip("/")
        if base_url != TWILIO_DEFAULT_API_BASE_URL:
            # A fake or Prism: never let an edge/region rewrite its host.
            self.client.edge = None
            self.client.region = None
            self.client.api.base_url = base_url
            self.client.messaging.base_url = base_url
        self.base_url = base_url

    def close(self) -> None:
        self.http_client.close()

    # -- messages --------------------------------------------------------------------------------------------

    def send_message(self, message: OutboundMessage) -> SendResult:
        kwargs: dict[str, Any] = {"to": message.to, "body": message.body}
        if message.media_urls:
            kwargs["media_url"] = list(message.media_urls)
        if message.status_callback:
            kwargs["status_callback"] = message.status_callback
        # Both may be given: the service applies its 10DLC registration, From keeps the agent's own number.
        service = message.messaging_service_sid or (None if message.from_ else self.settings.twilio_messaging_service_sid)
        if service:
            kwargs["messaging_service_sid"] = service
        if message.from_:
            kwargs["from_"] = message.from_
        if not service and not message.from_:
            raise ProviderError("A message needs a sending number or a messaging service.", code=None, status=None)
        created = self._call(self.client.messages.create, **kwargs)
        return SendResult(sid=created.sid, status=str(created.status), price=_decimal(created.price))

    def cancel_message(self, sid: str) -> None:
        self._call(self.client.messages(sid).update, status="canceled")

    def fetch_message_status(self, sid: str) -> str | None:
        fetched = self._call(self.client.messages(sid).fetch)
        return str(fetched.status) if fetched.status is not None else None

    def find_message(self, to: str, from_: str | None, body: str, since: datetime,
                     exclude: Collection[str] = ()) -> SendResult | None:
        """The outbound message to `to` (from `from_`) with exactly `body`, created at or after `since`.

        Twilio lists messages newest first. Its DateSent filter works on whole days and a message still queued has
        no date_sent yet (it would be missed, then sent twice), so the list is filtered by To/From only and read
        back until the messages are older than `since` (FIND_SCAN_LIMIT at most).
        """
        filters: dict[str, Any] = {"to": to}
        if from_:
            filters["from_"] = from_
        cutoff = _aware(since) - FIND_SLACK
        skip = set(exclude)

        def scan() -> SendResult | None:
            for record in self.client.messages.stream(limit=FIND_SCAN_LIMIT, page_size=50, **filters):
                moments = [_aware(m) for m in (record.date_created, record.date_sent) if m is not None]
                if moments and max(moments) < cutoff:
                    return None
                if (record.direction or "").startswith("inbound") or record.sid in skip:
                    continue
                if (record.body or "") == body:
                    return SendResult(sid=record.sid, status=str(record.status), price=_decimal(record.price))
            return None

        return self._call(scan)

    # -- calls -----------------------------------------------------------------------------------------------

    def start_call(self, call: OutboundCall) -> SendResult:
        kwargs: dict[str, Any] = {"to": call.to, "from_": call.from_, "url": call.url, "record": call.record}
        if call.status_callback:
            kwargs["status_callback"] = call.status_callback
            kwargs["status_callback_event"] = list(CALL_STATUS_EVENTS)
        if call.recording_status_callback:
            kwargs["recording_status_callback"] = call.recording_status_callback
        created = self._call(self.client.calls.create, **kwargs)
        return SendResult(sid=created.sid, status=str(created.status), price=_decimal(created.price))

    # -- numbers ---------------------------------------------------------------------------------------------

    def search_numbers(self, search: NumberSearch) -> list[AvailableNumber]:
        if search.kind not in NUMBER_KINDS:
            raise ProviderError(f"Unknown number kind {search.kind!r}; use one of {', '.join(NUMBER_KINDS)}.")
        country = search.country.upper()
        listing = getattr(self.client.available_phone_numbers(country), search.kind)
        filters: dict[str, Any] = {}
        if search.area_code:
            filters["area_code"] = search.area_code
        if search.contains:
            filters["contains"] = search.contains
        if search.sms is not None:
            filters["sms_enabled"] = search.sms
        if search.mms is not None:
            filters["mms_enabled"] = search.mms
        if search.voice is not None:
            filters["voice_enabled"] = search.voice
        records = self._call(listing.list, limit=search.limit, **filters)
        cost = monthly_cost(country, search.kind)
        found = []
        for record in records[: search.limit]:
            sms, mms, voice = capability_flags(record.capabilities)
            found.append(
                AvailableNumber(
                    number=record.phone_number,
                    country=(record.iso_country or country).upper(),
                    kind=search.kind,
                    sms=sms,
                    mms=mms,
                    voice=voice,
                    monthly_cost=cost,
                    locality=record.locality or "",
                    region=record.region or "",
                )
            )
        return found

    def buy_number(self, number: str, webhooks: NumberWebhooks) -> BoughtNumber:
        bought = self._call(
            self.client.incoming_phone_numbers.create,
            phone_number=number,
            sms_url=webhooks.sms_url,
            voice_url=webhooks.voice_url,
            status_callback=webhooks.status_callback,
        )
        sms, mms, voice = capability_flags(bought.capabilities)
        self._join_service(bought.sid)
        return BoughtNumber(sid=bought.sid, number=bought.phone_number or number, sms=sms, mms=mms, voice=voice)

    def recover_number(self, number: str) -> BoughtNumber | None:
        """The account's number `number` (exactly), made ready as buy_number makes a new one: the purchase whose
        answer was lost, or the join that followed it, may have left it outside the messaging service's pool."""
        held = self._call(self.client.incoming_phone_numbers.list, phone_number=number, limit=RECOVER_SCAN_LIMIT)
        record = next((r for r in held if r.phone_number == number), None)
        if record is None:
            return None
        self._join_service(record.sid)
        sms, mms, voice = capability_flags(record.capabilities)
        return BoughtNumber(sid=record.sid, number=record.phone_number, sms=sms, mms=mms, voice=voice)

    def _join_service(self, number_sid: str) -> None:
        """Add a bought number to the registered messaging service's sender pool, when one is configured: texts from
        it to the US go out under that registration (outside the pool Twilio warns 21711 and carriers may block
        them). A number the pool has already (21710) has joined. A number that cannot join is given back and the
        join's error raised, so a purchase either yields a number that can text or fails whole."""
        service_sid = self.settings.twilio_messaging_service_sid
        if not service_sid:
            return
        try:
            self._call(self.client.messaging.v1.services(service_sid).phone_numbers.create, phone_number_sid=number_sid)
        except ProviderError as exc:
            if exc.code == ALREADY_IN_SERVICE:
                return
            try:
                self.release_number(number_sid)
            except ProviderError:
                log.exception("could not give back %s after it failed to join messaging service %s", number_sid,
                              service_sid)
            raise

    def release_number(self, sid: str) -> None:
        self._call(self.client.incoming_phone_numbers(sid).delete)

    # -- errors ----------------------------------------------------------------------------------------------

    def _call(self, fn, *args, **kwargs):
        """Run one SDK call; every failure becomes a ProviderError without credentials in it."""
        try:
            return fn(*args, **kwargs)
        except TwilioRestException as exc:
            raise self._rest_error(exc.status, exc.code, exc.msg) from exc
        except TwilioTransportError as exc:
            log.warning("Twilio transport error: %s", self._scrub(exc.message))
            raise ProviderError(self._scrub(exc.message), code=None, status=None, retryable=True) from exc
        except TwilioException as exc:
            # TwilioServiceException (RFC 9457 bodies) and other SDK errors.
            status = getattr(exc, "status", None)
            code = getattr(exc, "code", None)
            raise self._rest_error(status, code, str(getattr(exc, "detail", None) or getattr(exc, "title", ""))) from exc

    def _rest_error(self, status: int | None, code: Any, detail: str | None) -> ProviderError:
        try:
            code = int(code) if code is not None else None
        except (TypeError, ValueError):
            code = None
        if code is not None and (code == status or code < 10000):
            code = None  # the SDK puts the HTTP status in `code` when the body had none; Twilio codes have 5 digits
        message = describe_error(code) if code is not None else f"Twilio request failed (HTTP {status})."
        log.warning("Twilio error status=%s code=%s: %s", status, code, self._scrub(detail or ""))
        error = ProviderError(self._scrub(message), code=code, status=status, retryable=is_retryable_status(status))
        error.detail = self._scrub(detail or "")  # Twilio's own wording, for logs and debugging
        return error

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text
