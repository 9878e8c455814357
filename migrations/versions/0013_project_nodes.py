"""销售项目跟踪表's nodes a project has reached (paper-forms-toolkit.md 3.7),
filled for the projects on file from their stage history: each stage-implied
node (process.STAGE_NODES) dated by the first entry into that stage; and the
indexes the reports read: projects by product line (the filter) and by
预计签约日期, stage and 签约概率 (销售收入预测表), sheets by the time they were
filed, author and kind (业务员排行).

Revision ID: 0013_project_nodes
Revises: 0012_filing_right
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_project_nodes'
down_revision = '0012_filing_right'
branch_labels = None
depends_on = None

# process.STAGE_NODES as it stood when this migration was written.
STAGE_NODES = {"contact": "visit", "design": "tech_exchange", "confirm": "presentation", "evaluate": "quotation",
               "negotiate": "contract_talks", "won": "contract_signed"}


def upgrade():
    op.create_table(
        'project_nodes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('node', sa.String(length=30), nullable=False),
        sa.Column('reached_on', sa.Date(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'],
                                name=op.f('fk_project_nodes_project_id_projects'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'],
                                name=op.f('fk_project_nodes_actor_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_project_nodes')),
        sa.UniqueConstraint('project_id', 'node', name='uq_project_nodes_project_node'),
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index('ix_projects_product_line', ['product_line'], unique=False)
        batch_op.create_index('ix_projects_expected_sign', ['expected_sign_date', 'stage', 'probability', 'amount'],
                              unique=False)
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.create_index('ix_records_created_author_sheet', ['created_at', 'author_id', 'sheet'], unique=False)
    # Event times are naive UTC; the department's date is Asia/Shanghai (UTC+8, no DST).
    events = sa.table('project_events', sa.column('project_id', sa.Integer), sa.column('kind', sa.String),
                      sa.column('to_value', sa.String), sa.column('at', sa.DateTime))
    nodes = sa.table('project_nodes', sa.column('project_id', sa.Integer), sa.column('node', sa.String),
                     sa.column('reached_on', sa.Date), sa.column('actor_id', sa.Integer),
                     sa.column('at', sa.DateTime))
    bind = op.get_bind()
    node = sa.case(STAGE_NODES, value=events.c.to_value)
    first = sa.func.min(events.c.at)
    rows = bind.execute(sa.select(events.c.project_id, node, first)
                        .where(events.c.kind.in_(("created", "stage")), events.c.to_value.in_(list(STAGE_NODES)))
                        .group_by(events.c.project_id, node)).all()
    from datetime import timedelta
    batch = [{"project_id": pid, "node": code, "reached_on": (at + timedelta(hours=8)).date(), "actor_id": None,
              "at": at} for pid, code, at in rows]
    for start in range(0, len(batch), 5000):
        op.bulk_insert(nodes, batch[start:start + 5000])


def downgrade():
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_index('ix_records_created_author_sheet')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_expected_sign')
        batch_op.drop_index('ix_projects_product_line')
    op.drop_table('project_nodes')
