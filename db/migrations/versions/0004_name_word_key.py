"""name_word_key: each name word under each of its one-letter deletions, for typo lookups

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 21:00:00

Filled from name_word; the flush hook keeps it from then on. Before it, a typo was looked for only among the words
sharing one of three two-letter beginnings with it (at most 300 each), which missed a slip at the second letter
("Dnaiel" found Daniel, "Brbara" not Barbara) and, in a large workspace, words past the first 300 of a beginning.
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_BATCH = 5_000


def upgrade() -> None:
    word = sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql')
    table = op.create_table('name_word_key',
    sa.Column('organization_id', sa.String(length=40), nullable=False),
    sa.Column('key', word, nullable=False),
    sa.Column('word', word, nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_name_word_key_organization_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organization_id', 'key', 'word', name=op.f('pk_name_word_key'))
    )
    conn = op.get_bind()
    words = conn.execute(sa.text("SELECT organization_id, word FROM name_word WHERE length(word) >= 3"))
    while batch := words.fetchmany(_BATCH):
        rows = {(org, w[:i] + w[i + 1:], w) for org, w in batch for i in range(len(w))}
        conn.execute(table.insert(), [{"organization_id": org, "key": key, "word": w} for org, key, w in rows])


def downgrade() -> None:
    op.drop_table('name_word_key')
