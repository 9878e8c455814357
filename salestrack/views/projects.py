"""Sales projects: list with live search, page with stage timeline, create,
edit, stage change, reassignment."""
import sqlalchemy as sa
from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from .. import access, clock, formtokens, operations
from ..extensions import db
from ..formkit.builder import UNIT_CONFIRM_PREFIX, implausible_amount_message
from ..models import INSTALMENT_KINDS, Customer, Instalment, Project, ProjectNode, Team, User
from ..process import (CUSTOMER_CLASSES, LEAD_SOURCES, OPEN_STAGES, PROBABILITIES, STAGES, TRACKING_NODES,
                       TRACKING_PHASES, class_mismatch)
from .common import as_id, finite_amount, page_number, render_page

bp = Blueprint("projects", __name__, url_prefix="/projects")
PAGE_SIZE = 50


class ProjectForm(FlaskForm):
    name = StringField("项目名称", validators=[DataRequired("请填写项目名称"), Length(max=200, message="最多 200 字")])
    customer_id = SelectField("客户", coerce=int, validators=[InputRequired("请选择客户")])
    owner_id = SelectField("业务负责人", coerce=int, validators=[Optional()])
    product_line = StringField("应用类型/所属产品", validators=[Optional(), Length(max=120)])
    amount = DecimalField("预计合同金额（万元）", places=2, validators=[
        finite_amount, Optional(),
        NumberRange(min=0, max=10_000_000, message="请输入 0 到 10,000,000 之间的金额")],
        render_kw={"inputmode": "decimal"})
    probability = SelectField("签约概率", coerce=int, choices=[(p, f"{p}% {t}") for p, t in PROBABILITIES],
                              default=20)
    expected_sign_date = DateField("预计签约日期", validators=[Optional()])
    competitors = StringField("主要竞争对手", validators=[Optional(), Length(max=300)])
    funding = StringField("项目资金来源及预算", validators=[Optional(), Length(max=300)])
    lead_source = SelectField("客户来源", choices=[("", "—")] + [(s, s) for s in LEAD_SOURCES],
                              validators=[Optional()])
    customer_class = SelectField("客户分类", choices=[(c, f"{c} 类：{t}") for c, t in CUSTOMER_CLASSES], default="C")
    stage_stay_reason = TextAreaField("阶段停留原因", validators=[Optional(), Length(max=500)])
    version = HiddenField()

    def validate_amount(self, field):
        if field.data is not None and field.data.as_tuple().exponent < -2:
            raise ValidationError("金额最多两位小数")
        # An amount implausible in 万元 is saved only with its unit confirmed (issue 10 finding 8).
        unchanged = field.object_data is not None and Decimal(str(field.object_data)) == field.data
        if field.data is not None and not unchanged \
                and field.data > Decimal(str(current_app.config["MONEY_CONFIRM_ABOVE"])):
            if request.form.get(UNIT_CONFIRM_PREFIX + field.name):
                field.unit_confirm = "confirmed"
            else:
                field.unit_confirm = "ask"
                raise ValidationError(implausible_amount_message(field.data))


class StageForm(FlaskForm):
    stage = SelectField("新阶段", choices=[(s.code, s.label) for s in STAGES])
    reason = TextAreaField("原因", validators=[Optional(), Length(max=500, message="最多 500 字")])


class RestoreRightForm(FlaskForm):
    reason = TextAreaField("恢复理由", validators=[DataRequired("请填写恢复立项权的理由"),
                                               Length(max=500, message="最多 500 字")])


class InstalmentForm(FlaskForm):
    """One 期次 of the 回款计划; amounts in 万元."""
    planned_date = DateField("计划日期", validators=[InputRequired("请填写计划日期")])
    planned_amount = DecimalField("计划金额（万元）", places=2, validators=[
        finite_amount, InputRequired("请填写计划金额"),
        NumberRange(min=0, max=10_000_000, message="请输入 0 到 10,000,000 之间的金额")],
        render_kw={"inputmode": "decimal"})
    kind = SelectField("软件/实施", choices=list(INSTALMENT_KINDS), default="software")
    actual_date = DateField("实际回款日期", validators=[Optional()])
    actual_amount = DecimalField("实际金额（万元）", places=2, validators=[
        finite_amount, Optional(),
        NumberRange(min=0, max=10_000_000, message="请输入 0 到 10,000,000 之间的金额")],
        render_kw={"inputmode": "decimal"})

    def validate_planned_amount(self, field):
        if field.data is not None and field.data.as_tuple().exponent < -2:
            raise ValidationError("金额最多两位小数")

    def validate_actual_amount(self, field):
        if field.data is not None and field.data.as_tuple().exponent < -2:
            raise ValidationError("金额最多两位小数")

    def values(self) -> dict:
        return {k: getattr(self, k).data for k in operations.INSTALMENT_FIELDS}


