"""people in the customer's organisation (联系人 / 关键决策人): the person
master of toolkit sheets 8 and 20, named by the sheets' contact fields.

Revision ID: 0011_people
Revises: 0010_sessions_accounts
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_people'
down_revision = '0010_sessions_accounts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'people',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('title', sa.String(length=80), nullable=True),
        sa.Column('phone', sa.String(length=40), nullable=True),
        sa.Column('key_decision_maker', sa.Boolean(), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('private', sa.JSON(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_people_customer_id_customers'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_people_created_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    )
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.create_index('ix_people_customer_name', ['customer_id', 'name'], unique=False)


def downgrade():
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_index('ix_people_customer_name')
    op.drop_table('people')
