"""The web page in a real browser (Debian's chromium through Playwright), against a live Cody on the sandbox line."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from db.models import Activity, Contact, Draft, User
from db.session import transaction
from db.types import utcnow
from tests.live import http_client
from tests.web.conftest import demo_server
from tools import crm
from tools.context import Ctx
from tools.voice.pin import pin_matches

pytestmark = pytest.mark.slow

SARAH_PHONE = "(415) 555-0132"
DEMO_LINE = "(415) 555-0100"


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def sign_in(page, base_url: str, key: str) -> None:
    page.goto(base_url + "/")
    expect(page.locator("#signin")).to_be_visible()
    page.fill("#signin-key", key)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#page-chat")).to_be_visible()
    expect(page.locator("#who")).to_contain_text("Dana Reyes")


def ask(page, text: str):
    """Say `text` to Cody; the draft card it answers with."""
    cards = page.locator(".draft-card")
    before = cards.count()
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")
    expect(cards).to_have_count(before + 1)
    return cards.nth(before)


def session_contact_id(factory, name: str) -> str:
    with factory() as session:
        return session.scalar(select(Contact.id).where(Contact.name == name))


def outbound_count(factory) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Activity).where(Activity.direction == "outbound"))


def test_sign_in_ask_confirm_delivered_reply_inbox(page, cody, demo, factory, artifacts):
    sign_in(page, cody.base_url, demo.api_key)

    card = ask(page, "text Sarah I'm running 10 minutes late")
    expect(card.locator("h4")).to_contain_text("Text Sarah Lee")
    expect(card.locator("h4 .badge")).to_have_text("Waiting for you")
    expect(card.locator('dd[data-field="to"]')).to_have_text(f"Sarah Lee · {SARAH_PHONE}")
    expect(card.locator('dd[data-field="from"]')).to_have_text(DEMO_LINE)
    expect(card.locator('dd[data-field="text"]')).to_have_text("I'm running 10 minutes late")
    expect(card.locator('dd[data-field="encoding"]')).to_have_text("GSM-7 · 1 segment")
    expect(card.locator('dd[data-field="when"]')).to_have_text("As soon as you confirm")
    expect(card.locator(".problems")).to_have_count(0)
    for name in ("Confirm", "Edit", "Cancel"):
        expect(card.get_by_role("button", name=name, exact=True)).to_be_enabled()
    page.screenshot(path=str(artifacts / "chat.png"), full_page=True)
    assert outbound_count(factory) == 0, "nothing goes out before Confirm"

    card.get_by_role("button", name="Confirm", exact=True).click()
    expect(card.locator("h4 .badge")).to_have_text("Sent")
    expect(card.locator(".delivery")).to_have_text("delivered")
    assert outbound_count(factory) == 1

    card.get_by_role("link", name="Open the thread").click()
    expect(page.locator("#page-contact")).to_be_visible()
    expect(page.locator("#contact-card .name")).to_have_text("Sarah Lee")
    expect(page.locator("#contact-card")).to_contain_text(SARAH_PHONE)
    expect(page.get_by_role("button", name="Text", exact=True)).to_be_enabled()
    expect(page.get_by_role("button", name="Call", exact=True)).to_be_enabled()
    sent = page.locator("#thread li.sms.outbound")
    expect(sent).to_have_count(1)
    expect(sent).to_contain_text("I'm running 10 minutes late")
    expect(sent).to_have_attribute("data-status", "delivered")
    expect(sent.locator(".badge")).to_have_text("delivered")
    expect(page.locator("#contact-assignee")).to_have_text("Unclaimed thread. Claim it")  # no reply to claim yet
    page.screenshot(path=str(artifacts / "contact.png"), full_page=True)

    # The sandbox panel: Sarah answers.
    expect(page.locator("#sandbox")).to_be_visible()
    expect(page.locator("#sandbox-contact option:checked")).to_contain_text("Sarah Lee")
    page.fill("#sandbox-body", "No problem, see you soon!")
    page.click("#sandbox-reply")
    expect(page.locator("#sandbox-status")).to_have_text("Sarah Lee replied. It is on their thread and in the Inbox.")
    expect(page.locator("#thread li.sms.inbound")).to_contain_text("No problem, see you soon!")

    page.click('.tabs a[data-page="inbox"]')
    item = page.locator("#inbox-items li.inbox-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Sarah Lee")
    expect(item).to_contain_text("No problem, see you soon!")
    expect(item.locator(".badge")).to_have_text("Text")
    expect(page.locator("#inbox-count")).to_have_text("1")
    expect(page.locator("#threads-unclaimed li.thread-item")).to_contain_text("Sarah Lee")
    page.screenshot(path=str(artifacts / "inbox.png"), full_page=True)

    page.locator("#threads-unclaimed li.thread-item").get_by_role("button", name="Claim").click()
    expect(page.locator("#threads-mine li.thread-item")).to_contain_text("Sarah Lee")
    expect(page.locator("#threads-unclaimed")).to_have_text("No unclaimed threads.")

    item.get_by_role("button", name="Mark done").click()
    expect(page.locator("#inbox-items")).to_have_text("You're all caught up.")
    expect(page.locator("#inbox-count")).to_be_hidden()


def test_api_errors_are_shown_as_sentences(page, cody, demo, factory):
    sign_in(page, cody.base_url, demo.api_key)

    card = ask(page, "text Sarah hello")
    with transaction(factory) as session:
        session.execute(update(Draft).values(expires_at=utcnow() - timedelta(seconds=1)))
    card.get_by_role("button", name="Confirm", exact=True).click()
    expect(card.locator(".draft-error")).to_have_text(
        "This draft is expired; nothing was sent. Ask Cody again to make a new one.")
    expect(card.locator("h4 .badge")).to_have_text("Expired")
    expect(card.get_by_role("button", name="Confirm", exact=True)).to_have_count(0)

    # A 400 from the contact card's Text button: the problem in plain words, nothing sent.
    page.goto(cody.base_url + "/#/contacts")
    page.get_by_role("link", name="Sarah Lee").click()
    page.get_by_role("button", name="Text", exact=True).click()
    page.fill("#compose-text", "x" * 1001)
    page.get_by_role("button", name="Send text").click()
    expect(page.locator("#compose-error")).to_contain_text("The message is 1001")
    assert outbound_count(factory) == 0
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "problems" not in body and "{" not in page.locator("#compose-error").inner_text()


def test_a_card_text_goes_through_the_messaging_service_and_an_edit_reprepares(page, cody, demo, factory):
    sign_in(page, cody.base_url, demo.api_key)
    page.fill("#chat-input", "call the Smiths")
    page.press("#chat-input", "Enter")
    choices = page.locator(".choices").last
    expect(choices.get_by_role("button")).to_have_count(2)
    assert sorted(choices.get_by_role("button").all_inner_texts()) == ["David Smith", "Mary Smith"]
    choices.get_by_role("button", name="Mary Smith").click()
    expect(page.locator(".bubble.user").last).to_have_text("Mary Smith")
    expect(choices.get_by_role("button", name="Mary Smith")).to_be_disabled()
    expect(page.locator(".draft-card")).to_have_count(1)  # the call, drafted like a text

    card = ask(page, "text Sarah hi")
    card.get_by_role("button", name="Edit", exact=True).click()
    card.locator("textarea").fill("Hi Sarah 👋")
    card.get_by_role("button", name="Save").click()
    expect(card.locator('dd[data-field="text"]')).to_have_text("Hi Sarah 👋")
    expect(card.locator('dd[data-field="encoding"]')).to_have_text("UCS-2 · 1 segment")
    card.get_by_role("button", name="Cancel", exact=True).click()
    expect(card.locator("h4 .badge")).to_have_text("Canceled")
    assert outbound_count(factory) == 0

    page.click('.tabs a[data-page="contacts"]')
    page.get_by_role("link", name="John Park").click()
    page.get_by_role("button", name="Text", exact=True).click()
    page.fill("#compose-text", "The keys are in the lockbox.")
    page.get_by_role("button", name="Send text").click()
    expect(page.locator("#contact-status")).to_have_text("Text to John Park is on its way.")
    expect(page.locator("#thread li.sms.outbound")).to_have_attribute("data-status", "delivered")
    with factory() as session:
        sms = session.scalar(select(Activity).where(Activity.direction == "outbound"))
        assert (sms.text, sms.remote_phone, sms.status) == ("The keys are in the lockbox.", "+12125550123", "delivered")


def test_a_scheduled_text_is_canceled_from_a_cancel_card(page, cody, demo, factory):
    at = (utcnow() + timedelta(days=1)).replace(second=0, microsecond=0)
    with http_client(base_url=cody.base_url, auth=(demo.api_key, ""), timeout=30) as api:
        made = api.post("/api/v1/activity/sms/", json={
            "status": "scheduled", "contact_id": session_contact_id(factory, "Sarah Lee"),
            "text": "See you at the showing", "date_scheduled": at.isoformat()})
    assert made.status_code == 200, made.text
    sign_in(page, cody.base_url, demo.api_key)

    card = ask(page, "cancel the text to Sarah")
    expect(card.locator("h4")).to_contain_text("Cancel the text to Sarah Lee")
    expect(card.locator('dd[data-field="text"]')).to_have_text("See you at the showing")
    expect(card.locator('dd[data-field="when"]')).to_contain_text("Scheduled for")
    expect(card.locator('dd[data-field="encoding"]')).to_have_count(0)
    expect(card.get_by_role("button", name="Edit", exact=True)).to_have_count(0)
    expect(card.get_by_role("button", name="Keep it", exact=True)).to_be_enabled()
    card.get_by_role("button", name="Cancel the text", exact=True).click()
    expect(card.locator("h4 .badge")).to_have_text("Canceled")
    expect(card).to_contain_text("Canceled: it won't go out; it's kept as a draft.")
    with factory() as session:
        assert session.get(Activity, made.json()["id"]).status == "draft"
    assert outbound_count(factory) == 1, "the text was kept as a draft, and nothing was sent"


def test_contacts_page_through_and_search(page, cody, demo, factory):
    with transaction(factory) as session:
        ctx = Ctx(organization_id=demo.organization_id, user_id=demo.user_id, role="admin")
        for n in range(30):
            crm.create_contact(session, ctx, crm.ContactIn(name=f"Zed Tester {n:02d}",
                                                           phones=[crm.PhoneIn(phone=f"(415) 555-{3000 + n}")]))
    sign_in(page, cody.base_url, demo.api_key)
    page.click('.tabs a[data-page="contacts"]')
    rows = page.locator("#contact-list li")
    expect(rows).to_have_count(25)
    page.get_by_role("button", name="Show more contacts").click()
    expect(rows).to_have_count(35)  # the demo's 5 and the 30 added
    expect(page.get_by_role("button", name="Show more contacts")).to_be_hidden()

    page.fill("#contact-search", "smith")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("David Smith")
    page.fill("#contact-search", "555-0132")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Sarah Lee")
    page.fill("#contact-search", "nobody at all")
    expect(rows).to_have_text("No contacts match.")

    # A long thread pages too: 30 received texts and one sent, newest first, 25 at a time from each list.
    sarah = session_contact_id(factory, "Sarah Lee")
    with http_client(base_url=cody.base_url, auth=(demo.api_key, ""), timeout=30) as api:
        for n in range(30):
            logged = api.post("/api/v1/activity/sms/", json={"status": "inbox", "contact_id": sarah,
                                                               "text": f"Message {n:02d}"})
            assert logged.status_code == 200, logged.text
    page.fill("#contact-search", "sarah")
    page.get_by_role("link", name="Sarah Lee").click()
    thread = page.locator("#thread li.sms")
    expect(thread).to_have_count(25)
    expect(thread.first).to_contain_text("Message 29")
    page.get_by_role("button", name="Show older activity").click()
    expect(thread).to_have_count(30)
    expect(thread.last).to_contain_text("Message 00")
    expect(page.get_by_role("button", name="Show older activity")).to_be_hidden()


def test_calls_settings_and_a_demo_server_signs_in_by_itself(page, db_url, factory, demo):
    with demo_server(db_url, factory, demo.api_key) as base_url:
        page.goto(base_url + "/")
        expect(page.locator("#page-chat")).to_be_visible()  # no key typed
        expect(page.locator("#who")).to_contain_text("Bayview Realty (demo)")

        page.click('.tabs a[data-page="calls"]')
        expect(page.locator("#call-list li")).to_have_count(1)  # "No calls yet." or "not available yet"
        page.select_option("#calls-filter", "ai")
        expect(page.locator("#call-list li")).to_have_count(1)
        expect(page.locator("#page-calls [data-error]")).to_be_hidden()

        page.click('.tabs a[data-page="settings"]')
        expect(page.locator("#wallet-balance")).to_have_text("$25.00")
        expect(page.locator("#number-list li")).to_contain_text(DEMO_LINE)
        expect(page.locator("#forwarding-phone")).to_have_value("(415) 555-0199")
        expect(page.locator("#template-list li")).to_have_count(2)

        page.fill("#number-area", "abc")
        page.click("#number-search button[type=submit]")
        expect(page.locator("#number-error")).to_have_text("The area code must be digits, such as 212.")
        page.fill("#number-area", "212")
        page.click("#number-search button[type=submit]")
        offer = page.locator("#number-results li").first
        expect(offer).to_contain_text("(212)")
        bought = offer.locator("strong").inner_text()
        offer.get_by_role("button", name="Buy").click()
        numbers = page.locator("#number-list li")
        expect(numbers).to_have_count(2)
        expect(numbers.filter(has_text=bought)).to_have_count(1)
        expect(page.locator("#wallet-balance")).not_to_have_text("$25.00")
        page.once("dialog", lambda dialog: dialog.accept())
        numbers.filter(has_text=bought).get_by_role("button", name="Release").click()
        expect(numbers.filter(has_text=bought).locator(".badge", has_text="active")).to_have_count(0)

        page.fill("#template-name", "Open house")
        page.fill("#template-text", "Hi {{ contact.first_name }}, open house Sunday 1-4pm!")
        page.click("#template-form button[type=submit]")
        expect(page.locator("#template-list li")).to_have_count(3)
        open_house = page.locator("#template-list li", has_text="Open house")
        open_house.get_by_role("button", name="Archive").click()
        expect(open_house.locator(".badge", has_text="archived")).to_be_visible()
        page.fill("#forwarding-phone", "not a phone")
        page.click("#forwarding-form button[type=submit]")
        expect(page.locator("#forwarding-status")).to_have_class("error")
        expect(page.locator("#forwarding-status")).not_to_be_empty()

        page.click("#signout")
        expect(page.locator("#signin")).to_be_visible()
        page.reload()
        expect(page.locator("#signin")).to_be_visible()  # signed out stays signed out in this tab


def voice_pin_hash(factory, user_id: str) -> str | None:
    with factory() as session:
        return session.scalar(select(User.voice_pin_hash).where(User.id == user_id))


def test_a_user_sets_and_removes_their_voice_pin_in_settings(page, cody, demo, factory):
    sign_in(page, cody.base_url, demo.api_key)
    page.click('.tabs a[data-page="settings"]')
    expect(page.locator("#voice-pin-state")).to_have_text("No PIN yet: voice commands by phone are off.")
    expect(page.get_by_role("button", name="Remove PIN")).to_be_hidden()

    page.fill("#voice-pin", "12")
    page.click("#voice-pin-form button[type=submit]")
    expect(page.locator("#voice-pin-status")).to_have_text("A voice PIN is 4 to 8 digits.")
    expect(page.locator("#voice-pin-status")).to_have_class("error")
    assert voice_pin_hash(factory, demo.user_id) is None

    page.fill("#voice-pin", "4821")
    page.click("#voice-pin-form button[type=submit]")
    expect(page.locator("#voice-pin-status")).to_have_text("PIN saved.")
    expect(page.locator("#voice-pin")).to_have_value("")  # never shown again
    expect(page.locator("#voice-pin-state")).to_have_text("A PIN is set: voice commands by phone are on.")
    assert pin_matches(voice_pin_hash(factory, demo.user_id), "4821")

    page.reload()
    expect(page.locator("#voice-pin-state")).to_have_text("A PIN is set: voice commands by phone are on.")
    page.get_by_role("button", name="Remove PIN").click()
    expect(page.locator("#voice-pin-status")).to_have_text("PIN removed.")
    expect(page.get_by_role("button", name="Remove PIN")).to_be_hidden()
    assert voice_pin_hash(factory, demo.user_id) is None


def test_a_past_due_number_shows_in_the_inbox_as_what_it_says(page, cody, demo, factory):
    from db.models import PhoneNumber
    from tools.inbox import add_billing_items

    with transaction(factory) as session:
        line = session.scalar(select(PhoneNumber.id).where(PhoneNumber.organization_id == demo.organization_id))
        add_billing_items(session, demo.organization_id, line,
                          "Your business line (415) 555-0100 is past due: $1.15 for December. It is released on "
                          "Dec 14 unless the wallet can pay it.")
    sign_in(page, cody.base_url, demo.api_key)
    page.click('.tabs a[data-page="inbox"]')
    item = page.locator("#inbox-items li.inbox-item")
    expect(item).to_have_count(1)
    expect(item.locator(".badge")).to_have_text("Billing")
    expect(item).to_contain_text("Business line: Your business line (415) 555-0100 is past due: $1.15 for December.")
    expect(item).not_to_contain_text("Unknown caller")
