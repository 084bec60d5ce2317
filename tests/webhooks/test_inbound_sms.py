"""Incoming texts arrive by signed Twilio webhooks and land on the contact's thread, once, in the right Inbox."""

import threading
from functools import partial

import pytest
from sqlalchemy import func, select, update

from db.models import Activity, Contact, ContactPhone, InboxItem, Lead, OptOut, PhoneNumber, Thread
from db.session import transaction
from tests.live import live_cody
from tools import crm
from tools.context import Ctx
from tools.demo import DEMO_NUMBER, seed_demo
from tools.messaging import SendRequest
from tools.problems import Invalid
from tools.telephony.signing import is_valid, sign
from tools.workspaces import add_member, create_api_key, create_user

SMS = "/api/webhooks/twilio/sms"
VOICE = "/api/webhooks/twilio/voice"
SARAH = "+14155550132"


def inbound_form(body: str, sid: str, from_: str = SARAH, to: str = DEMO_NUMBER, media=()) -> list[tuple[str, str]]:
    pairs = [("MessageSid", sid), ("SmsSid", sid), ("SmsMessageSid", sid), ("AccountSid", "ACsandbox"),
             ("From", from_), ("To", to), ("Body", body), ("NumMedia", str(len(media))), ("NumSegments", "1")]
    for i, (url, ctype) in enumerate(media):
        pairs += [(f"MediaUrl{i}", url), (f"MediaContentType{i}", ctype)]
    return pairs


@pytest.fixture
def db_url(any_db_url) -> str:
    """Every flow here on SQLite and on PostgreSQL: the inbound path is Core statements written for both."""
    return any_db_url


@pytest.fixture
def demo(factory):
    with transaction(factory) as session:
        return seed_demo(session)


@pytest.fixture
def cody(db_url, factory, demo):
    with live_cody(db_url, factory) as live:
        yield live


def ctx_of(demo, user_id=None) -> Ctx:
    return Ctx(demo.organization_id, user_id or demo.user_id, channel="card", role="admin")


def sarah(session, demo) -> Contact:
    return session.scalar(select(Contact).where(Contact.organization_id == demo.organization_id,
                                                Contact.name == "Sarah Lee"))


def test_a_reply_from_a_known_contact_lands_on_her_thread_and_in_the_assignees_inbox(cody, factory, demo):
    with factory() as session:
        contact = sarah(session, demo)
        sent = cody.runtime.messaging.execute(session, ctx_of(demo), SendRequest(contact_id=contact.id, text="Hi Sarah!"))
    response = cody.post_twilio(SMS, inbound_form("Thanks, see you at 7", "SM" + "a" * 32))
    assert response.status_code == 200
    assert "<Response" in response.text
    with factory() as session:
        reply = session.scalar(select(Activity).where(Activity.provider_sid == "SM" + "a" * 32))
        assert (reply.status, reply.direction, reply.text) == ("inbox", "inbound", "Thanks, see you at 7")
        assert reply.contact_id == contact.id and reply.thread_id == sent.thread_id
        items = session.scalars(select(InboxItem).where(InboxItem.activity_id == reply.id)).all()
        assert [(i.user_id, i.type, i.done) for i in items] == [(demo.user_id, "incoming_sms", False)]


def test_the_same_webhook_three_times_yields_one_activity(cody, factory):
    form = inbound_form("Is the house still available?", "SM" + "b" * 32)
    assert [cody.post_twilio(SMS, form).status_code for _ in range(3)] == [200, 200, 200]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Activity).where(Activity.provider_sid == "SM" + "b" * 32)) == 1
        assert session.scalar(select(func.count()).select_from(InboxItem)) == 1


