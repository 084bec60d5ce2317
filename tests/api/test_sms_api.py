"""SMS activities over real HTTP, in Close's dialect: every status, the draft lifecycle, field errors, templates,
the Inbox, paging, filters, isolation between workspaces, and Close's own Python client."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import closeio_api
import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.settings import ApiSettings
from db.models import Activity, Contact, InboxItem, PhoneNumber
from db.session import transaction
from tests.api.server import running_server
from tests.live import http_client
from tools.demo import DEMO_NUMBER, Demo, seed_demo
from tools.runtime import Runtime, build_runtime
from tools.settings import TelephonySettings
from tools.workspaces import NewWorkspace

SMS = "/api/v1/activity/sms/"
SMS_FIELDS = {
    "_type", "id", "organization_id", "lead_id", "contact_id", "user_id", "user_name", "users", "created_by",
    "created_by_name", "updated_by", "updated_by_name", "date_created", "date_updated", "activity_at",
    "date_scheduled", "date_sent", "direction", "status", "text", "template_id", "local_phone",
    "local_phone_formatted", "local_country_iso", "remote_phone", "remote_phone_formatted", "remote_country_iso",
    "error_message", "cost", "source", "attachments", "encoding", "segments",
}


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


@pytest.fixture
def telephony() -> TelephonySettings:
    """Sandbox telephony whatever the environment says; callbacks go to the live server once it is up."""
    return TelephonySettings(_env_file=None, twilio_account_sid=None, twilio_auth_token=None,
                             sandbox_10dlc_registered=True, sandbox_callback_delay_seconds=0.05)


@pytest.fixture
def runtime(telephony: TelephonySettings, factory: sessionmaker[Session]) -> Runtime:
    return build_runtime(telephony, factory)


@pytest.fixture
def live_server(db_url: str, factory: sessionmaker[Session], runtime: Runtime,
                telephony: TelephonySettings) -> Iterator[str]:
    """The app on loopback with no background dispatcher, its sandbox posting status callbacks back to it."""
    app = create_app(ApiSettings(database_url=db_url, run_dispatcher=False), factory, runtime)
    with running_server(app) as base_url:
        telephony.public_base_url = base_url
        yield base_url
        runtime.provider.wait_idle(10)


@pytest.fixture
def demo(factory: sessionmaker[Session]) -> Demo:
    with transaction(factory) as session:
        return seed_demo(session)


@pytest.fixture
def client(live_server: str, demo: Demo) -> Iterator[httpx.Client]:
    with http_client(base_url=live_server, auth=(demo.api_key, ""), timeout=30) as c:
        yield c


@pytest.fixture
def contacts(factory, demo: Demo) -> dict[str, Contact]:
    with factory() as session:
        rows = session.scalars(select(Contact).where(Contact.organization_id == demo.organization_id))
        return {c.name: c for c in rows}


def _sms_count(factory, organization_id: str | None = None) -> int:
    with factory() as session:
        stmt = select(func.count()).select_from(Activity).where(Activity.type == "sms")
        if organization_id:
            stmt = stmt.where(Activity.organization_id == organization_id)
        return session.scalar(stmt)


def _post(client: httpx.Client, body: dict, **kw) -> dict:
    response = client.post(SMS, json=body, **kw)
    assert response.status_code == 200, response.text
    return response.json()


def _field_errors(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) >= {"errors", "field-errors", "problems"}
    return body["field-errors"]


def _future(minutes: int = 60) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).replace(microsecond=0).isoformat()


def _sent_count(runtime: Runtime) -> int:
    return len(runtime.provider.statuses)


# -- create, one status at a time ----------------------------------------------------------------------------


def test_draft_is_saved_with_closes_fields(client, demo, contacts, runtime) -> None:
    sarah = contacts["Sarah Lee"]
    sms = _post(client, {"status": "draft", "contact_id": sarah.id, "text": "Running 10 minutes late"})
    assert set(sms) == SMS_FIELDS
    assert sms["_type"] == "SMS"
    assert sms["id"].startswith("acti_")
    assert sms["status"] == "draft"
    assert sms["direction"] == "outbound"
    assert sms["organization_id"] == demo.organization_id
    assert sms["contact_id"] == sarah.id and sms["lead_id"] == sarah.lead_id
    assert sms["user_id"] == demo.user_id and sms["users"] == [demo.user_id]
    assert sms["created_by"] == sms["updated_by"] == demo.user_id
    assert sms["user_name"] == "Dana Reyes"
    assert sms["remote_phone"] == "+14155550132"
    assert sms["remote_phone_formatted"] == "(415) 555-0132"
    assert sms["remote_country_iso"] == "US"
    assert sms["local_phone"] == DEMO_NUMBER
    assert sms["local_phone_formatted"] == "(415) 555-0100"
    assert sms["local_country_iso"] == "US"
    assert sms["text"] == "Running 10 minutes late"
    assert sms["encoding"] == "GSM-7" and sms["segments"] == 1
    assert sms["cost"] is None and sms["date_sent"] is None and sms["error_message"] is None
    assert sms["source"] == "Close.io"
    assert sms["attachments"] == []
    assert _sent_count(runtime) == 0

    again = client.get(f"{SMS}{sms['id']}/")
    assert again.status_code == 200
    assert again.json() == sms


def test_scheduled_needs_and_keeps_date_scheduled(client, contacts, runtime) -> None:
    when = _future(120)
    sms = _post(client, {"status": "scheduled", "contact_id": contacts["Sarah Lee"].id, "text": "See you at 7",
                         "date_scheduled": when})
    assert sms["status"] == "scheduled"
    assert datetime.fromisoformat(sms["date_scheduled"]) == datetime.fromisoformat(when)
    assert _sent_count(runtime) == 0


def test_outbox_with_send_in_waits(client, contacts, runtime) -> None:
    before = datetime.now(UTC)
    sms = _post(client, {"status": "outbox", "send_in": 30, "contact_id": contacts["Sarah Lee"].id, "text": "Hi"})
    assert sms["status"] == "outbox"
    due = datetime.fromisoformat(sms["date_scheduled"])
    assert before + timedelta(seconds=29) <= due <= datetime.now(UTC) + timedelta(seconds=31)
    assert _sent_count(runtime) == 0


def test_outbox_now_is_sent_and_then_delivered(client, demo, contacts, runtime, factory) -> None:
    sms = _post(client, {"status": "outbox", "contact_id": contacts["Mary Smith"].id,
                         "text": "Your showing is confirmed"})
    assert sms["status"] in ("sent", "delivered")
    assert sms["date_sent"] is not None
    assert sms["local_phone"] == DEMO_NUMBER and sms["remote_phone"] == "+14155550143"
    assert _sent_count(runtime) == 1
    runtime.provider.drain(10)
    assert client.get(f"{SMS}{sms['id']}/").json()["status"] == "delivered"


def test_logged_inbox_and_sent_need_no_business_line(client, contacts, runtime, factory, demo) -> None:
    with transaction(factory) as session:  # logging must not depend on a sending number
        session.query(PhoneNumber).filter(PhoneNumber.organization_id == demo.organization_id).delete()
    received = _post(client, {"status": "inbox", "remote_phone": "(415) 555-0132", "text": "Running late?"})
    assert received["status"] == "inbox"
    assert received["direction"] == "inbound"
    assert received["source"] == "External"
    assert received["remote_phone"] == "+14155550132"
    assert received["contact_id"] == contacts["Sarah Lee"].id  # found by the phone: one contact has it
    assert received["lead_id"] == contacts["Sarah Lee"].lead_id
    assert received["local_phone"] is None

    sent = _post(client, {"status": "sent", "contact_id": contacts["John Park"].id, "text": "Sent from my phone",
                          "local_phone": "+1 415 555 0177", "activity_at": "2024-05-01T15:30:00Z"})
    assert sent["status"] == "sent" and sent["direction"] == "outbound"
    assert sent["local_phone"] == "+14155550177"
    assert sent["remote_phone"] == "+12125550123"
    assert datetime.fromisoformat(sent["activity_at"]) == datetime(2024, 5, 1, 15, 30, tzinfo=UTC)
    assert datetime.fromisoformat(sent["date_sent"]) == datetime(2024, 5, 1, 15, 30, tzinfo=UTC)

    assert _sent_count(runtime) == 0


# -- who a sent text is with: the lead and contact, as for a logged one -----------------------------------------


def _lead_timeline(client: httpx.Client, lead_id: str) -> list[str]:
    return [x["id"] for x in client.get(SMS, params={"lead_id": lead_id}).json()["data"]]


def _thread_of(client: httpx.Client, contact_id: str) -> dict:
    threads = client.get("/api/v1/thread/", params={"contact_id": contact_id}).json()["data"]
    assert len(threads) == 1, threads
    return threads[0]


@pytest.mark.parametrize("status", ["outbox", "sent"])
def test_a_text_to_a_bare_number_is_linked_to_the_one_contact_with_it(client, contacts, runtime, status) -> None:
    """A send (`outbox`) finds the contact by the number, as logging a sent text does: the text is on the lead's
    timeline and in the contact's thread."""
    sarah = contacts["Sarah Lee"]
    sms = _post(client, {"status": status, "remote_phone": "(415) 555-0132", "text": "Running 10 minutes late"})
    assert (sms["contact_id"], sms["lead_id"], sms["remote_phone"]) == (sarah.id, sarah.lead_id, "+14155550132")
    assert _lead_timeline(client, sarah.lead_id) == [sms["id"]]
    thread = _thread_of(client, sarah.id)
    assert thread["lead_id"] == sarah.lead_id
    assert datetime.fromisoformat(thread["last_activity_at"]) >= datetime.fromisoformat(sms["activity_at"])


