"""Phone numbers over real HTTP: search the sandbox's stock, buy from the wallet (permission and balance first,
nothing charged on a refusal or a carrier failure), edit, release, and one workspace per number."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs

import closeio_api
import httpx
import pytest
import respx
from sqlalchemy import func, select

from db.models import Activity, PhoneNumber
from db.session import transaction
from tests.api.server import both_databases
from tests.live import LiveCody, live_cody
from tools.telephony.base import NumberWebhooks, ProviderError
from tools.workspaces import NewWorkspace, add_member, create_api_key, create_user

NUMBERS = "/api/v1/phone_number/"
AVAILABLE = "/api/v1/phone_number/available/"
PURCHASE = "/api/v1/phone_number/purchase/"
REQUEST = "/api/v1/phone_number/request/internal/"
WALLET = "/api/v1/wallet/"
SMS_WEBHOOK = "/api/webhooks/twilio/sms"
NO_PERMISSION = "You don't have permission to buy phone numbers (numbers_create)."


@pytest.fixture
def cody(db_url: str, factory) -> Iterator[LiveCody]:
    """A live server whose sandbox runtime the test can inspect (and whose PUBLIC_BASE_URL is its own address)."""
    with live_cody(db_url, factory) as live:
        yield live


@pytest.fixture
def api(cody: LiveCody, workspace: NewWorkspace) -> Iterator[httpx.Client]:
    with cody.client(workspace.api_key) as client:
        yield client


@pytest.fixture
def other_api(cody: LiveCody, other_workspace: NewWorkspace) -> Iterator[httpx.Client]:
    with cody.client(other_workspace.api_key) as client:
        yield client


def _member(factory, workspace: NewWorkspace, email: str, permissions=()) -> str:
    with transaction(factory) as session:
        user = create_user(session, email, "Bo", "Kim")
        session.flush()
        add_member(session, workspace.organization_id, user, permissions=permissions)
        return create_api_key(session, workspace.organization_id, user.id)


@pytest.fixture
def member_api(cody: LiveCody, factory, workspace: NewWorkspace) -> Iterator[httpx.Client]:
    """A member of the workspace with no permissions at all."""
    with cody.client(_member(factory, workspace, "bo@acme.test")) as client:
        yield client


def _credit(client: httpx.Client, amount: str) -> None:
    response = client.post(WALLET + "credit/", json={"amount": amount})
    assert response.status_code == 200, response.text


def _first_available(client: httpx.Client, **params) -> str:
    response = client.get(AVAILABLE, params={"country": "US", "area_code": "212", "sms_enabled": "true"} | params)
    assert response.status_code == 200, response.text
    return response.json()["data"][0]["number"]


def _buy(client: httpx.Client, number: str, **body) -> dict:
    response = client.post(PURCHASE, json={"number": number, "sharing": "personal"} | body)
    assert response.status_code == 201, response.text
    return response.json()


def _wallet(client: httpx.Client) -> dict:
    response = client.get(WALLET)
    assert response.status_code == 200, response.text
    return response.json()


def _count(factory, model, *where) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


# -- search ------------------------------------------------------------------------------------------------


def test_search_by_country_and_area_code_lists_priced_local_numbers(api):
    response = api.get(AVAILABLE, params={"country": "US", "area_code": "212"})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data
    for offer in data:
        assert set(offer) == {"number", "number_formatted", "country", "type", "capabilities", "monthly_cost",
                              "locality", "region"}
        assert offer["number"].startswith("+1212")
        assert offer["number_formatted"].startswith("(212) ")
        assert (offer["country"], offer["type"], offer["monthly_cost"]) == ("US", "local", "1.15")
        assert (offer["locality"], offer["region"]) == ("New York", "NY")
        assert set(offer["capabilities"]) == {"sms", "mms", "voice"}


def test_search_filters_on_capabilities_type_contains_and_limit(api):
    texting = api.get(AVAILABLE, params={"country": "US", "area_code": "212", "sms_enabled": "true"}).json()["data"]
    voice_only = api.get(AVAILABLE, params={"country": "US", "area_code": "212", "sms_enabled": "false"}).json()["data"]
    assert texting and all(o["capabilities"]["sms"] for o in texting)
    assert voice_only and not any(o["capabilities"]["sms"] for o in voice_only)
    assert not {o["number"] for o in texting} & {o["number"] for o in voice_only}

    toll_free = api.get(AVAILABLE, params={"country": "US", "type": "toll_free"}).json()["data"]
    assert toll_free and all(o["type"] == "toll_free" and o["monthly_cost"] == "2.15" for o in toll_free)
    assert all(o["number"][2:5] in ("800", "833", "844", "855", "866", "877", "888") for o in toll_free)

    mobiles = api.get(AVAILABLE, params={"country": "GB", "type": "mobile", "sms_enabled": "true"}).json()["data"]
    assert mobiles and all(o["number"].startswith("+447") and o["country"] == "GB" for o in mobiles)

    three = api.get(AVAILABLE, params={"country": "US", "_limit": 3, "sms_enabled": "", "mms_enabled": ""}).json()["data"]
    assert len(three) == 3

    wanted = texting[0]["number"][-4:]
    matching = api.get(AVAILABLE, params={"country": "US", "area_code": "212", "contains": wanted}).json()["data"]
    assert matching and all(wanted in o["number"] for o in matching)


@pytest.mark.parametrize("params, field", [
    ({"country": "XX"}, "country"),
    ({"country": "USA"}, "country"),
    ({"country": "1"}, "country"),
    ({"country": "US", "type": "premium"}, "type"),
    ({"country": "US", "sms_enabled": "maybe"}, "sms_enabled"),
    ({"country": "US", "area_code": "2l2"}, "area_code"),
    ({"country": "US", "_limit": 0}, "_limit"),
])
def test_a_bad_search_is_a_field_error(api, params, field):
    response = api.get(AVAILABLE, params=params)
    assert response.status_code == 400, response.text
    assert field in response.json()["field-errors"]


# -- buying: refusals charge nothing ---------------------------------------------------------------------------


def test_a_member_without_numbers_create_cannot_buy_and_nothing_is_charged(api, member_api, factory, workspace):
    _credit(api, "10")
    before = _wallet(api)
    number = _first_available(member_api)
    response = member_api.post(PURCHASE, json={"number": number, "sharing": "personal"})
    assert response.status_code == 403
    assert response.json() == {"error": NO_PERMISSION}
    response = member_api.post(REQUEST, json={"country": "US", "prefix": "212", "sharing": "personal"})
    assert response.status_code == 403
    assert response.json()["error"] == NO_PERMISSION and response.json()["status"] == "error"
    assert _count(factory, PhoneNumber) == 0
    assert _wallet(api) == before


def test_a_new_workspace_has_no_balance_so_buying_is_refused_and_nothing_is_bought(api, factory, cody):
    assert _wallet(api) == {"balance": "0.00", "currency": "USD", "ledger": []}
    number = _first_available(api)
    response = api.post(PURCHASE, json={"number": number, "sharing": "personal"})
    assert response.status_code == 402
    assert response.json() == {"error": "Insufficient wallet balance: $1.15 needed, $0.00 available"}
    response = api.post(REQUEST, json={"country": "US", "prefix": "212", "sharing": "personal"})
    assert response.status_code == 402
    assert response.json() == {"status": "billing-error",
                               "error": "Insufficient wallet balance: $1.15 needed, $0.00 available"}
    assert _count(factory, PhoneNumber) == 0
    assert _wallet(api) == {"balance": "0.00", "currency": "USD", "ledger": []}
    assert cody.runtime.provider.numbers == {}


def test_a_balance_below_the_first_month_is_refused_too(api, factory):
    _credit(api, "1.14")
    response = api.post(PURCHASE, json={"number": _first_available(api), "sharing": "personal"})
    assert response.status_code == 402
    assert response.json() == {"error": "Insufficient wallet balance: $1.15 needed, $1.14 available"}
    assert _wallet(api)["balance"] == "1.14" and len(_wallet(api)["ledger"]) == 1


@pytest.mark.parametrize("number, message", [("+12125551234", "not available"), ("12", "not a valid"),
                                             ("", "required")])
def test_a_number_that_is_not_for_sale_is_refused_without_a_charge(api, factory, number, message):
    _credit(api, "5")
    response = api.post(PURCHASE, json={"number": number, "sharing": "personal"})
    assert response.status_code == 400, response.text
    assert message in response.json()["field-errors"]["number"]
    assert _wallet(api)["balance"] == "5.00" and _count(factory, PhoneNumber) == 0


def test_a_carrier_failure_refunds_the_reservation_and_saves_nothing(api, factory, cody, monkeypatch):
    _credit(api, "5")

    def refuse(number, webhooks):
        raise ProviderError("The phone number to buy is not available.", code=21422, status=400)

    monkeypatch.setattr(cody.runtime.provider, "buy_number", refuse)
    response = api.post(PURCHASE, json={"number": _first_available(api), "sharing": "personal"})
    assert response.status_code == 400
    assert response.json()["field-errors"] == {"number": "The phone number to buy is not available."}
    wallet = _wallet(api)
    assert wallet["balance"] == "5.00"
    assert [e["amount"] for e in wallet["ledger"]] == ["1.15", "-1.15", "5.00"]  # refund, reservation, credit
    assert _count(factory, PhoneNumber) == 0


def test_a_purchase_whose_answer_was_lost_is_kept_when_the_carrier_bought_it(api, factory, cody, monkeypatch):
    _credit(api, "5")
    buy = cody.runtime.provider.buy_number

    def bought_then_timed_out(number, webhooks):
        buy(number, webhooks)
        raise ProviderError("Read timed out", status=None, retryable=True)

    monkeypatch.setattr(cody.runtime.provider, "buy_number", bought_then_timed_out)
    number = _first_available(api)
    response = api.post(PURCHASE, json={"number": number, "sharing": "personal"})
    assert response.status_code == 201, response.text
    with factory() as session:
        row = session.scalar(select(PhoneNumber).where(PhoneNumber.number == number))
    assert (row.status, row.provider_sid) == ("active", cody.runtime.provider.recover_number(number).sid)
    assert [e["amount"] for e in _wallet(api)["ledger"]] == ["-1.15", "5.00"]  # paid once, not refunded


def test_a_purchase_whose_answer_was_lost_is_refunded_when_the_carrier_did_not_buy_it(api, factory, cody,
                                                                                      monkeypatch):
    _credit(api, "5")

    def timed_out(number, webhooks):
        raise ProviderError("Read timed out", status=None, retryable=True)

    monkeypatch.setattr(cody.runtime.provider, "buy_number", timed_out)
    response = api.post(PURCHASE, json={"number": _first_available(api), "sharing": "personal"})
    assert response.status_code == 503
    assert _wallet(api)["balance"] == "5.00" and _count(factory, PhoneNumber) == 0


# A lost purchase on Twilio (its HTTP intercepted by respx): the recovered number is made ready as a bought one.

TWILIO_SID = "AC" + "1" * 32
TWILIO_ACCOUNT = f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO_SID}"
SERVICE_SID = "MG" + "2" * 32
JOIN_SERVICE = f"https://messaging.twilio.com/v1/Services/{SERVICE_SID}/PhoneNumbers"
TWILIO_NUMBER = "+12125550101"
NUMBER_SID = "PN" + "6" * 32


@pytest.fixture
def twilio() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()  # the live server
        router.get(f"{TWILIO_ACCOUNT}/AvailablePhoneNumbers/US/Local.json").respond(200, json={
            "available_phone_numbers": [{"phone_number": TWILIO_NUMBER, "iso_country": "US", "locality": "New York",
                                         "region": "NY", "capabilities": {"voice": True, "SMS": True, "MMS": True}}]})
        router.get(f"{TWILIO_ACCOUNT}/IncomingPhoneNumbers.json").respond(200, json={
            "incoming_phone_numbers": [{"sid": NUMBER_SID, "phone_number": TWILIO_NUMBER,
                                        "capabilities": {"voice": True, "sms": True, "mms": True}}],
            "next_page_uri": None, "page": 0, "page_size": 20})
        yield router


@pytest.fixture
def twilio_api(db_url, factory, workspace: NewWorkspace, twilio) -> Iterator[httpx.Client]:
    """The API of a Cody buying from Twilio, with a registered messaging service configured; its admins add wallet
    credit themselves (WALLET_SELF_CREDIT), as in a deployment whose workspaces pay Twilio themselves."""
    with live_cody(db_url, factory, twilio_account_sid=TWILIO_SID, twilio_auth_token="tok-" + "9" * 28,
                   twilio_messaging_service_sid=SERVICE_SID, wallet_self_credit=True) as live, \
            live.client(workspace.api_key) as client:
        yield client


def _twilio_error(code: int, status: int = 400) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": "Twilio says no", "status": status})


@pytest.mark.parametrize("join_answer", [httpx.Response(201, json={"sid": NUMBER_SID, "service_sid": SERVICE_SID}),
                                         _twilio_error(21710)], ids=["joins", "already-in-the-pool"])
def test_a_twilio_purchase_whose_answer_was_lost_joins_the_messaging_service_like_any_other(twilio, twilio_api,
                                                                                            factory, join_answer):
    _credit(twilio_api, "5")
    twilio.post(f"{TWILIO_ACCOUNT}/IncomingPhoneNumbers.json").mock(side_effect=httpx.ReadTimeout("answer lost"))
    joined = twilio.post(JOIN_SERVICE).mock(return_value=join_answer)
    released = twilio.delete(f"{TWILIO_ACCOUNT}/IncomingPhoneNumbers/{NUMBER_SID}.json").respond(204)

    phone = _buy(twilio_api, TWILIO_NUMBER)

    assert (phone["number"], phone["status"], phone["supports_sms"]) == (TWILIO_NUMBER, "active", True)
    assert parse_qs(joined.calls.last.request.content.decode()) == {"PhoneNumberSid": [NUMBER_SID]}
    assert not released.called
    assert [e["amount"] for e in _wallet(twilio_api)["ledger"]] == ["-1.15", "5.00"]  # paid once, not refunded
    with factory() as session:
        assert session.scalar(select(PhoneNumber.provider_sid).where(PhoneNumber.number == TWILIO_NUMBER)) == NUMBER_SID


def test_a_join_whose_answer_was_lost_is_made_again_when_the_number_could_not_be_given_back(twilio, twilio_api,
                                                                                            factory):
    _credit(twilio_api, "5")
    twilio.post(f"{TWILIO_ACCOUNT}/IncomingPhoneNumbers.json").respond(
        201, json={"sid": NUMBER_SID, "phone_number": TWILIO_NUMBER, "capabilities": {"sms": True, "voice": True}})
    # The join went through but its answer was a 503; giving the number back failed too; asked again, the pool
    # says it has the number already.
    joined = twilio.post(JOIN_SERVICE).mock(side_effect=[_twilio_error(20503, 503), _twilio_error(21710)])
    twilio.delete(f"{TWILIO_ACCOUNT}/IncomingPhoneNumbers/{NUMBER_SID}.json").mock(
        return_value=_twilio_error(20500, 500))

    phone = _buy(twilio_api, TWILIO_NUMBER)

    assert (phone["number"], phone["status"]) == (TWILIO_NUMBER, "active")
    assert joined.call_count == 2
    assert [e["amount"] for e in _wallet(twilio_api)["ledger"]] == ["-1.15", "5.00"]


def test_a_recovered_number_that_cannot_join_the_messaging_service_is_given_back_and_refunded(twilio, twilio_api,
                                                                                              factory):
    _credit(twilio_api, "5")
    twilio.post(f"{TWILIO_ACCOUNT}/IncomingPhoneNumbers.json").respond(503, json={"code": 20503, "status": 503})
    twilio.post(JOIN_SERVICE).mock(return_value=_twilio_error(21714))  # the pool holds 400 numbers at most
    released = twilio.delete(f"{TWILIO_ACCOUNT}/IncomingPhoneNumbers/{NUMBER_SID}.json").respond(204)

    response = twilio_api.post(PURCHASE, json={"number": TWILIO_NUMBER, "sharing": "personal"})

    assert response.status_code == 400, response.text
    assert response.json()["field-errors"] == {"number": "Carrier error 21714"}
    assert released.called
    assert _wallet(twilio_api)["balance"] == "5.00" and _count(factory, PhoneNumber) == 0


# -- buying ----------------------------------------------------------------------------------------------------


def test_after_crediting_a_purchase_debits_the_first_month_and_points_the_webhooks_here(api, factory, cody, workspace):
    _credit(api, "5")
    number = _first_available(api)
    phone = _buy(api, number, label="Front desk")
    assert phone["id"].startswith("phon_")
    assert (phone["number"], phone["type"], phone["status"], phone["kind"]) == (number, "internal", "active", "local")
    assert (phone["label"], phone["monthly_cost"], phone["country"]) == ("Front desk", "1.15", "US")
    assert (phone["is_group_number"], phone["user_id"]) == (False, workspace.user_id)
    assert phone["organization_id"] == workspace.organization_id
    assert phone["supports_sms"] is True and phone["capabilities"]["sms"] is True
    assert phone["number_formatted"].startswith("(212) ")

    wallet = _wallet(api)
    assert wallet["balance"] == "3.85"
    assert wallet["ledger"][0]["amount"] == "-1.15" and wallet["ledger"][0]["balance_after"] == "3.85"
    assert wallet["ledger"][0]["reference"] == phone["id"]

    with factory() as session:
        row = session.get(PhoneNumber, phone["id"])
        assert (row.status, row.organization_id, row.number) == ("active", workspace.organization_id, number)
        assert row.provider_sid.startswith("PN") and row.monthly_cost == Decimal("1.15")
        sid = row.provider_sid
    assert cody.runtime.provider.numbers[sid] == (number, NumberWebhooks(
        sms_url=cody.base_url + "/api/webhooks/twilio/sms", voice_url=cody.base_url + "/api/webhooks/twilio/voice",
        status_callback=cody.base_url + "/api/webhooks/twilio/voice/status"))

    listed = api.get(NUMBERS).json()
    assert [p["id"] for p in listed["data"]] == [phone["id"]] and listed["has_more"] is False
    assert api.get(NUMBERS + phone["id"] + "/").json() == phone
    # It is for sale no more.
    offered = api.get(AVAILABLE, params={"country": "US", "area_code": "212", "_limit": 50}).json()["data"]
    assert number not in {o["number"] for o in offered}


@pytest.mark.parametrize("params", [{"country": "US", "type": "toll_free"}, {"country": "GB", "type": "mobile"},
                                    {"country": "CA", "area_code": "416"}])
def test_any_offered_kind_and_country_can_be_bought_at_its_price(api, params):
    _credit(api, "30")
    offer = api.get(AVAILABLE, params=params).json()["data"][0]
    phone = _buy(api, offer["number"])
    assert (phone["number"], phone["kind"], phone["country"]) == (offer["number"], offer["type"], offer["country"])
    assert phone["monthly_cost"] == offer["monthly_cost"]
    assert phone["capabilities"] | {"fax": False} == offer["capabilities"] | {"fax": False}
    assert _wallet(api)["balance"] == str(Decimal("30.00") - Decimal(offer["monthly_cost"]))


def test_a_group_number_has_no_owner(api):
    _credit(api, "5")
    phone = _buy(api, _first_available(api, area_code="415"), sharing="group")
    assert (phone["is_group_number"], phone["user_id"]) == (True, None)
    assert [p["id"] for p in api.get(NUMBERS, params={"is_group_number": "true"}).json()["data"]] == [phone["id"]]
    assert api.get(NUMBERS, params={"is_group_number": "false"}).json()["data"] == []


def test_request_internal_buys_the_first_match(api):
    _credit(api, "5")
    first = _first_available(api, area_code="415")
    response = api.post(REQUEST, json={"country": "US", "prefix": "415", "with_sms": True, "with_mms": True,
                                       "sharing": "personal"})
    assert response.status_code == 201, response.text
    phone = response.json()
    assert phone["number"] == first and phone["supports_sms"] and phone["supports_mms"]
    assert _wallet(api)["balance"] == "3.85"


def test_request_internal_for_a_voice_only_prefix_says_has_voice_only_and_buys_nothing(api, factory):
    _credit(api, "5")
    response = api.post(REQUEST, json={"country": "GB", "with_sms": True, "sharing": "personal"})
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "has-voice-only" and "with_sms" in body["error"]
    assert _count(factory, PhoneNumber) == 0 and _wallet(api)["balance"] == "5.00"
    # As Close suggests, with_sms false rents one.
    response = api.post(REQUEST, json={"country": "GB", "with_sms": False, "sharing": "personal"})
    assert response.status_code == 201, response.text
    assert response.json()["country"] == "GB" and response.json()["supports_sms"] is False


def test_request_internal_says_needs_more_info_when_the_carrier_wants_a_bundle(api, cody, factory, monkeypatch):
    _credit(api, "10")

    def bundle_required(number, webhooks):
        raise ProviderError("Phone number requires a regulatory bundle.", code=21649, status=400)

    monkeypatch.setattr(cody.runtime.provider, "buy_number", bundle_required)
    response = api.post(REQUEST, json={"country": "DE", "carrier_type": "mobile", "sharing": "personal"})
    assert response.status_code == 400
    assert response.json()["status"] == "needs-more-info"
    assert _wallet(api)["balance"] == "10.00" and _count(factory, PhoneNumber) == 0


@pytest.mark.parametrize("body, field", [({"country": "ZZ", "sharing": "personal"}, "country"),
                                         ({"sharing": "personal"}, "country"),
                                         ({"country": "US", "sharing": "everyone"}, "sharing"),
                                         ({"country": "US", "prefix": "abc", "sharing": "personal"}, "prefix"),
                                         ({"country": "US", "prefix": "999", "sharing": "personal"}, "prefix")])
def test_request_internal_failures_carry_closes_status(api, body, field):
    _credit(api, "5")
    response = api.post(REQUEST, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["status"] == "error" and response.json()["error"]
    assert field in response.json()["field-errors"]


def test_closes_client_rents_and_lists_numbers_and_reads_the_failure_status(cody, api, workspace):
    _credit(api, "5")
    client = closeio_api.API(base_url=cody.base_url + "/api/v1/", api_key=workspace.api_key)
    with pytest.raises(closeio_api.ValidationError) as failure:
        client.post("phone_number/request/internal", {"country": "GB", "sharing": "personal"})
    assert failure.value.response.json()["status"] == "has-voice-only"
    phone = client.post("phone_number/request/internal", {"country": "US", "prefix": "312", "sharing": "group"})
    assert phone["number"].startswith("+1312")
    assert [p["id"] for p in client.get("phone_number")["data"]] == [phone["id"]]
    assert client.delete("phone_number/" + phone["id"]) == {}


@both_databases
def test_a_number_another_workspace_holds_cannot_be_bought(api, other_api, factory):
    _credit(api, "5")
    _credit(other_api, "5")
    number = _first_available(other_api)
    theirs = _buy(other_api, number)
    response = api.post(PURCHASE, json={"number": number, "sharing": "personal"})
    assert response.status_code == 400
    assert "already in use" in response.json()["field-errors"]["number"]
    assert _wallet(api)["balance"] == "5.00" and len(_wallet(api)["ledger"]) == 1
    assert _count(factory, PhoneNumber, PhoneNumber.number == number) == 1
    assert api.get(NUMBERS).json()["data"] == []
    assert api.get(NUMBERS + theirs["id"] + "/").status_code == 404


@both_databases
def test_concurrent_purchases_of_one_number_sell_it_once_and_charge_once(cody, api, other_api, factory):
    _credit(api, "10")
    _credit(other_api, "10")
    number = _first_available(api)
    results: list[int] = []

    def buy(client: httpx.Client) -> None:
        results.append(client.post(PURCHASE, json={"number": number, "sharing": "personal"}).status_code)

    threads = [threading.Thread(target=buy, args=(c,)) for c in (api, other_api, api, other_api)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 400, 400, 400]
    assert _count(factory, PhoneNumber, PhoneNumber.number == number) == 1
    balances = sorted([_wallet(api)["balance"], _wallet(other_api)["balance"]])
    assert balances == ["10.00", "8.85"]
    assert len(cody.runtime.provider.numbers) == 1  # the losers gave theirs back at the carrier


# -- editing, releasing, isolation -------------------------------------------------------------------------------


def test_update_changes_label_forwarding_and_sharing(api, member_api):
    _credit(api, "5")
    phone = _buy(api, _first_available(api))
    url = NUMBERS + phone["id"] + "/"
    response = api.put(url, json={"label": "Main line", "forward_to": "(415) 555-0199"})
    assert response.status_code == 200, response.text
    assert (response.json()["label"], response.json()["forward_to"]) == ("Main line", "+14155550199")
    assert response.json()["forward_to_formatted"] == "(415) 555-0199"
    assert api.put(url, json={"sharing": "group"}).json()["is_group_number"] is True
    assert api.put(url, json={"forward_to": ""}).json()["forward_to"] is None
    assert api.get(url).json()["label"] == "Main line"

    for body, field in (({"forward_to": "not a phone"}, "forward_to"), ({"sharing": "everyone"}, "sharing"),
                        ({"label": None}, "label")):
        response = api.put(url, json=body)
        assert response.status_code == 400 and field in response.json()["field-errors"], response.text
    assert member_api.put(url, json={"label": "Mine now"}).status_code == 403
    assert api.get(url).json()["label"] == "Main line"


def test_delete_releases_the_number_and_texts_to_it_are_no_longer_routed(cody, api, member_api, factory):
    _credit(api, "5")
    phone = _buy(api, _first_available(api))
    sid = None
    with factory() as session:
        sid = session.get(PhoneNumber, phone["id"]).provider_sid
    from tests.webhooks.test_inbound_sms import inbound_form
    before = cody.post_twilio(SMS_WEBHOOK, inbound_form("Before", "SM" + "a" * 32, to=phone["number"]))
    assert before.status_code == 200 and _count(factory, Activity) == 1  # routed while active

    assert member_api.delete(NUMBERS + phone["id"] + "/").status_code == 403
    response = api.delete(NUMBERS + phone["id"] + "/")
    assert response.status_code == 200 and response.json() == {}
    released = api.get(NUMBERS + phone["id"] + "/").json()
    assert released["status"] == "inactive" and released["date_released"]
    assert sid not in cody.runtime.provider.numbers
    assert api.get(NUMBERS).json()["data"] == []
    assert [p["id"] for p in api.get(NUMBERS, params={"status": "inactive"}).json()["data"]] == [phone["id"]]
    assert api.delete(NUMBERS + phone["id"] + "/").json() == {}  # again: nothing more to do

    after = cody.post_twilio(SMS_WEBHOOK, inbound_form("After", "SM" + "b" * 32, to=phone["number"]))
    assert after.status_code == 200
    assert _count(factory, Activity) == 1
    assert _count(factory, Activity, Activity.provider_sid == "SM" + "b" * 32) == 0
    # Released, it is for sale again.
    assert _buy(api, phone["number"])["id"] != phone["id"]


def test_releasing_a_number_holds_the_texts_waiting_to_go_from_it_as_drafts(cody, api, factory):
    _credit(api, "10")
    released, kept = _buy(api, _first_available(api)), _buy(api, _first_available(api))
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()

    def schedule(line: dict) -> str:
        answer = api.post("/api/v1/activity/sms/", json={
            "status": "scheduled", "date_scheduled": tomorrow, "remote_phone": "+14155550132",
            "local_phone": line["number"], "text": "See you at the showing"})
        assert answer.status_code == 200, answer.text
        return answer.json()["id"]

    from_released, from_kept = schedule(released), schedule(kept)
    assert api.delete(NUMBERS + released["id"] + "/").status_code == 200

    held = api.get(f"/api/v1/activity/sms/{from_released}/").json()
    assert (held["status"], held["date_scheduled"], held["local_phone"]) == ("draft", None, released["number"])
    assert api.get(f"/api/v1/activity/sms/{from_kept}/").json()["status"] == "scheduled"


def test_another_workspace_cannot_see_change_or_release_a_number(api, other_api, factory):
    _credit(api, "5")
    phone = _buy(api, _first_available(api))
    url = NUMBERS + phone["id"] + "/"
    assert other_api.get(url).status_code == 404
    assert other_api.put(url, json={"label": "Mine"}).status_code == 404
    assert other_api.delete(url).status_code == 404
    assert other_api.get(NUMBERS, params={"status": "all"}).json()["data"] == []
    assert api.get(url).json()["status"] == "active" and api.get(url).json()["label"] == ""


def test_list_filters_are_checked(api):
    assert api.get(NUMBERS, params={"status": "gone"}).status_code == 400
    assert api.get(NUMBERS, params={"number_type": "virtual"}).status_code == 400
    assert api.get(NUMBERS, params={"number_type": "external"}).json() == {"data": [], "has_more": False}
