"""The Slack bot: slash commands, messages and buttons, mounted at /api/slack/events.

Slack Bolt (async) verifies every request (v0 HMAC signature, timestamps older than five minutes refused) and
calls auth.test on its first request. Listeners ack() at once and then do the work: the sync database calls run
in a worker thread, and the answer goes back through the command's or button's response_url (or
chat.postMessage / chat.postEphemeral for direct messages and mentions).

A Slack user acts as the Cody user they linked with `/cody link CODE` (a code from POST /api/slack/link-code),
otherwise as the Cody user whose email Slack's users.info reports. Slack has no send logic of its own: the
assistant makes drafts and assistant.drafts confirms, edits and cancels them, exactly as for the chat API.

Retried Events API deliveries (X-Slack-Retry-Num) are recognised by event_id and do nothing twice; slash commands
and buttons are not retried by Slack, and a draft can be confirmed only once anyway.

Without SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN the bot is off and /api/slack/events answers 503.
"""

import asyncio
import json
import logging
import re
import time
from datetime import UTC, timedelta

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import Response
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api import slack_blocks as kit
from api.deps import CurrentCtx, SessionDep
from api.v1.shapes import iso
from assistant import drafts
from assistant.service import Assistant
from db.models import Activity, Conversation, ConversationMessage, User
from db.types import utcnow
from tools import slack_links
from tools.context import Ctx
from tools.problems import Forbidden, NotFound, ServiceError

log = logging.getLogger("cody.slack")
# Bolt's loggers copy this one's level: at INFO Bolt would log the bodies of refused requests.
bolt_log = logging.getLogger("cody.slack.bolt")
bolt_log.setLevel(logging.WARNING)
# Bolt also reads SLACK_BOT_TOKEN itself and warns that our client's token wins; both are the same token.
bolt_log.addFilter(lambda record: "`token` will be unused" not in record.getMessage())

router = APIRouter(include_in_schema=False)

OFF_MESSAGE = "Slack isn't configured: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN to turn the Slack bot on."
EDIT_ACK_SECONDS = 2.0  # a modal submission must be answered within 3 s; errors shown in the modal if ready by then
WORKING = "Working on it\u2026"
OOPS = ("Something went wrong on Cody's side. Check the draft on Cody's web page before trying again.")
LINK_HINT = "link your Slack account with `/cody link CODE` (get a code on Cody's web page)"


class SlackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_api_base_url: str = "https://slack.com/api/"
    slack_conversation_idle_minutes: int = 30  # a Slack turn continues the user's last conversation if this recent
    slack_link_code_minutes: int = 15
    slack_email_cache_seconds: float = 300.0

    @property
    def enabled(self) -> bool:
        return bool(self.slack_signing_secret and self.slack_signing_secret.get_secret_value()
                    and self.slack_bot_token and self.slack_bot_token.get_secret_value())


def slack_settings(app: FastAPI) -> SlackSettings:
    """The app's Slack settings (app.state.slack_settings when a caller set it, else the environment)."""
    settings = getattr(app.state, "slack_settings", None)
    if settings is None:
        settings = app.state.slack_settings = SlackSettings()
    return settings


def slack_bot(app: FastAPI) -> "SlackBot | None":
    """The app's Bolt bot, built on first use; None when Slack is not configured."""
    if not hasattr(app.state, "slack_bot"):
        settings = slack_settings(app)
        app.state.slack_bot = SlackBot(settings, app.state.factory, app.state.assistant) if settings.enabled else None
    return app.state.slack_bot


@router.post("/events")
async def events(request: Request) -> Response:
    """Events API, slash commands and interactivity (buttons, modals) all arrive here."""
    bot = slack_bot(request.app)
    if bot is None:
        raise HTTPException(503, OFF_MESSAGE)
    return await bot.handler.handle(request)


@router.get("/status")
def status(request: Request, ctx: CurrentCtx) -> dict:
    return {"enabled": slack_settings(request.app).enabled}


@router.post("/link-code")
def link_code(request: Request, session: SessionDep, ctx: CurrentCtx) -> dict:
    """A one-time code for the signed-in user to type as `/cody link CODE` in Slack."""
    settings = slack_settings(request.app)
    if not settings.enabled:
        raise HTTPException(503, OFF_MESSAGE)
    code = slack_links.issue_link_code(session, ctx, settings.slack_link_code_minutes)
    return {"code": code.code, "command": f"/cody link {code.code}", "expires_at": iso(code.expires_at)}


