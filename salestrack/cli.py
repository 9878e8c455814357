"""Command-line tasks: `flask --app wsgi users …`, `demo`, `audit verify|head|rotate-key`,
`pdf init-cert`, `jobs worker|status`, `archive verify`, `archive export`, `backup`, `restore`,
`followups enforce`."""
import json
import os
import sys
import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from . import accounts, audit, clock, operations
from .extensions import db
from .models import Team, User
from .process import ROLE_CODES

users_cli = AppGroup("users", help="Manage accounts.")
audit_cli = AppGroup("audit", help="The audit trail.")
pdf_cli = AppGroup("pdf", help="The seal for final PDFs.")
archive_cli = AppGroup("archive", help="The archive of sealed final PDFs.")
attachments_cli = AppGroup("attachments", help="Uploaded files.")
followups_cli = AppGroup("followups", help="Follow-up discipline.")


@followups_cli.command("enforce")
def enforce_followups():
    """Cancel the 立项权 of projects past their class's loss limit (run daily)."""
    cancelled = operations.cancel_lapsed_filing_rights()
    click.echo(f"立项权 cancelled for {len(cancelled)} project(s)")


jobs_cli = AppGroup("jobs", help="The job queue (sealing final PDFs, mail, periodic work).")


@jobs_cli.command("worker")
@click.option("--workers", type=int, default=None, help="Job threads (default QUEUE_WORKERS, 2)")
def jobs_worker(workers):
    """Run the queue's consumer until stopped (Ctrl-C or SIGTERM: running jobs finish first)."""
    import logging
    from .jobs import Worker
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    count = workers or current_app.config["QUEUE_WORKERS"]
    where = current_app.config.get("QUEUE_REDIS_URL") or current_app.config["QUEUE_PATH"]
    click.echo(f"salestrack jobs: {count} worker thread(s) on {where}")
    Worker(current_app._get_current_object(), workers=count).run()


@jobs_cli.command("status")
def jobs_status():
    """Jobs waiting in the queue, scheduled for later (retries), and approved sheets still 归档中."""
    from .jobs import queue
    from .printing import pending_archives
    huey = queue()
    click.echo(f"queued: {huey.pending_count()}  scheduled: {huey.scheduled_count()}  "
               f"归档中: {len(pending_archives())}")


@attachments_cli.command("cleanup")
def cleanup_attachments():
    """Delete uploads that no saved sheet took, older than ATTACHMENT_HOLD_HOURS."""
    files, size = operations.remove_stale_uploads()
    click.echo(f"removed {files} held uploads ({size} bytes)")


@users_cli.command("create")
@click.argument("username")
@click.option("--name", required=True, help="Display name, e.g. 张伟")
@click.option("--role", type=click.Choice(ROLE_CODES), required=True)
@click.option("--team", default=None, help="Team name (created if missing)")
@click.option("--email", default=None)
@click.option("--title", default=None, help="e.g. 项目经理, 技术工程师")
@click.password_option(help="Prompted for when not given")
def create_user(username, name, role, team, email, title, password):
    """Create an account."""
    team_obj = None
    if team:
        team_obj = db.session.scalar(sa.select(Team).where(Team.name == team)) or operations.create_team(None, team)
    try:
        user = operations.create_user(None, username=username, name=name, role=role, password=password,
                                      team=team_obj, email=email, title=title)
    except operations.OperationError as e:
        raise click.ClickException(e.message) from None
    if role == "manager" and team_obj is not None and team_obj.manager_id is None:
        operations.set_team_manager(None, team_obj, user)
    click.echo(f"created {user.username} ({role})")


@users_cli.command("set-password")
@click.argument("username")
@click.password_option(help="Prompted for when not given")
def set_password(username, password):
    """Set an account's password."""
    user = db.session.scalar(sa.select(User).where(
        sa.func.lower(User.username) == accounts.normalise_username(username)))
    if user is None:
        raise click.ClickException(f"no such user: {username}")
    try:
        operations.set_password(None, user, password)
    except operations.OperationError as e:
        raise click.ClickException(e.message) from None
    click.echo(f"password set for {user.username}; its sessions have ended")


@users_cli.command("list")
def list_users():
    for u in db.session.scalars(sa.select(User).order_by(User.username)):
        click.echo(f"{u.username:12} {u.role:15} {u.name} {'(inactive)' if not u.active else ''}")


@audit_cli.command("verify")
@click.option("--head", "head_file", type=click.File("r"), default=None,
              help="A chain head written earlier by `audit head`, kept off this server.")
