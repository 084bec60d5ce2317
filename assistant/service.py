"""Cody: one user turn in, drafts, a question or an answer out. Never sends; confirming a draft does."""

import dataclasses
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant import drafts, unsend, wording
from assistant.choices import listing, name_of, pick
from assistant.control import Control, clock_of, control_of
from assistant.conversations import add_message, last_assistant_data, open_conversation
from assistant.intents import (
    CAPABILITIES,
    SAID_NUMBER,
    Ask,
    CancelIntent,
    Intent,
    ReadIntent,
    Unknown,
    WriteIntent,
)
from assistant.last_person import NOBODY, Kind, last_inbound, last_kind
from assistant.offline import ASK_MESSAGE, could_be_name, opening_time, template_request
from assistant.offline import plan as offline_plan
from assistant.planner import Planner, Turn
from assistant.reads import resolved, run_read
from assistant.resolve import (
    Match,
    Resolution,
    TemplateMatch,
    resolve_recipient,
    resolve_template,
    template_by_id,
)
from assistant.settings import AssistantSettings
from assistant.timephrases import PHRASE, parse_time, spoken_time, wall_time
from db.models import Activity, Contact, Draft, Lead, Organization, User
from db.models.crm import LEAD_STOPWORDS, fold, name_tokens
from db.types import utcnow
from tools.context import Ctx
from tools.messaging import Messaging
from tools.messaging.parties import only_contact_with
from tools.phones import format_phone, normalise
from tools.problems import Invalid, ServiceError
from tools.templates import free_variables

log = logging.getLogger("cody.assistant")
MAX_TEXT = 2000
DROPPED = "Okay, I've dropped that; nothing was sent."
NOT_CAUGHT = "I didn't catch which one."
NOT_CAUGHT_WHEN = "I didn't catch when."
NOT_A_CHANGE = ("I didn't understand that, so nothing was changed or sent. To change it, say \u201cchange it to say "
                "...\u201d or \u201cchange the time to 7pm\u201d.")


@dataclass(frozen=True)
class Pending:
    """A request waiting for the answer to Cody's question, kept in the conversation until the next turn."""

    intent: WriteIntent | CancelIntent
    # "text", "send_at" (the answer is the send time), "recipient", "template", "variable:<name>" or "message"
    # (which waiting text to cancel)
    needs: str
    contact_ids: tuple[str, ...] = ()  # the recipients, once known
    template_id: str | None = None  # the template, once known

    def to_data(self) -> dict:
        return {"intent": _intent_to(self.intent), "needs": self.needs, "contact_ids": list(self.contact_ids),
                "template_id": self.template_id}

    @classmethod
    def from_data(cls, data: dict | None) -> "Pending | None":
        if not data:
            return None
        return cls(_intent_from(data["intent"]), data["needs"], tuple(data.get("contact_ids") or ()),
                   data.get("template_id"))


@dataclass(frozen=True)
class SaidDrafts:
    """Drafts the reply ends with, and the reply before them: drafts made next in the turn are said with them."""

    before: str
    after: str
    drafts: list[Draft]


@dataclass
class ChatResult:
    conversation_id: str
    reply: str
    drafts: list[Draft] = field(default_factory=list)
    question: dict | None = None
    activities: list[Activity] = field(default_factory=list)
    pending: Pending | None = None
    time_offer: str | None = None  # "Do you mean the time, 8:00 PM?": the time ("8pm") a yes to that changes it to
    said: SaidDrafts | None = field(default=None, repr=False)
    request: str = field(default="", repr=False)  # the user's words this turn, as typed or spoken
    about: list[str] = field(default_factory=list)  # the contacts the conversation is about: "her", "them" (`_about`)


