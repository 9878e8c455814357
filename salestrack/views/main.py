"""The page each role lands on after signing in."""
import os

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, redirect, url_for
from flask_login import current_user, login_required

from .. import access, followup, workflow
from ..extensions import db
from ..models import Project, Record, Team, User
from ..process import FUNNEL_STAGES, OPEN_STAGES
from . import worklist
from .common import render_page

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home():
    user = current_user
    if user.role == "admin":
        return redirect(url_for("admin.users"))
    scope = access.project_scope(user)
    counts = dict(db.session.execute(
        sa.select(Project.stage, sa.func.count()).where(scope).group_by(Project.stage)).all())
    amount_by_stage = dict(db.session.execute(
        sa.select(Project.stage, sa.func.coalesce(sa.func.sum(Project.amount), 0))
        .where(scope).group_by(Project.stage)).all())
    open_projects = list(db.session.scalars(
        sa.select(Project).where(scope, Project.stage.in_(OPEN_STAGES))
        .order_by(Project.updated_at.desc()).limit(15)))
    waiting_q = workflow.inbox_query(user)
    waiting_count = db.session.scalar(sa.select(sa.func.count()).select_from(waiting_q.subquery()))
    waiting = list(db.session.scalars(waiting_q.order_by(Record.waiting_since).limit(20)))
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
        "main/home.html", open_projects=open_projects,
        open_count=sum(counts.get(code, 0) for code in OPEN_STAGES), won_count=counts.get("won", 0),
        due=followup.due_list([scope], limit=20) if user.role in ("rep", "manager") else [],
        by_stage=counts, amount_by_stage=amount_by_stage, stages=FUNNEL_STAGES, waiting=waiting,
        waiting_count=waiting_count, my_drafts=my_drafts, team=team, members=members,
        worklist=worklist.worklist_counts(user) if user.role == "implementation" else None,
        handover_labels=worklist.STATUS_LABELS)


@bp.get("/favicon.ico")
def favicon():
    """The browser tab's icon, asked for by browsers at this fixed address
    (also before signing in, and by PDF viewers). Served from memory: a
    browser that drops the request midway leaves no file open."""
    global _FAVICON
    if _FAVICON is None:
        with open(os.path.join(current_app.static_folder, "favicon.ico"), "rb") as f:
            _FAVICON = f.read()
    response = Response(_FAVICON, mimetype="image/vnd.microsoft.icon")
    response.cache_control.public, response.cache_control.max_age = True, 86400
    return response


_FAVICON: bytes | None = None