def test_a_send_keeps_the_lead_it_names(client, contacts, runtime) -> None:
    smiths = contacts["Mary Smith"].lead_id
    sms = _post(client, {"status": "outbox", "lead_id": smiths, "remote_phone": "+1 415 555 0150", "text": "Hello"})
    assert (sms["lead_id"], sms["contact_id"], sms["status"]) == (smiths, None, "sent")
    with_contact = _post(client, {"status": "outbox", "lead_id": smiths, "contact_id": contacts["Mary Smith"].id,
                                  "text": "Hi Mary"})
    assert with_contact["lead_id"] == smiths
    assert set(_lead_timeline(client, smiths)) == {sms["id"], with_contact["id"]}
    assert _sent_count(runtime) == 2


def test_a_number_two_contacts_share_links_only_within_the_lead_named(client, contacts, runtime) -> None:
    mary = contacts["Mary Smith"]
    acme = contacts["John Park"].lead_id
    assistant = client.post("/api/v1/contact/", json={"lead_id": acme, "name": "Mary's assistant",
                                                      "phones": [{"phone": "(415) 555-0143", "type": "office"}]})
    assert assistant.status_code == 200, assistant.text

    unsure = _post(client, {"status": "outbox", "remote_phone": "+14155550143", "text": "Who is this?"})
    assert (unsure["contact_id"], unsure["lead_id"]) == (None, None)  # two contacts have it: no guess
    on_lead = _post(client, {"status": "outbox", "lead_id": acme, "remote_phone": "+14155550143", "text": "Hi"})
    assert (on_lead["contact_id"], on_lead["lead_id"]) == (assistant.json()["id"], acme)
    smiths = _post(client, {"status": "outbox", "lead_id": mary.lead_id, "remote_phone": "+14155550143", "text": "Hi"})
    assert smiths["contact_id"] == mary.id


def test_a_send_with_a_lead_not_in_the_workspace_or_not_the_contacts_is_refused(client, live_server, contacts,
                                                                               other_workspace, factory,
                                                                               runtime) -> None:
    with http_client(base_url=live_server, auth=(other_workspace.api_key, ""), timeout=30) as other:
        theirs = other.post("/api/v1/lead/", json={"name": "Their lead"}).json()["id"]
    sarah, smiths = contacts["Sarah Lee"], contacts["Mary Smith"].lead_id
    for status in ("outbox", "draft", "scheduled"):
        for lead_id, contact_id, reason in ((theirs, None, "not found"), ("lead_nope", sarah.id, "not found"),
                                            (smiths, sarah.id, "another lead")):
            to = {"contact_id": contact_id} if contact_id else {"remote_phone": "+14155550150"}
            response = client.post(SMS, json={"status": status, "lead_id": lead_id, **to, "text": "Hi",
                                              "date_scheduled": _future()})
            errors = _field_errors(response)
            assert set(errors) == {"lead_id"}, (status, errors)
            assert reason in errors["lead_id"].lower()
    assert _sms_count(factory) == 0 and _sent_count(runtime) == 0


