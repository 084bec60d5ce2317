"""Trigram full-text indexes for the lead and contact search on SQLite (FTS5)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 14:30:00

SQLite's searches read the workspace's rows, folding each name and email in Python: 0.3 to 1 s at 100,000 contacts
(docs/PERFORMANCE.md "Search"). FTS5's trigram tokenizer indexes every three characters of a text, folded to lower
case by Unicode's rules, and a phrase of three characters or more finds the rows holding it as a substring. One row
per contact (its name and emails in one column, its phones in another, each value on its own line so that no search,
which can't hold a line break, matches across two) and one per lead (its name), kept by triggers on every table they
come from, so every writer keeps them (the services, bulk loads, a migration). FTS5 rows have integer ids: the
*_search_row tables give each contact and lead one that, unlike SQLite's own rowid, VACUUM does not change.

Where SQLite was built without FTS5 the search keeps reading the rows, and a warning says so. PostgreSQL has its own
trigram indexes (0009).
"""

import logging

from alembic import op
from sqlalchemy.exc import OperationalError

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# A contact's two columns, for its row r of contact_search_row.
_NAMES = ("coalesce((SELECT c.name FROM contact c WHERE c.id = r.contact_id), '') || char(10) || "
          "coalesce((SELECT group_concat(e.email, char(10)) FROM contact_email e WHERE e.contact_id = r.contact_id), '')")
_PHONES = ("coalesce((SELECT group_concat(p.phone, char(10)) FROM contact_phone p WHERE p.contact_id = r.contact_id), "
           "'')")


def _refresh_contact(contact_id: str) -> str:
    """Statements (for a trigger's body) that write the contact's row of contact_fts again, if the contact is there."""
    row = f"(SELECT id FROM contact_search_row WHERE contact_id = {contact_id})"
    return (f"DELETE FROM contact_fts WHERE rowid = {row}; "
            f"INSERT INTO contact_fts(rowid, names, phones) SELECT r.id, {_NAMES}, {_PHONES} "
            f"FROM contact_search_row r WHERE r.contact_id = {contact_id};")


def _refresh_lead(lead_id: str) -> str:
    row = f"(SELECT id FROM lead_search_row WHERE lead_id = {lead_id})"
    return (f"DELETE FROM lead_fts WHERE rowid = {row}; "
            f"INSERT INTO lead_fts(rowid, name) SELECT r.id, coalesce(l.name, '') FROM lead_search_row r "
            f"JOIN lead l ON l.id = r.lead_id WHERE r.lead_id = {lead_id};")


TRIGGERS = {
    "contact_search_ai": f"AFTER INSERT ON contact BEGIN INSERT INTO contact_search_row(contact_id) VALUES (NEW.id); "
                         f"{_refresh_contact('NEW.id')} END",
    "contact_search_au": f"AFTER UPDATE OF name ON contact BEGIN {_refresh_contact('NEW.id')} END",
    "contact_search_ad": "AFTER DELETE ON contact BEGIN DELETE FROM contact_fts WHERE rowid = (SELECT id FROM "
                         "contact_search_row WHERE contact_id = OLD.id); DELETE FROM contact_search_row WHERE "
                         "contact_id = OLD.id; END",
    "lead_search_ai": f"AFTER INSERT ON lead BEGIN INSERT INTO lead_search_row(lead_id) VALUES (NEW.id); "
                      f"{_refresh_lead('NEW.id')} END",
    "lead_search_au": f"AFTER UPDATE OF name ON lead BEGIN {_refresh_lead('NEW.id')} END",
    "lead_search_ad": "AFTER DELETE ON lead BEGIN DELETE FROM lead_fts WHERE rowid = (SELECT id FROM lead_search_row "
                      "WHERE lead_id = OLD.id); DELETE FROM lead_search_row WHERE lead_id = OLD.id; END",
    **{f"{table}_search_{suffix}": f"AFTER {when} ON {table} BEGIN {body} END"
       for table in ("contact_email", "contact_phone")
       for suffix, when, body in (
           ("ai", "INSERT", _refresh_contact("NEW.contact_id")),
           ("au", "UPDATE", _refresh_contact("OLD.contact_id") + " " + _refresh_contact("NEW.contact_id")),
           ("ad", "DELETE", _refresh_contact("OLD.contact_id")))},
}


def _lead_fts_created() -> bool:
    """The first FTS5 table made, which tells whether SQLite has FTS5 and its trigram tokenizer."""
    try:
        op.execute("CREATE VIRTUAL TABLE lead_fts USING fts5(name, tokenize='trigram')")
    except OperationalError as exc:
        log.warning("SQLite has no FTS5 trigram tokenizer (%s): lead and contact searches will read every row",
                    exc.orig)
        return False
    return True


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite" or not _lead_fts_created():
        return
    op.execute("CREATE VIRTUAL TABLE contact_fts USING fts5(names, phones, tokenize='trigram')")
    op.execute("CREATE TABLE contact_search_row (id INTEGER PRIMARY KEY, contact_id VARCHAR NOT NULL UNIQUE)")
    op.execute("CREATE TABLE lead_search_row (id INTEGER PRIMARY KEY, lead_id VARCHAR NOT NULL UNIQUE)")
    op.execute("INSERT INTO contact_search_row(contact_id) SELECT id FROM contact ORDER BY rowid")
    op.execute(f"INSERT INTO contact_fts(rowid, names, phones) SELECT r.id, {_NAMES}, {_PHONES} "
               "FROM contact_search_row r")
    op.execute("INSERT INTO lead_search_row(lead_id) SELECT id FROM lead ORDER BY rowid")
    op.execute("INSERT INTO lead_fts(rowid, name) SELECT r.id, coalesce(l.name, '') FROM lead_search_row r "
               "JOIN lead l ON l.id = r.lead_id")
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in ("contact_fts", "lead_fts", "contact_search_row", "lead_search_row"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
