"""Conversations: what was said to Cody and what it answered, per user and channel."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Conversation, ConversationMessage
from db.types import utcnow
from tools.context import Ctx
from tools.problems import NotFound


def open_conversation(session: Session, ctx: Ctx, conversation_id: str | None) -> Conversation:
    """The caller's conversation, or a new one; another user's id is not found."""
    if conversation_id is None:
        conversation = Conversation(organization_id=ctx.organization_id, user_id=ctx.user_id, channel=ctx.channel)
        session.add(conversation)
        session.flush()
        return conversation
    conversation = session.scalar(select(Conversation).where(
        Conversation.id == conversation_id, Conversation.organization_id == ctx.organization_id,
        Conversation.user_id == ctx.user_id))
    if conversation is None:
        raise NotFound("Conversation not found.")
    return conversation


def add_message(session: Session, conversation: Conversation, role: str, text: str, data: dict | None = None) -> None:
    session.add(ConversationMessage(conversation_id=conversation.id, role=role, text=text, data=data or {},
                                    date_created=utcnow()))


def messages(session: Session, conversation: Conversation) -> list[ConversationMessage]:
    return list(session.scalars(select(ConversationMessage).where(
        ConversationMessage.conversation_id == conversation.id).order_by(ConversationMessage.id)))


def last_assistant_data(session: Session, conversation: Conversation) -> dict:
    """What Cody left open in its last answer (a pending question), if anything."""
    row = session.scalar(select(ConversationMessage).where(
        ConversationMessage.conversation_id == conversation.id, ConversationMessage.role == "assistant",
    ).order_by(ConversationMessage.id.desc()).limit(1))
    return row.data if row else {}
