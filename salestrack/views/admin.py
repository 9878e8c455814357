"""User and team administration (admin only)."""
import sqlalchemy as sa
from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from .. import accounts, operations
from ..extensions import db
from ..models import Customer, Team, User
from ..process import ROLES
from .common import render_page, roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
# The policy itself is accounts.password_problem, applied by operations.
PASSWORD_RULE = f"至少 {accounts.PASSWORD_MIN_LENGTH} 位，不能是常见密码，不能包含用户名"


class UserForm(FlaskForm):
    username = StringField("用户名", validators=[
        DataRequired("请填写用户名"), Length(max=40),
        Regexp(r"^[A-Za-z0-9_.-]+$", message="只能使用字母、数字、点、下划线和连字符")])
    name = StringField("姓名", validators=[DataRequired("请填写姓名"), Length(max=80)])
    role = SelectField("角色", choices=list(ROLES))
    title = StringField("职务", validators=[Optional(), Length(max=80)])
    team_id = SelectField("所属团队（片区/分公司）", coerce=int)
    email = EmailField("电子邮件", validators=[Optional(), Email("请输入有效的电子邮件地址"), Length(max=200)])
    password = PasswordField("初始密码", validators=[DataRequired("请设置初始密码")], description=PASSWORD_RULE,
                             render_kw={"autocomplete": "new-password"})
    active = BooleanField("在职（可登录）", default=True)


class PasswordForm(FlaskForm):
    password = PasswordField("新密码", validators=[DataRequired("请输入新密码")], description=PASSWORD_RULE,
                             render_kw={"autocomplete": "new-password"})


class MergeForm(FlaskForm):
    keep = StringField("保留的客户（客户编号）", validators=[DataRequired("请填写要保留的客户编号"), Length(max=30)])
    merged = StringField("并入并删除的客户（客户编号）",
                         validators=[DataRequired("请填写要并入的客户编号"), Length(max=30)])
    confirmed = HiddenField()  # set only by the summary's 确认合并 button


class TeamForm(FlaskForm):
    name = StringField("团队名称", validators=[DataRequired("请填写团队名称"), Length(max=80)])
    manager_id = SelectField("业务经理", coerce=int)


def _team_choices():
    return [(0, "—")] + [(t.id, t.name) for t in db.session.scalars(sa.select(Team).order_by(Team.name))]


def _manager_choices():
    return [(0, "—")] + [(u.id, u.name) for u in db.session.scalars(
        sa.select(User).where(User.role == "manager", User.active).order_by(User.name))]


@bp.route("/users", methods=["GET", "POST"])
@roles_required("admin")
def users():
    form = UserForm()
    form.team_id.choices = _team_choices()
    status = 200
    if form.validate_on_submit():
        try:
            team = db.session.get(Team, form.team_id.data) if form.team_id.data else None
            user = operations.create_user(current_user, username=form.username.data.strip(), name=form.name.data,
                                          role=form.role.data, password=form.password.data, team=team,
                                          email=form.email.data, title=form.title.data)
            flash(f"已创建用户 {user.username}", "success")
            return redirect(url_for(".users"))
        except operations.OperationError as e:
            getattr(form, e.field).errors.append(e.message)
    if form.errors:
        status = 400
    all_users = list(db.session.scalars(sa.select(User).order_by(User.role, User.username)))
    return render_page("admin/users.html", users=all_users, form=form, role_labels=dict(ROLES)), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def user(user_id: int):
    target = db.get_or_404(User, user_id)
    form = UserForm(obj=target)
    del form.password
    del form.username
    form.team_id.choices = _team_choices()
    if form.team_id.data is None:
        form.team_id.data = 0
    pw_form = PasswordForm(prefix="pw")
    held = operations.slots_held(target) if target.active else []
    if form.validate_on_submit():
        was_active = target.active
        operations.update_user(current_user, target, name=form.name.data, role=form.role.data,
                               team_id=form.team_id.data or None, email=form.email.data or None,
                               title=form.title.data or None, active=form.active.data)
        moved = held if was_active and not target.active else []
        if moved:
            flash(f"已保存。{target.name} 已停用，由其签署的 {len(moved)} 份表单已转交："
                  + "、".join(f"{r.number} → {'、'.join(sorted({r.chain[i]['signer_name'] for i in idx}))}"
                             for r, idx in moved), "warning")
        else:
            flash("已保存", "success")
        return redirect(url_for(".user", user_id=target.id))
    return render_page("admin/user.html", target=target, form=form, pw_form=pw_form, held=held), \
        400 if form.errors else 200


@bp.post("/users/<int:user_id>/password")
@roles_required("admin")
def user_password(user_id: int):
    target = db.get_or_404(User, user_id)
    pw_form = PasswordForm(prefix="pw")
    if pw_form.validate_on_submit():
        try:
            operations.set_password(current_user, target, pw_form.password.data)
        except operations.OperationError as e:
            pw_form.password.errors.append(e.message)
        else:
            flash("密码已重设，该用户的所有登录已失效", "success")
            return redirect(url_for(".user", user_id=target.id))
    form = UserForm(obj=target, formdata=None)
    del form.password
    del form.username
    form.team_id.choices = _team_choices()
    form.team_id.data = form.team_id.data or 0
    return render_page("admin/user.html", target=target, form=form, pw_form=pw_form), 400