class Assistant:
    def __init__(self, messaging: Messaging, planner: Planner, settings: AssistantSettings):
        self.messaging = messaging
        self.planner = planner
        self.settings = settings

    def handle(self, session: Session, ctx: Ctx, text: str, conversation_id: str | None = None) -> ChatResult:
        """Answer one turn from the user; the only text that can make a draft is the user's own."""
        text = (text or "").strip()
        if not text:
            raise Invalid.one("required", "text", "Say what you'd like Cody to do.")
        if len(text) > MAX_TEXT:
            raise Invalid.one("too_long", "text", f"Keep requests under {MAX_TEXT} characters.")
        conversation = open_conversation(session, ctx, conversation_id)
        add_message(session, conversation, "user", text)
        previous = last_assistant_data(session, conversation)
        about = previous.get("about")
        result = ChatResult(conversation_id=conversation.id, reply="", request=text,
                            about=[i for i in about if isinstance(i, str)] if isinstance(about, list) else [])
        self._answer(session, ctx, conversation.id, text, previous, result)
        add_message(session, conversation, "assistant", result.reply, {
            "draft_ids": [d.id for d in result.drafts], "question": result.question,
            "pending": result.pending.to_data() if result.pending else None, "time_offer": result.time_offer,
            "about": _about(result)})
        session.commit()
        return result

    def _answer(self, session: Session, ctx: Ctx, conversation_id: str, text: str, previous: dict, result: ChatResult) -> None:
        """Decided by code, in this order: a cancel drops a pending question; the answer to "What should I say?" is
        the message, whatever it says; yes, no and "change it to" act on the drafts of Cody's last answer (and a yes
        or a change while another question waits asks it again; a yes to "Do you mean the time, 8:00 PM?" changes
        the time); an answer to any other question carries its request on, unless it is a new request; anything else
        goes to the planner, and what it can't read, said while drafts wait, is said not to have changed them."""
        pending = Pending.from_data(previous.get("pending"))
        control = control_of(text)
        if pending is not None and control is not None and control.action == "cancel":
            result.reply = DROPPED
            return
        if pending is not None and pending.needs == "text":
            self._resume(session, ctx, conversation_id, dataclasses.replace(
                pending, intent=dataclasses.replace(pending.intent, text=text)), result)
            return
        question = previous.get("question") or {}
        if control is not None:
            shown = _shown(session, ctx, conversation_id, previous)
            if control.action == "confirm" and not control.now and isinstance(previous.get("time_offer"), str):
                control = Control("time", previous["time_offer"], the_time=True)
            if pending is None or any(d.state == "pending" for d in shown):
                self._control(session, ctx, conversation_id, control, shown, result)
            if pending is not None:  # a yes or a change answers no question: it is asked again, and still waits
                _append(result, f"Which one? {listing([c['label'] for c in question['choices']])}?"
                        if question.get("choices") else question.get("text", ""))
                result.question, result.pending = question or None, pending
            return
        if pending is not None and self._follow_up(session, ctx, conversation_id, pending, question, text, result):
            return
        turn = self._turn(session, ctx, text)
        intents = list(self.planner.plan(turn, lambda read: _read(session, ctx, read, result)))
        if all(isinstance(i, Unknown) and i.reply in (None, CAPABILITIES) for i in intents) and (
                waiting := [d for d in _shown(session, ctx, conversation_id, previous) if d.state == "pending"]):
            # Said to the drafts just shown ("yes but say hi"), not a request: say so, and keep them waiting.
            result.reply, result.drafts = f"{NOT_A_CHANGE}\n{_still_waiting(waiting)}", waiting
            return
        for intent in intents:
            self._apply(session, ctx, conversation_id, intent, result)

    def _turn(self, session: Session, ctx: Ctx, text: str) -> Turn:
        org = session.get(Organization, ctx.organization_id)
        user = session.get(User, ctx.user_id)
        now = utcnow().astimezone(ZoneInfo(org.timezone))
        return Turn(text=text, now=now, user_name=user.display_name, organization_name=org.name, timezone=org.timezone)

    # -- confirm, cancel, edit by word ----------------------------------------------------------------------

    def _control(self, session: Session, ctx: Ctx, conversation_id: str, control: Control, shown: list[Draft],
                 result: ChatResult) -> None:
        """Yes, no and "change it" act on the drafts of Cody's last answer that still wait, never on older ones (the
        user was shown these): a yes confirms each that can go and says why any other can't, a no cancels them all,
        a change changes them all when they are one request (a household's). With none waiting, a no right after a
        text went out to wait (scheduled, or in the outbox) offers to cancel that text; else drafts of the
        conversation still waiting are shown again (the user may not have them in view: none is confirmed, canceled or
        changed blindly), so that the next yes, no or change acts on them."""
        waiting = [d for d in shown if d.state == "pending"]
        if not waiting:
            if control.action == "cancel" and shown and self._offer_unsend(session, ctx, conversation_id, shown,
                                                                           result):
                return
            if shown and control.action != "confirm":
                result.reply = drafts.settled(shown[-1], "edit" if control.action in ("time", "add") else control.action)
            if still := drafts.pending_in_conversation(session, ctx, conversation_id):
                result.drafts = still
                _append(result, _still_waiting(still))
            elif not result.reply:
                result.reply = "There's nothing waiting for your confirmation."
            return
        several = len(waiting) > 1
        if control.action == "confirm":
            lines = [self._confirm(session, ctx, draft, several, result, control.now) for draft in waiting]
        elif control.action == "cancel":
            lines = [self._cancel(session, ctx, draft, several) for draft in waiting]
            if several:  # one line for the drafts dropped, one for each text Cody was to cancel (it still goes out)
                kept = [line for line in lines if line]
                lines = (["Canceled; nothing was sent."] if len(kept) < len(lines) else []) + kept
        elif several and len({_request_of(d) for d in waiting}) > 1:
            result.reply = (f"I showed you {len(waiting)} different drafts, so I can't tell which one to change; change "
                            "the one you mean with its Edit button, or say no and ask me again.")
            result.drafts = waiting
            return
        else:
            lines = self._change_all(session, ctx, waiting, control, result)
        result.drafts = [session.get(Draft, d) for d in [draft.id for draft in waiting]]
        result.reply = "\n".join(line for line in lines if line)

    def _confirm(self, session: Session, ctx: Ctx, draft: Draft, several: bool, result: ChatResult,
                 now: bool = False) -> str:
        """Confirm one draft; what came of it, said with whose it is when there are several. "Send it now" (`now`)
        first takes the draft's send time away: the user said when, and a time since passed can't stop it."""
        draft_id, who = draft.id, _who(draft)
        if now and (draft.args or {}).get("send_at"):
            try:
                draft = drafts.edit(session, ctx, self.messaging, draft_id, {"send_at": None},
                                    self.settings.draft_ttl_minutes)
            except ServiceError as exc:
                session.rollback()
                return f"{who}: I couldn't do that: {exc.message}" if several else f"I couldn't do that: {exc.message}"
        if several and draft.problems:  # it can't go as it is, and the others go without it
            return f"{who}: not sent; {' '.join(p['message'] for p in draft.problems)}"
        try:
            draft, activity = drafts.confirm(session, ctx, self.messaging, draft_id)
        except ServiceError as exc:
            session.rollback()
            return f"{who}: I couldn't do that: {exc.message}" if several else f"I couldn't do that: {exc.message}"
        result.activities.append(activity)
        if draft.tool == unsend.TOOL:
            return unsend.done_reply(draft.preview)
        return f"{who}: {_sent_reply(activity)}" if several else _sent_reply(activity)

    def _cancel(self, session: Session, ctx: Ctx, draft: Draft, several: bool) -> str:
        """Cancel one draft; with several, "" for a send or call dropped (the caller says it once for all)."""
        draft_id, who = draft.id, _who(draft)
        try:
            draft = drafts.cancel(session, ctx, draft_id)
        except ServiceError as exc:
            session.rollback()
            return f"{who}: I couldn't do that: {exc.message}" if several else f"I couldn't do that: {exc.message}"
        if draft.tool == unsend.TOOL:
            return unsend.kept_reply(draft.preview)
        return "" if several else "Canceled; nothing was sent."

    def _change_all(self, session: Session, ctx: Ctx, waiting: list[Draft], control: Control,
                    result: ChatResult) -> list[str]:
        """Change each draft as "change it to ..." says: what changed and the drafts as they are now, or why not."""
        said, changed = "", []
        for draft in waiting:
            draft_id = draft.id
            try:
                said, done = self._change(session, ctx, draft, control, result)
            except ServiceError as exc:
                session.rollback()
                return [f"I couldn't do that: {exc.message}"]
            if not done:
                return [said]
            changed.append(session.get(Draft, draft_id))
        return [said, _draft_reply(changed)]

    def _change(self, session: Session, ctx: Ctx, draft: Draft, control: Control,
                result: ChatResult) -> tuple[str, bool]:
        """One draft changed: new words, or a new time. The time is the template's when it has one and the user did
        not speak of the send time (nor of "the time" of a draft with a send time), else the send time; a draft due now
        becomes scheduled. A clock without a day keeps the day the time had, and a clock without am or pm is read
        against it ("8" for 7pm is 8pm). A bare number for a draft with no template time ("change it to 8") is neither
        words nor surely the send time: Cody asks, and a yes then changes the send time (`result.time_offer`). The
        line says what changed, or why nothing did (False)."""
        ttl = self.settings.draft_ttl_minutes
        if control.action in ("edit", "add"):
            if draft.tool == "call_contact":
                return _no_words_for_a_call(session, ctx, draft, control.text), False
            words = control.text if control.action == "edit" else _added(draft, control.text)
            drafts.edit(session, ctx, self.messaging, draft.id, {"text": words}, ttl)
            return "", True
        if draft.tool == "call_contact":
            return (f"I can't schedule calls, so the call to {_who(draft)} is as it was: confirm to call now, or "
                    "cancel."), False
        zone = self._zone(session, ctx)
        now = utcnow().astimezone(zone)
        clock = clock_of(control.text)
        scheduled = _send_at(draft, zone)
        name = None
        if not control.send_time and not (control.the_time and scheduled is not None):
            name = self._time_variable(session, ctx, draft)
        if name is not None:
            old = str((draft.args.get("variables") or {}).get(name) or "")
            value = _clock_value(clock, old, now) if clock is not None else None
            if value is None:
                if parse_time(control.text, now) is None:
                    return f"I couldn't read \u201c{control.text}\u201d as a time, so nothing was changed.", False
                value = _variable_value(name, control.text, now)  # as a value said with the request reads
            drafts.edit(session, ctx, self.messaging, draft.id,
                        {"variables": {**(draft.args.get("variables") or {}), name: value}}, ttl)
            return f"I've changed the {name} to {value}.", True
        when = _clock_time(clock, scheduled, now) if clock is not None else parse_time(control.text, now)
        if when is None:
            return f"I couldn't read \u201c{control.text}\u201d as a time, so nothing was changed.", False
        if (clock is not None and not control.send_time and not control.the_time and draft.tool != unsend.TOOL
                and re.fullmatch(r"(?:at\s+)?\d{1,2}(?:\s*o['’]?clock)?", control.text.strip(), re.I)):
            result.time_offer = _clock_words(when.hour, when.minute)
            return (f"Do you mean the time, {when:%-I:%M %p}? Say \u201cchange the time to {result.time_offer}\u201d, "
                    "or give the new words in quotes."), False
        drafts.edit(session, ctx, self.messaging, draft.id, {"send_at": when.isoformat()}, ttl)
        return f"I've {'moved it to' if scheduled else 'scheduled it for'} {wording.when(when, zone)}.", True

    def _time_variable(self, session: Session, ctx: Ctx, draft: Draft) -> str | None:
        """The template's one free variable, when the draft is a template's and that variable holds a time (by its
        name, as for a value said with the request, or by its value)."""
        if draft.tool != "send_template":
            return None
        template = template_by_id(session, ctx, draft.args.get("template_id") or "")
        names = sorted(free_variables(template.text)) if template is not None else []
        if len(names) != 1:
            return None
        value = str((draft.args.get("variables") or {}).get(names[0]) or "").strip()
        return names[0] if _TIME_VARIABLE.search(names[0]) or re.fullmatch(PHRASE, value, re.I) else None

    def _offer_unsend(self, session: Session, ctx: Ctx, conversation_id: str, shown: list[Draft],
                      result: ChatResult) -> bool:
        """"Cancel it" right after a text was confirmed: a draft to cancel each text of the last answer that still
        waits to go out; True if there was any, or if they all went out already (and the reply says so)."""
        sent = [d for d in shown if d.state == "executed" and d.tool in ("send_sms", "send_template") and d.activity_id]
        if not sent:
            return False
        zone, made = self._zone(session, ctx), []
        for draft in sent:
            prepared = unsend.prepare(session, ctx, draft.activity_id, zone)
            if prepared is not None:
                made.append(drafts.create_draft(session, ctx, unsend.TOOL, {"activity_id": draft.activity_id},
                                                prepared, conversation_id, self.settings.draft_ttl_minutes))
        if not made:
            result.reply = "That text already went out, so it can't be canceled."
            return True
        result.drafts.extend(made)
        _append(result, _draft_reply(made))
        return True

    # -- answers to Cody's own questions --------------------------------------------------------------------

    def _follow_up(self, session: Session, ctx: Ctx, conversation_id: str, pending: Pending, question: dict, text: str,
                   result: ChatResult) -> bool:
        """Carry the pending request on with this answer; False when the text is a new request instead."""
        if pending.needs == "send_at":
            return self._send_time_answer(session, ctx, conversation_id, pending, question, text, result)
        if pending.needs.startswith("variable:"):
            if _is_new_command(text):
                return False
            name = pending.needs.split(":", 1)[1]
            intent = dataclasses.replace(pending.intent, variables={**pending.intent.variables, name: text},
                                         template_value=None)
            self._resume(session, ctx, conversation_id, dataclasses.replace(pending, intent=intent), result)
            return True
        choices = question.get("choices") or []
        choice = pick(text, choices)
        if choice is None and pending.needs == "message":
            choice = unsend.pick_by_time(text, choices, utcnow().astimezone(self._zone(session, ctx)))
        if choice is None:
            if _is_new_command(text):
                return False
            _ask(result, question.get("text", ""), choices, pending)
            result.reply = f"{NOT_CAUGHT} {result.reply}"
        elif pending.needs == "template":
            picked = dataclasses.replace(pending, template_id=choice["value"].removeprefix("@"))
            self._resume(session, ctx, conversation_id, picked, result)
        elif pending.needs == "message":
            self._unsend_draft(session, ctx, conversation_id, choice["value"].removeprefix("@"), result)
        elif isinstance(pending.intent, CancelIntent):
            self._unsend_to(session, ctx, conversation_id, pending.intent, choice["value"].removeprefix("@"),
                            name_of(choice["label"]), result)
        else:
            contact_ids = self._contact_ids_for(session, ctx, choice["value"].removeprefix("@"))
            self._reach(session, ctx, conversation_id, pending.intent, choice["label"], contact_ids, result)
        return True

    def _send_time_answer(self, session: Session, ctx: Ctx, conversation_id: str, pending: Pending, question: dict,
                          text: str, result: ChatResult) -> bool:
        """"When should I send it?" answered with a time ("tomorrow at 9") drafts the text for then; an answer that is
        no time asks again; False when it is a new request instead."""
        said = re.sub(r"^for\s+|[\s.!]+$", "", text.strip(), flags=re.I)
        when = parse_time(said, utcnow().astimezone(self._zone(session, ctx)))
        if when is None:
            if _is_new_command(text):
                return False
            _ask(result, question.get("text", ""), [], pending)
            result.reply = f"{NOT_CAUGHT_WHEN} {result.reply}"
            return True
        intent = dataclasses.replace(pending.intent, send_at=when)
        self._resume(session, ctx, conversation_id, dataclasses.replace(pending, intent=intent), result)
        return True

    def _resume(self, session: Session, ctx: Ctx, conversation_id: str, pending: Pending, result: ChatResult) -> None:
        """Go on with a request whose missing piece is now known: to its recipients when they are known already."""
        if pending.contact_ids:
            self._draft(session, ctx, conversation_id, pending.intent, list(pending.contact_ids), result,
                        pending.template_id)
        else:
            self._write(session, ctx, conversation_id, pending.intent, result)

    # -- intents --------------------------------------------------------------------------------------------

    def _apply(self, session: Session, ctx: Ctx, conversation_id: str, intent: Intent, result: ChatResult) -> None:
        if isinstance(intent, WriteIntent):
            for request in _requests(session, ctx, intent):
                self._write(session, ctx, conversation_id, request, result)
        elif isinstance(intent, CancelIntent):
            self._unsend(session, ctx, conversation_id, intent, result)
        elif isinstance(intent, ReadIntent):
            _append(result, _read(session, ctx, intent, result))
        elif isinstance(intent, Ask):
            _ask(result, _as_stored(session, ctx, intent), [],
                 Pending(intent.partial, intent.needs) if intent.partial is not None else None)
        elif isinstance(intent, Unknown):
            _append(result, intent.reply or CAPABILITIES)

    def _write(self, session: Session, ctx: Ctx, conversation_id: str, intent: WriteIntent, result: ChatResult) -> None:
        """Resolve the recipient and draft. First the request is read with the workspace in view: the rest of a name
        said in lowercase moves out of the message ("text sarah lee the docs are ready"), and a text whose words name
        a template is that template ("text Sarah the showing confirmation for 7pm")."""
        now = utcnow().astimezone(self._zone(session, ctx))
        intent, resolution = _whole_name(session, ctx, intent, now, result.request)
        if intent.tool == "send_sms" and not intent.text:
            who = _stored_name(session, ctx, intent.contact) or intent.contact
            _ask(result, ASK_MESSAGE.format(who=who), [], Pending(intent, "text"))
            return
        intent = _template_named(session, ctx, intent, now)
        match = _recipient(session, ctx, intent, result, resolution)
        if match is not None:
            self._reach(session, ctx, conversation_id, intent, match.label, match.contact_ids, result)

    def _reach(self, session: Session, ctx: Ctx, conversation_id: str, intent: WriteIntent, label: str,
               contact_ids: list[str], result: ChatResult) -> None:
        """Draft for the recipient found or picked; which one person of a household to call is asked."""
        if intent.tool == "call_contact" and len(contact_ids) > 1:
            contacts = session.scalars(select(Contact).where(Contact.id.in_(contact_ids)).order_by(Contact.name)).all()
            _ask(result, f"Who at {label} should I call: {listing([c.name for c in contacts])}?",
                 [{"label": c.name, "value": f"@{c.id}"} for c in contacts], Pending(intent, "recipient"))
            return
        if not contact_ids:
            _append(result, f"{label} has no phone number I can text.")
            return
        self._draft(session, ctx, conversation_id, intent, contact_ids, result)

    def _draft(self, session: Session, ctx: Ctx, conversation_id: str, intent: WriteIntent, contact_ids: list[str],
               result: ChatResult, template_id: str | None = None) -> None:
        """One draft per recipient: a contact's id, or a phone number said as the recipient (E.164, "+1...")."""
        args = {"text": intent.text, "send_at": intent.send_at.isoformat() if intent.send_at else None}
        if intent.tool == "send_template":
            template_args = self._template_args(session, ctx, intent, contact_ids, template_id, result)
            if template_args is None:
                return
            template_id, variables, send_at = template_args
            args = {"template_id": template_id, "variables": variables,
                    "send_at": send_at.isoformat() if send_at else None}
        made = []
        for contact_id in contact_ids:
            draft_args = {**args, ("remote_phone" if contact_id.startswith("+") else "contact_id"): contact_id}
            prepared = drafts.prepare_args(session, ctx, self.messaging, intent.tool, draft_args)
            made.append(drafts.create_draft(session, ctx, intent.tool, draft_args, prepared, conversation_id,
                                            self.settings.draft_ttl_minutes))
        result.drafts.extend(made)
        _say_drafts(result, made)

    def _template_args(self, session: Session, ctx: Ctx, intent: WriteIntent, contact_ids: list[str],
                       template_id: str | None, result: ChatResult) -> tuple[str, dict, datetime | None] | None:
        """(template id, variables, send time), or None when something is asked. The one value said with the request
        fills the one missing variable; a day or clock said for a template whose variable is no time ("send Sarah
        the thanks template tomorrow at 9") is the send time instead. Values are tidied (`_variable_value`)."""
        template = self._template(session, ctx, intent, contact_ids, template_id, result)
        if template is None:
            return None
        now = utcnow().astimezone(self._zone(session, ctx))
        needed = sorted(free_variables(template.text))
        variables = {name: _variable_value(name, value, now) for name, value in intent.variables.items()}
        missing = [n for n in needed if n not in variables]
        send_at, value = intent.send_at, intent.template_value
        if value and len(missing) == 1:
            when = None if _TIME_VARIABLE.search(missing[0]) or _RELATIVE.match(value) else parse_time(value, now)
            if when is not None and send_at is None:
                send_at = when
            else:
                variables[missing[0]] = _variable_value(missing[0], value, now)
                missing.pop()
        if missing:
            waiting = dataclasses.replace(intent, variables=variables, template_value=None, send_at=send_at)
            _ask(result, wording.variable_question(missing[0], template.label), [],
                 Pending(waiting, f"variable:{missing[0]}", tuple(contact_ids), template.id))
            return None
        return template.id, {name: _unrepeated(template.text, name, v) for name, v in variables.items()}, send_at

    def _template(self, session: Session, ctx: Ctx, intent: WriteIntent, contact_ids: list[str],
                  template_id: str | None, result: ChatResult) -> TemplateMatch | None:
        """The template picked before, or the one the request names; several that fit make a question."""
        if template_id:
            template = template_by_id(session, ctx, template_id)
            if template is None:
                _append(result, "That template can't be used any more; nothing was drafted.")
            return template
        resolution = resolve_template(session, ctx, intent.template or "")
        if resolution.ambiguous:
            _ask(result, f"Which template do you mean: {listing([m.label for m in resolution.matches])}?",
                 [{"label": m.label, "value": f"@{m.id}"} for m in resolution.matches],
                 Pending(intent, "template", tuple(contact_ids)))
            return None
        if resolution.unique is None:
            _append(result, f"I couldn't find a template called {intent.template!r}.")
        return resolution.unique

    # -- canceling a text still waiting to go out -----------------------------------------------------------

    def _unsend(self, session: Session, ctx: Ctx, conversation_id: str, intent: CancelIntent,
                result: ChatResult) -> None:
        """"Cancel the text to Sarah": whose texts, asked as for a send when the name fits several."""
        match = _recipient(session, ctx, intent, result)
        if match is not None:
            self._unsend_to(session, ctx, conversation_id, intent, match.id, name_of(match.label), result)

    def _unsend_to(self, session: Session, ctx: Ctx, conversation_id: str, intent: CancelIntent, recipient_id: str,
                   name: str, result: ChatResult) -> None:
        """The recipient's waiting texts: none is said plainly, one is drafted, several make a question."""
        zone = self._zone(session, ctx)
        waiting = unsend.waiting_texts(session, ctx, recipient_id, intent.at, zone)
        if not waiting.texts:
            at = f" at {wording.clock(intent.at)}" if intent.at else ""
            _append(result, f"There's no text to {name}{at} waiting to go out, so there's nothing to cancel.")
            return
        if len(waiting.texts) == 1:
            self._unsend_draft(session, ctx, conversation_id, waiting.texts[0].id, result)
            return
        choices = unsend.offer(session, ctx, waiting.texts, zone, recipient_id)
        more = f" (the {len(choices)} soonest; say a time to find another)" if waiting.more else ""
        _ask(result, f"Which text to {name} should I cancel: {listing([c['label'] for c in choices])}?{more}",
             choices, Pending(intent, "message"))

    def _unsend_draft(self, session: Session, ctx: Ctx, conversation_id: str, activity_id: str,
                      result: ChatResult) -> None:
        prepared = unsend.prepare(session, ctx, activity_id, self._zone(session, ctx))
        if prepared is None:
            _append(result, "That text isn't waiting to go out any more, so there's nothing to cancel.")
            return
        draft = drafts.create_draft(session, ctx, unsend.TOOL, {"activity_id": activity_id}, prepared,
                                    conversation_id, self.settings.draft_ttl_minutes)
        result.drafts.append(draft)
        _append(result, _draft_reply([draft]))

    def _zone(self, session: Session, ctx: Ctx) -> tzinfo:
        return wording.workspace_zone(session, ctx.organization_id)

    def _contact_ids_for(self, session: Session, ctx: Ctx, chosen_id: str) -> list[str]:
        """The contacts behind a choice the user picked (a contact, or a lead's textable contacts)."""
        if chosen_id.startswith("cont_"):
            found = session.scalar(select(Contact.id).where(Contact.id == chosen_id,
                                                            Contact.organization_id == ctx.organization_id))
            return [found] if found else []
        lead = session.scalar(select(Lead).where(Lead.id == chosen_id, Lead.organization_id == ctx.organization_id))
        if lead is None:
            return []
        return [c.id for c in lead.contacts if any(p.type not in ("fax", "url") for p in c.phones)]


