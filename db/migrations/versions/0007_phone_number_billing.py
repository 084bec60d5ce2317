"""phone_number.paid_until, billing_status, grace_until: monthly renewal of bought numbers

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09 10:00:00

Only a number's first month used to be charged (at purchase). From now on tools/renewals.py charges each month when
paid_until comes. Active internal numbers bought from a carrier (a provider sid) are filled in as paid until the next
monthly anniversary of their purchase after this migration runs: the months they were held before it are not billed
after the fact, and each is first charged on its own day of the month, as if billing had always run. Numbers Cody
does not bill (external ones, seeded ones without a carrier sid, released ones) keep all three None.
"""

import calendar
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _months_after(start: datetime, months: int) -> datetime:
    """`start` moved on whole calendar months, on its day of the month (the month's last day when it has fewer).

    A copy of tools/numbers.months_after on purpose: a migration must keep doing what it did when it was written,
    whatever later becomes of the code it would import."""
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return start.replace(year=year, month=month + 1, day=day)


def _next_anniversary(created: datetime, now: datetime) -> datetime:
    """The first monthly anniversary of `created` (one month on at least) that is later than `now`."""
    months = max(1, (now.year - created.year) * 12 + now.month - created.month)
    while _months_after(created, months) <= now:
        months += 1
    return _months_after(created, months)


def upgrade() -> None:
    with op.batch_alter_table("phone_number", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paid_until", db.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("billing_status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("grace_until", db.types.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_phone_number_paid_until"), ["paid_until"], unique=False)

    phone = sa.table("phone_number", sa.column("id", sa.String()), sa.column("status", sa.String()),
                     sa.column("number_type", sa.String()), sa.column("provider_sid", sa.String()),
                     sa.column("date_created", db.types.UTCDateTime()),
                     sa.column("paid_until", db.types.UTCDateTime()), sa.column("billing_status", sa.String()))
    conn = op.get_bind()
    bought = conn.execute(sa.select(phone.c.id, phone.c.date_created).where(
        phone.c.status == "active", phone.c.number_type == "internal", phone.c.provider_sid.is_not(None))).all()
    now = datetime.now(UTC)
    for phone_id, created in bought:
        conn.execute(phone.update().where(phone.c.id == phone_id)
                     .values(paid_until=_next_anniversary(created, now), billing_status="paid"))


def downgrade() -> None:
    with op.batch_alter_table("phone_number", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_number_paid_until"))
        batch_op.drop_column("grace_until")
        batch_op.drop_column("billing_status")
        batch_op.drop_column("paid_until")
