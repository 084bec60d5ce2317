"""Template checks and rendering: Close's tags, free variables, and a sandbox that refuses attribute walks."""

import pytest
from jinja2 import UndefinedError
from jinja2.sandbox import SecurityError

from db.models.crm import Contact, ContactEmail, ContactPhone, Lead
from db.models.workspace import Organization, User
from tools import templates
from tools.problems import Problem
from tools.templates import Rendered, check_template, free_variables, render_template

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ lipsum.__globals__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ ().__class__.__base__.__subclasses__() }}",
]


@pytest.fixture
def records() -> dict:
    organization = Organization(name="Harbor Realty")
    user = User(email="dana@harbor.test", first_name="Dana", last_name="Cruz", forwarding_phone="+15550001111")
    lead = Lead(
        name="The Lees",
        organization_id=organization.id,
        url="https://lees.example",
        description="Looking in Midtown",
        custom={"Budget": "500k", "Areas": ["Midtown", "Uptown"], "Notes": None},
    )
    contact = Contact(
        name="Sarah Lee",
        title="Buyer",
        lead_id=lead.id,
        organization_id=organization.id,
        custom={"Budget": "450k"},
        phones=[ContactPhone(organization_id=organization.id, phone="+15551234567", type="mobile")],
        emails=[ContactEmail(email="sarah@lees.example")],
    )
    return {"contact": contact, "lead": lead, "user": user, "organization": organization}


def render(text: str, records: dict, **variables: str) -> Rendered:
    return render_template(text, variables=variables, **records)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("contact.first_name", "Sarah"),
        ("contact.last_name", "Lee"),
        ("contact.name", "Sarah Lee"),
        ("contact.title", "Buyer"),
        ("contact.phone", "+15551234567"),
        ("contact.email", "sarah@lees.example"),
        ('contact.custom["Budget"]', "450k"),
        ("lead.display_name", "The Lees"),
        ("lead.name", "The Lees"),
        ("lead.url", "https://lees.example"),
        ("lead.description", "Looking in Midtown"),
        ('lead.custom["Budget"]', "500k"),
        ("lead.custom.Budget", "500k"),
        ('lead.custom["Areas"]', "Midtown, Uptown"),
        ("user.first_name", "Dana"),
        ("user.last_name", "Cruz"),
        ("user.full_name", "Dana Cruz"),
        ("user.email", "dana@harbor.test"),
        ("user.phone", "+15550001111"),
        ("organization.name", "Harbor Realty"),
    ],
)
def test_each_close_tag_renders(records, tag, expected):
    text = "{{ " + tag + " }}"
    assert check_template(text) == []
    assert render(text, records) == Rendered(expected, [])


@pytest.mark.parametrize("tag", ['lead.custom["Notes"]', 'lead.custom["Not a field"]', "contact.title"])
def test_a_tag_printed_with_no_value_keeps_the_text_and_is_named(records, tag):
    records["contact"].title = None
    rendered = render("Hi {{ contact.first_name }}, {{ " + tag + " }}!", records)
    assert rendered == Rendered("Hi Sarah, !", [Problem(
        "blank_tag", "template_id",
        f"The template uses {{{{ {tag} }}}}, which has no value for this text: fill it in first, or write the text "
        "yourself.")])


def test_a_blank_tag_guarded_by_if_or_default_is_no_problem(records):
    records["contact"].title = None
    text = "{% if contact.title %}{{ contact.title }}{% else %}Hi{% endif %} {{ contact.title|default('friend', true) }}"
    assert render(text, records) == Rendered("Hi friend", [])


def test_a_whole_message_renders(records):
    text = 'Hi {{ contact.first_name }}, {{ user.first_name }} from {{ organization.name }}: see you at {{ time }}.\n'
    assert render(text, records, time="7pm") == Rendered("Hi Sarah, Dana from Harbor Realty: see you at 7pm.\n", [])


def test_lead_display_name_falls_back_to_the_contact(records):
    records["lead"].name = ""
    assert render("{{ lead.display_name }}", records).text == "Sarah Lee"


def test_free_variable_supplied(records):
    assert free_variables("See you at {{ time }}, {{ contact.first_name }}") == {"time"}
    assert render("See you at {{ time }}", records, time="7pm") == Rendered("See you at 7pm", [])


@pytest.mark.parametrize("variables", [{}, {"time": ""}, {"time": "  "}, {"day": "Friday"}])
def test_free_variable_missing_is_a_problem_not_a_blank(records, variables):
    rendered = render_template("See you at {{ time }}", variables=variables, **records)
    assert rendered == Rendered(
        None, [Problem("missing_variable", "variables.time", "The template needs a value for time.")]
    )


def test_every_missing_variable_is_named(records):
    rendered = render("{{ day }} at {{ time }}", records)
    assert [(p.code, p.field) for p in rendered.problems] == [
        ("missing_variable", "variables.day"),
        ("missing_variable", "variables.time"),
    ]
    assert rendered.text is None


def test_a_variable_inside_a_branch_not_taken_is_still_needed(records):
    rendered = render("{% if contact.title %}Hi{% else %}{{ greeting }}{% endif %}", records)
    assert rendered.problems == [
        Problem("missing_variable", "variables.greeting", "The template needs a value for greeting.")
    ]


def test_variable_values_are_data_not_templates(records):
    rendered = render("Note: {{ note }}", records, note="{{ contact.name }} {% if x %}")
    assert rendered == Rendered("Note: {{ contact.name }} {% if x %}", [])


