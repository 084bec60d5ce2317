"""Calls: click-to-call (prepare, execute), the call log, and every status, dial, voicemail and recording callback.

Click-to-call rings the user's own phone (their forwarding phone) first; when they answer, Twilio fetches the
connect TwiML, which <Dial>s the contact with the business number as caller ID. The Call activity exists before
the carrier is asked, and only the callbacks below move it on:

    queued -> ringing -> in-progress -> completed | busy | no-answer | failed | canceled   (outbound)
    ringing -> completed | voicemail | missed                                             (inbound)

Progress only moves forward; the Dial result (`disposition` set) is the word on how the contact leg ended, and a
final status is never replaced except by a voicemail that arrives after its call was counted as missed. Every
callback is deduplicated by a WebhookReceipt, so Twilio's retries change nothing.

A click-to-call is accepted when a key is pressed on the user's phone: `handled_by` becomes "user" before the
contact is dialled. The first leg's `completed` says little on its own, as it may come before or after the Dial
result: an accepted call waits for the Dial result; a call never accepted and without one was never connected
(the user hung up during the prompt, so Twilio asked no <Gather> action) and ends `canceled`.
"""

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta

from phonenumbers import PhoneNumber
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.models import Activity, Contact, ContactPhone, Organization, User, WebhookReceipt
from db.types import utcnow
from tools import inbox, threads
from tools.activities import SharedFilter, narrowed, refuse_unknown_choices
from tools.context import Ctx
from tools.messaging import checks, parties
from tools.messaging.idempotency import key_columns, made_before
from tools.messaging.inbound import match_contact
from tools.messaging.sender import choose_sender
from tools.paging import Page, PageRequest, fetch_page
from tools.phones import format_phone, normalise
from tools.problems import Conflict, Invalid, NotFound, Problem
from tools.settings import TelephonySettings
from tools.telephony.base import OutboundCall, Provider, ProviderError
from tools.telephony.errors import describe_error, problem_code
from tools.telephony.signing import FormPairs
from tools.upsert import insert_ignore
from tools.voice import twiml
from tools.voice.agent import NO_MODEL_REPLY, agent_reply
from tools.voice.intelligence import Intelligence, IntelligenceError
from tools.voice.recordings import RecordingUnavailable, audio_url, fetch_recording

log = logging.getLogger("cody.calls")

VOICE_PATH = "/api/webhooks/twilio/voice"
STATUS_PATH = VOICE_PATH + "/status"
CONNECT_PATH = VOICE_PATH + "/connect"
ACCEPT_PATH = VOICE_PATH + "/accept"
DIAL_ACTION_PATH = VOICE_PATH + "/dial-action"
VOICEMAIL_PATH = VOICE_PATH + "/voicemail"
RECORDING_PATH = VOICE_PATH + "/recording"
AGENT_PATH = VOICE_PATH + "/agent"
AGENT_TURNS = 4  # the voice agent answers this many times, then takes its leave

PROGRESS = {"queued": 0, "ringing": 1, "in-progress": 2}
FINAL = ("completed", "busy", "no-answer", "failed", "canceled", "missed", "voicemail")
CALL_STATUSES = tuple(PROGRESS) + FINAL
DIRECTIONS = ("inbound", "outbound")
HANDLERS = ("user", "ai")
# Twilio's DialCallStatus -> (our status, Close's disposition) for the leg to the contact.
DIAL_OUTCOME = {
    "completed": ("completed", "answered"),
    "answered": ("completed", "answered"),
    "busy": ("busy", "busy"),
    "no-answer": ("no-answer", "no-answer"),
    "failed": ("failed", "error"),
    "canceled": ("canceled", "no-answer"),
}
# The user's own phone (the first leg) ended before the contact was dialled.
FIRST_LEG_OUTCOME = {"busy": ("busy", "busy"), "no-answer": ("no-answer", "no-answer"),
                     "failed": ("failed", "error"), "canceled": ("canceled", "no-answer")}


# -- click-to-call ------------------------------------------------------------------------------------------


class CallRequest(BaseModel):
    """One click-to-call: a contact (their first phone) or a bare number; optionally which business line."""

    contact_id: str | None = Field(default=None, max_length=40)
    remote_phone: str | None = Field(default=None, max_length=64)
    local_phone: str | None = Field(default=None, max_length=64)


