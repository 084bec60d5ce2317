"""Voice commands by phone: the user's own phone calls the business line, keys the PIN, speaks a request, hears
the draft read back and sends it with a spoken yes. Signed webhooks, TwiML parsed, and every step followed at the
URL Cody put in the <Gather> action, as Twilio would."""

import re
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from api.webhooks.voice_commands import GO_AHEAD
from db.models import (
    Activity,
    Draft,
    PhoneNumber,
    User,
    VoiceCommandSession,
    WebhookReceipt,
)
from db.session import transaction
from tests.calls.conftest import FORWARDING, SARAH, live_app, twiml, verbs
from tests.webhooks.test_inbound_sms import SMS as INBOUND_SMS
from tests.webhooks.test_inbound_sms import inbound_form
from tools.demo import DEMO_NUMBER
from tools.voice.commands import LOCKOUT_FAILURES, PIN_TRIES
from tools.voice.pin import pin_matches

PIN = "4821"
VOICE = "/api/webhooks/twilio/voice"
COMMAND = VOICE + "/command"
REQUEST = "text Sarah I'm running late"
DEMO_ZONE = ZoneInfo("America/Los_Angeles")
MARY, DAVID = "+14155550143", "+14155550144"


class Call:
    """One phone call as Twilio makes it: post the voice webhook, then answer each <Gather> at its action URL."""

    def __init__(self, cody, sid: str, from_: str = FORWARDING):
        self.cody, self.sid, self.from_ = cody, sid, from_
        self.root: ElementTree.Element | None = None

    def form(self, *extra: tuple[str, str]) -> list[tuple[str, str]]:
        return [("AccountSid", "ACsandbox"), ("CallSid", self.sid), ("CallStatus", "in-progress"),
                ("Direction", "inbound"), ("From", self.from_), ("To", DEMO_NUMBER), ("Caller", self.from_),
                ("Called", DEMO_NUMBER), ("ApiVersion", "2010-04-01"), *extra]

    def dial(self) -> ElementTree.Element:
        return self._post(VOICE, self.form())

    def press(self, digits: str) -> ElementTree.Element:
        assert self.gather().get("input") == "dtmf"
        return self._post(self.action(), self.form(("Digits", digits)))

    def speak(self, words: str) -> ElementTree.Element:
        assert self.gather().get("input") == "speech"
        return self._post(self.action(), self.form(("SpeechResult", words), ("Confidence", "0.9")))

    def gather(self) -> ElementTree.Element:
        gather = self.root.find("Gather")
        assert gather is not None, ElementTree.tostring(self.root)
        return gather

    def action(self) -> str:
        """The path and query of the current <Gather>'s action (Cody's own URL, signed by Twilio as it is)."""
        url = urlsplit(self.gather().get("action"))
        return f"{url.path}?{url.query}"

    def said(self) -> str:
        return " ".join(say.text or "" for say in self.root.iter("Say"))

    def _post(self, path: str, form: list[tuple[str, str]]) -> ElementTree.Element:
        answer = self.cody.post_twilio(path, form)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/xml")
        self.root = twiml(answer.text)
        return self.root


@pytest.fixture
def pin(api) -> str:
    assert api.put("/api/v1/me/", json={"voice_pin": PIN}).status_code == 200
    return PIN


def sid(n: int) -> str:
    return f"CA{n:032d}"


def sms_to_sarah(api) -> list[dict]:
    return [m for m in api.get("/api/v1/activity/sms/").json()["data"] if m["remote_phone"] == SARAH]


def sent_by_carrier(cody, to: str = SARAH) -> int:
    return sum(1 for _, number, *_ in cody.sandbox.sent if number == to)


def count(factory, model, *where) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def authenticated(cody, n: int) -> Call:
    call = Call(cody, sid(n))
    call.dial()
    call.press(PIN)
    return call


# -- the PIN, set through PUT /me/ --------------------------------------------------------------------------


