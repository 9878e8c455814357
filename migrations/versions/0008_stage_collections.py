"""stage coherence and collection plans: a manager's acceptance of a class
that contradicts probability/date, and each project's 回款计划 (instalments).
The former projects.collected_amount / collection_date become one instalment
each, so nothing recorded is lost.

Revision ID: 0008_stage_collections
Revises: 0007_followup_clock
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_stage_collections'
down_revision = '0007_followup_clock'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'instalments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('planned_date', sa.Date(), nullable=False),
        sa.Column('planned_amount', sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('actual_date', sa.Date(), nullable=True),
        sa.Column('actual_amount', sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'],
                                name=op.f('fk_instalments_project_id_projects'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_instalments')),
        sa.UniqueConstraint('project_id', 'seq', name=op.f('uq_instalments_project_id')),
    )
    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.create_index('ix_instalments_planned', ['planned_date', 'project_id'], unique=False)
        batch_op.create_index('ix_instalments_actual', ['actual_date', 'project_id'], unique=False)
    # Carry 已回款/回款日期 over as one instalment: planned = collected (or, with
    # only a date, the contract amount), on the recorded date, else the signing
    # or expected date.
    op.execute(
        "INSERT INTO instalments (project_id, seq, planned_date, planned_amount, kind, actual_date, "
        "actual_amount, created_at, updated_at) "
        "SELECT id, 1, COALESCE(collection_date, signed_at, expected_sign_date, CAST(created_at AS DATE)), "
        "CASE WHEN collected_amount > 0 THEN collected_amount ELSE COALESCE(amount, 0) END, 'software', "
        "CASE WHEN collected_amount > 0 THEN COALESCE(collection_date, signed_at) END, "
        "CASE WHEN collected_amount > 0 THEN collected_amount END, updated_at, updated_at "
        "FROM projects WHERE collected_amount > 0 OR collection_date IS NOT NULL")
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('class_accepted', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('class_accepted_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_projects_class_accepted_by_id_users'), 'users',
                                    ['class_accepted_by_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_column('collected_amount')
        batch_op.drop_column('collection_date')


def downgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('collection_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('collected_amount', sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.drop_constraint(batch_op.f('fk_projects_class_accepted_by_id_users'), type_='foreignkey')
        batch_op.drop_column('class_accepted_by_id')
        batch_op.drop_column('class_accepted')
    op.execute(
        "UPDATE projects SET collected_amount = (SELECT SUM(actual_amount) FROM instalments i "
        "WHERE i.project_id = projects.id), collection_date = (SELECT MAX(COALESCE(actual_date, planned_date)) "
        "FROM instalments i WHERE i.project_id = projects.id)")
    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.drop_index('ix_instalments_actual')
        batch_op.drop_index('ix_instalments_planned')
    op.drop_table('instalments')
