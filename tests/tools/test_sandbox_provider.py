"""The sandbox provider: Twilio's magic numbers, simulated status callbacks, a valid number inventory, inbound forms."""

import re
import threading
from decimal import Decimal

import phonenumbers
import pytest

from tools.settings import TelephonySettings
from tools.telephony.base import (
    CallbackForm,
    NumberSearch,
    NumberWebhooks,
    OutboundCall,
    OutboundMessage,
    ProviderError,
)
from tools.telephony.errors import describe_error
from tools.telephony.sandbox import (
    COUNTRY_KINDS,
    DEFAULT_KINDS,
    INVENTORY_SIZE,
    SANDBOX_ACCOUNT_SID,
    SANDBOX_MESSAGING_SERVICE_SID,
    SUPPORTED_COUNTRIES,
    SandboxProvider,
    inventory,
)

STATUS_URL = "http://127.0.0.1:8000/api/webhooks/twilio/status"
HOOKS = NumberWebhooks("https://a.test/sms", "https://a.test/voice", "https://a.test/status")


def make_settings(**overrides) -> TelephonySettings:
    values = {"public_base_url": "https://cody.example.com", "sandbox_callback_delay_seconds": 0.01}
    values.update(overrides)
    return TelephonySettings(_env_file=None, **values)


class Collector:
    def __init__(self):
        self.forms: list[CallbackForm] = []
        self.lock = threading.Lock()

    def __call__(self, form: CallbackForm) -> None:
        with self.lock:
            self.forms.append(form)


@pytest.fixture
def posted() -> Collector:
    return Collector()


@pytest.fixture
def sandbox(posted) -> SandboxProvider:
    return SandboxProvider(make_settings(), posted)


def sms(to="+12125550123", from_="+15005550006", **kw) -> OutboundMessage:
    return OutboundMessage(to=to, from_=from_, body=kw.pop("body", "Hello"), **kw)


# -- magic numbers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("to", "code"),
    [("+15005550001", 21211), ("+15005550002", 21612), ("+15005550003", 21408), ("+15005550004", 21610), ("+15005550009", 21614)],
)
def test_magic_recipients_fail_like_twilio(sandbox, posted, to, code):
    with pytest.raises(ProviderError) as caught:
        sandbox.send_message(sms(to=to, status_callback=STATUS_URL))
    assert (caught.value.code, caught.value.status, caught.value.retryable) == (code, 400, False)
    assert caught.value.message == describe_error(code)
    assert sandbox.wait_idle(1)
    assert posted.forms == []


@pytest.mark.parametrize(("from_", "code"), [("+15005550001", 21212), ("+15005550007", 21606), ("+15005550008", 21611)])
def test_magic_senders_fail_like_twilio(sandbox, from_, code):
    with pytest.raises(ProviderError) as caught:
        sandbox.send_message(sms(from_=from_))
    assert caught.value.code == code


def test_good_send_posts_sent_then_delivered(sandbox, posted):
    result = sandbox.send_message(sms(status_callback=STATUS_URL))

    assert re.fullmatch(r"SM[0-9a-f]{32}", result.sid)
    assert result.status == "queued"
    assert sandbox.wait_idle(5)
    assert [dict(f.params)["MessageStatus"] for f in posted.forms] == ["sent", "delivered"]
    for form in posted.forms:
        fields = dict(form.params)
        assert form.url == STATUS_URL
        assert fields["MessageSid"] == fields["SmsSid"] == result.sid
        assert fields["SmsStatus"] == fields["MessageStatus"]
        assert fields["AccountSid"] == SANDBOX_ACCOUNT_SID and SANDBOX_ACCOUNT_SID.startswith("ACsandbox")
        assert (fields["From"], fields["To"]) == ("+15005550006", "+12125550123")
        assert fields["ApiVersion"] == "2010-04-01"
    assert sandbox.fetch_message_status(result.sid) == "delivered"


def test_many_sends_each_get_their_callbacks(sandbox, posted):
    sids = [sandbox.send_message(sms(status_callback=STATUS_URL)).sid for _ in range(5)]
    sandbox.drain(5)
    assert sandbox.pending_callbacks == 0
    for sid in sids:
        statuses = [dict(f.params)["MessageStatus"] for f in posted.forms if dict(f.params)["MessageSid"] == sid]
        assert statuses == ["sent", "delivered"]


def test_no_status_callback_no_posts(sandbox, posted):
    sandbox.send_message(sms())
    assert sandbox.wait_idle(1)
    assert posted.forms == []


def test_messaging_service_send_names_the_service(sandbox, posted):
    sandbox.send_message(sms(from_=None, messaging_service_sid="MG" + "1" * 32, status_callback=STATUS_URL))
    sandbox.drain(5)
    assert dict(posted.forms[0].params)["MessagingServiceSid"] == "MG" + "1" * 32


