"""The audit trail for administrators and auditors: every event newest first,
filtered in place (action, person, target, dates), the hash chain verified
on demand, and the filtered list exported as CSV (itself an audited act)."""
import csv
import io
import json
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, render_template, request, send_file
from flask_login import current_user
from sqlalchemy.orm import selectinload

from .. import audit, clock, operations
from ..extensions import db, htmx
from ..models import AuditEvent, User
from ..safecell import safe_cell
from ..templating import local_time
from .common import as_day, as_id, page_number, render_page, roles_required

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE_SIZE = 50
ROLES = ("admin", "auditor")

ACTION_LABELS = {
    "login": "登录", "logout": "退出", "login_failed": "登录失败",
    "create": "创建", "edit": "修改", "submit": "提交", "sign": "签署", "approve": "同意", "return": "退回",
    "withdraw": "撤回", "discard": "删除草稿", "remind": "催办", "delegate": "委托代签", "export": "导出", "download": "下载",
    "upload": "上传", "delegate_revoke": "撤销委托", "reassign": "转交签署", "archive": "归档", "implementation": "实施进度",
    "project_create": "新建项目", "project_update": "修改项目", "project_stage": "项目阶段变更",
    "project_reassign": "项目转交", "class_accept": "确认客户分类", "project_node": "项目跟踪节点",
    "instalment_add": "添加回款计划", "instalment_update": "修改回款计划", "instalment_delete": "删除回款计划",
    "customer_create": "新建客户", "customer_update": "修改客户", "customer_merge": "合并客户",
    "user_create": "新建用户", "user_update": "修改用户", "password_set": "重设密码",  # nosec B105 # an event label
    "team_create": "新建团队", "team_update": "修改团队",
    "person_create": "新建联系人", "person_update": "修改联系人", "data_import": "Excel 导入",
    "password_change": "修改密码", "target_set": "设定考核目标", "upload_expired": "清理未提交的附件",  # nosec B105
    "audit_rekey": "更换审计密钥", "filing_right_lost": "取消立项权", "filing_right_restored": "恢复立项权",
    "calendar_feed": "生成日程订阅链接", "calendar_feed_revoke": "停用日程订阅链接",
    "escalate": "超期升级",
}
TARGET_LABELS = {
    "user": "用户", "team": "团队", "customer": "客户", "project": "项目", "record": "表单",
    "attachment": "附件", "signature": "签名", "delegation": "委托", "archivedpdf": "归档文件",
    "person": "联系人", "instalment": "回款计划", "revision": "修订", "target": "考核目标",
    "customerchange": "客户信息修改", "notification": "通知", "projectevent": "项目记录", "projectnode": "项目节点",
}
FILTERS = ("action", "actor", "type", "q", "from", "to")


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def target_type_label(target_type: str | None) -> str:
    return TARGET_LABELS.get(target_type or "", target_type or "")


def actor_text(ev: AuditEvent) -> str:
    """"张三", or "李四 代 张三" when the act was done on someone's behalf."""
    actor = ev.actor.name if ev.actor else "—"
    return f"{actor} 代 {ev.on_behalf_of.name}" if ev.on_behalf_of else actor


def _utc(day: date) -> datetime:
    """Local midnight of `day` as the naive UTC time stored in the trail."""
    return clock.start_of_day(day)


def _day(value: str | None) -> date | None:
    return as_day(value)


def detail_text(detail: dict) -> str:
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, indent=1, default=str)


def _filtered(args):
    q = sa.select(AuditEvent)
    if args.get("action"):
        q = q.where(AuditEvent.action == args["action"])
    actor_id = as_id(args.get("actor"))
    if actor_id is not None:
        q = q.where(sa.or_(AuditEvent.actor_id == actor_id, AuditEvent.on_behalf_of_id == actor_id))
    if args.get("type"):
        q = q.where(AuditEvent.target_type == args["type"])
    text = (args.get("q") or "").strip()[:100]
    if text:
        q = q.where(AuditEvent.target_label.icontains(text, autoescape=True))
    if start := _day(args.get("from")):
        q = q.where(AuditEvent.at >= _utc(start))
    if end := _day(args.get("to")):
        q = q.where(AuditEvent.at < _utc(end + timedelta(days=1)))
    return q


