"""Every change of state happens here: one function per act, one transaction
per act, each writing its audit event. Routes load, check access, then call
one of these; they never write to the database themselves."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from . import audit
from .database import write_transaction
from .extensions import db
from .models import Customer, Project, ProjectEvent, Target, Team, User, utcnow
from .process import STAGE_BY_CODE, stage_label


class OperationError(Exception):
    """An act refused by a business rule; `field` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ConflictError(OperationError):
    """Someone else saved the same object since this user loaded it."""


def next_number(series: str) -> int:
    """The next value of a gap-free series, taken inside the current write
    transaction (INSERT … ON CONFLICT works on SQLite and PostgreSQL)."""
    return db.session.execute(sa.text(
        "INSERT INTO counters (key, value) VALUES (:k, 1) "
        "ON CONFLICT (key) DO UPDATE SET value = counters.value + 1 RETURNING value"), {"k": series}).scalar_one()


def _locked(obj):
    """Reloads `obj` in the writing transaction, row-locked on PostgreSQL."""
    db.session.refresh(obj, with_for_update=db.session.get_bind().dialect.name == "postgresql")
    return obj


# ── people ────────────────────────────────────────────────────────────────
def hash_password(password: str) -> str:
    """Deliberately slow to guess (scrypt); tests configure a faster method."""
    from flask import has_app_context
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
    return generate_password_hash(password, method=method)


def create_user(actor: User | None, *, username: str, name: str, role: str, password: str,
                team: Team | None = None, email: str | None = None, title: str | None = None) -> User:
    with write_transaction():
        if db.session.scalar(sa.select(User.id).where(sa.func.lower(User.username) == username.lower())):
            raise OperationError("该用户名已存在", "username")
        user = User(username=username, name=name, role=role, team_id=team.id if team else None,
                    email=email or None, title=title or None, password_hash=hash_password(password))
        db.session.add(user)
        db.session.flush()
        audit.append("user_create", actor, target=user, target_label=username, detail={"role": role})
    return user


def update_user(actor: User | None, user: User, **fields) -> User:
    with write_transaction():
        _locked(user)
        allowed = {"name", "role", "team_id", "email", "title", "active"}
        changed = {}
        for key, value in fields.items():
            if key in allowed and getattr(user, key) != value:
                changed[key] = [str(getattr(user, key)), str(value)]
                setattr(user, key, value)
        audit.append("user_update", actor, target=user, target_label=user.username, detail=changed)
    return user


def set_password(actor: User | None, user: User, password: str) -> None:
    with write_transaction():
        _locked(user)
        user.password_hash = hash_password(password)
        audit.append("password_set", actor, target=user, target_label=user.username)


def create_team(actor: User | None, name: str, manager: User | None = None) -> Team:
    with write_transaction():
        team = Team(name=name, manager_id=manager.id if manager else None)
        db.session.add(team)
        db.session.flush()
        audit.append("team_create", actor, target=team, target_label=name)
    return team


def set_team_manager(actor: User | None, team: Team, manager: User | None) -> None:
    with write_transaction():
        _locked(team)
        team.manager_id = manager.id if manager else None
        audit.append("team_update", actor, target=team, target_label=team.name,
                     detail={"manager": manager.username if manager else None})


def log_login(user: User) -> None:
    with write_transaction():
        audit.append("login", user, target=user, target_label=user.username)


def log_logout(user: User) -> None:
    with write_transaction():
        audit.append("logout", user, target=user, target_label=user.username)


def log_failed_login(username: str, user: User | None) -> None:
    with write_transaction():
        audit.append("login_failed", None, target=user, target_label=username[:120])


def recent_login_failures(username: str, ip: str | None) -> tuple[int, int]:
    """(failures for this account name, failures from this address) within the window."""
    since = utcnow() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    from .models import AuditEvent
    base = sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "login_failed", AuditEvent.at >= since)
    by_name = db.session.scalar(base.where(sa.func.lower(AuditEvent.target_label) == username.lower()))
    by_ip = db.session.scalar(base.where(AuditEvent.ip == ip)) if ip else 0
    return by_name, by_ip


# ── customers ─────────────────────────────────────────────────────────────
CUSTOMER_COLUMNS = ("name", "short_name", "category", "source", "industry", "contact", "phone", "address")


def create_customer(actor: User, **fields) -> Customer:
    with write_transaction():
        number = next_number("customer")
        customer = Customer(customer_no=f"C{number:05d}", owner_id=actor.id, team_id=actor.team_id,
                            profile={}, **{k: fields.get(k) or None for k in CUSTOMER_COLUMNS})
        if not customer.name:
            raise OperationError("请填写企业名称", "name")
        db.session.add(customer)
        db.session.flush()
        audit.append("customer_create", actor, target=customer, target_label=customer.customer_no)
    return customer