@dataclass(frozen=True)
class PreparedCall:
    """The call prepare_call resolved, with every problem found; nothing was changed."""

    request: CallRequest
    organization_id: str
    user_id: str | None
    contact_id: str | None
    lead_id: str | None
    contact_name: str | None
    to: str | None
    from_: str | None
    phone_number_id: str | None
    forwarding_phone: str | None
    record: bool
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def preview(self) -> dict:
        return {"contact_id": self.contact_id, "contact_name": self.contact_name, "to": self.to,
                "from": self.from_, "forwarding_phone": self.forwarding_phone, "record": self.record}

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.preview(), sort_keys=True).encode()).hexdigest()

    def problems_as_dicts(self) -> list[dict]:
        return [asdict(p) for p in self.problems]


def prepare_call(session: Session, ctx: Ctx, req: CallRequest) -> PreparedCall:
    """Who is called, from which line, which phone rings first, and every problem; changes nothing."""
    problems: list[Problem] = []
    contact, to, region, number = None, None, None, None
    if req.contact_id:
        contact = session.scalar(select(Contact).where(Contact.id == req.contact_id,
                                                       Contact.organization_id == ctx.organization_id))
        if contact is None:
            problems.append(Problem("not_found", "contact_id", "Contact not found."))
    elif not req.remote_phone:
        problems.append(Problem("required", "contact_id", "Give contact_id or remote_phone."))
    raw = req.remote_phone or _callable_phone(contact)
    field_name = "remote_phone" if req.remote_phone or contact is None else "contact_id"
    if contact is not None and not raw:
        who = contact.name or "The contact"
        problems.append(Problem("no_phone", "contact_id", f"{who} has no phone number to call."))
    elif raw:
        try:
            phone = normalise(raw, "US", field="remote_phone")
            to, region, number = phone.e164, phone.region, phone.number
        except Invalid as exc:
            problems += exc.problems
    elsewhere = parties.phone_problem(contact, to, alone="call") if req.remote_phone else None
    if elsewhere is not None:
        problems.append(elsewhere)
    if to and contact is None and not req.contact_id:
        contact = match_contact(session, ctx.organization_id, to)
    barred = _do_not_call(session, ctx.organization_id, contact, to)
    if barred is not None:
        problems.append(Problem("do_not_call", field_name,
                                f"{barred.name or format_phone(to)} is marked Do Not Call; remove the mark to call."))
    sender, sender_problems = choose_sender(session, ctx, region, req.local_phone, "voice")
    # A business line can call abroad; only a missing line or a line without voice stops the call.
    problems += [p for p in sender_problems if p.code != "country_mismatch"]
    problems += [p for p in (checks.same_line(to, sender.number if sender else None, "call"),) if p is not None]
    user = session.get(User, ctx.user_id) if ctx.user_id else None
    forwarding = user.forwarding_phone if user else None
    if not forwarding:
        problems.append(Problem("no_forwarding_phone", "forwarding_phone",
                                "Add your own phone first (Settings, Forwarding phone): Cody rings it, then connects "
                                "the call."))
    org = session.get(Organization, ctx.organization_id)
    if number is not None:
        problems += _quiet_hours(org, number, field_name)
    return PreparedCall(
        request=req, organization_id=ctx.organization_id, user_id=ctx.user_id,
        contact_id=contact.id if contact else None, lead_id=contact.lead_id if contact else None,
        contact_name=contact.name if contact else None, to=to,
        from_=sender.number if sender is not None else None, phone_number_id=sender.id if sender is not None else None,
        forwarding_phone=forwarding, record=bool(org.recording_enabled), problems=_dedupe(problems),
    )


