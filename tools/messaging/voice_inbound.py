"""Incoming calls: the dialled number finds the workspace; the call rings the owner's own phone, else voicemail.

Like incoming texts: routed by the dialled number, deduplicated by CallSid, the caller matched to a contact (or
made one), logged on the contact's thread. What happens next is decided by TwiML:

- the number's forward_to, else its owner's forwarding phone, else the thread assignee's, rings for 20 s;
- unanswered (or nobody to ring), the caller hears a greeting and may leave a voicemail (<Record>);
- a caller who hangs up first leaves a missed call. Voicemails and missed calls land in the Inbox.

With the workspace's voice agent on, Cody answers instead (<Gather input="speech">, see calls.agent_turn) and a
caller who says nothing is offered voicemail.

A user calling from their own (forwarding) phone who has set a voice PIN is asked for it instead: a voice command
call (tools/voice/commands.py), not a call from a contact, so it is not logged as one. Without a PIN, their call
goes on as any other.

A caller who withheld their number (caller_number) is rung through and logged like any other, and their missed call
or voicemail lands in the Inbox, but they are matched to no contact and made none: the call has no contact, lead,
thread or remote phone, and nobody is offered a text-back, since there is no number to text.
"""

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Activity, Contact, Organization, PhoneNumber, Thread, User, WebhookReceipt
from db.types import utcnow
from tools import threads
from tools.messaging import calls
from tools.messaging.inbound import contact_for_new_sender, e164_or_raw, match_contact
from tools.settings import TelephonySettings
from tools.telephony.signing import FormPairs
from tools.upsert import insert_ignore
from tools.voice import commands, twiml

log = logging.getLogger("cody.inbound")

NOT_IN_SERVICE = "The number you have called is not in service. Goodbye."
# What Twilio puts in From, besides words, when the caller withheld their number: ANONYMOUS, RESTRICTED, BLOCKED,
# UNKNOWN and UNAVAILABLE spelled on a phone keypad. None is a valid phone number.
WITHHELD_KEYPAD_SPELLINGS = frozenset({"+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253"})


@dataclass(frozen=True)
class Answer:
    """The TwiML to answer with, and the call it is about (None for a number nobody here owns)."""

    twiml: str
    activity: Activity | None = None


def receive_call(session: Session, settings: TelephonySettings, form: FormPairs) -> Answer:
    """Log an incoming call once and say what it does; a repeated webhook gets the same answer, logs nothing."""
    sid, to = form.get("CallSid") or "", form.get("To") or form.get("Called") or ""
    if not sid:
        return Answer(twiml.hangup())
    number = session.scalar(select(PhoneNumber).where(PhoneNumber.number == to, PhoneNumber.status == "active",
                                                      PhoneNumber.number_type == "internal"))
    if number is None or not number.voice:
        log.info("incoming call to %s: not an active business line with voice", to)
        return Answer(twiml.say_then(NOT_IN_SERVICE))
    org_id = number.organization_id
    caller = caller_number(form.get("From") or form.get("Caller") or "")
    commander = commands.commanding_user(session, number, caller) if caller is not None else None
    if commander is not None:
        return Answer(commands.start(session, settings, commander, org_id, sid))
    if not insert_ignore(session, WebhookReceipt, {"provider_sid": sid, "event": "voice:inbound",
                                                   "organization_id": org_id, "date_created": utcnow()},
                         ["provider_sid", "event"]):
        session.commit()
        return _answer_again(session, settings, number, sid, caller)
    contact = _caller_contact(session, org_id, caller)
    assignee = threads.thread_for(session, org_id, contact.id, contact.lead_id).assignee_id if contact else None
    owner, phone = forward_target(session, number, assignee, caller)
    activity = calls.log_inbound_call(session, org_id, contact, sid, number.number, caller,
                                      owner or assignee or number.user_id)
    answer = _decide(session, settings, number, activity, phone)
    session.commit()
    session.refresh(activity)
    return Answer(answer, activity)


def caller_number(raw: str) -> str | None:
    """The caller's number (E.164 when it is a valid one); None when the caller withheld it: an empty From, a word
    (anonymous, Restricted, Unknown, Private, ...: no digit at all) or Twilio's keypad spelling of one."""
    raw = raw.strip()
    if raw in WITHHELD_KEYPAD_SPELLINGS or not any(c.isdigit() for c in raw):
        return None
    return e164_or_raw(raw)


def _caller_contact(session: Session, organization_id: str, caller: str | None) -> Contact | None:
    """The caller's contact, made when nobody has their number; none for a withheld number, which is nobody's (all
    withheld callers would otherwise be one contact, sharing a thread and a call history)."""
    if caller is None:
        return None
    return match_contact(session, organization_id, caller) or contact_for_new_sender(session, organization_id, caller)


def _answer_again(session: Session, settings: TelephonySettings, number: PhoneNumber, sid: str,
                  caller: str | None) -> Answer:
    """A repeated webhook: the call already logged, and the same TwiML."""
    activity = session.scalar(select(Activity).where(Activity.provider_sid == sid, Activity.type == "call"))
    if activity is None:  # the first delivery is still being handled: ask again in a moment
        return Answer(twiml.say_then("Please hold.", redirect=settings.public_base_url.rstrip("/") + calls.VOICE_PATH))
    thread = session.get(Thread, activity.thread_id) if activity.thread_id else None
    _, phone = forward_target(session, number, thread.assignee_id if thread else None, caller)
    return Answer(_decide(session, settings, number, activity, phone), activity)


def forward_target(session: Session, number: PhoneNumber, assignee_id: str | None,
                   caller: str | None) -> tuple[str | None, str | None]:
    """(user, phone) to ring: the number's forward_to, its owner's forwarding phone, or the thread assignee's.

    Never the phone that is calling (someone calling their own business line goes to voicemail).
    """
    candidates: list[tuple[str | None, str | None]] = []
    if number.forward_to:
        candidates.append((number.user_id, number.forward_to))
    for user_id in (number.user_id, assignee_id):
        if user_id:
            user = session.get(User, user_id)
            if user is not None and user.forwarding_phone:
                candidates.append((user.id, user.forwarding_phone))
    for user_id, phone in candidates:
        if phone and phone != caller:
            return user_id, phone
    return None, None


def _decide(session: Session, settings: TelephonySettings, number: PhoneNumber, activity: Activity,
            phone: str | None) -> str:
    org = session.get(Organization, number.organization_id)
    if org.voice_agent_enabled:
        return calls.agent_greeting_twiml(session, settings, activity)
    if phone:
        return twiml.forward_call(phone, calls.callback_url(settings, calls.DIAL_ACTION_PATH, activity.id),
                                  bool(org.recording_enabled),
                                  calls.callback_url(settings, calls.RECORDING_PATH, activity.id))
    return calls.voicemail_twiml(session, settings, activity)


