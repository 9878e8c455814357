"""`archive verify` and sheets still 归档中: an approval the queue's worker
has not sealed yet (a backup taken, or a check run, right after it) is not
a problem; one still without its file ARCHIVE_LATE_MINUTES later is."""
from datetime import timedelta

from salestrack import archive, operations
from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.models import User, utcnow
from tests.archive_helpers import file_sheet, make_people, submit


def test_a_fresh_approval_is_archiving_an_old_one_without_its_file_is_reported(app, factory):
    # No worker runs in this test: the approval stays 归档中.
    people = make_people(factory)
    spec = registry.get("phone_log")
    record, _ = file_sheet(factory, people, spec, rows=2)
    submit(record, spec, people.author)
    while record.status == "submitted":
        signer = db.session.get(User, record.waiting_for_id)
        operations.sign_record(signer, record, spec, "approved", "同意")
    assert record.status == "approved" and record.pdf_sha256 is None
    runner = app.test_cli_runner()
    fresh = runner.invoke(args=["archive", "verify"])
    assert fresh.exit_code == 0, fresh.output
    record.approved_at = utcnow() - timedelta(minutes=archive.ARCHIVE_LATE_MINUTES + 1)
    db.session.commit()
    late = runner.invoke(args=["archive", "verify"])
    assert late.exit_code == 1
    assert f"{record.number}: 已审批超过 {archive.ARCHIVE_LATE_MINUTES} 分钟仍没有归档文件" in late.output
