"""TwilioProvider through the official SDK over httpx, intercepted by respx: exact requests and error mapping."""

import base64
import logging
from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from tests.live import http_client
from tools.settings import TelephonySettings
from tools.telephony.base import (
    NumberSearch,
    NumberWebhooks,
    OutboundCall,
    OutboundMessage,
    ProviderError,
)
from tools.telephony.errors import describe_error, is_retryable_status, problem_code
from tools.telephony.httpx_client import HttpxTwilioClient, TwilioTransportError
from tools.telephony.twilio_provider import TwilioProvider, capability_flags, monthly_cost

SID = "AC" + "1" * 32
TOKEN = "tok-5ecret-never-shown-0123456789"
SERVICE = "MG" + "2" * 32
TWILIO = "https://api.twilio.com"
ACCOUNT = f"/2010-04-01/Accounts/{SID}"
MESSAGE_SID = "SM" + "3" * 32
STATUS_URL = "https://cody.example.com/api/webhooks/twilio/status"


def make_settings(**overrides) -> TelephonySettings:
    values = {
        "twilio_account_sid": SID,
        "twilio_auth_token": TOKEN,
        "twilio_messaging_service_sid": None,
        "twilio_api_base_url": TWILIO,
        "twilio_timeout_seconds": 5.0,
        "public_base_url": "https://cody.example.com",
    }
    values.update(overrides)
    return TelephonySettings(_env_file=None, **values)


def message_json(**overrides) -> dict:
    payload = {
        "account_sid": SID,
        "api_version": "2010-04-01",
        "body": "Hello",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": "+14155550100",
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": MESSAGE_SID,
        "status": "queued",
        "to": "+12125550123",
        "uri": f"{ACCOUNT}/Messages/{MESSAGE_SID}.json",
    }
    payload.update(overrides)
    return payload


def twilio_error(code: int, status: int = 400, message: str = "Twilio says no") -> httpx.Response:
    return httpx.Response(
        status,
        json={"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
    )


def form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode(), keep_blank_values=True)


def basic_auth() -> str:
    return "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()


@pytest.fixture
def http():
    with http_client() as client:
        yield client


@pytest.fixture
def provider(http):
    return TwilioProvider(make_settings(), http=http)


@pytest.fixture
def twilio():
    with respx.mock(base_url=TWILIO, assert_all_called=False) as router:
        yield router


# -- messages -----------------------------------------------------------------------------------------------


def test_send_sms_through_messaging_service_keeps_the_agents_own_number_as_from(twilio, provider):
    route = twilio.post(f"{ACCOUNT}/Messages.json").respond(201, json=message_json(messaging_service_sid=SERVICE))

    result = provider.send_message(
        OutboundMessage(
            to="+12125550123",
            from_="+14155550100",
            body="Hello from Cody",
            messaging_service_sid=SERVICE,
            status_callback=STATUS_URL,
        )
    )

    assert result.sid == MESSAGE_SID
    assert result.status == "queued"
    assert result.price is None
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.url.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.headers["Authorization"] == basic_auth()
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Accept"] == "application/json"
    fields = form(request)
    assert fields == {
        "To": ["+12125550123"],
        "Body": ["Hello from Cody"],
        "StatusCallback": [STATUS_URL],
        "MessagingServiceSid": [SERVICE],
        "From": ["+14155550100"],
    }


def test_send_from_a_number_without_messaging_service_sends_from(twilio, provider):
    route = twilio.post(f"{ACCOUNT}/Messages.json").respond(201, json=message_json(price="-0.00790"))

    result = provider.send_message(OutboundMessage(to="+12125550123", from_="+14155550100", body="Hi"))

    fields = form(route.calls.last.request)
    assert fields == {"To": ["+12125550123"], "Body": ["Hi"], "From": ["+14155550100"]}
    assert result.price == Decimal("0.00790")


