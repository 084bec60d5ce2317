"""activity.request_hash: what the request an Idempotency-Key made a row for asked, to refuse the key with another

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 03:40:00

A key repeated with other values (another text, another recipient) used to be answered with the first request's
row, as if it had been carried out; the hash lets it be refused (422) instead. Rows saved before it have none and
are answered as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_column("request_hash")
