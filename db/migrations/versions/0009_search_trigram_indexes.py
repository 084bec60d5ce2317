"""Trigram indexes for the lead and contact search on PostgreSQL (pg_trgm)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 11:40:00

/lead/?query= and /contact/?query= look for the text anywhere in a lead's or contact's name, a contact's emails and
phones (LIKE '%text%'), which no b-tree serves: at 100,000 contacts each search read every row, 200 to 750 ms. On
PostgreSQL, GIN trigram indexes on the folded name and email and on the phone serve those patterns for a text of three
characters or more. pg_trgm ships with PostgreSQL and is a trusted extension (a database owner may create it since
PostgreSQL 13); where it can't be created the search keeps working as before, by reading the rows, and a warning says
so. SQLite has no such index: its searches read the workspace's rows (docs/PERFORMANCE.md).
"""

import logging

from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# name, table, indexed expression: the expressions are those tools/crm.py's search compares (folded() is lower()).
INDEXES = (
    ("ix_lead_name_trgm", "lead", "lower(name)"),
    ("ix_contact_name_trgm", "contact", "lower(name)"),
    ("ix_contact_email_trgm", "contact_email", "lower(email)"),
    ("ix_contact_phone_trgm", "contact_phone", "phone"),
)


def _trigrams_available() -> bool:
    """Whether pg_trgm is there, creating it if this role may; a refusal is rolled back to a savepoint."""
    bind = op.get_bind()
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as exc:
        savepoint.rollback()
        log.warning("pg_trgm could not be created (%s): lead and contact searches will read every row",
                    str(exc.orig).splitlines()[0])
        return False
    savepoint.commit()
    return True


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql" or not _trigrams_available():
        return
    for name, table, expression in INDEXES:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression} gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, _, _ in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