def test_a_draft_keeps_its_lead_through_edits_and_the_send(client, contacts, runtime) -> None:
    smiths = contacts["Mary Smith"].lead_id
    draft = _post(client, {"status": "draft", "lead_id": smiths, "remote_phone": "+14155550150", "text": "Hi"})
    assert draft["lead_id"] == smiths
    edited = client.put(f"{SMS}{draft['id']}/", json={"text": "Hi there"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["lead_id"] == smiths
    sent = client.put(f"{SMS}{draft['id']}/", json={"status": "outbox"})
    assert sent.status_code == 200, sent.text
    assert (sent.json()["lead_id"], sent.json()["status"]) == (smiths, "sent")
    readdressed = _post(client, {"status": "draft", "lead_id": smiths, "remote_phone": "+14155550150", "text": "x"})
    to_sarah = client.put(f"{SMS}{readdressed['id']}/", json={"contact_id": contacts["Sarah Lee"].id})
    assert to_sarah.status_code == 200, to_sarah.text  # a new recipient brings its own lead
    assert to_sarah.json()["lead_id"] == contacts["Sarah Lee"].lead_id


def test_a_put_moves_a_draft_to_the_lead_it_names_checked_as_a_post_is(client, live_server, contacts,
                                                                      other_workspace, runtime) -> None:
    """PUT takes lead_id with POST's checks: a lead of the workspace and, with a contact, that contact's lead; else a
    400 on lead_id that changes nothing (a scheduled text cancelled in the same PUT stays scheduled)."""
    with http_client(base_url=live_server, auth=(other_workspace.api_key, ""), timeout=30) as other:
        theirs = other.post("/api/v1/lead/", json={"name": "Their lead"}).json()["id"]
    sarah, mary = contacts["Sarah Lee"], contacts["Mary Smith"]
    draft = _post(client, {"status": "draft", "contact_id": sarah.id, "text": "Hi"})
    url = f"{SMS}{draft['id']}/"
    for lead_id, reason in ((theirs, "Lead not found."), ("lead_nope", "Lead not found."),
                            (mary.lead_id, "The contact belongs to another lead.")):
        assert _field_errors(client.put(url, json={"text": "Hi there", "lead_id": lead_id})) == {"lead_id": reason}
    assert client.get(url).json() == draft

    same = client.put(url, json={"lead_id": sarah.lead_id})
    assert same.status_code == 200, same.text
    moved = client.put(url, json={"contact_id": mary.id, "lead_id": mary.lead_id})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["contact_id"], moved.json()["lead_id"]) == (mary.id, mary.lead_id)

    bare = _post(client, {"status": "draft", "remote_phone": "+14155550150", "text": "Hi"})
    assert bare["lead_id"] is None  # no contact has the number: on no lead until one is named
    filed = client.put(f"{SMS}{bare['id']}/", json={"lead_id": mary.lead_id})
    assert filed.status_code == 200, filed.text
    assert (filed.json()["lead_id"], filed.json()["contact_id"]) == (mary.lead_id, None)
    assert bare["id"] in {sms["id"] for sms in client.get(SMS, params={"lead_id": mary.lead_id}).json()["data"]}

    scheduled = _post(client, {"status": "scheduled", "contact_id": sarah.id, "text": "Open house",
                               "date_scheduled": _future()})
    refused = client.put(f"{SMS}{scheduled['id']}/", json={"status": "draft", "lead_id": mary.lead_id})
    assert _field_errors(refused) == {"lead_id": "The contact belongs to another lead."}
    assert client.get(f"{SMS}{scheduled['id']}/").json() == scheduled
    assert _sent_count(runtime) == 0


def test_a_sent_or_logged_text_stays_on_its_lead(client, contacts, runtime) -> None:
    """Only a draft moves to another lead: a PUT moving a text Cody sent, or one logged as sent, is a 400 on lead_id;
    one repeating its lead (a client echoing the object) changes nothing."""
    sarah, smiths = contacts["Sarah Lee"], contacts["Mary Smith"].lead_id
    sent = _post(client, {"status": "outbox", "contact_id": sarah.id, "text": "On my way"})
    logged = _post(client, {"status": "sent", "remote_phone": "+14155550150", "text": "Sent from my phone"})
    runtime.provider.wait_idle(10)
    for sms in (sent, logged):
        url = f"{SMS}{sms['id']}/"
        status = client.get(url).json()["status"]
        errors = _field_errors(client.put(url, json={"lead_id": smiths}))
        assert errors == {"lead_id": f"Only a draft can move to another lead; this message is {status}, so it stays "
                                     "on its lead."}
        echo = client.put(url, json={"lead_id": sms["lead_id"], "text": sms["text"]})
        assert echo.status_code == 200, echo.text
        assert client.get(url).json()["lead_id"] == sms["lead_id"]
    assert (sent["lead_id"], logged["lead_id"]) == (sarah.lead_id, None)


# -- a draft sent to someone else: its words, and a number that must be the contact's ---------------------------


def _new_template(client: httpx.Client, text: str) -> str:
    response = client.post("/api/v1/sms_template/", json={"name": "Thanks", "text": text})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _put(client: httpx.Client, sms_id: str, body: dict) -> dict:
    response = client.put(f"{SMS}{sms_id}/", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_template_draft_sent_to_someone_else_is_written_again_for_them(client, contacts, runtime) -> None:
    """The row keeps template_id, so its words are the template's for the contact it had: a new contact (or a number
    that is someone else's, or no one's) gets the template rendered again, never the old contact's greeting."""
    sarah, john, mary = contacts["Sarah Lee"], contacts["John Park"], contacts["Mary Smith"]
    thanks = _new_template(client, "Thanks {{ contact.first_name }}, talk soon!")
    draft = _post(client, {"status": "draft", "contact_id": sarah.id, "template_id": thanks})
    assert draft["text"] == "Thanks Sarah, talk soon!"

    to_john = _put(client, draft["id"], {"contact_id": john.id})
    assert (to_john["contact_id"], to_john["remote_phone"]) == (john.id, "+12125550123")
    assert (to_john["text"], to_john["template_id"]) == ("Thanks John, talk soon!", thanks)
    by_number = _put(client, draft["id"], {"contact_id": None, "remote_phone": "(415) 555-0143"})
    assert (by_number["contact_id"], by_number["text"]) == (mary.id, "Thanks Mary, talk soon!")
    echoed = _put(client, draft["id"], {"contact_id": sarah.id, "text": "Thanks Mary, talk soon!"})
    assert echoed["text"] == "Thanks Sarah, talk soon!"  # the draft's own words given back are not new words

    nobody = client.put(f"{SMS}{draft['id']}/", json={"contact_id": None, "remote_phone": "+14155559999",
                                                      "status": "outbox"})
    assert _field_errors(nobody) == {"template_id": "The template uses {{ contact.first_name }}, which has no value "
                                                    "for this text: fill it in first, or write the text yourself."}
    sent = _put(client, draft["id"], {"contact_id": john.id, "status": "outbox"})
    assert (sent["status"], sent["contact_id"], sent["text"]) == ("sent", john.id, "Thanks John, talk soon!")
    assert _sent_count(runtime) == 1


def test_a_template_draft_sent_to_someone_else_is_written_for_them_with_its_values(client, contacts, runtime) -> None:
    """A template draft keeps the values it was rendered with: re-addressed, it is written again for the new person
    with them; values given alone change those named and keep the others."""
    sarah, john = contacts["Sarah Lee"], contacts["John Park"]
    late = _template_id(client, "Running late")
    draft = _post(client, {"status": "draft", "contact_id": sarah.id, "template_id": late,
                           "variables": {"minutes": "10"}})
    assert draft["text"].startswith("Hi Sarah, ")

    moved = _put(client, draft["id"], {"contact_id": john.id})
    assert moved["text"] == "Hi John, it's Dana from Bayview Realty (demo): I'm running about 10 minutes late. Sorry!"
    assert moved["template_id"] == late
    again = _put(client, draft["id"], {"variables": {"minutes": "15"}})
    assert again["text"] == moved["text"].replace("10", "15")
    same_contact = _put(client, draft["id"], {"contact_id": john.id, "remote_phone": "+1 212 555 0123"})
    assert same_contact["text"] == again["text"]  # the same person: nothing to write again

    showing = client.post("/api/v1/sms_template/", json={
        "name": "Showing with address", "text": "Hi {{ contact.first_name }}, see you at {{ time }} at {{ address }}."})
    assert showing.status_code in (200, 201), showing.text
    two = _post(client, {"status": "draft", "contact_id": sarah.id, "template_id": showing.json()["id"],
                         "variables": {"time": "5pm", "address": "12 Elm St"}})
    later = _put(client, two["id"], {"variables": {"time": "6pm"}})
    assert later["text"] == "Hi Sarah, see you at 6pm at 12 Elm St."
    for_john = _put(client, two["id"], {"contact_id": john.id, "status": "outbox"})
    assert (for_john["status"], for_john["text"]) == ("sent", "Hi John, see you at 6pm at 12 Elm St.")


def test_a_template_draft_saved_before_its_values_were_kept_asks_for_them_when_sent_to_someone_else(
        client, contacts, runtime) -> None:
    """A row saved before migration 0010 has no values: sent to someone else, the PUT gives them again (or the text);
    a refused PUT changes nothing."""
    sarah, john = contacts["Sarah Lee"], contacts["John Park"]
    late = _template_id(client, "Running late")
    draft = _post(client, {"status": "draft", "contact_id": sarah.id, "template_id": late,
                           "variables": {"minutes": "10"}})
    with transaction(runtime.factory) as session:
        session.execute(update(Activity).where(Activity.id == draft["id"]).values(variables=None))
    url = f"{SMS}{draft['id']}/"
    before = client.get(url).json()
    asked = "The text was written from its template for the previous recipient; give the template's variables " \
            "again (minutes) to write it for {}, or give the text."
    for body in ({"contact_id": john.id, "status": "outbox"}, {"contact_id": john.id, "text": draft["text"]}):
        refused = client.put(url, json=body)
        assert _field_errors(refused) == {"contact_id": asked.format("John Park")}
        assert refused.json()["problems"][0]["code"] == "missing_variable"
    by_number = client.put(url, json={"contact_id": None, "remote_phone": "+14155559999"})
    assert _field_errors(by_number) == {"remote_phone": asked.format("(415) 555-9999")}
    assert client.get(url).json() == before

    again = _put(client, draft["id"], {"contact_id": john.id, "variables": {"minutes": "15"}})
    assert again["text"] == "Hi John, it's Dana from Bayview Realty (demo): I'm running about 15 minutes late. Sorry!"
    assert again["template_id"] == late

    # New words replace the template; a hand-written text is the writer's, and stays as written when re-addressed.
    typed = _put(client, draft["id"], {"text": "Hi John, make that 20 minutes."})
    assert typed["template_id"] is None
    moved = _put(client, draft["id"], {"contact_id": sarah.id})
    assert (moved["contact_id"], moved["text"]) == (sarah.id, "Hi John, make that 20 minutes.")
    assert _sent_count(runtime) == 0


def test_a_template_draft_whose_template_is_gone_needs_the_text_to_go_to_someone_else(client, contacts,
                                                                                      runtime) -> None:
    sarah, john = contacts["Sarah Lee"], contacts["John Park"]
    thanks = _new_template(client, "Thanks {{ contact.first_name }}, talk soon!")
    draft = _post(client, {"status": "draft", "contact_id": sarah.id, "template_id": thanks})
    assert client.delete(f"/api/v1/sms_template/{thanks}/").status_code == 204

    refused = client.put(f"{SMS}{draft['id']}/", json={"contact_id": john.id})
    assert _field_errors(refused) == {"contact_id": "The text was written for the previous recipient from a template "
                                                    "that is no longer available; give the text for John Park."}
    assert refused.json()["problems"][0]["code"] == "template_unavailable"
    assert client.get(f"{SMS}{draft['id']}/").json() == draft
    sent = _put(client, draft["id"], {"status": "outbox", "text": "Thanks John, talk soon!"})  # still Sarah's
    assert (sent["contact_id"], sent["status"], sent["template_id"]) == (sarah.id, "sent", None)
    assert _sent_count(runtime) == 1


NOT_MARYS = "(415) 555-0132 is not one of Mary Smith's numbers; add it to the contact first, or send to the number alone."


@pytest.mark.parametrize("status", ["draft", "outbox", "scheduled", "sent", "inbox"])
def test_a_number_given_with_a_contact_must_be_one_of_theirs(client, contacts, factory, runtime, status) -> None:
    """Else the text reaches one person and is filed on another's timeline and thread; for a logged text too."""
    mary = contacts["Mary Smith"]
    body = {"status": status, "contact_id": mary.id, "text": "Hi"} | (
        {"date_scheduled": _future()} if status == "scheduled" else {})
    refused = client.post(SMS, json=body | {"remote_phone": "+14155550132"})
    assert _field_errors(refused) == {"remote_phone": NOT_MARYS}
    assert refused.json()["problems"][0]["code"] == "not_contacts_phone"
    assert _sms_count(factory) == 0

    hers = _post(client, body | {"remote_phone": "415.555.0143"})  # hers, however it is written
    assert (hers["contact_id"], hers["remote_phone"]) == (mary.id, "+14155550143")


def test_a_drafts_number_changed_alone_must_stay_the_contacts(client, contacts, runtime) -> None:
    """The typo fix of the finding: a PUT changing only remote_phone keeps the contact, so the number must be theirs;
    `contact_id: null` with the number files the text by the number alone."""
    sarah, mary = contacts["Sarah Lee"], contacts["Mary Smith"]
    draft = _post(client, {"status": "draft", "contact_id": sarah.id, "text": "a draft"})
    url = f"{SMS}{draft['id']}/"
    to_mary = _put(client, draft["id"], {"contact_id": mary.id})
    assert _field_errors(client.put(url, json={"remote_phone": "+14155550132"})) == {"remote_phone": NOT_MARYS}
    stranger = client.put(url, json={"remote_phone": "+14155559999", "status": "outbox"})
    assert _field_errors(stranger) == {"remote_phone": "(415) 555-9999 is not one of Mary Smith's numbers; add it to "
                                                       "the contact first, or send to the number alone."}
    assert client.get(url).json() == to_mary

    alone = _put(client, draft["id"], {"contact_id": None, "remote_phone": "+14155559999", "status": "outbox"})
    assert (alone["contact_id"], alone["lead_id"], alone["remote_phone"]) == (None, None, "+14155559999")
    assert alone["status"] == "sent"
    assert draft["id"] not in _lead_timeline(client, mary.lead_id)
    assert _sent_count(runtime) == 1


def test_a_scheduled_text_whose_contact_changed_number_fails_instead_of_going_out(client, contacts, runtime,
                                                                                  factory) -> None:
    """The dispatcher checks again when it is due: the number it was scheduled to is no longer the contact's, so it
    ends in error naming the reason; nothing is sent, to either number."""
    sarah = contacts["Sarah Lee"]
    scheduled = _post(client, {"status": "scheduled", "contact_id": sarah.id, "text": "Showing at 10",
                               "date_scheduled": _future()})
    changed = client.put(f"/api/v1/contact/{sarah.id}/", json={"phones": [{"phone": "+14155550199", "type": "mobile"}]})
    assert changed.status_code == 200, changed.text
    with transaction(factory) as session:  # due now, instead of waiting an hour
        session.get(Activity, scheduled["id"]).date_scheduled = datetime.now(UTC) - timedelta(seconds=1)
    assert runtime.dispatcher.run_once() == 1
    failed = client.get(f"{SMS}{scheduled['id']}/").json()
    assert (failed["status"], failed["remote_phone"]) == ("error", "+14155550132")
    assert failed["error_message"] == ("(415) 555-0132 is not one of Sarah Lee's numbers; add it to the contact first, "
                                       "or send to the number alone.")
    assert _sent_count(runtime) == 0


# -- the draft lifecycle ---------------------------------------------------------------------------------------


def test_draft_to_outbox_back_to_draft_to_scheduled_then_deleted(client, contacts, runtime, factory) -> None:
    sms = _post(client, {"status": "draft", "contact_id": contacts["Sarah Lee"].id, "text": "Hi"})
    sms_id = sms["id"]

    edited = client.put(f"{SMS}{sms_id}/", json={"text": "Hi Sarah, café at 7?"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["id"] == sms_id
    assert edited.json()["text"] == "Hi Sarah, café at 7?"
    assert edited.json()["status"] == "draft"

    queued = client.put(f"{SMS}{sms_id}/", json={"status": "outbox", "send_in": 30})
    assert queued.status_code == 200, queued.text
    assert queued.json()["id"] == sms_id
    assert queued.json()["status"] == "outbox"
    assert queued.json()["date_scheduled"] is not None

    cancelled = client.put(f"{SMS}{sms_id}/", json={"status": "draft"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "draft"
    assert cancelled.json()["date_scheduled"] is None

    when = _future(24 * 60)
    scheduled = client.put(f"{SMS}{sms_id}/", json={"status": "scheduled", "date_scheduled": when})
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json()["status"] == "scheduled"
    assert datetime.fromisoformat(scheduled.json()["date_scheduled"]) == datetime.fromisoformat(when)
    assert scheduled.json()["text"] == "Hi Sarah, café at 7?"

    # A scheduled message is not a draft: editing it is refused, and the row is untouched.
    refused = client.put(f"{SMS}{sms_id}/", json={"text": "changed"})
    assert "text" in _field_errors(refused)
    assert client.get(f"{SMS}{sms_id}/").json()["text"] == "Hi Sarah, café at 7?"

    deleted = client.delete(f"{SMS}{sms_id}/")
    assert deleted.status_code == 200
    assert deleted.json() == {}
    assert client.get(f"{SMS}{sms_id}/").status_code == 404
    assert _sms_count(factory) == 0
    assert _sent_count(runtime) == 0


def test_a_refused_edit_that_also_cancels_leaves_the_message_scheduled(client, contacts, runtime) -> None:
    when = _future(24 * 60)
    sms = _post(client, {"status": "scheduled", "contact_id": contacts["Sarah Lee"].id, "text": "Open house",
                         "date_scheduled": when})
    refused = client.put(f"{SMS}{sms['id']}/", json={"status": "draft", "text": "x" * 1001})
    assert set(_field_errors(refused)) == {"text"}
    kept = client.get(f"{SMS}{sms['id']}/").json()
    assert (kept["status"], kept["text"]) == ("scheduled", "Open house")
    assert datetime.fromisoformat(kept["date_scheduled"]) == datetime.fromisoformat(when)

    edited = client.put(f"{SMS}{sms['id']}/", json={"status": "draft", "text": "Open house moved to 2pm"})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["status"], edited.json()["text"]) == ("draft", "Open house moved to 2pm")
    assert edited.json()["date_scheduled"] is None
    assert _sent_count(runtime) == 0


def test_draft_sent_now_keeps_its_id(client, contacts, runtime, factory) -> None:
    sms = _post(client, {"status": "draft", "contact_id": contacts["David Smith"].id, "text": "Keys are ready"})
    sent = client.put(f"{SMS}{sms['id']}/", json={"status": "outbox"})
    assert sent.status_code == 200, sent.text
    assert sent.json()["id"] == sms["id"]
    assert sent.json()["status"] in ("sent", "delivered")
    assert _sent_count(runtime) == 1
    assert _sms_count(factory) == 1


def test_put_echoing_a_sent_message_changes_nothing(client, contacts) -> None:
    sms = _post(client, {"status": "sent", "contact_id": contacts["Sarah Lee"].id, "text": "Logged"})
    response = client.put(f"{SMS}{sms['id']}/", json={"status": "sent", "text": "Logged"})
    assert response.status_code == 200, response.text
    assert response.json()["text"] == "Logged"


# -- field errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["error", "sending", "bogus", ""])
def test_unknown_status_is_not_a_valid_choice(client, contacts, factory, status) -> None:
    response = client.post(SMS, json={"status": status, "contact_id": contacts["Sarah Lee"].id, "text": "Hi"})
    assert _field_errors(response) == {"status": "Not a valid choice."}
    assert _sms_count(factory) == 0


def test_missing_status_is_a_field_error(client, contacts) -> None:
    response = client.post(SMS, json={"contact_id": contacts["Sarah Lee"].id, "text": "Hi"})
    assert "status" in _field_errors(response)


def test_external_local_phone_cannot_send(client, demo, contacts, factory, runtime) -> None:
    with transaction(factory) as session:
        session.add(PhoneNumber(organization_id=demo.organization_id, number="+14155550166", number_type="external",
                                country="US", user_id=demo.user_id, monthly_cost=Decimal(0)))
    response = client.post(SMS, json={"status": "outbox", "contact_id": contacts["Sarah Lee"].id, "text": "Hi",
                                      "local_phone": "+14155550166"})
    errors = _field_errors(response)
    assert set(errors) == {"local_phone"}
    assert "external" in errors["local_phone"]
    assert [p["code"] for p in response.json()["problems"]] == ["external_number"]

    unknown = client.post(SMS, json={"status": "outbox", "contact_id": contacts["Sarah Lee"].id, "text": "Hi",
                                     "local_phone": "+14155550167"})
    assert set(_field_errors(unknown)) == {"local_phone"}
    assert _sms_count(factory) == 0 and _sent_count(runtime) == 0


def test_send_in_must_be_under_60(client, contacts, factory) -> None:
    response = client.post(SMS, json={"status": "outbox", "send_in": 60, "contact_id": contacts["Sarah Lee"].id,
                                      "text": "Hi"})
    assert set(_field_errors(response)) == {"send_in"}
    ok = _post(client, {"status": "outbox", "send_in": 59, "contact_id": contacts["Sarah Lee"].id, "text": "Hi"})
    assert ok["status"] == "outbox"
    assert _sms_count(factory) == 1


FAR = "9999-12-31T23:59:59-05:00"  # a valid date-time whose UTC instant is past datetime.max
OUT_OF_RANGE = "must be a date from 1900 to 9997"


@pytest.mark.parametrize("path, name, value", [
    (SMS, "activity_at__gt", FAR),
    (SMS, "date_created__gte", "0001-01-01T00:00:00+05:00"),
    ("/api/v1/activity/call/", "activity_at__lt", FAR),
])
def test_a_filter_date_out_of_range_is_a_field_error(client, path, name, value) -> None:
    response = client.get(path, params={name: value})
    assert _field_errors(response) == {name: OUT_OF_RANGE}


@pytest.mark.parametrize("path, name, value, allowed", [
    (SMS, "status", "bogus", "draft, scheduled, outbox, sending, sent, delivered, error, inbox"),
    (SMS, "status", "draft,bogus", "draft, scheduled, outbox, sending, sent, delivered, error, inbox"),
    (SMS, "direction", "sideways", "inbound, outbound"),
    ("/api/v1/activity/call/", "direction", "sideways", "inbound, outbound"),
])
def test_a_status_or_direction_filter_no_text_can_have_is_a_field_error(client, contacts, path, name, value,
                                                                        allowed) -> None:
    """A typo would match nothing and look like an empty list: a 400 naming the parameter and its values."""
    _post(client, {"status": "draft", "contact_id": contacts["Sarah Lee"].id, "text": "Hi"})
    assert _field_errors(client.get(path, params={name: value})) == {name: f"Not a valid choice; use {allowed}."}


@pytest.mark.parametrize("path", [SMS, "/api/v1/activity/call/"])
@pytest.mark.parametrize("name", ["date_created__gte", "activity_at__lt"])
def test_a_filter_time_without_a_zone_is_a_field_error_as_in_a_body(client, path, name) -> None:
    """"06:05" is another instant in every time zone; a date alone is that day in UTC, as Close reads it."""
    response = client.get(path, params={name: "2026-12-07T06:05:00"})
    assert _field_errors(response) == {name: "needs a time zone (e.g. 2026-12-07T06:05:00Z or +00:00), or give a "
                                             "date alone"}
    for value in ("2026-12-07T06:05:00Z", "2026-12-07T06:05:00-08:00", "2026-12-07"):
        assert client.get(path, params={name: value}).status_code == 200, value


@pytest.mark.parametrize("status, direction, expected", [("inbox", "outbound", "inbound"), ("sent", "inbound", "outbound")])
def test_a_logged_text_whose_direction_contradicts_its_status_is_refused(client, factory, status, direction,
                                                                         expected) -> None:
    body = {"status": status, "remote_phone": "+16045550188", "text": "x"}
    refused = client.post(SMS, json=body | {"direction": direction})
    assert _field_errors(refused) == {"direction": f"A text logged as {status} is {expected}: give direction "
                                                   f"{expected}, or leave it out."}
    assert _sms_count(factory) == 0
    assert _post(client, body | {"direction": expected})["direction"] == expected


@pytest.mark.parametrize("body", [
    {"status": "scheduled", "date_scheduled": FAR, "text": "Hi"},
    {"status": "inbox", "activity_at": FAR, "text": "Hi"},
    {"status": "outbox", "send_in": 10**12, "text": "Hi"},
])
def test_a_date_or_delay_out_of_range_is_a_field_error_and_saves_nothing(client, contacts, factory, body) -> None:
    response = client.post(SMS, json=body | {"contact_id": contacts["Sarah Lee"].id})
    field = next(name for name in ("date_scheduled", "activity_at", "send_in") if name in body)
    assert set(_field_errors(response)) == {field}
    assert _sms_count(factory) == 0


def test_scheduled_without_date_scheduled(client, contacts, factory) -> None:
    response = client.post(SMS, json={"status": "scheduled", "contact_id": contacts["Sarah Lee"].id, "text": "Hi"})
    assert set(_field_errors(response)) == {"date_scheduled"}
    assert _sms_count(factory) == 0


def test_editing_a_sent_sms_is_refused(client, contacts, runtime) -> None:
    sms = _post(client, {"status": "outbox", "contact_id": contacts["Sarah Lee"].id, "text": "Original"})
    response = client.put(f"{SMS}{sms['id']}/", json={"text": "Edited"})
    errors = _field_errors(response)
    assert "only drafts" in errors["text"].lower()
    assert response.json()["problems"][0]["code"] == "not_editable"
    back = client.put(f"{SMS}{sms['id']}/", json={"status": "draft"})
    assert "status" in _field_errors(back)
    assert client.get(f"{SMS}{sms['id']}/").json()["text"] == "Original"


def test_logged_sms_cannot_be_edited(client, contacts) -> None:
    sms = _post(client, {"status": "inbox", "contact_id": contacts["Sarah Lee"].id, "text": "Hello"})
    response = client.put(f"{SMS}{sms['id']}/", json={"status": "outbox"})
    assert "status" in _field_errors(response)


def test_draft_cannot_jump_to_sent(client, contacts) -> None:
    sms = _post(client, {"status": "draft", "contact_id": contacts["Sarah Lee"].id, "text": "Hello"})
    response = client.put(f"{SMS}{sms['id']}/", json={"status": "sent"})
    assert "status" in _field_errors(response)
    assert client.get(f"{SMS}{sms['id']}/").json()["status"] == "draft"


def test_bad_remote_phone_and_inbound_direction_for_a_send(client) -> None:
    bad = client.post(SMS, json={"status": "draft", "remote_phone": "not a phone", "text": "Hi"})
    assert "remote_phone" in _field_errors(bad)
    inbound = client.post(SMS, json={"status": "draft", "direction": "inbound", "remote_phone": "+14155550132",
                                     "text": "Hi"})
    assert set(_field_errors(inbound)) == {"direction"}


# -- templates through the messaging service -------------------------------------------------------------------


def _template_id(client: httpx.Client, name: str) -> str:
    templates = client.get("/api/v1/sms_template/").json()["data"]
    return next(t["id"] for t in templates if t["name"] == name)


def test_template_id_renders_for_the_contact(client, contacts) -> None:
    template_id = _template_id(client, "Showing confirmation")
    sms = _post(client, {"status": "draft", "contact_id": contacts["Sarah Lee"].id, "template_id": template_id,
                         "variables": {"time": "7pm"}})
    assert sms["text"] == "Hi Sarah, this confirms your showing at 7pm. See you there! - Dana"
    assert sms["template_id"] == template_id

    missing = client.post(SMS, json={"status": "outbox", "contact_id": contacts["Mary Smith"].id,
                                     "template_id": template_id})
    assert set(_field_errors(missing)) == {"variables.time"}
    assert missing.json()["problems"][0]["code"] == "missing_variable"


def test_template_id_renders_for_a_logged_sms(client, contacts) -> None:
    template_id = _template_id(client, "Running late")
    sms = _post(client, {"status": "sent", "contact_id": contacts["John Park"].id, "template_id": template_id,
                         "variables": {"minutes": "10"}})
    assert sms["text"] == ("Hi John, it's Dana from Bayview Realty (demo): I'm running about 10 minutes late. Sorry!")


def test_draft_edit_can_switch_to_a_template(client, contacts) -> None:
    template_id = _template_id(client, "Showing confirmation")
    sms = _post(client, {"status": "draft", "contact_id": contacts["Mary Smith"].id, "text": "placeholder"})
    response = client.put(f"{SMS}{sms['id']}/", json={"template_id": template_id, "variables": {"time": "noon"}})
    assert response.status_code == 200, response.text
    assert response.json()["text"] == "Hi Mary, this confirms your showing at noon. See you there! - Dana"
    assert response.json()["template_id"] == template_id


# -- the Inbox -------------------------------------------------------------------------------------------------


def test_logged_inbox_sms_with_send_to_inbox_makes_an_inbox_item(client, demo, contacts, factory) -> None:
    quiet = _post(client, {"status": "inbox", "contact_id": contacts["Sarah Lee"].id, "text": "No item for me"})
    loud = _post(client, {"status": "inbox", "contact_id": contacts["Sarah Lee"].id, "text": "Can we talk?"},
                 params={"send_to_inbox": "true"})
    with factory() as session:
        items = list(session.scalars(select(InboxItem).where(InboxItem.organization_id == demo.organization_id)))
    assert [(i.activity_id, i.user_id, i.type, i.done) for i in items] == [(loud["id"], demo.user_id, "incoming_sms", False)]
    assert quiet["id"] != loud["id"]

    assert client.delete(f"{SMS}{loud['id']}/").json() == {}  # its inbox item goes with it
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(InboxItem)) == 0


# -- paging, filters, idempotency ------------------------------------------------------------------------------


def test_paging_25_with_limit_2_has_no_duplicates_or_gaps(client, contacts) -> None:
    created = {_post(client, {"status": "sent", "contact_id": contacts["Sarah Lee"].id, "text": f"#{i}"})["id"]
               for i in range(25)}
    seen, skip, pages = [], 0, 0
    while True:
        page = client.get(SMS, params={"_skip": skip, "_limit": 2}).json()
        assert page["data"] or not page["has_more"]
        seen += [x["id"] for x in page["data"]]
        skip += len(page["data"])
        pages += 1
        if not page["has_more"]:
            break
    assert pages == 13
    assert len(seen) == len(set(seen)) == 25
    assert set(seen) == created
    everything = client.get(SMS, params={"_limit": 100}).json()["data"]
    assert [x["id"] for x in everything] == seen  # the same order in one page as across pages
    dates = [x["date_created"] for x in everything]
    assert dates == sorted(dates, reverse=True)


def test_filters(client, demo, contacts) -> None:
    sarah, john = contacts["Sarah Lee"], contacts["John Park"]
    a = _post(client, {"status": "sent", "contact_id": sarah.id, "text": "a", "activity_at": "2024-01-01T00:00:00Z"})
    b = _post(client, {"status": "inbox", "contact_id": sarah.id, "text": "b", "activity_at": "2024-06-01T00:00:00Z"})
    c = _post(client, {"status": "draft", "contact_id": john.id, "text": "c"})

    def ids(**params) -> set[str]:
        response = client.get(SMS, params=params)
        assert response.status_code == 200, response.text
        return {x["id"] for x in response.json()["data"]}

    assert ids() == {a["id"], b["id"], c["id"]}
    assert ids(contact_id=sarah.id) == {a["id"], b["id"]}
    assert ids(lead_id=john.lead_id) == {c["id"]}
    assert ids(lead_id=f"{john.lead_id},{sarah.lead_id}") == {a["id"], b["id"], c["id"]}
    assert ids(status="inbox") == {b["id"]}
    assert ids(status="draft,sent") == {a["id"], c["id"]}
    assert ids(user_id=demo.user_id) == {a["id"], b["id"], c["id"]}
    assert ids(user_id="user_nobody") == set()
    assert ids(activity_at__lt="2024-03-01T00:00:00Z") == {a["id"]}
    assert ids(activity_at__gte="2024-06-01T00:00:00Z") == {b["id"], c["id"]}
    assert ids(activity_at__gt="2024-06-01T00:00:00Z") == {c["id"]}
    assert ids(activity_at__lte="2024-06-01T00:00:00+00:00") == {a["id"], b["id"]}
    assert ids(date_created__gte=b["date_created"]) == {b["id"], c["id"]}
    assert ids(date_created__gt=b["date_created"]) == {c["id"]}
    assert ids(date_created__lt=b["date_created"]) == {a["id"]}
    assert ids(date_created__lte=b["date_created"]) == {a["id"], b["id"]}
    assert ids(date_created__gt="2000-01-01") == {a["id"], b["id"], c["id"]}  # a date without a zone reads as UTC
    assert ids(id__in=f"{a['id']},{c['id']}") == {a["id"], c["id"]}

    fields = client.get(SMS, params={"_fields": "id,status", "contact_id": john.id}).json()["data"]
    assert fields == [{"id": c["id"], "status": "draft"}]
    one = client.get(f"{SMS}{a['id']}/", params={"_fields": "id,text"}).json()
    assert one == {"id": a["id"], "text": "a"}

    bad = client.get(SMS, params={"date_created__gt": "yesterday"})
    assert "date_created__gt" in _field_errors(bad)


def test_idempotency_key_creates_once(client, contacts, factory, runtime) -> None:
    body = {"status": "outbox", "contact_id": contacts["Sarah Lee"].id, "text": "Only once"}
    first = _post(client, body, headers={"Idempotency-Key": "send-42"})
    second = _post(client, body, headers={"Idempotency-Key": "send-42"})
    assert first["id"] == second["id"]
    assert _sms_count(factory) == 1 and _sent_count(runtime) == 1
    logged = _post(client, {"status": "sent", "remote_phone": "+14155550132", "text": "x"},
                   headers={"Idempotency-Key": "log-1"})
    assert _post(client, {"status": "sent", "remote_phone": "+14155550132", "text": "x"},
                 headers={"Idempotency-Key": "log-1"})["id"] == logged["id"]
    assert _sms_count(factory) == 2


def test_an_idempotency_key_repeated_with_another_request_is_refused(client, contacts, factory, runtime) -> None:
    """As Stripe does: a key names one request; the same key with other values is a 422 naming the key, and
    makes and sends nothing."""
    sarah = contacts["Sarah Lee"].id
    key = {"Idempotency-Key": "send-43"}
    first = _post(client, {"status": "outbox", "contact_id": sarah, "text": "Only once"}, headers=key)
    for other in ({"status": "outbox", "contact_id": sarah, "text": "Something else"},
                  {"status": "outbox", "contact_id": contacts["John Park"].id, "text": "Only once"},
                  {"status": "sent", "contact_id": sarah, "text": "Only once"}):
        refused = client.post(SMS, json=other, headers=key)
        assert refused.status_code == 422, refused.text
        assert refused.json() == {"error": "This Idempotency-Key was already used with other values; use a new key "
                                           "for a new request."}
    # The same values, in another order or with a default spelled out, are the same request.
    same = _post(client, {"text": "Only once", "contact_id": sarah, "status": "outbox", "lead_id": None}, headers=key)
    assert same["id"] == first["id"]
    assert _sms_count(factory) == 1 and _sent_count(runtime) == 1
    # So are one instant in two zones, and template values listed in another order.
    later = {"Idempotency-Key": "send-44"}
    body = {"status": "scheduled", "contact_id": sarah, "template_id": _template_id(client, "Showing confirmation"),
            "variables": {"time": "7pm", "day": "Sunday"}, "date_scheduled": "2030-01-01T19:00:00-05:00"}
    scheduled = _post(client, body, headers=later)
    again = _post(client, body | {"variables": {"day": "Sunday", "time": "7pm"},
                                  "date_scheduled": "2030-01-02T00:00:00Z"}, headers=later)
    assert again["id"] == scheduled["id"]
    assert client.get(f"{SMS}{first['id']}/").json()["text"] == "Only once"

    call_key = {"Idempotency-Key": "call-43"}
    call = client.post("/api/v1/call/dial/", json={"contact_id": sarah}, headers=call_key)
    assert call.status_code == 200, call.text
    other_call = client.post("/api/v1/call/dial/", json={"contact_id": contacts["John Park"].id}, headers=call_key)
    assert other_call.status_code == 422, other_call.text
    assert "Idempotency-Key" in other_call.json()["error"]
    runtime.provider.wait_idle(10)


# -- isolation between workspaces ------------------------------------------------------------------------------


def test_another_workspace_sees_and_changes_nothing(client, live_server, other_workspace: NewWorkspace, contacts,
                                                    factory, demo) -> None:
    draft = _post(client, {"status": "draft", "contact_id": contacts["Sarah Lee"].id, "text": "Private"})
    template_id = _template_id(client, "Running late")
    with http_client(base_url=live_server, auth=(other_workspace.api_key, ""), timeout=30) as other:
        url = f"{SMS}{draft['id']}/"
        for response in (other.get(url), other.put(url, json={"text": "Hacked"}),
                         other.put(url, json={"status": "outbox"}), other.delete(url)):
            assert response.status_code == 404, response.text
            assert set(response.json()) == {"error"}
        assert other.get(SMS).json() == {"data": [], "has_more": False}
        assert other.get(SMS, params={"contact_id": contacts["Sarah Lee"].id}).json()["data"] == []

        borrowed = other.post(SMS, json={"status": "draft", "contact_id": contacts["Sarah Lee"].id, "text": "Hi"})
        assert "contact_id" in _field_errors(borrowed)
        logged = other.post(SMS, json={"status": "sent", "contact_id": contacts["Sarah Lee"].id, "text": "Hi"})
        assert "contact_id" in _field_errors(logged)
        template = other.post(SMS, json={"status": "draft", "remote_phone": "+14155550132",
                                         "template_id": template_id, "variables": {"minutes": "5"}})
        assert "template_id" in _field_errors(template)
        number = other.post(SMS, json={"status": "outbox", "remote_phone": "+14155550132", "text": "Hi",
                                       "local_phone": DEMO_NUMBER})
        assert "local_phone" in _field_errors(number)
    mine = client.get(f"{SMS}{draft['id']}/").json()
    assert mine == draft
    assert _sms_count(factory, other_workspace.organization_id) == 0
    assert _sms_count(factory) == 1


# -- Close's own Python client ---------------------------------------------------------------------------------


def test_closeio_client_creates_fetches_lists_and_deletes(live_server, demo, contacts) -> None:
    api = closeio_api.API(base_url=live_server + "/api/v1/", api_key=demo.api_key, max_retries=1)
    created = api.post("activity/sms", {"status": "draft", "contact_id": contacts["Sarah Lee"].id,
                                        "text": "From Close's client"})
    assert created["_type"] == "SMS" and created["status"] == "draft"
    fetched = api.get(f"activity/sms/{created['id']}")
    assert fetched["text"] == "From Close's client"
    listed = api.get("activity/sms", params={"contact_id": contacts["Sarah Lee"].id, "_limit": 10})
    assert [x["id"] for x in listed["data"]] == [created["id"]] and listed["has_more"] is False
    updated = api.put(f"activity/sms/{created['id']}", {"text": "Edited by the client"})
    assert updated["text"] == "Edited by the client"

    with pytest.raises(closeio_api.ValidationError) as info:
        api.post("activity/sms", {"status": "nope", "text": "x"})
    assert info.value.field_errors == {"status": "Not a valid choice."}

    assert api.delete(f"activity/sms/{created['id']}") == {}
    with pytest.raises(closeio_api.APIError) as missing:
        api.get(f"activity/sms/{created['id']}")
    assert missing.value.response.status_code == 404
