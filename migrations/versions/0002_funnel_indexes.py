"""funnel indexes: recent stage changes and the highest stage reached, read
from indexes alone

Revision ID: 0002_funnel
Revises: 0001
"""
from alembic import op


revision = '0002_funnel'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('project_events', schema=None) as batch_op:
        batch_op.create_index('ix_project_events_kind_at_stages',
                              ['kind', 'at', 'to_value', 'from_value', 'project_id'], unique=False)
        batch_op.create_index('ix_project_events_project_kind_to', ['project_id', 'kind', 'to_value'], unique=False)


def downgrade():
    with op.batch_alter_table('project_events', schema=None) as batch_op:
        batch_op.drop_index('ix_project_events_project_kind_to')
        batch_op.drop_index('ix_project_events_kind_at_stages')