def verify_audit(head_file):
    """Walk the audit chain; exit 1 at the first altered, deleted, reordered or
    recomputed event, or when it is shorter than the head given."""
    head = None
    if head_file is not None:
        try:
            head = json.load(head_file)
            head = {"sequence": int(head["sequence"]), "hash": str(head["hash"])}
        except (ValueError, KeyError, TypeError):
            raise click.ClickException(f"{head_file.name}: not a chain head written by `audit head`") from None
    count, problem = audit.verify_chain(head)
    if problem:
        click.echo(f"BROKEN at event #{problem.event_id} (position {problem.position} of the trail): {problem.problem}")
        sys.exit(1)
    click.echo(f"OK: {count} events, chain intact" + (f", head #{head['sequence']} matches" if head else ""))


@audit_cli.command("head")
@click.option("--out", type=click.File("w"), default="-", help="Where to write it (default: standard output).")
def audit_head(out):
    """Write the chain head (sequence, hash) as JSON, to keep somewhere else."""
    json.dump(audit.head(), out, ensure_ascii=False)
    out.write("\n")


@audit_cli.command("rotate-key")
def rotate_audit_key():
    """Recompute the chain under a new key; the old key file is kept beside it."""
    from .database import write_transaction
    path = Path(audit.key_path())
    old_key = audit.read_key(str(path)) if path.exists() else None
    if old_key is None:
        raise click.ClickException(f"{path} is missing: restore it from the backup first")
    fresh = path.with_name(path.name + ".new")
    fresh.unlink(missing_ok=True)
    new_key = audit.create_key(str(fresh))
    try:
        with write_transaction() as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": audit._PG_LOCK_KEY})
            new_head = audit.rekey(session.connection(), lambda ev: audit.event_hash(ev, old_key), new_key,
                                   "更换审计密钥")
    except audit.RekeyRefused as e:
        fresh.unlink()
        raise click.ClickException(e.message) from None
    stamp = clock.stamp("%Y%m%d%H%M%S")
    path.rename(path.with_name(f"{path.name}.replaced-{stamp}"))
    fresh.rename(path)
    click.echo(f"new audit key in {path} (old one kept as {path.name}.replaced-{stamp}); "
               "heads exported before no longer match, the new head is:")
    click.echo(json.dumps(new_head))


@click.command("demo")
@click.option("--once", is_flag=True, help="Do nothing when accounts already exist.")
@click.option("--password", envvar="SALESTRACK_DEMO_PASSWORD", default=None,
              help="Password of every demo account (default: demo)")
@click.option("--scale", type=click.IntRange(min=1), default=None,
              help="Also generate this many projects with stage histories (for load tests).")
@click.option("--sheets", type=click.IntRange(min=0), default=None,
              help="Follow-up sheets to generate with --scale (default: ten per project).")
def demo_command(once, password, scale, sheets):
    """Load the demo accounts, teams, customers and projects; with --scale, add generated ones."""
    from .demo import load_demo
    if current_app.config["ENV"] == "production":
        raise click.ClickException("SALESTRACK_ENV=production: demo accounts with a published password are "
                                   "never loaded into a production instance")
    password = password or current_app.config["DEMO_PASSWORD"]
    has_accounts = bool(db.session.scalar(sa.select(sa.func.count()).select_from(User)))
    if has_accounts and scale is None:
        if once:
            click.echo("demo: accounts exist already, nothing loaded")
            return
        raise click.ClickException("the database has accounts already; demo data goes into an empty one")
    if not has_accounts:
        click.echo(f"demo: loaded {load_demo(password)}")
    if scale is not None:
        from .demo_scale import generate, generated_count
        if generated_count():
            raise click.ClickException("generated projects exist already; --scale goes into a database without them")
        started = time.monotonic()
        summary = generate(scale, sheets, password, echo=click.echo)
        click.echo(f"demo --scale: generated {summary} in {time.monotonic() - started:.0f} s")


