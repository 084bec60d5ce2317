"""Leads (companies, households) and their contacts with phones and emails, and the words of their names."""

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from itertools import chain

from sqlalchemy import ForeignKey, Index, String, delete, event, insert, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

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

    # Loaded when read, not joined to every contact read: loaded through `Lead.contacts`, a joined lead was read again
    # and set on each contact, and the lead and its contacts then held each other, so a page of 100 leads (5,600
    # objects) stayed in memory until Python's cycle collector found it, in pauses of 100-300 ms. Read through a lead,
    # `contact.lead` comes from the session without a query.
    lead: Mapped[Lead] = relationship(back_populates="contacts")
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


# -- Name words, for finding "Sarah", "the Smiths" or "John from Acme" without reading every contact ----------------

TOKEN_LENGTH = 64
WHOLE_NAME = "="  # starts a whole-name token; never in a word, so word ranges ("sa" to "sb") never meet one
# Letters NFKD does not take apart.
_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i"})
_APOSTROPHES = re.compile(r"['’‘`´]")
_NOT_WORD = re.compile(r"[\W_]+")
# Words of a lead's name that say what kind of lead it is, not which ("The Smith family").
LEAD_STOPWORDS = frozenset({"the", "family", "household", "and"})
# name_token's position of a lead's row for a later name two or more of its people share ("Jones" in a lead holding
# Ann Jones and Bob Jones): "the Joneses" are found by these rows, one per household, not by grouping every Jones.
SHARED_NAME = -2


def fold(text: str) -> str:
    """Lower case, no accents, apostrophes dropped, other punctuation as spaces: "Zoë O'Brien-Lee" -> "zoe obrien lee"."""
    text = text or ""
    if text.isascii():
        text = text.lower()
    else:
        text = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
        text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", _APOSTROPHES.sub("", text)).split())


@lru_cache(maxsize=16_384)  # resolution scores the same names again and again, and folding one is the slow part
def name_tokens(name: str, stopwords: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The distinct folded words of a name, in order."""
    seen: list[str] = []
    for word in fold(name).split():
        word = word[:TOKEN_LENGTH]
        if word not in seen and word not in stopwords:
            seen.append(word)
    return tuple(seen)


class NameToken(Base):
    """One folded word of a contact's name (contact_id set) or of a lead's name (contact_id NULL), or the whole name;
    or, on a lead's row, a later name several of its people share (SHARED_NAME).

    A lead's name is indexed only when it is not just the name of one of its contacts (a lead made for one person),
    so "Smith" finds households and companies here and people through their contacts. Kept in step with the names by
    the flush hook below; bulk loaders that bypass the ORM write these rows themselves (`token_rows`,
    `shared_name_rows`).
    """

    __tablename__ = "name_token"
    __table_args__ = (
        # Covers the lookups: a word or a range of words, then whose (contact, position, lead) it is.
        Index("ix_name_token_org_token", "organization_id", "token", "contact_id", "position", "lead_id"),
        # A contact's rows only: a lead's (contact_id NULL) are found by the index above. Were they in this one,
        # SQLite, once ANALYZE had run, would take it for "contact_id IS NULL" (a few rows per value on average)
        # and read every lead's words: resolution went from 5 to 50 ms at 100,000 contacts.
        Index("ix_name_token_contact_id", "contact_id", sqlite_where=text("contact_id IS NOT NULL"),
              postgresql_where=text("contact_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    # Byte order on PostgreSQL too, so a prefix is one index range whatever the database's locale.
    token: Mapped[str] = mapped_column(
        String(TOKEN_LENGTH).with_variant(String(TOKEN_LENGTH, collation="C"), "postgresql"))
    # of the word in the name; -1 for the whole name; SHARED_NAME for a later name several of a lead's people share
    position: Mapped[int] = mapped_column(default=0)
    lead_id: Mapped[str] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))


class NameWord(Base):
    """Each distinct word of a workspace's names (name_token's words, kept by the same flush hook), so the words that
    begin like a mistyped one are one index range, not a skip along name_token. A word nobody's name has any more
    stays: it only gives a typo lookup a candidate that matches no one."""

    __tablename__ = "name_word"

    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True)
    word: Mapped[str] = mapped_column(
        String(TOKEN_LENGTH).with_variant(String(TOKEN_LENGTH, collation="C"), "postgresql"), primary_key=True)


class NameWordKey(Base):
    """Each name word under each of its one-letter deletions ("jmes", "aems", ... for "james"), so that the words one
    edit from a mistyped one are found by index whatever letter the slip was at: the typo itself is a deletion of the
    word (a letter left out), a deletion of the typo meets a deletion of the word (a letter changed, two swapped), or
    the word is a deletion of the typo (a letter too many: name_word). Words under 3 letters have none: no shorter
    word is looked up for typos. Kept with name_word, and like it never pruned."""

    __tablename__ = "name_word_key"

    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(
        String(TOKEN_LENGTH).with_variant(String(TOKEN_LENGTH, collation="C"), "postgresql"), primary_key=True)
    word: Mapped[str] = mapped_column(
        String(TOKEN_LENGTH).with_variant(String(TOKEN_LENGTH, collation="C"), "postgresql"), primary_key=True)


def deletions(word: str) -> set[str]:
    """The word with one letter left out, at each place."""
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def word_rows(tokens: list[dict]) -> list[dict]:
    """The name_word rows of these name_token rows (their words, not the whole names), in key order."""
    words = sorted({(t["organization_id"], t["token"]) for t in tokens if t["position"] >= 0})
    return [{"organization_id": org, "word": word} for org, word in words]


def word_key_rows(words: list[dict]) -> list[dict]:
    """The name_word_key rows of these name_word rows, in key order."""
    keys = sorted({(w["organization_id"], key, w["word"]) for w in words if len(w["word"]) >= 3
                   for key in deletions(w["word"])})
    return [{"organization_id": org, "key": key, "word": word} for org, key, word in keys]


def is_person_lead(lead_name: str, contact_names: list[str]) -> bool:
    """A lead that only carries one of its contacts' names (made by creating a contact, or by an unknown caller)."""
    folded = fold(lead_name)
    return not folded or any(fold(name) == folded for name in contact_names)