def test_settings_messaging_service_is_the_fallback_sender(twilio, http):
    provider = TwilioProvider(make_settings(twilio_messaging_service_sid=SERVICE), http=http)
    route = twilio.post(f"{ACCOUNT}/Messages.json").respond(201, json=message_json())

    provider.send_message(OutboundMessage(to="+12125550123", from_=None, body="Hi"))

    fields = form(route.calls.last.request)
    assert fields["MessagingServiceSid"] == [SERVICE]
    assert "From" not in fields


def test_a_message_without_any_sender_is_refused_before_the_network(twilio, provider):
    route = twilio.post(f"{ACCOUNT}/Messages.json").respond(201, json=message_json())
    with pytest.raises(ProviderError):
        provider.send_message(OutboundMessage(to="+12125550123", from_=None, body="Hi"))
    assert not route.called


def test_mms_sends_each_media_url_as_a_repeated_key(twilio, provider):
    route = twilio.post(f"{ACCOUNT}/Messages.json").respond(201, json=message_json(num_media="2"))

    provider.send_message(
        OutboundMessage(
            to="+12125550123",
            from_=None,
            body="Photos of the house",
            media_urls=("https://cdn.example.com/a.jpg", "https://cdn.example.com/b.png"),
            messaging_service_sid=SERVICE,
            status_callback=STATUS_URL,
        )
    )

    request = route.calls.last.request
    pairs = [tuple(p.split("=", 1)) for p in request.content.decode().split("&")]
    assert [k for k, _ in pairs].count("MediaUrl") == 2
    fields = form(request)
    assert fields["MediaUrl"] == ["https://cdn.example.com/a.jpg", "https://cdn.example.com/b.png"]
    assert fields["MessagingServiceSid"] == [SERVICE]
    assert "From" not in fields


def test_cancel_posts_status_canceled(twilio, provider):
    route = twilio.post(f"{ACCOUNT}/Messages/{MESSAGE_SID}.json").respond(200, json=message_json(status="canceled"))

    provider.cancel_message(MESSAGE_SID)

    request = route.calls.last.request
    assert request.method == "POST"
    assert form(request) == {"Status": ["canceled"]}
    assert request.headers["Authorization"] == basic_auth()


def test_fetch_message_status(twilio, provider):
    twilio.get(f"{ACCOUNT}/Messages/{MESSAGE_SID}.json").respond(200, json=message_json(status="delivered"))
    assert provider.fetch_message_status(MESSAGE_SID) == "delivered"


# -- calls --------------------------------------------------------------------------------------------------


def test_start_call_requests_every_progress_event_and_recording(twilio, provider):
    call_sid = "CA" + "4" * 32
    route = twilio.post(f"{ACCOUNT}/Calls.json").respond(
        201, json={"sid": call_sid, "status": "queued", "account_sid": SID, "to": "+12125550123", "from": "+14155550100"}
    )

    result = provider.start_call(
        OutboundCall(
            to="+12125550123",
            from_="+14155550100",
            url="https://cody.example.com/api/webhooks/twilio/voice/outbound",
            status_callback="https://cody.example.com/api/webhooks/twilio/call-status",
            record=True,
            recording_status_callback="https://cody.example.com/api/webhooks/twilio/recording",
        )
    )

    assert (result.sid, result.status) == (call_sid, "queued")
    fields = form(route.calls.last.request)
    assert fields == {
        "To": ["+12125550123"],
        "From": ["+14155550100"],
        "Url": ["https://cody.example.com/api/webhooks/twilio/voice/outbound"],
        "StatusCallback": ["https://cody.example.com/api/webhooks/twilio/call-status"],
        "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
        "Record": ["true"],
        "RecordingStatusCallback": ["https://cody.example.com/api/webhooks/twilio/recording"],
    }


# -- numbers ------------------------------------------------------------------------------------------------


def available(number: str, capabilities: dict, **extra) -> dict:
    return {
        "friendly_name": number,
        "phone_number": number,
        "iso_country": "US",
        "locality": extra.get("locality", "New York"),
        "region": extra.get("region", "NY"),
        "capabilities": capabilities,
        "beta": False,
    }


