"""Command-line tasks: `flask --app wsgi users …`, `demo`, `audit verify`."""
import sys
import time

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from . import audit, operations
from .extensions import db
from .models import Team, User
from .process import ROLE_CODES

users_cli = AppGroup("users", help="Manage accounts.")
audit_cli = AppGroup("audit", help="The audit trail.")


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
        raise click.ClickException(e.message)
    if role == "manager" and team_obj is not None and team_obj.manager_id is None:
        operations.set_team_manager(None, team_obj, user)
    click.echo(f"created {user.username} ({role})")


@users_cli.command("set-password")
@click.argument("username")
@click.password_option(help="Prompted for when not given")
def set_password(username, password):
    """Set an account's password."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no such user: {username}")
    operations.set_password(None, user, password)
    click.echo(f"password set for {username}")


@users_cli.command("list")
def list_users():
    for u in db.session.scalars(sa.select(User).order_by(User.username)):
        click.echo(f"{u.username:12} {u.role:15} {u.name} {'(inactive)' if not u.active else ''}")


@audit_cli.command("verify")
def verify_audit():
    """Walk the audit chain; exit 1 at the first altered, deleted or reordered event."""
    count, problem = audit.verify_chain()
    if problem:
        click.echo(f"BROKEN at event #{problem.event_id} (position {problem.position} of the trail): {problem.problem}")
        sys.exit(1)
    click.echo(f"OK: {count} events, chain intact")


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


def register_cli(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(demo_command)
