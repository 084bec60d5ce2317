"""name_word: each workspace's distinct name words, for typo lookups

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 00:20:00

Filled from name_token's words (not the whole-name tokens); the flush hook keeps it from then on.
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('name_word',
    sa.Column('organization_id', sa.String(length=40), nullable=False),
    sa.Column('word', sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_name_word_organization_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organization_id', 'word', name=op.f('pk_name_word'))
    )
    op.execute("INSERT INTO name_word (organization_id, word) "
               "SELECT DISTINCT organization_id, token FROM name_token WHERE position >= 0")


def downgrade() -> None:
    op.drop_table('name_word')
