"""customer changes: the customer's 信息修改记录 (master data changes only
through an approved sheet, each change listed)

Revision ID: 0005_master_changes
Revises: 0004_kept_forms
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_master_changes'
down_revision = '0004_kept_forms'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'customer_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=True),
        sa.Column('field_key', sa.String(length=40), nullable=False),
        sa.Column('field_label', sa.String(length=80), nullable=False),
        sa.Column('old_value', sa.Text(), nullable=True),
        sa.Column('new_value', sa.Text(), nullable=True),
        sa.Column('changed_by_id', sa.Integer(), nullable=True),
        sa.Column('approved_by_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_customer_changes_customer_id_customers'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['record_id'], ['records.id'],
                                name=op.f('fk_customer_changes_record_id_records'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'],
                                name=op.f('fk_customer_changes_changed_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'],
                                name=op.f('fk_customer_changes_approved_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_changes')),
    )
    with op.batch_alter_table('customer_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_changes_customer_id'), ['customer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('customer_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_changes_customer_id'))
    op.drop_table('customer_changes')
