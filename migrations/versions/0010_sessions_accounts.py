"""sessions that end and an atomic sign-in throttle: users.session_version
(bumped by sign-out, password change and reset; checked on every request) and
login_throttle (attempts per normalised user name and per address).

Revision ID: 0010_sessions_accounts
Revises: 0009_audit_key
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_sessions_accounts'
down_revision = '0009_audit_key'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'login_throttle',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_start', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle')),
    )


def downgrade():
    op.drop_table('login_throttle')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
