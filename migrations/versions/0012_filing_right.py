"""立项权: when a project's owner lost the right to file for it (the follow-up
loss limit of its class passed without a follow-up).

Revision ID: 0012_filing_right
Revises: 0011_people
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_filing_right'
down_revision = '0011_people'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('projects') as batch:
        batch.add_column(sa.Column('filing_right_lost_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('projects') as batch:
        batch.drop_column('filing_right_lost_at')
