"""ix_activity_retrying_recipient: the texts waiting to go again after an attempt, by workspace and recipient

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 01:00:00

A text the carrier turned away for now (429, 5xx) goes back to the outbox with a backoff. A dispatcher does not claim
a recipient's later texts while it waits, so they do not overtake it. The index holds only texts that were tried and
wait to go again, a handful at any time, so each check is one probe of a tiny index. It holds their due time too,
so that SQLite, which has no statistics, prefers it to ix_activity_due for the check.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_RETRYING = sa.text("status IN ('scheduled', 'outbox') AND attempts > 0")


def upgrade() -> None:
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index("ix_activity_retrying_recipient", ["organization_id", "remote_phone", "date_scheduled"],
                              unique=False, sqlite_where=_RETRYING, postgresql_where=_RETRYING)


def downgrade() -> None:
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_retrying_recipient", sqlite_where=_RETRYING, postgresql_where=_RETRYING)
