"""What Cody proposes (drafts) and what was said to it (conversations)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Timestamps, id_column
from db.ids import new_id


class Conversation(Timestamps, Base):
    __tablename__ = "conversation"
    __table_args__ = (Index("ix_conversation_user", "organization_id", "user_id", "date_created"),)

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20), default="chat")

    def __init__(self, **kw):
        kw.setdefault("id", new_id("conv"))
        super().__init__(**kw)


class ConversationMessage(Base):
    __tablename__ = "conversation_message"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    text: Mapped[str]
    data: Mapped[dict] = mapped_column(default=dict)
    date_created: Mapped[datetime]


class Draft(Timestamps, Base):
    __tablename__ = "draft"
    __table_args__ = (Index("ix_draft_conversation", "conversation_id", "state"),)

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    tool: Mapped[str] = mapped_column(String(40))
    args: Mapped[dict] = mapped_column(default=dict)
    preview: Mapped[dict] = mapped_column(default=dict)
    problems: Mapped[list] = mapped_column(default=list)
    args_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), default="pending")
    expires_at: Mapped[datetime]
    activity_id: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None]

    def __init__(self, **kw):
        kw.setdefault("id", new_id("draft"))
        super().__init__(**kw)


class VoiceCommandSession(Timestamps, Base):
    """One phone call in which a user speaks commands to Cody: whose PIN it asks for, and where the call is."""

    __tablename__ = "voice_command_session"
    __table_args__ = (Index("ix_voice_command_session_user", "user_id", "date_created"),)

    id: Mapped[str] = id_column()
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(20), default="pin")  # pin, request, confirm, ended
    turn: Mapped[int] = mapped_column(default=0)
    failed_pins: Mapped[int] = mapped_column(default=0)
    authenticated_at: Mapped[datetime | None]
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversation.id", ondelete="SET NULL"))
    draft_ids: Mapped[list] = mapped_column(default=list)
    prompt: Mapped[str] = mapped_column(default="")
    expires_at: Mapped[datetime]

    def __init__(self, **kw):
        kw.setdefault("id", new_id("vcmd"))
        super().__init__(**kw)
