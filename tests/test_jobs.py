"""The job queue (salestrack/jobs.py) as a user meets it: the final signature
returns at once and the record page shows 归档中, asking again, until the
queue's worker has sealed the PDF; then 下载 PDF serves it. A sealing job
delivered three times archives once; one that fails is retried; a worker
killed in the middle of sealing loses nothing."""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from salestrack import pdf
from salestrack.extensions import db
from salestrack.jobs import Worker, enqueue, queue
from salestrack.models import ArchivedPdf, AuditEvent, Record, User
from tests.signoff_support import (editable_input, file_sheet, fill, reload, sign, spec, submit,  # noqa: F401
                                   wait_for_pdf_link, world)

ROOT = Path(__file__).resolve().parents[1]


def _sign_through(w, record) -> None:
    """Every signer of the chain signs in turn through the record page; nobody waits for the PDF."""
    reload(record)
    while record.status == "submitted":
        signer = db.session.get(User, record.waiting_for_id)
        assert "已签署" in sign(w, signer, record, comment="同意").get_data(as_text=True)
        reload(record)
    assert record.status == "approved"


def _approved(w) -> Record:
    record = file_sheet(w, spec("phone_log"))
    assert submit(w, record).status_code == 302
    _sign_through(w, record)
    return record


def _archive_events(record) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "archive", AuditEvent.target_id == record.id))


def _archived(record) -> list[ArchivedPdf]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(ArchivedPdf).where(ArchivedPdf.record_id == record.id)))


def _archive_files(app) -> list[Path]:
    return [p for p in Path(app.config["ARCHIVE_DIR"]).rglob("*.pdf")]


def test_final_signature_returns_at_once_and_the_page_shows_archiving_until_the_worker_sealed_it(app, world):
    w = world
    record = _approved(w)  # no worker runs yet: the sealing waits in the queue
    rep = w.browser(w.rep)
    shown = rep.get(f"/records/{record.id}").get_data(as_text=True)
    assert "归档中" in shown and "下载 PDF" not in shown
    assert f'hx-get="/records/{record.id}/pdf-links"' in shown and 'hx-trigger="every 2s"' in shown
    assert queue().pending_count() == 1 and _archived(record) == []
    early = rep.get(f"/records/{record.id}/pdf", follow_redirects=True)  # an old link: no unsealed file
    assert early.mimetype == "text/html" and "签章 PDF 正在归档" in early.get_data(as_text=True)

    worker = Worker(app).start()
    try:
        links = wait_for_pdf_link(rep, record.id)
    finally:
        worker.stop()
    assert "hx-trigger" not in links  # the polling stops with the answer
    reload(record)
    [archived] = _archived(record)
    body = rep.get(f"/records/{record.id}/pdf?download=1").data
    assert archived.sha256 == record.pdf_sha256 and pdf.hashlib.sha256(body).hexdigest() == archived.sha256
    seal = pdf.verify_pdf(body, app.config["SEAL_CERT_PATH"])
    assert seal["signed"] and seal["intact"] and seal["trusted"]
    assert _archive_events(record) == 1
    assert "已归档" in rep.get(f"/records/{record.id}").get_data(as_text=True)


def test_changing_a_sheet_while_its_pdf_is_archived_is_refused_and_keeps_what_was_typed(app, world):
    """The approval being sealed is the one on the PDF: a change waits until it is archived."""
    w = world
    sheet = spec("phone_log")
    record = _approved(w)
    changed, _ = editable_input(sheet)
    pairs = [(k, v) for k, v in fill(sheet, w) if k != changed]
    response = w.browser(w.rep).post(f"/records/{record.id}/edit", data=MultiDict(
        pairs + [(changed, "归档时改的内容"), ("version", str(record.version)), ("action", "draft")]))
    text = response.get_data(as_text=True)
    assert response.status_code == 409 and "签章 PDF 正在归档，请稍后再修改" in text and "归档时改的内容" in text
    assert reload(record).status == "approved" and len(record.revisions) == 1

    worker = Worker(app).start()
    try:
        links = wait_for_pdf_link(w.browser(w.rep), record.id)
    finally:
        worker.stop()
    assert 'id="record-status" hx-swap-oob="true"' in links and "已归档" in links  # the status line too
    response = w.browser(w.rep).post(f"/records/{record.id}/edit", data=MultiDict(
        pairs + [(changed, "归档后改的内容"), ("version", str(reload(record).version)), ("action", "draft")]))
    assert response.status_code == 302 and reload(record).status == "draft"


