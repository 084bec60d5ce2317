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
"""

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Activity, Organization, PhoneNumber, Thread, User, WebhookReceipt
from db.types import utcnow
from tools import threads
from tools.messaging import calls
from tools.messaging.inbound import match_contact, new_contact_for
from tools.phones import normalise
from tools.problems import Invalid
from tools.settings import TelephonySettings
from tools.telephony.signing import FormPairs
from tools.upsert import insert_ignore
from tools.voice import commands, twiml

log = logging.getLogger("cody.inbound")

NOT_IN_SERVICE = "The number you have called is not in service. Goodbye."


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
    caller = _e164_or_raw(form.get("From") or form.get("Caller") or "")
    commander = commands.commanding_user(session, number, caller)
    if commander is not None:
        return Answer(commands.start(session, settings, commander, org_id, sid))
    if not insert_ignore(session, WebhookReceipt, {"provider_sid": sid, "event": "voice:inbound",
                                                   "organization_id": org_id, "date_created": utcnow()},
                         ["provider_sid", "event"]):
        session.commit()
        activity = session.scalar(select(Activity).where(Activity.provider_sid == sid, Activity.type == "call"))
        if activity is None:  # the first delivery is still being handled: ask again in a moment
            return Answer(twiml.say_then("Please hold.", redirect=settings.public_base_url.rstrip("/")
                                         + calls.VOICE_PATH))
        thread = session.get(Thread, activity.thread_id) if activity.thread_id else None
        _, phone = forward_target(session, number, thread.assignee_id if thread else None, caller)
        return Answer(_decide(session, settings, number, activity, phone), activity)
    contact = match_contact(session, org_id, caller) or new_contact_for(session, org_id, caller)
    thread = threads.thread_for(session, org_id, contact.id, contact.lead_id)
    owner, phone = forward_target(session, number, thread.assignee_id, caller)
    activity = calls.log_inbound_call(session, org_id, contact, sid, number.number, caller,
                                      owner or thread.assignee_id or number.user_id)
    answer = _decide(session, settings, number, activity, phone)
    session.commit()
    session.refresh(activity)
    return Answer(answer, activity)


def forward_target(session: Session, number: PhoneNumber, assignee_id: str | None,
                   caller: str) -> tuple[str | None, str | None]:
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


def _e164_or_raw(raw: str) -> str:
    try:
        return normalise(raw, None, field="From").e164
    except Invalid:
        return raw
