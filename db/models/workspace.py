"""Workspaces, people, their memberships and API keys."""

from datetime import datetime, time
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, Timestamps, id_column
from db.ids import new_id


class Organization(Timestamps, Base):
    __tablename__ = "organization"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    quiet_hours_start: Mapped[time | None]
    quiet_hours_end: Mapped[time | None]
    voice_agent_enabled: Mapped[bool] = mapped_column(default=False)
    recording_enabled: Mapped[bool] = mapped_column(default=False)
    transcription_enabled: Mapped[bool] = mapped_column(default=False)
    business_info: Mapped[str] = mapped_column(default="")
    wallet_balance: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal("0"))

    def __init__(self, **kw):
        kw.setdefault("id", new_id("orga"))
        super().__init__(**kw)


class User(Timestamps, Base):
    __tablename__ = "user"

    id: Mapped[str] = id_column()
    email: Mapped[str] = mapped_column(String(320), unique=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    forwarding_phone: Mapped[str | None] = mapped_column(String(20))
    voice_pin_hash: Mapped[str | None] = mapped_column(String(128))

    memberships: Mapped[list["Membership"]] = relationship(back_populates="user", lazy="selectin")

    def __init__(self, **kw):
        kw.setdefault("id", new_id("user"))
        super().__init__(**kw)

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email


class Membership(Timestamps, Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="member")
    permissions: Mapped[list] = mapped_column(default=list)

    user: Mapped[User] = relationship(back_populates="memberships")

    def __init__(self, **kw):
        kw.setdefault("id", new_id("memb"))
        super().__init__(**kw)


class ApiKey(Timestamps, Base):
    __tablename__ = "api_key"

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    revoked: Mapped[bool] = mapped_column(default=False)
    last_used: Mapped[datetime | None]

    def __init__(self, **kw):
        kw.setdefault("id", new_id("apik"))
        super().__init__(**kw)


class AppSecret(Base):
    """Secrets the app generates and keeps, such as the sandbox's webhook signing token."""

    __tablename__ = "app_secret"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class RateLimitBucket(Base):
    """Per-key request counts per window, shared by every API process through the database."""

    __tablename__ = "rate_limit_bucket"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_start: Mapped[int] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