@bp.route("/teams", methods=["GET", "POST"])
@roles_required("admin")
def teams():
    form = TeamForm()
    form.manager_id.choices = _manager_choices()
    if form.validate_on_submit():
        if db.session.scalar(sa.select(Team.id).where(Team.name == form.name.data.strip())):
            form.name.errors.append("该团队名称已存在")
        else:
            manager = db.session.get(User, form.manager_id.data) if form.manager_id.data else None
            operations.create_team(current_user, form.name.data.strip(), manager)
            flash("已创建团队", "success")
            return redirect(url_for(".teams"))
    return _teams_page(form, 400 if form.errors else 200)


def _teams_page(form, status, row_errors=None):
    all_teams = list(db.session.scalars(sa.select(Team).order_by(Team.name)))
    return render_page("admin/teams.html", teams=all_teams, form=form, managers=_manager_choices(),
                       row_errors=row_errors or {}), status


@bp.post("/teams/<int:team_id>/manager")
@roles_required("admin")
def team_manager(team_id: int):
    """更换经理: one of the offered managers (active, role manager) or — for
    none. Anything else is refused next to the team's select and the team
    keeps its manager (issue 15 finding 13)."""
    team = db.get_or_404(Team, team_id)
    form = TeamForm()
    form.manager_id.choices = _manager_choices()
    raw = (request.form.get("manager_id") or "").strip()
    offered = {str(id_): id_ for id_, _ in form.manager_id.choices}
    if raw not in offered:
        form = TeamForm(formdata=None)
        form.manager_id.choices = _manager_choices()
        return _teams_page(form, 400, row_errors={team.id: "请从列表中选择在职的业务经理（或“—”表示暂无）"})
    manager_id = offered[raw]
    operations.set_team_manager(current_user, team, db.session.get(User, manager_id) if manager_id else None)
    flash("已更新业务经理", "success")
    return redirect(url_for(".teams"))


# ── duplicate customers ───────────────────────────────────────────────────
def _duplicate_groups(limit: int = 200) -> list[list[Customer]]:
    """Customers sharing a normalised name key (customer_keys.name_key): those
    registered before the duplicate check existed, for merging."""
    keys = list(db.session.scalars(
        sa.select(Customer.name_key).where(Customer.name_key.is_not(None)).group_by(Customer.name_key)
        .having(sa.func.count() > 1).order_by(Customer.name_key).limit(limit)))
    groups: dict[str, list[Customer]] = {k: [] for k in keys}
    for c in db.session.scalars(sa.select(Customer).where(Customer.name_key.in_(keys)).order_by(Customer.id)):
        groups[c.name_key].append(c)
    return list(groups.values())


def _by_number(form, name: str) -> Customer | None:
    field = getattr(form, name)
    number = (field.data or "").strip().upper()
    customer = db.session.scalar(sa.select(Customer).where(sa.func.upper(Customer.customer_no) == number))
    if customer is None:
        field.errors.append(f"没有客户编号为「{field.data.strip()}」的客户")
    return customer


@bp.route("/customers/duplicates", methods=["GET", "POST"])
@roles_required("admin")
def customer_duplicates():
    """重复客户: the groups to merge, and the merge itself in two steps: the
    summary of what moves, then the confirmed merge (operations.merge_customers)."""
    form = MergeForm()
    if request.method == "GET":
        form.keep.data = request.args.get("keep", "")[:30]
        form.merged.data = request.args.get("merged", "")[:30]
    preview = keep = merged = None
    if form.validate_on_submit():
        keep, merged = _by_number(form, "keep"), _by_number(form, "merged")
        if keep is not None and merged is not None and keep.id == merged.id:
            form.merged.errors.append("请选择另一个客户：保留和并入的不能是同一个")
        elif keep is not None and merged is not None:
            if form.confirmed.data == "y":
                summary = operations.merge_customers(current_user, keep, merged)
                flash(f"已将 {form.merged.data.strip().upper()} 并入 {keep.customer_no}："
                      f"{summary['projects']} 个项目、{summary['records']} 张表单已转移", "success")
                return redirect(url_for(".customer_duplicates"))
            preview = operations.merge_preview(keep, merged)
    status = 400 if form.errors else 200
    return render_page("admin/customer_duplicates.html", form=form, groups=_duplicate_groups(),
                       preview=preview, keep=keep, merged=merged, labels=dict(FIELD_LABELS)), status


FIELD_LABELS = (("short_name", "企业简称"), ("category", "客户类别"), ("source", "客户来源"),
                ("industry", "企业所属行业"), ("contact", "联系人"), ("phone", "电话"), ("address", "地址"),
                ("tax_id", "统一社会信用代码/增值税号"))