def _active_filters(args) -> dict:
    return {k: args[k] for k in FILTERS if args.get(k)}


def _newest_first(q):
    return q.order_by(AuditEvent.id.desc()).options(
        selectinload(AuditEvent.actor), selectinload(AuditEvent.on_behalf_of))


def _page_context(args, broken_id: int | None = None) -> dict:
    q = _filtered(args)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
    page, pages = page_number(total, PAGE_SIZE)
    events = list(db.session.scalars(_newest_first(q).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return dict(events=events, total=total, page=page, pages=pages,
                args=_active_filters(args), broken_id=broken_id, **_labels())


def _labels() -> dict:
    return dict(action_label=action_label, target_type_label=target_type_label, actor_text=actor_text,
                detail_text=detail_text)


def _choices() -> dict:
    """What the filter lists offer: the actions, people and target types in the trail."""
    actions = db.session.scalars(sa.select(AuditEvent.action).distinct())
    types = db.session.scalars(sa.select(AuditEvent.target_type).where(AuditEvent.target_type.is_not(None)).distinct())
    people = sa.union(sa.select(AuditEvent.actor_id), sa.select(AuditEvent.on_behalf_of_id))
    actors = db.session.scalars(sa.select(User).where(User.id.in_(people)).order_by(User.name))
    order = {action: n for n, action in enumerate(ACTION_LABELS)}  # the mapping's order, unknown ones last
    return dict(actions=[(a, action_label(a)) for a in sorted(actions, key=lambda a: (order.get(a, len(order)), a))],
                target_types=sorted((t, target_type_label(t)) for t in types), actors=list(actors))


@bp.route("/")
@roles_required(*ROLES)
def index():
    return render_page("audit/index.html", "audit/_rows.html", **_page_context(request.args), **_choices())


@bp.post("/verify")
@roles_required(*ROLES)
def verify():
    """Walks the whole chain; reports the count, or the first broken event."""
    count, problem = audit.verify_chain()
    broken = db.session.get(AuditEvent, problem.event_id) if problem else None
    result = dict(count=count, problem=problem, broken=broken, **_labels())
    if htmx:
        return render_template("audit/_verify.html", **result)
    return render_page("audit/index.html", **_page_context(request.args, broken.id if broken else None),
                       **_choices(), verify_result=result)


CSV_COLUMNS = ("编号", "时间", "操作人", "代表", "操作", "操作代码", "对象类型", "对象ID", "对象", "IP",
               "浏览器", "详情", "内容哈希", "事件哈希")


@bp.route("/export.csv")
@roles_required(*ROLES)
def export():
    """The filtered trail as CSV, UTF-8 with BOM so Excel reads the Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for ev in db.session.scalars(_newest_first(_filtered(request.args))):
        writer.writerow([safe_cell(v) for v in (
            ev.id, local_time(ev.at, "%Y-%m-%d %H:%M:%S"), ev.actor.name if ev.actor else "",
            ev.on_behalf_of.name if ev.on_behalf_of else "", action_label(ev.action), ev.action,
            target_type_label(ev.target_type), ev.target_id, ev.target_label, ev.ip, ev.user_agent,
            json.dumps(ev.detail, ensure_ascii=False, sort_keys=True) if ev.detail else "",
            ev.content_hash, ev.hash)])
        rows += 1
    operations.log_export(current_user, "审计日志", {"filters": _active_filters(request.args), "rows": rows})
    data = io.BytesIO(out.getvalue().encode("utf-8-sig"))
    return send_file(data, mimetype="text/csv; charset=utf-8", as_attachment=True,
                     download_name=f"审计日志-{clock.stamp()}.csv")
