"""ix_activity_sending_recipient: the texts being sent now, by workspace and recipient

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 23:00:00

A dispatcher does not claim a text to a phone that has one in `sending` (another worker, or this one, is talking to
the carrier about it), so a recipient's texts go out one after another, in the order they were due, however many
workers share the database. The index holds only the rows in `sending`, a handful at any time, so each check is one
probe of a tiny index.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_SENDING = sa.text("status = 'sending'")


def upgrade() -> None:
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index("ix_activity_sending_recipient", ["organization_id", "remote_phone"], unique=False,
                              sqlite_where=_SENDING, postgresql_where=_SENDING)


def downgrade() -> None:
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_sending_recipient", sqlite_where=_SENDING, postgresql_where=_SENDING)
