"""name_token rows for the later names several of a lead's people share: a household is one row, found by its name

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 03:00:00

"The Joneses" were the leads holding two or more people surnamed Jones, found by grouping every Jones of the workspace
by lead: 1,369 rows read for 149 households at 100,000 contacts. Each lead now has a row (position -2, contact_id
NULL) for each later name two or more of its people share, kept by the flush hook that re-reads a lead's people
whenever one changes; this fills them from the names already indexed. No schema change: rows only.
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

SHARED_NAME = -2  # db.models.crm.SHARED_NAME, as it was when this ran


def upgrade() -> None:
    op.execute("INSERT INTO name_token (organization_id, token, position, lead_id, contact_id) "
               f"SELECT organization_id, token, {SHARED_NAME}, lead_id, NULL FROM name_token "
               "WHERE contact_id IS NOT NULL AND position > 0 "
               "GROUP BY organization_id, lead_id, token HAVING count(*) >= 2")


def downgrade() -> None:
    op.execute(f"DELETE FROM name_token WHERE position = {SHARED_NAME}")
