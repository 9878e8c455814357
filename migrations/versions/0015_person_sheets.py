"""the person a person-master sheet (联系人基本信息表, 关键决策人基本信息表)
is filed for: records.person_id.

Revision ID: 0015_person_sheets
Revises: 0014_calendar
"""
from alembic import op
import sqlalchemy as sa


revision = '0015_person_sheets'
down_revision = '0014_calendar'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_records_person_id'), ['person_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_records_person_id_people'), 'people', ['person_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_records_person_id_people'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_records_person_id'))
        batch_op.drop_column('person_id')