def _shown(session: Session, ctx: Ctx, conversation_id: str, previous: dict) -> list[Draft]:
    """The drafts Cody showed in its last answer (made, changed or confirmed then), as they are now, in its order."""
    ids = [i for i in previous.get("draft_ids") or [] if isinstance(i, str)]
    if not ids:
        return []
    found = {d.id: d for d in session.scalars(select(Draft).where(
        Draft.id.in_(ids), Draft.organization_id == ctx.organization_id, Draft.user_id == ctx.user_id,
        Draft.conversation_id == conversation_id))}
    return [found[i] for i in dict.fromkeys(ids) if i in found]


def _send_at(draft: Draft, zone: tzinfo) -> datetime | None:
    """The draft's send time in the workspace's zone, if it has one."""
    send_at = (draft.args or {}).get("send_at")
    return datetime.fromisoformat(send_at).astimezone(zone) if send_at else None


def _hour_near(hour: int, certain: bool, old: int | None) -> int:
    """A clock's hour said without am or pm ("8"), read as the one of its two hours closest to the old time's hour on
    the same day (8 for 7pm is 8pm, 4 for 7pm is 4pm, 8 for 9am is 8am); at a tie, the later one."""
    if certain or old is None:
        return hour
    return min((hour % 12 + 12, hour % 12), key=lambda h: abs(h - old))