def test_missing_records_render_blank_tags_each_named_once(records):
    text = "Hi {{ contact.first_name }}{{ contact.phone }}{{ contact.custom['Budget'] }}! {{ lead.display_name }}"
    text += " {{ contact.first_name }}"
    rendered = render_template(text, contact=None, lead=None, user=None, organization=None, variables={})
    assert rendered.text == "Hi !  "
    assert [p.message.split(",")[0] for p in rendered.problems] == [
        "The template uses {{ contact.first_name }}", "The template uses {{ contact.phone }}",
        'The template uses {{ contact.custom["Budget"] }}', "The template uses {{ lead.display_name }}"]


def test_unicode_is_preserved(records):
    records["contact"].name = "Zoë Ångström"
    rendered = render("¡Hola {{ contact.first_name }}! 🏡 Café at {{ lieu }} — ok", records, lieu="Zürich")
    assert rendered == Rendered("¡Hola Zoë! 🏡 Café at Zürich — ok", [])


def test_if_blocks_and_allowed_filters(records):
    text = "{% if contact.title %}{{ contact.first_name|upper }}{% else %}there{% endif %}"
    text += " {{ lead.url|default('x', true) }}"
    assert render(text, records).text == "SARAH https://lees.example"


def test_empty_text_is_refused(records):
    problem = Problem("empty", "text", "The template text is empty.")
    assert check_template("  \n") == [problem]
    assert render("", records) == Rendered(None, [problem])


def test_syntax_error_names_the_line(records):
    text = "Hi {{ contact.first_name }}\nsee you at {{ time }\n"
    problems = check_template(text)
    assert [(p.code, p.field) for p in problems] == [("template_syntax", "text")]
    assert problems[0].message.startswith("Template syntax error on line 2: ")
    assert render(text, records, time="7pm") == Rendered(None, problems)


def test_unknown_tags_are_named_at_save():
    assert check_template("{{ contact.frist_name }}") == [
        Problem(
            "unknown_tag",
            "text",
            "contact.frist_name is not a tag; use one of contact.first_name, contact.last_name, contact.name, "
            "contact.title, contact.phone, contact.email, contact.custom.",
        )
    ]
    assert check_template("{{ organization }}") == [
        Problem("unknown_tag", "text", "organization needs a field, such as {{ organization.name }}.")
    ]


@pytest.mark.parametrize("text", ESCAPES)
def test_sandbox_escapes_are_refused_at_save(text):
    problems = check_template(text)
    assert problems
    assert {(p.code, p.field) for p in problems} == {("template_unsafe", "text")}


@pytest.mark.parametrize("text", ESCAPES)
def test_sandbox_escapes_are_refused_at_render(records, text):
    rendered = render(text, records, lipsum="x", cycler="x")
    assert rendered == Rendered(None, check_template(text))


def test_escape_messages_say_what_was_refused():
    hidden = "names starting with an underscore are hidden."
    assert check_template("{{ ''.__class__.__mro__ }}") == [
        Problem("template_unsafe", "text", f"Templates cannot use '__mro__': {hidden}"),
        Problem("template_unsafe", "text", f"Templates cannot use '__class__': {hidden}"),
    ]
    assert check_template("{{ lipsum }}") == [
        Problem("template_unsafe", "text", "Templates cannot use 'lipsum': it is a reserved name.")
    ]


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("{{ contact.name|attr('__class__') }}", "the filter 'attr'"),
        ("{{ contact.name.upper() }}", "a function call"),
        ("{{ 'x' * 999999999 }}", "the '*' operator"),
        ("{% for c in contact.name %}{{ c }}{% endfor %}", "the {% for %} tag"),
        ("{% set a = contact.name %}{{ a }}", "the {% set %} tag"),
        ("{% include 'other' %}", "the {% include %} tag"),
    ],
)
def test_only_tags_if_blocks_and_text_filters_are_allowed(text, what):
    assert Problem(
        "template_unsafe",
        "text",
        "Templates can only use tags, if blocks and the filters capitalize, default, lower, title, trim, upper; "
        f"this one uses {what}.",
    ) in check_template(text)


def test_dynamic_and_hidden_lookups_are_refused():
    assert [p.code for p in check_template("{{ lead.custom[contact.name] }}")] == ["template_unsafe"]
    assert [p.code for p in check_template("{{ lead.custom['_secret'] }}")] == ["template_unsafe"]
    assert [p.code for p in check_template("{{ _private }}")] == ["template_unsafe"]


@pytest.mark.parametrize("text", ESCAPES)
def test_the_sandbox_alone_refuses_escapes(text):
    with pytest.raises((SecurityError, UndefinedError)):
        templates.env.from_string(text).render(lipsum="x", cycler="x")


def test_a_sandbox_refusal_at_render_is_template_unsafe(records, monkeypatch):
    monkeypatch.setattr(templates, "check_template", lambda text: [])
    rendered = render("{{ contact.name.__class__ }}", records)
    assert rendered.text is None
    assert [(p.code, p.field) for p in rendered.problems] == [("template_unsafe", "text")]


def test_other_render_failures_are_template_errors(records):
    rendered = render("{{ lead.custom.Budget.nothing }}", records)
    assert rendered.text is None
    assert [(p.code, p.field) for p in rendered.problems] == [("template_error", "text")]
