"""The rows that refer to a contact, a lead, a message or a thread are found by an index beginning with the key

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 00:10:00

Deleting a contact clears its activities' contact_id and deletes its thread; deleting a lead deletes its activities,
threads and contacts; deleting an activity or a thread deletes its inbox items. The database finds those rows by the
foreign key's column, and the indexes that held it began with organization_id (or user_id), or there were none, so
each lookup read the whole table, every workspace's rows: at 300,000 activities, deleting a lead took 670 ms on
SQLite (up to 1.8 s) and 130 ms on PostgreSQL, and grew with the table. The activity indexes that began with
organization_id now begin with the key (a contact or a lead belongs to one workspace, so the key alone finds the
same rows), the inbox item's unique pair begins with the activity, and a thread is unique by its contact alone;
indexes on thread.lead_id and inbox_item.thread_id are new.
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('thread', schema=None) as batch_op:
        batch_op.drop_constraint('uq_thread_organization_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_thread_contact_id'), ['contact_id'])
        batch_op.create_index('ix_thread_lead_id', ['lead_id'], unique=False)
    with op.batch_alter_table('inbox_item', schema=None) as batch_op:
        batch_op.drop_constraint('uq_inbox_item_user_activity', type_='unique')
        batch_op.create_unique_constraint('uq_inbox_item_activity_user', ['activity_id', 'user_id'])
        batch_op.create_index(batch_op.f('ix_inbox_item_thread_id'), ['thread_id'], unique=False)
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_contact')
        batch_op.create_index('ix_activity_contact', ['contact_id', 'activity_at'], unique=False)
        batch_op.drop_index('ix_activity_lead')
        batch_op.create_index('ix_activity_lead', ['lead_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_lead')
        batch_op.create_index('ix_activity_lead', ['organization_id', 'lead_id'], unique=False)
        batch_op.drop_index('ix_activity_contact')
        batch_op.create_index('ix_activity_contact', ['organization_id', 'contact_id', 'activity_at'], unique=False)
    with op.batch_alter_table('inbox_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_item_thread_id'))
        batch_op.drop_constraint('uq_inbox_item_activity_user', type_='unique')
        batch_op.create_unique_constraint('uq_inbox_item_user_activity', ['user_id', 'activity_id'])
    with op.batch_alter_table('thread', schema=None) as batch_op:
        batch_op.drop_index('ix_thread_lead_id')
        batch_op.drop_constraint(batch_op.f('uq_thread_contact_id'), type_='unique')
        batch_op.create_unique_constraint('uq_thread_organization_id', ['organization_id', 'contact_id'])