def test_search_numbers_sends_filters_and_reads_capabilities_in_either_case(twilio, provider):
    route = twilio.get(f"{ACCOUNT}/AvailablePhoneNumbers/US/Local.json").respond(
        200,
        json={
            "available_phone_numbers": [
                available("+12125550101", {"voice": True, "SMS": True, "MMS": True}),
                available("+12125550102", {"voice": True, "sms": False, "mms": False}),
                available("+12125550103", {"Voice": "true", "Sms": "true", "Mms": "false"}),
            ],
            "uri": f"{ACCOUNT}/AvailablePhoneNumbers/US/Local.json",
        },
    )

    found = provider.search_numbers(NumberSearch(country="us", area_code="212", contains="555", voice=True, limit=3))

    params = route.calls.last.request.url.params
    assert params["AreaCode"] == "212"
    assert params["Contains"] == "555"
    assert params["VoiceEnabled"] == "true"
    assert params["PageSize"] == "3"
    assert "SmsEnabled" not in params
    assert [(n.number, n.sms, n.mms, n.voice) for n in found] == [
        ("+12125550101", True, True, True),
        ("+12125550102", False, False, True),
        ("+12125550103", True, False, True),
    ]
    assert all(n.kind == "local" and n.country == "US" and n.monthly_cost == Decimal("1.15") for n in found)
    assert (found[0].locality, found[0].region) == ("New York", "NY")


@pytest.mark.parametrize(("kind", "resource"), [("toll_free", "TollFree"), ("mobile", "Mobile")])
def test_search_numbers_by_kind(twilio, provider, kind, resource):
    route = twilio.get(f"{ACCOUNT}/AvailablePhoneNumbers/GB/{resource}.json").respond(
        200, json={"available_phone_numbers": [available("+447400123456", {"SMS": True, "voice": True})]}
    )
    found = provider.search_numbers(NumberSearch(country="GB", kind=kind, sms=True, limit=5))
    assert route.calls.last.request.url.params["SmsEnabled"] == "true"
    assert found[0].kind == kind and found[0].sms and not found[0].mms
    assert found[0].monthly_cost == monthly_cost("GB", kind)


def test_capability_flags_tolerate_odd_shapes():
    assert capability_flags(None) == (False, False, False)
    assert capability_flags({"SMS": True}) == (True, False, False)
    assert capability_flags({"mms": "TRUE", "VOICE": 1}) == (False, True, True)


def test_buy_number_sets_webhooks(twilio, provider):
    number_sid = "PN" + "5" * 32
    route = twilio.post(f"{ACCOUNT}/IncomingPhoneNumbers.json").respond(
        201,
        json={
            "sid": number_sid,
            "phone_number": "+12125550101",
            "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            "account_sid": SID,
        },
    )
    hooks = NumberWebhooks(
        sms_url="https://cody.example.com/api/webhooks/twilio/sms",
        voice_url="https://cody.example.com/api/webhooks/twilio/voice",
        status_callback="https://cody.example.com/api/webhooks/twilio/call-status",
    )

    bought = provider.buy_number("+12125550101", hooks)

    assert (bought.sid, bought.number, bought.sms, bought.mms, bought.voice) == (number_sid, "+12125550101", True, True, True)
    assert form(route.calls.last.request) == {
        "PhoneNumber": ["+12125550101"],
        "SmsUrl": [hooks.sms_url],
        "VoiceUrl": [hooks.voice_url],
        "StatusCallback": [hooks.status_callback],
    }


def test_a_bought_number_joins_the_registered_messaging_service(twilio, http):
    provider = TwilioProvider(make_settings(twilio_messaging_service_sid=SERVICE), http=http)
    number_sid = "PN" + "5" * 32
    twilio.post(f"{ACCOUNT}/IncomingPhoneNumbers.json").respond(
        201, json={"sid": number_sid, "phone_number": "+12125550101", "capabilities": {"sms": True}})
    joined = twilio.post(f"https://messaging.twilio.com/v1/Services/{SERVICE}/PhoneNumbers").respond(
        201, json={"sid": number_sid, "service_sid": SERVICE, "phone_number": "+12125550101"})

    provider.buy_number("+12125550101", NumberWebhooks("https://a.test/s", "https://a.test/v", "https://a.test/c"))

    assert form(joined.calls.last.request) == {"PhoneNumberSid": [number_sid]}


