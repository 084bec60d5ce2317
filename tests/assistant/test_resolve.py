"""Resolution of "Sarah", "the Smiths", "John from Acme" and template names, on SQLite and PostgreSQL.

Data is built through the services (tools.crm, tools.sms_templates), so the name index is kept as in production.
"""

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import text

from assistant.resolve import Resolution, resolve_recipient, resolve_template
from db.session import transaction
from db.types import utcnow
from tools import threads
from tools.context import Ctx
from tools.crm import (
    ContactIn,
    ContactPatch,
    LeadIn,
    LeadPatch,
    PhoneIn,
    create_contact,
    create_lead,
    delete_contact,
    update_contact,
    update_lead,
)
from tools.sms_templates import (
    TemplateIn,
    TemplatePatch,
    create_template,
    update_template,
)
from tools.workspaces import add_member, create_user

_numbers = itertools.count(100)


@pytest.fixture
def db_url(any_db_url) -> str:
    return any_db_url


@pytest.fixture
def ctx(workspace) -> Ctx:
    return Ctx(organization_id=workspace.organization_id, user_id=workspace.user_id, channel="chat")


def mobile() -> PhoneIn:
    return PhoneIn(phone=f"+1415555{next(_numbers):04d}", type="mobile")


def person(name: str, title: str = "", phones: list[PhoneIn] | None = None) -> ContactIn:
    return ContactIn(name=name, title=title, phones=[mobile()] if phones is None else phones)


def add(factory, ctx: Ctx, *people: ContactIn) -> list[str]:
    with transaction(factory) as session:
        return [create_contact(session, ctx, p).id for p in people]


def add_lead(factory, ctx: Ctx, name: str, *people: ContactIn) -> tuple[str, list[str]]:
    with transaction(factory) as session:
        lead = create_lead(session, ctx, LeadIn(name=name, contacts=list(people)))
        return lead.id, [c.id for c in lead.contacts]


def resolve(factory, ctx: Ctx, name: str) -> Resolution:
    with factory() as session:
        return resolve_recipient(session, ctx, name)


def touch(factory, ctx: Ctx, contact_id: str, minutes_ago: int) -> None:
    with transaction(factory) as session:
        thread = threads.thread_for(session, ctx.organization_id, contact_id, None)
        threads.touch(session, thread, utcnow() - timedelta(minutes=minutes_ago))


def only(resolution: Resolution):
    assert resolution.unique is not None, resolution
    assert not resolution.ambiguous
    return resolution.unique


# -- contacts -----------------------------------------------------------------------------------------------------


def test_first_name_finds_the_one_contact(factory, ctx):
    sarah, _ = add(factory, ctx, person("Sarah Lee", "Buyer"), person("Mike Brown"))
    match = only(resolve(factory, ctx, "Sarah"))
    assert (match.kind, match.id, match.label, match.contact_ids) == ("contact", sarah, "Sarah Lee (Buyer)", [sarah])


def test_full_name_is_unique_even_with_another_of_the_same_first_name(factory, ctx):
    lee, kim = add(factory, ctx, person("Sarah Lee"), person("Sarah Kim"))
    assert only(resolve(factory, ctx, "Sarah Lee")).id == lee
    assert only(resolve(factory, ctx, "sarah KIM")).id == kim
    assert only(resolve(factory, ctx, "Lee Sarah")).id == lee  # every word, out of order


def test_last_name(factory, ctx):
    lee, _ = add(factory, ctx, person("Sarah Lee"), person("Mike Brown"))
    assert only(resolve(factory, ctx, "Lee")).id == lee


def test_first_name_beats_last_name(factory, ctx):
    chen, _ = add(factory, ctx, person("Lee Chen"), person("Sarah Lee"))
    assert only(resolve(factory, ctx, "Lee")).id == chen


