"""Leads (companies, households) and their contacts with phones and emails."""

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, Timestamps, id_column
from db.ids import new_id


class Lead(Timestamps, Base):
    __tablename__ = "lead"
    __table_args__ = (Index("ix_lead_org_created", "organization_id", "date_created", "id"),)

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(default="")
    url: Mapped[str | None] = mapped_column(String(500))
    custom: Mapped[dict] = mapped_column(default=dict)
    created_by: Mapped[str | None] = mapped_column(String(40))
    updated_by: Mapped[str | None] = mapped_column(String(40))

    contacts: Mapped[list["Contact"]] = relationship(
        back_populates="lead", lazy="selectin", order_by="Contact.date_created", cascade="all, delete-orphan"
    )

    def __init__(self, **kw):
        kw.setdefault("id", new_id("lead"))
        super().__init__(**kw)


class Contact(Timestamps, Base):
    __tablename__ = "contact"
    __table_args__ = (Index("ix_contact_org_created", "organization_id", "date_created", "id"),)

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    lead_id: Mapped[str] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    title: Mapped[str] = mapped_column(String(300), default="")
    custom: Mapped[dict] = mapped_column(default=dict)
    do_not_call: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str | None] = mapped_column(String(40))
    updated_by: Mapped[str | None] = mapped_column(String(40))

    lead: Mapped[Lead] = relationship(back_populates="contacts", lazy="joined")
    phones: Mapped[list["ContactPhone"]] = relationship(
        lazy="selectin", order_by="ContactPhone.position", cascade="all, delete-orphan"
    )
    emails: Mapped[list["ContactEmail"]] = relationship(
        lazy="selectin", order_by="ContactEmail.position", cascade="all, delete-orphan"
    )

    def __init__(self, **kw):
        kw.setdefault("id", new_id("cont"))
        super().__init__(**kw)

    @property
    def first_name(self) -> str:
        return (self.name or "").split(" ", 1)[0]

    @property
    def last_name(self) -> str:
        parts = (self.name or "").split(" ", 1)
        return parts[1] if len(parts) > 1 else ""


class ContactPhone(Base):
    __tablename__ = "contact_phone"
    __table_args__ = (Index("ix_contact_phone_org_phone", "organization_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(20), default="office")
    position: Mapped[int] = mapped_column(default=0)


class ContactEmail(Base):
    __tablename__ = "contact_email"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    type: Mapped[str] = mapped_column(String(20), default="office")
    position: Mapped[int] = mapped_column(default=0)
