"""customers: normalised name key (indexed) and 统一社会信用代码/增值税号 (unique)

Fills name_key for every existing customer. Customers that already share a
key are left as they are (the check applies to new ones); they are listed in
the migration's output and on the admin page 重复客户 for merging.

Revision ID: 0006_customer_dupes
Revises: 0005_master_changes
"""
import logging

from alembic import op
import sqlalchemy as sa


revision = '0006_customer_dupes'
down_revision = '0005_master_changes'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade():
    from salestrack.customer_keys import name_key
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('tax_id', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_customers_name_key'), ['name_key'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_customers_tax_id'), ['tax_id'])
    conn = op.get_bind()
    customers = sa.table('customers', sa.column('id', sa.Integer), sa.column('name', sa.String),
                         sa.column('name_key', sa.String), sa.column('customer_no', sa.String))
    rows = conn.execute(sa.select(customers.c.id, customers.c.name, customers.c.customer_no)).all()
    groups = {}
    for start in range(0, len(rows), 5000):
        batch = [{"cid": r.id, "k": name_key(r.name)} for r in rows[start:start + 5000]]
        conn.execute(customers.update().where(customers.c.id == sa.bindparam("cid"))
                     .values(name_key=sa.bindparam("k")), batch)
        for r, item in zip(rows[start:start + 5000], batch, strict=True):
            groups.setdefault(item["k"], []).append(r.customer_no)
    for key, numbers in groups.items():
        if key and len(numbers) > 1:
            log.warning("duplicate customers (merge them on /admin/customers/duplicates): %s", ", ".join(numbers))


def downgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_customers_tax_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_customers_name_key'))
        batch_op.drop_column('tax_id')
        batch_op.drop_column('name_key')
