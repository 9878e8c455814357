"""calendar feed: each person's secret iCalendar link (我的日程), kept as the
SHA-256 of its token with the moment it was made; revoking clears both.

Revision ID: 0014_calendar
Revises: 0013_project_nodes
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_calendar'
down_revision = '0013_project_nodes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('calendar_token_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('calendar_token_at', sa.DateTime(), nullable=True))
        batch.create_index('ix_users_calendar_token_hash', ['calendar_token_hash'], unique=True)


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_index('ix_users_calendar_token_hash')
        batch.drop_column('calendar_token_at')
        batch.drop_column('calendar_token_hash')
