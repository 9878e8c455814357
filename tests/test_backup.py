"""Backup and restore (finding 15): one zip with a manifest of hashes, taken
while sheets are being approved, restores into an empty instance where the
archive, the audit trail and the pages are what they were; the seal is never
replaced silently while sealed PDFs exist."""
import json
import re
import threading
import zipfile
from pathlib import Path

import lxml.html
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from salestrack import backup, create_app
from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.models import ArchivedPdf, AuditEvent, Record, Team, User
from tests.archive_helpers import People, approve, file_sheet, make_people, submit
from tests.conftest import PASSWORD, TEST_DB, BrowserClient, Factory, _postgres_urls, make_config

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def empty_instance(tmp_path):
    """A second installation with its own folders and an empty database (no tables)."""
    folder = tmp_path / "restored"
    if TEST_DB == "sqlite":
        url, drop = "sqlite:///" + str(folder / "restored.db"), None
        folder.mkdir()
    else:
        import psycopg
        name, url = _postgres_urls(TEST_DB)
        with psycopg.connect(TEST_DB, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        drop = name
    other = create_app(make_config(url, folder))
    other.test_client_class = BrowserClient
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
    if drop:
        import psycopg
        with psycopg.connect(TEST_DB, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)')


def _invoke(app, *args):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
    return result


def _approved_sheets(factory, people, keys=("phone_log", "visit_report", "resource_request")):
    out = []
    for key in keys:
        spec = registry.get(key)
        record, _ = file_sheet(factory, people, spec, rows=2)
        approve(record, spec, people.author)
        out.append(record)
    return out


def _main(client, url) -> str:
    """The page's <main> as text, without the per-session hidden tokens."""
    response = client.get(url)
    assert response.status_code == 200, url
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    for node in doc.xpath("//input[@type='hidden'] | //meta[@name='csrf-token']"):
        node.getparent().remove(node)
    return lxml.html.tostring(doc.find(".//main"), encoding="unicode")


class Writer(threading.Thread):
    """Files and approves phone logs in a loop, as people do while the backup runs."""

    def __init__(self, app, people_ids: dict):
        super().__init__(daemon=True)
        self.app, self.people_ids = app, people_ids
        self.stop, self.done, self.error = threading.Event(), [], None
        self.progress = threading.Condition()

    def run(self):
        try:
            with self.app.app_context():
                factory = Factory(self.app)
                factory.n = 1000
                people = People(team=db.session.get(Team, self.people_ids["team"]),
                                **{k: db.session.get(User, v) for k, v in self.people_ids.items() if k != "team"})
                spec = registry.get("phone_log")
                while not self.stop.is_set():
                    record, _ = file_sheet(factory, people, spec, rows=1)
                    approve(record, spec, people.author)
                    with self.progress:
                        self.done.append(record.number)
                        self.progress.notify_all()
                db.session.remove()
        except BaseException as e:  # reported by the test
            self.error = e
            with self.progress:
                self.progress.notify_all()

    def wait_for(self, count: int):
        with self.progress:
            assert self.progress.wait_for(lambda: len(self.done) >= count or self.error, timeout=300)
        assert self.error is None, self.error


def test_drill_backup_while_writing_restores_exactly(app, factory, client, login, tmp_path, empty_instance):
    people = make_people(factory)
    records = _approved_sheets(factory, people)
    ids = {k: getattr(people, k).id for k in ("team", "manager", "author", "colleague", "gm", "hr", "engineer",
                                                "project_manager")}
    db.session.commit()
    head_before = tmp_path / "head-before.json"
    assert _invoke(app, "audit", "head", "--out", str(head_before)).exit_code == 0

    writer = Writer(app, ids)
    writer.start()
    try:
        writer.wait_for(1)
        out = tmp_path / "backup.zip"
        result = _invoke(app, "backup", "--out", str(out))
        assert result.exit_code == 0, result.output
        at_backup = len(writer.done)
        writer.wait_for(at_backup + 1)  # still writing after the backup finished
    finally:
        writer.stop.set()
        writer.join(timeout=300)
    assert writer.error is None, writer.error

    assert out.stat().st_mode & 0o077 == 0  # it holds the seal's private key and the audit key
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    names = set(manifest["files"])
    assert {"seal/key.pem", "seal/cert.pem", "audit_key"} <= names
    assert any(n.startswith("archive/") for n in names) and any(n.startswith("attachments/") for n in names)
    assert (backup.SQLITE_MEMBER if TEST_DB == "sqlite" else backup.PG_MEMBER) in names

    restored = _invoke(empty_instance, "restore", str(out))
    assert restored.exit_code == 0, restored.output
    with empty_instance.app_context():
        upgrade()
        db.session.remove()

    verify = _invoke(empty_instance, "archive", "verify")
    assert verify.exit_code == 0, verify.output
    copied = int(re.search(r"OK: (\d+) archived", verify.output).group(1))
    assert len(records) + 1 <= copied <= len(records) + at_backup + 1
    audit_ok = _invoke(empty_instance, "audit", "verify", "--head", str(head_before))
    assert audit_ok.exit_code == 0 and "matches" in audit_ok.output, audit_ok.output
    head_restored = tmp_path / "head-restored.json"
    assert _invoke(empty_instance, "audit", "head", "--out", str(head_restored)).exit_code == 0
    # the restored trail is exactly the start of the trail that went on being written
    assert _invoke(app, "audit", "verify", "--head", str(head_restored)).exit_code == 0

    login(people.author)
    # read here, in this instance's session: inside the other's context it would load from the other database
    username = people.author.username
    samples = [(r.id, r.number, r.project_id) for r in records]
    other = empty_instance.test_client()
    with empty_instance.app_context():
        response = other.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302
        numbers = list(db.session.scalars(sa.select(Record.number).join(ArchivedPdf, ArchivedPdf.record_id == Record.id)))
        db.session.remove()
    for record_id, number, project_id in samples:
        for url in (f"/records/{record_id}", f"/verify/{number}", f"/projects/{project_id}"):
            assert _main(other, url) == _main(client, url), url
        assert other.get(f"/records/{record_id}/pdf").data == client.get(f"/records/{record_id}/pdf").data
    assert set(writer.done[:at_backup]) <= set(numbers)


def test_restore_refuses_a_damaged_backup_and_writes_nothing(app, factory, tmp_path, empty_instance):
    _approved_sheets(factory, make_people(factory), keys=("phone_log",))
    out = tmp_path / "backup.zip"
    assert _invoke(app, "backup", "--out", str(out)).exit_code == 0
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename.startswith("archive/"):
                body = body.replace(b"%PDF", b"%PDX", 1)
            dst.writestr(item, body)
    result = _invoke(empty_instance, "restore", str(damaged))
    assert result.exit_code == 1 and "与清单中的 SHA-256 不符" in result.output
    assert not Path(empty_instance.config["SEAL_KEY_PATH"]).exists()
    assert not Path(empty_instance.config["ARCHIVE_DIR"]).exists()
    with empty_instance.app_context():
        assert sa.inspect(db.engine).get_table_names() == []


def test_restore_refuses_files_that_are_not_ours(app, tmp_path, empty_instance):
    evil = tmp_path / "evil.zip"
    body = b"x"
    import hashlib
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("archive/../../../escaped", body)
        zf.writestr("manifest.json", json.dumps({"format": 1, "database": "sqlite", "files": {
            "archive/../../../escaped": {"sha256": hashlib.sha256(body).hexdigest(), "size": 1}}}))
    result = _invoke(empty_instance, "restore", str(evil))
    assert result.exit_code == 1 and "不属于本系统" in result.output
    not_a_zip = tmp_path / "x.zip"
    not_a_zip.write_bytes(b"PK not really")
    assert "无法读取备份文件" in _invoke(empty_instance, "restore", str(not_a_zip)).output


def test_restore_refuses_an_instance_that_holds_data(app, factory, tmp_path):
    _approved_sheets(factory, make_people(factory), keys=("phone_log",))
    out = tmp_path / "backup.zip"
    assert _invoke(app, "backup", "--out", str(out)).exit_code == 0
    result = _invoke(app, "restore", str(out))
    assert result.exit_code == 1 and "只能恢复到空的实例" in result.output and "数据库" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ArchivedPdf)) == 1


