"""funnel indexes: stage changes per stage and month, the highest stage
reached, open projects for the funnel and the follow-up lists

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
        batch_op.create_index('ix_project_events_to_at', ['to_value', 'at', 'kind', 'project_id'], unique=False)
        batch_op.create_index('ix_project_events_from_at', ['from_value', 'at', 'kind', 'project_id'], unique=False)
        batch_op.create_index('ix_project_events_project_kind_to', ['project_id', 'kind', 'to_value'], unique=False)
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index('ix_projects_open_work', ['stage', 'customer_class', 'last_followup_at', 'created_at',
                                                        'team_id', 'owner_id', 'amount'], unique=False)
        batch_op.create_index('ix_projects_stage_entered', ['stage', 'stage_entered_at'], unique=False)


def downgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_stage_entered')
        batch_op.drop_index('ix_projects_open_work')
    with op.batch_alter_table('project_events', schema=None) as batch_op:
        batch_op.drop_index('ix_project_events_project_kind_to')
        batch_op.drop_index('ix_project_events_from_at')
        batch_op.drop_index('ix_project_events_to_at')
