"""Voice commands by phone: a user calls their business line from their own phone, keys their PIN, then speaks.

Caller ID only says whose PIN to ask for; nothing said on the call is heard as a command until that PIN matched.
The call's state lives in a `voice_command_session` row keyed by CallSid, never in a process's memory (any API
process may take the next step): the user, wrong PINs, when the PIN matched, Cody's conversation, the drafts read
back and waiting for a yes, and what Cody last asked. Every <Gather> action is Cody's own URL carrying the step
it answers (`turn`, covered by Twilio's signature); a step is claimed with one conditional UPDATE, so a retried
webhook is answered with where the call is now and changes nothing.

The PIN step is here; the spoken steps need the assistant, so they are in api/webhooks/voice_commands.py.
"""

import logging
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.ids import new_id
from db.models import Draft, Membership, PhoneNumber, User, VoiceCommandSession
from db.types import utcnow
from tools import locks
from tools.context import Ctx
from tools.settings import TelephonySettings
from tools.upsert import insert_ignore
from tools.voice import twiml
from tools.voice.pin import pin_matches

log = logging.getLogger("cody.voice")

COMMAND_PATH = "/api/webhooks/twilio/voice/command"  # + /pin, /request or /confirm: the step a <Gather> answers
SESSION_MINUTES = 30
PIN_TRIES = 3  # per call
LOCKOUT_FAILURES, LOCKOUT_WINDOW = 10, timedelta(hours=1)  # wrong PINs per user across calls

ASK_PIN = "Hi, it's Cody. Enter your voice PIN, then press pound."
WRONG_PIN = "That PIN is not right."
LOCKED = "There have been too many wrong PINs, so voice commands are paused for an hour."
ASK_REQUEST = "What would you like me to do?"
ANYTHING_ELSE = "Anything else?"
ALREADY_SENT = "That's already sent."
NOTHING_SENT = "Nothing was sent."
GOODBYE = "Goodbye."


def commanding_user(session: Session, number: PhoneNumber, caller: str) -> User | None:
    """The user with a PIN whose own phone is calling: the line's owner, or on a group line the one member."""
    query = (select(User).join(Membership, Membership.user_id == User.id)
             .where(Membership.organization_id == number.organization_id, User.forwarding_phone == caller,
                    User.voice_pin_hash.is_not(None)))
    if number.sharing != "group":
        query = query.where(User.id == number.user_id)
    found = session.scalars(query.limit(2)).all()
    return found[0] if len(found) == 1 else None


def start(session: Session, settings: TelephonySettings, user: User, organization_id: str, call_sid: str) -> str:
    """Open the call's session (once: a repeated webhook finds it) and ask for the PIN."""
    if insert_ignore(session, VoiceCommandSession, {
            "id": new_id("vcmd"), "call_sid": call_sid, "organization_id": organization_id, "user_id": user.id,
            "prompt": ASK_PIN, "expires_at": utcnow() + timedelta(minutes=SESSION_MINUTES)}, ["call_sid"]):
        log.info("call %s from %s's own phone: asking for the voice PIN", call_sid, user.id)
    session.commit()
    return prompt_twiml(settings, _by_sid(session, call_sid))


def claim(session: Session, call_sid: str, step: str, turn: int) -> VoiceCommandSession | None:
    """The call's session when it is open and waiting for `step` at `turn`, taken once; None for anything else.

    Past the PIN step, only a session whose PIN matched can be taken.
    """
    query = update(VoiceCommandSession).where(
        VoiceCommandSession.call_sid == call_sid, VoiceCommandSession.stage == step,
        VoiceCommandSession.turn == turn, VoiceCommandSession.expires_at > utcnow())
    if step != "pin":
        query = query.where(VoiceCommandSession.authenticated_at.is_not(None))
    claimed = session.execute(query.values(turn=VoiceCommandSession.turn + 1, date_updated=utcnow())
                              .execution_options(synchronize_session=False))
    session.commit()
    return _by_sid(session, call_sid) if claimed.rowcount == 1 else None


