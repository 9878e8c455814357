"""Approvals waiting past SIGNOFF_OVERDUE_WORKING_DAYS working days are
escalated to the signer's manager by a periodic job, once per slot and
round, on the department's clock (frozen here)."""
import time
from datetime import datetime, timezone

import sqlalchemy as sa
import time_machine

from salestrack.extensions import db
from salestrack.jobs import Worker, enqueue, queue
from salestrack.models import AuditEvent, Notification
from salestrack.operations import escalate_overdue_approvals
from tests.signoff_support import file_sheet, reload, spec, submit, world  # noqa: F401

MONDAY = datetime(2026, 3, 16, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
THURSDAY = datetime(2026, 3, 19, 2, 0, tzinfo=timezone.utc)  # 3 working days later: not yet overdue
FRIDAY = datetime(2026, 3, 20, 2, 0, tzinfo=timezone.utc)  # 4: past the 3-day threshold


def _escalations(record):
    db.session.rollback()
    events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "escalate",
                                                                 AuditEvent.target_id == record.id)))
    notes = list(db.session.scalars(sa.select(Notification).where(Notification.kind == "escalated",
                                                                  Notification.record_id == record.id)))
    return events, notes


def test_an_overdue_approval_is_escalated_once_to_the_signers_manager(app, world):
    w = world
    with time_machine.travel(MONDAY, tick=False):
        record = file_sheet(w, spec("phone_log"))
        assert submit(w, record).status_code == 302
    assert reload(record).waiting_for_id == w.manager.id  # 李娜 manages the team herself: the director is above
    with time_machine.travel(THURSDAY, tick=False):
        assert escalate_overdue_approvals() == []
    with time_machine.travel(FRIDAY, tick=False):
        assert escalate_overdue_approvals() == [record.id]
        assert escalate_overdue_approvals() == []  # run twice: the effect once
    events, notes = _escalations(record)
    assert len(events) == 1 and len(notes) == 1
    assert notes[0].user_id == w.director.id and "李娜" in notes[0].message and "4 个工作日" in notes[0].message
    assert events[0].detail["to"] == w.director.username and events[0].detail["round"] == 1


def test_the_periodic_job_run_by_the_worker_twice_escalates_once(app, world):
    w = world
    with time_machine.travel(MONDAY, tick=False):
        record = file_sheet(w, spec("phone_log"))
        assert submit(w, record).status_code == 302
    with time_machine.travel(FRIDAY, tick=True):
        enqueue("escalate_approvals")
        enqueue("escalate_approvals")
        worker = Worker(app, periodic=False).start()
        try:
            deadline = time.monotonic() + 30
            while queue().pending_count() and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            worker.stop()  # lets a running job finish
    events, notes = _escalations(record)
    assert len(events) == 1 and len(notes) == 1 and notes[0].user_id == w.director.id
