"""Close's `query` on /lead/ and /contact/, over HTTP on SQLite and PostgreSQL.

A lead is found by its name or by one of its contacts' names, emails or phones; a contact by its name, email or
phone. Matching is "contains", in any case, the same on both databases for letters beyond ASCII; a phone number in
any format is matched by its digits. Control characters are a 400 naming `query`, and a search never reaches another
workspace's records.
"""

import httpx
import pytest

from tests.live import ok

LEADS, CONTACTS = "/api/v1/lead/", "/api/v1/contact/"


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


@pytest.fixture
def people(api: httpx.Client) -> dict[str, dict]:
    """Three leads: a company whose contact is called "Pager 3", a German practice, and a person's own lead."""
    acme = ok(api.post(LEADS, json={"name": "Acme Corp", "contacts": [
        {"name": "Pager 3", "phones": [{"phone": "(415) 555-1003", "type": "office"}],
         "emails": [{"email": "fr@example.fr"}]},
        {"name": "Luc Tremblay", "phones": [{"phone": "+1 604 555 0188", "type": "mobile"}]}]}))
    praxis = ok(api.post(LEADS, json={"name": "Ärzte Zentrum Müller", "contacts": [
        {"name": "Jürgen Öztürk", "phones": [{"phone": "020 7946 0018", "country": "GB"}],
         "emails": [{"email": "Juergen@Praxis.example"}]}]}))
    sarah = ok(api.post(CONTACTS, json={"name": "Sarah Lee", "phones": [{"phone": "(415) 555-0132"}]}))
    return {"acme": acme, "praxis": praxis, "sarah": sarah}


def _lead_names(api: httpx.Client, query: str, **params) -> list[str]:
    return [lead["name"] for lead in ok(api.get(LEADS, params={"query": query, **params}))["data"]]


def _contact_names(api: httpx.Client, query: str, **params) -> list[str]:
    return [contact["name"] for contact in ok(api.get(CONTACTS, params={"query": query, **params}))["data"]]


def test_a_lead_is_found_by_its_contacts_names_phones_and_emails(api: httpx.Client, people) -> None:
    for query in ("Acme", "corp", "Pager", "pager 3", "TREMBLAY", "fr@example.fr", "FR@EXAMPLE", "4155551003",
                  "(415) 555-1003", "+14155551003", "+1 415-555-1003", "555-1003", "604.555.0188"):
        assert _lead_names(api, query) == ["Acme Corp"], query
    assert _lead_names(api, "Sarah") == ["Sarah Lee"]
    assert _lead_names(api, "415 555") == ["Acme Corp", "Sarah Lee"]  # both have a number with those digits
    for query in ("Nobody", "4155559999", "example.com", "%", "_", "Pager_3", "\\"):
        assert _lead_names(api, query) == [], query


def test_a_contact_is_found_by_its_name_phone_or_email_not_its_leads_name(api: httpx.Client, people) -> None:
    for query in ("Pager", "fr@EXAMPLE.fr", "4155551003", "(415) 555-1003", "+14155551003"):
        assert _contact_names(api, query) == ["Pager 3"], query
    assert _contact_names(api, "Acme") == []
    assert _contact_names(api, "415") == ["Pager 3", "Sarah Lee"]
    assert _contact_names(api, "415", lead_id=people["acme"]["id"]) == ["Pager 3"]
    assert _contact_names(api, "  Sarah  ") == ["Sarah Lee"]
    assert _contact_names(api, "") == ["Pager 3", "Luc Tremblay", "Jürgen Öztürk", "Sarah Lee"]  # no search
    page = ok(api.get(CONTACTS, params={"query": "415", "_limit": 1}))
    assert ([c["name"] for c in page["data"]], page["has_more"]) == (["Pager 3"], True)


def test_letters_beyond_ascii_match_in_any_case_on_both_databases(api: httpx.Client, people) -> None:
    for query in ("Ärzte", "ärzte", "ÄRZTE", "MÜLLER", "müller", "zentrum m", "JÜRGEN", "öztürk",
                  "juergen@praxis"):
        assert _lead_names(api, query) == ["Ärzte Zentrum Müller"], query
    for query in ("JÜRGEN ÖZTÜRK", "jürgen", "JUERGEN@"):
        assert _contact_names(api, query) == ["Jürgen Öztürk"], query
    assert _lead_names(api, "Arzte") == []  # accents are letters of their own: "contains" is by letter


