"""The sandbox provider: Twilio's behaviour without a network.

- Sends honour Twilio's test "magic numbers" (see MAGIC_TO / MAGIC_FROM) and otherwise succeed as `queued`; a
  daemon thread then posts the message's status callback twice (`sent`, then `delivered`), each after
  `sandbox_callback_delay_seconds`. `wait_idle()` / `drain()` let tests wait for those posts.
- With `sandbox_10dlc_registered=False`, a US long code texting a US number without a messaging service is blocked
  with 30034, as US carriers do for unregistered 10DLC traffic.
- Numbers come from a deterministic inventory built with phonenumbers (every number is valid for its country);
  NANP numbers use the fictional 555-01XX range.
- `simulate_inbound_sms` builds the webhook form Twilio would post for an inbound text.
- Calls: `start_call` rings the `to` phone (its answer comes from `call_outcomes`, default picks up, and presses 1
  at a <Gather> unless `voicemail_answers` has it, or `prompt_hangups` has it: hangs up there, posting no action),
  posts the status callbacks (initiated, ringing, in-progress, completed), fetches the call's TwiML URL and runs it:
  <Dial> (the dialled number answers per `call_outcomes`; Dial action, dual recording), <Record>, <Gather> (speech
  or keys; with actionOnEmptyResult, silence is posted too), <Say>, <Redirect>, <Hangup>. `simulate_inbound_call`
  does the same for a call to a business number, through its voice webhook. Every post is signed like Twilio's;
  `twiml_log` keeps what was fetched.
"""

import logging
import math
import re
import secrets
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from xml.etree import ElementTree

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from tools.segments import count_segments
from tools.settings import TelephonySettings
from tools.telephony.base import (
    AvailableNumber,
    BoughtNumber,
    CallbackForm,
    NumberSearch,
    NumberWebhooks,
    OutboundCall,
    OutboundMessage,
    ProviderError,
    SendResult,
)
from tools.telephony.errors import describe_error
from tools.telephony.twilio_provider import monthly_cost

log = logging.getLogger(__name__)

SANDBOX_ACCOUNT_SID = "ACsandbox" + "0" * 25
SANDBOX_MESSAGING_SERVICE_SID = "MGsandbox0000000000000000000000000"
SANDBOX_SENDER = "+15005550006"  # the "From" a messaging service uses when the message names no sender
API_VERSION = "2010-04-01"
SMS_WEBHOOK_PATH = "/api/webhooks/twilio/sms"
VOICE_WEBHOOK_PATH = "/api/webhooks/twilio/voice"
VOICE_STATUS_WEBHOOK_PATH = "/api/webhooks/twilio/voice/status"
MAX_BODY = 1600

# Twilio's test credentials: To / From numbers that fail with a given error code.
MAGIC_TO = {
    "+15005550001": 21211,
    "+15005550002": 21612,
    "+15005550003": 21408,
    "+15005550004": 21610,
    "+15005550009": 21614,
}
MAGIC_FROM = {
    "+15005550001": 21212,
    "+15005550007": 21606,
    "+15005550008": 21611,
}
MAGIC_CALL_TO = {
    "+15005550001": 21217,
    "+15005550002": 21214,
    "+15005550003": 21215,
    "+15005550004": 21216,
}
MAGIC_BUY = {
    "+15005550000": 21422,
    "+15005550001": 21421,
}

SUPPORTED_COUNTRIES = ("US", "CA", "GB", "DE", "AU", "FR", "BE", "DK", "IL", "PR", "ZA", "AT", "CH", "FI", "NL", "PL", "SE")
NANP_COUNTRIES = frozenset({"US", "CA", "PR"})
COUNTRY_KINDS: dict[str, tuple[str, ...]] = {
    "US": ("local", "toll_free"),
    "CA": ("local", "toll_free"),
    "PR": ("local",),
}
DEFAULT_KINDS = ("local", "mobile", "toll_free")
INVENTORY_SIZE = 30