def test_a_number_that_cannot_join_the_messaging_service_is_given_back(twilio, http):
    provider = TwilioProvider(make_settings(twilio_messaging_service_sid=SERVICE), http=http)
    number_sid = "PN" + "5" * 32
    twilio.post(f"{ACCOUNT}/IncomingPhoneNumbers.json").respond(
        201, json={"sid": number_sid, "phone_number": "+12125550101", "capabilities": {"sms": True}})
    twilio.post(f"https://messaging.twilio.com/v1/Services/{SERVICE}/PhoneNumbers").mock(
        return_value=twilio_error(21714))  # the pool holds 400 numbers at most
    released = twilio.delete(f"{ACCOUNT}/IncomingPhoneNumbers/{number_sid}.json").respond(204)

    with pytest.raises(ProviderError) as info:
        provider.buy_number("+12125550101", NumberWebhooks("https://a.test/s", "https://a.test/v", "https://a.test/c"))

    assert info.value.code == 21714
    assert released.called


def held_numbers(*records: tuple[str, str]) -> dict:
    """The account's IncomingPhoneNumbers list answering `records`, each (sid, number)."""
    return {"incoming_phone_numbers": [{"sid": sid, "phone_number": number,
                                        "capabilities": {"voice": True, "sms": True, "mms": False}}
                                       for sid, number in records],
            "next_page_uri": None, "page": 0, "page_size": 20}


JOIN = f"https://messaging.twilio.com/v1/Services/{SERVICE}/PhoneNumbers"
HELD_SID = "PN" + "6" * 32
HOOKS = NumberWebhooks("https://a.test/s", "https://a.test/v", "https://a.test/c")


def test_recover_number_asks_for_the_accounts_number_by_its_e164(twilio, provider):
    route = twilio.get(f"{ACCOUNT}/IncomingPhoneNumbers.json").respond(
        200, json=held_numbers((HELD_SID, "+12125550101")))

    held = provider.recover_number("+12125550101")

    assert (held.sid, held.number, held.sms, held.mms, held.voice) == (HELD_SID, "+12125550101", True, False, True)
    assert route.calls.last.request.url.params["PhoneNumber"] == "+12125550101"
    assert len(twilio.calls) == 1  # no messaging service configured: nothing to join


def test_recover_number_takes_only_the_exact_number_from_a_partial_match(twilio, provider):
    twilio.get(f"{ACCOUNT}/IncomingPhoneNumbers.json").respond(
        200, json=held_numbers(("PN" + "7" * 32, "+4930123456789"), (HELD_SID, "+493012345678")))
    assert provider.recover_number("+493012345678").sid == HELD_SID
    assert provider.recover_number("+49301234567") is None


def test_recover_number_is_none_when_the_account_does_not_hold_it(twilio, http):
    provider = TwilioProvider(make_settings(twilio_messaging_service_sid=SERVICE), http=http)
    twilio.get(f"{ACCOUNT}/IncomingPhoneNumbers.json").respond(200, json=held_numbers())
    joined = twilio.post(JOIN).respond(201, json={})

    assert provider.recover_number("+12125550101") is None
    assert not joined.called


def test_a_recovered_number_joins_the_registered_messaging_service(twilio, http):
    provider = TwilioProvider(make_settings(twilio_messaging_service_sid=SERVICE), http=http)
    twilio.get(f"{ACCOUNT}/IncomingPhoneNumbers.json").respond(200, json=held_numbers((HELD_SID, "+12125550101")))
    joined = twilio.post(JOIN).respond(201, json={"sid": HELD_SID, "service_sid": SERVICE})

    held = provider.recover_number("+12125550101")

    assert held.sid == HELD_SID
    assert form(joined.calls.last.request) == {"PhoneNumberSid": [HELD_SID]}