def test_a_national_number_finds_its_international_form(api: httpx.Client, people) -> None:
    """The GB number was given as "020 7946 0018" and is stored +442079460018: the trunk 0 or an international 00
    before a whole number is no digit of it."""
    for query in ("020 7946 0018", "+44 20 7946 0018", "0044 20 7946 0018", "7946 0018"):
        assert _contact_names(api, query) == ["Jürgen Öztürk"], query


@pytest.mark.parametrize("query", ["\x00", "Sarah\x00", "abc\x00' OR 1=1", "Sarah\tLee", "line\nbreak", "\x7f"])
def test_control_characters_in_a_query_are_a_400_naming_query(api: httpx.Client, people, query: str) -> None:
    for path in (LEADS, CONTACTS):
        response = api.get(path, params={"query": query})
        assert response.status_code == 400, (path, response.text)
        assert set(response.json()["field-errors"]) == {"query"}
        assert "control characters" in response.json()["field-errors"]["query"]


def test_a_search_stays_in_the_callers_workspace(api: httpx.Client, other_api: httpx.Client, people) -> None:
    """The other workspace has its own contact with one of these numbers: each finds only its own."""
    theirs = ok(other_api.post(CONTACTS, json={"name": "Pat Pager", "phones": [{"phone": "+14155551003"}],
                                                "emails": [{"email": "fr@example.fr"}]}))
    for query in ("Pager", "4155551003", "fr@example.fr"):
        assert [c["id"] for c in ok(other_api.get(CONTACTS, params={"query": query}))["data"]] == [theirs["id"]]
        assert [lead["id"] for lead in ok(other_api.get(LEADS, params={"query": query}))["data"]] == [
            theirs["lead_id"]]
        assert _lead_names(api, query) == ["Acme Corp"]
        assert _contact_names(api, query) == ["Pager 3"]
    assert _lead_names(other_api, "Acme") == []
    assert _contact_names(other_api, "Sarah") == []


def test_the_search_follows_every_change_to_names_emails_and_phones(api: httpx.Client, people) -> None:
    """What each search reads (on SQLite an index kept by triggers, migration 0011) is current after every write."""
    sarah, acme = people["sarah"], people["acme"]
    ok(api.put(f"{CONTACTS}{sarah['id']}/", json={"name": "Sarah Quinn"}))
    assert (_contact_names(api, "Quinn"), _contact_names(api, "Sarah Lee")) == (["Sarah Quinn"], [])
    ok(api.put(f"{CONTACTS}{sarah['id']}/", json={"emails": [{"email": "sq@quinn.example"}],
                                                  "phones": [{"phone": "(415) 555-0177"}]}))
    assert _contact_names(api, "quinn.example") == ["Sarah Quinn"]
    assert (_contact_names(api, "555-0177"), _contact_names(api, "555-0132")) == (["Sarah Quinn"], [])
    assert _lead_names(api, "sq@quinn") == ["Sarah Lee"]  # the lead keeps its name, and is found by its contact's
    ok(api.put(f"{LEADS}{sarah['lead_id']}/", json={"name": "Quinn Household"}))
    assert (_lead_names(api, "household"), _lead_names(api, "Sarah Lee")) == (["Quinn Household"], [])
    ok(api.put(f"{CONTACTS}{sarah['id']}/", json={"lead_id": acme["id"]}))
    assert _lead_names(api, "sq@quinn") == ["Acme Corp"]
    assert api.delete(f"{CONTACTS}{sarah['id']}/").status_code == 200
    assert (_contact_names(api, "Quinn"), _lead_names(api, "555-0177")) == ([], [])
    assert api.delete(f"{LEADS}{acme['id']}/").status_code == 200
    assert (_lead_names(api, "Acme"), _contact_names(api, "Pager"), _contact_names(api, "604.555")) == ([], [], [])