def check_pin(session: Session, settings: TelephonySettings, call_sid: str, turn: int, digits: str | None) -> str:
    """The caller keyed a PIN: the right one opens voice commands; three wrong ones, or a locked-out user, hang up."""
    row = claim(session, call_sid, "pin", turn)
    if row is None:
        return repeat(session, settings, call_sid, "pin")
    # One PIN check at a time per user, in every process, until this one's failure is counted (committed): calls made
    # together would otherwise each read the count before any of them added to it, and guess past the lockout.
    locks.hold(session, locks.VOICE_PIN, row.user_id)
    if _locked_out(session, row.user_id):
        log.warning("voice commands locked for %s: call %s refused", row.user_id, call_sid)
        return finish(session, row, f"{LOCKED} {GOODBYE}")
    if pin_matches(session.get(User, row.user_id).voice_pin_hash, digits):
        row.authenticated_at = utcnow()
        log.info("voice PIN accepted for %s on call %s", row.user_id, call_sid)
        return advance(session, settings, row, "request", ASK_REQUEST)
    row.failed_pins += 1
    log.warning("wrong voice PIN for %s on call %s (%d of %d)", row.user_id, call_sid, row.failed_pins, PIN_TRIES)
    if row.failed_pins >= PIN_TRIES:
        return finish(session, row, f"{WRONG_PIN} {GOODBYE}")
    return advance(session, settings, row, "pin", f"{WRONG_PIN} Enter your voice PIN, then press pound.")


def session_ctx(session: Session, row: VoiceCommandSession) -> Ctx | None:
    """Whom the call speaks for, on the voice channel: the user whose PIN matched, while still a member."""
    membership = session.scalar(select(Membership).where(Membership.organization_id == row.organization_id,
                                                         Membership.user_id == row.user_id))
    if membership is None or row.authenticated_at is None:
        return None
    return Ctx(row.organization_id, row.user_id, "voice", permissions=frozenset(membership.permissions or ()),
               role=membership.role)


def advance(session: Session, settings: TelephonySettings, row: VoiceCommandSession, stage: str, prompt: str,
            lead: str = "") -> str:
    """Move the call to `stage` and ask `prompt` (after saying `lead`)."""
    row.stage, row.prompt = stage, prompt
    session.commit()
    return prompt_twiml(settings, row, lead)


def finish(session: Session, row: VoiceCommandSession, words: str) -> str:
    """Say `words` and hang up; the session takes no more steps."""
    row.stage, row.prompt = "ended", words
    session.commit()
    return twiml.say_then(words)


def repeat(session: Session, settings: TelephonySettings, call_sid: str, step: str) -> str:
    """A step the call already took (a retried webhook) or never reached: say where it is now, change nothing.

    A call with no session, an expired one, or one whose PIN never matched gets a goodbye for any spoken step.
    """
    row = _by_sid(session, call_sid)
    if row is None or row.expires_at <= utcnow() or (step != "pin" and row.authenticated_at is None):
        return twiml.say_then(GOODBYE)
    lead = ""
    if step == "confirm" and row.stage != "confirm":
        lead = ALREADY_SENT if _any_sent(session, row) else NOTHING_SENT
    return prompt_twiml(settings, row, lead)


def prompt_twiml(settings: TelephonySettings, row: VoiceCommandSession, lead: str = "") -> str:
    """Where the call is: ask for the PIN, listen for a request or a yes, or say the last words and hang up."""
    say = f"{lead} {row.prompt}".strip()
    if row.stage == "ended":
        return twiml.say_then(say)
    action = f"{settings.public_base_url.rstrip('/')}{COMMAND_PATH}/{row.stage}?turn={row.turn}"
    return twiml.ask_for_pin(say, action) if row.stage == "pin" else twiml.ask_for_command(say, action)


def _by_sid(session: Session, call_sid: str) -> VoiceCommandSession | None:
    return session.scalar(select(VoiceCommandSession).where(VoiceCommandSession.call_sid == call_sid)
                          .execution_options(populate_existing=True))


def _locked_out(session: Session, user_id: str) -> bool:
    failures = session.scalar(select(func.coalesce(func.sum(VoiceCommandSession.failed_pins), 0)).where(
        VoiceCommandSession.user_id == user_id, VoiceCommandSession.date_created > utcnow() - LOCKOUT_WINDOW))
    return failures >= LOCKOUT_FAILURES


def _any_sent(session: Session, row: VoiceCommandSession) -> bool:
    return session.scalar(select(func.count()).select_from(Draft).where(
        Draft.organization_id == row.organization_id, Draft.id.in_(row.draft_ids or []),
        Draft.state == "executed")) > 0
