"""Every sheet, filled in full and signed along its real chain, ends as a
sealed A4 PDF in the archive that prints every label, value and signer,
verifies as intact, fails verification after one changed byte, and is what a
download serves byte for byte. Drafts are watermarked; a revision after
approval archives a new PDF beside the old one."""
import re

import pytest
import sqlalchemy as sa

from salestrack import operations, pdf
from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.models import ArchivedPdf, AuditEvent
from tests.archive_helpers import approve, archived_count, file_sheet, labels, make_people
from tests.pdf.pdf_helpers import pdf_info, pdf_text, squeeze

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")

SPECS = registry.all_specs()


def archived_file(app, sha: str) -> bytes:
    return pdf.archive_path(app.config["ARCHIVE_DIR"], sha).read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.key)
def test_approved_sheet_is_sealed_archived_and_served_as_archived(spec, app, factory, login, client, tmp_path):
    people = make_people(factory)
    record, printed = file_sheet(factory, people, spec, rows=20)
    signers = approve(record, spec, people.author)
    assert record.status == "approved" and len(signers) == len(record.chain) >= 1

    archived = db.session.scalar(sa.select(ArchivedPdf).where(ArchivedPdf.record_id == record.id))
    assert archived.sha256 == record.pdf_sha256
    body = archived_file(app, archived.sha256)
    assert archived.size == len(body)

    info = pdf_info(body, tmp_path)
    sizes = re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    width, height = (841.9, 595.3) if spec.landscape else (595.3, 841.9)  # A4, landscape where declared
    assert sizes and all(abs(float(w) - width) < 1 and abs(float(h) - height) < 1 for w, h in sizes)

    text = squeeze(pdf_text(body, tmp_path))
    expected = labels(spec) + printed + signers + [record.number, people.author.name]
    missing = [v for v in expected if squeeze(v) not in text]
    assert not missing

    seal = pdf.verify_pdf(body, app.config["SEAL_CERT_PATH"])
    assert seal["signed"] and seal["intact"] and seal["trusted"], seal
    flipped = bytearray(body)
    flipped[len(body) // 3] ^= 0x01
    assert not pdf.verify_pdf(bytes(flipped), app.config["SEAL_CERT_PATH"])["intact"]

    login(people.author)
    before = archived_count()
    response = client.get(f"/records/{record.id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data == body
    assert archived_count() == before


def test_archive_event_is_in_the_audit_trail(app, factory):
    spec = registry.get("phone_log")
    people = make_people(factory)
    record, _ = file_sheet(factory, people, spec, rows=2)
    approve(record, spec, people.author)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "archive"))
    assert event.target_id == record.id and event.detail["sha256"] == record.pdf_sha256


def test_final_pdf_carries_number_hash_prefix_and_verify_url(app, factory, tmp_path):
    spec = registry.get("visit_report")
    people = make_people(factory)
    record, _ = file_sheet(factory, people, spec, rows=2)
    approve(record, spec, people.author)
    from salestrack.formkit.canonical import content_hash
    text = squeeze(pdf_text(archived_file(app, record.pdf_sha256), tmp_path))
    assert record.number in text and content_hash(record.data)[:16] in text
    assert squeeze(f"http://localhost/verify/{record.number}") in text


def test_revision_after_approval_archives_a_new_pdf_and_keeps_the_old(app, factory, client, login, tmp_path):
    spec = registry.get("visit_report")
    people = make_people(factory)
    record, _ = file_sheet(factory, people, spec, rows=2)
    approve(record, spec, people.author)
    first_sha = record.pdf_sha256
    first_bytes = archived_file(app, first_sha)

    operations.save_record(people.author, record, spec, {**record.data, "place": "客户总部三楼会议室"}, record.version)
    assert record.status == "draft"
    approve(record, spec, people.author)

    rows = list(db.session.scalars(sa.select(ArchivedPdf).where(ArchivedPdf.record_id == record.id)
                                   .order_by(ArchivedPdf.id)))
    assert [r.sha256 for r in rows] == [first_sha, record.pdf_sha256] and first_sha != record.pdf_sha256
    assert [r.round for r in rows] == [1, 2] and [r.revision_number for r in rows] == [1, 2]
    assert archived_file(app, first_sha) == first_bytes
    assert "客户总部三楼会议室" in squeeze(pdf_text(archived_file(app, record.pdf_sha256), tmp_path))

    login(people.author)
    assert client.get(f"/records/{record.id}/pdf").data == archived_file(app, record.pdf_sha256)
    assert client.get(f"/records/{record.id}/pdf?version={rows[0].id}").data == first_bytes


def test_a_version_of_another_record_is_not_served(app, factory, client, login):
    spec = registry.get("phone_log")
    people = make_people(factory)
    record, _ = file_sheet(factory, people, spec, rows=1)
    approve(record, spec, people.author)
    other, _ = file_sheet(factory, people, spec, rows=1)
    login(people.author)
    archived_id = db.session.scalar(sa.select(ArchivedPdf.id).where(ArchivedPdf.record_id == record.id))
    assert client.get(f"/records/{other.id}/pdf?version={archived_id}").status_code == 404


@pytest.mark.parametrize("status, mark", [("draft", "草稿"), ("submitted", "审批中"), ("returned", "草稿")])
def test_previews_before_approval_are_watermarked(status, mark, app, factory, client, login, tmp_path):
    spec = registry.get("resource_request")
    people = make_people(factory)
    record, _ = file_sheet(factory, people, spec, rows=1)
    if status != "draft":
        from tests.archive_helpers import submit
        submit(record, spec, people.author)
    if status == "returned":
        operations.sign_record(people.manager, record, spec, "returned", "预算依据不足，请补充")
    login(people.author)
    response = client.get(f"/records/{record.id}/pdf")
    assert response.status_code == 200 and record.status == status
    assert mark in squeeze(pdf_text(response.data, tmp_path))
    assert not pdf.verify_pdf(response.data, app.config["SEAL_CERT_PATH"])["signed"]
    assert archived_count() == 0