def _clock_time(clock: tuple[int, int, bool], scheduled: datetime | None, now: datetime) -> datetime | None:
    """A clock alone as a send time: on the day the draft was to go, read against its time; for a draft due now, the
    next such time (as "at 8" reads)."""
    hour, minute, certain = clock
    if scheduled is None:
        return parse_time(f"{hour:02d}:{minute:02d}" if certain else f"{hour}:{minute:02d}", now)
    return wall_time(scheduled.date(), _hour_near(hour, certain, scheduled.hour), minute, scheduled.tzinfo)


_OLD_CLOCK = re.compile(r"(?P<clock>noon|midday|midnight|(?P<hour>1[0-2]|0?[1-9])(?::(?P<minute>[0-5]\d))?\s*"
                        r"(?P<ampm>[ap])\.?m\.?)(?P<rest>(?:\s.*)?)$", re.I)


def _clock_value(clock: tuple[int, int, bool], old: str, now: datetime) -> str:
    """A template's time value with a new clock said alone: the day the old value said is kept ("3pm tomorrow" with
    "4" is "4pm tomorrow"), and an hour without am or pm is read against the old one."""
    hour, minute, certain = clock
    found = _OLD_CLOCK.match(old.strip())
    if found is None:
        if not certain:
            hour = parse_time(f"{hour}:{minute:02d}", now).hour
        return _clock_words(hour, minute)
    said = found["clock"].lower()
    old_hour = 12 if said in ("noon", "midday") else 0 if said == "midnight" else (
        int(found["hour"]) % 12 + (12 if found["ampm"].lower() == "p" else 0))
    return _clock_words(_hour_near(hour, certain, old_hour), minute) + found["rest"]