def test_two_of_the_same_first_name_are_a_question_most_recent_first(factory, ctx):
    lee, kim = add(factory, ctx, person("Sarah Lee"), person("Sarah Kim"))
    add(factory, ctx, person("Mike Brown"))
    touch(factory, ctx, lee, minutes_ago=60)
    touch(factory, ctx, kim, minutes_ago=5)
    found = resolve(factory, ctx, "Sarah")
    assert found.ambiguous and found.unique is None
    assert [m.id for m in found.matches] == [kim, lee]
    touch(factory, ctx, lee, minutes_ago=1)
    assert [m.id for m in resolve(factory, ctx, "sarah").matches] == [lee, kim]


def test_never_contacted_come_after_the_contacted(factory, ctx):
    first, second, third = add(factory, ctx, person("Sarah Lee"), person("Sarah Kim"), person("Sarah Wu"))
    touch(factory, ctx, second, minutes_ago=30)
    touch(factory, ctx, third, minutes_ago=90)
    found = resolve(factory, ctx, "Sarah")
    assert [m.id for m in found.matches] == [second, third, first]
    assert found.matches[0].last_activity_at is not None and found.matches[2].last_activity_at is None


def test_more_than_can_be_offered(factory, ctx, monkeypatch):
    import assistant.resolve as resolve_module

    monkeypatch.setattr(resolve_module, "MAX_MATCHES", 3)
    ids = add(factory, ctx, *[person(f"Sarah {last}") for last in ("Lee", "Kim", "Wu", "Ng", "Ode")])
    found = resolve(factory, ctx, "Sarah")
    assert found.ambiguous and found.more and found.unique is None and len(found.matches) == 3
    assert {m.id for m in found.matches} <= set(ids)


@pytest.mark.parametrize("asked", ["Sarah", "Sarah Lee", "Lee"])
def test_of_more_than_are_read_the_most_recently_contacted_are_offered(factory, ctx, monkeypatch, asked):
    """Only CANDIDATES rows are read, most recent first and the never contacted last, whichever way the name
    matched (a first name, a whole name, a later name)."""
    import assistant.resolve as resolve_module

    monkeypatch.setattr(resolve_module, "CANDIDATES", 3)
    monkeypatch.setattr(resolve_module, "MAX_MATCHES", 2)
    ids = add(factory, ctx, *[person("Sarah Lee") for _ in range(6)])
    for contact_id, minutes_ago in zip(ids[1:5], (50, 5, 40, 10), strict=True):
        touch(factory, ctx, contact_id, minutes_ago)
    found = resolve(factory, ctx, asked)
    assert found.ambiguous and found.more
    assert [m.id for m in found.matches] == [ids[2], ids[4]]
    touch(factory, ctx, ids[5], minutes_ago=1)
    assert [m.id for m in resolve(factory, ctx, asked).matches] == [ids[5], ids[2]]


@pytest.mark.parametrize("touched", [5, 1])
def test_a_common_name_is_ranked_by_walking_threads(factory, ctx, monkeypatch, touched):
    """Past DIRECT_MAX members, the newest threads are walked; too few threads found, and members are read."""
    import assistant.resolve as resolve_module

    monkeypatch.setattr(resolve_module, "DIRECT_MAX", 2)
    monkeypatch.setattr(resolve_module, "MAX_MATCHES", 2)
    ids = add(factory, ctx, *[person(f"Sarah {last}") for last in ("Lee", "Kim", "Wu", "Ng", "Ode", "Ito")])
    add(factory, ctx, person("Mike Brown"))
    for minutes, cid in enumerate(ids[:touched]):
        touch(factory, ctx, cid, minutes_ago=10 * (minutes + 1))  # ids[0] most recent
    touch(factory, ctx, only(resolve(factory, ctx, "Mike")).id, minutes_ago=0)  # the newest thread is not a Sarah
    found = resolve(factory, ctx, "Sarah")
    assert found.more and [m.id for m in found.matches][:min(touched, 2)] == ids[:min(touched, 2)]