def whole_name_token(words: list[str]) -> str:
    """The token of a whole name, "=sarah lee": one index seek finds a full name, whatever its words' frequency."""
    return (WHOLE_NAME + " ".join(words))[:TOKEN_LENGTH]


def token_rows(organization_id: str, lead_id: str, name: str, contact_id: str | None = None) -> list[dict]:
    """The name_token rows of one contact's name, or (contact_id None) of one lead's name.

    One row per word (position 0, 1, ...) and one for the whole name (position -1, token "=" + the words).
    """
    words = name_tokens(name, frozenset() if contact_id else LEAD_STOPWORDS)
    rows = [{"organization_id": organization_id, "token": word, "position": i, "lead_id": lead_id,
             "contact_id": contact_id} for i, word in enumerate(words)]
    if words:
        rows.append({"organization_id": organization_id, "token": whole_name_token(words), "position": -1,
                     "lead_id": lead_id, "contact_id": contact_id})
    return rows


def shared_name_rows(organization_id: str, lead_id: str, contact_names: list[str]) -> list[dict]:
    """The lead's SHARED_NAME rows: one for each later name (not the first word) two or more of its people have."""
    people = Counter(word for name in contact_names for word in name_tokens(name)[1:])
    return [{"organization_id": organization_id, "token": word, "position": SHARED_NAME, "lead_id": lead_id,
             "contact_id": None} for word, count in people.items() if count >= 2]


def _changed(obj, *names: str) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


@event.listens_for(Session, "after_flush")
def _index_names(session: Session, _context) -> None:
    """Re-index the names of contacts and leads this flush added or renamed (deletes cascade in the database)."""
    contacts, leads, new_leads = [], set(), set()
    for obj in chain(session.new, session.dirty):
        if isinstance(obj, Contact) and (obj in session.new or _changed(obj, "name", "lead_id", "lead")):
            contacts.append(obj)
            leads.add(obj.lead_id)
            state = inspect(obj).attrs
            leads.update(state.lead_id.history.deleted or ())  # a contact moved away from its old lead
            leads.update(lead.id for lead in state.lead.history.deleted or () if lead is not None)
        elif isinstance(obj, Lead) and (obj in session.new or _changed(obj, "name")):
            leads.add(obj.id)
            if obj in session.new:
                new_leads.add(obj.id)
    leads.update(obj.lead_id for obj in session.deleted if isinstance(obj, Contact))
    leads.discard(None)
    if not contacts and not leads:
        return
    conn = session.connection()
    rows: list[dict] = []
    renamed = [c.id for c in contacts if c not in session.new]
    if renamed:
        conn.execute(delete(NameToken).where(NameToken.contact_id.in_(renamed)))
    for contact in contacts:
        rows += token_rows(contact.organization_id, contact.lead_id, contact.name, contact.id)
    if leads:
        if leads - new_leads:
            conn.execute(delete(NameToken).where(NameToken.lead_id.in_(leads - new_leads),
                                                 NameToken.contact_id.is_(None)))
        names: dict[str, list[str]] = {}
        for lead_id, name in conn.execute(select(Contact.lead_id, Contact.name).where(Contact.lead_id.in_(leads))):
            names.setdefault(lead_id, []).append(name)
        for lead_id, org, name in conn.execute(select(Lead.id, Lead.organization_id, Lead.name)
                                               .where(Lead.id.in_(leads))):
            if not is_person_lead(name, names.get(lead_id, [])):
                rows += token_rows(org, lead_id, name)
            rows += shared_name_rows(org, lead_id, names.get(lead_id, []))
    if rows:
        conn.execute(insert(NameToken), rows)
        # In key order, so two flushes adding the same new words wait on each other rather than deadlock.
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        words = word_rows(rows)
        conn.execute(dialect.insert(NameWord).on_conflict_do_nothing(), words)
        if keys := word_key_rows(words):
            conn.execute(dialect.insert(NameWordKey).on_conflict_do_nothing(), keys)