def execute_call(session: Session, ctx: Ctx, provider: Provider, settings: TelephonySettings, req: CallRequest,
                 expected_fingerprint: str | None = None) -> Activity:
    """Re-check, save the Call activity, then ask the carrier to ring the user's phone."""
    existing = made_before(session, ctx, "call", req)
    if existing is not None:
        return existing
    prepared = prepare_call(session, ctx, req)
    if prepared.problems:
        raise Invalid(prepared.problems)
    if expected_fingerprint is not None and expected_fingerprint != prepared.fingerprint():
        raise Conflict("The call changed since it was previewed; review it again before calling.")
    now = utcnow()
    activity = Activity(
        organization_id=ctx.organization_id, type="call", direction="outbound", status="queued", source="Close.io",
        lead_id=prepared.lead_id, contact_id=prepared.contact_id, user_id=ctx.user_id, created_by=ctx.user_id,
        updated_by=ctx.user_id, activity_at=now, channel=ctx.channel, **key_columns(ctx, req),
        local_phone=prepared.from_, remote_phone=prepared.to, text="", attempts=1,
    )
    try:
        session.add(activity)
        if prepared.contact_id:
            thread = threads.touched_thread(session, ctx.organization_id, prepared.contact_id, prepared.lead_id, now)
            activity.thread_id = thread.id
            threads.assign_after_outbound(session, thread, ctx.user_id)
        session.flush()
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = made_before(session, ctx, "call", req)
        if existing is None:
            raise
        return existing
    call = OutboundCall(to=prepared.forwarding_phone, from_=prepared.from_,
                        url=callback_url(settings, CONNECT_PATH, activity.id),
                        status_callback=callback_url(settings, STATUS_PATH, activity.id))
    try:
        result = provider.start_call(call)
    except ProviderError as exc:
        message = describe_error(exc.code) if exc.code else exc.message
        log.info("call %s failed to start: %s", activity.id, message)
        session.execute(update(Activity).where(Activity.id == activity.id, Activity.status == "queued")
                        .values(status="failed", disposition="blocked" if exc.code else "error", error_message=message,
                                error_code=problem_code(exc.code), date_ended=utcnow(), date_updated=utcnow())
                        .execution_options(synchronize_session=False))
    else:
        # A fast callback may already have linked the sid through the activity_id in its URL.
        session.execute(update(Activity).where(Activity.id == activity.id, Activity.provider_sid.is_(None))
                        .values(provider_sid=result.sid, date_updated=utcnow())
                        .execution_options(synchronize_session=False))
    session.commit()
    session.refresh(activity)
    return activity


def connect_twiml(session: Session, settings: TelephonySettings, activity_id: str | None) -> str:
    """What Twilio plays once the user's phone answered: a key to press first, so that a voicemail that took the
    call never rings the contact."""
    activity = _connectable(session, activity_id)
    if activity is None:
        return twiml.say_then(NOT_CONNECTABLE)
    return twiml.ask_to_connect(f"Cody: your call to {_who(session, activity)}. Press any key to connect.",
                                callback_url(settings, ACCEPT_PATH, activity.id))


def accept_twiml(session: Session, settings: TelephonySettings, activity_id: str | None, digits: str) -> str:
    """The user's phone pressed a key: the user took the call (`handled_by` "user", committed before the contact is
    dialled), dial the contact from the business number. No key (a voicemail, or nobody listening): the call ends
    without ringing the contact, logged as not answered on the user's side."""
    activity = _connectable(session, activity_id)
    if activity is None:
        return twiml.say_then(NOT_CONNECTABLE)
    who = _who(session, activity)
    if not digits:
        _not_accepted(session, activity)
        return twiml.say_then(f"No key was pressed, so {who} was not called. Goodbye.")
    if not _accepted(session, activity):  # the call ended (its end was logged) while the key was on its way
        return twiml.say_then(NOT_CONNECTABLE)
    org = session.get(Organization, activity.organization_id)
    return twiml.connect_call(activity.remote_phone, activity.local_phone,
                              callback_url(settings, DIAL_ACTION_PATH, activity.id), bool(org.recording_enabled),
                              callback_url(settings, RECORDING_PATH, activity.id), announce=f"Calling {who}.")


NOT_CONNECTABLE = "This call can't be connected any more. Goodbye."
NOT_ACCEPTED = "No key was pressed on your phone (its voicemail may have answered), so the contact was not called."
ENDED_BEFORE_KEY = "Your call ended before a key was pressed on your phone, so the contact was not called."


def _connectable(session: Session, activity_id: str | None) -> Activity | None:
    activity = _call(session, activity_id)
    if activity is None or activity.direction != "outbound" or activity.status in FINAL or not activity.remote_phone:
        return None
    return activity


def _who(session: Session, activity: Activity) -> str:
    contact = session.get(Contact, activity.contact_id) if activity.contact_id else None
    return contact.name if contact is not None and contact.name else format_phone(activity.remote_phone)


def _accepted(session: Session, activity: Activity) -> bool:
    """Mark the call taken by the user, unless it ended already; one conditional UPDATE, so that a status callback
    saying the call ended either comes first (and nobody is dialled) or sees the call as accepted."""
    result = session.execute(update(Activity).where(Activity.id == activity.id, Activity.status.notin_(FINAL))
                             .values(handled_by="user", date_updated=utcnow())
                             .execution_options(synchronize_session=False))
    session.commit()
    return result.rowcount == 1