def test_the_walk_offers_the_newest_whatever_plan_the_database_picks(factory, ctx, monkeypatch):
    """Found at 100,000 contacts: PostgreSQL merge-joined the walk with the name's rows, by contact id, and offered the
    11 Jameses of the newest threads with the smallest ids, not the 11 newest."""
    import assistant.resolve as resolve_module

    monkeypatch.setattr(resolve_module, "DIRECT_MAX", 2)
    monkeypatch.setattr(resolve_module, "MAX_MATCHES", 2)
    ids = add(factory, ctx, *[person(f"Sarah {last}") for last in ("Lee", "Kim", "Wu", "Ng", "Ode", "Ito")])
    others = add(factory, ctx, *[person(f"Mike {last}") for last in ("Brown", "Black", "Gray", "Green")])
    for minutes, cid in enumerate([ids[5], others[0], ids[3], others[1], ids[0], others[2], ids[1], others[3]]):
        touch(factory, ctx, cid, minutes_ago=10 * (minutes + 1))
    with factory() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET LOCAL enable_nestloop = off"))  # the plan it chose on a large workspace
            session.execute(text("SET LOCAL enable_hashjoin = off"))
        found = resolve_recipient(session, ctx, "Sarah")
    assert found.more and [m.id for m in found.matches] == [ids[5], ids[3]]


def test_typo(factory, ctx):
    sarah, _ = add(factory, ctx, person("Sarah Lee"), person("Mike Brown"))
    assert only(resolve(factory, ctx, "Sarha")).id == sarah
    assert only(resolve(factory, ctx, "Srah Lee")).id == sarah
    assert only(resolve(factory, ctx, "Sarah Lea")).id == sarah
    assert only(resolve(factory, ctx, "Mkie")).label == "Mike Brown"


def test_a_slip_at_the_second_letter_is_forgiven(factory, ctx):
    barbara, sam, ann = add(factory, ctx, person("Barbara Lee"), person("Sam White"), person("Ann Perez"))
    assert only(resolve(factory, ctx, "Brbara")).id == barbara  # a letter left out
    assert only(resolve(factory, ctx, "Wite")).id == sam
    assert only(resolve(factory, ctx, "Ann Pprez")).id == ann  # a letter changed
    assert only(resolve(factory, ctx, "Bsrbara")).id == barbara


def test_a_typo_is_found_among_hundreds_of_words_that_begin_alike(factory, ctx):
    """More than 300 names begin with "da" before "daniel" does; "Dnaiel" still finds Daniel, and "Danfrht", two
    slips from Danforth, Danforth."""
    names = [f"Da{a}{b} Lee" for a in "abcdefghijklm" for b in "abcdefghijklmnopqrstuvwx"]
    with transaction(factory) as session:
        for name in names:
            create_contact(session, ctx, person(name))
        daniel = create_contact(session, ctx, person("Daniel Okafor")).id
        danforth = create_contact(session, ctx, person("Danforth Okafor")).id
    assert only(resolve(factory, ctx, "Dnaiel")).id == daniel
    assert only(resolve(factory, ctx, "Danfrht")).id == danforth


def test_exact_beats_typo_and_prefix(factory, ctx):
    sara, _, _ = add(factory, ctx, person("Sara Jones"), person("Sarah Lee"), person("Saralyn Moss"))
    assert only(resolve(factory, ctx, "Sara")).id == sara


def test_prefix_of_a_name(factory, ctx):
    samantha, _ = add(factory, ctx, person("Samantha Reyes"), person("Mike Brown"))
    assert only(resolve(factory, ctx, "Sam")).id == samantha
    assert only(resolve(factory, ctx, "Samantha R")).id == samantha


def test_accents_and_case(factory, ctx):
    zoe, jose, obrien = add(factory, ctx, person("Zoë Martin"), person("Jose Garcia"), person("Liam O'Brien"))
    assert only(resolve(factory, ctx, "Zoe")).id == zoe
    assert only(resolve(factory, ctx, "ZOË MARTIN")).id == zoe
    assert only(resolve(factory, ctx, "José")).id == jose
    assert only(resolve(factory, ctx, "obrien")).id == obrien
    assert only(resolve(factory, ctx, "Liam O’Brien")).id == obrien