def update_customer(actor: User, customer: Customer, **fields) -> Customer:
    with write_transaction():
        _locked(customer)
        changed = {}
        for key in CUSTOMER_COLUMNS:
            if key in fields and (fields[key] or None) != getattr(customer, key):
                changed[key] = [getattr(customer, key), fields[key] or None]
                setattr(customer, key, fields[key] or None)
        if not customer.name:
            raise OperationError("请填写企业名称", "name")
        customer.updated_at = utcnow()
        audit.append("customer_update", actor, target=customer, target_label=customer.customer_no, detail=changed)
    return customer


# ── projects ──────────────────────────────────────────────────────────────
PROJECT_COLUMNS = ("name", "customer_id", "product_line", "amount", "probability", "expected_sign_date",
                   "competitors", "funding", "lead_source", "customer_class", "stage_stay_reason")


def create_project(actor: User, owner: User | None = None, **fields) -> Project:
    owner = owner or actor
    with write_transaction():
        year = date.today().year
        number = next_number(f"project-{year}")
        project = Project(project_no=f"XM-{year}-{number:04d}", owner_id=owner.id, team_id=owner.team_id,
                          stage="lead", stage_entered_at=utcnow(),
                          **{k: fields[k] for k in PROJECT_COLUMNS if k in fields})
        db.session.add(project)
        db.session.flush()
        db.session.add(ProjectEvent(project_id=project.id, kind="created", to_value="lead", actor_id=actor.id))
        audit.append("project_create", actor, target=project, target_label=project.project_no)
    return project


def update_project(actor: User, project: Project, expected_version: int | None = None, **fields) -> Project:
    with write_transaction():
        _locked(project)
        if expected_version is not None and project.version != expected_version:
            raise ConflictError("该项目已被他人修改，请刷新后再保存。")
        changed = {}
        for key in PROJECT_COLUMNS:
            if key in fields and fields[key] != getattr(project, key):
                old = getattr(project, key)
                if isinstance(old, Decimal) and fields[key] is not None and Decimal(fields[key]) == old:
                    continue
                changed[key] = [str(old) if old is not None else None,
                                str(fields[key]) if fields[key] is not None else None]
                setattr(project, key, fields[key])
        if changed:
            project.version += 1
            project.updated_at = utcnow()
            db.session.add(ProjectEvent(project_id=project.id, kind="edited", actor_id=actor.id,
                                        reason="、".join(changed)[:500]))
            audit.append("project_update", actor, target=project, target_label=project.project_no, detail=changed)
    return project


def days_in_stage(project: Project, now=None) -> int:
    return ((now or utcnow()) - project.stage_entered_at).days


def change_stage(actor: User, project: Project, to_stage: str, reason: str = "") -> Project:
    """Moves a project to another stage, recording who, when, why and how
    long it stayed. A reason is required for 丢单 and when leaving a stage
    after more than the allowed stay (7 days by default)."""
    reason = (reason or "").strip()
    if to_stage not in STAGE_BY_CODE:
        raise OperationError("请选择有效的阶段", "stage")
    with write_transaction():
        _locked(project)
        if to_stage == project.stage:
            raise OperationError("项目已处于该阶段", "stage")
        stay = days_in_stage(project)
        limit = current_app.config["STAGE_STAY_DAYS"]
        if to_stage == "lost" and not reason:
            raise OperationError("丢单/放弃须填写丢标原因", "reason")
        if stay > limit and not reason and not project.stage_stay_reason:
            raise OperationError(f"项目在「{stage_label(project.stage)}」已停留 {stay} 天（超过 {limit} 天），"
                                 "请填写阶段停留原因", "reason")
        db.session.add(ProjectEvent(project_id=project.id, kind="stage", from_value=project.stage,
                                    to_value=to_stage, reason=reason or project.stage_stay_reason,
                                    days_in_stage=stay, actor_id=actor.id))
        old = project.stage
        project.stage = to_stage
        project.stage_entered_at = utcnow()
        project.stage_stay_reason = None
        if to_stage == "won":
            project.probability = 100
            project.signed_at = date.today()
        elif to_stage == "lost":
            project.probability = 0
            project.lost_reason = reason
        project.version += 1
        project.updated_at = utcnow()
        audit.append("project_stage", actor, target=project, target_label=project.project_no,
                     detail={"from": old, "to": to_stage, "reason": reason, "days": stay})
    return project


def reassign_project(actor: User, project: Project, new_owner: User, reason: str = "") -> Project:
    """Gives a project to another rep (e.g. after the follow-up limit passed)."""
    with write_transaction():
        _locked(project)
        if new_owner.id == project.owner_id:
            raise OperationError("该项目已属于此业务员", "owner")
        if new_owner.role not in ("rep", "manager") or not new_owner.active:
            raise OperationError("只能转交给在职的业务员", "owner")
        old = project.owner
        db.session.add(ProjectEvent(project_id=project.id, kind="reassigned", from_value=old.username,
                                    to_value=new_owner.username, reason=reason or None, actor_id=actor.id))
        project.owner_id = new_owner.id
        project.team_id = new_owner.team_id
        project.version += 1
        project.updated_at = utcnow()
        audit.append("project_reassign", actor, target=project, target_label=project.project_no,
                     detail={"from": old.username, "to": new_owner.username, "reason": reason})
    return project


