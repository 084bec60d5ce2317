"""Voice commands by phone, once the PIN matched: a spoken request goes to Cody, a spoken yes sends its drafts.

The words go to the chat's assistant as the PIN's user, on the "voice" channel. The drafts it makes that can go out
are read back (with who won't get it and why, for the others, which are dropped) and wait for a yes, decided by the
assistant's own code (assistant.control), then confirmed through assistant.drafts as the chat's Confirm button does
(owner, expiry, hash, once). "Change it to ..." goes to the assistant, which changes the drafts read back; they are
read again and wait for a yes. Anything else, or silence, cancels them. The call's session, its steps and the PIN
are in tools/voice/commands.py.
"""

import re
from collections.abc import Sequence
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.voice import assistant_of
from assistant import drafts, unsend
from assistant.control import control_of
from assistant.service import ChatResult
from assistant.wording import and_list, recipient
from db.models import Activity, Draft, VoiceCommandSession
from tools.context import Ctx
from tools.problems import ServiceError
from tools.telephony.signing import FormPairs
from tools.voice import commands
from tools.voice.commands import (
    ALREADY_SENT,
    ANYTHING_ELSE,
    ASK_REQUEST,
    GOODBYE,
    NOTHING_SENT,
)

DONE = re.compile(r"^(no( thanks| thank you)?|nope|nothing( else)?|that'?s (all|it)|(good)?bye|hang up)[.,! ]*$",
                  re.IGNORECASE)
GO_AHEAD = "Say yes to go ahead, or no to cancel."
SHALL_I = "Shall I? Say yes to cancel it, or no to keep it."
CANCELLED = "Cancelled, nothing was sent."
MAX_SPEECH = 1000


def request_step(app: FastAPI, session: Session, form: FormPairs, turn: int) -> str:
    """The caller said what they want: Cody answers, and reads back any draft it made to wait for a yes."""
    settings, call_sid = app.state.runtime.settings, form.get("CallSid") or ""
    row = commands.claim(session, call_sid, "request", turn)
    if row is None:
        return commands.repeat(session, settings, call_sid, "request")
    ctx, said = commands.session_ctx(session, row), _speech(form)
    if ctx is None or not said or DONE.match(said):
        return commands.finish(session, row, GOODBYE)
    try:
        result = assistant_of(app).handle(session, ctx, said, row.conversation_id)
    except ServiceError as exc:
        session.rollback()
        return commands.advance(session, settings, row, "request", ASK_REQUEST, f"I couldn't do that: {exc.message}")
    row.conversation_id = result.conversation_id
    waiting = [d for d in result.drafts if d.state == "pending"]
    ready, stuck = [d for d in waiting if not d.problems], [d for d in waiting if d.problems]
    for draft in stuck:  # it can't go out as it is: said why, and dropped
        _cancel(session, ctx, draft.id)
    if ready:
        row.draft_ids = [d.id for d in ready]
        return commands.advance(session, settings, row, "confirm", _read_back(ready, stuck))
    return commands.advance(session, settings, row, "request", _reply_prompt(result, bool(waiting)))


def confirm_step(app: FastAPI, session: Session, form: FormPairs, turn: int) -> str:
    """The caller answered the read-back: a clear yes confirms the drafts, anything else (or silence) cancels them."""
    settings, call_sid = app.state.runtime.settings, form.get("CallSid") or ""
    row = commands.claim(session, call_sid, "confirm", turn)
    if row is None:
        return commands.repeat(session, settings, call_sid, "confirm")
    ctx = commands.session_ctx(session, row)
    if ctx is None:
        return commands.finish(session, row, f"{NOTHING_SENT} {GOODBYE}")
    said = _speech(form)
    control = control_of(said)
    if control is not None and control.action in ("edit", "add", "time"):
        return _change(app, session, row, ctx, said)
    if control is None or control.action != "confirm":
        return commands.advance(session, settings, row, "request", ANYTHING_ELSE,
                                _declined(session, ctx, row.draft_ids))
    outcome = " ".join(_confirm(app, session, ctx, draft_id, control.now) for draft_id in row.draft_ids)
    return commands.advance(session, settings, row, "request", ANYTHING_ELSE, outcome)


def _change(app: FastAPI, session: Session, row: VoiceCommandSession, ctx: Ctx, said: str) -> str:
    """"Change it to ...", "make it 8pm instead" at the read-back: the assistant changes the drafts read back (they
    are its last answer's). Changed and still able to go, they are read again and wait for a yes; a change they
    can't take is said, and they wait as they were; changed so that they can't go (a time past, quiet hours), they
    are dropped and the reply says why."""
    settings = app.state.runtime.settings
    before = dict(session.execute(select(Draft.id, Draft.args_hash).where(Draft.id.in_(row.draft_ids))).tuples().all())
    try:
        result = assistant_of(app).handle(session, ctx, said, row.conversation_id)
        reply = result.reply
    except ServiceError as exc:
        session.rollback()
        reply = f"I couldn't do that: {exc.message}"
    waiting = [session.get(Draft, draft_id) for draft_id in row.draft_ids]
    if all(d is not None and d.state == "pending" and not d.problems for d in waiting):
        if any(d.args_hash != before.get(d.id) for d in waiting):
            return commands.advance(session, settings, row, "confirm", _read_back(waiting), "Changed.")
        return commands.advance(session, settings, row, "confirm", f"{reply} {_read_back(waiting)}")
    dropped = [_cancel(session, ctx, draft_id) for draft_id in row.draft_ids]
    return commands.advance(session, settings, row, "request", ANYTHING_ELSE,
                            f"{reply} {NOTHING_SENT if any(dropped) else ''}".strip())