@pytest.mark.parametrize(("query", "wanted"), [
    ("Dr. Patel", "Raj Patel"), ("dr patel", "Raj Patel"), ("Doctor Patel", "Raj Patel"), ("Mr Jones", "Tom Jones"),
    ("Mr. Tom Jones", "Tom Jones"), ("Ms. Sarah Lee", "Sarah Lee"), ("Miss Lee", "Sarah Lee"),
    ("Prof. Westheimer", "Dr. Ruth Westheimer"), ("Dr. Ruth", "Dr. Ruth Westheimer")])
def test_a_title_says_how_someone_is_addressed_not_who(factory, ctx, query, wanted):
    ids = dict(zip(["Raj Patel", "Tom Jones", "Sarah Lee", "Dr. Ruth Westheimer"], add(
        factory, ctx, person("Raj Patel"), person("Tom Jones"), person("Sarah Lee"), person("Dr. Ruth Westheimer")),
        strict=True))
    assert only(resolve(factory, ctx, query)).id == ids[wanted]


def test_a_title_picks_no_one_among_people_of_that_name(factory, ctx):
    smiths = add(factory, ctx, person("Mary Smith"), person("David Smith"))
    found = resolve(factory, ctx, "Mrs. Smith")
    assert found.ambiguous and {m.id for m in found.matches} == set(smiths)


def test_a_title_before_someone_from_a_company(factory, ctx):
    _, [anita] = add_lead(factory, ctx, "Acme Clinic", person("Anita Patel"))
    add(factory, ctx, person("Raj Patel"))
    assert only(resolve(factory, ctx, "Dr. Patel from Acme")).id == anita


def test_no_match_is_empty(factory, ctx):
    add(factory, ctx, person("Sarah Lee"))
    for query in ("Zebediah", "", "   ", "Zebediah Lee", "John from Acme"):
        found = resolve(factory, ctx, query)
        assert found.matches == [] and found.unique is None and not found.ambiguous


def test_another_workspace_is_never_searched(factory, ctx, other_workspace):
    other = Ctx(organization_id=other_workspace.organization_id, user_id=other_workspace.user_id)
    add(factory, other, person("Sarah Connor"), person("Sarah Kim"))
    add_lead(factory, other, "The Smiths", person("John Smith"), person("Jane Smith"))
    mine, = add(factory, ctx, person("Sarah Lee"))
    assert resolve(factory, ctx, "Sarah Connor").matches == []
    assert resolve(factory, ctx, "Connor").matches == []
    assert resolve(factory, ctx, "the Smiths").matches == []
    assert [m.id for m in resolve(factory, ctx, "Sarah").matches] == [mine]


def test_a_contact_without_a_textable_phone_has_no_contact_ids(factory, ctx):
    fay, = add(factory, ctx, person("Fay Xu", phones=[PhoneIn(phone="+14155550199", type="fax")]))
    match = only(resolve(factory, ctx, "Fay"))
    assert (match.id, match.contact_ids) == (fay, [])


# -- leads --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["the Smiths", "Smiths", "the Smith family", "Smith household", "the smith's"])
def test_household_is_the_lead_with_its_textable_contacts(factory, ctx, query):
    lead, (john, jane, _grandpa) = add_lead(
        factory, ctx, "The Smiths", person("John Smith"), person("Jane Smith"),
        person("Grandpa Smith", phones=[PhoneIn(phone="+14155550198", type="fax")]))
    add(factory, ctx, person("Bob Smith"))  # a single Smith elsewhere: the household still wins
    match = only(resolve(factory, ctx, query))
    assert (match.kind, match.id, match.contact_ids) == ("lead", lead, [john, jane])
    assert match.label == "The Smiths (2 contacts)"


