"""文件验证 (an uploaded PDF or a number against the archive) and 审计导出
(the zip of approved PDFs with its manifest), from the pages."""
import csv
import hashlib
import io
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from salestrack import pdf
from salestrack.archive import local_today
from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.models import ArchivedPdf, AuditEvent
from tests.archive_helpers import approve, file_sheet, make_people

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")




@pytest.fixture
def approved(app, factory):
    """An approved phone log and visit report of one team, and another team's rep."""
    people = make_people(factory)
    records = {}
    for key in ("phone_log", "visit_report"):
        spec = registry.get(key)
        records[key], _ = file_sheet(factory, people, spec, rows=2)
        approve(records[key], spec, people.author)
    _, _, stranger, _ = factory.team_with_people()
    return people, records, stranger


def archived_bytes(app, record) -> bytes:
    return pdf.archive_path(app.config["ARCHIVE_DIR"], record.pdf_sha256).read_bytes()


def upload(client, body: bytes, name="文件.pdf"):
    return client.post("/verify/", data={"file": (io.BytesIO(body), name)}, content_type="multipart/form-data")


# ── verify ────────────────────────────────────────────────────────────────
def test_genuine_file_is_recognised_with_its_signers(app, approved, client, login):
    people, records, _ = approved
    record = records["visit_report"]
    login(people.author)
    page = upload(client, archived_bytes(app, record)).get_data(as_text=True)
    assert "正式归档文件" in page and "逐字节一致" in page and "签章完好" in page and "本单位签章证书" in page
    assert record.number in page and record.pdf_sha256 in page and "现行版本" in page
    assert "领导建议" in page and people.manager.name in page
    assert pdf.certificate_info(app.config["SEAL_CERT_PATH"])["fingerprint"] in page


def test_tampered_file_is_refused(app, approved, client, login):
    people, records, _ = approved
    record = records["phone_log"]
    body = bytearray(archived_bytes(app, record))
    body[len(body) // 3] ^= 0x01
    login(people.author)
    response = upload(client, bytes(body))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "不是归档文件" in page and "签章无效" in page and "逐字节一致" not in page
    assert f"/verify/{record.number}" in page  # the number the file claims, to compare with


def test_a_record_the_user_cannot_see_is_not_leaked(app, approved, client, login):
    people, records, stranger = approved
    record = records["visit_report"]
    login(stranger)
    page = upload(client, archived_bytes(app, record)).get_data(as_text=True)
    assert "正式归档文件" in page and record.number in page and "无权查看" in page
    assert record.project.name not in page and people.manager.name not in page and people.author.name not in page
    response = client.get(f"/verify/{record.number}")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert record.project.name not in text and record.pdf_sha256 not in text
    assert text.replace(record.number, "X") == \
        client.get("/verify/BF-2099-9999").get_data(as_text=True).replace("BF-2099-9999", "X")


def test_number_page_lists_checked_versions_with_downloads(app, approved, client, login):
    people, records, _ = approved
    record = records["phone_log"]
    login(people.manager)
    response = client.get(f"/verify/{record.number}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "归档文件完好" in page and record.pdf_sha256 in page and people.manager.name in page
    archived_id = db.session.scalar(sa.select(ArchivedPdf.id).where(ArchivedPdf.record_id == record.id))
    link = f"/records/{record.id}/pdf?version={archived_id}"
    assert link in page
    assert client.get(link).data == archived_bytes(app, record)


def test_number_page_reports_a_damaged_archive(app, approved, client, login):
    people, records, _ = approved
    record = records["phone_log"]
    path = pdf.archive_path(app.config["ARCHIVE_DIR"], record.pdf_sha256)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b"\n")
    login(people.author)
    page = client.get(f"/verify/{record.number}").get_data(as_text=True)
    assert "与其 SHA-256 不符" in page


def test_typed_number_goes_to_its_page(approved, client, login):
    people, records, _ = approved
    login(people.author)
    response = client.post("/verify/", data={"number": f" {records['phone_log'].number.lower()} "})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/verify/{records['phone_log'].number}")


def test_unknown_number_and_draft(app, factory, client, login):
    people = make_people(factory)
    draft, _ = file_sheet(factory, people, registry.get("phone_log"), rows=1)
    login(people.author)
    response = client.get("/verify/DH-2099-0001")
    assert response.status_code == 404 and "未找到" in response.get_data(as_text=True)
    page = client.get(f"/verify/{draft.number}").get_data(as_text=True)
    assert "尚未审批归档" in page and "草稿" in page


def test_uploads_that_are_not_pdfs_or_too_large_are_refused(app, factory, client, login):
    people = make_people(factory)
    login(people.author)
    assert client.post("/verify/", data={}).status_code == 400
    response = upload(client, b"PK\x03\x04 not a pdf", "x.pdf")
    assert response.status_code == 400 and "不是 PDF" in response.get_data(as_text=True)
    app.config["VERIFY_MAX_BYTES"] = 1024
    response = upload(client, b"%PDF-1.7\n" + b"0" * 2048)
    assert response.status_code == 400 and "文件太大" in response.get_data(as_text=True)


def test_an_unsealed_pdf_is_not_genuine(app, factory, client, login):
    people = make_people(factory)
    draft, _ = file_sheet(factory, people, registry.get("phone_log"), rows=1)
    login(people.author)
    preview = client.get(f"/records/{draft.id}/pdf").data
    page = upload(client, preview).get_data(as_text=True)
    assert "不是归档文件" in page and "没有电子签章" in page


def test_navigation_offers_verify_to_all_and_export_to_clerk_and_auditor(factory, client, login):
    for role in ("rep", "gm", "hr", "clerk", "auditor", "admin"):
        user = factory.user(role)
        login(user)
        page = client.get("/admin/users" if role == "admin" else "/").get_data(as_text=True)
        assert 'href="/verify/"' in page, role
        assert ('href="/archive/export"' in page) == (role in ("clerk", "auditor")), role
        client.post("/logout")


# ── export ────────────────────────────────────────────────────────────────
def export(client, data):
    """POSTs the export form; the response is closed (its temporary file too) before returning."""
    with client.post("/archive/export", data=data) as response:
        response.get_data()
    return response


def read_zip(data: bytes) -> tuple[list[list[str]], dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    manifest = files.pop("manifest.csv")
    assert manifest.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(manifest.decode("utf-8-sig")))), files


