"""The chat API: the web page, Slack and voice all talk to Cody through these routes."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from api.deps import CurrentCtx, SessionDep
from api.errors import CONFLICT, FORBIDDEN
from api.v1.call_shapes import call_json
from api.v1.shapes import iso
from api.v1.sms_shapes import sms_json
from assistant import drafts
from assistant.conversations import messages, open_conversation
from assistant.service import Assistant
from assistant.setup import planner_status
from db.models import Activity, Draft
from tools.context import Ctx
from tools.problems import NotFound

router = APIRouter(tags=["chat"])


def get_assistant(request: Request) -> Assistant:
    return request.app.state.assistant


AssistantDep = Annotated[Assistant, Depends(get_assistant)]


class MessageIn(BaseModel):
    text: str = Field(max_length=4000)
    conversation_id: str | None = Field(default=None, max_length=40)


class DraftPatch(BaseModel):
    args: dict[str, Any]


def chat_ctx(ctx: Ctx) -> Ctx:
    return Ctx(ctx.organization_id, ctx.user_id, "chat", permissions=ctx.permissions, role=ctx.role)


def activity_json(activity: Activity) -> dict:
    return call_json(activity) if activity.type == "call" else sms_json(activity)


def draft_json(draft: Draft) -> dict:
    return {"id": draft.id, "tool": draft.tool, "state": draft.state, "args": draft.args, "preview": draft.preview,
            "problems": draft.problems, "expires_at": iso(draft.expires_at), "activity_id": draft.activity_id,
            "error": draft.error, "channel": draft.channel}


@router.get("/status")
def status(assistant: AssistantDep, ctx: CurrentCtx) -> dict:
    return planner_status(assistant)


@router.post("/messages")
def post_message(body: MessageIn, session: SessionDep, ctx: CurrentCtx, assistant: AssistantDep) -> dict:
    result = assistant.handle(session, chat_ctx(ctx), body.text, body.conversation_id)
    return {"conversation_id": result.conversation_id, "reply": result.reply,
            "drafts": [draft_json(d) for d in result.drafts], "question": result.question,
            "activities": [activity_json(a) for a in result.activities]}


@router.post("/drafts/{draft_id}/confirm", responses=FORBIDDEN | CONFLICT)
def confirm(draft_id: str, session: SessionDep, ctx: CurrentCtx, assistant: AssistantDep) -> dict:
    draft, activity = drafts.confirm(session, chat_ctx(ctx), assistant.messaging, draft_id)
    return {**draft_json(draft), "activity": activity_json(activity)}


@router.patch("/drafts/{draft_id}", responses=FORBIDDEN | CONFLICT)
def edit(draft_id: str, body: DraftPatch, session: SessionDep, ctx: CurrentCtx, assistant: AssistantDep) -> dict:
    draft = drafts.edit(session, chat_ctx(ctx), assistant.messaging, draft_id, body.args,
                        assistant.settings.draft_ttl_minutes)
    return draft_json(draft)


@router.post("/drafts/{draft_id}/cancel", responses=FORBIDDEN | CONFLICT)
def cancel(draft_id: str, session: SessionDep, ctx: CurrentCtx) -> dict:
    return draft_json(drafts.cancel(session, chat_ctx(ctx), draft_id))


@router.get("/drafts/{draft_id}")
def get_draft(draft_id: str, session: SessionDep, ctx: CurrentCtx) -> dict:
    draft = drafts.get_draft(session, ctx, draft_id)
    if draft.user_id != ctx.user_id:
        raise NotFound("Draft not found.")
    return draft_json(draft)


@router.get("/conversations/{conversation_id}")
def get_conversation(conversation_id: str, session: SessionDep, ctx: CurrentCtx) -> dict:
    conversation = open_conversation(session, ctx, conversation_id)
    return {"id": conversation.id, "channel": conversation.channel, "date_created": iso(conversation.date_created),
            "messages": [{"role": m.role, "text": m.text, "data": m.data, "date_created": iso(m.date_created)}
                         for m in messages(session, conversation)]}