def test_plain_surname_is_a_question_between_the_smiths(factory, ctx):
    lead, _ = add_lead(factory, ctx, "Smith Family", person("John Smith"), person("Jane Smith"))
    bob, = add(factory, ctx, person("Bob Smith"))
    found = resolve(factory, ctx, "Smith")
    assert found.ambiguous
    assert bob in {m.id for m in found.matches} and lead in {m.id for m in found.matches}


def test_a_name_ending_in_s_is_a_person_not_the_household_of_that_surname(factory, ctx):
    """"James" is a James; the lead holding two people surnamed James is "the James family" or "the Jameses"."""
    lead, _ = add_lead(factory, ctx, "Acme Corp", person("Ann James"), person("Bob James"))
    james, = add(factory, ctx, person("James Lee"))
    assert only(resolve(factory, ctx, "James")).id == james
    assert only(resolve(factory, ctx, "the James family")).id == lead
    assert only(resolve(factory, ctx, "the Jameses")).id == lead


def test_a_plural_reads_surnames_not_first_names(factory, ctx):
    ann, bob = add(factory, ctx, person("Ann Williams"), person("Bob Smith"))
    add(factory, ctx, person("William Turner"), person("Smith Jones"))
    assert only(resolve(factory, ctx, "Williams")).id == ann
    assert only(resolve(factory, ctx, "Smiths")).id == bob  # no household of Smiths: the one Smith


def test_a_plural_names_the_household_of_a_lead_called_by_its_singular(factory, ctx):
    lead, ids = add_lead(factory, ctx, "Baker Family", person("Tom Hill"), person("Ann Hill"))
    add(factory, ctx, person("Bakers Dozen"))
    match = only(resolve(factory, ctx, "Bakers"))
    assert (match.kind, match.id, sorted(match.contact_ids)) == ("lead", lead, sorted(ids))


def test_household_of_a_lead_named_after_its_first_contact(factory, ctx):
    tom, = add(factory, ctx, person("Tom Baker"))
    with transaction(factory) as session:
        from tools.crm import get_contact
        lead_id = get_contact(session, ctx, tom).lead_id
        ann = create_contact(session, ctx, ContactIn(lead_id=lead_id, name="Ann Baker", phones=[mobile()])).id
    match = only(resolve(factory, ctx, "the Bakers"))
    assert (match.kind, match.id, sorted(match.contact_ids)) == ("lead", lead_id, sorted([tom, ann]))
    assert only(resolve(factory, ctx, "Ann")).id == ann  # people are still found one by one


def test_a_lead_is_a_household_while_two_of_its_people_share_the_name(factory, ctx):
    """Whatever the lead is called, and however its people come and go: added, renamed, moved away, deleted."""
    lead, (ann,) = add_lead(factory, ctx, "Acme Corp", person("Ann Jones"))
    elsewhere, (zed,) = add_lead(factory, ctx, "Globex", person("Zed Jones"))

    def households() -> list[str]:
        return [m.id for m in resolve(factory, ctx, "the Jones family").matches if m.kind == "lead"]

    assert households() == []
    with transaction(factory) as session:
        bob = create_contact(session, ctx, ContactIn(lead_id=lead, name="Bob Jones", phones=[mobile()])).id
    assert households() == [lead]
    assert sorted(only(resolve(factory, ctx, "the Joneses")).contact_ids) == sorted([ann, bob])
    with transaction(factory) as session:
        update_contact(session, ctx, bob, ContactPatch(name="Bob Smith"))
    assert households() == []
    with transaction(factory) as session:
        update_contact(session, ctx, bob, ContactPatch(name="Bob Jones"))
    assert households() == [lead]
    with transaction(factory) as session:
        update_contact(session, ctx, bob, ContactPatch(lead_id=elsewhere))
    assert households() == [elsewhere]
    with transaction(factory) as session:
        delete_contact(session, ctx, zed)
    assert households() == []
    assert {m.id for m in resolve(factory, ctx, "the Jones family").matches} == {ann, bob}


