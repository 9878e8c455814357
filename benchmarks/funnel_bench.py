"""Times the funnel, forecast, due-list and report (salestrack.reports) queries
and pages on a large generated database, on SQLite and on PostgreSQL. Not a
test: run it by hand.

    .venv/bin/python benchmarks/funnel_bench.py                  # both, 100 000 projects
    .venv/bin/python benchmarks/funnel_bench.py --scale 20000 --skip-postgres
    .venv/bin/python benchmarks/funnel_bench.py --only report --quick   # the reports only, no exports

It builds each database once (migrations, demo accounts, `demo --scale`) and
reuses it on later runs; it prints the median of --runs timed runs after one
warm-up, for the director (everything) and for one manager (his team)."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa  # noqa: E402

from salestrack import access, create_app, excel, followup, funnel, reports  # noqa: E402
from salestrack.extensions import db  # noqa: E402
from salestrack.models import Project, Record, User  # noqa: E402


def build(url: str, scale: int, sheets: int) -> None:
    """Migrates and fills the database unless it already holds the generated data."""
    from flask_migrate import upgrade
    from salestrack.demo import load_demo
    from salestrack.demo_scale import generate, generated_count
    upgrade()
    if not db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        load_demo("demo")
    have = generated_count()
    if have and have != scale:
        sys.exit(f"{url}: holds {have} generated projects, not {scale}; use a fresh database")
    if not have:
        started = time.monotonic()
        generate(scale, sheets, echo=lambda m: print("  " + m, flush=True))
        print(f"  generated in {time.monotonic() - started:.0f} s", flush=True)


def timed(fn, runs: int) -> tuple[float, float]:
    """Median wall-clock and median CPU milliseconds (of this process: all of
    SQLite's work, only the client's share for PostgreSQL) of `runs` calls
    after one warm-up, each in a fresh session."""
    fn()
    db.session.remove()
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        db.session.remove()
    return statistics.median(wall), statistics.median(cpu)


def views(user: User, quick: bool = False):
    """The views measured, as the pages call them (default period: this year):
    the funnel's three, each report of salestrack.reports, and (unless
    `quick`) the Excel export of the long report lists."""
    uid = user.id

    def who():
        return db.session.get(User, uid)

    def scope():
        return funnel.scope_for(who(), funnel.period_for("this_year"))

    def funnel_view():
        s = scope()
        funnel.funnel(s)
        funnel.trend(s)

    def forecast_view():
        s = scope()
        funnel.forecast(s)
        funnel.collection_forecast(s)

    def due_view():
        clauses = [access.project_scope(who())]
        followup.due_list(clauses)
        followup.past_loss_limit(clauses)
        followup.counts_by_owner(clauses)

    def report_view(key):
        return lambda: reports.build(key, scope())

    def export_view(key):
        return lambda: excel.report_workbook(reports.build(key, scope(), export=True), "")

    return {"funnel (stages + 12-month trend)": funnel_view, "forecast (weighted + collection table)": forecast_view,
            "due list (list + loss limits + per rep)": due_view,
            **{f"report {key}": report_view(key) for key, _ in reports.REPORTS},
            **({} if quick else {f"export {key} (all rows)": export_view(key) for key in EXPORTED})}


# The exports timed (every row of the scope): the two long lists.
EXPORTED = ("funnel_report", "project_tracking")
REPORT_PAGES = tuple(f"/reports/{key}" for key, _ in reports.REPORTS)


def whole_page(app, username: str, path: str, runs: int) -> tuple[float, float]:
    client = app.test_client()
    client.post("/login", data={"username": username, "password": "demo"})
    return timed(lambda: client.get(path), runs)


def bench(label: str, url: str, args) -> list[tuple]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    rows = []
    with app.app_context():
        print(f"== {label}: {url}", flush=True)
        build(url, args.scale, args.sheets)
        projects = db.session.scalar(sa.select(sa.func.count()).select_from(Project))
        sheets = db.session.scalar(sa.select(sa.func.count()).select_from(Record))
        print(f"  {projects} projects, {sheets} sheets", flush=True)
        director = db.session.scalar(sa.select(User).where(User.username == "director"))
        manager = db.session.scalar(sa.select(User).where(User.username == "manager"))
        team_projects = db.session.scalar(sa.select(sa.func.count()).select_from(Project).where(
            Project.team_id == manager.team_id))
        for who, user in (("director (all)", director), (f"manager ({team_projects} projects)", manager)):
            for name, fn in views(user, quick=args.quick).items():
                if args.only and not any(word in name for word in args.only):
                    continue
                ms, cpu = timed(fn, args.runs if not name.startswith("export") else max(1, args.runs // 3))
                rows.append((label, who, name, ms, cpu))
                print(f"  {who:28} {name:42} {ms:8.1f} ms  (cpu {cpu:.1f} ms)", flush=True)
        db.session.remove()
        for username in ("director", "manager"):
            for path in ("/funnel/", "/followups/") + REPORT_PAGES:
                if args.only and not any(word in path for word in args.only):
                    continue
                ms, cpu = whole_page(app, username, path, args.runs)
                rows.append((label, username, f"whole page {path}", ms, cpu))
                print(f"  {username:28} {'whole page ' + path:42} {ms:8.1f} ms  (cpu {cpu:.1f} ms)", flush=True)
        db.session.remove()
        db.engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100_000, help="generated projects")
    parser.add_argument("--sheets", type=int, default=None, help="generated sheets (default ten per project)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per measurement (median; at least 5)")
    parser.add_argument("--sqlite", default=None, help="SQLite file (default /tmp/salestrack-bench-<scale>.db)")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/salestrack_bench",
                        help="PostgreSQL database (created if missing)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--only", nargs="*", default=None, help="time only views and pages whose name has a word given")
    parser.add_argument("--quick", action="store_true", help="leave out the exports")
    args = parser.parse_args()
    args.runs = max(5, args.runs)
    rows = []
    if not args.skip_sqlite:
        path = args.sqlite or f"/tmp/salestrack-bench-{args.scale}.db"
        rows += bench("SQLite", "sqlite:///" + path, args)
    if not args.skip_postgres:
        admin = sa.create_engine(args.postgres.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        name = args.postgres.rsplit("/", 1)[1]
        with admin.connect() as conn:
            if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        rows += bench("PostgreSQL", args.postgres, args)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("\n| database | user | view | median ms | median CPU ms (this process) |\n|---|---|---|---:|---:|")
    for label, who, name, ms, cpu in rows:
        print(f"| {label} | {who} | {name} | {ms:.0f} | {cpu:.0f} |")


if __name__ == "__main__":
    main()
