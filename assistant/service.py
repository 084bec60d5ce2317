"""Cody: one user turn in, drafts, a question or an answer out. Never sends; confirming a draft does."""

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant import drafts, unsend
from assistant.choices import listing, name_of, pick
from assistant.control import control_of
from assistant.conversations import add_message, last_assistant_data, open_conversation
from assistant.intents import (
    CAPABILITIES,
    Ask,
    CancelIntent,
    Intent,
    ReadIntent,
    Unknown,
    WriteIntent,
)
from assistant.offline import plan as offline_plan
from assistant.planner import Planner, Turn
from assistant.reads import run_read
from assistant.resolve import Match, TemplateMatch, resolve_recipient, resolve_template, template_by_id
from assistant.settings import AssistantSettings
from db.models import Activity, Contact, Draft, Lead, Organization, User
from db.types import utcnow
from tools.context import Ctx
from tools.messaging import Messaging
from tools.problems import Invalid, ServiceError
from tools.templates import free_variables

log = logging.getLogger("cody.assistant")
MAX_TEXT = 2000
DROPPED = "Okay, I've dropped that; nothing was sent."
NOT_CAUGHT = "I didn't catch which one."


@dataclass(frozen=True)
class Pending:
    """A request waiting for the answer to Cody's question, kept in the conversation until the next turn."""

    intent: WriteIntent | CancelIntent
    needs: str  # "text", "recipient", "template", "variable:<name>" or "message" (which waiting text to cancel)
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


@dataclass
class ChatResult:
    conversation_id: str
    reply: str
    drafts: list[Draft] = field(default_factory=list)
    question: dict | None = None
    activities: list[Activity] = field(default_factory=list)
    pending: Pending | None = None


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
        result = ChatResult(conversation_id=conversation.id, reply="")
        self._answer(session, ctx, conversation.id, text, last_assistant_data(session, conversation), result)
        add_message(session, conversation, "assistant", result.reply, {
            "draft_ids": [d.id for d in result.drafts], "question": result.question,
            "pending": result.pending.to_data() if result.pending else None})
        session.commit()
        return result

    def _answer(self, session: Session, ctx: Ctx, conversation_id: str, text: str, previous: dict, result: ChatResult) -> None:
        """Decided by code, in this order: a cancel drops a pending question; the answer to "What should I say?" is
        the message, whatever it says; yes, no and "change it to" act on drafts; an answer to any other question
        carries its request on, unless it is a new request; anything else goes to the planner."""
        pending = Pending.from_data(previous.get("pending"))
        control = control_of(text)
        if pending is not None and control is not None and control.action == "cancel":
            result.reply = DROPPED
            return
        if pending is not None and pending.needs == "text":
            self._resume(session, ctx, conversation_id, dataclasses.replace(
                pending, intent=dataclasses.replace(pending.intent, text=text)), result)
            return
        if control is not None:
            self._control(session, ctx, conversation_id, control, result)
            return
        question = previous.get("question") or {}
        if pending is not None and self._follow_up(session, ctx, conversation_id, pending, question, text, result):
            return
        turn = self._turn(session, ctx, text)
        for intent in self.planner.plan(turn, lambda read: run_read(session, ctx, read)):
            self._apply(session, ctx, conversation_id, intent, result)

    def _turn(self, session: Session, ctx: Ctx, text: str) -> Turn:
        org = session.get(Organization, ctx.organization_id)
        user = session.get(User, ctx.user_id)
        now = utcnow().astimezone(ZoneInfo(org.timezone))
        return Turn(text=text, now=now, user_name=user.display_name, organization_name=org.name, timezone=org.timezone)

    # -- confirm, cancel, edit by word ----------------------------------------------------------------------

    def _control(self, session: Session, ctx: Ctx, conversation_id: str, control, result: ChatResult) -> None:
        waiting = drafts.pending_in_conversation(session, ctx, conversation_id)
        if not waiting:
            result.reply = "There's nothing waiting for your confirmation."
            return
        if len(waiting) > 1:
            result.reply = f"You have {len(waiting)} drafts waiting; use the buttons on the one you mean."
            result.drafts = waiting
            return
        draft = waiting[0]
        try:
            if control.action == "confirm":
                draft, activity = drafts.confirm(session, ctx, self.messaging, draft.id)
                result.activities.append(activity)
                result.reply = (unsend.done_reply(draft.preview) if draft.tool == unsend.TOOL
                                else _sent_reply(activity))
            elif control.action == "cancel":
                draft = drafts.cancel(session, ctx, draft.id)
                result.reply = (unsend.kept_reply(draft.preview) if draft.tool == unsend.TOOL
                                else "Canceled; nothing was sent.")
            else:
                draft = drafts.edit(session, ctx, self.messaging, draft.id, {"text": control.text},
                                    self.settings.draft_ttl_minutes)
                result.reply = _draft_reply([draft])
        except ServiceError as exc:
            session.rollback()
            draft = session.get(Draft, draft.id)
            result.reply = f"I couldn't do that: {exc.message}"
        result.drafts = [draft]

    # -- answers to Cody's own questions --------------------------------------------------------------------

    def _follow_up(self, session: Session, ctx: Ctx, conversation_id: str, pending: Pending, question: dict, text: str,
                   result: ChatResult) -> bool:
        """Carry the pending request on with this answer; False when the text is a new request instead."""
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
            self._write(session, ctx, conversation_id, intent, result)
        elif isinstance(intent, CancelIntent):
            self._unsend(session, ctx, conversation_id, intent, result)
        elif isinstance(intent, ReadIntent):
            _append(result, run_read(session, ctx, intent))
        elif isinstance(intent, Ask):
            _ask(result, intent.text, [], Pending(intent.partial, "text") if intent.partial is not None else None)
        elif isinstance(intent, Unknown):
            _append(result, intent.reply or CAPABILITIES)

    def _write(self, session: Session, ctx: Ctx, conversation_id: str, intent: WriteIntent, result: ChatResult) -> None:
        match = _recipient(session, ctx, intent, result)
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
        args = {"text": intent.text, "send_at": intent.send_at.isoformat() if intent.send_at else None}
        if intent.tool == "send_template":
            template_args = self._template_args(session, ctx, intent, contact_ids, template_id, result)
            if template_args is None:
                return
            args = {"template_id": template_args[0], "variables": template_args[1], "send_at": args["send_at"]}
        made = []
        for contact_id in contact_ids:
            draft_args = {**args, "contact_id": contact_id}
            prepared = drafts.prepare_args(session, ctx, self.messaging, intent.tool, draft_args)
            made.append(drafts.create_draft(session, ctx, intent.tool, draft_args, prepared, conversation_id,
                                            self.settings.draft_ttl_minutes))
        result.drafts.extend(made)
        _append(result, _draft_reply(made))

    def _template_args(self, session: Session, ctx: Ctx, intent: WriteIntent, contact_ids: list[str],
                       template_id: str | None, result: ChatResult) -> tuple[str, dict] | None:
        template = self._template(session, ctx, intent, contact_ids, template_id, result)
        if template is None:
            return None
        needed = sorted(free_variables(template.text))
        variables = dict(intent.variables)
        missing = [n for n in needed if n not in variables]
        if intent.template_value and len(missing) == 1:
            variables[missing.pop()] = intent.template_value
        if missing:
            waiting = dataclasses.replace(intent, variables=variables, template_value=None)
            _ask(result, f"What should I use for {missing[0]} in the {template.label}?", [],
                 Pending(waiting, f"variable:{missing[0]}", tuple(contact_ids), template.id))
            return None
        return template.id, variables

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
            at = f" at {unsend.clock(intent.at)}" if intent.at else ""
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

    def _zone(self, session: Session, ctx: Ctx) -> ZoneInfo:
        return ZoneInfo(session.get(Organization, ctx.organization_id).timezone)

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


