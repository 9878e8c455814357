"""The receiving side (交接工作台): approved worklist sheets (FormSpec.worklist,
the 售前与工程实施交接单) land in the implementation team's worklist, where
the project manager marks implementation started and finished. The URL stays
/handover/, the department's name for it."""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from .. import access, operations
from ..extensions import db
from ..formkit import registry
from ..formkit.printable import printable
from ..models import Record
from ..records import last_approved, provider_record, user_names
from .common import render_page

bp = Blueprint("worklist", __name__, url_prefix="/handover")
STATUS_LABELS = {"received": "已接收", "started": "实施中", "finished": "已完成"}


def worklist_query(user, status: str = ""):
    """The worklist sheets in `user`'s worklist (SELECT of Record), narrowed to
    one implementation status (STATUS_LABELS key) when given; the home page
    counts the same query."""
    q = sa.select(Record).where(Record.sheet.in_(registry.worklist_keys()), Record.impl_status.is_not(None),
                                access.record_scope(user))  # the record's own rule, for everyone
    if status in STATUS_LABELS:
        q = q.where(Record.impl_status == status)
    return q


def worklist_counts(user) -> dict[str, int]:
    """{status: number of handovers} of `user`'s worklist, every status present."""
    sub = worklist_query(user).subquery()
    counts = dict(db.session.execute(sa.select(sub.c.impl_status, sa.func.count()).group_by(sub.c.impl_status)).all())
    return {status: counts.get(status, 0) for status in STATUS_LABELS}


@bp.get("/")
@login_required
def worklist():
    """The worklist sheets the user may open (the record's own access rule,
    for implementation staff as for everyone), each as last approved: a
    revision in sign-off is marked, never shown as the agreed scope and
    budget; with the project's sheets it reads source values from (合同评审记录)."""
    status = request.args.get("status", "")
    q = worklist_query(current_user, status)
    records = list(db.session.scalars(q.order_by(
        sa.case((Record.impl_status == "received", 0), (Record.impl_status == "started", 1), else_=2),
        Record.approved_at.desc())))
    linked, agreed = {}, {}
    for r in records:
        linked[r.id] = [p for p in (provider_record(r.project, spec.key) for spec in registry.providers().values())
                        if p is not None and access.can_view_record(current_user, p)]
        agreed[r.id] = _card(r)
    return render_page("worklist/index.html", records=records, linked=linked, agreed=agreed,
                       labels=STATUS_LABELS, status=status,
                       titles=[registry.get(key).title for key in registry.worklist_keys()], can_update=current_user.role == "implementation")


def _card(record: Record) -> tuple[list[dict], bool]:
    """(the fields the sheet's worklist card shows (FormSpec.worklist) as
    printed {'label', 'value'}, from its last approved content; whether a
    later revision is not yet approved)."""
    spec = registry.get(record.sheet)
    data, revising = last_approved(record)
    doc = printable(spec, {"data": data}, user_names(), paper=True)
    shown = set(spec.worklist)
    facts = [item for section in doc["sections"] for item in section["items"]
             if item["type"] == "field" and shown & set(item.get("keys") or [item["key"]])]
    return facts, revising


@bp.post("/<int:record_id>/status")
@login_required
def update(record_id: int):
    if current_user.role != "implementation":
        abort(403)
    record = access.get_visible_or_404(Record, record_id, current_user)
    if record.sheet not in registry.worklist_keys() or record.impl_status is None:
        abort(404)
    try:
        operations.set_implementation_status(current_user, record, request.form.get("status", ""))
        flash(f"{record.number}：{STATUS_LABELS[record.impl_status]}", "success")
    except operations.OperationError as e:
        flash(e.message, "error")
    return redirect(url_for(".worklist"))