def test_a_failing_callback_does_not_stop_the_simulation(posted):
    calls = []

    def flaky(form):
        calls.append(dict(form.params)["MessageStatus"])
        if len(calls) == 1:
            raise RuntimeError("app is down")

    sandbox = SandboxProvider(make_settings(), flaky)
    sandbox.send_message(sms(status_callback=STATUS_URL))
    sandbox.drain(5)
    assert calls == ["sent", "delivered"]
    assert len(sandbox.callback_errors) == 1


def test_cancel_before_sending_stops_the_callbacks(posted):
    sandbox = SandboxProvider(make_settings(sandbox_callback_delay_seconds=0.5), posted)
    sid = sandbox.send_message(sms(status_callback=STATUS_URL)).sid
    sandbox.cancel_message(sid)
    sandbox.drain(5)
    assert posted.forms == []
    assert sandbox.fetch_message_status(sid) == "canceled"


def test_unregistered_10dlc_blocks_us_long_code_to_us(posted):
    sandbox = SandboxProvider(make_settings(sandbox_10dlc_registered=False), posted)
    with pytest.raises(ProviderError) as caught:
        sandbox.send_message(sms(from_="+14155550100", to="+12125550123"))
    assert caught.value.code == 30034
    # Through a messaging service, from toll-free, or abroad, it goes.
    sandbox.send_message(sms(from_="+14155550100", messaging_service_sid="MG" + "1" * 32))
    sandbox.send_message(sms(from_="+18005550100"))
    sandbox.send_message(sms(from_="+14155550100", to="+447400123456"))
    # Registered (the default), it goes too.
    SandboxProvider(make_settings(), posted).send_message(sms(from_="+14155550100"))


def test_overlong_body_is_refused(sandbox):
    with pytest.raises(ProviderError) as caught:
        sandbox.send_message(sms(body="x" * 1601))
    assert caught.value.code == 21617


def test_calls_queue(sandbox):
    result = sandbox.start_call(OutboundCall(to="+12125550123", from_="+15005550006", url="https://a.test/voice"))
    assert re.fullmatch(r"CA[0-9a-f]{32}", result.sid)
    assert result.status == "queued"
    with pytest.raises(ProviderError) as caught:
        sandbox.start_call(OutboundCall(to="+15005550001", from_="+15005550006", url="https://a.test/voice"))
    assert caught.value.code == 21217


# -- numbers ------------------------------------------------------------------------------------------------


KIND_TYPES = {
    "local": {phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE},
    "mobile": {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE},
    "toll_free": {phonenumbers.PhoneNumberType.TOLL_FREE},
}


@pytest.mark.parametrize("country", SUPPORTED_COUNTRIES)
def test_every_inventory_number_is_valid_for_its_country_and_kind(country):
    kinds = COUNTRY_KINDS.get(country, DEFAULT_KINDS)
    for kind in kinds:
        numbers = inventory(country, kind)
        assert len(numbers) == INVENTORY_SIZE, (country, kind)
        assert len({n.number for n in numbers}) == len(numbers)
        for available in numbers:
            parsed = phonenumbers.parse(available.number, None)
            assert phonenumbers.is_valid_number(parsed), available
            # NANP toll-free numbers are shared, so they belong to the region rather than only to it.
            assert phonenumbers.is_valid_number_for_region(parsed, country), available
            if kind != "toll_free":
                assert phonenumbers.region_code_for_number(parsed) == country, available
            assert phonenumbers.number_type(parsed) in KIND_TYPES[kind], available
            assert (available.country, available.kind) == (country, kind)
            assert available.voice
            assert available.monthly_cost > Decimal("0")
            if kind == "toll_free" and country not in ("US", "CA"):
                assert not available.mms
    assert inventory(country, "mobile") == () or "mobile" in kinds


def test_inventory_is_deterministic():
    inventory.cache_clear()
    first = inventory("GB", "mobile")
    inventory.cache_clear()
    assert inventory("GB", "mobile") == first


def test_search_by_country_and_kind(sandbox):
    found = sandbox.search_numbers(NumberSearch(country="gb", kind="mobile", limit=5))
    assert len(found) == 5
    assert all(n.country == "GB" and n.kind == "mobile" and n.sms for n in found)
    assert all(not n.sms for n in sandbox.search_numbers(NumberSearch(country="GB", kind="local")))
    assert sandbox.search_numbers(NumberSearch(country="US", kind="mobile")) == []
    assert sandbox.search_numbers(NumberSearch(country="JP")) == []
    toll_free = sandbox.search_numbers(NumberSearch(country="US", kind="toll_free"))
    assert toll_free and all(n.monthly_cost == Decimal("2.15") for n in toll_free)
    assert sandbox.search_numbers(NumberSearch(country="US"))[0].monthly_cost == Decimal("1.15")