def _speech(form: FormPairs) -> str:
    return " ".join((form.get("SpeechResult") or "").split())[:MAX_SPEECH]


def _confirm(app: FastAPI, session: Session, ctx: Ctx, draft_id: str, now: bool = False) -> str:
    """Confirm one draft read back; "send it now" (`now`) first takes its send time away, as in chat."""
    assistant = assistant_of(app)
    try:
        if now and (session.get(Draft, draft_id).args or {}).get("send_at"):
            drafts.edit(session, ctx, assistant.messaging, draft_id, {"send_at": None},
                        assistant.settings.draft_ttl_minutes)
        draft, activity = drafts.confirm(session, ctx, assistant.messaging, draft_id)
    except ServiceError as exc:
        session.rollback()
        draft = session.get(Draft, draft_id)
        return ALREADY_SENT if draft is not None and draft.state == "executed" else f"I couldn't do that: {exc.message}"
    return unsend.done_reply(draft.preview) if draft.tool == unsend.TOOL else _outcome(activity)


def _cancel(session: Session, ctx: Ctx, draft_id: str) -> Draft | None:
    try:
        return drafts.cancel(session, ctx, draft_id)
    except ServiceError:  # no longer pending (sent, canceled or expired elsewhere): nothing to undo
        session.rollback()
        return None


def _declined(session: Session, ctx: Ctx, draft_ids: list[str]) -> str:
    """What saying no did: drafts to send or call were dropped; a text Cody was to cancel still goes out; a draft
    settled elsewhere meanwhile (confirmed in the chat, say) is said by what became of it (`drafts.settled`: "That
    was already sent, so it can't be canceled."), with whose it is when there were several."""
    dropped = {draft_id: _cancel(session, ctx, draft_id) for draft_id in draft_ids}
    gone = [draft for draft_id, kept in dropped.items() if kept is None
            and (draft := session.get(Draft, draft_id)) is not None]
    kept = [unsend.kept_reply(d.preview) for d in dropped.values() if d is not None and d.tool == unsend.TOOL]
    stopped = [d for d in dropped.values() if d is not None and d.tool != unsend.TOOL]
    if not gone:
        said = [CANCELLED] if stopped else []
    elif len(draft_ids) == 1:
        said = [drafts.settled(gone[0], "cancel")]
    else:
        said = ([f"Cancelled for {and_list([recipient(d.preview) for d in stopped])}."] if stopped else [])
        said += [f"{recipient(d.preview)}: {drafts.settled(d, 'cancel')}" for d in gone]
    return " ".join(said + kept)


def _outcome(activity: Activity) -> str:
    if activity.type == "call":
        return "Calling: hang up, and your phone will ring first."
    if activity.status == "scheduled":
        return "Scheduled."
    if activity.status == "error":
        return f"The carrier refused it: {activity.error_message}"
    return "Sent."


def _read_back(waiting: list[Draft], stuck: Sequence[Draft] = ()) -> str:
    """What the drafts will do, who won't get it and why (the drafts that can't go), and the question."""
    ask = SHALL_I if all(d.tool == unsend.TOOL for d in waiting) else GO_AHEAD
    return " ".join([_describe(d) for d in waiting] + [_cannot(d) for d in stuck] + [ask])


def _cannot(draft: Draft) -> str:
    who = recipient(draft.preview)
    verb = "call" if draft.tool == "call_contact" else "text"
    return _sentence(f"I can't {verb} {who}: {' '.join(p['message'] for p in draft.problems)}")


def _describe(draft: Draft) -> str:
    who = recipient(draft.preview)
    if draft.tool == unsend.TOOL:
        return f"I'll cancel {unsend.the_text(draft.preview, short=True)}: {_sentence(draft.preview.get('text') or '')}"
    if draft.tool == "call_contact":
        return f"I'll call {who}."
    when = draft.preview.get("date_scheduled")
    at = f" at {datetime.fromisoformat(when):%-I:%M %p on %A}" if when else ""
    return f"I'll text {who}{at}: {_sentence(draft.preview.get('text') or '')}"


def _reply_prompt(result: ChatResult, cancelled: bool) -> str:
    """Cody's answer; a question waits for its answer, anything else goes on to the next request."""
    if result.question is not None:
        return result.reply
    return " ".join(part for part in (result.reply, NOTHING_SENT if cancelled else "", ANYTHING_ELSE) if part)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."