@pytest.mark.parametrize("role", ["clerk", "auditor"])
def test_export_zip_holds_the_archived_pdfs_and_a_manifest(role, app, approved, factory, client, login):
    people, records, _ = approved
    login(factory.user(role))
    period = {"from": (local_today() - timedelta(days=1)).isoformat(), "to": (local_today() + timedelta(days=1)).isoformat()}
    listing = client.get("/archive/export", query_string=period).get_data(as_text=True)
    assert "共 2 份归档文件" in listing and records["phone_log"].number in listing
    response = export(client, period)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    rows, files = read_zip(response.data)
    assert rows[0] == ["编号", "表单", "项目", "客户", "填写人", "签署人", "审批时间", "SHA-256", "文件"]
    by_number = {row[0]: row for row in rows[1:]}
    assert set(by_number) == {r.number for r in records.values()}
    for key, record in records.items():
        row = by_number[record.number]
        assert row[1] == registry.get(key).title and row[2] == record.project.name
        assert row[3] == record.project.customer.name and row[4] == people.author.name
        assert people.manager.name in row[5] and row[6].startswith(local_today().isoformat()[:4])
        assert row[7] == record.pdf_sha256 == hashlib.sha256(files[row[8]]).hexdigest()
        assert files[row[8]] == archived_bytes(app, record)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "export"))
    assert event.detail["files"] == 2 and event.detail["from"] == period["from"]
    manifest = zipfile.ZipFile(io.BytesIO(response.data)).read("manifest.csv")
    assert event.content_hash == hashlib.sha256(manifest).hexdigest()


def test_export_filters_by_sheet_team_and_period(app, approved, factory, client, login):
    people, records, _ = approved
    login(factory.user("auditor"))
    period = {"from": local_today().isoformat(), "to": local_today().isoformat()}
    rows, _ = read_zip(export(client, period | {"sheet": "phone_log"}).data)
    assert [r[0] for r in rows[1:]] == [records["phone_log"].number]
    rows, _ = read_zip(export(client, period | {"team": str(people.team.id)}).data)
    assert len(rows) == 3
    other_team = factory.team("华南片区")
    response = export(client, period | {"team": str(other_team.id)})
    assert response.status_code == 400 and "没有已归档的文件" in response.get_data(as_text=True)
    earlier = {"from": "2020-01-01", "to": "2020-12-31"}
    assert export(client, earlier).status_code == 400
    assert export(client, {"from": "2026-02-30", "to": "x"}).status_code == 400
    assert export(client, {"from": "2026-03-02", "to": "2026-03-01"}).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "export")) == 2


def test_export_names_each_approval_of_a_revised_record(app, approved, factory, client, login):
    from salestrack import operations
    people, records, _ = approved
    record, spec = records["phone_log"], registry.get("phone_log")
    operations.save_record(people.author, record, spec, {**record.data, "date": "2026-03-09"}, record.version)
    approve(record, spec, people.author)
    login(factory.user("clerk"))
    rows, files = read_zip(export(client, {"from": local_today().isoformat(),
                                                                 "to": local_today().isoformat()}).data)
    assert {f"{record.number}-r1.pdf", f"{record.number}-r2.pdf"} <= set(files)


@pytest.mark.parametrize("role", ["rep", "manager", "director", "gm", "hr", "implementation", "admin"])
def test_export_is_refused_to_other_roles(role, approved, factory, client, login):
    login(factory.user(role))
    assert client.get("/archive/export").status_code == 403
    assert export(client, {"from": local_today().isoformat(), "to": local_today().isoformat()}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "export")) == 0