def _is_new_command(text: str) -> bool:
    """An answer to Cody's question ("6:30pm") versus a fresh request ("text Sarah hi"), decided by code."""
    return isinstance(offline_plan(text, utcnow()), (WriteIntent, CancelIntent, ReadIntent))


def _append(result: ChatResult, text: str) -> None:
    result.reply = f"{result.reply}\n{text}".strip()


def _recipient(session: Session, ctx: Ctx, intent: WriteIntent | CancelIntent, result: ChatResult) -> Match | None:
    """The one contact or lead the request names; several that fit make a question, none a plain reply."""
    resolution = resolve_recipient(session, ctx, intent.contact)
    if resolution.ambiguous:
        _ask_which(result, intent.contact, resolution.matches, Pending(intent, "recipient"))
        return None
    if resolution.unique is None:
        _append(result, f"I couldn't find anyone called {intent.contact} in your contacts.")
    return resolution.unique


def _ask(result: ChatResult, text: str, choices: list[dict], pending: Pending | None) -> None:
    """Ask the user. The question is the reply, so a choice's name must be in its text: a voice caller hears the
    reply and sees no buttons."""
    _append(result, text)
    result.question = {"text": text, "choices": choices}
    result.pending = pending


def _ask_which(result: ChatResult, said: str, matches: list[Match], pending: Pending) -> None:
    """"Which Smith do you mean: Mary Smith (The Smiths), or David Smith (The Smiths)?", one choice per match."""
    _ask(result, f"Which {said} do you mean: {listing([m.label for m in matches])}?",
         [{"label": m.label, "value": f"@{m.id}"} for m in matches], pending)


def _draft_reply(made: list[Draft]) -> str:
    lines = []
    for draft in made:
        who = draft.preview.get("contact_name") or draft.preview.get("to") or "them"
        if draft.tool == unsend.TOOL:
            lines.append(unsend.draft_line(draft.preview))
        elif draft.tool == "call_contact":
            lines.append(f"Call {who}?")
        else:
            when = f" at {draft.preview['date_scheduled']}" if draft.preview.get("date_scheduled") else ""
            lines.append(f"Text {who}{when}: \u201c{draft.preview.get('text', '')}\u201d")
        if draft.problems:
            lines.append("It can't go out yet: " + " ".join(p["message"] for p in draft.problems))
    if any(d.problems for d in made):
        tail = ""
    elif all(d.tool == unsend.TOOL for d in made):
        tail = "Confirm to cancel it, or say no to keep it."
    else:
        tail = "Confirm to send, edit it, or cancel."
    return "\n".join(lines + ([tail] if tail else []))


def _sent_reply(activity: Activity) -> str:
    if activity.type == "call":
        return "Calling: your phone will ring first, then I'll connect you."
    if activity.status == "scheduled":
        return f"Scheduled for {activity.date_scheduled.isoformat()}."
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