def test_a_sealing_job_delivered_three_times_archives_once(app, world):
    w = world
    record = _approved(w)
    enqueue("seal_final_pdf", record.id, "")  # the same job again, twice: two workers take two of them at once
    enqueue("seal_final_pdf", record.id, "")
    assert queue().pending_count() == 3
    worker = Worker(app, workers=2).start()
    try:
        wait_for_pdf_link(w.browser(w.rep), record.id)
        deadline = time.monotonic() + 60
        while queue().pending_count() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()  # lets the jobs still running finish
    assert queue().pending_count() == 0
    assert len(_archived(record)) == 1 and _archive_events(record) == 1 and len(_archive_files(app)) == 1


def test_a_failing_sealing_job_is_retried_and_the_page_waits(app, world, tmp_path):
    w = world
    record = _approved(w)
    archive_dir = app.config["ARCHIVE_DIR"]
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("the archive is unreachable")
    app.config["ARCHIVE_DIR"] = str(blocked)  # storing the sealed PDF fails
    worker = Worker(app).start()
    try:
        deadline = time.monotonic() + 60
        while queue().scheduled_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert queue().scheduled_count() == 1  # failed once, to be tried again
        assert "归档中" in w.browser(w.rep).get(f"/records/{record.id}/pdf-links").get_data(as_text=True)
        app.config["ARCHIVE_DIR"] = archive_dir  # the archive is back
        wait_for_pdf_link(w.browser(w.rep), record.id)
    finally:
        worker.stop()
    assert len(_archived(record)) == 1 and _archive_events(record) == 1


def _worker_process(app, retry_minutes: int) -> tuple[subprocess.Popen, threading.Event]:
    """`flask jobs worker` in a process of its own, on the test's database,
    queue, archive and seal; and an event set once its log says it began a
    sealing job (its log is read to the end)."""
    config = app.config
    env = {**os.environ, "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": config["SECRET_KEY"],
           "FLASK_APP": "wsgi", "SALESTRACK_ARCHIVE_RETRY_MINUTES": str(retry_minutes)}
    for name in ("QUEUE_PATH", "ARCHIVE_DIR", "ATTACHMENT_DIR", "SEAL_KEY_PATH", "SEAL_CERT_PATH", "AUDIT_KEY_PATH",
                 "BASE_URL"):
        env[f"SALESTRACK_{name}"] = config[name]
    process = subprocess.Popen([sys.executable, "-m", "flask", "jobs", "worker", "--workers", "1"], cwd=ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    started = threading.Event()

    def read():
        with process.stderr:
            for line in process.stderr:
                if "Executing" in line and "seal_final_pdf" in line:
                    started.set()
    threading.Thread(target=read, daemon=True).start()
    return process, started


@pytest.mark.slow
def test_a_worker_killed_while_sealing_loses_nothing(app, world):
    """The queue drops the job a killed worker had taken; the next worker's
    sweep finds the approved sheet without its PDF and seals it, once."""
    w = world
    record = _approved(w)
    first, sealing = _worker_process(app, retry_minutes=60)
    try:
        assert sealing.wait(timeout=60)
        first.send_signal(signal.SIGKILL)  # in the middle of rendering and sealing
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert _archived(record) == []
    assert "seal_final_pdf" not in {t.name for t in queue().pending()}  # killed mid-job: the job is gone
    shown = w.browser(w.rep).get(f"/records/{record.id}/pdf-links").get_data(as_text=True)
    assert "归档中" in shown

    second, _ = _worker_process(app, retry_minutes=0)
    try:
        wait_for_pdf_link(w.browser(w.rep), record.id, timeout=90)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=30)
        except subprocess.TimeoutExpired:
            second.kill()
    assert len(_archived(record)) == 1 and _archive_events(record) == 1 and len(_archive_files(app)) == 1


def test_with_redis_configured_the_app_and_its_worker_share_a_redis_queue(app, world):
    """QUEUE_REDIS_URL: the queue of several app servers and workers (Redis at 127.0.0.1:6379 here)."""
    import uuid

    import redis
    from salestrack import jobs
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    app.config.update(QUEUE_REDIS_URL="redis://127.0.0.1:6379/0", QUEUE_NAME=f"salestrack-test-{uuid.uuid4().hex}")
    jobs.init_app(app)
    try:
        w = world
        record = _approved(w)
        assert type(queue()).__name__ == "RedisHuey" and queue().pending_count() == 1
        worker = Worker(app).start()
        try:
            wait_for_pdf_link(w.browser(w.rep), record.id)
        finally:
            worker.stop()
        assert len(_archived(record)) == 1 and _archive_events(record) == 1
    finally:
        queue().storage.flush_all()
