"""Waiting for the job queue the way a user does: looking again until the
sealed PDF is there."""
import time

from salestrack.extensions import db
from salestrack.models import ArchivedPdf, Record


def wait_archived(record, timeout: float = 60.0) -> ArchivedPdf:
    """The ArchivedPdf of `record`'s current approval (a Record or its id),
    once the seal_final_pdf job has made it; AssertionError after `timeout`
    seconds (a worker fixture must be running)."""
    record_id = record if isinstance(record, int) else record.id
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        db.session.expire_all()
        fresh = db.session.get(Record, record_id)
        if fresh is not None and fresh.status == "approved" and fresh.pdf_sha256:
            return db.session.query(ArchivedPdf).filter_by(sha256=fresh.pdf_sha256).one()
        assert time.monotonic() < deadline, f"record {record_id} has no sealed PDF after {timeout} s"
        time.sleep(0.1)