def test_a_company_by_its_name(factory, ctx):
    lead, ids = add_lead(factory, ctx, "Acme Realty", person("John Doe"), person("Mary Major"))
    match = only(resolve(factory, ctx, "Acme"))
    assert (match.kind, match.id, match.contact_ids) == ("lead", lead, ids)
    assert only(resolve(factory, ctx, "acme realty")).id == lead


def test_john_from_acme_and_john_from_globex(factory, ctx):
    _, (acme_john, _) = add_lead(factory, ctx, "Acme Corp", person("John Doe", "CTO"), person("Mary Major"))
    _, (globex_john,) = add_lead(factory, ctx, "Globex", person("John Roe"))
    add(factory, ctx, person("John Smith"))
    match = only(resolve(factory, ctx, "John from Acme"))
    assert (match.kind, match.id, match.label) == ("contact", acme_john, "John Doe (CTO, Acme Corp)")
    assert only(resolve(factory, ctx, "John at Globex")).id == globex_john
    assert only(resolve(factory, ctx, "john @ globex")).id == globex_john
    assert only(resolve(factory, ctx, "John from Acmee")).id == acme_john  # a typo in the company
    assert only(resolve(factory, ctx, "Jon from Acme")).id == acme_john  # and in the person
    assert resolve(factory, ctx, "Mike from Acme").matches == []
    assert resolve(factory, ctx, "John").ambiguous


def test_john_from_acme_among_a_hundred_leads_named_alike(factory, ctx):
    with transaction(factory) as session:
        for i in range(100):
            create_lead(session, ctx, LeadIn(name=f"Liberty Realty {i}", contacts=[person(f"Mary Major{i}")]))
        bobby = create_lead(session, ctx, LeadIn(name="Liberty Homes", contacts=[person("Bobby Doe")])).contacts[0].id
    match = only(resolve(factory, ctx, "Bobby from Liberty"))
    assert (match.id, match.label) == (bobby, "Bobby Doe (Liberty Homes)")


def test_a_typo_of_the_person_at_a_company_is_forgiven_though_someone_else_has_that_name(factory, ctx):
    _, (acme_john, _) = add_lead(factory, ctx, "Acme Corp", person("John Doe"), person("Mary Major"))
    add(factory, ctx, person("Jon Snow"))
    assert only(resolve(factory, ctx, "Jon from Acme")).id == acme_john


def test_edits_and_deletes_keep_the_index(factory, ctx):
    sarah, mike = add(factory, ctx, person("Sarah Lee"), person("Mike Brown"))
    with transaction(factory) as session:
        update_contact(session, ctx, sarah, ContactPatch(name="Sadie Lee"))
        delete_contact(session, ctx, mike)
    # The lead made with the contact keeps its name, so "Sarah" still finds that lead; never the contact by its old name.
    assert [m.kind for m in resolve(factory, ctx, "Sarah").matches] == ["lead"]
    assert only(resolve(factory, ctx, "Sadie")).id == sarah
    assert resolve(factory, ctx, "Mike").matches == []
    lead, _ = add_lead(factory, ctx, "Initech", person("Peter Gibbons"), person("Joanna Smith"))
    with transaction(factory) as session:
        update_lead(session, ctx, lead, LeadPatch(name="Initrode"))
    assert resolve(factory, ctx, "Initech").matches == []
    assert only(resolve(factory, ctx, "Peter from Initrode")).label == "Peter Gibbons (Initrode)"