def _not_accepted(session: Session, activity: Activity) -> None:
    session.execute(update(Activity).where(Activity.id == activity.id, Activity.status.notin_(FINAL))
                    .values(**_outcome_values("no-answer", "no-answer", 0), error_message=NOT_ACCEPTED)
                    .execution_options(synchronize_session=False))
    session.commit()


# -- callbacks ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallUpdate:
    """What a callback did: the call (if known), the final status it newly reached, if any, and whether that took
    back a missed call (one counted as missed before its answered <Dial> result came)."""

    activity: Activity | None
    became: str | None = None
    unmissed: bool = False


def apply_call_status(session: Session, form: FormPairs, activity_id: str | None) -> CallUpdate:
    """A status callback of the first leg (click-to-call) or of an incoming call (the number's status callback)."""
    sid, status = form.get("CallSid") or "", (form.get("CallStatus") or "").lower()
    if not sid or not status or not _first_time(session, sid, f"call:{status}"):
        return CallUpdate(_call(session, activity_id, sid))
    activity = _call(session, activity_id, sid)
    if activity is None:
        session.commit()
        return CallUpdate(None)
    _link_sid(session, activity, sid)
    became = None
    if status in ("ringing", "in-progress") and activity.direction == "outbound":
        _advance(session, activity, status)
    elif status in FIRST_LEG_OUTCOME or status == "completed":
        became = _leg_ended(session, activity, status, _int(form.get("CallDuration")))
    session.commit()
    session.refresh(activity)
    return CallUpdate(activity, became)


def apply_dial_result(session: Session, settings: TelephonySettings, form: FormPairs,
                      activity_id: str | None) -> tuple[str, CallUpdate]:
    """The <Dial> ended: log how, and answer what the call does next (hang up, or voicemail for an inbound)."""
    sid, dial_status = form.get("CallSid") or "", (form.get("DialCallStatus") or "").lower()
    duration = _int(form.get("DialCallDuration")) or 0
    fresh = bool(sid) and _first_time(session, sid, f"dial:{form.get('DialCallSid') or dial_status}")
    activity = _call(session, activity_id, sid)
    if activity is None:
        session.commit()
        return twiml.hangup(), CallUpdate(None)
    answered = dial_status in ("completed", "answered") and (duration > 0 or dial_status == "answered")
    became, unmissed = None, False
    if activity.direction == "outbound":
        if fresh and dial_status in DIAL_OUTCOME:
            became = _dial_outcome(session, activity, *DIAL_OUTCOME[dial_status], duration)
        answer = twiml.hangup()
    elif answered:
        if fresh:
            became = _dial_outcome(session, activity, "completed", "answered", duration)
            if became is None and _answered_after_all(session, activity, duration):
                became, unmissed = "completed", True
        answer = twiml.hangup()
    elif dial_status == "canceled":  # the caller hung up while the owner's phone rang
        if fresh:
            became = _missed(session, activity, "no-answer")
        answer = twiml.hangup()
    else:
        if fresh:
            session.execute(update(Activity).where(Activity.id == activity.id, Activity.disposition.is_(None))
                            .values(disposition="vm-answer", date_updated=utcnow())
                            .execution_options(synchronize_session=False))
        answer = voicemail_twiml(session, settings, activity)
    session.commit()
    session.refresh(activity)
    return answer, CallUpdate(activity, became, unmissed)


def voicemail_twiml(session: Session, settings: TelephonySettings, activity: Activity) -> str:
    org = session.get(Organization, activity.organization_id)
    greeting = (f"Hi, you've reached {org.name}. We can't take your call right now. "
                "Please leave a message after the beep.")
    return twiml.voicemail(greeting, callback_url(settings, VOICEMAIL_PATH, activity.id),
                           callback_url(settings, RECORDING_PATH, activity.id))