def _clock_words(hour: int, minute: int) -> str:
    """A clock as a message says it: "8pm", "8:30am", "noon", "midnight"."""
    if minute == 0 and hour in (0, 12):
        return "midnight" if hour == 0 else "noon"
    return f"{hour % 12 or 12}{f':{minute:02d}' if minute else ''}{'am' if hour < 12 else 'pm'}"


def _still_waiting(still: list[Draft]) -> str:
    """Drafts of the conversation still waiting, shown again: "This is still waiting for you: Text ..."."""
    if len(still) == 1:
        return f"This is still waiting for you: {_draft_reply(still)}"
    return f"These are still waiting for you:\n{_draft_reply(still)}"


def _who(draft: Draft) -> str:
    return wording.recipient(draft.preview)


def _request_of(draft: Draft) -> str:
    """What a draft does apart from whom to: the drafts of one request to a household share it."""
    args = {k: v for k, v in draft.args.items() if k not in ("contact_id", "remote_phone")}
    return json.dumps([draft.tool, args], sort_keys=True, default=str)


def _added(draft: Draft, words: str) -> str:
    """The draft's words as shown, with `words` at the end after a space (none before punctuation: ", sorry")."""
    shown = str((draft.preview or {}).get("text") or "").rstrip()
    if not shown:
        return words
    return f"{shown}{'' if words[0] in ',.;:!?' else ' '}{words}"