def test_renamed_contact_is_no_longer_found_by_its_old_name(factory, ctx):
    sarah, = add(factory, ctx, person("Sarah Lee"))
    add(factory, ctx, person("Mike Brown"))
    with transaction(factory) as session:
        update_contact(session, ctx, sarah, ContactPatch(name="Mona Park"))
    found = only(resolve(factory, ctx, "Sarah Lee"))  # the lead still carries the old name, and holds Mona
    assert (found.kind, found.label, found.contact_ids) == ("lead", "Sarah Lee (1 contact)", [sarah])
    assert only(resolve(factory, ctx, "Mona Park")).id == sarah
    with transaction(factory) as session:
        update_lead(session, ctx, found.id, LeadPatch(name="Mona Park"))
    assert resolve(factory, ctx, "Sarah Lee").matches == []
    assert only(resolve(factory, ctx, "Mona")).id == sarah  # a one-person lead again: found as the contact only


def test_a_typo_of_a_name_given_by_an_edit_is_forgiven(factory, ctx):
    sarah, = add(factory, ctx, person("Sarah Lee"))
    add(factory, ctx, person("Mike Brown"))
    with transaction(factory) as session:
        update_contact(session, ctx, sarah, ContactPatch(name="Mona Parkinson"))
    assert only(resolve(factory, ctx, "Mona Parkinsno")).id == sarah
    assert only(resolve(factory, ctx, "Moan")).id == sarah


def test_a_typo_is_never_corrected_to_another_workspaces_word(factory, ctx, other_workspace):
    other = Ctx(organization_id=other_workspace.organization_id, user_id=other_workspace.user_id)
    add(factory, other, person("Zebulon Pike"))
    add(factory, ctx, person("Mike Brown"))
    assert resolve(factory, ctx, "Zebulun").matches == []
    assert only(resolve(factory, other, "Zebulun")).label == "Zebulon Pike"


# -- templates ----------------------------------------------------------------------------------------------------


@pytest.fixture
def templates(factory, ctx, workspace):
    with transaction(factory) as session:
        colleague = create_user(session, "cole@acme.test", "Cole", "Lee")
        session.flush()
        add_member(session, ctx.organization_id, colleague)
        theirs = Ctx(organization_id=ctx.organization_id, user_id=colleague.id)
        made = {
            "showing": create_template(session, ctx, TemplateIn(name="Showing confirmation", text="See you at {{time}}")),
            "reminder": create_template(session, ctx, TemplateIn(name="Showing reminder", text="Reminder")),
            "closing": create_template(session, ctx, TemplateIn(name="Closing confirmation", text="Closed")),
            "mine": create_template(session, ctx, TemplateIn(name="My follow up", text="Hi", is_shared=False)),
            "theirs": create_template(session, theirs, TemplateIn(name="Open house invite", text="Hi",
                                                                   is_shared=False)),
            "old": create_template(session, ctx, TemplateIn(name="Price drop", text="New price")),
        }
        update_template(session, ctx, made["old"].id, TemplatePatch(status="archived"))
        return {k: t.id for k, t in made.items()}


def template(factory, ctx, name: str):
    with factory() as session:
        return resolve_template(session, ctx, name)


@pytest.mark.parametrize("query", ["Showing confirmation", "the showing confirmation", "showing confirmation template",
                                   "Showing Confirmation", "showng confirmaton", "the showing-confirmation text"])
def test_template_by_name(factory, ctx, templates, query):
    found = template(factory, ctx, query)
    assert found.unique is not None and found.unique.id == templates["showing"]
    assert found.unique.label == "Showing confirmation" and found.unique.text == "See you at {{time}}"


def test_template_two_plausible_is_a_question(factory, ctx, templates):
    assert {m.id for m in template(factory, ctx, "showing").matches} == {templates["showing"], templates["reminder"]}
    assert template(factory, ctx, "confirmation").ambiguous


def test_template_visibility(factory, ctx, templates):
    assert template(factory, ctx, "follow up").unique.id == templates["mine"]  # one's own personal template
    assert template(factory, ctx, "open house invite").matches == []  # another user's personal template
    assert template(factory, ctx, "price drop").matches == []  # archived
    assert template(factory, ctx, "birthday wishes").matches == []
    assert template(factory, ctx, "").matches == []
