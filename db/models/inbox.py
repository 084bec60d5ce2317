"""Threads (one per contact), the Inbox, and opt-outs."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Timestamps, id_column
from db.ids import new_id


class Thread(Timestamps, Base):
    __tablename__ = "thread"
    __table_args__ = (
        UniqueConstraint("contact_id"),  # one thread a contact, and the index its deletion reads
        Index("ix_thread_lead_id", "lead_id"),
        Index("ix_thread_org_last", "organization_id", "last_activity_at", "contact_id"),
    )

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))
    lead_id: Mapped[str | None] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"))
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    last_activity_at: Mapped[datetime | None]
    last_inbound_at: Mapped[datetime | None]

    def __init__(self, **kw):
        kw.setdefault("id", new_id("thrd"))
        super().__init__(**kw)


class InboxItem(Timestamps, Base):
    __tablename__ = "inbox_item"
    __table_args__ = (
        Index("ix_inbox_user", "organization_id", "user_id", "done", "date_created"),
        UniqueConstraint("activity_id", "user_id", name="uq_inbox_item_activity_user"),
    )

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    thread_id: Mapped[str | None] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[str | None] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    # An item about a business number rather than a message or call (a renewal the wallet could not pay), and what it
    # says (migration 0008).
    phone_number_id: Mapped[str | None] = mapped_column(ForeignKey("phone_number.id", ondelete="CASCADE"), index=True)
    text: Mapped[str | None]
    type: Mapped[str] = mapped_column(String(20))
    done: Mapped[bool] = mapped_column(default=False)

    def __init__(self, **kw):
        kw.setdefault("id", new_id("inbx"))
        super().__init__(**kw)


class OptOut(Base):
    __tablename__ = "opt_out"
    __table_args__ = (UniqueConstraint("organization_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(40), default="keyword")
    date_created: Mapped[datetime]