def test_search_by_area_code_generates_numbers_there(sandbox):
    found = sandbox.search_numbers(NumberSearch(country="US", area_code="212", limit=10))
    assert len(found) == 10
    assert all(n.number.startswith("+1212") for n in found)
    assert all((n.locality, n.region) == ("New York", "NY") for n in found)
    # An area code outside the default inventory still works, and one from another country finds nothing.
    alaska = sandbox.search_numbers(NumberSearch(country="US", area_code="907", limit=3))
    assert len(alaska) == 3 and all(n.number.startswith("+1907") for n in alaska)
    assert alaska[0].region  # from phonenumbers.geocoder ("Alaska"); the known area codes use two-letter codes
    assert sandbox.search_numbers(NumberSearch(country="CA", area_code="212")) == []
    assert [n.number[:5] for n in sandbox.search_numbers(NumberSearch(country="CA", area_code="416", limit=2))] == ["+1416"] * 2


def test_search_filters_on_capabilities(sandbox):
    everything = sandbox.search_numbers(NumberSearch(country="US", area_code="212", limit=100))
    sms = sandbox.search_numbers(NumberSearch(country="US", area_code="212", sms=True, limit=100))
    voice_only = sandbox.search_numbers(NumberSearch(country="US", area_code="212", sms=False, limit=100))
    assert sms and voice_only, "some US locals are voice-only"
    assert all(n.sms and n.mms for n in sms) and all(not n.sms and n.voice for n in voice_only)
    assert len(sms) + len(voice_only) == len(everything)
    assert sandbox.search_numbers(NumberSearch(country="GB", kind="mobile", mms=True)) == []
    assert sandbox.search_numbers(NumberSearch(country="DE", kind="local", sms=True)) == []


def test_search_contains(sandbox):
    found = sandbox.search_numbers(NumberSearch(country="US", contains="+1415", limit=50))
    assert found and all(n.number.startswith("+1415") for n in found)
    ending = sandbox.search_numbers(NumberSearch(country="US", area_code="212", contains="17$"))
    assert [n.number for n in ending] == ["+12125550117"]


def test_buy_and_release(sandbox):
    bought = sandbox.buy_number("+12125550100", HOOKS)
    assert re.fullmatch(r"PN[0-9a-f]{32}", bought.sid)
    assert (bought.number, bought.sms, bought.mms, bought.voice) == ("+12125550100", True, True, True)
    again = sandbox.buy_number("+12125550100", HOOKS)
    assert again.sid != bought.sid
    gb_local = sandbox.buy_number(inventory("GB", "local")[0].number, HOOKS)
    assert (gb_local.sms, gb_local.voice) == (False, True)
    sandbox.release_number(bought.sid)
    sandbox.release_number("PN" + "0" * 32)
    with pytest.raises(ProviderError):
        sandbox.release_number("XX123")
    with pytest.raises(ProviderError) as caught:
        sandbox.buy_number("+15005550000", HOOKS)
    assert caught.value.code == 21422


# -- inbound ------------------------------------------------------------------------------------------------


def test_simulate_inbound_sms_builds_twilios_form(sandbox, posted):
    form = sandbox.simulate_inbound_sms(
        "+447400123456",
        "+12125550100",
        "Is the house still available?",
        media=[("https://api.twilio.com/media/ME1", "image/jpeg"), ("https://api.twilio.com/media/ME2", "image/png")],
    )

    assert form.url == "https://cody.example.com/api/webhooks/twilio/sms"
    fields = dict(form.params)
    assert re.fullmatch(r"MM[0-9a-f]{32}", fields["MessageSid"])
    assert fields["MessageSid"] == fields["SmsSid"] == fields["SmsMessageSid"]
    assert fields["AccountSid"] == SANDBOX_ACCOUNT_SID
    assert fields["MessagingServiceSid"] == SANDBOX_MESSAGING_SERVICE_SID
    assert (fields["From"], fields["To"], fields["Body"]) == ("+447400123456", "+12125550100", "Is the house still available?")
    assert (fields["FromCountry"], fields["ToCountry"]) == ("GB", "US")
    assert (fields["NumMedia"], fields["NumSegments"]) == ("2", "1")
    assert (fields["MediaUrl0"], fields["MediaContentType0"]) == ("https://api.twilio.com/media/ME1", "image/jpeg")
    assert (fields["MediaUrl1"], fields["MediaContentType1"]) == ("https://api.twilio.com/media/ME2", "image/png")
    assert "MediaUrl2" not in fields
    assert posted.forms == []  # built, not posted


def test_simulate_inbound_plain_sms(posted):
    sandbox = SandboxProvider(make_settings(public_base_url="http://127.0.0.1:8000/"), posted, messaging_service_sid="MG" + "9" * 32)
    form = sandbox.simulate_inbound_sms("+12125550123", "+14155550100", "x" * 161)
    fields = dict(form.params)
    assert form.url == "http://127.0.0.1:8000/api/webhooks/twilio/sms"
    assert re.fullmatch(r"SM[0-9a-f]{32}", fields["MessageSid"])
    assert (fields["NumMedia"], fields["NumSegments"], fields["MessagingServiceSid"]) == ("0", "2", "MG" + "9" * 32)
    assert not any(key.startswith("MediaUrl") for key in fields)
