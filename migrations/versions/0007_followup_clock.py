"""follow-up clock: projects.followup_from, records.first_submitted_at and late_entry (补录)

The follow-up clock counts from the last real follow-up or the last
reassignment (projects.followup_from); a follow-up sheet first submitted more
than 24 h after its contact date is marked 补录 (records.late_entry).

Revision ID: 0007_followup_clock
Revises: 0006_customer_dupes
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_followup_clock'
down_revision = '0006_customer_dupes'
branch_labels = None
depends_on = None

OLD_INDEX = ["stage", "customer_class", "last_followup_at", "created_at", "team_id", "owner_id", "amount"]
NEW_INDEX = ["stage", "customer_class", "followup_from", "last_followup_at", "created_at", "team_id", "owner_id",
             "amount"]


def upgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('followup_from', sa.DateTime(), nullable=True))
        batch_op.drop_index('ix_projects_open_work')
        batch_op.create_index('ix_projects_open_work', NEW_INDEX, unique=False)
    op.execute("UPDATE projects SET followup_from = last_followup_at")
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_submitted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('late_entry', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE records SET first_submitted_at = submitted_at")


def downgrade():
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_column('late_entry')
        batch_op.drop_column('first_submitted_at')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_open_work')
        batch_op.create_index('ix_projects_open_work', OLD_INDEX, unique=False)
        batch_op.drop_column('followup_from')
