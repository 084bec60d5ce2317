"""Business phone numbers and the wallet that pays for them."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Timestamps, id_column
from db.ids import new_id


class PhoneNumber(Timestamps, Base):
    __tablename__ = "phone_number"
    __table_args__ = (
        Index("ix_phone_number_org", "organization_id", "status"),
        Index(
            "uq_phone_number_active",
            "number",
            unique=True,
            sqlite_where=text("status = 'active' AND number_type = 'internal'"),
            postgresql_where=text("status = 'active' AND number_type = 'internal'"),
        ),
    )

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200), default="")
    number_type: Mapped[str] = mapped_column(String(20), default="internal")
    kind: Mapped[str] = mapped_column(String(20), default="local")
    country: Mapped[str] = mapped_column(String(2))
    sms: Mapped[bool] = mapped_column(default=True)
    mms: Mapped[bool] = mapped_column(default=False)
    voice: Mapped[bool] = mapped_column(default=True)
    fax: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="active")
    sharing: Mapped[str] = mapped_column(String(20), default="personal")
    user_id: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    forward_to: Mapped[str | None] = mapped_column(String(20))
    messaging_service_sid: Mapped[str | None] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(20), default="sandbox")
    provider_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    monthly_cost: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal("0"))
    date_released: Mapped[datetime | None]
    # Monthly billing (tools/renewals.py), for numbers bought from a carrier; all three are None for numbers Cody
    # does not bill (external ones, seeded ones). paid_until: the end of the last month paid for. billing_status:
    # "paid", "past_due" (a renewal the wallet could not pay; the number still works until grace_until) or
    # "releasing" (being given back to the carrier: never charged again).
    paid_until: Mapped[datetime | None] = mapped_column(index=True)
    billing_status: Mapped[str | None] = mapped_column(String(20))
    grace_until: Mapped[datetime | None]

    def __init__(self, **kw):
        kw.setdefault("id", new_id("phon"))
        super().__init__(**kw)


class WalletEntry(Base):
    __tablename__ = "wallet_entry"
    __table_args__ = (Index("ix_wallet_entry_org", "organization_id", "date_created"),)

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    balance_after: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    reason: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(40))
    date_created: Mapped[datetime]

    def __init__(self, **kw):
        kw.setdefault("id", new_id("wall"))
        super().__init__(**kw)