def apply_voicemail(session: Session, form: FormPairs, activity_id: str | None) -> tuple[str, CallUpdate]:
    """The <Record> ended: a message with sound in it makes the call a voicemail, with an Inbox item."""
    sid = form.get("CallSid") or ""
    url, seconds = form.get("RecordingUrl"), _int(form.get("RecordingDuration")) or 0
    fresh = bool(sid) and _first_time(session, sid, "voicemail")
    activity = _call(session, activity_id, sid)
    became = None
    if fresh and activity is not None and url and seconds > 0:
        now = utcnow()
        done = session.execute(
            update(Activity).where(Activity.id == activity.id,
                                   Activity.status.in_(tuple(PROGRESS) + ("missed",)))
            .values(status="voicemail", disposition="vm-left", recording_url=audio_url(url), duration=seconds,
                    date_ended=now, date_updated=now).execution_options(synchronize_session=False))
        if done.rowcount == 1:
            session.refresh(activity)
            inbox.create_inbox_items(session, activity, "voicemail")
            became = "voicemail"
    session.commit()
    if activity is not None:
        session.refresh(activity)
    return twiml.say_then("Thanks for your message. Goodbye."), CallUpdate(activity, became)


def apply_recording(session: Session, form: FormPairs, activity_id: str | None) -> Activity | None:
    """A recording is ready: keep its URL. Returns the call when it should now be transcribed."""
    recording_sid = form.get("RecordingSid") or ""
    status = (form.get("RecordingStatus") or "").lower()
    url = form.get("RecordingUrl")
    if not recording_sid or not _first_time(session, recording_sid, f"recording:{status}"):
        return None
    activity = _call(session, activity_id, form.get("CallSid"))
    if activity is None or status != "completed" or not url:
        session.commit()
        return None
    values = {"recording_url": audio_url(url), "date_updated": utcnow()}
    if activity.status == "voicemail" and not activity.duration:
        values["duration"] = _int(form.get("RecordingDuration"))
    session.execute(update(Activity).where(Activity.id == activity.id).values(**values)
                    .execution_options(synchronize_session=False))
    session.refresh(activity)
    transcribe = bool(session.scalar(select(Organization.transcription_enabled)
                                     .where(Organization.id == activity.organization_id)))
    session.commit()  # nothing stays locked while the transcription runs
    return activity if transcribe else None


def transcribe_call(factory: sessionmaker[Session], activity_id: str, intelligence: Intelligence,
                    settings: TelephonySettings, http=None) -> Activity | None:
    """Fetch the recording with the account's credentials, transcribe it, and keep the summary, sentiment and
    commitments. Without a model, or when anything fails, nothing is stored: nothing is invented."""
    with factory() as session:
        activity = session.get(Activity, activity_id)
        session.commit()  # no transaction (on SQLite, no write lock) is held during the network calls
        if activity is None or activity.type != "call" or not activity.recording_url or activity.transcript:
            return activity
        if not intelligence.available:
            return activity
        try:
            audio, content_type = fetch_recording(activity.recording_url, settings, http,
                                                  intelligence.settings.max_recording_bytes)
            transcript = intelligence.transcribe(audio, "recording" + _extension(content_type), content_type)
            insights = intelligence.analyse(transcript, _day(activity)) if transcript else None
        except (RecordingUnavailable, IntelligenceError) as exc:
            log.warning("call %s: no transcript: %s", activity_id, exc.message)
            return activity
        except Exception:  # a background job: log it, store nothing
            log.exception("call %s: transcription failed", activity_id)
            return activity
        values = {"transcript": transcript, "date_updated": utcnow()}
        if insights is not None:
            values |= {"summary": insights.summary, "sentiment": insights.sentiment,
                       "commitments": [c.model_dump() for c in insights.commitments]}
        session.execute(update(Activity).where(Activity.id == activity.id, Activity.transcript.is_(None))
                        .values(**values).execution_options(synchronize_session=False))
        session.commit()
        session.refresh(activity)
        return activity


def summarise_call(factory: sessionmaker[Session], activity_id: str, intelligence: Intelligence) -> Activity | None:
    """Summary, sentiment and commitments of a call whose transcript Cody already has (the voice agent's)."""
    with factory() as session:
        activity = session.get(Activity, activity_id)
        session.commit()
        if activity is None or not activity.transcript or activity.summary or not intelligence.available:
            return activity
        try:
            insights = intelligence.analyse(activity.transcript, _day(activity))
        except IntelligenceError as exc:
            log.warning("call %s: no summary: %s", activity_id, exc.message)
            return activity
        session.execute(update(Activity).where(Activity.id == activity.id, Activity.summary.is_(None))
                        .values(summary=insights.summary, sentiment=insights.sentiment,
                                commitments=[c.model_dump() for c in insights.commitments], date_updated=utcnow())
                        .execution_options(synchronize_session=False))
        session.commit()
        session.refresh(activity)
        return activity


