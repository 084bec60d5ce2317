"""inbox_item.phone_number_id, text: Inbox items about a business number (a renewal the wallet could not pay)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 09:00:00

A number that went past due was shown only by its API fields, a 0.00 ledger row and a log line. The workspace's admins
now get an Inbox item ("billing") naming the number, what is owed and when it is released; such an item refers to the
number instead of an activity, and says so in its own words. Items made before have neither.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_number_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("text", sa.String(), nullable=True))
        batch_op.create_index(batch_op.f("ix_inbox_item_phone_number_id"), ["phone_number_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_inbox_item_phone_number_id_phone_number"), "phone_number",
                                    ["phone_number_id"], ["id"], ondelete="CASCADE")


def downgrade() -> None:
    with op.batch_alter_table("inbox_item", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_inbox_item_phone_number_id_phone_number"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_inbox_item_phone_number_id"))
        batch_op.drop_column("text")
        batch_op.drop_column("phone_number_id")