class SignedDateForm(FlaskForm):
    signed_at = DateField("签约日期", validators=[InputRequired("请填写签约日期")])


class NodeForm(FlaskForm):
    node = SelectField("节点", choices=[(n.code, f"{n.phase} · {n.label}") for n in TRACKING_NODES])
    reached_on = DateField("到达日期", validators=[Optional()])


class ReassignForm(FlaskForm):
    owner_id = SelectField("转交给", coerce=as_id, validate_choice=False,
                           validators=[DataRequired("请选择要转交的业务员")])
    reason = TextAreaField("原因", validators=[Optional(), Length(max=500)])


def _customer_choices(user):
    rows = db.session.execute(access.visible_customers(user).with_only_columns(
        Customer.id, Customer.customer_no, Customer.name).order_by(Customer.name)).all()
    return [(c.id, f"{c.name}（{c.customer_no}）") for c in rows]


def _owner_choices(user):
    """Reps a project may be given to by this user."""
    q = sa.select(User).where(User.active, User.role.in_(("rep", "manager")))
    if user.role == "manager":
        teams = access.managed_team_ids(user)
        q = q.where(sa.or_(User.team_id.in_(teams), User.id == user.id))
    elif user.role == "rep":
        q = q.where(User.id == user.id)
    return [(u.id, u.name) for u in db.session.scalars(q.order_by(User.name))]


OPEN = "open"  # the stage filter's 进行中: every stage before 签约成交


def filtered_projects(user, args):
    """The projects `user` may see, narrowed by the list's filters (also used
    by the Excel export, so it exports exactly the list on screen)."""
    q = access.visible_projects(user).join(Customer)
    text = (args.get("q") or "").strip()[:100]
    if text:
        like = f"%{text}%"
        q = q.where(sa.or_(Project.name.ilike(like), Project.project_no.ilike(like),
                           Customer.name.ilike(like), Customer.customer_no.ilike(like)))
    if args.get("stage") == OPEN:
        q = q.where(Project.stage.in_(OPEN_STAGES))
    for key, column in (("stage", Project.stage), ("class", Project.customer_class)):
        if args.get(key) and args[key] != OPEN:
            q = q.where(column == args[key])
    for key, column in (("owner", Project.owner_id), ("team", Project.team_id)):
        value = as_id(args.get(key))
        if value is not None:
            q = q.where(column == value)
    return q


