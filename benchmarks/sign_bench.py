"""How long does the final signature take, and when can the sealed PDF be downloaded?
Run: .venv/bin/python benchmarks/sign_bench.py [reps] [--tree DIR]

Builds a throw-away app (SQLite, migrated schema) and, for each run, files an
电话记录表 with a 10-row table, submits it (one slot: the team manager) and,
through the Flask test client signed in as the manager, times the final
signature's POST (its form tokens fetched beforehand, as the page served
them). Then, as the author, it asks for GET /records/<id>/pdf every 50 ms
until the answer is the sealed PDF, and times that from the moment the
signature was sent. Medians of `reps` runs after two warm-up runs.

When the app has a job queue (salestrack/jobs.py), its worker runs as
`flask jobs worker` in a process of its own, as bin/run starts it. `--tree`
runs the same measurement against another checkout of salestrack (e.g. one
from before the queue: `git archive <commit> | tar -x -C DIR`), where the
request itself renders and seals.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

args = [a for a in sys.argv[1:] if not a.startswith("--tree")]
TREE = Path(next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--tree=")), "") or
            Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(TREE))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from flask_migrate import upgrade  # noqa: E402

from salestrack import create_app  # noqa: E402
from salestrack.extensions import db  # noqa: E402
from salestrack.formkit import registry  # noqa: E402
from tests.archive_helpers import file_sheet, make_people, submit  # noqa: E402
from flask import request_started  # noqa: E402

from tests.conftest import PASSWORD, BrowserClient, Factory, _fresh_request_globals, make_config  # noqa: E402

HAS_QUEUE = (TREE / "salestrack" / "jobs.py").exists()


def _worker(config: dict, folder: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": config["SECRET_KEY"],
           "FLASK_APP": "wsgi"}
    for name in ("QUEUE_PATH", "ARCHIVE_DIR", "ATTACHMENT_DIR", "SEAL_KEY_PATH", "SEAL_CERT_PATH", "AUDIT_KEY_PATH",
                 "BASE_URL"):
        env[f"SALESTRACK_{name}"] = config[name]
    return subprocess.Popen([sys.executable, "-m", "flask", "jobs", "worker"], cwd=TREE, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    reps = max(5, int(args[0]) if args else 15)
    sign_times, ready_times = [], []
    with tempfile.TemporaryDirectory() as folder:
        extra = {"QUEUE_PATH": f"{folder}/queue.db"} if HAS_QUEUE else {}
        app = create_app(make_config(f"sqlite:///{folder}/bench.db", Path(folder), **extra))
        app.test_client_class = BrowserClient
        request_started.connect(_fresh_request_globals, app)  # each request its own `g`, as in production
        worker = None
        with app.app_context():
            upgrade(directory=str(TREE / "migrations"))
            factory = Factory(app)
            people = make_people(factory)
            spec = registry.get("phone_log")
            if HAS_QUEUE:
                from salestrack import pdf
                from salestrack.printing import seal_names
                pdf.ensure_cert(app.config["SEAL_KEY_PATH"], app.config["SEAL_CERT_PATH"], **seal_names())
                worker = _worker(app.config, folder)
            manager, author = app.test_client(), app.test_client()
            manager.post("/login", data={"username": people.manager.username, "password": PASSWORD})
            author.post("/login", data={"username": people.author.username, "password": PASSWORD})
            try:
                for run in range(reps + 2):
                    record, _ = file_sheet(factory, people, spec, rows=10)
                    submit(record, spec, people.author)
                    url = f"/records/{record.id}/sign"
                    form = {**manager.served_form(url), "decision": "approved", "comment": "同意"}
                    db.session.rollback()
                    start = time.perf_counter()
                    response = manager.post(url, data=form)
                    signed = time.perf_counter()
                    assert response.status_code in (200, 302, 303), response.status_code
                    while True:
                        db.session.rollback()
                        got = author.get(f"/records/{record.id}/pdf")
                        if got.mimetype == "application/pdf" and b"/ByteRange" in got.data:
                            break
                        assert time.perf_counter() - start < 120, "no sealed PDF after 120 s"
                        time.sleep(0.05)
                    ready = time.perf_counter()
                    if run >= 2:  # two warm-up runs
                        sign_times.append(signed - start)
                        ready_times.append(ready - start)
            finally:
                if worker is not None:
                    worker.terminate()
                    worker.wait(timeout=30)
            db.session.remove()
            db.engine.dispose()
    label = "job queue (worker process)" if HAS_QUEUE else "sealed inside the request"
    print(f"{TREE.name}: {label}; 电话记录表 with 10 table rows; medians of {reps} runs (seconds)")
    print(f"{'final sign request':>18} {'sealed PDF downloadable':>24}")
    print(f"{statistics.median(sign_times):>18.3f} {statistics.median(ready_times):>24.3f}")
    print(f"  sign request min/max {min(sign_times):.3f}/{max(sign_times):.3f}; "
          f"downloadable min/max {min(ready_times):.3f}/{max(ready_times):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
