"""`flask db upgrade` on an empty database builds exactly the models' schema,
and downgrades cleanly, on SQLite and PostgreSQL."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from salestrack.extensions import db


def _differences():
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_matches_models(app):
    assert _differences() == []


def test_downgrade_then_upgrade_round_trips(app):
    downgrade(revision="base")
    with db.engine.connect() as conn:
        names = set(db.inspect(conn).get_table_names()) - {"alembic_version"}
    assert names == set()
    upgrade()
    assert _differences() == []


def test_every_foreign_key_of_the_models_exists(app):
    inspector = db.inspect(db.engine)
    for table in db.metadata.sorted_tables:
        in_db = {(tuple(fk["constrained_columns"]), fk["referred_table"]) for fk in inspector.get_foreign_keys(table.name)}
        in_model = {(tuple(c.parent.name for c in [e for e in fk.elements]), fk.referred_table.name)
                    for fk in table.foreign_key_constraints}
        assert in_model <= in_db, table.name