# -- the voice agent ----------------------------------------------------------------------------------------


def agent_greeting_twiml(session: Session, settings: TelephonySettings, activity: Activity) -> str:
    org = session.get(Organization, activity.organization_id)
    greeting = f"Hi, you've reached {org.name}. I'm Cody, the automated assistant. How can I help?"
    return twiml.agent_turn(greeting, _agent_url(settings, activity.id, 1), voicemail_after=(
        "Sorry, I didn't catch that. Please leave a message after the beep.",
        callback_url(settings, VOICEMAIL_PATH, activity.id), callback_url(settings, RECORDING_PATH, activity.id)))


def agent_turn(session: Session, settings: TelephonySettings, intelligence: Intelligence, form: FormPairs,
               activity_id: str | None, turn: int) -> str:
    """The caller said something to the voice agent: answer from the business info and listen again.

    The conversation is kept as the call's transcript ("Caller: ..." / "Cody: ..."). No database lock is held
    while the model thinks.
    """
    sid, said = form.get("CallSid") or "", " ".join((form.get("SpeechResult") or "").split())[:1000]
    activity = _call(session, activity_id, sid)
    if activity is None or activity.direction != "inbound":
        session.commit()
        return twiml.hangup()
    fresh = bool(sid) and _first_time(session, sid, f"agent:{turn}")
    org = session.get(Organization, activity.organization_id)
    business, info, history = org.name, org.business_info, _turns(activity.transcript)
    session.commit()
    if not said:
        return voicemail_twiml(session, settings, activity)
    reply = agent_reply(intelligence, business, info, history, said)
    if fresh:
        lines = "\n".join(f"{who}: {words}" for who, words in [("Caller", said), ("Cody", reply)])
        transcript = f"{activity.transcript}\n{lines}" if activity.transcript else lines
        session.execute(update(Activity).where(Activity.id == activity.id)
                        .values(transcript=transcript, handled_by="ai", date_updated=utcnow())
                        .execution_options(synchronize_session=False))
        session.commit()
    if reply == NO_MODEL_REPLY:
        return twiml.voicemail(reply, callback_url(settings, VOICEMAIL_PATH, activity.id),
                               callback_url(settings, RECORDING_PATH, activity.id))
    if turn >= AGENT_TURNS:
        return twiml.say_then(f"{reply} I'll pass this on to the team. Thanks for calling, goodbye.")
    return twiml.agent_turn(reply, _agent_url(settings, activity.id, turn + 1))


def _agent_url(settings: TelephonySettings, activity_id: str, turn: int) -> str:
    return f"{callback_url(settings, AGENT_PATH, activity_id)}&turn={turn}"


def _turns(transcript: str | None) -> list[tuple[str, str]]:
    turns = []
    for line in (transcript or "").splitlines():
        who, _, words = line.partition(": ")
        if who in ("Caller", "Cody") and words:
            turns.append((who, words))
    return turns


# -- inbound calls (voice_inbound.py creates them) -------------------------------------------------------------


def log_inbound_call(session: Session, organization_id: str, contact: Contact | None, sid: str, local: str,
                     remote: str | None, user_id: str | None, handled_by: str | None = None) -> Activity:
    """The call on its contact's thread; a caller who withheld their number (no contact, no remote phone) on none."""
    now = utcnow()
    thread = (threads.touched_thread(session, organization_id, contact.id, contact.lead_id, now, inbound=True)
              if contact is not None else None)
    activity = Activity(
        organization_id=organization_id, type="call", direction="inbound", status="ringing", source="Close.io",
        lead_id=contact.lead_id if contact else None, contact_id=contact.id if contact else None,
        user_id=user_id or (thread.assignee_id if thread else None), thread_id=thread.id if thread else None,
        activity_at=now, channel="webhook", local_phone=local, remote_phone=remote, provider_sid=sid, text="",
        handled_by=handled_by,
    )
    session.add(activity)
    session.flush()
    return activity


# -- the call log -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallFilter(SharedFilter):
    """The call log's filters: the shared ones, and the call's own fields."""

    statuses: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    handled_by: tuple[str, ...] = ()


