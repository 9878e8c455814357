"""Engine set-up: SQLite in WAL mode with a busy timeout, and write
transactions that take SQLite's write lock at BEGIN (BEGIN IMMEDIATE), so two
writers queue instead of failing with "database is locked" when one upgrades
a read transaction. PostgreSQL needs none of this; writers lock rows with
SELECT ... FOR UPDATE instead (see operations.locked)."""
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

BUSY_TIMEOUT_MS = 30_000


def configure_sqlite(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy (below) issue BEGIN itself instead of pysqlite.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        if conn.get_execution_options().get("salestrack_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


@contextmanager
def write_transaction():
    """One transaction for one act: ends whatever read transaction the request
    had open, begins a writing one, commits on success, rolls back on error.
    Objects loaded before are expired and reload inside the new transaction."""
    session = db.session
    session.rollback()
    session.connection(execution_options={"salestrack_write": True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