def _no_words_for_a_call(session: Session, ctx: Ctx, draft: Draft, words: str) -> str:
    """A call has no words: "change it to Sarah" reads as another person to call, to be asked for again."""
    found = resolve_recipient(session, ctx, words)
    if found.unique is not None or found.ambiguous:
        return (f"A call has no words to change, so the call to {_who(draft)} is as it was. To call {words} instead, "
                f"ask me again: \u201ccall {words}\u201d.")
    return f"A call has no words to change, so the call to {_who(draft)} is as it was: confirm to call, or cancel."


def _is_new_command(text: str) -> bool:
    """An answer to Cody's question ("6:30pm") versus a fresh request ("text Sarah hi"), decided by code."""
    return isinstance(offline_plan(text, utcnow()), (WriteIntent, CancelIntent, ReadIntent))


def _append(result: ChatResult, text: str) -> None:
    result.reply = f"{result.reply}\n{text}".strip()


def _recipient(session: Session, ctx: Ctx, intent: WriteIntent | CancelIntent, result: ChatResult,
               resolution: Resolution | None = None) -> Match | None:
    """The one contact or lead the request names; several that fit make a question, none a plain reply. A phone
    number is a recipient of its own (`_number`)."""
    if SAID_NUMBER.fullmatch(intent.contact.strip()):
        return _number(session, ctx, intent, result)
    if isinstance(intent, WriteIntent) and intent.contact.lower() in PRONOUNS:
        return _person_spoken_of(session, ctx, intent, result)
    if isinstance(intent, WriteIntent) and (kind := last_kind(intent.contact)) is not None:
        if (match := _last_person(session, ctx, kind)) is None:
            _append(result, NOBODY[kind])
        return match
    resolution = resolution or resolve_recipient(session, ctx, intent.contact)
    if resolution.ambiguous:
        _ask_which(result, intent.contact, resolution.matches, Pending(intent, "recipient"))
        return None
    if resolution.unique is None:
        _append(result, f"I couldn't find anyone called {intent.contact} in your contacts.")
    return resolution.unique


_TIME_VARIABLE = re.compile(r"time|date|day|when|hour|appointment", re.I)  # a template variable that holds a time
_RELATIVE = re.compile(r"in\s", re.I)  # "in 10 minutes" says how long, not when, as a value ("running 10 minutes late")
TEMPLATE_BY_NAME = 0.85  # how well a text's words must name a template to be taken as that template


def _say_drafts(result: ChatResult, made: list[Draft]) -> None:
    """Say the drafts made. When the reply ends with drafts made before in this turn (the first of two requests,
    "text Sarah hi and call John"), they are said again with these in one list, as a household's are."""
    said = result.said
    if said is not None and result.reply == said.after:
        result.reply, made = said.before, said.drafts + made
    before = result.reply
    _append(result, _draft_reply(made))
    result.said = SaidDrafts(before, result.reply, made)


def _requests(session: Session, ctx: Ctx, intent: WriteIntent) -> list[WriteIntent]:
    """The requests a write intent stands for: two when the planner read its words as two too ("text Sarah hi and
    call John", `WriteIntent.then`) and the workspace has the second's recipient (and template), else the one read
    whole, whose words keep the rest ("hi and call Bob"; a call drops them, as before)."""
    then = intent.then
    if then is None:
        return [intent]
    second = then.second
    if _stored_name(session, ctx, second.contact) is None or (
            second.tool == "send_template" and not resolve_template(session, ctx, second.template or "").matches):
        return [dataclasses.replace(intent, then=None)]
    return [then.first, *_requests(session, ctx, second)]


def _stored_name(session: Session, ctx: Ctx, said: str) -> str | None:
    """The name stored for the one contact or lead a name said finds ("Sarah Lee" for "sarah"); for a phone number,
    the name of the workspace's one contact with it, else the number as people write it ("(415) 555-0199"). None
    when the name finds nobody or several."""
    if SAID_NUMBER.fullmatch(said.strip()):
        try:
            e164 = normalise(said.strip(), "US", field="contact").e164
        except Invalid:
            return None
        return _number_name(only_contact_with(session, ctx, e164, None), e164)
    if (kind := last_kind(said)) is not None:
        match = _last_person(session, ctx, kind)
        return match.label if match is not None else None
    match = resolve_recipient(session, ctx, said).unique
    return name_of(match.label) if match is not None else None


def _as_stored(session: Session, ctx: Ctx, ask: Ask) -> str:
    """A question naming its recipient by the name stored for them ("What should I say to Sarah Lee?" for "text
    sarah"), when the name said finds one; else as the planner put it."""
    name = _stored_name(session, ctx, ask.who) if ask.who else None
    if not name or name == ask.who:
        return ask.text
    return re.sub(rf"(?<!\w){re.escape(ask.who)}(?!\w)", lambda _: name, ask.text, count=1)


def _number_name(contact: Contact | None, e164: str) -> str:
    """A number as Cody names it: the name of the workspace's one contact with it, else as people write it."""
    return contact.name if contact is not None and contact.name else format_phone(e164)


def _number(session: Session, ctx: Ctx, intent: WriteIntent | CancelIntent, result: ChatResult) -> Match | None:
    """"text 415-555-0144 hi": the number, in E.164, as the recipient of a send or call (the drafts go to that
    number, named as the workspace's one contact with it, if one has it); a cancel needs that contact."""
    try:
        e164 = normalise(intent.contact.strip(), "US", field="contact").e164
    except Invalid:
        _append(result, f"{intent.contact} isn't a phone number I can use.")
        return None
    contact = only_contact_with(session, ctx, e164, None)
    if isinstance(intent, CancelIntent):
        if contact is None:
            _append(result, f"I couldn't find anyone with the number {format_phone(e164)} in your contacts.")
            return None
        return Match("contact", contact.id, _number_name(contact, e164), [contact.id], 1.0)
    return Match("phone", e164, _number_name(contact, e164), [e164], 1.0)