def get_call(session: Session, ctx: Ctx, activity_id: str) -> Activity:
    activity = session.scalar(select(Activity).where(Activity.id == activity_id, Activity.type == "call",
                                                     Activity.organization_id == ctx.organization_id))
    if activity is None:
        raise NotFound("Call activity not found.")
    return activity


def list_calls(session: Session, ctx: Ctx, page: PageRequest, filters: CallFilter = CallFilter()) -> Page:
    """The workspace's calls, newest first (then by id, so pages never overlap)."""
    refuse_unknown_choices(("status", filters.statuses, CALL_STATUSES), ("direction", filters.directions, DIRECTIONS),
                           ("handled_by", filters.handled_by, HANDLERS))
    stmt = narrowed(select(Activity).where(Activity.organization_id == ctx.organization_id, Activity.type == "call"),
                    filters, (Activity.status, filters.statuses), (Activity.direction, filters.directions),
                    (Activity.handled_by, filters.handled_by))
    return fetch_page(session, stmt.order_by(Activity.date_created.desc(), Activity.id.desc()), page)


def callback_url(settings: TelephonySettings, path: str, activity_id: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}{path}?activity_id={activity_id}"


# -- helpers ------------------------------------------------------------------------------------------------


def _do_not_call(session: Session, organization_id: str, contact: Contact | None, to: str | None) -> Contact | None:
    """The named contact if it is marked Do Not Call, else any contact of the workspace marked so with this number:
    the mark is about the person at the number, whichever contact the call is filed under."""
    if contact is not None and contact.do_not_call:
        return contact
    if to is None:
        return None
    return session.scalar(select(Contact).join(ContactPhone, ContactPhone.contact_id == Contact.id).where(
        ContactPhone.organization_id == organization_id, ContactPhone.phone == to, Contact.do_not_call.is_(True),
    ).limit(1))


def _quiet_hours(org: Organization, number: PhoneNumber, field_name: str) -> list[Problem]:
    """The workspace's quiet hours hold for calls as for texts; a call is placed now, so the fix is to wait."""
    found = checks.quiet_hours(number, utcnow(), org.quiet_hours_start, org.quiet_hours_end, org.timezone,
                               verb="call")
    return [replace(found, field=field_name)] if found is not None else []


def _callable_phone(contact: Contact | None) -> str | None:
    if contact is None:
        return None
    phones = [p for p in contact.phones if p.type not in ("fax", "url")]
    return phones[0].phone if phones else None


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        if (p.code, p.field) not in seen:
            seen.add((p.code, p.field))
            out.append(p)
    return out


def _first_time(session: Session, sid: str, event: str) -> bool:
    return insert_ignore(session, WebhookReceipt, {"provider_sid": sid, "event": event[:40], "date_created": utcnow()},
                         ["provider_sid", "event"])


def _call(session: Session, activity_id: str | None, sid: str | None = None) -> Activity | None:
    """The call a callback is about: by the activity id in our own (signed) URL, else by the carrier's sid."""
    if activity_id:
        found = session.scalar(select(Activity).where(Activity.id == activity_id, Activity.type == "call"))
        if found is not None:
            return found
    if sid:
        return session.scalar(select(Activity).where(Activity.provider_sid == sid, Activity.type == "call"))
    return None


def _link_sid(session: Session, activity: Activity, sid: str) -> None:
    if activity.provider_sid is None:
        session.execute(update(Activity).where(Activity.id == activity.id, Activity.provider_sid.is_(None))
                        .values(provider_sid=sid).execution_options(synchronize_session=False))


def _advance(session: Session, activity: Activity, status: str) -> None:
    earlier = [s for s, rank in PROGRESS.items() if rank < PROGRESS[status]]
    session.execute(update(Activity).where(Activity.id == activity.id, Activity.status.in_(earlier))
                    .values(status=status, date_updated=utcnow()).execution_options(synchronize_session=False))


