"""Cody: one user turn in, drafts, a question or an answer out. Never sends; confirming a draft does."""

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant import drafts
from assistant.control import control_of
from assistant.conversations import add_message, last_assistant_data, open_conversation
from assistant.intents import (
    CAPABILITIES,
    Ask,
    Intent,
    ReadIntent,
    Unknown,
    WriteIntent,
)
from assistant.offline import plan as offline_plan
from assistant.planner import Planner, Turn
from assistant.reads import run_read
from assistant.resolve import resolve_recipient, resolve_template
from assistant.settings import AssistantSettings
from db.models import Activity, Contact, Draft, Lead, Organization, User
from db.types import utcnow
from tools.context import Ctx
from tools.messaging import Messaging
from tools.problems import Invalid, ServiceError
from tools.templates import free_variables

log = logging.getLogger("cody.assistant")
MAX_TEXT = 2000


@dataclass
class ChatResult:
    conversation_id: str
    reply: str
    drafts: list[Draft] = field(default_factory=list)
    question: dict | None = None
    activities: list[Activity] = field(default_factory=list)
    pending: dict | None = None


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
            "draft_ids": [d.id for d in result.drafts], "question": result.question, "pending": result.pending})
        session.commit()
        return result

    def _answer(self, session: Session, ctx: Ctx, conversation_id: str, text: str, previous: dict, result: ChatResult) -> None:
        control = control_of(text)
        if control is not None:
            self._control(session, ctx, conversation_id, control, result)
            return
        pending = previous.get("pending")
        if pending and not _is_new_command(text) and self._follow_up(session, ctx, conversation_id, pending, text, result):
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
                result.reply = _sent_reply(activity)
            elif control.action == "cancel":
                draft = drafts.cancel(session, ctx, draft.id)
                result.reply = "Canceled; nothing was sent."
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

    def _follow_up(self, session: Session, ctx: Ctx, conversation_id: str, pending: dict, text: str,
                   result: ChatResult) -> bool:
        intent = _intent_from(pending["intent"])
        needs = pending["needs"]
        if needs == "recipient" and text.startswith("@"):
            contact_ids = self._contact_ids_for(session, ctx, text[1:].strip())
            if not contact_ids:
                return False
            self._draft(session, ctx, conversation_id, intent, contact_ids, result)
            return True
        if needs == "text":
            self._apply(session, ctx, conversation_id, dataclasses.replace(intent, text=text), result)
            return True
        if needs.startswith("variable:"):
            name = needs.split(":", 1)[1]
            filled = dataclasses.replace(intent, variables={**intent.variables, name: text}, template_value=None)
            self._apply(session, ctx, conversation_id, filled, result)
            return True
        return False

    # -- intents --------------------------------------------------------------------------------------------

    def _apply(self, session: Session, ctx: Ctx, conversation_id: str, intent: Intent, result: ChatResult) -> None:
        if isinstance(intent, WriteIntent):
            self._write(session, ctx, conversation_id, intent, result)
        elif isinstance(intent, ReadIntent):
            _append(result, run_read(session, ctx, intent))
        elif isinstance(intent, Ask):
            _append(result, intent.text)
            result.question = {"text": intent.text, "choices": []}
            if intent.partial is not None:
                result.pending = {"intent": _intent_to(intent.partial), "needs": "text"}
        elif isinstance(intent, Unknown):
            _append(result, intent.reply or CAPABILITIES)

    def _write(self, session: Session, ctx: Ctx, conversation_id: str, intent: WriteIntent, result: ChatResult) -> None:
        resolution = resolve_recipient(session, ctx, intent.contact)
        if resolution.ambiguous:
            text = f"Which {intent.contact} do you mean?"
            result.question = {"text": text, "choices": [{"label": m.label, "value": f"@{m.id}"} for m in resolution.matches]}
            result.pending = {"intent": _intent_to(intent), "needs": "recipient"}
            _append(result, text)
            return
        match = resolution.unique
        if match is None:
            _append(result, f"I couldn't find anyone called {intent.contact} in your contacts.")
            return
        if intent.tool == "call_contact" and len(match.contact_ids) > 1:
            text = f"Who at {match.label} should I call?"
            contacts = session.scalars(select(Contact).where(Contact.id.in_(match.contact_ids)).order_by(Contact.name)).all()
            result.question = {"text": text, "choices": [{"label": c.name, "value": f"@{c.id}"} for c in contacts]}
            result.pending = {"intent": _intent_to(intent), "needs": "recipient"}
            _append(result, text)
            return
        if not match.contact_ids:
            _append(result, f"{match.label} has no phone number I can text.")
            return
        self._draft(session, ctx, conversation_id, intent, match.contact_ids, result)

    def _draft(self, session: Session, ctx: Ctx, conversation_id: str, intent: WriteIntent, contact_ids: list[str],
               result: ChatResult) -> None:
        args = {"text": intent.text, "send_at": intent.send_at.isoformat() if intent.send_at else None}
        if intent.tool == "send_template":
            template_args = self._template_args(session, ctx, intent, result)
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

    def _template_args(self, session: Session, ctx: Ctx, intent: WriteIntent, result: ChatResult) -> tuple[str, dict] | None:
        resolution = resolve_template(session, ctx, intent.template or "")
        if resolution.ambiguous:
            names = ", ".join(m.label for m in resolution.matches)
            _append(result, f"Which template do you mean: {names}?")
            result.question = {"text": "Which template?", "choices": [
                {"label": m.label, "value": f"send {intent.contact} the {m.label}"} for m in resolution.matches]}
            return None
        template = resolution.unique
        if template is None:
            _append(result, f"I couldn't find a template called {intent.template!r}.")
            return None
        needed = sorted(free_variables(template.text))
        variables = dict(intent.variables)
        missing = [n for n in needed if n not in variables]
        if intent.template_value and len(missing) == 1:
            variables[missing.pop()] = intent.template_value
        if missing:
            text = f"What should I use for {missing[0]} in the {template.label}?"
            _append(result, text)
            result.question = {"text": text, "choices": []}
            result.pending = {"intent": _intent_to(dataclasses.replace(intent, variables=variables, template_value=None)),
                              "needs": f"variable:{missing[0]}"}
            return None
        return template.id, variables

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
    return isinstance(offline_plan(text, utcnow()), (WriteIntent, ReadIntent))