PRONOUNS = {"her", "him", "them"}


def _read(session: Session, ctx: Ctx, intent: ReadIntent, result: ChatResult) -> str:
    """What a read finds, whether the service answers it or the planner asked for it to answer from (the LLM's reads);
    the one person whose conversation or number was read is the one "her" means next."""
    resolution = None
    if intent.tool in ("read_thread", "find_contacts"):
        resolution = resolved(session, ctx, intent.query or "")
        if resolution.unique is not None:
            result.about = resolution.unique.contact_ids or result.about
    return run_read(session, ctx, intent, resolution)


def _about(result: ChatResult) -> list[str]:
    """Whom the conversation is about after this turn: the contacts its drafts go to (a household's several), else
    those whose messages were read, else whom it was about before."""
    contacts = [d.args["contact_id"] for d in result.drafts if d.tool != unsend.TOOL and d.args.get("contact_id")]
    return list(dict.fromkeys(contacts)) or result.about


def _person_spoken_of(session: Session, ctx: Ctx, intent: WriteIntent, result: ChatResult) -> Match | None:
    """"text her ...": the contact the conversation is about (`_about`); "them" of a household's contacts is the
    household; "her" or "him" of several asks which."""
    found = {c.id: c for c in session.scalars(select(Contact).where(
        Contact.id.in_(result.about), Contact.organization_id == ctx.organization_id))}
    contacts = [found[i] for i in result.about if i in found]
    matches = [Match("contact", c.id, _contact_label(c), [c.id], 1.0) for c in contacts]
    said = intent.contact
    if not matches:
        _append(result, f"Who do you mean by \u201c{said}\u201d? Say their name, as in \u201ctext Sarah ...\u201d.")
        return None
    if len(matches) == 1:
        return matches[0]
    leads = {c.lead_id for c in contacts}
    if said.lower() == "them" and len(leads) == 1 and (lead := session.get(Lead, leads.pop())) is not None:
        return Match("lead", lead.id, lead.name or matches[0].label, [m.id for m in matches], 1.0)
    _ask(result, f"Who do you mean by \u201c{said}\u201d: {listing([m.label for m in matches])}?", _choices(matches),
         Pending(intent, "recipient"))
    return None


def _contact_label(contact: Contact) -> str:
    return contact.name or (format_phone(contact.phones[0].phone) if contact.phones else "this contact")


def _last_person(session: Session, ctx: Ctx, kind: Kind) -> Match | None:
    """"the last person who texted me": the contact of the caller's newest incoming text or call, or its number."""
    activity = last_inbound(session, ctx, kind)
    if activity is None:
        return None
    contact = session.get(Contact, activity.contact_id) if activity.contact_id else None  # in the row's workspace
    if contact is None:
        return Match("phone", activity.remote_phone, format_phone(activity.remote_phone), [activity.remote_phone], 1.0)
    return Match("contact", contact.id, _number_name(contact, activity.remote_phone), [contact.id], 1.0)


def _whole_name(session: Session, ctx: Ctx, intent: WriteIntent, now: datetime,
                request: str) -> tuple[WriteIntent, Resolution | None]:
    """A name said in lowercase reaches the planner cut at its first word ("text sarah lee the docs are ready" is
    "sarah" and "lee the docs are ready"): with the workspace in view, words opening the message that are the rest of
    the name of the one person found ("lee"), or that with the name said find people all named so when it alone
    finds several or none, move from the message to the name; a send time then opening the message is the send time
    ("text sarah lee tomorrow at 9 hi"). Only words that may be names move ("text Sarah Will you call me?" keeps
    "Will"), and only whole words of the name ("text Sarah leaving now" keeps "leaving"). Also the recipient's
    resolution."""
    if (SAID_NUMBER.fullmatch(intent.contact.strip()) or last_kind(intent.contact) is not None
            or intent.contact.lower() in PRONOUNS):
        return intent, None
    resolution = resolve_recipient(session, ctx, intent.contact)
    if intent.tool != "send_sms":
        return intent, resolution
    if not resolution.matches:
        return _message_words_out_of_the_name(session, ctx, intent, resolution, request)
    if not intent.text:
        return intent, resolution
    said = set(fold(intent.contact).split())
    tokens = list(re.finditer(r"\S+", intent.text))
    words = [t[0].rstrip(",;:!?.…") for t in tokens]
    taken = 0
    if resolution.unique is not None:
        rest = [w for w in _name_words(session, resolution.unique) if w not in said]
        at = 0
        while taken < len(words) and could_be_name(words[taken]) and fold(words[taken]) in rest[at:]:
            at = rest.index(fold(words[taken]), at) + 1
            taken += 1
    elif words and could_be_name(words[0]):  # several Sarahs, or none: does "sarah lee" find fewer?
        longer = resolve_recipient(session, ctx, f"{intent.contact} {words[0]}")
        if longer.matches and not longer.more and all(fold(words[0]) in _name_words(session, m)
                                                      for m in longer.matches):
            resolution, taken = longer, 1
    if not taken:
        return intent, resolution
    when, text = opening_time(intent.text[tokens[taken - 1].end():], now)
    return dataclasses.replace(intent, contact=" ".join([intent.contact, *words[:taken]]), text=text or None,
                               send_at=intent.send_at or when), resolution


def _message_words_out_of_the_name(session: Session, ctx: Ctx, intent: WriteIntent, resolution: Resolution,
                                   request: str) -> tuple[WriteIntent, Resolution]:
    """A capitalised word opening the message is read into the name ("text Sarah Dinner tonight?" is "Sarah Dinner"
    and "tonight?"): when the name finds nobody, its last words go back to the message if the name without them
    finds someone and none of them is anyone's name ("text Sarah Smith hi" with no Sarah Smith still finds nobody).
    Only when the user said name and words in a row: a name ended by a colon or a comma ("text Sarah Bob: hi") was
    said as one."""
    if " ".join(f"{intent.contact} {intent.text or ''}".split()) not in " ".join(request.split()):
        return intent, resolution
    words = intent.contact.split()
    for cut in range(len(words) - 1, 0, -1):
        shorter = resolve_recipient(session, ctx, " ".join(words[:cut]))
        if not shorter.matches:
            continue
        if any(resolve_recipient(session, ctx, word).matches for word in words[cut:]):
            break
        text = " ".join([*words[cut:], *([intent.text] if intent.text else [])])
        return dataclasses.replace(intent, contact=" ".join(words[:cut]), text=text), shorter
    return intent, resolution


