"""The project's history in the department's words: field labels instead of
column names, people's names instead of account names (issue 10, finding 10).

ProjectEvent rows keep stable identifiers (account names in reassignments;
since this module, labelled old → new values for edits). Rows written
before keep column keys ("probability、customer_class"); they are read
through the same labels here, so old and new history read alike."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from .extensions import db
from .models import Customer, ProjectEvent, User
from .process import stage_label

# The project's fields as the project form and the 项目 sheet label them.
PROJECT_FIELD_LABELS = {
    "name": "项目名称", "customer_id": "客户", "product_line": "应用类型/所属产品",
    "amount": "预计合同金额", "probability": "签约概率", "expected_sign_date": "预计签约日期",
    "competitors": "主要竞争对手", "funding": "项目资金来源及预算", "lead_source": "客户来源",
    "customer_class": "客户分类", "stage_stay_reason": "阶段停留原因", "owner_id": "业务负责人",
    "stage": "阶段", "signed_at": "签约日期", "collected_amount": "已回款", "collection_date": "回款日期",
}


def field_value_text(key: str, value) -> str:
    """A project field's stored value as the project page shows it (amounts in
    万元, probability in %, class as 'B 类', customer by name); '—' when empty."""
    if value is None or value == "":
        return "—"
    if key in ("amount", "collected_amount"):
        try:
            return f"{Decimal(str(value)):,.2f} 万元"
        except (InvalidOperation, ValueError):
            return str(value)
    if key == "probability":
        return f"{value}%"
    if key == "customer_class":
        return f"{value} 类"
    if key == "stage":
        return stage_label(str(value))
    if key == "customer_id":
        try:
            customer = db.session.get(Customer, int(value))
        except (TypeError, ValueError):
            customer = None
        return customer.name if customer else str(value)
    if key == "owner_id":
        try:
            user = db.session.get(User, int(value))
        except (TypeError, ValueError):
            user = None
        return user.name if user else str(value)
    return str(value)


def edit_summary(changed: dict[str, list]) -> str:
    """What a project edit changed, for the timeline: '签约概率：20% → 50%；客户分类：C 类 → B 类'
    (`changed`: {column key: [old, new]}); at most 500 characters (ProjectEvent.reason)."""
    parts = [f"{PROJECT_FIELD_LABELS.get(k, k)}：{field_value_text(k, old)} → {field_value_text(k, new)}"
             for k, (old, new) in changed.items()]
    text = "；".join(parts)
    if len(text) > 500:
        text = "、".join(PROJECT_FIELD_LABELS.get(k, k) for k in changed)[:500]
    return text


def _edit_text(reason: str | None) -> str:
    """An edit event's text: rows written before labels were stored hold
    column keys joined by '、'; those are shown by their labels."""
    if not reason:
        return ""
    keys = reason.split("、")
    if all(k in PROJECT_FIELD_LABELS for k in keys):
        return "、".join(PROJECT_FIELD_LABELS[k] for k in keys)
    return reason


def timeline(project) -> list[dict]:
    """The project page's 阶段推进 entries, oldest first: {'at' (naive UTC),
    'kind', 'text', 'actor' (a person's name or 系统), 'reason', 'days_in_stage',
    and for a stage change 'from' and 'to' (stage labels)}."""
    events = list(db.session.scalars(sa.select(ProjectEvent).where(ProjectEvent.project_id == project.id)
                                     .order_by(ProjectEvent.at, ProjectEvent.id)))
    accounts = {v for ev in events if ev.kind == "reassigned" for v in (ev.from_value, ev.to_value) if v}
    names = dict(db.session.execute(sa.select(User.username, User.name).where(User.username.in_(accounts))).all()) \
        if accounts else {}
    out = []
    for ev in events:
        reason = ev.reason
        if ev.kind == "created":
            text = "创建项目"
        elif ev.kind == "stage":
            text = f"{stage_label(ev.from_value)} → {stage_label(ev.to_value)}"
        elif ev.kind == "reassigned":
            text = f"转交：{names.get(ev.from_value, ev.from_value)} → {names.get(ev.to_value, ev.to_value)}"
        elif ev.kind == "right_lost":
            text = "取消立项权"
        elif ev.kind == "right_restored":
            text = "恢复立项权"
        else:
            text, reason = f"修改：{_edit_text(ev.reason)}", None
        out.append({"at": ev.at, "kind": ev.kind, "text": text, "actor": ev.actor.name if ev.actor else "系统",
                    "from": stage_label(ev.from_value) if ev.kind == "stage" else None,
                    "to": stage_label(ev.to_value) if ev.kind == "stage" else None,
                    "reason": reason, "days_in_stage": ev.days_in_stage})
    return out
