"""audit key: the audit chain becomes an HMAC under a key kept outside the
database (AUDIT_KEY_PATH, default instance/audit_key). A trail hashed with
the former unkeyed SHA-256 is checked event by event and recomputed from
genesis under the key (created here when missing), which is recorded as an
`audit_rekey` event. A trail that does not verify is left as it is, so
`flask audit verify` keeps reporting where it was changed. No schema change.

Revision ID: 0009_audit_key
Revises: 0008_stage_collections
"""
import os

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = '0009_audit_key'
down_revision = '0008_stage_collections'
branch_labels = None
depends_on = None


def upgrade():
    from salestrack import audit
    conn = op.get_bind()
    if conn.scalar(sa.text("SELECT id FROM audit_events LIMIT 1")) is None:
        return  # an empty trail: the key is created with its first event
    path = current_app.config["AUDIT_KEY_PATH"]
    key = audit.read_key(path) if os.path.exists(path) else audit.create_key(path)
    try:
        audit.rekey(conn, audit.legacy_hash, key, "迁移 0009：审计链改为密钥哈希")
    except audit.RekeyRefused as e:
        print(f"0009_audit_key: audit trail left unkeyed: {e.message}")


def downgrade():
    pass  # a keyed trail stays keyed; the unkeyed form is what 0009 removed
