"""销售漏斗: the funnel, trend, forecasts, conversion, stale stages,
evaluation and lead sources for a period, team or rep (filters via htmx);
the Excel exports and the Excel import (preview, then confirm); monthly
targets."""
import os
import secrets
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DecimalField, HiddenField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange

from .. import access, clock, excel, funnel, operations
from ..extensions import db
from ..models import Target, Team, User
from ..process import SEE_ALL_ROLES
from .common import as_id, finite_amount, render_page, roles_required
from .projects import filtered_projects

bp = Blueprint("funnel", __name__, url_prefix="/funnel")
VIEWERS = ("rep", "manager", "director", "gm", "clerk", "auditor")
TARGET_SETTERS = ("manager", "director", "gm")
IMPORTERS = ("rep", "manager", "director", "gm")


def _int_arg(name):
    return as_id(request.args.get(name))


def _filters():
    """The period, team and rep chosen, and the choices this user has."""
    period_key = request.args.get("period") if request.args.get("period") in dict(funnel.PERIODS) \
        else funnel.DEFAULT_PERIOD
    teams = sa.select(Team.id, Team.name).order_by(Team.name)
    reps = sa.select(User.id, User.name).where(User.role.in_(("rep", "manager"))).order_by(User.name)
    if current_user.role == "manager":
        mine = access.managed_team_ids(current_user)
        teams = teams.where(Team.id.in_(mine))
        reps = reps.where(sa.or_(User.team_id.in_(mine), User.id == current_user.id))
    elif current_user.role not in SEE_ALL_ROLES:
        teams = teams.where(sa.false())
        reps = reps.where(sa.false())
    team_id, owner_id = _int_arg("team"), _int_arg("owner")
    scope = funnel.scope_for(current_user, funnel.period_for(period_key), team_id, owner_id)
    return scope, dict(period_key=period_key, periods=funnel.PERIODS, team_id=team_id, owner_id=owner_id,
                       teams=list(db.session.execute(teams)), reps=list(db.session.execute(reps)))


@bp.route("/")
@roles_required(*VIEWERS)
def index():
    scope, filters = _filters()
    stale_total, stale = funnel.stale_stages(scope, limit=20)
    reps, teams = funnel.evaluation(scope, current_user)
    return render_page(
        "funnel/index.html", "funnel/_body.html", scope=scope, **filters,
        stages=funnel.funnel(scope), trend=funnel.trend(scope), forecast=funnel.forecast(scope),
        collection=funnel.collection_forecast(scope), collection_columns=funnel.COLLECTION_COLUMNS,
        conversion=funnel.conversion(scope), stale_total=stale_total, stale=stale,
        rep_rows=reps, team_rows=teams, sources=funnel.lead_sources(scope),
        period_last=scope.period.end - timedelta(days=1),
        can_set_targets=current_user.role in TARGET_SETTERS, can_import=current_user.role in IMPORTERS)