def test_no_new_seal_while_sealed_pdfs_exist(app, factory, runner, client, login):
    people = make_people(factory)
    _approved_sheets(factory, people, keys=("phone_log",))
    spec = registry.get("phone_log")
    waiting, _ = file_sheet(factory, people, spec, rows=1)
    submit(waiting, spec, people.author)
    key, cert = Path(app.config["SEAL_KEY_PATH"]), Path(app.config["SEAL_CERT_PATH"])
    key.unlink()
    cert.unlink()

    result = runner.invoke(args=["pdf", "init-cert", "--if-missing"])
    assert result.exit_code == 1 and "Restore the seal from the backup" in result.output
    assert not key.exists() and not cert.exists()

    while waiting.current_slot is not None and waiting.current_slot < len(waiting.chain) - 1:
        login(db.session.get(User, waiting.waiting_for_id))
        client.post(f"/records/{waiting.id}/sign", data={"decision": "approved", "comment": "同意"})
        client.post("/logout")
        db.session.expire_all()
    login(db.session.get(User, waiting.waiting_for_id))
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    page = client.post(f"/records/{waiting.id}/sign", data={"decision": "approved", "comment": "同意"},
                       follow_redirects=True).get_data(as_text=True)
    assert "电子签章证书缺失" in page
    db.session.expire_all()
    assert waiting.status == "submitted" and waiting.pdf_sha256 is None
    assert not key.exists() and not cert.exists()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events

    forced = runner.invoke(args=["pdf", "init-cert", "--if-missing", "--force"])
    assert forced.exit_code == 0 and cert.exists()


def test_a_fresh_install_still_gets_its_seal(app, runner):
    assert runner.invoke(args=["pdf", "init-cert", "--if-missing"]).exit_code == 0
    assert Path(app.config["SEAL_CERT_PATH"]).exists()
