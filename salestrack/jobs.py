"""The job queue: slow work done outside the request that asked for it.

Built on Huey. By default its queue is an SQLite file next to the database
(QUEUE_PATH, default instance/queue.db), so one machine needs no other
service; with QUEUE_REDIS_URL set (redis://127.0.0.1:6379/0) app servers and
workers on several machines share a Redis queue. `flask jobs worker` runs the
consumer (bin/run starts one beside the web server).

Jobs are asked for inside an act's write transaction with later(); they are
put on the queue only once that transaction has committed, so a worker never
sees an act that was rolled back and never runs before its data is there.
Every job is idempotent: it looks at the database to decide whether its work
is still to do, so a job delivered twice, retried after a failure or
re-queued by the sweep has its effect once.

The queue itself can lose a job a worker was killed in the middle of (Huey
does not hold a dequeued message until it is done). What must not be lost is
kept by the database instead: an approved sheet without its sealed PDF is
the state "归档中", and the periodic sweep (every minute) queues its sealing
again once it has waited ARCHIVE_RETRY_MINUTES."""
from __future__ import annotations

import logging
import os

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey, crontab
from sqlalchemy import event

from .extensions import db

log = logging.getLogger("salestrack.jobs")
_PENDING = "salestrack_jobs"

# name → (retries, seconds before the first retry; each later one waits twice
# as long): sealing is retried for about 5 minutes (then the sweep takes
# over), a mail for about 40 minutes.
RETRIES = {"seal_final_pdf": (6, 5), "send_mail": (9, 5)}


def init_app(app: Flask) -> None:
    """Makes the app's queue (app.extensions["queue"], a Huey instance) with
    its tasks: SQLite at QUEUE_PATH unless QUEUE_REDIS_URL names a Redis."""
    config = app.config
    name = config.get("QUEUE_NAME") or "salestrack"
    if config.get("QUEUE_REDIS_URL"):
        huey = RedisHuey(name, url=config["QUEUE_REDIS_URL"], results=False, utc=True)
    else:
        path = config["QUEUE_PATH"] = config.get("QUEUE_PATH") or os.path.join(app.instance_path, "queue.db")
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        huey = SqliteHuey(name, filename=path, results=False, utc=True, timeout=30)
    huey.flask_app = app
    _register_tasks(huey)
    app.extensions["queue"] = huey


def queue():
    """The current app's Huey instance."""
    return current_app.extensions["queue"]


def _in_app(huey, fn, *args):
    with huey.flask_app.app_context():
        return fn(*args)


def _register_tasks(huey) -> None:
    tasks = {}

    def task(name):
        retries, delay = RETRIES[name]

        def wrap(fn):
            tasks[name] = huey.task(retries=retries, retry_delay=delay, retry_backoff=2, name=name)(
                lambda *args: _in_app(huey, fn, *args))
            return fn
        return wrap

    @task("seal_final_pdf")
    def seal_final_pdf(record_id: int, base_url: str):
        from .printing import archive_approved
        archive_approved(record_id, base_url)

    @task("send_mail")
    def send_mail(mail: dict):
        from .notify import send_mail as send
        send(mail)

    @huey.periodic_task(crontab(minute="*"), name="archive_sweep")
    def archive_sweep():
        with huey.flask_app.app_context():
            sweep_archives()

    tasks["archive_sweep"] = archive_sweep

    # Working days at 09:00 in Shanghai (01:00 UTC; the queue keeps UTC).
    @huey.periodic_task(crontab(minute="0", hour="1", day_of_week="1-5"), name="escalate_approvals")
    def escalate_approvals():
        from .operations import escalate_overdue_approvals
        with huey.flask_app.app_context():
            escalate_overdue_approvals()

    tasks["escalate_approvals"] = escalate_approvals

    # Every day at 06:00 in Shanghai (22:00 UTC): 立项权 past the loss limit.
    @huey.periodic_task(crontab(minute="0", hour="22"), name="cancel_lapsed_filing_rights")
    def cancel_lapsed_filing_rights():
        from .operations import cancel_lapsed_filing_rights as cancel
        with huey.flask_app.app_context():
            cancel()

    tasks["cancel_lapsed_filing_rights"] = cancel_lapsed_filing_rights
    huey.salestrack_tasks = tasks


def sweep_archives() -> list[int]:
    """Queues the sealing again for every sheet approved ARCHIVE_RETRY_MINUTES
    ago or earlier that still has no sealed PDF (its job was lost with a
    worker, or failed all its retries). Run every minute by the worker.
    Returns the record ids."""
    from .printing import pending_archives
    ids = pending_archives(older_than_minutes=current_app.config["ARCHIVE_RETRY_MINUTES"])
    for record_id in ids:
        log.warning("record %s approved but not yet archived: sealing queued again", record_id)
        enqueue("seal_final_pdf", record_id, "")
    return ids


def enqueue(name: str, *args) -> None:
    """Puts job `name` on the queue now (outside any transaction)."""
    queue().salestrack_tasks[name](*args)


def later(name: str, *args) -> None:
    """Queues job `name` once the current write transaction commits; a
    rollback drops it. Raises KeyError for an unknown job."""
    if name not in RETRIES:
        raise KeyError(name)
    db.session.info.setdefault(_PENDING, []).append((name, args))


@event.listens_for(db.session, "after_commit")
def _enqueue_after_commit(session) -> None:
    if session.in_nested_transaction():  # a savepoint: the real commit is still to come
        return
    for name, args in session.info.pop(_PENDING, []):
        try:
            enqueue(name, *args)
        except Exception:  # noqa: BLE001 - the act has happened; the sweep re-queues what matters
            log.exception("job %s%r could not be queued", name, args)


@event.listens_for(db.session, "after_rollback")
def _discard_after_rollback(session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)


class Worker:
    """A consumer of the app's queue: `workers` threads running jobs and a
    scheduler for the periodic ones. run() blocks (the CLI); start() and
    stop() run it beside other work in the same process (tests, benchmarks)."""

    def __init__(self, app: Flask, workers: int = 2, periodic: bool = True):
        self.consumer = app.extensions["queue"].create_consumer(
            workers=workers, worker_type="thread", periodic=periodic, initial_delay=0.05, backoff=1.3,
            max_delay=0.5, check_worker_health=True)

    def run(self) -> None:
        """Runs until SIGINT/SIGTERM. Starts with a sweep (sweep_archives), so
        what a killed worker left half done is taken up again at once."""
        with self.consumer.huey.flask_app.app_context():
            sweep_archives()
        self.consumer.run()

    def start(self) -> "Worker":
        """Starts the scheduler and worker threads in this process without
        taking its signal handlers (they belong to the host: pytest, a
        benchmark)."""
        self.consumer.scheduler.start()
        for _, thread in self.consumer.worker_threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Lets running jobs finish, then stops the threads."""
        self.consumer.stop(graceful=True)
