"""Jinja filters and globals shared by every page."""
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import get_locale

from .process import RECORD_STATUS_LABELS, ROLE_LABELS, STAGE_BY_CODE, stage_label


def money(value) -> str:
    """万元 with thousands separators and two decimals: 1,234.50."""
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError):
        return str(value)


def local_time(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC timestamp (or an ISO timestamp with offset) in the department's time zone."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):  # only an ISO timestamp with its offset (a seal's signing time) is converted
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        if parsed.tzinfo is None:
            return value
        value = parsed
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(value, datetime):
        from . import clock
        return clock.to_local(value).strftime(fmt)
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else str(value)


def field_text(field, value) -> str:
    """A stored value of a form-engine Field as the reader sees it."""
    from .formkit.kinds import display
    return display(field, value)


def init_app(app):
    app.jinja_env.filters.update(money=money, local_time=local_time, stage_label=stage_label,
                                 role_label=lambda r: ROLE_LABELS.get(r, r))
    app.jinja_env.globals.update(STAGE_BY_CODE=STAGE_BY_CODE, record_url=record_url, sheet_title=sheet_title,
                                 status_label=lambda s: RECORD_STATUS_LABELS.get(s, s), field_text=field_text,
                                 filed_under=filed_under)

    @app.context_processor
    def common():
        return {"nav_items": nav_items, "current_locale": str(get_locale() or "zh_Hans_CN")}


def record_url(record) -> str:
    from flask import url_for
    return url_for("records.show", record_id=record.id)


CUSTOMER_FILE = "客户档案"  # where a customer-level sheet is filed, as lists name it


def filed_under(record) -> str:
    """What a list names as a record's place: its project's name, or
    '<customer>（客户档案）' for a customer-level sheet."""
    if record.project is not None:
        return record.project.name
    return f"{record.customer.name}（{CUSTOMER_FILE}）"


def sheet_title(key: str) -> str:
    from .formkit import registry
    try:
        return registry.get(key).title
    except KeyError:
        return key


# The navigation beyond 首页/项目/客户: (endpoint, label, roles or None for
# everyone but admin, badge count function). An entry shows only when its
# blueprint is registered and the user's role is listed.
NAV = (
    ("records.mine", "我的表单", ("rep", "manager", "director", "gm"), None),
    ("signoff.inbox", "待我审批", ("rep", "manager", "director", "gm", "hr", "implementation"), "inbox"),
    ("worklist.worklist", "交接工作台", ("implementation", "rep", "manager", "director", "gm"), None),
    ("funnel.index", "销售漏斗", ("rep", "manager", "director", "gm", "clerk", "auditor"), None),
    ("reports.index", "报表", ("rep", "manager", "director", "gm", "clerk", "auditor"), None),
    ("followups.index", "跟进提醒", ("rep", "manager", "director", "gm"), None),
    ("agenda.week", "我的日程", ("rep", "manager", "director", "gm"), None),
    ("archive.export", "审计导出", ("clerk", "auditor"), None),
    ("archive.verify", "文件验证", None, None),
    ("audit.index", "审计日志", ("admin", "auditor"), None),
    ("notifications.index", "通知", None, "notifications"),
)


def nav_items() -> list[dict]:
    from flask import url_for
    from flask_login import current_user
    if not current_user.is_authenticated:
        return []
    counts = {"inbox": _inbox_count, "notifications": _unread_count}
    items = []
    for endpoint, label, roles, count in NAV:
        if endpoint not in current_app.view_functions:
            continue
        if (roles is None and current_user.role == "admin" and endpoint not in ("archive.verify",)) or \
                (roles is not None and current_user.role not in roles):
            continue
        items.append({"url": url_for(endpoint), "label": label,
                      "count": counts[count](current_user) if count else 0})
    return items


def _inbox_count(user) -> int:
    import sqlalchemy as sa
    from .extensions import db
    from .workflow import inbox_query
    return db.session.scalar(sa.select(sa.func.count()).select_from(inbox_query(user).subquery())) or 0


def _unread_count(user) -> int:
    import sqlalchemy as sa
    from .extensions import db
    from .models import Notification
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0
