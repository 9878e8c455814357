"""`flask pdf init-cert`, `flask archive verify` and `flask archive export`."""
import csv
import io
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from salestrack import pdf
from salestrack.archive import local_today
from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.models import AuditEvent
from tests.archive_helpers import approve, file_sheet, make_people

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def approved(app, factory):
    people = make_people(factory)
    spec = registry.get("phone_log")
    record, _ = file_sheet(factory, people, spec, rows=2)
    approve(record, spec, people.author)
    return people, record


def test_init_cert_creates_once_and_replaces_only_when_forced(app, runner):
    key, cert = Path(app.config["SEAL_KEY_PATH"]), Path(app.config["SEAL_CERT_PATH"])
    result = runner.invoke(args=["pdf", "init-cert", "--common-name", "华东精机 文件签章", "--org", "华东精机"])
    assert result.exit_code == 0 and key.exists() and cert.exists(), result.output
    assert key.stat().st_mode & 0o077 == 0
    first = pdf.certificate_info(cert)
    assert first["subject"] == "华东精机 文件签章（华东精机）"

    again = runner.invoke(args=["pdf", "init-cert"])
    assert again.exit_code != 0 and "--force" in again.output
    quiet = runner.invoke(args=["pdf", "init-cert", "--if-missing"])
    assert quiet.exit_code == 0 and "exists" in quiet.output
    assert pdf.certificate_info(cert) == first

    forced = runner.invoke(args=["pdf", "init-cert", "--force"])
    assert forced.exit_code == 0
    assert pdf.certificate_info(cert)["fingerprint"] != first["fingerprint"]
    kept = [p for p in cert.parent.iterdir() if p.name.startswith("cert.pem.replaced-")]
    assert len(kept) == 1 and pdf.certificate_info(kept[0]) == first


def test_init_cert_if_missing_creates_on_a_fresh_install(app, runner):
    assert runner.invoke(args=["pdf", "init-cert", "--if-missing"]).exit_code == 0
    assert Path(app.config["SEAL_CERT_PATH"]).exists()


def test_archive_verify_passes_then_finds_a_tampered_file(app, runner, approved):
    _, record = approved
    ok = runner.invoke(args=["archive", "verify"])
    assert ok.exit_code == 0 and "OK: 1 archived PDF" in ok.output, ok.output

    path = pdf.archive_path(app.config["ARCHIVE_DIR"], record.pdf_sha256)
    body = bytearray(path.read_bytes())
    body[len(body) // 2] ^= 0x01
    path.chmod(0o644)
    path.write_bytes(bytes(body))
    broken = runner.invoke(args=["archive", "verify"])
    assert broken.exit_code == 1
    assert f"PROBLEM {record.number} {record.pdf_sha256}" in broken.output and "1 problem" in broken.output

    path.unlink()
    assert "归档文件缺失" in runner.invoke(args=["archive", "verify"]).output


def test_archive_verify_finds_a_seal_from_another_certificate(app, runner, approved):
    folder = Path(app.config["SEAL_CERT_PATH"]).parent
    for name in ("key.pem", "cert.pem"):
        (folder / name).rename(folder / f"{name}.old")
    pdf.ensure_cert(folder / "key.pem", folder / "cert.pem")
    result = runner.invoke(args=["archive", "verify"])
    assert result.exit_code == 1 and "不是由本单位的签章证书签署" in result.output


def test_archive_export_writes_the_zip_and_logs_it(app, runner, approved, tmp_path):
    people, record = approved
    out = tmp_path / "audit.zip"
    today = local_today().isoformat()
    result = runner.invoke(args=["archive", "export", "--from", today, "--to", today, "--sheet", "phone_log",
                                 "--team", people.team.name, "--out", str(out)])
    assert result.exit_code == 0 and "exported 1 PDF" in result.output, result.output
    with zipfile.ZipFile(out) as zf:
        rows = list(csv.reader(io.StringIO(zf.read("manifest.csv").decode("utf-8-sig"))))
        assert zf.read(f"{record.number}.pdf") == pdf.archive_load(app.config["ARCHIVE_DIR"], record.pdf_sha256)
    assert rows[1][0] == record.number and rows[1][7] == record.pdf_sha256
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "export"))
    assert event.actor_id is None and event.detail["numbers"] == [record.number]


def test_archive_export_refuses_bad_arguments_and_a_damaged_archive(app, runner, approved, tmp_path):
    _, record = approved
    today = local_today().isoformat()
    out = tmp_path / "x.zip"
    base = ["archive", "export", "--from", today, "--to", today, "--out", str(out)]
    assert "no such team" in runner.invoke(args=base + ["--team", "火星片区"]).output
    assert "no such sheet" in runner.invoke(args=base + ["--sheet", "nothing"]).output
    assert runner.invoke(args=["archive", "export", "--from", today, "--to", "2000-01-01",
                               "--out", str(out)]).exit_code != 0
    pdf.archive_path(app.config["ARCHIVE_DIR"], record.pdf_sha256).unlink()
    result = runner.invoke(args=base)
    assert result.exit_code != 0 and "flask archive verify" in result.output
    assert not out.exists() and not list(tmp_path.glob("*.partial"))