@pytest.mark.parametrize("buy", [False, True], ids=["recovered", "bought"])
def test_a_number_already_in_the_messaging_service_counts_as_joined(twilio, http, buy):
    provider = TwilioProvider(make_settings(twilio_messaging_service_sid=SERVICE), http=http)
    twilio.post(f"{ACCOUNT}/IncomingPhoneNumbers.json").respond(
        201, json={"sid": HELD_SID, "phone_number": "+12125550101", "capabilities": {"sms": True}})
    twilio.get(f"{ACCOUNT}/IncomingPhoneNumbers.json").respond(200, json=held_numbers((HELD_SID, "+12125550101")))
    joined = twilio.post(JOIN).mock(return_value=twilio_error(21710, message="Phone Number is already in the Service"))
    released = twilio.delete(f"{ACCOUNT}/IncomingPhoneNumbers/{HELD_SID}.json").respond(204)

    held = provider.buy_number("+12125550101", HOOKS) if buy else provider.recover_number("+12125550101")

    assert held.sid == HELD_SID
    assert joined.called and not released.called


def test_a_recovered_number_that_cannot_join_the_messaging_service_is_given_back(twilio, http):
    provider = TwilioProvider(make_settings(twilio_messaging_service_sid=SERVICE), http=http)
    twilio.get(f"{ACCOUNT}/IncomingPhoneNumbers.json").respond(200, json=held_numbers((HELD_SID, "+12125550101")))
    twilio.post(JOIN).respond(503, json={"code": 20503, "message": "Service unavailable", "status": 503})
    released = twilio.delete(f"{ACCOUNT}/IncomingPhoneNumbers/{HELD_SID}.json").respond(204)

    with pytest.raises(ProviderError) as info:
        provider.recover_number("+12125550101")

    assert (info.value.status, info.value.retryable) == (503, True)
    assert released.called


def test_release_number_deletes_it(twilio, provider):
    number_sid = "PN" + "5" * 32
    route = twilio.delete(f"{ACCOUNT}/IncomingPhoneNumbers/{number_sid}.json").respond(204)

    provider.release_number(number_sid)

    request = route.calls.last.request
    assert request.method == "DELETE"
    assert request.headers["Authorization"] == basic_auth()


# -- base URL -----------------------------------------------------------------------------------------------


def test_base_url_override_moves_every_domain_we_use(http, monkeypatch):
    monkeypatch.setenv("TWILIO_REGION", "au1")  # would rewrite api.twilio.com hosts; must not touch ours
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    provider = TwilioProvider(make_settings(twilio_api_base_url="http://127.0.0.1:4010/"), http=http)
    with respx.mock(base_url="http://127.0.0.1:4010") as mock:  # asserts every request is mocked and every route called
        mock.post(f"{ACCOUNT}/Messages.json").respond(201, json=message_json())
        mock.post(f"{ACCOUNT}/Messages/{MESSAGE_SID}.json").respond(200, json=message_json(status="canceled"))
        mock.post(f"{ACCOUNT}/Calls.json").respond(201, json={"sid": "CA" + "4" * 32, "status": "queued"})
        mock.get(f"{ACCOUNT}/AvailablePhoneNumbers/US/Local.json").respond(200, json={"available_phone_numbers": []})
        mock.post(f"{ACCOUNT}/IncomingPhoneNumbers.json").respond(
            201, json={"sid": "PN" + "5" * 32, "phone_number": "+12125550101", "capabilities": {}}
        )
        mock.delete(f"{ACCOUNT}/IncomingPhoneNumbers/PN{'5' * 32}.json").respond(204)

        provider.send_message(OutboundMessage(to="+12125550123", from_="+14155550100", body="Hi"))
        provider.cancel_message(MESSAGE_SID)
        provider.start_call(OutboundCall(to="+12125550123", from_="+14155550100", url="https://cody.example.com/v"))
        assert provider.search_numbers(NumberSearch(country="US")) == []
        provider.buy_number("+12125550101", NumberWebhooks("https://a.test/s", "https://a.test/v", "https://a.test/c"))
        provider.release_number("PN" + "5" * 32)

    assert provider.client.api.base_url == "http://127.0.0.1:4010"
    assert provider.http_client.last_request.url.startswith("http://127.0.0.1:4010/2010-04-01/")