def _append(result: ChatResult, text: str) -> None:
    result.reply = f"{result.reply}\n{text}".strip()


def _draft_reply(made: list[Draft]) -> str:
    lines = []
    for draft in made:
        who = draft.preview.get("contact_name") or draft.preview.get("to") or "them"
        if draft.tool == "call_contact":
            lines.append(f"Call {who}?")
        else:
            when = f" at {draft.preview['date_scheduled']}" if draft.preview.get("date_scheduled") else ""
            lines.append(f"Text {who}{when}: \u201c{draft.preview.get('text', '')}\u201d")
        if draft.problems:
            lines.append("It can't go out yet: " + " ".join(p["message"] for p in draft.problems))
    tail = "Confirm to send, edit it, or cancel." if all(not d.problems for d in made) else ""
    return "\n".join(lines + ([tail] if tail else []))


def _sent_reply(activity: Activity) -> str:
    if activity.type == "call":
        return "Calling: your phone will ring first, then I'll connect you."
    if activity.status == "scheduled":
        return f"Scheduled for {activity.date_scheduled.isoformat()}."
    if activity.status == "error":
        return f"The carrier refused it: {activity.error_message}"
    return "Sent." if activity.status in ("sent", "delivered", "sending") else f"Saved ({activity.status})."


def _intent_to(intent: WriteIntent) -> dict:
    data = dataclasses.asdict(intent)
    data["send_at"] = intent.send_at.isoformat() if intent.send_at else None
    return data


def _intent_from(data: dict) -> WriteIntent:
    send_at = datetime.fromisoformat(data["send_at"]) if data.get("send_at") else None
    return WriteIntent(**{**data, "send_at": send_at})