def _xlsx(workbook_bytes: bytes, name: str):
    from io import BytesIO
    return send_file(BytesIO(workbook_bytes), as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _scope_label(scope) -> str:
    """The filters in words, for the top of an exported sheet."""
    last = scope.period.end.toordinal() - 1
    parts = [f"期间：{scope.period.label}（{scope.period.start} 至 {date.fromordinal(last)}）"]
    team = db.session.get(Team, scope.team_id) if scope.team_id else None
    owner = db.session.get(User, scope.owner_id) if scope.owner_id else None
    parts += [f"片区：{team.name}"] if team else []
    parts += [f"业务员：{owner.name}"] if owner else []
    return "；".join(parts)


@bp.route("/export/funnel.xlsx")
@roles_required(*VIEWERS)
def export_funnel():
    scope, _ = _filters()
    data = excel.funnel_workbook(_scope_label(scope), funnel.funnel(scope), funnel.conversion(scope),
                                 funnel.trend(scope))
    return _xlsx(data, f"销售漏斗表-{clock.stamp()}.xlsx")


@bp.route("/export/forecast.xlsx")
@roles_required(*VIEWERS)
def export_forecast():
    scope, _ = _filters()
    data = excel.forecast_workbook(_scope_label(scope), funnel.forecast(scope), funnel.collection_forecast(scope))
    return _xlsx(data, f"销售预测表-{clock.stamp()}.xlsx")


@bp.route("/export/projects.xlsx")
@login_required
def export_projects():
    """The project list as filtered on the projects page (same arguments)."""
    projects = filtered_projects(current_user, request.args)
    return _xlsx(excel.projects_workbook(projects), f"项目清单-{clock.stamp()}.xlsx")


# ── import ────────────────────────────────────────────────────────────────
class UploadForm(FlaskForm):
    file = FileField("Excel 或 CSV 文件（.xlsx、.xls、.csv）")


class ConfirmForm(FlaskForm):
    token = HiddenField()
    units_confirmed = BooleanField("我已核对：以上标出的金额确实以万元计")


def _upload_dir() -> str:
    path = os.path.join(current_app.instance_path, "imports")
    os.makedirs(path, exist_ok=True)
    return path


def _stored(token: str) -> str | None:
    """The uploaded file kept between preview and confirm, if it is this user's."""
    if not token or session.get("import_token") != token or not token.isalnum():
        return None
    path = os.path.join(_upload_dir(), token + ".upload")
    return path if os.path.exists(path) else None


def _discard(token: str | None) -> None:
    """Removes an earlier upload of this user that was never confirmed."""
    path = _stored(token or "")
    if path:
        os.remove(path)


def _money_limit() -> Decimal:
    return Decimal(str(current_app.config["MONEY_CONFIRM_ABOVE"]))


def _import_page(plan, error, token="", confirm=None, status=None):  # nosec B107 # a plan's one-time token, not a password
    status = status or (400 if error or (plan and plan.errors) else 200)
    return render_page("funnel/import.html", form=UploadForm(), plan=plan, error=error,
                       confirm=confirm or ConfirmForm(formdata=None, token=token),
                       money_limit=current_app.config["MONEY_CONFIRM_ABOVE"]), status


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*IMPORTERS)
def import_upload():
    form = UploadForm()
    plan = error = None
    token = ""  # nosec B105 # the import confirmation token, empty until a plan exists
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(excel.MAX_IMPORT_BYTES + 1) if upload else b""
        name = (upload.filename or "") if upload else ""
        try:
            plan = excel.plan_import(data, current_user, name, _money_limit())
        except excel.ImportFileError as e:
            error = e.message
        else:
            if not plan.errors and plan.acts:
                _discard(session.get("import_token"))
                token = secrets.token_hex(16)
                with open(os.path.join(_upload_dir(), token + ".upload"), "wb") as fh:
                    fh.write(data)
                session["import_token"], session["import_name"] = token, name[-200:]
    return _import_page(plan, error, token)


@bp.post("/import/confirm")
@roles_required(*IMPORTERS)
def import_confirm():
    form = ConfirmForm()
    path = _stored(form.token.data or "") if form.validate_on_submit() else None
    if path is None:
        flash("导入文件已失效，请重新上传。", "error")
        return redirect(url_for(".import_upload"))
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        plan = excel.plan_import(data, current_user, session.get("import_name", ""), _money_limit())
        if plan.errors:
            return _import_page(plan, None)
        if plan.large_amounts and not form.units_confirmed.data:
            form.units_confirmed.errors = ["请核对标出的金额并勾选确认（金额以万元计）"]
            return _import_page(plan, None, confirm=form, status=400)
        customers, projects, updated = operations.import_rows(current_user, plan)
    except (excel.ImportFileError, operations.OperationError) as e:
        return _import_page(None, e.message)
    os.remove(path)
    session.pop("import_token", None)
    flash(f"已导入：新建 {customers} 个客户、{projects} 个项目，更新 {updated} 个项目", "success")
    return redirect(url_for("projects.index"))