def _leg_ended(session: Session, activity: Activity, status: str, seconds: int | None) -> str | None:
    """The first leg (outbound: the user's phone; inbound: the caller) hung up or never answered. An outbound call
    that ends `completed` was accepted (a key pressed: `handled_by` "user") or never connected to the contact."""
    if activity.direction == "inbound" and activity.handled_by == "ai":
        now = utcnow()
        result = session.execute(update(Activity).where(Activity.id == activity.id,
                                                        Activity.status.in_(tuple(PROGRESS)))
                                 .values(status="completed", disposition="answered", duration=seconds or 0,
                                         date_answered=activity.activity_at, date_ended=now, date_updated=now)
                                 .execution_options(synchronize_session=False))
        return "completed" if result.rowcount == 1 else None
    if activity.direction == "inbound":
        return _missed(session, activity, activity.disposition or "no-answer")
    now = utcnow()
    if status == "completed":
        # Never accepted (the user hung up during "Press any key to connect"; Twilio asks no <Gather> action then)
        # and no Dial result: the contact was never rung, and no Dial result will come.
        result = session.execute(update(Activity).where(Activity.id == activity.id, Activity.handled_by.is_(None),
                                                        Activity.disposition.is_(None),
                                                        Activity.status.in_(tuple(PROGRESS)))
                                 .values(**_outcome_values("canceled", "no-answer", 0), error_message=ENDED_BEFORE_KEY)
                                 .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            return "canceled"
        # Accepted: the Dial result, when it comes (before or after this), says how the contact leg went.
        values = {"status": "completed", "date_ended": now, "date_updated": now}
        result = session.execute(update(Activity).where(Activity.id == activity.id,
                                                        Activity.status.in_(tuple(PROGRESS)))
                                 .values(**values).execution_options(synchronize_session=False))
        return "completed" if result.rowcount == 1 else None
    new, disposition = FIRST_LEG_OUTCOME[status]
    values = {"status": new, "disposition": disposition, "date_ended": now, "date_updated": now, "duration": 0}
    if status == "failed":
        values["error_message"] = "Your own phone could not be reached; check your forwarding phone."
    result = session.execute(update(Activity).where(Activity.id == activity.id, Activity.disposition.is_(None),
                                                    Activity.status.in_(tuple(PROGRESS)))
                             .values(**values).execution_options(synchronize_session=False))
    return new if result.rowcount == 1 else None


def _dial_outcome(session: Session, activity: Activity, status: str, disposition: str, seconds: int) -> str | None:
    result = session.execute(update(Activity).where(Activity.id == activity.id, Activity.disposition.is_(None),
                                                    Activity.status.in_(tuple(PROGRESS) + ("completed",)))
                             .values(**_outcome_values(status, disposition, seconds, activity.date_created))
                             .execution_options(synchronize_session=False))
    return status if result.rowcount == 1 else None


def _outcome_values(status: str, disposition: str, seconds: int, started: datetime | None = None) -> dict:
    """The columns of a call's outcome; answered, it was answered `seconds` before now, but never before it started
    (a carrier's duration and our clock need not agree, and the sandbox's calls last no real time)."""
    now = utcnow()
    values = {"status": status, "disposition": disposition, "date_ended": now, "date_updated": now,
              "duration": seconds if disposition == "answered" else 0}
    if disposition == "answered":
        answered = now - timedelta(seconds=seconds)
        values |= {"date_answered": max(answered, started) if started is not None else answered, "handled_by": "user"}
    if status == "failed":
        values["error_message"] = "The call to the contact failed."
    return values


def _answered_after_all(session: Session, activity: Activity, seconds: int) -> bool:
    """An incoming call whose end was counted as a missed call before its answered <Dial> result came (a caller who
    hangs up during the <Dial> ends both at once, and Twilio's callbacks keep no order) was answered: it says so now,
    and its missed-call Inbox items go."""
    result = session.execute(update(Activity).where(Activity.id == activity.id, Activity.status == "missed",
                                                    Activity.disposition == "no-answer")
                             .values(**_outcome_values("completed", "answered", seconds, activity.date_created))
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    inbox.remove_inbox_items(session, activity.organization_id, activity.id, "missed_call")
    return True


def _missed(session: Session, activity: Activity, disposition: str) -> str | None:
    now = utcnow()
    result = session.execute(update(Activity).where(Activity.id == activity.id, Activity.status.in_(tuple(PROGRESS)))
                             .values(status="missed", disposition=disposition, date_ended=now, date_updated=now,
                                     duration=0).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return None
    session.refresh(activity)
    inbox.create_inbox_items(session, activity, "missed_call")
    return "missed"


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _day(activity: Activity) -> date:
    return (activity.activity_at or activity.date_created or utcnow()).date()


def _extension(content_type: str) -> str:
    return {"audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/wav": ".wav", "audio/x-wav": ".wav",
            "audio/ogg": ".ogg", "audio/webm": ".webm", "audio/mp4": ".m4a"}.get(content_type, ".mp3")
