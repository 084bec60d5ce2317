"""What a carrier does, as one protocol: send and cancel messages, start calls, search, buy and release numbers."""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class OutboundMessage:
    to: str
    from_: str | None
    body: str
    media_urls: tuple[str, ...] = ()
    messaging_service_sid: str | None = None
    status_callback: str | None = None


@dataclass(frozen=True)
class OutboundCall:
    to: str
    from_: str
    url: str
    status_callback: str | None = None
    record: bool = False
    recording_status_callback: str | None = None


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str
    price: Decimal | None = None


@dataclass(frozen=True)
class AvailableNumber:
    number: str
    country: str
    kind: str
    sms: bool
    mms: bool
    voice: bool
    monthly_cost: Decimal
    locality: str = ""
    region: str = ""


@dataclass(frozen=True)
class BoughtNumber:
    sid: str
    number: str
    sms: bool
    mms: bool
    voice: bool


@dataclass(frozen=True)
class NumberSearch:
    country: str
    kind: str = "local"
    area_code: str | None = None
    contains: str | None = None
    sms: bool | None = None
    mms: bool | None = None
    voice: bool | None = None
    limit: int = 20


@dataclass(frozen=True)
class NumberWebhooks:
    sms_url: str
    voice_url: str
    status_callback: str


class ProviderError(Exception):
    """The carrier refused or failed; `code` is the carrier's numeric code when it gave one."""

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.retryable = retryable


@dataclass
class CallbackForm:
    """A webhook the provider would post to the app, as (url, ordered form pairs)."""

    url: str
    params: list[tuple[str, str]] = field(default_factory=list)


class Provider(Protocol):
    name: str

    def send_message(self, message: OutboundMessage) -> SendResult: ...

    def cancel_message(self, sid: str) -> None: ...

    def fetch_message_status(self, sid: str) -> str | None: ...

    def find_message(self, to: str, from_: str | None, body: str, since: datetime,
                     exclude: Collection[str] = ()) -> SendResult | None:
        """The message this account sent to `to` (from `from_`, any sender when None) with exactly `body`, created
        at or after `since`, skipping the sids in `exclude`; None when the carrier has none. Used before any resend
        of a message whose answer was lost, so an accepted send is linked instead of sent twice."""
        ...

    def start_call(self, call: OutboundCall) -> SendResult: ...

    def search_numbers(self, search: NumberSearch) -> list[AvailableNumber]: ...

    def buy_number(self, number: str, webhooks: NumberWebhooks) -> BoughtNumber: ...

    def recover_number(self, number: str) -> BoughtNumber | None:
        """The number if this account holds it after a purchase whose answer was lost, made ready as `buy_number`
        would (joined to the messaging service when one is configured), else None. A number the carrier did buy is
        so kept (and paid for) instead of refunded and left billing at the carrier. One that cannot be made ready is
        given back and a ProviderError raised, as `buy_number` does."""
        ...

    def release_number(self, sid: str) -> None: ...