# ── targets ───────────────────────────────────────────────────────────────
class TargetForm(FlaskForm):
    signed_amount = DecimalField("签约金额目标（万元）", places=2, validators=[
        finite_amount, InputRequired("请填写金额"),
        NumberRange(min=0, max=10_000_000, message="请输入 0 到 10,000,000 之间的金额")],
        render_kw={"inputmode": "decimal"})
    new_customers = IntegerField("新增客户目标", validators=[
        InputRequired("请填写客户数"), NumberRange(min=0, max=100_000, message="请输入 0 或正整数")],
        render_kw={"inputmode": "numeric"})


class MonthForm(FlaskForm):
    month = SelectField("月份")


def _month_form(month_key, choices) -> MonthForm:
    form = MonthForm(formdata=None, month=month_key)
    form.month.choices = choices
    return form


def _target_subjects(user) -> list[tuple[str, int, str]]:
    """(kind, id, label) of the teams and reps this user sets targets for."""
    teams = sa.select(Team).order_by(Team.name)
    people = sa.select(User).where(User.active, User.role.in_(("rep", "manager"))).order_by(User.name)
    if user.role == "manager":
        mine = access.managed_team_ids(user)
        teams = teams.where(Team.id.in_(mine))
        people = people.where(User.team_id.in_(mine), User.id != user.id)
    out = [("team", t.id, f"{t.name}（团队）") for t in db.session.scalars(teams)]
    return out + [("user", u.id, u.name + (f"（{u.team.name}）" if u.team else "")) for u in db.session.scalars(people)]


def _month_choices() -> list[tuple[str, str]]:
    first = clock.today().replace(day=1)
    months = [funnel.add_months(first, i) for i in range(-3, 13)]
    return [(f"{m:%Y-%m}", f"{m.year} 年 {m.month} 月") for m in months]


def _target_forms(subjects, year, month, formdata=None, posted=None):
    existing = {(t.user_id, t.team_id): t for t in db.session.scalars(
        sa.select(Target).where(Target.year == year, Target.month == month))}
    forms = {}
    for kind, sid, _ in subjects:
        key = (sid, None) if kind == "user" else (None, sid)
        target = existing.get(key)
        prefix = f"{kind}{sid}"
        data = formdata if posted == prefix else None
        forms[prefix] = TargetForm(formdata=data, prefix=prefix,
                                   signed_amount=target.signed_amount if target else 0,
                                   new_customers=target.new_customers if target else 0)
    return forms


@bp.route("/targets", methods=["GET", "POST"])
@roles_required(*TARGET_SETTERS)
def targets():
    choices = _month_choices()
    month_key = request.values.get("month") if request.values.get("month") in dict(choices) else choices[3][0]
    year, month = (int(x) for x in month_key.split("-"))
    subjects = _target_subjects(current_user)
    posted = request.form.get("subject") if request.method == "POST" else None
    if posted and posted not in {f"{k}{i}" for k, i, _ in subjects}:
        abort(403)
    forms = _target_forms(subjects, year, month, request.form, posted)
    saved = None
    if posted and forms[posted].validate_on_submit():
        form = forms[posted]
        kind, sid = ("team", int(posted[4:])) if posted.startswith("team") else ("user", int(posted[4:]))
        subject = {"team": db.session.get(Team, sid)} if kind == "team" else {"user": db.session.get(User, sid)}
        operations.set_target(current_user, year=year, month=month, signed_amount=form.signed_amount.data,
                              new_customers=form.new_customers.data, **subject)
        saved = posted
    status = 400 if posted and forms[posted].errors else 200
    labels = {f"{kind}{sid}": label for kind, sid, label in subjects}
    if posted and request.headers.get("HX-Request"):
        return render_page("funnel/_target.html", prefix=posted, labels=labels, form=forms[posted], saved=saved,
                           month_key=month_key), status
    return render_page("funnel/targets.html", "funnel/_targets.html", subjects=subjects, forms=forms, labels=labels,
                       month_form=_month_form(month_key, choices),
                       month_key=month_key, saved=saved), status
