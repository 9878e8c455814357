"""used form tokens: one act per rendered form (a repeated POST acts once)

Revision ID: 0003_form_tokens
Revises: 0002_funnel
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_form_tokens'
down_revision = '0002_funnel'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'used_form_tokens',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('act', sa.String(length=20), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=True),
        sa.Column('used_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['record_id'], ['records.id'],
                                name=op.f('fk_used_form_tokens_record_id_records'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_used_form_tokens_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token', name=op.f('pk_used_form_tokens')),
    )
    with op.batch_alter_table('used_form_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_form_tokens_used_at'), ['used_at'], unique=False)


def downgrade():
    with op.batch_alter_table('used_form_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_form_tokens_used_at'))
    op.drop_table('used_form_tokens')
