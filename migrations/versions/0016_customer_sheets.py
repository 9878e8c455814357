"""customer-level sheets: a record may be filed against the customer alone
(营销活动表, 异常客户信息表: paper-forms-toolkit.md, "Customer-level
records"), so records.project_id becomes nullable; every record names its
customer (filled from its project where an old row left it blank). The
notification kind of the implementation worklist is renamed from the sheet it
once named to "worklist".

Revision ID: 0016_customer_sheets
Revises: 0015_person_sheets
"""
from alembic import op
import sqlalchemy as sa


revision = '0016_customer_sheets'
down_revision = '0015_person_sheets'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE records SET customer_id = (SELECT projects.customer_id FROM projects "
               "WHERE projects.id = records.project_id) WHERE customer_id IS NULL")
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.alter_column('project_id', existing_type=sa.Integer(), nullable=True)
    op.execute("UPDATE notifications SET kind = 'worklist' WHERE kind = 'handover'")


def downgrade():
    # A customer-level sheet has no project to fall back to, and a sealed
    # sheet is never deleted: the downgrade refuses while one exists.
    left = op.get_bind().execute(sa.text("SELECT count(*) FROM records WHERE project_id IS NULL")).scalar()
    if left:
        raise RuntimeError(f"{left} customer-level sheet(s) have no project; the old schema cannot hold them")
    op.execute("UPDATE notifications SET kind = 'handover' WHERE kind = 'worklist'")
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.alter_column('project_id', existing_type=sa.Integer(), nullable=False)