class Who:
    """A Slack user's Cody identity, or the reason there is none (said to them as is)."""

    def __init__(self, ctx: Ctx | None, problem: str | None = None):
        self.ctx, self.problem = ctx, problem


Message = tuple[str, list[dict] | None]


class SlackBot:
    def __init__(self, settings: SlackSettings, factory: sessionmaker[Session], assistant: Assistant):
        self.settings = settings
        self.factory = factory
        self.assistant = assistant
        token = settings.slack_bot_token.get_secret_value()
        self.client = AsyncWebClient(token=token, base_url=settings.slack_api_base_url, logger=log)
        self.app = AsyncApp(name="cody", client=self.client, logger=bolt_log, process_before_response=False,
                            signing_secret=settings.slack_signing_secret.get_secret_value())
        self.handler = AsyncSlackRequestHandler(self.app)
        self._emails: dict[str, tuple[float, str | None, str | None]] = {}

        app = self.app
        app.use(self._once_per_event)
        app.command(re.compile(r"^/"))(self._command)
        app.event("message")(self._direct_message)
        app.event("app_mention")(self._mention)
        app.action(kit.CONFIRM)(self._confirm)
        app.action(kit.CANCEL)(self._cancel)
        app.action(kit.EDIT)(self._edit)
        app.action(re.compile(f"^{kit.CHOICE}_"))(self._choice)
        app.view(kit.EDIT_MODAL)(self._edit_submitted)
        app.error(self._error)

    # -- middleware -----------------------------------------------------------------------------------------

    async def _once_per_event(self, body: dict, next, req) -> BoltResponse | None:
        """An Events API event is handled once per event_id: Slack's retries (X-Slack-Retry-Num) only get 200."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await asyncio.to_thread(self._first_delivery, str(event_id)):
            retry = (req.headers.get("x-slack-retry-num") or ["-"])[0]
            log.info("slack event %s already handled; delivery (retry %s) ignored", event_id, retry)
            return BoltResponse(status=200, body="")
        return await next()

    def _first_delivery(self, event_id: str) -> bool:
        with self.factory() as session:
            return slack_links.first_delivery(session, event_id)

    async def _error(self, error: Exception, body: dict) -> None:
        log.error("slack listener failed: %r", error, exc_info=error)

    # -- who is asking --------------------------------------------------------------------------------------

    async def who(self, team_id: str | None, slack_user_id: str | None) -> Who:
        if not slack_user_id:
            return Who(None, "I couldn't tell who sent that.")
        linked = await asyncio.to_thread(self._linked, team_id, slack_user_id)
        if linked is not None:
            return Who(linked)
        email, problem = await self._email(slack_user_id)
        if email is None:
            return Who(None, problem)
        try:
            ctx = await asyncio.to_thread(self._by_email, email)
        except ServiceError as exc:
            return Who(None, kit.escape(exc.message))
        if ctx is None:
            return Who(None, f"I don't know you yet: no Cody user has the email {kit.escape(email)}. "
                             "Ask a Cody admin to add you, "
                             f"or {LINK_HINT}. Nothing was drafted or sent.")
        return Who(ctx)

    def _linked(self, team_id: str | None, slack_user_id: str) -> Ctx | None:
        with self.factory() as session:
            return slack_links.linked_ctx(session, team_id, slack_user_id)

    def _by_email(self, email: str) -> Ctx | None:
        with self.factory() as session:
            return slack_links.ctx_for_email(session, email)

    async def _email(self, slack_user_id: str) -> tuple[str | None, str | None]:
        """The user's confirmed Slack email (users.info, cached briefly), or why there is none."""
        cached = self._emails.get(slack_user_id)
        if cached and cached[0] > time.monotonic():
            return cached[1], cached[2]
        try:
            user = (await self.client.users_info(user=slack_user_id)).get("user") or {}
        except SlackApiError as exc:
            log.warning("users.info for %s failed: %s", slack_user_id, exc.response.get("error"))
            return None, f"I couldn't look you up in Slack; {LINK_HINT}."
        email = ((user.get("profile") or {}).get("email") or "").strip().lower() or None
        problem = None
        if user.get("is_bot") or user.get("deleted"):
            email, problem = None, "Only people can use Cody."
        elif email is None:
            problem = f"Slack didn't share your email with Cody; {LINK_HINT}."
        elif user.get("is_email_confirmed") is False:
            email, problem = None, f"Your Slack email isn't confirmed yet; confirm it in Slack, or {LINK_HINT}."
        self._emails[slack_user_id] = (time.monotonic() + self.settings.slack_email_cache_seconds, email, problem)
        return email, problem

    # -- a turn with the assistant --------------------------------------------------------------------------

    async def converse(self, team_id: str | None, slack_user_id: str, text: str, conversation_id: str | None = None,
                       command: str = "/cody") -> Message:
        """Answer what the user wrote: `link CODE`, `unlink`, or a request for the assistant."""
        word, _, rest = text.partition(" ")
        if word.lower() == "link" and slack_links.looks_like_code(rest.strip()):
            return await asyncio.to_thread(self._link, team_id, slack_user_id, rest.strip()), None
        if text.lower() == "unlink":
            return await asyncio.to_thread(self._unlink, team_id, slack_user_id), None
        if not text or text.lower() == "help":
            return kit.help_blocks(command)
        who = await self.who(team_id, slack_user_id)
        if who.ctx is None:
            return who.problem, None
        return await asyncio.to_thread(self._turn, who.ctx, text, conversation_id)

    def _link(self, team_id: str | None, slack_user_id: str, code: str) -> str:
        with self.factory() as session:
            try:
                ctx = slack_links.redeem_link_code(session, team_id, slack_user_id, code)
            except ServiceError as exc:
                return kit.escape(exc.message)
            user = session.get(User, ctx.user_id)
            name, email = user.display_name, user.email
        return kit.escape(f"Linked: in Slack you are now {name} ({email}) in Cody.")

    def _unlink(self, team_id: str | None, slack_user_id: str) -> str:
        with self.factory() as session:
            gone = slack_links.unlink(session, team_id, slack_user_id)
        return ("Unlinked. Cody will know you by your Slack email again." if gone
                else "Your Slack account wasn't linked with a code; Cody knows you by your Slack email.")

    def _turn(self, ctx: Ctx, text: str, conversation_id: str | None) -> Message:
        with self.factory() as session:
            if conversation_id is not None:
                conversation_id = session.scalar(select(Conversation.id).where(
                    Conversation.id == conversation_id, Conversation.organization_id == ctx.organization_id,
                    Conversation.user_id == ctx.user_id))
            if conversation_id is None:
                conversation_id = recent_conversation(session, ctx, self.settings.slack_conversation_idle_minutes)
            try:
                result = self.assistant.handle(session, ctx, text, conversation_id)
            except ServiceError as exc:
                session.rollback()
                return kit.escape(exc.message), None
            return kit.result_message(result)

    # -- slash command, direct messages, mentions ----------------------------------------------------------

    async def _command(self, ack, command: dict, respond, context) -> None:
        text = kit.from_slack(command.get("text") or "")
        name = command.get("command") or "/cody"
        if not text or text.lower() == "help":
            fallback, blocks = kit.help_blocks(name)
            await ack(response_type="ephemeral", text=fallback, blocks=blocks)
            return
        await ack(response_type="ephemeral", text=WORKING)
        try:
            fallback, blocks = await self.converse(context.team_id, command.get("user_id"), text, command=name)
        except Exception:
            log.exception("slash command from %s failed", command.get("user_id"))
            fallback, blocks = OOPS, None
        await respond(response_type="ephemeral", text=fallback, blocks=blocks)

    async def _direct_message(self, event: dict, context, client: AsyncWebClient) -> None:
        """Plain messages in the app's DM; edits, bot posts and channel messages are not requests."""
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return
        text = kit.from_slack(event.get("text") or "", context.bot_user_id)
        try:
            fallback, blocks = await self.converse(context.team_id, event["user"], text)
        except Exception:
            log.exception("direct message from %s failed", event.get("user"))
            fallback, blocks = OOPS, None
        await client.chat_postMessage(channel=event["channel"], text=fallback, blocks=blocks,
                                      thread_ts=event.get("thread_ts"))

    async def _mention(self, event: dict, context, client: AsyncWebClient) -> None:
        """A mention in a channel: the answer (drafts included) is shown to the person who asked only."""
        channel = event.get("channel") or ""
        if channel.startswith("D") or event.get("bot_id") or not event.get("user"):
            return  # a DM is answered by _direct_message
        text = kit.from_slack(event.get("text") or "", context.bot_user_id)
        word = text.partition(" ")[0].lower()
        try:
            if word in ("link", "unlink"):
                fallback, blocks = "Link your account with `/cody link CODE` or in a direct message to me.", None
            else:
                fallback, blocks = await self.converse(context.team_id, event["user"], text)
        except Exception:
            log.exception("mention from %s failed", event.get("user"))
            fallback, blocks = OOPS, None
        await client.chat_postEphemeral(channel=channel, user=event["user"], text=fallback, blocks=blocks,
                                        thread_ts=event.get("thread_ts"))

    # -- buttons --------------------------------------------------------------------------------------------

    async def _confirm(self, ack, body: dict, action: dict, respond, context) -> None:
        await ack()
        await self._decide(body, action, respond, context, "confirm")

    async def _cancel(self, ack, body: dict, action: dict, respond, context) -> None:
        await ack()
        await self._decide(body, action, respond, context, "cancel")

    async def _decide(self, body: dict, action: dict, respond, context, verb: str) -> None:
        draft_id = str(action.get("value") or "")
        try:
            who = await self.who(context.team_id, (body.get("user") or {}).get("id"))
            if who.ctx is None:
                await respond(text=who.problem, response_type="ephemeral", replace_original=False)
                return
            fallback, blocks, replace = await asyncio.to_thread(self._run_decision, who.ctx, draft_id, verb)
        except Exception:
            log.exception("slack %s of %s failed", verb, draft_id)
            fallback, blocks, replace = OOPS, None, False
        await respond(text=fallback, blocks=blocks, replace_original=replace, response_type="ephemeral")

    def _run_decision(self, ctx: Ctx, draft_id: str, verb: str) -> tuple[str, list[dict] | None, bool]:
        with self.factory() as session:
            try:
                if verb == "confirm":
                    draft, activity = drafts.confirm(session, ctx, self.assistant.messaging, draft_id)
                else:
                    draft, activity = drafts.cancel(session, ctx, draft_id), None
                return kit.draft_text(draft, activity), kit.draft_blocks(draft, activity), True
            except (NotFound, Forbidden) as exc:
                session.rollback()
                return kit.escape(exc.message), None, False
            except ServiceError as exc:
                session.rollback()
                draft = drafts.get_draft(session, ctx, draft_id)
                activity = session.get(Activity, draft.activity_id) if draft.activity_id else None
                return kit.escape(exc.message), kit.draft_blocks(draft, activity, note=exc.message), True

    async def _edit(self, ack, body: dict, action: dict, respond, context, client: AsyncWebClient) -> None:
        """Open a modal with the draft's exact text (a trigger_id lives about 3 s, so this goes first)."""
        await ack()
        draft_id = str(action.get("value") or "")
        try:
            who = await self.who(context.team_id, (body.get("user") or {}).get("id"))
            if who.ctx is None:
                await respond(text=who.problem, response_type="ephemeral", replace_original=False)
                return
            found = await asyncio.to_thread(self._editable, who.ctx, draft_id)
            if isinstance(found, str):
                await respond(text=found, response_type="ephemeral", replace_original=False)
                return
            view = found(metadata={"draft_id": draft_id, "response_url": body.get("response_url")})
            await client.views_open(trigger_id=body["trigger_id"], view=view)
        except Exception:
            log.exception("slack edit of %s failed", draft_id)
            await respond(text=OOPS, response_type="ephemeral", replace_original=False)

    def _editable(self, ctx: Ctx, draft_id: str):
        """A function making the edit modal for a draft the user may edit now, or why they can't."""
        with self.factory() as session:
            try:
                draft = drafts.get_draft(session, ctx, draft_id)
            except NotFound as exc:
                return kit.escape(exc.message)
            if draft.user_id != ctx.user_id:
                return "This draft belongs to another user; only they can edit it."
            if draft.state != "pending":
                return drafts.settled(draft, "edit")
            if draft.expires_at <= utcnow():
                return "This draft is expired; nothing can be changed. Ask Cody again to make a new one."
            text = (draft.preview or {}).get("text") or (draft.args or {}).get("text") or ""
            modal = kit.edit_modal(draft, text, {})

        def make(metadata: dict) -> dict:
            return {**modal, "private_metadata": json.dumps(metadata)}
        return make

    async def _edit_submitted(self, ack, body: dict, view: dict, context) -> None:
        """Save the new text through drafts.edit; a refusal is shown in the modal when it comes back in time."""
        metadata = _metadata(view)
        values = ((view.get("state") or {}).get("values") or {}).get(kit.EDIT_BLOCK) or {}
        text = ((values.get(kit.EDIT_INPUT) or {}).get("value") or "").strip()
        if not text:
            await ack(response_action="errors", errors={kit.EDIT_BLOCK: "Write the text to send."})
            return
        draft_id = str(metadata.get("draft_id") or "")
        slack_user_id = (body.get("user") or {}).get("id")

        async def work() -> tuple[str | None, Message]:
            who = await self.who(context.team_id, slack_user_id)
            if who.ctx is None:
                return who.problem, (who.problem, None)
            return await asyncio.to_thread(self._run_edit, who.ctx, draft_id, text)

        task = asyncio.ensure_future(work())
        done, _ = await asyncio.wait({task}, timeout=EDIT_ACK_SECONDS)
        if done and task.exception() is None and task.result()[0] is not None:
            await ack(response_action="errors", errors={kit.EDIT_BLOCK: task.result()[0][:1000]})
            return
        await ack()
        try:
            error, (fallback, blocks) = await task
        except Exception:
            log.exception("slack edit of %s failed", draft_id)
            error, fallback, blocks = OOPS, OOPS, None
        url = metadata.get("response_url")
        if not url:
            return
        webhook = AsyncWebhookClient(url, logger=log)
        if error is not None:
            response = await webhook.send(text=fallback, response_type="ephemeral", replace_original=False)
        else:
            response = await webhook.send(text=fallback, blocks=blocks, replace_original=True)
        if response.status_code != 200:
            log.warning("slack response_url answered %s: %s", response.status_code, response.body)

    def _run_edit(self, ctx: Ctx, draft_id: str, text: str) -> tuple[str | None, Message]:
        with self.factory() as session:
            try:
                draft = drafts.edit(session, ctx, self.assistant.messaging, draft_id, {"text": text},
                                    self.assistant.settings.draft_ttl_minutes)
            except ServiceError as exc:
                session.rollback()
                return exc.message, (kit.escape(exc.message), None)
            return None, (kit.draft_text(draft), kit.draft_blocks(draft, note=None))

    async def _choice(self, ack, body: dict, action: dict, respond, context) -> None:
        """A button answering Cody's question: its value is the next turn of that conversation."""
        await ack()
        conversation_id = str(action.get("block_id") or "").removeprefix(kit.QUESTION_BLOCK) or None
        try:
            fallback, blocks = await self.converse(context.team_id, (body.get("user") or {}).get("id"),
                                                   str(action.get("value") or ""), conversation_id)
        except Exception:
            log.exception("slack choice failed")
            fallback, blocks = OOPS, None
        await respond(text=fallback, blocks=blocks, replace_original=True, response_type="ephemeral")


def _metadata(view: dict) -> dict:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def recent_conversation(session: Session, ctx: Ctx, idle_minutes: int) -> str | None:
    """The user's latest Slack conversation if its last message is recent, so "yes" or an answer follows on."""
    conversation = session.scalar(select(Conversation).where(
        Conversation.organization_id == ctx.organization_id, Conversation.user_id == ctx.user_id,
        Conversation.channel == "slack").order_by(Conversation.date_created.desc()).limit(1))
    if conversation is None:
        return None
    last = session.scalar(select(func.max(ConversationMessage.date_created))
                          .where(ConversationMessage.conversation_id == conversation.id))
    if last is None:
        return None
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return conversation.id if last >= utcnow() - timedelta(minutes=idle_minutes) else None