# -- errors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [21211, 21610, 21614, 21408, 21612, 21606, 21212])
def test_twilio_error_codes_become_readable_provider_errors(twilio, provider, code):
    twilio.post(f"{ACCOUNT}/Messages.json").mock(return_value=twilio_error(code))

    with pytest.raises(ProviderError) as caught:
        provider.send_message(OutboundMessage(to="+12125550123", from_="+14155550100", body="Hi"))

    error = caught.value
    assert (error.code, error.status, error.retryable) == (code, 400, False)
    assert error.message == str(error) == describe_error(code)
    assert problem_code(error.code) != "provider_error"


def test_invalid_phone_and_opt_out_wording(twilio, provider):
    route = twilio.post(f"{ACCOUNT}/Messages.json")
    route.mock(return_value=twilio_error(21211, message="The 'To' number +1212 is not a valid phone number."))
    with pytest.raises(ProviderError) as caught:
        provider.send_message(OutboundMessage(to="+1212", from_="+14155550100", body="Hi"))
    assert caught.value.message == "The recipient's number is not a valid phone number."
    assert problem_code(caught.value.code) == "invalid_phone"

    route.mock(return_value=twilio_error(21610, message="Attempt to send to unsubscribed recipient"))
    with pytest.raises(ProviderError) as caught:
        provider.send_message(OutboundMessage(to="+12125550123", from_="+14155550100", body="Hi"))
    assert caught.value.message == "The recipient replied STOP and has opted out of texts from this number."
    assert problem_code(caught.value.code) == "opted_out"


def test_unregistered_10dlc_error(twilio, provider):
    twilio.post(f"{ACCOUNT}/Messages.json").mock(return_value=twilio_error(30034, message="Message from an Unregistered Number"))
    with pytest.raises(ProviderError) as caught:
        provider.send_message(OutboundMessage(to="+12125550123", from_="+14155550100", body="Hi"))
    assert caught.value.code == 30034
    assert "10DLC registration is not finished" in caught.value.message
    assert problem_code(30034) == problem_code(30007) == "us_10dlc_unregistered"
    assert not caught.value.retryable


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(503, text="<html>Service Unavailable</html>"),
        httpx.Response(503, json={"code": 20503, "message": "Service unavailable", "status": 503}),
        httpx.Response(429, json={"code": 20429, "message": "Too Many Requests", "status": 429}),
        httpx.Response(500, json={"code": 20500, "message": "Internal Server Error", "status": 500}),
    ],
)
def test_server_errors_and_throttling_are_retryable(twilio, provider, response):
    twilio.post(f"{ACCOUNT}/Messages.json").mock(return_value=response)
    with pytest.raises(ProviderError) as caught:
        provider.send_message(OutboundMessage(to="+12125550123", from_="+14155550100", body="Hi"))
    assert caught.value.retryable is True
    assert caught.value.status == response.status_code


def test_error_without_a_twilio_code_has_no_code(twilio, provider):
    twilio.post(f"{ACCOUNT}/Messages.json").respond(503, text="upstream gone")
    with pytest.raises(ProviderError) as caught:
        provider.send_message(OutboundMessage(to="+12125550123", from_="+14155550100", body="Hi"))
    assert caught.value.code is None
    assert "503" in caught.value.message


def test_rfc9457_error_bodies_are_mapped_too(twilio, provider):
    twilio.post(f"{ACCOUNT}/Messages.json").respond(
        400, json={"type": "https://www.twilio.com/docs/errors/21211", "title": "Invalid To", "status": 400, "code": 21211}
    )
    with pytest.raises(ProviderError) as caught:
        provider.send_message(OutboundMessage(to="+12125550123", from_="+14155550100", body="Hi"))
    assert (caught.value.code, caught.value.retryable) == (21211, False)


