"""SMS and Call activities: one table, Close's shared activity fields plus each type's own."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Timestamps, id_column
from db.ids import new_id

# A text that was tried and waits to go again (a retry after the carrier said "not now", or one the reconciler put
# back): its status is one a dispatcher claims, and it has attempts behind it.
RETRYING_SQL = "status IN ('scheduled', 'outbox') AND attempts > 0"


class Activity(Timestamps, Base):
    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_org_type_created", "organization_id", "type", "date_created", "id"),
        Index("ix_activity_contact", "contact_id", "activity_at"),
        Index("ix_activity_lead", "lead_id"),
        Index("ix_activity_due", "status", "date_scheduled"),
        # The texts being sent now, by recipient: a dispatcher claims none to a phone that has one (migration 0012).
        Index("ix_activity_sending_recipient", "organization_id", "remote_phone",
              sqlite_where=text("status = 'sending'"), postgresql_where=text("status = 'sending'")),
        # The texts waiting to go again after an attempt, by recipient: the recipient's later texts wait for them
        # (migration 0013).
        Index("ix_activity_retrying_recipient", "organization_id", "remote_phone", "date_scheduled",
              sqlite_where=text(RETRYING_SQL), postgresql_where=text(RETRYING_SQL)),
        UniqueConstraint("organization_id", "idempotency_key", name="uq_activity_idempotency"),
    )

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(10))
    lead_id: Mapped[str | None] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"))
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    user_id: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[str | None] = mapped_column(String(40))
    updated_by: Mapped[str | None] = mapped_column(String(40))
    thread_id: Mapped[str | None] = mapped_column(String(40), index=True)
    activity_at: Mapped[datetime | None]
    direction: Mapped[str] = mapped_column(String(10), default="outbound")
    status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20), default="Close.io")
    channel: Mapped[str | None] = mapped_column(String(20))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str | None] = mapped_column(String(64))  # of the request its idempotency_key made it for
    local_phone: Mapped[str | None] = mapped_column(String(20))
    remote_phone: Mapped[str | None] = mapped_column(String(20))
    provider_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    error_message: Mapped[str | None]
    error_code: Mapped[str | None] = mapped_column(String(40))
    cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))

    # SMS
    text: Mapped[str] = mapped_column(default="")
    template_id: Mapped[str | None] = mapped_column(String(40))
    variables: Mapped[dict | None]  # the values template_id was rendered with (migration 0010); None for own words
    date_scheduled: Mapped[datetime | None]
    date_sent: Mapped[datetime | None]
    encoding: Mapped[str | None] = mapped_column(String(10))
    segments: Mapped[int | None]
    attachments: Mapped[list] = mapped_column(default=list)
    messaging_service_sid: Mapped[str | None] = mapped_column(String(64))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)

    # Call
    duration: Mapped[int | None]
    date_answered: Mapped[datetime | None]
    date_ended: Mapped[datetime | None]
    recording_url: Mapped[str | None] = mapped_column(String(500))
    transcript: Mapped[str | None]
    summary: Mapped[str | None]
    sentiment: Mapped[str | None] = mapped_column(String(20))
    commitments: Mapped[list] = mapped_column(default=list)
    handled_by: Mapped[str | None] = mapped_column(String(10))
    disposition: Mapped[str | None] = mapped_column(String(20))

    def __init__(self, **kw):
        kw.setdefault("id", new_id("acti"))
        super().__init__(**kw)
