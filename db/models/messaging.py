"""SMS templates and webhook receipts (which make repeated webhooks harmless)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Timestamps, id_column
from db.ids import new_id


class SmsTemplate(Timestamps, Base):
    __tablename__ = "sms_template"
    __table_args__ = (Index("ix_sms_template_org", "organization_id", "date_created", "id"),)

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str]
    is_shared: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    user_id: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[str | None] = mapped_column(String(40))
    updated_by: Mapped[str | None] = mapped_column(String(40))

    def __init__(self, **kw):
        kw.setdefault("id", new_id("smstmpl"))
        super().__init__(**kw)


class WebhookReceipt(Base):
    __tablename__ = "webhook_receipt"
    __table_args__ = (UniqueConstraint("provider_sid", "event"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    provider_sid: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(40))
    organization_id: Mapped[str | None] = mapped_column(String(40))
    date_created: Mapped[datetime]