@pdf_cli.command("init-cert")
@click.option("--if-missing", is_flag=True, help="Do nothing when the seal exists already.")
@click.option("--force", is_flag=True, help="Replace an existing seal (the old files are kept beside it).")
@click.option("--common-name", default=None, help="The certificate's name (default: ORGANIZATION 文件签章).")
@click.option("--org", default=None, help="The organisation named in the certificate (default: ORGANIZATION).")
def init_cert(if_missing, force, common_name, org):
    """Create a self-signed seal key and certificate at SEAL_KEY_PATH / SEAL_CERT_PATH."""
    from . import pdf
    from .backup import seal_missing_with_archive
    key, cert = Path(current_app.config["SEAL_KEY_PATH"]), Path(current_app.config["SEAL_CERT_PATH"])
    present = [p for p in (key, cert) if p.exists()]
    if not force and seal_missing_with_archive():
        raise click.ClickException(
            f"the seal ({key}, {cert}) is missing but sealed PDFs are archived: a new seal would make every one "
            "of them fail verification. Restore the seal from the backup (flask restore, README Operations); "
            "--force creates a new one anyway")
    if present and if_missing and not force:
        if len(present) == 1:
            raise click.ClickException(f"only {present[0]} exists; restore the other file or use --force")
        click.echo(f"seal exists: {cert}")
        return
    if present and not force:
        raise click.ClickException(f"{cert} exists; --force replaces it, after which PDFs archived under the "
                                   "old certificate no longer verify as trusted")
    stamp = clock.stamp("%Y%m%d%H%M%S")
    for path in present:
        path.rename(path.with_name(f"{path.name}.replaced-{stamp}"))
        click.echo(f"kept the old {path.name} as {path.name}.replaced-{stamp}")
    from .printing import seal_names
    names = seal_names()
    pdf.init_cert(key, cert, common_name=common_name or names["common_name"], org=org or names["org"])
    info = pdf.certificate_info(cert)
    click.echo(f"created seal {cert} ({info['subject']}, SHA-256 {info['fingerprint']})")


@archive_cli.command("verify")
def verify_archive():
    """Check every archived PDF: present, equal to its SHA-256, PAdES seal intact and ours. Exit 1 on any problem."""
    from .archive import check_all
    count, problems = check_all()
    for line in problems:
        click.echo(f"PROBLEM {line}")
    if problems:
        click.echo(f"{len(problems)} problem(s) in {count} archived PDF(s)")
        sys.exit(1)
    click.echo(f"OK: {count} archived PDF(s), hashes and seals intact")


@archive_cli.command("export")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First approval date")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last approval date")
@click.option("--sheet", default=None, help="Only this sheet (its key, e.g. phone_log)")
@click.option("--team", default=None, help="Only this team's projects (its name)")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True), help="The zip to write")
def export_archive(start, end, sheet, team, out):
    """Zip the sealed PDFs approved in a period, with manifest.csv (recorded in the audit trail)."""
    from . import archive
    from .formkit import registry
    if end < start:
        raise click.ClickException("--to is before --from")
    if sheet is not None and sheet not in {s.key for s in registry.all_specs()}:
        raise click.ClickException(f"no such sheet: {sheet}")
    team_obj = None
    if team is not None:
        team_obj = db.session.scalar(sa.select(Team).where(Team.name == team))
        if team_obj is None:
            raise click.ClickException(f"no such team: {team}")
    criteria = archive.ExportCriteria(start.date(), end.date(), sheet, team_obj)
    partial = f"{out}.partial"
    try:
        with open(partial, "wb") as fh:
            count = archive.export_zip(None, criteria, fh)
    except archive.ExportError as e:
        os.unlink(partial)
        raise click.ClickException(e.message) from None
    os.replace(partial, out)
    click.echo(f"exported {count} PDF(s) and manifest.csv to {out}")


@click.command("backup")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True, help="The zip to write.")
def backup_command(out):
    """Back up the database, archive, attachments, seal and keys into one zip with a manifest of hashes."""
    from . import backup
    try:
        manifest = backup.backup(out)
    except backup.BackupError as e:
        raise click.ClickException(e.message) from None
    size = sum(f["size"] for f in manifest["files"].values())
    click.echo(f"backup {out}: {len(manifest['files'])} files, {size:,} bytes ({manifest['database']})")


@click.command("restore")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False))
def restore_command(backup_file):
    """Restore a backup into an empty instance (every file checked against the manifest first)."""
    from . import backup
    try:
        manifest = backup.restore(backup_file)
    except backup.BackupError as e:
        raise click.ClickException(e.message) from None
    click.echo(f"restored {len(manifest['files'])} files from {backup_file}; now run: flask db upgrade, "
               "flask audit verify --head <kept head>, flask archive verify")


def register_cli(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(pdf_cli)
    app.cli.add_command(archive_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(attachments_cli)
    app.cli.add_command(followups_cli)


    app.cli.add_command(jobs_cli)
    app.cli.add_command(demo_command)
