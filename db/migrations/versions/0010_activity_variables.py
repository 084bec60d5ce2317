"""activity.variables: the values a text's template was rendered with

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 12:30:00

A template draft kept only its rendered words and template_id, so a PUT changing one value had to give every value
again, and a draft re-addressed to another contact could not be written again for them without asking for all of
them. The values are now kept with the row (a JSON object; NULL for words a person wrote, and for rows saved
before this migration, which ask for the values as before).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("variables", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_column("variables")