def _name_words(session: Session, match: Match) -> tuple[str, ...]:
    """The folded words of the name of a contact or lead found."""
    if match.kind == "contact":
        contact = session.get(Contact, match.id)
        return name_tokens(contact.name or "") if contact else ()
    lead = session.get(Lead, match.id) if match.kind == "lead" else None
    return name_tokens(lead.name or "", LEAD_STOPWORDS) if lead else ()


def _template_named(session: Session, ctx: Ctx, intent: WriteIntent, now: datetime) -> WriteIntent:
    """A text whose words name a template of the workspace, after "the", "my" or "our" ("text Sarah the showing
    confirmation for 7pm"), is that template with that value, as "send Sarah the showing confirmation for 7pm" is."""
    if intent.tool != "send_sms" or not intent.text or not (asked := template_request(intent.text, now)):
        return intent
    found = resolve_template(session, ctx, asked[0])
    if not found.matches or found.matches[0].score < TEMPLATE_BY_NAME:
        return intent
    return dataclasses.replace(intent, tool="send_template", text=None, template=asked[0], template_value=asked[1])


def _variable_value(name: str, value: str, now: datetime) -> str:
    """A template value as it should read: without a leading "at" ("at 12 Oak St", "at 6:30 tomorrow"), and a time
    for a variable holding one with its clock made plain ("tomorrow at 3" -> "3pm tomorrow", so the showing
    confirmation says "your showing at 3pm tomorrow")."""
    value = value.strip()
    if _TIME_VARIABLE.search(name) and (spoken := spoken_time(value, now)):
        return spoken
    return re.sub(r"^at\s+(?=\S)", "", value, flags=re.I)


def _unrepeated(template_text: str, name: str, value: str) -> str:
    """A value without the words the template itself says around it (`_without_lead_word`, `_without_unit`)."""
    return _without_unit(template_text, name, _without_lead_word(template_text, name, value))


def _without_lead_word(template_text: str, name: str, value: str) -> str:
    """A value without the word the template itself says right before it: "about 15" for "about {{ minutes }}" is
    "15", so the text reads "about 15 minutes late", not "about about 15 minutes late"."""
    before = re.search(r"([^\W\d_]+)\s+\{\{\s*" + re.escape(name) + r"\s*\}\}", template_text)
    words = value.split(maxsplit=1)
    if before is None or len(words) < 2 or words[0].lower() != before.group(1).lower():
        return value
    return words[1]


def _without_unit(template_text: str, name: str, value: str) -> str:
    """A value without the word the template itself says right after it: "15 minutes" (or "15 min") for
    "{{ minutes }} minutes late" is "15", so the text reads "15 minutes late", not "15 minutes minutes late"."""
    after = re.search(r"\{\{\s*" + re.escape(name) + r"\s*\}\}\s+([^\W\d_]+)", template_text)
    words = value.split()
    if after is None or len(words) < 2 or len(words[-1]) < 3:
        return value
    same_word = words[-1].lower()[:3] == after.group(1).lower()[:3]  # "min", "mins", "minutes"
    return " ".join(words[:-1]) if same_word else value


def _ask(result: ChatResult, text: str, choices: list[dict], pending: Pending | None) -> None:
    """Ask the user. The question is the reply, so a choice's name must be in its text: a voice caller hears the
    reply and sees no buttons."""
    _append(result, text)
    result.question = {"text": text, "choices": choices}
    result.pending = pending


def _ask_which(result: ChatResult, said: str, matches: list[Match], pending: Pending) -> None:
    """"Which Smith do you mean: Mary Smith (The Smiths), or David Smith (The Smiths)?", one choice per match."""
    _ask(result, f"Which {said} do you mean: {listing([m.label for m in matches])}?", _choices(matches), pending)


def _choices(matches: list[Match]) -> list[dict]:
    """A question's choices, one per match: a pick answers with "@" and the match's id (`_follow_up`)."""
    return [{"label": m.label, "value": f"@{m.id}"} for m in matches]


def _draft_reply(made: list[Draft]) -> str:
    lines = []
    for draft in made:
        who = _who(draft)
        if draft.tool == unsend.TOOL:
            lines.append(unsend.draft_line(draft.preview))
        elif draft.tool == "call_contact":
            lines.append(f"Call {who}?")
        else:
            lines.append(_text_line(draft, who))
        if draft.problems:
            lines.append("It can't go out yet: " + " ".join(p["message"] for p in draft.problems))
    if any(d.problems for d in made):
        tail = ""
    elif all(d.tool == unsend.TOOL for d in made):
        tail = "Confirm to cancel it, or say no to keep it."
    elif all(d.tool == "call_contact" for d in made):
        tail = "Confirm to call, or cancel."
    elif any(d.tool == "call_contact" for d in made):
        tail = "Confirm to call and send, edit the text, or cancel."
    else:
        tail = "Confirm to send, edit it, or cancel."
    return "\n".join(lines + ([tail] if tail else []))


def _text_line(draft: Draft, who: str) -> str:
    """"Text Sarah Lee tomorrow at 7:00 PM: “...” (goes as 3 texts)", the time in the workspace's zone."""
    preview = draft.preview
    scheduled = preview.get("date_scheduled")
    at = f" {wording.when(scheduled, wording.zone_of(draft))}" if scheduled else ""
    text = preview.get("text") or ""
    note = wording.texts_note(text, preview.get("segments"), preview.get("encoding"))
    return f"Text {who}{at}: \u201c{text}\u201d{note}"


def _sent_reply(activity: Activity) -> str:
    if activity.type == "call":
        return "Calling: your phone will ring first, then I'll connect you."
    if activity.status == "scheduled":
        return f"Scheduled for {wording.when(activity.date_scheduled, wording.zone_of(activity))}."
    if activity.status == "error":
        return f"The carrier refused it: {activity.error_message}"
    return "Sent." if activity.status in ("sent", "delivered", "sending") else f"Saved ({activity.status})."


def _intent_to(intent: WriteIntent | CancelIntent) -> dict:
    if isinstance(intent, CancelIntent):
        return {"kind": "cancel", "contact": intent.contact, "at": intent.at.isoformat() if intent.at else None}
    data = dataclasses.asdict(intent)
    data["send_at"] = intent.send_at.isoformat() if intent.send_at else None
    return data


def _intent_from(data: dict) -> WriteIntent | CancelIntent:
    if data.get("kind") == "cancel":
        return CancelIntent(data["contact"], time.fromisoformat(data["at"]) if data.get("at") else None)
    send_at = datetime.fromisoformat(data["send_at"]) if data.get("send_at") else None
    return WriteIntent(**{**data, "send_at": send_at})
