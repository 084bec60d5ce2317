"""Every check a send must pass, as the person sending sees it: a stable code, the field at fault, a plain message.

Sends go through Messaging.execute (which refuses with tools.problems.Invalid and saves nothing) and, for checks
that can change after a message was scheduled, through the dispatcher, which ends the row in `error`.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from db.models import Organization, PhoneNumber, SmsTemplate
from db.session import transaction
from db.types import utcnow
from tests.tools.messaging_fixtures import (
    GB_LINE,
    GB_MOBILE,
    JOHN,
    LUC,
    SARAH,
    add_contact,
    add_number,
    contact_id,
    ctx_for,
    make_due,
    make_settings,
    only_problem,
    refused,
    reload,
    send,
)
from tools import crm
from tools.context import Ctx
from tools.demo import DEMO_NUMBER
from tools.messaging.request import SendRequest
from tools.optouts import record_opt_out
from tools.problems import Problem
from tools.runtime import build_runtime

PICTURE = {"url": "https://files.example.com/house.jpg", "content_type": "image/jpeg", "size": 200_000}
MB = 1024 * 1024


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


# -- the recipient -------------------------------------------------------------------------------------------


def test_no_business_line(runtime, workspace):
    ctx = Ctx(organization_id=workspace.organization_id, user_id=workspace.user_id)
    problem = only_problem(refused(runtime, ctx, remote_phone=SARAH, text="Hi"))
    assert problem == Problem("no_business_line", "local_phone", "Set up a business line first (Settings, Business Phone)")


@pytest.mark.parametrize("raw, message", [
    ("+1 415 555", "'+1 415 555' is not a valid phone number."),
    ("call me maybe", "'call me maybe' is not a phone number."),
])
def test_invalid_phone(runtime, demo, raw, message):
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=raw, text="Hi"))
    assert problem == Problem("invalid_phone", "remote_phone", message)


def test_short_code(runtime, demo):
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone="12345", text="Hi"))
    assert problem == Problem("short_code", "remote_phone", "12345 is a short code; short codes cannot be texted.")


@pytest.mark.parametrize("number, region", [
    ("+81312345678", "JP"),  # Japan
    ("+5511912345678", "BR"),  # Brazil
    ("+18765550123", "JM"),  # Jamaica shares +1 with the US but is checked by its region
])
def test_unsupported_country_is_the_only_problem(runtime, demo, number, region):
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=number, text="Hi"))
    assert problem.code == "unsupported_country"
    assert problem.field == "remote_phone"
    assert problem.message == f"Texting {number} is not supported: Cody can't text numbers in {region} yet."


def test_country_mismatch_gb_number_from_us_line(runtime, demo):
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=GB_MOBILE, text="Hi"))
    assert problem == Problem("country_mismatch", "local_phone",
                              "Your business line (415) 555-0100 (US) can't text a number in GB; "
                              "add a number in that country.")


@pytest.mark.parametrize("number", [LUC, "+17875550123"], ids=["canada", "puerto-rico"])
def test_canada_and_puerto_rico_are_texted_from_a_us_line(runtime, demo, provider, number):
    activity = send(runtime, ctx_for(demo), remote_phone=number, text="Hi")
    assert (activity.status, activity.local_phone, activity.remote_phone) == ("sent", DEMO_NUMBER, number)
    assert provider.asked[activity.id] == 1


def test_a_gb_line_texts_gb_numbers(runtime, demo, factory):
    add_number(factory, demo.organization_id, GB_LINE, "GB", kind="mobile")
    activity = send(runtime, ctx_for(demo), remote_phone=GB_MOBILE, text="Hi")
    assert (activity.status, activity.local_phone) == ("sent", GB_LINE)



@pytest.mark.parametrize("number", ["+447797123456", "+447781123456", "+447624123456", "+447911123456"],
                         ids=["jersey", "guernsey", "isle-of-man", "guernsey-7911"])
def test_a_gb_line_texts_the_crown_dependencies_in_the_uk_numbering_plan(runtime, demo, factory, number):
    add_number(factory, demo.organization_id, GB_LINE, "GB", kind="mobile")
    activity = send(runtime, ctx_for(demo), remote_phone=number, text="Hi")
    assert (activity.status, activity.local_phone) == ("sent", GB_LINE)


def test_a_number_given_with_a_contact_must_be_one_of_theirs(runtime, demo, factory):
    sarah = contact_id(factory, demo, "Sarah Lee")
    problem = only_problem(refused(runtime, ctx_for(demo), contact_id=sarah, remote_phone=JOHN, text="Hi"))
    assert problem == Problem("not_contacts_phone", "remote_phone", "(212) 555-0123 is not one of Sarah Lee's numbers; "
                                                                    "add it to the contact first, or send to the "
                                                                    "number alone.")
    with transaction(factory) as session:
        crm.update_contact(session, ctx_for(demo, role="admin"), sarah, crm.ContactPatch(phones=[
            crm.PhoneIn(phone=SARAH, type="mobile"), crm.PhoneIn(phone="(212) 555-0123", type="office")]))
    activity = send(runtime, ctx_for(demo), contact_id=sarah, remote_phone=JOHN, text="Hi")
    assert (activity.status, activity.contact_id, activity.remote_phone) == ("sent", sarah, JOHN)


def test_a_bare_number_template_draft_sent_to_a_contact_is_written_for_them(runtime, demo, factory):
    """Its blank greeting ("Hi , ...") is written again for the contact the new number belongs to, with the values it
    was rendered with; values given with the change replace those named."""
    with factory() as session:
        template_id = session.scalar(select(SmsTemplate.id).where(SmsTemplate.organization_id == demo.organization_id,
                                                                  SmsTemplate.name == "Showing confirmation"))
    draft = send(runtime, ctx_for(demo), remote_phone="+14155559999", template_id=template_id,
                 variables={"time": "7pm"}, status="draft")
    assert draft.text.startswith("Hi , ")
    with factory() as session:
        edited = runtime.messaging.update_draft(session, ctx_for(demo), draft.id, SendRequest(remote_phone=SARAH))
    assert (edited.contact_id, edited.template_id) == (contact_id(factory, demo, "Sarah Lee"), template_id)
    assert edited.text == "Hi Sarah, this confirms your showing at 7pm. See you there! - Dana"
    with factory() as session:
        edited = runtime.messaging.update_draft(session, ctx_for(demo), draft.id, SendRequest(variables={"time": "8pm"}))
    assert (edited.text, edited.variables) == ("Hi Sarah, this confirms your showing at 8pm. See you there! - Dana",
                                               {"time": "8pm"})


# -- the sender ----------------------------------------------------------------------------------------------


def test_a_line_cannot_text_itself(runtime, demo):
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=DEMO_NUMBER, text="Testing"))
    assert problem == Problem("same_number", "remote_phone", "(415) 555-0100 is the business line this text would go "
                                                             "out from; a line can't text itself.")


def test_external_number(runtime, demo, factory):
    add_number(factory, demo.organization_id, "+14155550177", "US", number_type="external")
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi", local_phone="+14155550177"))
    assert problem == Problem("external_number", "local_phone",
                              "(415) 555-0177 is an external number; texts go out only from business numbers.")


def test_not_sms_capable_only_line(runtime, workspace, factory):
    add_number(factory, workspace.organization_id, "+14155550104", "US", sms=False, user_id=workspace.user_id,
               sharing="personal")
    ctx = Ctx(organization_id=workspace.organization_id, user_id=workspace.user_id)
    problem = only_problem(refused(runtime, ctx, remote_phone=SARAH, text="Hi"))
    assert problem == Problem("not_sms_capable", "local_phone", "Your business line (415) 555-0104 can't send texts.")


def test_not_sms_capable_named_line(runtime, demo, factory):
    add_number(factory, demo.organization_id, "+14155550104", "US", sms=False)
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi", local_phone="+14155550104"))
    assert problem == Problem("not_sms_capable", "local_phone", "Your business line (415) 555-0104 can't send texts.")


def test_a_voice_only_line_is_passed_over_for_one_that_texts(runtime, workspace, factory):
    add_number(factory, workspace.organization_id, "+14155550104", "US", sms=False)
    add_number(factory, workspace.organization_id, "+14155550105", "US", sms=True)
    ctx = Ctx(organization_id=workspace.organization_id, user_id=workspace.user_id)
    activity = send(runtime, ctx, remote_phone=LUC, text="Hi")
    assert (activity.status, activity.local_phone) == ("sent", "+14155550105")


# -- the text ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n"])
def test_empty(runtime, demo, text):
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=SARAH, text=text))
    assert problem == Problem("empty", "text", "The message is empty.")


def test_empty_text_with_a_picture_is_fine(runtime, demo):
    activity = send(runtime, ctx_for(demo), remote_phone=SARAH, text="", attachments=[PICTURE])
    assert activity.status == "sent"
    assert activity.attachments == [{**PICTURE, "filename": None}]


def test_too_long(runtime, demo):
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=SARAH, text="x" * 1001))
    assert problem == Problem("too_long", "text", "The message is 1001 characters; the limit is 1000.")


def test_1000_characters_is_fine(runtime, demo):
    activity = send(runtime, ctx_for(demo), remote_phone=SARAH, text="x" * 1000)
    assert (activity.status, activity.segments, activity.encoding) == ("sent", 7, "GSM-7")


def test_whatsapp_unavailable(runtime, demo):
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi", whatsapp=True))
    assert problem == Problem("whatsapp_unavailable", "channel", "WhatsApp is not available yet: use SMS or email")


def test_missing_variable(runtime, demo, factory):
    from sqlalchemy import select

    from db.models import SmsTemplate

    with factory() as session:
        template_id = session.scalar(select(SmsTemplate.id).where(SmsTemplate.organization_id == demo.organization_id,
                                                                  SmsTemplate.name == "Showing confirmation"))
    sarah = contact_id(factory, demo, "Sarah Lee")
    problem = only_problem(refused(runtime, ctx_for(demo), contact_id=sarah, template_id=template_id))
    assert problem == Problem("missing_variable", "variables.time", "The template needs a value for time.")
    # A draft is refused too: saved, it would hold no words and forget which template and values it came from.
    draft = only_problem(refused(runtime, ctx_for(demo), contact_id=sarah, template_id=template_id, status="draft"))
    assert draft == Problem("missing_variable", "variables.time", "The template needs a value for time.")

    activity = send(runtime, ctx_for(demo), contact_id=sarah, template_id=template_id, variables={"time": "7pm"})
    assert activity.status == "sent"
    assert activity.text == "Hi Sarah, this confirms your showing at 7pm. See you there! - Dana"
    assert activity.template_id == template_id


def test_a_template_tag_with_no_value_stops_the_send_and_the_draft_shows_it(runtime, demo, factory):
    from sqlalchemy import select

    from db.models import SmsTemplate

    with factory() as session:
        template_id = session.scalar(select(SmsTemplate.id).where(SmsTemplate.organization_id == demo.organization_id,
                                                                  SmsTemplate.name == "Showing confirmation"))
    blank = Problem("blank_tag", "template_id", "The template uses {{ contact.first_name }}, which has no value for "
                                                "this text: fill it in first, or write the text yourself.")
    request = {"remote_phone": "+14155559999", "template_id": template_id, "variables": {"time": "7pm"}}
    assert only_problem(refused(runtime, ctx_for(demo), **request)) == blank  # a bare number: nobody's first name
    draft = send(runtime, ctx_for(demo), **request, status="draft")  # kept, with its words, to be edited
    assert draft.text == "Hi , this confirms your showing at 7pm. See you there! - Dana"
    with factory() as session:
        assert runtime.messaging.prepare(session, ctx_for(demo), SendRequest(**request)).problems == [blank]


# -- compliance ----------------------------------------------------------------------------------------------


def test_opted_out(runtime, demo, factory):
    with transaction(factory) as session:
        record_opt_out(session, demo.organization_id, SARAH)
    problem = only_problem(refused(runtime, ctx_for(demo), contact_id=contact_id(factory, demo, "Sarah Lee"), text="Hi"))
    assert problem == Problem("opted_out", "remote_phone",
                              "(415) 555-0132 has opted out of texts (replied STOP); "
                              "they must text START to receive messages again.")


def test_an_opt_out_in_another_workspace_does_not_block(runtime, demo, workspace, factory):
    with transaction(factory) as session:
        record_opt_out(session, workspace.organization_id, SARAH)
    assert send(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi").status == "sent"


def test_us_10dlc_unregistered(factory, demo):
    rt = build_runtime(make_settings(sandbox_10dlc_registered=False), factory)
    try:
        problem = only_problem(refused(rt, ctx_for(demo), remote_phone=SARAH, text="Hi"))
        assert problem.code == "us_10dlc_unregistered"
        assert problem.field == "local_phone"
        assert "registered 10DLC messaging service" in problem.message
        assert "Settings, Business Phone" in problem.message

        canadian = send(rt, ctx_for(demo), remote_phone=LUC, text="Hi")
        assert canadian.status == "sent"
        assert canadian.messaging_service_sid is None
    finally:
        rt.provider.wait_idle(5)


def test_a_line_in_a_registered_service_texts_the_us_without_a_default(factory, demo):
    with transaction(factory) as session:
        session.query(PhoneNumber).filter_by(number=DEMO_NUMBER).update({"messaging_service_sid": "MGmine"})
    rt = build_runtime(make_settings(sandbox_10dlc_registered=False), factory)
    try:
        activity = send(rt, ctx_for(demo), remote_phone=SARAH, text="Hi")
        assert (activity.status, activity.messaging_service_sid) == ("sent", "MGmine")
    finally:
        rt.provider.wait_idle(5)


def _quiet_now(factory, organization_id: str, zone: str) -> tuple[time, time]:
    """Quiet hours from a quarter hour before now to an hour after, in `zone`; returns (start, end)."""
    local = utcnow().astimezone(ZoneInfo(zone))
    floor = local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)
    start, end = (floor - timedelta(minutes=15)).time(), (floor + timedelta(hours=1)).time()
    with transaction(factory) as session:
        org = session.get(Organization, organization_id)
        org.quiet_hours_start, org.quiet_hours_end = start, end
    return start, floor + timedelta(hours=1)


def test_quiet_hours_names_the_next_allowed_time(runtime, demo, factory):
    start, reopens = _quiet_now(factory, demo.organization_id, "America/Los_Angeles")
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi"))
    assert problem.code == "quiet_hours"
    assert problem.field == "date_scheduled"
    assert f"({start:%H:%M}-{reopens:%H:%M} their time)" in problem.message
    assert f"the next allowed time is {reopens:%a %H:%M} {reopens.tzname()}" in problem.message
    assert problem.message.endswith(f"{reopens.tzname()}.")  # no timestamp: chat, Slack and voice say it as is


def test_quiet_hours_are_the_recipients(runtime, demo, factory):
    # Quiet in Los Angeles, not in New York (three hours ahead).
    _quiet_now(factory, demo.organization_id, "America/Los_Angeles")
    activity = send(runtime, ctx_for(demo), remote_phone=JOHN, text="Hi")
    assert activity.status == "sent"


def test_a_message_scheduled_after_quiet_hours_is_accepted(runtime, demo, factory):
    _, reopens = _quiet_now(factory, demo.organization_id, "America/Los_Angeles")
    activity = send(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi", status="scheduled",
                    date_scheduled=reopens + timedelta(minutes=5))
    assert activity.status == "scheduled"


def test_a_date_scheduled_that_has_passed_is_refused(runtime, demo):
    # The dispatcher would send it at once, while the sender was told it goes out at that time.
    when = datetime(2026, 12, 6, 20, 5, tzinfo=ZoneInfo("America/Los_Angeles"))
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi", status="scheduled",
                                   date_scheduled=when))
    # Said as a person reads it (a phone caller hears it), in the zone it was given in.
    assert problem == Problem("in_the_past", "date_scheduled",
                              "Sun Dec 6 at 8:05 PM (PST) has passed; choose a later time, or send it now.")


def test_a_date_scheduled_just_past_is_checked_against_quiet_hours_now(runtime, demo, factory):
    # Within the minute's grace it goes out at once, so it is the same send as one made now.
    _, reopens = _quiet_now(factory, demo.organization_id, "America/Los_Angeles")
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi", status="scheduled",
                                   date_scheduled=utcnow() - timedelta(seconds=30)))
    assert problem.code == "quiet_hours"
    assert f"the next allowed time is {reopens:%a %H:%M}" in problem.message


@pytest.mark.parametrize("send_in", [10**12, -(10**12)])
def test_a_send_in_far_out_of_range_is_named_not_a_crash(runtime, demo, send_in):
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi", send_in=send_in))
    assert problem == Problem("invalid", "send_in", "send_in must be at least 0 and under 60 seconds.")


# -- pictures ------------------------------------------------------------------------------------------------


def test_mms_to_gb_from_a_gb_line_without_mms(runtime, demo, factory):
    add_number(factory, demo.organization_id, GB_LINE, "GB", kind="mobile", mms=False)
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=GB_MOBILE, text="Look", attachments=[PICTURE]))
    assert problem == Problem("mms_not_supported", "local_phone", "Your business line +44 7400 123457 can't send pictures.")

    named = only_problem(refused(runtime, ctx_for(demo), remote_phone=GB_MOBILE, text="Look", attachments=[PICTURE],
                                 local_phone=GB_LINE))
    assert named == problem


def test_mms_to_gb_even_from_a_line_listed_with_mms(runtime, demo, factory):
    add_number(factory, demo.organization_id, GB_LINE, "GB", kind="mobile", mms=True)
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=GB_MOBILE, text="Look", attachments=[PICTURE]))
    assert problem == Problem("mms_not_supported", "attachments",
                              "Pictures can only be sent between US, Canadian and Australian numbers.")


def test_mms_from_a_us_line_without_mms(runtime, workspace, factory):
    add_number(factory, workspace.organization_id, "+14155550105", "US", mms=False)
    ctx = Ctx(organization_id=workspace.organization_id, user_id=workspace.user_id)
    problem = only_problem(refused(runtime, ctx, remote_phone=SARAH, text="Look", attachments=[PICTURE]))
    assert problem == Problem("mms_not_supported", "local_phone", "Your business line (415) 555-0105 can't send pictures.")
    # The same line still sends plain texts.
    assert send(runtime, ctx, remote_phone=SARAH, text="Look").status == "sent"


def test_too_many_attachments(runtime, demo):
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=SARAH, text="Look", attachments=[PICTURE] * 11))
    assert problem == Problem("too_many_attachments", "attachments", "At most 10 attachments can be sent at once.")
    assert send(runtime, ctx_for(demo), remote_phone=SARAH, text="Look", attachments=[PICTURE] * 10).status == "sent"


def test_pictures_over_5_mb_in_total(runtime, demo):
    big = {**PICTURE, "size": 3 * MB}
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=SARAH, text="Look", attachments=[big, big]))
    assert problem == Problem("attachment_too_large", "attachments",
                              "Attachments add up to 6,291,456 bytes; the limit is 5 MB for pictures.")
    exactly = [{**PICTURE, "size": 3 * MB}, {**PICTURE, "size": 2 * MB}]
    assert send(runtime, ctx_for(demo), remote_phone=SARAH, text="Look", attachments=exactly).status == "sent"


def test_a_pdf_over_600_kb(runtime, demo):
    pdf = {"url": "https://files.example.com/offer.pdf", "content_type": "application/pdf", "size": 700 * 1024}
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=SARAH, text="Offer", attachments=[pdf]))
    assert problem == Problem("attachment_too_large", "attachments",
                              "Attachments add up to 716,800 bytes; the limit is 600 KB when other files are attached.")
    small = {**pdf, "size": 600 * 1024}
    assert send(runtime, ctx_for(demo), remote_phone=SARAH, text="Offer", attachments=[small]).status == "sent"


@pytest.mark.parametrize("url, message", [
    ("file:///etc/passwd", "Give the file's public http(s) address (https://...), which the carrier downloads."),
    ("javascript:alert(1)", "Give the file's public http(s) address (https://...), which the carrier downloads."),
    ("not a url", "Give the file's public http(s) address (https://...), which the carrier downloads."),
    ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is not a public address: the carrier downloads "
                                                "the file from the internet."),
    ("https://localhost:8000/a.jpg", "localhost is not a public address: the carrier downloads the file from the "
                                     "internet."),
    ("https://[::1]/a.jpg", "::1 is not a public address: the carrier downloads the file from the internet."),
    ("http://nas.local/a.jpg", "nas.local is not a public address: the carrier downloads the file from the internet."),
])
def test_an_attachment_the_carrier_cannot_fetch_is_refused_naming_it(runtime, demo, url, message):
    attachments = [PICTURE, {**PICTURE, "url": url}]
    for status in ("outbox", "draft"):
        problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=SARAH, text="Look", status=status,
                                       attachments=attachments))
        assert problem == Problem("invalid", "attachments.1.url", message)


def test_a_file_type_the_carrier_does_not_deliver_is_refused_naming_it(runtime, demo):
    exe = {"url": "https://files.example.com/setup.exe", "content_type": "application/x-msdownload", "size": 1000}
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=SARAH, text="Run this", attachments=[exe]))
    assert problem == Problem("invalid", "attachments.0.content_type",
                              "application/x-msdownload can't be sent by text: send a picture, sound, video, PDF, "
                              "or contact or calendar card.")
    card = {"url": "https://files.example.com/dana.vcf", "content_type": "text/vcard", "size": 1000}
    assert send(runtime, ctx_for(demo), remote_phone=SARAH, text="My card", attachments=[card]).status == "sent"


# -- several problems at once --------------------------------------------------------------------------------


def test_every_problem_is_reported_at_once(runtime, demo, factory):
    with transaction(factory) as session:
        record_opt_out(session, demo.organization_id, SARAH)
    problems = refused(runtime, ctx_for(demo), remote_phone=SARAH, text="x" * 1001, whatsapp=True)
    assert sorted(codes(problems)) == ["opted_out", "too_long", "whatsapp_unavailable"]


# -- through the dispatcher: checks run again when a scheduled message comes due -------------------------------


def _scheduled(runtime, demo, factory, **request):
    when = utcnow() + timedelta(hours=2)
    activity = send(runtime, ctx_for(demo), status="scheduled", date_scheduled=when, **request)
    assert activity.status == "scheduled"
    return activity


def test_dispatcher_refuses_a_recipient_who_opted_out_after_scheduling(runtime, demo, factory, provider):
    activity = _scheduled(runtime, demo, factory, contact_id=contact_id(factory, demo, "Sarah Lee"), text="See you at 7")
    with transaction(factory) as session:
        record_opt_out(session, demo.organization_id, SARAH)
    make_due(factory, activity.id)

    assert runtime.dispatcher.drain() == 1
    row = reload(factory, activity.id)
    assert row.status == "error"
    assert row.error_code == "opted_out"
    assert row.error_message == ("(415) 555-0132 has opted out of texts (replied STOP); "
                                 "they must text START to receive messages again.")
    assert row.claimed_by is None
    assert provider.sends == 0


def test_dispatcher_refuses_when_the_line_lost_sms_after_scheduling(runtime, demo, factory, provider):
    activity = _scheduled(runtime, demo, factory, remote_phone=SARAH, text="See you at 7")
    with transaction(factory) as session:
        session.query(PhoneNumber).filter_by(number=DEMO_NUMBER).update({"sms": False})
    make_due(factory, activity.id)

    runtime.dispatcher.drain()
    row = reload(factory, activity.id)
    assert (row.status, row.error_code) == ("error", "not_sms_capable")
    assert row.error_message == "Your business line (415) 555-0100 can't send texts."
    assert provider.sends == 0


def test_dispatcher_sends_a_due_message_that_still_passes(runtime, demo, factory, provider):
    activity = _scheduled(runtime, demo, factory, remote_phone=SARAH, text="See you at 7")
    make_due(factory, activity.id)
    runtime.dispatcher.drain()
    row = reload(factory, activity.id)
    assert (row.status, row.error_message) == ("sent", None)
    assert row.provider_sid.startswith("SM")
    assert provider.asked[activity.id] == 1


def test_a_contact_without_a_textable_phone(runtime, demo, factory):
    cid = add_contact(factory, demo, "Fax Only", "+14155550166", type_="fax")
    problem = only_problem(refused(runtime, ctx_for(demo), contact_id=cid, text="Hi"))
    assert problem == Problem("no_phone", "contact_id", "Fax Only has no phone number to text.")


def test_date_scheduled_needs_a_time_zone(runtime, demo):
    """Naive datetimes are refused, not guessed."""
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=SARAH, text="Hi", status="scheduled",
                                   date_scheduled=datetime(2030, 1, 1, 9, 0)))
    assert (problem.code, problem.field) == ("invalid", "date_scheduled")


TOLL_FREE = "+18005550100"  # non-geographic: phonenumbers lists every +1 time zone, from Guam to Newfoundland


def _quiet_for_14_hours(factory, organization_id: str, from_now: timedelta):
    """Quiet hours 14 hours long, starting `from_now` after the current quarter hour in Los Angeles (the demo's
    workspace zone); returns the local start and end."""
    local = utcnow().astimezone(ZoneInfo("America/Los_Angeles"))
    floor = local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)
    start, end = floor + from_now, floor + from_now + timedelta(hours=14)
    with transaction(factory) as session:
        org = session.get(Organization, organization_id)
        org.quiet_hours_start, org.quiet_hours_end = start.time(), end.time()
    return start, end


def test_quiet_hours_that_leave_a_number_no_allowed_minute_use_the_workspaces_zone(runtime, demo, factory):
    """Fourteen quiet hours in every zone from Guam to Newfoundland leave no minute of the day allowed everywhere;
    such a number is judged in the workspace's time zone instead of being refused forever."""
    _quiet_for_14_hours(factory, demo.organization_id, timedelta(hours=1))  # not quiet now in Los Angeles
    assert send(runtime, ctx_for(demo), remote_phone=TOLL_FREE, text="Hi").status == "sent"

    start, end = _quiet_for_14_hours(factory, demo.organization_id, timedelta(hours=-1))  # quiet now
    problem = only_problem(refused(runtime, ctx_for(demo), remote_phone=TOLL_FREE, text="Hi"))
    assert problem.code == "quiet_hours"
    assert f"({start:%H:%M}-{end:%H:%M} your workspace's time)" in problem.message
    assert f"the next allowed time is {end:%a %H:%M} {end.tzname()}" in problem.message
    # ... and that time really is allowed.
    later = send(runtime, ctx_for(demo), remote_phone=TOLL_FREE, text="Hi", status="scheduled", date_scheduled=end)
    assert later.status == "scheduled"