def test_put_me_sets_a_voice_pin_that_is_stored_hashed_and_never_shown(api, factory, demo):
    assert api.get("/api/v1/me/").json()["voice_pin_set"] is False
    answer = api.put("/api/v1/me/", json={"voice_pin": "1234"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["voice_pin_set"] is True and "voice_pin" not in answer.json()
    me = api.get("/api/v1/me/")
    assert me.json()["voice_pin_set"] is True and "1234" not in answer.text + me.text
    with factory() as session:
        first = session.get(User, demo.user_id).voice_pin_hash
    api.put("/api/v1/me/", json={"voice_pin": "1234"})
    with factory() as session:
        second = session.get(User, demo.user_id).voice_pin_hash
    # scrypt$n$r$p$salt$key in hex: the PIN itself is none of its fields (a random hex field may contain "1234").
    scheme, *costs, salt, key = first.split("$")
    assert scheme == "scrypt" and len(costs) == 3 and "1234" not in costs + [salt, key]
    assert pin_matches(first, "1234") and not pin_matches(first, "4321")
    assert first != second  # a new salt each time
    assert api.put("/api/v1/me/", json={"voice_pin": None}).json()["voice_pin_set"] is False


@pytest.mark.parametrize("bad", ["123", "123456789", "12 34", "12a4", "١٢٣٤", 4821])
def test_a_bad_voice_pin_is_a_field_error_and_changes_nothing(api, pin, bad):
    answer = api.put("/api/v1/me/", json={"voice_pin": bad})
    assert answer.status_code == 400
    assert set(answer.json()["field-errors"]) == {"voice_pin"}
    assert str(bad) not in answer.text
    assert api.get("/api/v1/me/").json()["voice_pin_set"] is True  # the PIN set before still stands


# -- the whole flow -----------------------------------------------------------------------------------------


def test_pin_then_request_then_yes_sends_exactly_one_text(cody, api, factory, demo, pin):
    call = Call(cody, sid(1))
    root = call.dial()
    assert [v.tag for v in root] == ["Gather", "Say", "Hangup"]  # not forwarded; no keys pressed: the call ends
    gather = call.gather()
    assert (gather.get("input"), gather.get("finishOnKey")) == ("dtmf", "#")
    assert call.action() == f"{COMMAND}/pin?turn=0"
    assert "PIN" in gather.find("Say").text

    call.press(pin)
    assert call.action() == f"{COMMAND}/request?turn=1" and call.gather().get("input") == "speech"
    assert "What would you like me to do?" in call.said()

    call.speak(REQUEST)
    assert call.action() == f"{COMMAND}/confirm?turn=2"
    read_back = call.gather().find("Say").text
    assert "I'll text Sarah Lee: I'm running late." in read_back and "Say yes" in read_back
    assert sms_to_sarah(api) == [] and sent_by_carrier(cody) == 0  # read back, not sent

    call.speak("yes, send it")
    assert call.said().startswith("Sent.") and call.action() == f"{COMMAND}/request?turn=3"
    [sms] = sms_to_sarah(api)
    assert (sms["direction"], sms["text"], sms["user_id"], sms["local_phone"]) == (
        "outbound", "I'm running late", demo.user_id, DEMO_NUMBER)
    assert sms["status"] in ("sent", "delivered")
    assert sent_by_carrier(cody) == 1
    with factory() as session:
        draft = session.scalar(select(Draft))
        assert (draft.state, draft.channel, draft.activity_id) == ("executed", "voice", sms["id"])
    # The user talking to Cody is not a call from a contact: nothing is logged as one.
    assert count(factory, Activity, Activity.type == "call") == 0

    call.speak("no thanks")
    assert [v.tag for v in call.root] == ["Say", "Hangup"] and call.said() == "Goodbye."


def test_the_sandbox_plays_the_whole_call_keys_and_all(cody, api, factory, pin):
    cody.sandbox.simulate_inbound_call(FORWARDING, DEMO_NUMBER, speech=[f"{pin}#", REQUEST, "yes"])
    cody.sandbox.drain()
    steps = [urlsplit(url).path.rsplit("/", 1)[-1] for url, _ in cody.sandbox.twiml_log
             if "/voice/command/" in url]
    assert steps == ["pin", "request", "confirm", "request"]  # the last: silence, so goodbye
    assert twiml(cody.sandbox.twiml_log[-1][1]).find("Say").text == "Goodbye."
    assert len(sms_to_sarah(api)) == 1 and sent_by_carrier(cody) == 1


def test_a_question_is_answered_and_the_call_listens_again(cody, api, factory, pin):
    call = authenticated(cody, 2)
    call.speak("text Sarah")
    assert call.action() == f"{COMMAND}/request?turn=2"  # no draft yet: another request, not a yes
    call.speak("See you at the house at noon")
    assert "See you at the house at noon" in call.said() and "/confirm" in call.action()
    call.speak("yes")
    assert [m["text"] for m in sms_to_sarah(api)] == ["See you at the house at noon"]


@pytest.mark.parametrize("answer", ["The second one.", "Number two.", "Mary Smith."])
def test_which_one_is_read_out_and_the_caller_picks_by_saying_it(cody, api, pin, answer):
    smiths = {"Mary Smith": "+14155550143", "David Smith": "+14155550144"}
    call = authenticated(cody, 27)
    call.speak("text Smith I'm running late")
    offered = sorted(smiths, key=call.said().index)
    assert call.said().startswith(f"Which Smith do you mean: {offered[0]}") and "/request" in call.action()
    picked = "Mary Smith" if answer.startswith("Mary") else offered[1]
    call.speak(answer)
    assert call.said().startswith(f"I'll text {picked}: I'm running late. Say yes") and "/confirm" in call.action()
    call.speak("yes")
    sent = api.get("/api/v1/activity/sms/").json()["data"]
    assert [(m["remote_phone"], m["text"]) for m in sent] == [(smiths[picked], "I'm running late")]


def test_a_later_send_is_read_back_with_its_time_and_scheduled(cody, api, factory, pin):
    call = authenticated(cody, 26)
    call.speak("text Sarah in 2 hours: heading over now")
    assert re.search(r"I'll text Sarah Lee at \d{1,2}:\d\d [AP]M on \w+day: heading over now\.", call.said())
    call.speak("yes")
    assert call.said().startswith("Scheduled.")
    assert [m["status"] for m in sms_to_sarah(api)] == ["scheduled"] and sent_by_carrier(cody) == 0


def next_at(hour: int) -> datetime:
    """The next time it is `hour` o'clock on the demo's clock (today, or tomorrow once it has passed)."""
    now = datetime.now(DEMO_ZONE)
    today = datetime.combine(now.date(), time(hour), DEMO_ZONE)
    return today if today > now else datetime.combine(now.date() + timedelta(days=1), time(hour), DEMO_ZONE)


def schedule_for_sarah_tomorrow_at_7pm(api) -> dict:
    day = datetime.now(DEMO_ZONE).date() + timedelta(days=1)
    at = datetime.combine(day, time(19), DEMO_ZONE)
    made = api.post("/api/v1/activity/sms/", json={"status": "scheduled", "contact_id": contact_id_of(api, "Sarah Lee"),
                                                   "text": "See you at the showing", "date_scheduled": at.isoformat()})
    assert made.status_code == 200, made.text
    return made.json()


def contact_id_of(api, name: str) -> str:
    found = api.get("/api/v1/contact/", params={"query": name}).json()["data"]
    return next(c["id"] for c in found if c["name"] == name)


def test_a_scheduled_text_is_read_back_as_a_cancel_and_a_yes_cancels_it(cody, api, pin):
    text = schedule_for_sarah_tomorrow_at_7pm(api)
    call = authenticated(cody, 28)
    call.speak("cancel the text to Sarah")
    assert call.gather().find("Say").text == ("I'll cancel the 7 PM text to Sarah Lee tomorrow: See you at the "
                                              "showing. Shall I? Say yes to cancel it, or no to keep it.")
    call.speak("yes")
    assert call.said().startswith("Canceled: the 7:00 PM text to Sarah Lee tomorrow won't go out; it's kept as a "
                                  "draft.")
    assert [(m["id"], m["status"]) for m in sms_to_sarah(api)] == [(text["id"], "draft")]
    assert sent_by_carrier(cody) == 0


def test_no_to_a_cancel_keeps_the_scheduled_text(cody, api, pin):
    text = schedule_for_sarah_tomorrow_at_7pm(api)
    call = authenticated(cody, 29)
    call.speak("don't send the 7pm text to Sarah")
    call.speak("no")
    assert call.said().startswith("Okay, I've left it: the 7:00 PM text to Sarah Lee tomorrow still goes out.")
    assert [(m["id"], m["status"]) for m in sms_to_sarah(api)] == [(text["id"], "scheduled")]


def test_a_household_text_is_read_back_to_whoever_can_get_it_with_who_cannot_and_why(cody, api, pin):
    cody.post_twilio(INBOUND_SMS, inbound_form("STOP", "SM" + "6" * 32, from_=DAVID))
    call = authenticated(cody, 30)
    call.speak("text the Smiths see you at 7")
    assert call.gather().find("Say").text == (
        "I'll text Mary Smith: see you at 7. I can't text David Smith: (415) 555-0144 has opted out of texts (replied "
        "STOP); they must text START to receive messages again. Say yes to go ahead, or no to cancel.")
    call.speak("yes")
    assert call.said().startswith("Sent.") and "/request" in call.action()
    sent = [(m["remote_phone"], m["text"]) for m in api.get("/api/v1/activity/sms/").json()["data"]
            if m["direction"] == "outbound"]
    assert sent == [(MARY, "see you at 7")]


def test_make_it_8pm_instead_at_the_read_back_changes_the_time_and_asks_again(cody, api, pin):
    call = authenticated(cody, 31)
    call.speak("text Sarah at 7pm: dinner?")
    call.speak("make it 8pm instead")
    at = next_at(19).replace(hour=20)  # 8pm on the evening it was to go: tomorrow's once 7pm has passed
    assert call.gather().find("Say").text == f"Changed. I'll text Sarah Lee at 8:00 PM on {at:%A}: dinner? {GO_AHEAD}"
    assert "/confirm" in call.action()
    assert sms_to_sarah(api) == []
    call.speak("yes")
    assert call.said().startswith("Scheduled.")
    [sms] = sms_to_sarah(api)
    assert (sms["status"], sms["text"], datetime.fromisoformat(sms["date_scheduled"])) == ("scheduled", "dinner?", at)


def test_send_it_now_at_the_read_back_sends_a_scheduled_text_now(cody, api, pin):
    call = authenticated(cody, 35)
    call.speak("text Sarah at 7pm: dinner?")
    assert "at 7:00 PM" in call.gather().find("Say").text
    call.speak("send it now")
    assert call.said().startswith("Sent.")
    [sms] = sms_to_sarah(api)
    assert (sms["text"], sms["date_scheduled"]) == ("dinner?", None)
    assert sms["status"] in ("sent", "delivered")


def test_new_words_at_the_read_back_are_read_again(cody, api, pin):
    call = authenticated(cody, 32)
    call.speak(REQUEST)
    call.speak("change it to say I'm stuck in traffic")
    assert call.gather().find("Say").text == f"Changed. I'll text Sarah Lee: I'm stuck in traffic. {GO_AHEAD}"
    call.speak("yes")
    assert [m["text"] for m in sms_to_sarah(api)] == ["I'm stuck in traffic"]


def test_words_for_a_call_change_nothing_and_the_call_still_waits_for_a_yes(cody, api, factory, pin):
    call = authenticated(cody, 33)
    call.speak("call John")
    call.speak("change it to Sarah")
    assert call.gather().find("Say").text == (
        "A call has no words to change, so the call to John Park is as it was. To call Sarah instead, ask me again: "
        f"\u201ccall Sarah\u201d. I'll call John Park. {GO_AHEAD}")
    call.speak("no")
    assert call.said().startswith("Cancelled, nothing was sent.")
    with factory() as session:
        assert session.scalar(select(Draft.state)) == "canceled"
    assert count(factory, Activity, Activity.type == "call") == 0


def test_a_time_already_past_at_the_read_back_drops_the_draft_and_says_why(cody, api, factory, pin):
    call = authenticated(cody, 34)
    call.speak("text Sarah at 7pm: dinner?")
    call.speak("move it to today at 12:01am")
    assert "It can't go out yet:" in call.said() and "Nothing was sent." in call.said()
    assert "/request" in call.action()
    with factory() as session:
        assert session.scalar(select(Draft.state)) == "canceled"
    assert sms_to_sarah(api) == []


def test_cancel_it_after_a_scheduled_text_is_read_back_as_a_cancel(cody, api, pin):
    call = authenticated(cody, 35)
    call.speak("text Sarah at 7pm: dinner?")
    call.speak("yes")
    [scheduled] = sms_to_sarah(api)
    call.speak("wait, cancel that")
    assert call.gather().find("Say").text.startswith("I'll cancel the 7 PM text to Sarah Lee")
    assert call.gather().find("Say").text.endswith(": dinner? Shall I? Say yes to cancel it, or no to keep it.")
    call.speak("yes")
    assert call.said().startswith("Canceled: the 7:00 PM text to Sarah Lee")
    assert [(m["id"], m["status"]) for m in sms_to_sarah(api)] == [(scheduled["id"], "draft")]


def confirm_in_the_chat(api, factory, *names: str) -> None:
    """Confirm, from the chat's Confirm button, the voice call's drafts to these people while the call waits."""
    with factory() as session:
        waiting = session.scalars(select(Draft).where(Draft.state == "pending")).all()
        ids = [d.id for d in waiting if d.preview.get("contact_name") in names]
    assert len(ids) == len(names)
    for draft_id in ids:
        confirmed = api.post(f"/api/chat/drafts/{draft_id}/confirm")
        assert confirmed.status_code == 200, confirmed.text


def test_a_no_to_a_draft_sent_meanwhile_from_the_chat_says_it_was_already_sent(cody, api, factory, pin):
    call = authenticated(cody, 40)
    call.speak(REQUEST)
    confirm_in_the_chat(api, factory, "Sarah Lee")
    call.speak("no")
    assert call.said().startswith("That was already sent, so it can't be canceled. Anything else?")
    assert "Cancelled" not in call.said() and "/request" in call.action()
    assert [m["text"] for m in sms_to_sarah(api)] == ["I'm running late"] and sent_by_carrier(cody) == 1


def test_a_no_to_a_text_scheduled_meanwhile_says_so_and_how_to_stop_it(cody, api, factory, pin):
    call = authenticated(cody, 41)
    call.speak("text Sarah at 7pm: dinner?")
    confirm_in_the_chat(api, factory, "Sarah Lee")
    call.speak("no")
    assert call.said().startswith("That was already scheduled, so it can't be canceled. To stop it, ask me to cancel "
                                  "the text.")
    assert [m["status"] for m in sms_to_sarah(api)] == ["scheduled"]


def test_a_no_to_a_household_says_whose_draft_went_meanwhile_and_drops_the_rest(cody, api, factory, pin):
    call = authenticated(cody, 42)
    call.speak("text the Smiths see you at 7")
    confirm_in_the_chat(api, factory, "Mary Smith")
    call.speak("no")
    assert call.said().startswith("Cancelled for David Smith. Mary Smith: That was already sent, so it can't be "
                                  "canceled.")
    sent = [m["remote_phone"] for m in api.get("/api/v1/activity/sms/").json()["data"] if m["direction"] == "outbound"]
    assert sent == [MARY]
    with factory() as session:
        assert sorted(session.scalars(select(Draft.state))) == ["canceled", "executed"]


def test_two_requests_and_a_bare_number_are_read_back_as_people_say_them(cody, api, pin):
    call = authenticated(cody, 43)
    call.speak("call John and text 415-555-0177 I'm on my way")
    assert call.gather().find("Say").text == f"I'll call John Park. I'll text (415) 555-0177: I'm on my way. {GO_AHEAD}"


# -- nothing is sent without the PIN and a yes --------------------------------------------------------------


def test_three_wrong_pins_hang_up_and_nothing_can_be_sent(cody, api, factory, pin):
    call = Call(cody, sid(3))
    call.dial()
    for attempt in range(1, PIN_TRIES):
        call.press("0000")
        assert "That PIN is not right" in call.said() and call.action() == f"{COMMAND}/pin?turn={attempt}"
    call.press("1111")
    assert [v.tag for v in call.root] == ["Say", "Hangup"] and "not right" in call.said()
    for step, turn in (("pin", PIN_TRIES), ("request", PIN_TRIES), ("confirm", PIN_TRIES)):
        answer = cody.post_twilio(f"{COMMAND}/{step}?turn={turn}", call.form(("Digits", PIN),
                                                                               ("SpeechResult", "yes")))
        assert verbs(answer.text) == ["Say", "Hangup"]
    assert count(factory, Draft) == 0 and sms_to_sarah(api) == [] and sent_by_carrier(cody) == 0


@pytest.mark.parametrize("answer", ["no", "", "what?", "yes and also call John", "cancel"])
def test_anything_but_a_clear_yes_cancels_the_draft(cody, api, factory, pin, answer):
    call = authenticated(cody, 4)
    call.speak(REQUEST)
    call.speak(answer)
    assert call.said().startswith("Cancelled, nothing was sent.") and "/request" in call.action()
    with factory() as session:
        assert session.scalar(select(Draft.state)) == "canceled"
    assert sms_to_sarah(api) == [] and sent_by_carrier(cody) == 0


def test_confirm_and_request_refuse_a_call_that_never_passed_the_pin(cody, api, factory, pin):
    waiting = api.post("/api/chat/messages", json={"text": "text Sarah hi"}).json()["drafts"][0]
    prompted = Call(cody, sid(5))
    prompted.dial()  # asked for the PIN, never keyed it
    strangers = [prompted, Call(cody, sid(6))]  # the second never called at all
    for call in strangers:
        for turn in range(3):
            for step, words in (("request", REQUEST), ("confirm", "yes")):
                answer = cody.post_twilio(f"{COMMAND}/{step}?turn={turn}", call.form(("SpeechResult", words)))
                assert answer.status_code == 200 and verbs(answer.text) == ["Say", "Hangup"]
    assert api.get(f"/api/chat/drafts/{waiting['id']}").json()["state"] == "pending"
    assert count(factory, Draft) == 1 and sms_to_sarah(api) == [] and sent_by_carrier(cody) == 0


def test_too_many_wrong_pins_across_calls_lock_voice_commands(cody, api, factory, pin):
    wrong = 0
    for n in range(10, 20):
        call = Call(cody, sid(n))
        call.dial()
        while wrong < LOCKOUT_FAILURES and call.root.find("Gather") is not None:
            call.press("9999")
            wrong += 1
        if wrong == LOCKOUT_FAILURES:
            break
    call = Call(cody, sid(20))
    call.dial()
    call.press(pin)  # the right PIN, too late
    assert "paused" in call.said() and [v.tag for v in call.root] == ["Say", "Hangup"]


# -- other callers, retries, signatures ---------------------------------------------------------------------


def test_any_other_caller_is_forwarded_as_before(cody, factory, pin):
    answer = cody.post_twilio(VOICE, Call(cody, sid(7), from_=SARAH).form())
    dial = twiml(answer.text).find("Dial")
    assert dial.find("Number").text == FORWARDING
    assert count(factory, VoiceCommandSession) == 0


def test_without_a_pin_the_users_own_phone_reaches_voicemail_as_before(cody, factory):
    answer = cody.post_twilio(VOICE, Call(cody, sid(8)).form())
    assert verbs(answer.text) == ["Say", "Record", "Say", "Hangup"]
    assert count(factory, VoiceCommandSession) == 0


def test_on_a_group_line_the_member_whose_phone_calls_is_asked_for_their_pin(cody, factory, demo, pin):
    with transaction(factory) as session:
        session.execute(update(PhoneNumber).where(PhoneNumber.number == DEMO_NUMBER)
                        .values(sharing="group", user_id=None))
    call = Call(cody, sid(9))
    call.dial()
    call.press(pin)
    assert "What would you like me to do?" in call.said()


def test_retried_webhooks_draft_once_and_send_once(cody, api, factory, pin):
    call = Call(cody, sid(21))
    assert ElementTree.tostring(call.dial()) == ElementTree.tostring(call.dial())  # the inbound webhook again
    call.press(pin)
    request = call.action()
    call.speak(REQUEST)
    confirm, read_back = call.action(), call.gather().find("Say").text
    retried = cody.post_twilio(request, call.form(("SpeechResult", REQUEST)))
    assert twiml(retried.text).find("Gather/Say").text == read_back
    assert count(factory, Draft) == 1
    call.speak("yes")
    for _ in range(2):
        again = twiml(cody.post_twilio(confirm, call.form(("SpeechResult", "yes"))).text)
        assert again.find("Gather/Say").text.startswith("That's already sent.")
    assert len(sms_to_sarah(api)) == 1 and sent_by_carrier(cody) == 1


def test_another_api_process_can_take_the_next_step(cody, api, db_url, factory, demo, pin):
    """The call's state is in the database: the PIN on one process, the request and the yes on another."""
    call = authenticated(cody, 22)
    with live_app(db_url, factory, demo.api_key) as other:
        call.cody = other
        call.speak(REQUEST)
        call.speak("yes")
    assert call.said().startswith("Sent.") and len(sms_to_sarah(api)) == 1


@pytest.mark.parametrize("path", ["", "/command/pin?turn=0", "/command/request?turn=1", "/command/confirm?turn=2"])
@pytest.mark.parametrize("signature", [None, "forged="])
def test_forged_voice_command_webhooks_are_refused_and_store_nothing(cody, api, factory, pin, path, signature):
    form = Call(cody, sid(23)).form(("Digits", PIN), ("SpeechResult", "yes"))
    assert cody.post_twilio(VOICE + path, form, signature=signature).status_code == 403
    assert count(factory, VoiceCommandSession) == 0 and count(factory, WebhookReceipt) == 0
    assert count(factory, Draft) == 0 and sms_to_sarah(api) == []


@pytest.mark.postgres
class TestOnPostgres:
    @pytest.fixture
    def db_url(self, pg_url) -> str:
        return pg_url

    def test_the_flow_and_its_retries(self, cody, api, factory, pin):
        call = authenticated(cody, 24)
        call.speak(REQUEST)
        confirm = call.action()
        call.speak("yes")
        again = twiml(cody.post_twilio(confirm, call.form(("SpeechResult", "yes"))).text)
        assert again.find("Gather/Say").text.startswith("That's already sent.")
        assert len(sms_to_sarah(api)) == 1 and sent_by_carrier(cody) == 1
        wrong = Call(cody, sid(25))
        wrong.dial()
        for _ in range(PIN_TRIES):
            wrong.press("0000")
        assert [v.tag for v in wrong.root] == ["Say", "Hangup"]
        assert count(factory, VoiceCommandSession, VoiceCommandSession.failed_pins == PIN_TRIES) == 1
