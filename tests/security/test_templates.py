"""Jinja2 sandbox escapes are refused when a template is saved, and again when one is rendered or sent: a template
that reached the database some other way (an old version, a restore, a direct insert) renders nothing and sends
nothing, and no answer ever shows a Python object, class, function or address.
"""

from sqlalchemy import func, select

from db.models import Activity, Contact, Draft, SmsTemplate
from db.session import transaction
from tests.security.conftest import World

TEMPLATES = "/api/v1/sms_template/"

# Refused when saved (template_unsafe or template_syntax).
ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ().__class__.__base__.__subclasses__() }}",
    "{{ lipsum.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ cycler }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ request.application.__globals__.__builtins__ }}",
    "{{ config.__class__.__init__.__globals__ }}",
    "{{ range.__self__ }}",
    "{{ contact.__class__ }}",
    "{{ contact['__class__'] }}",
    "{{ contact.custom.__class__.__base__.__subclasses__() }}",
    "{{ contact.custom['__init__'] }}",
    "{{ lead.custom[contact.name] }}",
    "{{ contact.first_name|attr('__class__') }}",
    "{{ contact.name|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{{ contact.name|format }}",
    "{{ contact.first_name.upper }}",
    "{{ contact.first_name.format }}",
    "{{ contact.first_name[0] }}",
    "{{ user.email.split }}",
    "{{ time.upper }}",
    "{{ time.__class__ }}",
    "{{ (contact.name|upper).lower }}",
    "{{ contact.name.upper() }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{% set x = cycler %}{{ x }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{% extends 'base.html' %}",
    "{% macro m() %}{{ caller() }}{% endmacro %}",
    "{% raw %}{{ x }}{% endraw %}{{ lipsum }}",
    "{{ 'a' * 100000000 }}",
    "{{ range(999999999)|list }}",
    "{{ dict(a=1) }}",
    "{{ [1, 2] }}",
    "{{ (1).__class__ }}",
    "{{ contact.name ~ lipsum }}",
]
# Saved (a custom field may be called anything), refused by the sandbox when rendered.
RENDER_ONLY = ["{{ contact.custom.items }}", "{{ lead.custom.keys }}", "{{ lead.custom.get }}"]
LEAKS = ("<class", "<built-in", "<function", "<module", "<bound", "object at 0x", "<jinja2", "<Undefined",
         "uid=", "root:")


def assert_no_leak(text: str) -> None:
    found = [marker for marker in LEAKS if marker in text]
    assert not found, (found, text[:300])


def sarah_id(world: World) -> str:
    with world.factory() as session:
        return session.scalar(select(Contact.id).where(Contact.organization_id == world.a.organization_id,
                                                       Contact.name == "Sarah Lee"))


def plant(world: World, text: str) -> str:
    """A template stored without the save-time check, as if it came from an older version."""
    with transaction(world.factory) as session:
        template = SmsTemplate(organization_id=world.a.organization_id, name="Planted", text=text, is_shared=True,
                               user_id=world.a.user_id, created_by=world.a.user_id)
        session.add(template)
        session.flush()
        return template.id


def count(world: World, model) -> int:
    with world.factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_escapes_are_refused_at_save_and_on_update(world: World) -> None:
    template_id = world.a_ids["sms_template"]
    failures = []
    with world.a_client() as a:
        original = a.get(f"{TEMPLATES}{template_id}/").json()
        stored = count(world, SmsTemplate)
        for text in ESCAPES:
            for method, url in (("POST", TEMPLATES), ("PUT", f"{TEMPLATES}{template_id}/")):
                response = a.request(method, url, json={"name": "Sneaky", "text": text})
                codes = [p["code"] for p in response.json().get("problems", [])]
                if response.status_code != 400 or not set(codes) & {"template_unsafe", "template_syntax"}:
                    failures.append(f"{method} {text!r}: {response.status_code} {response.text[:150]}")
                assert_no_leak(response.text)
        assert count(world, SmsTemplate) == stored
        assert a.get(f"{TEMPLATES}{template_id}/").json() == original
    assert not failures, "\n".join(failures)


def test_planted_templates_render_nothing_and_send_nothing(world: World) -> None:
    contact_id = sarah_id(world)
    activities = count(world, Activity)
    failures = []
    with world.a_client() as a:
        for text in ESCAPES + RENDER_ONLY:
            template_id = plant(world, text)
            rendered = a.post(f"{TEMPLATES}{template_id}/render/", json={"contact_id": contact_id,
                                                                       "variables": {"time": "7pm"}})
            assert_no_leak(rendered.text)
            body = rendered.json()
            codes = {p["code"] for p in body.get("problems", [])}
            if rendered.status_code not in (200, 400) or body.get("text") or not codes & {
                    "template_unsafe", "template_syntax", "template_error"}:
                failures.append(f"render {text!r}: {rendered.status_code} {rendered.text[:150]}")
            for status in ("outbox", "scheduled", "draft", "inbox", "sent"):
                extra = {"date_scheduled": "2031-01-01T17:00:00Z"} if status == "scheduled" else {}
                sent = a.post("/api/v1/activity/sms/", json={"contact_id": contact_id, "template_id": template_id,
                                                             "variables": {"time": "7pm"}, "status": status, **extra})
                assert_no_leak(sent.text)
                if sent.status_code != 400:
                    failures.append(f"send {status} {text!r}: {sent.status_code} {sent.text[:150]}")
    assert not failures, "\n".join(failures)
    assert count(world, Activity) == activities


def test_a_chat_draft_pointed_at_a_planted_template_cannot_be_confirmed(world: World) -> None:
    template_id = plant(world, "{{ lipsum.__globals__['os'].popen('id').read() }}")
    activities = count(world, Activity)
    with world.a_client() as a:
        chat = a.post("/api/chat/messages", json={"text": "text Sarah Lee: see you at 7"}).json()
        draft_id = chat["drafts"][0]["id"]
        edited = a.patch(f"/api/chat/drafts/{draft_id}", json={"args": {"template_id": template_id, "text": None}})
        assert edited.status_code == 200, edited.text
        assert "template_unsafe" in [p["code"] for p in edited.json()["problems"]]
        assert_no_leak(edited.text)
        confirmed = a.post(f"/api/chat/drafts/{draft_id}/confirm")
        assert confirmed.status_code == 400, confirmed.text
        assert_no_leak(confirmed.text)
    assert count(world, Activity) == activities
    with world.factory() as session:
        assert session.get(Draft, draft_id).activity_id is None