@bp.route("/")
@login_required
def index():
    q = filtered_projects(current_user, request.args)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
    page, pages = page_number(total, PAGE_SIZE)
    projects = list(db.session.scalars(
        q.order_by(Project.updated_at.desc(), Project.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    owners = db.session.scalars(sa.select(User).where(User.role.in_(("rep", "manager"))).order_by(User.name))
    visible_owner_ids = set(db.session.scalars(
        sa.select(Project.owner_id).where(access.project_scope(current_user)).distinct()))
    teams = db.session.scalars(sa.select(Team).order_by(Team.name))
    return render_page(
        "projects/index.html", "projects/_rows.html", projects=projects, total=total, page=page,
        pages=pages, args=request.args, stages=STAGES, classes=CUSTOMER_CLASSES,
        owners=[o for o in owners if o.id in visible_owner_ids], teams=list(teams),
        can_create=access.can_create_project(current_user))


def _project_form(obj=None):
    form = ProjectForm(obj=obj)
    form.customer_id.choices = _customer_choices(current_user)
    form.owner_id.choices = _owner_choices(current_user)
    if obj is None and request.method == "GET" and request.args.get("customer", "").isdigit():
        form.customer_id.data = int(request.args["customer"])
    return form


def _project_fields(form) -> dict:
    return {k: getattr(form, k).data for k in operations.PROJECT_COLUMNS if hasattr(form, k)} | {
        "lead_source": form.lead_source.data or None}


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if not access.can_create_project(current_user):
        abort(403)
    form = _project_form()
    if request.method == "GET" and not form.owner_id.data:
        form.owner_id.data = current_user.id
    if form.validate_on_submit():
        if form.customer_id.data not in dict(form.customer_id.choices):
            form.customer_id.errors.append("请选择您可以查看的客户")
        elif form.owner_id.data and form.owner_id.data not in dict(form.owner_id.choices):
            form.owner_id.errors.append("请选择您团队中的业务员")
        else:
            owner = db.session.get(User, form.owner_id.data) if form.owner_id.data else current_user
            project = operations.create_project(current_user, owner=owner, **_project_fields(form))
            flash(f"已创建项目 {project.project_no}", "success")
            return redirect(url_for(".show", project_id=project.id))
    return render_page("projects/edit.html", form=form, project=None), 400 if form.errors else 200


@bp.route("/<int:project_id>")
@login_required
def show(project_id: int):
    project = access.get_visible_or_404(Project, project_id, current_user)
    stage_form = StageForm(stage=project.stage)
    return render_page("projects/show.html", **_show_context(project, stage_form, _reassign_form(project)))


def _reassign_form(project) -> "ReassignForm":
    """The 转交 form: 「请选择」 first and the current owner left out, so the
    default is never 'give it to whom it belongs'."""
    form = ReassignForm()
    form.owner_id.choices = [("", "— 请选择 —")] + [c for c in _owner_choices(current_user)
                                                    if c[0] != project.owner_id]
    return form


def _collection_context(project, forms: dict | None = None, new_form=None, signed_form=None) -> dict:
    """The 回款计划 section: a form per instalment (or the one posted, with
    its errors and what was typed), the add form and the 签约日期 form."""
    forms = dict(forms or {})
    for item in project.instalments:
        if item.id not in forms:
            forms[item.id] = InstalmentForm(obj=item, prefix=f"i{item.id}", formdata=None)
    if new_form is None:
        new_form = InstalmentForm(prefix="new", formdata=None)
        if not project.instalments and project.amount:
            new_form.planned_amount.data = project.amount
    if signed_form is None:
        signed_form = SignedDateForm(signed_at=project.signed_at, formdata=None)
    planned = sum((i.planned_amount for i in project.instalments), operations.Decimal("0.00"))
    return dict(project=project, instalment_forms=forms, new_instalment=new_form, signed_form=signed_form,
                planned_total=planned, kinds=dict(INSTALMENT_KINDS),
                can_edit=access.can_edit_project(current_user, project))


def _show_context(project, stage_form, reassign_form, **extra) -> dict:
    from .records import project_sheets_context
    from ..history import timeline
    mismatch = None
    if project.stage not in ("won", "lost"):
        mismatch = class_mismatch(project.customer_class, project.probability, project.expected_sign_date,
                                  clock.today())
    collections = {k: extra.pop(k) for k in ("forms", "new_form", "signed_form") if k in extra}
    extra.setdefault("restore_form", RestoreRightForm(formdata=None))
    reached = dict(db.session.execute(sa.select(ProjectNode.node, ProjectNode.reached_on).where(
        ProjectNode.project_id == project.id)).all())
    extra.setdefault("node_form", NodeForm(formdata=None))
    return dict(stage_form=stage_form, reassign_form=reassign_form, timeline=timeline(project),
                can_reassign=current_user.role in ("manager", "director", "gm"),
                class_mismatch=mismatch, class_accepted=mismatch and project.class_accepted == operations.class_key(project),
                can_accept_class=current_user.role in ("manager", "director", "gm")
                and access.can_edit_project(current_user, project),
                days=operations.days_in_stage(project), **project_sheets_context(project),
                can_restore_right=access.can_restore_filing_right(current_user, project),
                right_lost=_right_lost(project),
                nodes=[(n, reached.get(n.code)) for n in TRACKING_NODES],
                node_phases=[(phase, sum(n.phase == phase for n in TRACKING_NODES)) for phase in TRACKING_PHASES],
                **_collection_context(project, **collections), **extra)


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@login_required
def edit(project_id: int):
    project = access.get_visible_or_404(Project, project_id, current_user)
    if not access.can_edit_project(current_user, project):
        abort(403)
    form = _project_form(obj=project)
    del form.owner_id
    if request.method == "GET":
        form.version.data = project.version
    conflict = None
    if form.validate_on_submit():
        if form.customer_id.data not in dict(form.customer_id.choices):
            form.customer_id.errors.append("请选择您可以查看的客户")
        else:
            try:
                operations.update_project(current_user, project, expected_version=int(form.version.data or 0),
                                          **_project_fields(form))
                flash("已保存", "success")
                return redirect(url_for(".show", project_id=project.id))
            except operations.ConflictError as e:
                conflict = e.message
    return render_page("projects/edit.html", form=form, project=project, conflict=conflict), \
        409 if conflict else (400 if form.errors else 200)


@bp.post("/<int:project_id>/stage")
@login_required
def change_stage(project_id: int):
    project = access.get_visible_or_404(Project, project_id, current_user)
    if not access.can_edit_project(current_user, project):
        abort(403)
    form = StageForm()
    error = None
    if form.validate_on_submit():
        try:
            operations.change_stage(current_user, project, form.stage.data, form.reason.data)
            flash("阶段已更新", "success")
            return redirect(url_for(".show", project_id=project.id))
        except operations.OperationError as e:
            error = e.message
    else:
        error = "；".join(sum(form.errors.values(), [])) or "请检查输入"
    return render_page("projects/show.html", **_show_context(project, form, _reassign_form(project),
                                                             stage_error=error)), 400


@bp.post("/<int:project_id>/reassign")
@login_required
def reassign(project_id: int):
    project = access.get_visible_or_404(Project, project_id, current_user)
    if current_user.role not in ("manager", "director", "gm") or not access.can_edit_project(current_user, project):
        abort(403)
    form = _reassign_form(project)
    if form.validate_on_submit():
        if form.owner_id.data != project.owner_id and form.owner_id.data not in dict(_owner_choices(current_user)):
            form.owner_id.errors.append("请选择您团队中的在职业务员")
        else:
            try:
                operations.reassign_project(current_user, project, db.session.get(User, form.owner_id.data),
                                            form.reason.data)
                flash(f"项目已转交给 {project.owner.name}", "success")
                return redirect(url_for(".show", project_id=project.id))
            except operations.OperationError as e:
                form.owner_id.errors.append(e.message)
    return render_page("projects/show.html", **_show_context(project, StageForm(stage=project.stage), form)), 400


def _right_lost(project) -> dict | None:
    """The 立项权 cancellation shown on the project page: when, and why."""
    if project.filing_right_lost_at is None:
        return None
    from ..models import ProjectEvent
    event = db.session.scalar(sa.select(ProjectEvent).where(ProjectEvent.project_id == project.id,
                                                            ProjectEvent.kind == "right_lost")
                              .order_by(ProjectEvent.at.desc(), ProjectEvent.id.desc()).limit(1))
    return {"at": project.filing_right_lost_at, "reason": event.reason if event else ""}


@bp.post("/<int:project_id>/filing-right/restore")
@login_required
def restore_right(project_id: int):
    """The manager gives the owner his 立项权 back (or reassigns instead)."""
    project = access.get_visible_or_404(Project, project_id, current_user)
    if not access.can_restore_filing_right(current_user, project):
        abort(403)
    form = RestoreRightForm()
    if form.validate_on_submit():
        try:
            operations.restore_filing_right(current_user, project, form.reason.data)
            flash(f"已恢复 {project.owner.name} 对本项目的立项权，跟进周期从今天重新计算", "success")
            return redirect(url_for(".show", project_id=project.id))
        except operations.OperationError as e:
            form.reason.errors = [e.message]
    return render_page("projects/show.html", **_show_context(project, StageForm(stage=project.stage),
                                                             _reassign_form(project), restore_form=form)), 400


@bp.post("/<int:project_id>/class/accept")
@login_required
def accept_class(project_id: int):
    """The manager accepts a class that contradicts probability and date."""
    project = access.get_visible_or_404(Project, project_id, current_user)
    if current_user.role not in ("manager", "director", "gm") or not access.can_edit_project(current_user, project):
        abort(403)
    form = FlaskForm()
    if form.validate_on_submit():
        operations.accept_class(current_user, project)
        flash(f"已确认客户分类 {project.customer_class} 类", "success")
    return redirect(url_for(".show", project_id=project.id))


@bp.post("/<int:project_id>/nodes")
@login_required
def set_node(project_id: int):
    """Records, corrects or (no date) clears the date a 销售项目跟踪表 node was reached."""
    project = _editable_project(project_id)
    form = NodeForm()
    if form.validate_on_submit():
        try:
            operations.set_node(current_user, project, form.node.data, form.reached_on.data)
            label = dict(form.node.choices)[form.node.data]
            flash(f"已保存跟踪节点：{label} {form.reached_on.data or '（已清除）'}", "success")
            return redirect(url_for(".show", project_id=project.id) + "#nodes")
        except operations.OperationError as e:
            _apply_error(form, e)
    return render_page("projects/show.html", **_show_context(
        project, StageForm(stage=project.stage), _reassign_form(project), node_form=form)), 400


def _done(project, message: str):
    """After a change of the 回款计划: the fresh section (htmx) with the
    message in it, else back to the project page with the message flashed."""
    db.session.expire(project)
    if _is_htmx():
        from flask import render_template
        return render_template("projects/_collections.html", notice=message, **_collection_context(project))
    flash(message, "success")
    return redirect(url_for(".show", project_id=project.id) + "#collections")


def _collections_page(project, status=200, **forms):
    """The 回款计划 section alone for htmx (errors next to the fields, what
    was typed kept), else the whole project page."""
    if _is_htmx():
        from flask import render_template
        return render_template("projects/_collections.html", **_collection_context(project, **forms)), status
    return render_page("projects/show.html", **_show_context(
        project, StageForm(stage=project.stage), _reassign_form(project), **forms)), status


def _editable_project(project_id: int) -> Project:
    project = access.get_visible_or_404(Project, project_id, current_user)
    if not access.can_edit_project(current_user, project):
        abort(403)
    return project


def _apply_error(form, error: operations.OperationError) -> None:
    target = getattr(form, error.field, None) if error.field else None
    (target.errors if target is not None else form.form_errors).append(error.message)


@bp.post("/<int:project_id>/instalments")
@login_required
def add_instalment(project_id: int):
    """Adds a 期次 to the 回款计划 (owner or his manager)."""
    project = _editable_project(project_id)
    form = InstalmentForm(prefix="new")
    if form.validate_on_submit():
        try:
            item = operations.add_instalment(current_user, project, once=formtokens.posted(), **form.values())
            return _done(project, f"已添加第 {item.seq} 期回款计划")
        except operations.AlreadyDone as e:
            return _done(project, e.message)
        except operations.OperationError as e:
            _apply_error(form, e)
    return _collections_page(project, 400, new_form=form)


def _instalment_or_404(project, instalment_id: int) -> Instalment:
    item = db.session.get(Instalment, instalment_id)
    if item is None or item.project_id != project.id:
        abort(404)
    return item


@bp.post("/<int:project_id>/instalments/<int:instalment_id>")
@login_required
def update_instalment(project_id: int, instalment_id: int):
    """Changes a 期次, e.g. records what was collected."""
    project = _editable_project(project_id)
    item = _instalment_or_404(project, instalment_id)
    form = InstalmentForm(prefix=f"i{item.id}")
    if form.validate_on_submit():
        try:
            operations.update_instalment(current_user, item, **form.values())
            return _done(project, f"已保存第 {item.seq} 期")
        except operations.OperationError as e:
            _apply_error(form, e)
    return _collections_page(project, 400, forms={item.id: form})


@bp.post("/<int:project_id>/instalments/<int:instalment_id>/delete")
@login_required
def delete_instalment(project_id: int, instalment_id: int):
    project = _editable_project(project_id)
    item = _instalment_or_404(project, instalment_id)
    if FlaskForm().validate_on_submit():
        seq = item.seq
        operations.delete_instalment(current_user, item)
        return _done(project, f"已删除第 {seq} 期")
    return redirect(url_for(".show", project_id=project.id) + "#collections")


@bp.post("/<int:project_id>/signed-date")
@login_required
def set_signed_date(project_id: int):
    """Corrects 签约日期 of a won project."""
    project = _editable_project(project_id)
    form = SignedDateForm()
    if form.validate_on_submit():
        try:
            operations.set_signed_date(current_user, project, form.signed_at.data)
            return _done(project, "签约日期已保存")
        except operations.OperationError as e:
            _apply_error(form, e)
    return _collections_page(project, 400, signed_form=form)


def _is_htmx() -> bool:
    from flask import g

    from ..extensions import htmx
    g.varies_on_htmx = True
    return bool(htmx) and not htmx.boosted
