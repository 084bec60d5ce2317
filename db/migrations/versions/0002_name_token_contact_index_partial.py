"""name_token's contact_id index holds contacts' rows only

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 23:30:00

A lead's words (contact_id NULL) are found through ix_name_token_org_token. In the contact_id index they let
SQLite, once ANALYZE has run, take that index for "contact_id IS NULL" and read every lead's words.
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_CONTACTS_ONLY = sa.text("contact_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table('name_token', schema=None) as batch_op:
        batch_op.drop_index('ix_name_token_contact_id')
        batch_op.create_index('ix_name_token_contact_id', ['contact_id'], unique=False,
                              sqlite_where=_CONTACTS_ONLY, postgresql_where=_CONTACTS_ONLY)


def downgrade() -> None:
    with op.batch_alter_table('name_token', schema=None) as batch_op:
        batch_op.drop_index('ix_name_token_contact_id')
        batch_op.create_index('ix_name_token_contact_id', ['contact_id'], unique=False)
