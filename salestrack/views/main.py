"""The page each role lands on after signing in."""
import sqlalchemy as sa
from flask import Blueprint, redirect, url_for
from flask_login import current_user, login_required

from .. import access, followup
from ..extensions import db
from ..models import Project, Record, Team, User
from ..process import FUNNEL_STAGES, OPEN_STAGES
from .common import render_page

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home():
    user = current_user
    if user.role == "admin":
        return redirect(url_for("admin.users"))
    scope = access.project_scope(user)
    open_projects = list(db.session.scalars(
        sa.select(Project).where(scope, Project.stage.in_(OPEN_STAGES))
        .order_by(Project.updated_at.desc()).limit(500)))
    by_stage = dict(db.session.execute(
        sa.select(Project.stage, sa.func.count()).where(scope).group_by(Project.stage)).all())
    amount_by_stage = dict(db.session.execute(
        sa.select(Project.stage, sa.func.coalesce(sa.func.sum(Project.amount), 0))
        .where(scope).group_by(Project.stage)).all())
    waiting = list(db.session.scalars(
        sa.select(Record).where(Record.waiting_for_id == user.id).order_by(Record.waiting_since).limit(20)))
    my_drafts = list(db.session.scalars(
        sa.select(Record).where(Record.author_id == user.id, Record.status.in_(("draft", "returned")))
        .order_by(Record.updated_at.desc()).limit(10)))
    team = None
    members = []
    if user.role == "manager":
        team = db.session.scalar(sa.select(Team).where(Team.manager_id == user.id))
        if team:
            members = list(db.session.scalars(sa.select(User).where(User.team_id == team.id, User.active)
                                              .order_by(User.name)))
    return render_page(
        "main/home.html", open_projects=open_projects[:15], open_count=len(open_projects),
        due=followup.due_list([scope], limit=20), by_stage=by_stage, amount_by_stage=amount_by_stage,
        stages=FUNNEL_STAGES, waiting=waiting, my_drafts=my_drafts, team=team, members=members)
