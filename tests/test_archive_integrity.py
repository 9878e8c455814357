"""What the records say stays true (finding 6): a record, its archived file
and the audit trail are checked against each other, and the verify page
shows who signed from the audit trail, not from the editable signatures table."""
import io

import pytest
import sqlalchemy as sa

from salestrack import pdf
from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.models import ArchivedPdf, Record, Signature
from tests.archive_helpers import approve, file_sheet, make_people

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def approved(app, factory):
    """An approved phone log and visit report of one team."""
    people = make_people(factory)
    records = {}
    for key in ("phone_log", "visit_report"):
        spec = registry.get(key)
        records[key], _ = file_sheet(factory, people, spec, rows=2)
        approve(records[key], spec, people.author)
    return people, records["phone_log"], records["visit_report"]


def _verify(runner):
    result = runner.invoke(args=["archive", "verify"])
    return result.exit_code, result.output


def test_an_untouched_archive_verifies(runner, approved):
    assert _verify(runner) == (0, "OK: 2 archived PDF(s), hashes and seals intact\n")


def _served(client, record_id):
    """The bytes a record's PDF link serves (none when it refuses)."""
    try:
        response = client.get(f"/records/{record_id}/pdf")
    except pdf.ArchiveCorrupt:  # refused; the error page is the same as for any damaged archive file
        return b""
    return response.data if response.status_code == 200 else b""


def test_a_records_pdf_hash_swapped_with_anothers_is_caught(app, client, login, runner, approved):
    people, a, b = approved
    sha_a, sha_b = a.pdf_sha256, b.pdf_sha256
    body_b = pdf.archive_path(app.config["ARCHIVE_DIR"], sha_b).read_bytes()
    login(people.author)
    assert _served(client, b.id) == body_b
    db.session.execute(sa.update(Record).where(Record.id == a.id).values(pdf_sha256=sha_b))
    db.session.execute(sa.update(Record).where(Record.id == b.id).values(pdf_sha256=sha_a))
    db.session.commit()
    code, output = _verify(runner)
    assert code == 1
    assert f"{a.number} {sha_b}: 记录指向的不是本表单最新的归档文件" in output
    assert f"{b.number} {sha_a}: 记录指向的不是本表单最新的归档文件" in output
    assert _served(client, a.id) != body_b  # a never serves b's sealed sheet


def test_archive_rows_moved_to_the_other_record_are_caught(app, client, login, runner, approved):
    """Swapping the archive rows' record too, so every record points at 'its own'
    latest file: the file names another number and the trail archived it elsewhere."""
    people, a, b = approved
    sha_a, sha_b = a.pdf_sha256, b.pdf_sha256
    body_b = pdf.archive_path(app.config["ARCHIVE_DIR"], sha_b).read_bytes()
    db.session.execute(sa.update(ArchivedPdf).where(ArchivedPdf.sha256 == sha_a).values(record_id=b.id))
    db.session.execute(sa.update(ArchivedPdf).where(ArchivedPdf.sha256 == sha_b).values(record_id=a.id))
    db.session.execute(sa.update(Record).where(Record.id == a.id).values(pdf_sha256=sha_b))
    db.session.execute(sa.update(Record).where(Record.id == b.id).values(pdf_sha256=sha_a))
    db.session.commit()
    code, output = _verify(runner)
    assert code == 1
    assert f"归档文件是 {b.number} 的，不是 {a.number} 的" in output
    assert f"{a.number} {sha_b}: 审计记录中没有此表单归档这个文件的事件" in output
    login(people.author)
    assert _served(client, a.id) != body_b


@pytest.mark.parametrize("column", ["signer_id", "on_behalf_of_id"])
def test_a_signatures_row_edited_is_caught_and_not_shown(app, client, login, runner, approved, column):
    people, record, _ = approved
    sig = db.session.scalar(sa.select(Signature).where(Signature.record_id == record.id,
                                                       Signature.decision == "approved")
                            .order_by(Signature.slot_index.desc()))
    real = sig.signer.name
    forger = people.colleague
    db.session.execute(sa.update(Signature).where(Signature.id == sig.id).values(**{column: forger.id}))
    db.session.commit()
    code, output = _verify(runner)
    assert code == 1 and f"{record.number} {record.pdf_sha256}: 签署记录与审计记录不符" in output

    login(people.author)
    page = client.get(f"/verify/{record.number}").get_data(as_text=True)
    assert real in page and forger.name not in page
    body = pdf.archive_path(app.config["ARCHIVE_DIR"], record.pdf_sha256).read_bytes()
    uploaded = client.post("/verify/", data={"file": (io.BytesIO(body), "x.pdf")},
                           content_type="multipart/form-data").get_data(as_text=True)
    assert "正式归档文件" in uploaded and real in uploaded and forger.name not in uploaded


def test_a_signature_row_deleted_is_caught(runner, approved):
    _, record, _ = approved
    db.session.execute(sa.delete(Signature).where(Signature.record_id == record.id))
    db.session.commit()
    code, output = _verify(runner)
    assert code == 1 and "签署记录与审计记录不符" in output
