"""跟进提醒: the follow-up sheets due and overdue for a rep or a manager's
team, the projects past their loss limit, and the manager's one-step
reassignment of those."""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from .. import access, followup, operations
from ..extensions import db
from ..models import Project, Team, User
from .common import as_id, render_page

bp = Blueprint("followups", __name__, url_prefix="/followups")
REASSIGNERS = ("manager", "director", "gm")
WINDOWS = ((0, "今天及已逾期"), (7, "未来 7 天内到期"), (30, "未来 30 天内到期"))
DUE_ROWS, LIMIT_ROWS = 100, 50  # the most urgent first; the counts per rep cover the rest


class ReassignForm(FlaskForm):
    owner_id = SelectField("转交给", coerce=as_id, validate_choice=False,
                           validators=[DataRequired("请选择要转交的业务员")])
    reason = StringField("原因", default="超过跟进期限未跟进", validators=[Optional(), Length(max=500)])


def _reassign_form(project_id: int, choices, owner_id: int | None = None) -> ReassignForm:
    """One form per listed project, prefixed so the inputs' ids stay unique.
    The choices start with 「请选择」 and leave out the current owner, so no
    choice falls back to giving the project to whom it already belongs."""
    form = ReassignForm(prefix=f"p{project_id}")
    form.owner_id.choices = [("", "— 请选择 —")] + [(uid, name) for uid, name in choices if uid != owner_id]
    return form


def _assignable(user) -> list[tuple[int, str]]:
    """Active reps (and managers) this user may give a project to."""
    q = sa.select(User.id, User.name).where(User.active, User.role.in_(("rep", "manager")))
    if user.role == "manager":
        q = q.where(sa.or_(User.team_id.in_(access.managed_team_ids(user)), User.id == user.id))
    return [(uid, name) for uid, name in db.session.execute(q.order_by(User.name))]


def _int_arg(name):
    return as_id(request.args.get(name))


def _page(status=200, error=None, error_project=None, error_form=None):
    within = _int_arg("within")
    within = within if within in dict(WINDOWS) else 7
    owner_id, team_id = _int_arg("owner"), _int_arg("team")
    clauses = [access.project_scope(current_user)]
    if owner_id:
        clauses.append(Project.owner_id == owner_id)
    if team_id:
        clauses.append(Project.team_id == team_id)
    can_reassign = current_user.role in REASSIGNERS
    past_limit = followup.past_loss_limit(clauses, limit=LIMIT_ROWS)
    choices = _assignable(current_user) if can_reassign else []
    forms = {f.project_id: _reassign_form(f.project_id, choices, f.owner_id) for f in past_limit}
    if error_form is not None and error_project in forms:
        forms[error_project] = error_form  # what the manager chose and typed stays
    teams = list(db.session.execute(sa.select(Team.id, Team.name).order_by(Team.name))) \
        if current_user.role in ("director", "gm") else []
    return render_page(
        "followups/index.html", "followups/_lists.html",
        due=followup.due_list(clauses, within_days=within, limit=DUE_ROWS), past_limit=past_limit,
        counts=followup.counts_by_owner([access.project_scope(current_user)], within_days=within)
        if current_user.role != "rep" else [],
        windows=WINDOWS, within=within, due_rows=DUE_ROWS, limit_rows=LIMIT_ROWS, owner_id=owner_id, team_id=team_id, teams=teams,
        can_reassign=can_reassign, forms=forms, error=error, error_project=error_project), status


@bp.route("/")
@login_required
def index():
    return _page()


@bp.post("/<int:project_id>/reassign")
@login_required
def reassign(project_id: int):
    project = access.get_visible_or_404(Project, project_id, current_user)
    if current_user.role not in REASSIGNERS or not access.can_edit_project(current_user, project):
        abort(403)
    choices = _assignable(current_user)
    form = _reassign_form(project_id, choices, project.owner_id)
    if form.validate_on_submit():
        if form.owner_id.data != project.owner_id and form.owner_id.data not in dict(choices):
            form.owner_id.errors.append("请选择您团队中的在职业务员")
            return _page(400, "请选择您团队中的在职业务员", project_id, form)
        try:
            operations.reassign_project(current_user, project, db.session.get(User, form.owner_id.data),
                                        form.reason.data or "")
            flash(f"已将「{project.name}」转交给 {project.owner.name}", "success")
            return redirect(url_for(".index", **request.args))
        except operations.OperationError as e:
            error = e.message
            form.owner_id.errors.append(e.message)
    else:
        error = "；".join(sum(form.errors.values(), [])) or "请选择您团队中的业务员"
    return _page(400, error, project_id, form)