# ── targets ───────────────────────────────────────────────────────────────
def set_target(actor: User, *, year: int, month: int, user: User | None = None, team: Team | None = None,
               signed_amount: Decimal | int | str = 0, new_customers: int = 0) -> Target:
    """Sets one rep's or one team's monthly target (签约金额 万元, 新增客户数),
    replacing the one set before."""
    if (user is None) == (team is None):
        raise OperationError("请选择业务员或团队", "target")
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise OperationError("请选择有效的月份", "month")
    amount = Decimal(str(signed_amount or 0))
    if amount < 0 or new_customers < 0:
        raise OperationError("目标不能为负数", "signed_amount")
    with write_transaction():
        whose = sa.and_(Target.user_id == user.id, Target.team_id.is_(None)) if user else \
            sa.and_(Target.user_id.is_(None), Target.team_id == team.id)
        target = db.session.scalar(
            sa.select(Target).where(whose, Target.year == year, Target.month == month).with_for_update())
        before = None
        if target is None:
            target = Target(user_id=user.id if user else None, team_id=team.id if team else None,
                            year=year, month=month)
            db.session.add(target)
        else:
            before = [str(target.signed_amount), target.new_customers]
        target.signed_amount = amount
        target.new_customers = new_customers
        target.set_by_id = actor.id
        db.session.flush()
        audit.append("target_set", actor, target=target,
                     target_label=f"{user.username if user else team.name} {year}-{month:02d}",
                     detail={"before": before, "after": [str(amount), new_customers]})
    return target


# ── import ────────────────────────────────────────────────────────────────
def _raise_counter(number: str) -> None:
    """Moves a number series past an imported number, so it is never issued again."""
    from .excel import series_of
    series = series_of(number)
    if series:
        db.session.execute(sa.text(
            "INSERT INTO counters (key, value) VALUES (:k, :v) ON CONFLICT (key) DO UPDATE SET value = "
            "CASE WHEN counters.value < excluded.value THEN excluded.value ELSE counters.value END"),
            {"k": series[0], "v": series[1]})


def import_rows(actor: User, customers: list[dict], projects: list[dict]) -> tuple[int, int]:
    """Creates the customers and projects of a checked import (excel.plan_import)
    in one transaction: all of them, or none if anything fails."""
    now = utcnow()
    with write_transaction():
        created = {}
        for c in customers:
            if c["customer_no"]:
                if db.session.scalar(sa.select(Customer.id).where(Customer.customer_no == c["customer_no"])):
                    raise OperationError(f"客户编号 {c['customer_no']} 已被占用，请重新上传文件")
                _raise_counter(c["customer_no"])
            number = c["customer_no"] or f"C{next_number('customer'):05d}"
            owner = c["owner"]
            customer = Customer(customer_no=number, owner_id=owner.id, team_id=owner.team_id, profile={},
                                **{k: c.get(k) for k in CUSTOMER_COLUMNS})
            db.session.add(customer)
            db.session.flush()
            created[id(c)] = customer.id
            audit.append("customer_create", actor, target=customer, target_label=number, detail={"import": True})
        year = date.today().year
        for p in projects:
            if p["project_no"]:
                if db.session.scalar(sa.select(Project.id).where(Project.project_no == p["project_no"])):
                    raise OperationError(f"项目编号 {p['project_no']} 已被占用，请重新上传文件")
                _raise_counter(p["project_no"])
            number = p["project_no"] or f"XM-{year}-{next_number(f'project-{year}'):04d}"
            customer_id = created[id(p["customer"])] if isinstance(p["customer"], dict) else p["customer"]
            owner = p["owner"]
            project = Project(
                project_no=number, owner_id=owner.id, team_id=owner.team_id, customer_id=customer_id,
                stage=p["stage"], stage_entered_at=now, created_at=now, updated_at=now,
                **{k: p[k] for k in ("name", "product_line", "amount", "probability", "expected_sign_date",
                                     "competitors", "funding", "lead_source", "customer_class",
                                     "stage_stay_reason", "signed_at", "collected_amount", "collection_date")},
                lost_reason=p["lost_reason"] if p["stage"] == "lost" else None)
            db.session.add(project)
            db.session.flush()
            db.session.add(ProjectEvent(project_id=project.id, kind="created", to_value=p["stage"], actor_id=actor.id,
                                        at=now, reason="Excel 导入"))
            audit.append("project_create", actor, target=project, target_label=number, detail={"import": True})
        audit.append("data_import", actor, detail={"customers": len(customers), "projects": len(projects)})
    return len(customers), len(projects)
