"""Where a sealed PDF leads and how it is served: the QR code and verify link
follow the address the app is served at unless BASE_URL is set (with a warning
at start when it is not), 下载 PDF saves a file with a Chinese name while 预览
opens inline, and the seal is named after the department."""
import logging
import os
from urllib.parse import unquote

import pytest

from salestrack import create_app, pdf
from salestrack.formkit import registry
from salestrack.printing import verify_url
from tests.archive_helpers import approve, file_sheet, make_people

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")


def test_verify_link_follows_the_served_address_when_base_url_is_unset(app, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", "")
    with app.test_request_context("/records/1/signoff", base_url="http://10.1.2.3:5101/"):
        assert verify_url("DH-2026-0001") == "http://10.1.2.3:5101/verify/DH-2026-0001"
    monkeypatch.setenv("PORT", "5101")
    assert verify_url("DH-2026-0001") == "http://127.0.0.1:5101/verify/DH-2026-0001"  # CLI, demo data
    monkeypatch.setitem(app.config, "BASE_URL", "https://sales.example.cn/")
    with app.test_request_context("/", base_url="http://10.1.2.3:5101/"):
        assert verify_url("DH-2026-0001") == "https://sales.example.cn/verify/DH-2026-0001"


def test_a_sheet_approved_on_another_port_prints_that_port_in_its_seal(app, factory, client, login, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "BASE_URL", "")
    people = make_people(factory)
    spec = registry.get("phone_log")
    record, _ = file_sheet(factory, people, spec, rows=1)
    with app.test_request_context("/", base_url="http://127.0.0.1:5101/"):
        approve(record, spec, people.author)
    body = pdf.archive_load(app.config["ARCHIVE_DIR"], record.pdf_sha256)
    from pdf_helpers import pdf_text, squeeze
    assert f"http://127.0.0.1:5101/verify/{record.number}" in squeeze(pdf_text(body, tmp_path))


def test_start_warns_when_base_url_is_unset_in_production(monkeypatch, tmp_path, caplog):
    for name in list(os.environ):
        if name.startswith("SALESTRACK_") or name in ("DATABASE_URL", "SECRET_KEY"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/shipped.db")
    with caplog.at_level(logging.WARNING, logger="salestrack"):
        create_app()
    assert any("SALESTRACK_BASE_URL is not set" in r.getMessage() for r in caplog.records)
    caplog.clear()
    monkeypatch.setenv("SALESTRACK_BASE_URL", "https://sales.example.cn")
    with caplog.at_level(logging.WARNING, logger="salestrack"):
        create_app()
    assert not any("BASE_URL" in r.getMessage() for r in caplog.records)


def test_download_saves_a_named_file_and_preview_opens_inline(app, factory, client, login):
    people = make_people(factory)
    spec = registry.get("phone_log")
    draft, _ = file_sheet(factory, people, spec, rows=1)
    login(people.author)
    preview = client.get(f"/records/{draft.id}/pdf")
    assert preview.headers["Content-Disposition"].startswith("inline;")
    assert f"电话记录表_{draft.number}_预览.pdf" in unquote(preview.headers["Content-Disposition"])
    page = client.get(f"/records/{draft.id}").get_data(as_text=True)
    assert "预览 PDF" in page and "下载 PDF" not in page

    approve(draft, spec, people.author)
    page = client.get(f"/records/{draft.id}").get_data(as_text=True)
    assert "预览 PDF" in page and f"/records/{draft.id}/pdf?download=1" in page
    download = client.get(f"/records/{draft.id}/pdf?download=1")
    header = download.headers["Content-Disposition"]
    assert header.startswith("attachment;") and f'filename="{draft.number}.pdf"' in header
    assert "filename*=UTF-8''" in header and f"电话记录表_{draft.number}.pdf" in unquote(header)
    assert download.data == pdf.archive_load(app.config["ARCHIVE_DIR"], draft.pdf_sha256)
    inline = client.get(f"/records/{draft.id}/pdf")
    assert inline.headers["Content-Disposition"].startswith("inline;") and inline.data == download.data


def test_the_seal_is_named_after_the_department(app, factory):
    people = make_people(factory)
    spec = registry.get("phone_log")
    record, _ = file_sheet(factory, people, spec, rows=1)
    approve(record, spec, people.author)
    info = pdf.certificate_info(app.config["SEAL_CERT_PATH"])
    assert info["subject"] == "销售部 文件签章（销售部）"
    assert "salestrack" not in info["subject"]