# Area codes the default NANP inventory is spread over, with the locality Twilio would report.
NANP_AREA_CODES: dict[str, dict[int, tuple[str, str]]] = {
    "US": {
        212: ("New York", "NY"),
        415: ("San Francisco", "CA"),
        312: ("Chicago", "IL"),
        617: ("Boston", "MA"),
        305: ("Miami", "FL"),
        512: ("Austin", "TX"),
        206: ("Seattle", "WA"),
        720: ("Denver", "CO"),
    },
    "CA": {
        416: ("Toronto", "ON"),
        604: ("Vancouver", "BC"),
        514: ("Montreal", "QC"),
        403: ("Calgary", "AB"),
    },
    "PR": {
        787: ("San Juan", "PR"),
        939: ("San Juan", "PR"),
    },
}
TOLL_FREE_AREA_CODES = (800, 833, 844, 855, 866, 877, 888)

_KIND_TYPES = {
    "local": (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE),
    "mobile": (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE),
    "toll_free": (PhoneNumberType.TOLL_FREE,),
}
_EXAMPLE_TYPE = {"local": PhoneNumberType.FIXED_LINE, "mobile": PhoneNumberType.MOBILE, "toll_free": PhoneNumberType.TOLL_FREE}
_LONG_CODE_TYPES = (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _error(code: int, status: int = 400) -> ProviderError:
    return ProviderError(describe_error(code), code=code, status=status, retryable=False)


def _parse(number: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


# -- capabilities ------------------------------------------------------------------------------------------


def capabilities_for(country: str, kind: str, number: str) -> tuple[bool, bool, bool]:
    """(sms, mms, voice) as Twilio lists them: US/CA numbers text (some US locals are voice-only), PR has no MMS,
    elsewhere only mobiles text (no MMS) and local and toll-free numbers are voice-only."""
    if country in ("US", "CA"):
        if kind == "local" and country == "US" and int(number[-2:]) % 5 == 4:
            return False, False, True
        return True, True, True
    if country == "PR":
        return True, False, True
    if kind == "mobile":
        return True, False, True
    return False, False, True


# -- inventory ---------------------------------------------------------------------------------------------


def _describe(number: phonenumbers.PhoneNumber) -> tuple[str, str]:
    """Where the number is, and its country, in English: phonenumbers' geocoder, imported on first use (its data
    takes 0.6 s to load, which every process paid at start)."""
    from phonenumbers import geocoder

    return geocoder.description_for_number(number, "en"), geocoder.country_name_for_number(number, "en")


def _nanp_locality(country: str, area_code: int, number: phonenumbers.PhoneNumber) -> tuple[str, str]:
    known = NANP_AREA_CODES.get(country, {}).get(area_code)
    if known:
        return known
    description, _ = _describe(number)
    if ", " in description:
        city, _, region = description.rpartition(", ")
        return city, region
    return "", description


def _available(country: str, kind: str, number: phonenumbers.PhoneNumber) -> AvailableNumber:
    e164 = _e164(number)
    sms, mms, voice = capabilities_for(country, kind, e164)
    locality = region = ""
    if country in NANP_COUNTRIES and kind == "local":
        locality, region = _nanp_locality(country, int(str(number.national_number)[:3]), number)
    elif kind == "local":
        locality, country_name = _describe(number)
        if locality == country_name:
            locality = ""
    return AvailableNumber(
        number=e164,
        country=country,
        kind=kind,
        sms=sms,
        mms=mms,
        voice=voice,
        monthly_cost=monthly_cost(country, kind),
        locality=locality,
        region=region,
    )


def _valid_for(number: phonenumbers.PhoneNumber | None, country: str, kind: str) -> bool:
    return (
        number is not None
        and phonenumbers.is_valid_number(number)
        and phonenumbers.is_valid_number_for_region(number, country)
        and phonenumbers.number_type(number) in _KIND_TYPES[kind]
    )


def _nanp_in_area(country: str, kind: str, area_code: int, count: int = 100, offset: int = 0) -> list[AvailableNumber]:
    """Numbers NPA-555-01XX (the fictional range) in one area code, in a fixed scrambled order."""
    found = []
    for k in range(100):
        line = (17 * k + 3 * offset) % 100
        number = _parse(f"+1{area_code}55501{line:02d}")
        if _valid_for(number, country, kind):
            found.append(_available(country, kind, number))
            if len(found) >= count:
                break
    return found


@cache
def inventory(country: str, kind: str) -> tuple[AvailableNumber, ...]:
    """The sandbox's numbers for sale in one country and kind (empty when the country has no such numbers)."""
    country = country.upper()
    if country not in SUPPORTED_COUNTRIES or kind not in COUNTRY_KINDS.get(country, DEFAULT_KINDS):
        return ()
    if country in NANP_COUNTRIES:
        area_codes = list(NANP_AREA_CODES[country]) if kind == "local" else list(TOLL_FREE_AREA_CODES)
        per_area = math.ceil(INVENTORY_SIZE / len(area_codes))
        columns = [_nanp_in_area(country, kind, npa, per_area, offset=i) for i, npa in enumerate(area_codes)]
        interleaved = [col[row] for row in range(per_area) for col in columns if row < len(col)]
        return tuple(interleaved[:INVENTORY_SIZE])
    example = phonenumbers.example_number_for_type(country, _EXAMPLE_TYPE[kind])
    if example is None:
        return ()
    national = phonenumbers.national_significant_number(example)
    country_code = example.country_code
    seed = zlib.crc32(f"{country}:{kind}".encode())
    found: dict[str, AvailableNumber] = {}
    for i in range(5000):
        suffix = f"{(seed + i * 7919) % 10000:04d}"
        number = _parse(f"+{country_code}{national[:-4]}{suffix}")
        if _valid_for(number, country, kind):
            found.setdefault(_e164(number), _available(country, kind, number))
            if len(found) >= INVENTORY_SIZE:
                break
    return tuple(found.values())


_KEYPAD = {c: d for d, letters in {"2": "ABC", "3": "DEF", "4": "GHI", "5": "JKL", "6": "MNO", "7": "PQRS", "8": "TUV", "9": "WXYZ"}.items() for c in letters}


def _contains_regex(pattern: str) -> re.Pattern[str]:
    """Twilio's `contains`: digits or letters (keypad), `*` one character, `%` any run, leading `+` anchors the
    start of the E.164 number, trailing `$` its end; otherwise it matches anywhere."""
    anchored_start = pattern.startswith("+")
    anchored_end = pattern.endswith("$")
    body = pattern.lstrip("+").rstrip("$")
    out = []
    for ch in body.upper():
        if ch == "*":
            out.append(".")
        elif ch == "%":
            out.append(".*")
        elif ch.isdigit():
            out.append(ch)
        elif ch in _KEYPAD:
            out.append(_KEYPAD[ch])
    regex = "".join(out)
    return re.compile(("^" if anchored_start else "") + regex + ("$" if anchored_end else ""))


@dataclass
class _Leg:
    """One simulated call as Twilio runs it: who calls whom, and how the caller behaves."""

    sid: str
    from_: str
    to: str
    direction: str
    status_callback: str | None = None
    hangs_up_while_ringing: bool = False
    hangs_up_at_gather: bool = False
    leaves_voicemail: bool = True
    voicemail_seconds: int = 14
    speech: list[str] = field(default_factory=list)
    seconds: int = 0
    sequence: int = 0
    ended: bool = False
    recordings: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)


# -- the provider ------------------------------------------------------------------------------------------


class SandboxProvider:
    name = "sandbox"

    def __init__(
        self,
        settings: TelephonySettings,
        post_callback: Callable[[CallbackForm], None],
        messaging_service_sid: str = SANDBOX_MESSAGING_SERVICE_SID,
    ):
        self.settings = settings
        self.post_callback = post_callback
        self.messaging_service_sid = messaging_service_sid
        self.statuses: dict[str, str] = {}
        self.numbers: dict[str, tuple[str, NumberWebhooks]] = {}
        self.callback_errors: list[BaseException] = []
        self.call_statuses: dict[str, str] = {}
        # How a dialled phone answers: "completed" (picks up; the default), "busy", "no-answer" or "failed".
        self.call_outcomes: dict[str, str] = {}
        self.call_seconds = 42  # how long an answered call lasts (simulated, not waited for)
        # Own phones whose voicemail takes a click-to-call's first leg: no key is pressed at its <Gather>. Any other
        # phone that answers is a person, who presses 1.
        self.voicemail_answers: set[str] = set()
        # Own phones whose user answers a click-to-call and hangs up at its first <Gather> ("Press any key to
        # connect") before pressing a key: Twilio then asks no <Gather> action; the call just ends.
        self.prompt_hangups: set[str] = set()
        self.twiml_log: list[tuple[str, str]] = []  # every (url, TwiML document) the simulation fetched
        self._lock = threading.Condition()
        self._pending = 0
        # What was sent, newest last, for find_message: (sid, to, from, body, when).
        self.sent: deque[tuple[str, str, str, str, datetime]] = deque(maxlen=10_000)

    # -- messages --------------------------------------------------------------------------------------------

    def send_message(self, message: OutboundMessage) -> SendResult:
        if message.from_ in MAGIC_FROM:
            raise _error(MAGIC_FROM[message.from_])
        if message.to in MAGIC_TO:
            raise _error(MAGIC_TO[message.to])
        if not message.from_ and not message.messaging_service_sid:
            raise ProviderError("A message needs a sending number or a messaging service.", code=21603, status=400)
        if len(message.body) > MAX_BODY:
            raise _error(21617)
        if self._blocked_as_unregistered_10dlc(message):
            raise _error(30034)
        sid = _sid("SM")
        with self._lock:
            self.statuses[sid] = "queued"
            self.sent.append((sid, message.to, message.from_ or SANDBOX_SENDER, message.body, datetime.now(UTC)))
        if message.status_callback:
            self._start_callbacks(sid, message)
        return SendResult(sid=sid, status="queued", price=None)

    def _blocked_as_unregistered_10dlc(self, message: OutboundMessage) -> bool:
        if self.settings.sandbox_10dlc_registered or message.messaging_service_sid or not message.from_:
            return False
        sender, recipient = _parse(message.from_), _parse(message.to)
        if sender is None or recipient is None:
            return False
        return (
            phonenumbers.region_code_for_number(sender) == "US"
            and phonenumbers.number_type(sender) in _LONG_CODE_TYPES
            and phonenumbers.region_code_for_number(recipient) == "US"
        )

    def cancel_message(self, sid: str) -> None:
        with self._lock:
            status = self.statuses.get(sid)
            if status is None:
                raise ProviderError("The message was not found.", code=20404, status=404)
            if status not in ("queued", "scheduled", "accepted", "canceled"):
                raise ProviderError(f"The message is already {status} and cannot be canceled.", code=None, status=400)
            self.statuses[sid] = "canceled"

    def fetch_message_status(self, sid: str) -> str | None:
        with self._lock:
            return self.statuses.get(sid)

    def find_message(self, to: str, from_: str | None, body: str, since: datetime,
                     exclude: Collection[str] = ()) -> SendResult | None:
        """The newest message this sandbox sent to `to` (from `from_`) with exactly `body`, at or after `since`."""
        since = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
        with self._lock:
            for sid, sent_to, sent_from, sent_body, when in reversed(self.sent):
                if when < since:
                    break
                if sent_to == to and sent_body == body and from_ in (None, sent_from) and sid not in exclude:
                    return SendResult(sid=sid, status=self.statuses.get(sid, "queued"), price=None)
        return None

    def _status_form(self, sid: str, message: OutboundMessage, status: str) -> CallbackForm:
        params = [
            ("SmsSid", sid),
            ("SmsStatus", status),
            ("MessageStatus", status),
            ("To", message.to),
        ]
        if message.messaging_service_sid:
            params.append(("MessagingServiceSid", message.messaging_service_sid))
        params += [
            ("MessageSid", sid),
            ("AccountSid", SANDBOX_ACCOUNT_SID),
            ("From", message.from_ or SANDBOX_SENDER),
            ("ApiVersion", API_VERSION),
        ]
        return CallbackForm(url=message.status_callback or "", params=params)

    def _start_callbacks(self, sid: str, message: OutboundMessage) -> None:
        with self._lock:
            self._pending += 1
        threading.Thread(target=self._run_callbacks, args=(sid, message), name=f"sandbox-callbacks-{sid}", daemon=True).start()

    def _run_callbacks(self, sid: str, message: OutboundMessage) -> None:
        try:
            for status in ("sent", "delivered"):
                time.sleep(max(0.0, self.settings.sandbox_callback_delay_seconds))
                with self._lock:
                    if self.statuses.get(sid) == "canceled":
                        return
                    self.statuses[sid] = status
                try:
                    self.post_callback(self._status_form(sid, message, status))
                except Exception as exc:  # the app being down must not kill the simulation
                    log.exception("sandbox status callback for %s (%s) failed", sid, status)
                    self.callback_errors.append(exc)
        finally:
            with self._lock:
                self._pending -= 1
                self._lock.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every scheduled status callback has been posted; False if `timeout` ran out first."""
        with self._lock:
            return self._lock.wait_for(lambda: self._pending == 0, timeout)

    def drain(self, timeout: float = 10.0) -> None:
        """Like wait_idle, but raises TimeoutError when callbacks are still pending after `timeout` seconds."""
        if not self.wait_idle(timeout):
            raise TimeoutError(f"sandbox callbacks still pending after {timeout}s")

    @property
    def pending_callbacks(self) -> int:
        with self._lock:
            return self._pending

    # -- inbound ---------------------------------------------------------------------------------------------

    def simulate_inbound_sms(
        self, from_: str, to: str, body: str, media: Iterable[tuple[str, str]] = ()
    ) -> CallbackForm:
        """The form Twilio would post to the app's SMS webhook for a text from `from_` to `to` (built, not posted)."""
        media = list(media)
        sid = ("MM" if media else "SM") + secrets.token_hex(16)
        from_number, to_number = _parse(from_), _parse(to)
        params = [
            ("ToCountry", phonenumbers.region_code_for_number(to_number) if to_number else ""),
            ("SmsMessageSid", sid),
            ("NumMedia", str(len(media))),
            ("SmsSid", sid),
            ("SmsStatus", "received"),
            ("Body", body),
            ("FromCountry", phonenumbers.region_code_for_number(from_number) if from_number else ""),
            ("To", to),
            ("MessagingServiceSid", self.messaging_service_sid),
            ("NumSegments", str(count_segments(body).segments if body else 1)),
            ("MessageSid", sid),
            ("AccountSid", SANDBOX_ACCOUNT_SID),
            ("From", from_),
            ("ApiVersion", API_VERSION),
        ]
        for index, (url, content_type) in enumerate(media):
            params.append((f"MediaContentType{index}", content_type))
            params.append((f"MediaUrl{index}", url))
        return CallbackForm(url=self.settings.public_base_url.rstrip("/") + SMS_WEBHOOK_PATH, params=params)

    # -- calls -----------------------------------------------------------------------------------------------

    def start_call(self, call: OutboundCall) -> SendResult:
        if call.to in MAGIC_CALL_TO:
            raise _error(MAGIC_CALL_TO[call.to])
        sid = _sid("CA")
        with self._lock:
            self.call_statuses[sid] = "queued"
        if call.url:
            leg = _Leg(sid=sid, from_=call.from_, to=call.to, direction="outbound-api",
                       status_callback=call.status_callback,
                       speech=[] if call.to in self.voicemail_answers else ["1"],
                       hangs_up_at_gather=call.to in self.prompt_hangups)
            self._start_thread(self._run_outbound, leg, call.url)
        return SendResult(sid=sid, status="queued", price=None)

    def simulate_inbound_call(self, from_: str, to: str, *, hangs_up_while_ringing: bool = False,
                              leaves_voicemail: bool = True, voicemail_seconds: int = 14,
                              speech: Iterable[str] = ()) -> str:
        """Call the app's voice webhook from `from_` to `to`, as Twilio would, and follow its TwiML; returns the
        CallSid. The caller may hang up while the forwarded phone rings, leave a voicemail or not, and say the
        given phrases to each <Gather input="speech"> (or key them, at a <Gather input="dtmf">). Runs in the
        background; wait with `drain()`."""
        base = self.settings.public_base_url.rstrip("/")
        hooks = next((w for number, w in self.numbers.values() if number == to), None)
        leg = _Leg(sid=_sid("CA"), from_=from_, to=to, direction="inbound",
                   status_callback=hooks.status_callback if hooks else base + VOICE_STATUS_WEBHOOK_PATH,
                   hangs_up_while_ringing=hangs_up_while_ringing, leaves_voicemail=leaves_voicemail,
                   voicemail_seconds=voicemail_seconds, speech=list(speech))
        with self._lock:
            self.call_statuses[leg.sid] = "ringing"
        self._start_thread(self._run_inbound, leg, hooks.voice_url if hooks else base + VOICE_WEBHOOK_PATH)
        return leg.sid

    def _start_thread(self, target: Callable, *args) -> None:
        with self._lock:
            self._pending += 1

        def run() -> None:
            try:
                target(*args)
            except Exception as exc:  # the app being down must not kill the simulation
                log.exception("sandbox call simulation failed")
                self.callback_errors.append(exc)
            finally:
                with self._lock:
                    self._pending -= 1
                    self._lock.notify_all()

        threading.Thread(target=run, name=f"sandbox-call-{args[0].sid}", daemon=True).start()

    def _run_outbound(self, leg: "_Leg", url: str) -> None:
        """calls.create: ring the `to` phone; when it answers, fetch `url` and run its TwiML."""
        outcome = self.call_outcomes.get(leg.to, "completed")
        self._call_status(leg, "initiated", "queued")
        self._call_status(leg, "ringing", "ringing")
        if outcome != "completed":
            self._call_status(leg, "completed", outcome, duration=0)
            return
        self._call_status(leg, "answered", "in-progress")
        self._execute(leg, self._fetch(url, self._call_params(leg, "in-progress")))
        self._finish(leg)

    def _run_inbound(self, leg: "_Leg", url: str) -> None:
        self._execute(leg, self._fetch(url, self._call_params(leg, "ringing")))
        self._finish(leg)

    def _finish(self, leg: "_Leg") -> None:
        self._call_status(leg, "completed", "completed", duration=leg.seconds)
        for url, params in leg.recordings:  # recordings are ready a moment after the call ends
            self._post(url, params)

    def _call_params(self, leg: "_Leg", status: str, extra: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
        return [("AccountSid", SANDBOX_ACCOUNT_SID), ("ApiVersion", API_VERSION), ("CallSid", leg.sid),
                ("CallStatus", status), ("Called", leg.to), ("Caller", leg.from_), ("Direction", leg.direction),
                ("From", leg.from_), ("To", leg.to), *extra]

    def _call_status(self, leg: "_Leg", event: str, status: str, duration: int | None = None) -> None:
        with self._lock:
            self.call_statuses[leg.sid] = status
        if not leg.status_callback:
            return
        leg.sequence += 1
        extra = [("CallbackSource", "call-progress-events"), ("SequenceNumber", str(leg.sequence))]
        if duration is not None:
            extra += [("CallDuration", str(duration)), ("Duration", str(max(1, (duration + 59) // 60)))]
        self._post(leg.status_callback, self._call_params(leg, status, extra))

    def _post(self, url: str, params: list[tuple[str, str]]):
        time.sleep(max(0.0, self.settings.sandbox_callback_delay_seconds))
        try:
            return self.post_callback(CallbackForm(url=url, params=params))
        except Exception as exc:
            log.exception("sandbox voice callback to %s failed", url)
            self.callback_errors.append(exc)
            return None

    def _fetch(self, url: str, params: list[tuple[str, str]]) -> str:
        """POST to a TwiML URL and return the document (empty when the app did not answer with one)."""
        answer = self._post(url, params)
        text = getattr(answer, "text", None) if getattr(answer, "status_code", 200) < 400 else None
        with self._lock:
            self.twiml_log.append((url, text or ""))
        return text or ""

    def _execute(self, leg: "_Leg", document: str, depth: int = 0) -> None:
        """Run TwiML as Twilio would: verbs in order; a verb with an action continues at the action's TwiML."""
        if depth > 20 or leg.ended:
            return
        try:
            root = ElementTree.fromstring(document)
        except ElementTree.ParseError:
            leg.ended = True
            return
        for verb in root:
            if leg.ended:
                return
            if verb.tag in ("Hangup", "Reject"):
                break
            if verb.tag in ("Say", "Play", "Pause"):
                leg.seconds += 2
                continue
            if verb.tag == "Redirect":
                self._execute(leg, self._fetch((verb.text or "").strip(), self._call_params(leg, "in-progress")),
                              depth + 1)
                return
            handler = {"Dial": self._dial, "Record": self._record, "Gather": self._gather}.get(verb.tag)
            following = handler(leg, verb) if handler else None
            if following is not None:
                self._execute(leg, following, depth + 1)
                return
        leg.ended = True

    def _dial(self, leg: "_Leg", verb) -> str | None:
        number = verb.find("Number")
        to = ((number.text if number is not None else verb.text) or "").strip()
        if leg.hangs_up_while_ringing:
            leg.seconds += 8
            leg.ended = True  # the caller gave up before anyone answered: no Dial action, the call just ends
            return None
        outcome = self.call_outcomes.get(to, "completed")
        answered = outcome == "completed"
        talk = self.call_seconds if answered else 0
        leg.seconds += talk + 5
        recording = verb.get("record", "do-not-record") not in ("do-not-record", "false")
        if answered and recording and verb.get("recordingStatusCallback"):
            leg.recordings.append(self._recording(leg, verb.get("recordingStatusCallback"), talk))
        action = verb.get("action")
        if not action:
            return None
        extra = [("DialCallSid", _sid("CA")), ("DialCallStatus", outcome)]
        if answered:
            extra.append(("DialCallDuration", str(talk)))
        following = self._fetch(action, self._call_params(leg, "in-progress", extra))
        if answered:
            leg.ended = True  # the conversation is over; one side hung up
            return None
        return following

    def _record(self, leg: "_Leg", verb) -> str | None:
        if not leg.leaves_voicemail:
            leg.seconds += 3
            leg.ended = True  # hung up at the beep: an empty recording is dropped, no action
            return None
        url, params = self._recording(leg, verb.get("recordingStatusCallback") or "", leg.voicemail_seconds)
        if verb.get("recordingStatusCallback"):
            leg.recordings.append((url, params))
        leg.seconds += leg.voicemail_seconds
        fields = dict(params)
        if verb.get("action"):
            self._fetch(verb.get("action"), self._call_params(leg, "completed", [
                ("RecordingSid", fields["RecordingSid"]), ("RecordingUrl", fields["RecordingUrl"]),
                ("RecordingDuration", fields["RecordingDuration"]), ("Digits", "hangup")]))
        leg.ended = True  # the caller hung up after the message: the action's TwiML is not played
        return None

    def _gather(self, leg: "_Leg", verb) -> str | None:
        """The caller's next phrase is spoken (input="speech") or keyed (Twilio's default, dtmf; a final # ends it)."""
        leg.seconds += 3
        if leg.hangs_up_at_gather:
            leg.ended = True  # hung up while asked: no action is requested, whatever actionOnEmptyResult says
            return None
        if not leg.speech and verb.get("actionOnEmptyResult") != "true":
            return None  # silence: Twilio goes on with the next verb
        said = leg.speech.pop(0) if leg.speech else ""
        leg.seconds += 2 + len(said.split()) // 3
        action = verb.get("action")
        if not action:
            return None
        if "speech" not in verb.get("input", "dtmf"):
            return self._fetch(action, self._call_params(leg, "in-progress", [("Digits", said.removesuffix("#"))]))
        return self._fetch(action, self._call_params(leg, "in-progress", [("SpeechResult", said),
                                                                           ("Confidence", "0.92")]))

    def _recording(self, leg: "_Leg", callback: str, seconds: int) -> tuple[str, list[tuple[str, str]]]:
        recording_sid = _sid("RE")
        url = f"https://api.twilio.com/{API_VERSION}/Accounts/{SANDBOX_ACCOUNT_SID}/Recordings/{recording_sid}"
        return callback, [("AccountSid", SANDBOX_ACCOUNT_SID), ("CallSid", leg.sid),
                          ("RecordingSid", recording_sid), ("RecordingUrl", url), ("RecordingStatus", "completed"),
                          ("RecordingDuration", str(seconds)), ("RecordingChannels", "2"),
                          ("RecordingSource", "DialVerb")]

    # -- numbers ---------------------------------------------------------------------------------------------

    def search_numbers(self, search: NumberSearch) -> list[AvailableNumber]:
        country = search.country.upper()
        kinds = COUNTRY_KINDS.get(country, DEFAULT_KINDS)
        if country not in SUPPORTED_COUNTRIES or search.kind not in kinds:
            return []
        if search.area_code and country in NANP_COUNTRIES:
            # Twilio applies AreaCode only in the US and Canada (NANP); elsewhere it is ignored.
            if not (search.area_code.isdigit() and len(search.area_code) == 3):
                return []
            candidates: Iterable[AvailableNumber] = _nanp_in_area(country, search.kind, int(search.area_code))
        else:
            candidates = inventory(country, search.kind)
        pattern = _contains_regex(search.contains) if search.contains else None
        found = []
        for candidate in candidates:
            if search.sms is not None and candidate.sms != search.sms:
                continue
            if search.mms is not None and candidate.mms != search.mms:
                continue
            if search.voice is not None and candidate.voice != search.voice:
                continue
            if pattern is not None and not pattern.search(candidate.number.lstrip("+")):
                continue
            found.append(candidate)
            if len(found) >= search.limit:
                break
        return found

    def buy_number(self, number: str, webhooks: NumberWebhooks) -> BoughtNumber:
        if number in MAGIC_BUY:
            raise _error(MAGIC_BUY[number])
        parsed = _parse(number)
        if parsed is None or not phonenumbers.is_valid_number(parsed):
            raise _error(21421)
        sid = _sid("PN")
        with self._lock:
            self.numbers[sid] = (_e164(parsed), webhooks)
        return _held_number(sid, parsed)

    def recover_number(self, number: str) -> BoughtNumber | None:
        """The sandbox account's number, if it holds it; a number is ready once bought here (the sandbox keeps no
        messaging service sender pool to join)."""
        with self._lock:
            sid = next((sid for sid, (held, _) in self.numbers.items() if held == number), None)
        return _held_number(sid, _parse(number)) if sid is not None else None

    def release_number(self, sid: str) -> None:
        if not sid.startswith("PN"):
            raise ProviderError("The phone number was not found.", code=20404, status=404)
        with self._lock:
            self.numbers.pop(sid, None)


def _held_number(sid: str, parsed: phonenumbers.PhoneNumber) -> BoughtNumber:
    """A number of the sandbox account, with the capabilities its country and kind give it."""
    number_type = phonenumbers.number_type(parsed)
    kind = ("toll_free" if number_type == PhoneNumberType.TOLL_FREE
            else "mobile" if number_type == PhoneNumberType.MOBILE else "local")
    e164 = _e164(parsed)
    sms, mms, voice = capabilities_for(phonenumbers.region_code_for_number(parsed) or "", kind, e164)
    return BoughtNumber(sid=sid, number=e164, sms=sms, mms=mms, voice=voice)