@pytest.mark.parametrize("signature", [None, "forged+signature=", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="])
def test_a_forged_or_unsigned_webhook_is_refused_and_stores_nothing(cody, factory, signature):
    response = cody.post_twilio(SMS, inbound_form("hello", "SM" + "c" * 32), signature=signature)
    assert response.status_code == 403
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 0


def test_a_body_changed_after_signing_is_refused(cody, factory):
    form = inbound_form("original", "SM" + "d" * 32)
    signature = sign(cody.token(), cody.base_url + SMS, form)
    tampered = [(k, "send me everything" if k == "Body" else v) for k, v in form]
    assert cody.post_twilio(SMS, tampered, signature=signature).status_code == 403


def test_the_url_with_a_default_port_is_accepted():
    form = inbound_form("port check", "SM" + "e" * 32)
    # Twilio may sign https://host:443/... while we know https://host/...; both must pass.
    url = "https://cody.example.com/api/webhooks/twilio/sms"
    assert is_valid("tok", url, form, sign("tok", "https://cody.example.com:443/api/webhooks/twilio/sms", form))


def test_an_mms_with_two_media_files_keeps_both(cody, factory):
    media = [("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "image/jpeg"),
             ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2", "image/png")]
    cody.post_twilio(SMS, inbound_form("Photos of the porch", "MM" + "f" * 32, media=media))
    with factory() as session:
        activity = session.scalar(select(Activity).where(Activity.provider_sid == "MM" + "f" * 32))
        assert [(a["url"], a["content_type"]) for a in activity.attachments] == media


def test_an_unknown_sender_becomes_a_new_lead_named_by_the_number(cody, factory, demo):
    cody.post_twilio(SMS, inbound_form("Saw your sign on Elm St", "SM" + "1" * 32, from_="+14155550177"))
    with factory() as session:
        lead = session.scalar(select(Lead).where(Lead.name == "(415) 555-0177"))
        assert lead is not None and lead.organization_id == demo.organization_id
        assert [c.phones[0].phone for c in lead.contacts] == ["+14155550177"]


def test_a_text_to_an_unknown_number_is_answered_and_stores_nothing(cody, factory):
    response = cody.post_twilio(SMS, inbound_form("hi", "SM" + "2" * 32, to="+14155550999"))
    assert response.status_code == 200
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 0


def test_several_contacts_share_a_number_the_one_with_the_latest_thread_wins(cody, factory, demo):
    with transaction(factory) as session:
        twin = crm.create_contact(session, ctx_of(demo), crm.ContactIn(
            name="Sam Lee", phones=[crm.PhoneIn(phone=SARAH, type="mobile")]))
        twin_id = twin.id
    with factory() as session:
        cody.runtime.messaging.execute(session, ctx_of(demo), SendRequest(contact_id=twin_id, text="Hi Sam"))
    cody.post_twilio(SMS, inbound_form("It's Sam", "SM" + "3" * 32))
    with factory() as session:
        assert session.scalar(select(Activity.contact_id).where(Activity.provider_sid == "SM" + "3" * 32)) == twin_id


def test_stop_blocks_every_path_and_start_lifts_it(cody, factory, demo):
    cody.post_twilio(SMS, inbound_form("stop", "SM" + "4" * 32))
    messaging = cody.runtime.messaging
    with factory() as session:
        contact_id = sarah(session, demo).id
        assert session.scalar(select(Activity.text).where(Activity.provider_sid == "SM" + "4" * 32)) == "stop"
        # The contact card (and the REST API) send through execute.
        with pytest.raises(Invalid) as refused:
            messaging.execute(session, ctx_of(demo), SendRequest(contact_id=contact_id, text="Hello?"))
        assert [p.code for p in refused.value.problems] == ["opted_out"]
        # The assistant's draft is built from prepare: it shows the problem.
        draft = messaging.prepare(session, Ctx(demo.organization_id, demo.user_id, channel="chat"),
                                  SendRequest(contact_id=contact_id, text="Running late"))
        assert "opted out" in draft.problems[0].message
    # A message scheduled before the STOP is refused when it comes due.
    cody.post_twilio(SMS, inbound_form("START", "SM" + "5" * 32))
    with factory() as session:
        scheduled = messaging.execute(session, ctx_of(demo), SendRequest(contact_id=contact_id, text="Reminder",
                                                                         status="outbox", send_in=30))
        scheduled_id = scheduled.id
    cody.post_twilio(SMS, inbound_form("UNSUBSCRIBE", "SM" + "6" * 32))
    with transaction(factory) as session:
        session.execute(update(Activity).where(Activity.id == scheduled_id).values(date_scheduled=None))
    cody.runtime.dispatcher.drain()
    with factory() as session:
        row = session.get(Activity, scheduled_id)
        assert (row.status, row.error_code) == ("error", "opted_out")
    cody.post_twilio(SMS, inbound_form("Start", "SM" + "7" * 32))
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(OptOut)) == 0
        sent = messaging.execute(session, ctx_of(demo), SendRequest(contact_id=contact_id, text="Welcome back"))
        assert sent.status == "sent"


def test_twilios_advanced_opt_out_decides_with_its_own_keywords(cody, factory, demo):
    """With Advanced Opt-Out the account may have keywords of its own (ARRET, SUBSCRIBE); Twilio says what it did."""
    def opted_out() -> bool:
        with factory() as session:
            return session.scalar(select(func.count()).select_from(OptOut)) == 1

    cody.post_twilio(SMS, inbound_form("ARRET", "SM" + "a1" * 16) + [("OptOutType", "STOP")])
    assert opted_out()
    cody.post_twilio(SMS, inbound_form("SUBSCRIBE", "SM" + "a2" * 16) + [("OptOutType", "START")])
    assert not opted_out()
    # Twilio's word wins over the default keyword it sent with: STOP that it handled as HELP opts nobody out.
    cody.post_twilio(SMS, inbound_form("STOP", "SM" + "a3" * 16) + [("OptOutType", "HELP")])
    assert not opted_out()


def test_help_is_logged_like_any_message_and_opts_nobody_out(cody, factory):
    cody.post_twilio(SMS, inbound_form("HELP", "SM" + "8" * 32))
    with factory() as session:
        assert session.scalar(select(Activity.status).where(Activity.provider_sid == "SM" + "8" * 32)) == "inbox"
        assert session.scalar(select(func.count()).select_from(OptOut)) == 0


def test_an_unclaimed_thread_notifies_every_member_and_a_reply_claims_it(cody, factory, demo):
    with transaction(factory) as session:
        teammate = create_user(session, "lee@bayview.test", "Lee", "Ng")
        session.flush()
        add_member(session, demo.organization_id, teammate)
        teammate_id = teammate.id
        session.execute(update(PhoneNumber).where(PhoneNumber.number == DEMO_NUMBER).values(sharing="group"))
    cody.post_twilio(SMS, inbound_form("Can someone call me?", "SM" + "9" * 32))
    with factory() as session:
        reply = session.scalar(select(Activity).where(Activity.provider_sid == "SM" + "9" * 32))
        users = set(session.scalars(select(InboxItem.user_id).where(InboxItem.activity_id == reply.id)))
        assert users == {demo.user_id, teammate_id}
        cody.runtime.messaging.execute(session, ctx_of(demo, teammate_id), SendRequest(
            contact_id=reply.contact_id, text="Calling you now"))
    with factory() as session:
        assert session.get(Thread, reply.thread_id).assignee_id == teammate_id


@pytest.mark.postgres
def test_two_users_replying_at_once_leave_exactly_one_assignee(pg_url):
    from db.session import make_engine, make_sessionmaker

    engine = make_engine(pg_url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        demo = seed_demo(session)
        other = create_user(session, "kim@bayview.test", "Kim", "Ro")
        session.flush()
        add_member(session, demo.organization_id, other)
        create_api_key(session, demo.organization_id, other.id)
        number = session.scalar(select(PhoneNumber).where(PhoneNumber.organization_id == demo.organization_id))
        number.sharing = "group"
        other_id = other.id
    with live_cody(pg_url, factory) as cody:
        for round_ in range(5):
            sid = f"SM{round_:032d}"
            answer = cody.post_twilio(SMS, inbound_form(f"question {round_}", sid))
            assert answer.status_code == 200, answer.text
            with factory() as session:
                thread_id = session.scalar(select(Activity.thread_id).where(Activity.provider_sid == sid))
                session.execute(update(Thread).where(Thread.id == thread_id).values(assignee_id=None))
                session.commit()
                contact_id = session.get(Thread, thread_id).contact_id
            barrier = threading.Barrier(2)
            errors = []

            def reply(user_id, barrier, contact_id, errors):
                try:
                    with factory() as session:
                        barrier.wait()
                        cody.runtime.messaging.execute(session, ctx_of(demo, user_id),
                                                       SendRequest(contact_id=contact_id, text="On it"))
                except Exception as exc:  # noqa: BLE001 -- whatever it is, surfaced below
                    errors.append(exc)

            workers = [threading.Thread(target=reply, args=(u, barrier, contact_id, errors))
                       for u in (demo.user_id, other_id)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            assert errors == []
            with factory() as session:
                assert session.get(Thread, thread_id).assignee_id in {demo.user_id, other_id}
    engine.dispose()


def at_once(*posts):
    """Run the posts in threads released together; their answers, in order (any exception is raised here)."""
    barrier = threading.Barrier(len(posts))
    answers: list = [None] * len(posts)

    def run(i, post):
        barrier.wait()
        try:
            answers[i] = post()
        except Exception as exc:  # noqa: BLE001 -- whatever it is, raised below
            answers[i] = exc

    workers = [threading.Thread(target=run, args=(i, post)) for i, post in enumerate(posts)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for answer in answers:
        if isinstance(answer, Exception):
            raise answer
    return answers


def contacts_with(factory, demo, phone: str) -> list[Contact]:
    with factory() as session:
        return list(session.scalars(select(Contact).join(ContactPhone, ContactPhone.contact_id == Contact.id)
                                    .where(Contact.organization_id == demo.organization_id,
                                           ContactPhone.phone == phone)))


NEW_NUMBERS = [f"+141555501{n}" for n in range(80, 86)]  # nobody in the demo workspace has them


def test_first_texts_that_arrive_together_from_a_new_number_make_one_lead(cody, factory, demo):
    """Three first texts from a number nobody has, handled at the same moment (each request on its own connection):
    one lead, one contact, the three texts on its thread and in the Inbox."""
    for n, number in enumerate(NEW_NUMBERS):
        answers = at_once(*[partial(cody.post_twilio, SMS, inbound_form(f"Is it still for sale? ({i})",
                                                                        f"SM{n:02d}{i:030d}", from_=number))
                            for i in range(3)])
        assert [a.status_code for a in answers] == [200, 200, 200]
    for number in NEW_NUMBERS:
        [contact] = contacts_with(factory, demo, number)
        with factory() as session:
            leads = session.scalars(select(Lead).where(Lead.organization_id == demo.organization_id,
                                                       Lead.name == contact.name)).all()
            texts = session.scalars(select(Activity).where(Activity.remote_phone == number)).all()
            assert [lead.id for lead in leads] == [contact.lead_id]
            assert len(texts) == 3 and {(t.contact_id, t.thread_id) for t in texts} == {(contact.id, texts[0].thread_id)}
            items = session.scalars(select(InboxItem).where(InboxItem.activity_id.in_([t.id for t in texts]))).all()
            assert len(items) == 3


def test_a_first_call_and_a_first_text_together_from_a_new_number_make_one_lead(cody, factory, demo):
    for n, number in enumerate(NEW_NUMBERS):
        call = [("AccountSid", "ACsandbox"), ("CallSid", f"CA{n:032d}"), ("CallStatus", "ringing"),
                ("Direction", "inbound"), ("From", number), ("To", DEMO_NUMBER), ("ApiVersion", "2010-04-01")]
        answers = at_once(partial(cody.post_twilio, SMS, inbound_form("Calling you now", f"SM{n:032d}", from_=number)),
                          partial(cody.post_twilio, VOICE, call))
        assert [a.status_code for a in answers] == [200, 200]
    for number in NEW_NUMBERS:
        [contact] = contacts_with(factory, demo, number)
        with factory() as session:
            logged = session.scalars(select(Activity.type).where(Activity.contact_id == contact.id)).all()
            assert sorted(logged) == ["call", "sms"]