@pytest.mark.parametrize(
    "exc", [httpx.ConnectTimeout("timed out"), httpx.ReadTimeout("timed out"), httpx.ConnectError("refused")]
)
def test_transport_failures_are_retryable(twilio, provider, exc):
    twilio.post(f"{ACCOUNT}/Messages.json").mock(side_effect=exc)
    with pytest.raises(ProviderError) as caught:
        provider.send_message(OutboundMessage(to="+12125550123", from_="+14155550100", body="Hi"))
    assert caught.value.retryable is True
    assert caught.value.code is None and caught.value.status is None


def test_the_auth_token_never_leaks_into_errors_or_logs(twilio, provider, caplog):
    caplog.set_level(logging.DEBUG)
    auth_header = basic_auth().split()[1]
    twilio.post(f"{ACCOUNT}/Messages.json").mock(
        return_value=twilio_error(21211, message=f"Authenticate with {TOKEN} failed, echoing it back")
    )
    twilio.get(f"{ACCOUNT}/Messages/{MESSAGE_SID}.json").mock(side_effect=httpx.ConnectTimeout(f"timeout {TOKEN}"))
    twilio.post(f"{ACCOUNT}/Calls.json").respond(503, text=f"oops {TOKEN}")

    errors = []
    for action in (
        lambda: provider.send_message(OutboundMessage(to="+12125550123", from_="+14155550100", body="Hi")),
        lambda: provider.fetch_message_status(MESSAGE_SID),
        lambda: provider.start_call(OutboundCall(to="+12125550123", from_="+14155550100", url="https://a.test/v")),
    ):
        with pytest.raises(ProviderError) as caught:
            action()
        errors.append(caught.value)

    for error in errors:
        text = " ".join([str(error), error.message, repr(error.args), str(getattr(error, "detail", ""))])
        assert TOKEN not in text
        assert auth_header not in text
    assert TOKEN not in caplog.text
    assert auth_header not in caplog.text


# -- the httpx transport ------------------------------------------------------------------------------------


def test_transport_honours_timeouts_and_keeps_the_last_exchange(twilio):
    route = twilio.get("/2010-04-01/ping.json").respond(200, json={"ok": True}, headers={"X-Test": "1"})
    with http_client() as http:
        client = HttpxTwilioClient(http, timeout=3.5)
        response = client.request("GET", f"{TWILIO}/2010-04-01/ping.json", params={"A": ["1", "2"], "B": True})
        assert route.calls.last.request.extensions["timeout"]["read"] == 3.5
        assert route.calls.last.request.url.params.get_list("A") == ["1", "2"]
        assert route.calls.last.request.url.params["B"] == "true"
        assert (response.status_code, response.ok, response.headers["x-test"]) == (200, True, "1")
        assert client.last_response is response
        assert client.last_request.url == f"{TWILIO}/2010-04-01/ping.json"

        client.request("GET", f"{TWILIO}/2010-04-01/ping.json", timeout=0.25)
        assert route.calls.last.request.extensions["timeout"]["connect"] == 0.25

        with pytest.raises(ValueError):
            client.request("GET", f"{TWILIO}/2010-04-01/ping.json", timeout=0)


def test_transport_errors_surface_as_twilio_transport_error(twilio):
    twilio.get("/2010-04-01/ping.json").mock(side_effect=httpx.ReadTimeout("slow"))
    with http_client() as http:
        client = HttpxTwilioClient(http, timeout=1)
        with pytest.raises(TwilioTransportError) as caught:
            client.request("GET", f"{TWILIO}/2010-04-01/ping.json")
    assert caught.value.timeout is True


def test_describe_error_and_retryable_statuses():
    assert describe_error(21614) == "The recipient's number is not a mobile number and cannot receive texts."
    assert describe_error(30007) == describe_error(30034)
    assert describe_error(12345) == "Carrier error 12345"
    assert problem_code(99999) == problem_code(None) == "provider_error"
    assert [s for s in (400, 401, 404, 409, 422, 429, 500, 502, 503, 504) if is_retryable_status(s)] == [429, 500, 502, 503, 504]
