"""Online sign-off: submitting a sheet, the inbox, signing or returning in
place, withdrawing, reminders, delegation, and the sheet's PDF."""
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import access, clock, formtokens, operations, workflow
from ..extensions import db
from ..formkit import registry
from ..formkit.builder import build_form
from ..models import Delegation, Record, User
from ..records import picker_users
from ..templating import sheet_title
from .common import as_id, render_page, roles_required

bp = Blueprint("signoff", __name__)


def _record(record_id: int) -> tuple[Record, object]:
    record = access.get_visible_or_404(Record, record_id, current_user)
    return record, registry.get(record.sheet)


def _chosen_from_form(choices) -> dict[str, int]:
    out = {}
    for choice in choices:
        value = as_id(request.form.get(f"signer_{choice.key}"))
        if value is not None:
            out[choice.key] = value
    return out


@bp.route("/records/<int:record_id>/submit", methods=["GET", "POST"])
@formtokens.shows_stale_form
@login_required
def submit(record_id: int):
    """Confirms the chain (and asks for the people the author picks), then
    submits. A sheet that fails full validation goes back to its form."""
    record, spec = _record(record_id)
    if record.author_id != current_user.id:
        abort(403)
    if request.method == "POST" and formtokens.prior_use() is not None:
        flash(f"已提交 {record.number}（重复的提交已忽略）。", "info")
        return redirect(url_for("records.show", record_id=record.id))
    if record.status not in ("draft", "returned"):
        flash("此表单已在审批中或已批准。", "warning")
        return redirect(url_for("records.show", record_id=record.id))
    complete = _complete(spec, record)
    choices = workflow.choices(spec, current_user)
    error, field = None, None
    if request.method == "POST" and formtokens.is_stale():
        error = formtokens.STALE_MESSAGE
    elif request.method == "POST" and complete:
        try:
            operations.submit_record(current_user, record, spec, _chosen_from_form(choices),
                                     once=formtokens.posted())
            flash(f"已提交 {record.number}，等待 {record.waiting_for.name} 审批。", "success")
            return redirect(url_for("records.show", record_id=record.id))
        except operations.AlreadyDone:
            flash(f"已提交 {record.number}（重复的提交已忽略）。", "info")
            return redirect(url_for("records.show", record_id=record.id))
        except operations.OperationError as e:
            error, field = e.message, e.field
    preview = None
    defaults = _default_choices(record, choices)
    # Names the signers of the fixed slots (the page shows pickers for the
    # chosen ones, so any candidate stands in for them here).
    # (different people where there are enough: one person holds one slot).
    stand_ins, used = {}, set()
    for c in choices:
        free = [uid for uid, _ in c.candidates if uid not in used] or [uid for uid, _ in c.candidates]
        if defaults.get(c.key) or free:
            stand_ins[c.key] = defaults.get(c.key) or free[0]
            used.add(stand_ins[c.key])
    try:
        preview = workflow.resolve_chain(spec, current_user, record.data or {}, stand_ins, project=record.project)
    except workflow.ChainError as e:
        if not choices:
            error = error or e.message
    return render_page("signoff/submit.html", record=record, spec=spec, choices=choices, preview=preview,
                       complete=complete, error=error, error_field=field, defaults=defaults), 400 if error else 200


def _complete(spec, record) -> bool:
    """Whether the stored sheet passes the strict (non-draft) checks."""
    from werkzeug.datastructures import MultiDict
    from ..formkit.kinds import kind_of
    formdata = MultiDict()
    for item in spec.items():
        value = (record.data or {}).get(item.key)
        if getattr(item, "columns", None) is not None:
            for i, row in enumerate(value or []):
                for col in item.columns:
                    formdata.add(f"{item.key}-{i}-{col.key}", kind_of(col).to_input(row.get(col.key)))
        elif not item.source:
            _add_value(formdata, item, value)
    return build_form(spec, formdata=formdata, users=picker_users(current_user), request_form=False).validate()


def _add_value(formdata, item, value):
    from ..formkit.kinds import kind_of
    if item.kind == "choice" and item.write_in and isinstance(value, str) and value not in item.choices:
        formdata.add(item.key + "_other", value)  # a write-in
    elif item.kind == "checks" and isinstance(value, dict):
        for v in value.get("values") or []:
            formdata.add(item.key, v)
        if value.get("other"):
            formdata.add(item.key + "_other", value["other"])
    else:
        formdata.add(item.key, kind_of(item).to_input(value))


def _default_choices(record, choices) -> dict[str, int]:
    """Pre-selects the project's owner for 客户经理 when he is not the author."""
    out = {}
    for choice in choices:
        if choice.role == "rep" and record.project is not None and record.project.owner_id != current_user.id:
            out[choice.key] = record.project.owner_id
    return out


@bp.post("/records/<int:record_id>/sign")
@formtokens.shows_stale_form
@login_required
def sign(record_id: int):
    """同意 or 退回 by the current slot's signer, from the inbox (htmx, the
    row swaps in place) or the record page. The form carries the record
    version the signer was shown: a sheet changed since is not signed, and
    its current content is shown instead."""
    record, spec = _record(record_id)
    decision = request.form.get("decision", "")
    comment = request.form.get("comment", "")
    done_message = "已退回" if decision == "returned" else "已签署"
    field = None
    if formtokens.is_stale():
        message, ok = formtokens.STALE_MESSAGE, False
    else:
        try:
            operations.sign_record(current_user, record, spec, decision, comment,
                                   expected_slot=_int(request.form.get("slot")),
                                   expected_version=_int(request.form.get("version")) or -1,
                                   once=formtokens.posted())
            message, ok = done_message, True
        except operations.AlreadyDone:
            message, ok = done_message, True
        except operations.StaleError as e:
            flash(e.message, "error")
            return _to_record(record)
        except operations.OperationError as e:
            message, ok, field = e.message, False, e.field
    db.session.refresh(record)
    if request.headers.get("HX-Request"):
        return render_page("signoff/_inbox_row.html", r=record, done=ok, message=message, comment=comment,
                           error_field=field, overdue=workflow.is_overdue(record)), 200 if ok else 409
    if ok or workflow.acting_for(current_user, record) is None:  # no signing form to show the message at
        flash(message, "success" if ok else "error")
        return redirect(url_for("records.show", record_id=record.id))
    from .records import show_page
    return show_page(record, status=409, sign_error=message, sign_error_field=field, comment=comment)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _to_record(record):
    """To the record page: a redirect, or for htmx a full-page navigation."""
    url = url_for("records.show", record_id=record.id)
    if request.headers.get("HX-Request"):
        return Response(status=204, headers={"HX-Redirect": url})
    return redirect(url)


@bp.post("/records/<int:record_id>/withdraw")
@login_required
def withdraw(record_id: int):
    record, _ = _record(record_id)
    try:
        operations.withdraw_record(current_user, record)
        flash("已撤回，表单回到草稿状态。", "success")
    except operations.OperationError as e:
        flash(e.message, "error")
    return redirect(url_for("records.show", record_id=record.id))


@bp.post("/records/<int:record_id>/discard")
@login_required
def discard(record_id: int):
    record, _ = _record(record_id)
    back = url_for("projects.show", project_id=record.project_id) if record.project_id else url_for("records.mine")
    try:
        number = operations.discard_draft(current_user, record)
    except operations.OperationError as e:
        flash(e.message, "error")
        return redirect(url_for("records.show", record_id=record_id))
    flash(f"已删除草稿 {number}。", "success")
    return redirect(back)


@bp.post("/records/<int:record_id>/remind")
@login_required
def remind(record_id: int):
    record, spec = _record(record_id)
    try:
        operations.remind_signer(current_user, record, spec)
        flash(f"已向 {record.waiting_for.name} 发送催办。", "success")
    except operations.OperationError as e:
        flash(e.message, "error")
    return redirect(url_for("records.show", record_id=record.id))


@bp.get("/inbox/")
@login_required
def inbox():
    records = list(db.session.scalars(workflow.inbox_query(current_user).order_by(Record.waiting_since)))
    return render_page("signoff/inbox.html", records=records, overdue={r.id for r in records if workflow.is_overdue(r)},
                       limit=current_app.config["SIGNOFF_OVERDUE_WORKING_DAYS"])


@bp.route("/delegations/", methods=["GET", "POST"])
@login_required
def delegations():
    """代签: name a deputy for a date range; see who deputises for you and for whom you deputise."""
    error, field = None, None
    if request.method == "POST":
        deputy_id = as_id(request.form.get("deputy"))
        deputy = db.session.get(User, deputy_id) if deputy_id else None
        try:
            starts = date.fromisoformat(request.form.get("starts_on", ""))
            ends = date.fromisoformat(request.form.get("ends_on", ""))
        except ValueError:
            error = "请填写有效的开始和结束日期"
        else:
            if deputy is None:
                error, field = "请选择被委托人", "deputy"
            else:
                try:
                    operations.delegate(current_user, deputy, starts, ends)
                    flash(f"已委托 {deputy.name} 在 {starts} 至 {ends} 期间代签。", "success")
                    return redirect(url_for(".delegations"))
                except operations.OperationError as e:
                    error, field = e.message, e.field
    mine = list(db.session.scalars(sa.select(Delegation).where(Delegation.principal_id == current_user.id)
                                   .order_by(Delegation.starts_on.desc())))
    for_others = list(db.session.scalars(sa.select(Delegation).where(Delegation.deputy_id == current_user.id)
                                         .order_by(Delegation.starts_on.desc())))
    # Only those the server accepts (workflow.deputy_refusal): never admin,
    # clerk, auditor or inactive people (issue 15 finding 1).
    people = [u for u in workflow.candidates(workflow.stand_in_roles(current_user)) if u.id != current_user.id]
    return render_page("signoff/delegations.html", mine=mine, for_others=for_others, people=people, error=error,
                       error_field=field, form=request.form, today=clock.today()), 400 if error else 200


@bp.post("/delegations/<int:delegation_id>/revoke")
@login_required
def revoke(delegation_id: int):
    item = db.session.get(Delegation, delegation_id)
    if item is None or item.principal_id != current_user.id:
        abort(404)
    operations.revoke_delegation(current_user, item)
    flash("已撤销委托。", "success")
    return redirect(url_for(".delegations"))


@bp.get("/records/<int:record_id>/pdf")
@login_required
def record_pdf(record_id: int):
    """The sheet as PDF: the archived, sealed bytes once approved (never a
    re-render); a watermarked preview before. ?version=<id> serves an earlier
    archived version of the same record. ?download=1 (下载 PDF) sends it as a
    file named like 电话记录表_DH-2026-0001.pdf; otherwise (预览) it opens inline."""
    from ..models import ArchivedPdf
    from ..printing import archive_pending, archived_bytes, preview_pdf
    record, _ = _record(record_id)
    if archive_pending(record) and "version" not in request.args:
        flash("此表单已审批通过，签章 PDF 正在归档，稍后即可下载。", "info")
        return redirect(url_for("records.show", record_id=record.id))
    private = access.may_read_private(current_user, record)
    if not private and not registry.get(record.sheet).private_fields():
        private = True  # nothing private on this sheet
    if "version" in request.args and not private:
        # The sealed file holds a person's private details; it cannot be
        # withheld from it without breaking the seal (paper-forms-toolkit.md, Master data ⚠).
        return render_page("errors/error.html", code=403, title="不能下载此文件",
                           message="此表含联系人的私人信息（家庭、生日、政治面貌等），签章文件仅客户所属团队、"
                                   "其团队经理及以上可下载；预览 PDF 不含这些信息。"), 403
    if "version" in request.args:
        version = as_id(request.args["version"])
        archived = db.session.get(ArchivedPdf, version) if version is not None else None
        if archived is None or archived.record_id != record.id:
            abort(404)
        body = archived_bytes(record, archived.sha256)
        operations.log_download(current_user, record, record.number, archived.sha256)
        suffix = f"_第{archived.revision_number}版"
    elif record.status == "approved" and record.pdf_sha256 and private:
        body = archived_bytes(record)
        operations.log_download(current_user, record, record.number, record.pdf_sha256)
        suffix = ""
    else:
        body = preview_pdf(record, private=private)
        suffix = "_预览"
    name = f"{sheet_title(record.sheet)}_{record.number}{suffix}.pdf"
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": content_disposition(name, record.number + ".pdf",
                                                   attachment=request.args.get("download") == "1")})


@bp.get("/records/<int:record_id>/pdf-links")
@login_required
def pdf_links(record_id: int):
    """The record page's PDF links as a fragment: 归档中 (asking again) while
    the sealed PDF is being made, then 预览 PDF and 下载 PDF."""
    record, _ = _record(record_id)
    return render_template("signoff/_pdf_links.html", record=record, fresh_status=True)


def content_disposition(name: str, ascii_name: str, *, attachment: bool) -> str:
    """A Content-Disposition header: the Chinese file name per RFC 5987
    (filename*=UTF-8''…) with an ASCII name for old clients; ``attachment``
    makes browsers save it, else they show it inline."""
    from urllib.parse import quote
    return f"{'attachment' if attachment else 'inline'}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


# ── 转交: an admin or director gives a waiting slot to someone else ───────
REASSIGN_ROLES = ("admin", "director")


@bp.get("/signoff/waiting")
@roles_required(*REASSIGN_ROLES)
def waiting():
    """待签环节: every sheet in sign-off with whom it waits for, those stuck on
    a deactivated signer first, each with a link to 转交."""
    records = list(db.session.scalars(sa.select(Record).where(Record.status == "submitted")
                                      .order_by(Record.waiting_since).limit(500)))
    stuck = {r.id for r in records if operations.stuck(r)}
    records.sort(key=lambda r: r.id not in stuck)
    return render_page("signoff/waiting.html", records=records, stuck=stuck)


def _reassign_candidates(record, spec) -> list[User]:
    """Who the slot the record waits at may go to: those allowed to hold it
    (workflow.candidates of its roles), not the author, not its present
    signer, holding no other slot of the round (unless the sheet allows it)."""
    entry = record.chain[record.current_slot]
    slot = next((s for s in spec.slots if s.key == entry["key"]), None)
    if slot is None:
        return []
    others = {e["signer_id"] for i, e in enumerate(record.chain) if i != record.current_slot}
    return [u for u in workflow.candidates(workflow.slot_roles(spec, slot))
            if u.id not in (record.author_id, entry["signer_id"])
            and (spec.signers_may_repeat or u.id not in others)]


@bp.route("/records/<int:record_id>/reassign", methods=["GET", "POST"])
@roles_required(*REASSIGN_ROLES)
def reassign(record_id: int):
    """转交 in two steps: pick the new signer and give a reason, then confirm
    the summary (operations.reassign_slot)."""
    record = db.get_or_404(Record, record_id)
    spec = registry.get(record.sheet)
    if record.status != "submitted" or record.current_slot is None:
        # Only a sheet in sign-off is open to 转交; others to whoever may open the record.
        if not access.can_view_record(current_user, record):
            abort(404)
        return render_page("signoff/reassign.html", record=record, spec=spec, people=[], error=None,
                           error_field=None, new=None, reason="", confirming=False, stuck=False)
    people = _reassign_candidates(record, spec)
    error, field, new = None, None, None
    reason = (request.form.get("reason") or "").strip()[:200]
    if request.method == "POST":
        new_id = as_id(request.form.get("signer"))
        new = db.session.get(User, new_id) if new_id else None
        if new is None:
            error, field = "请选择转交给谁", "signer"
        elif not reason:
            error, field = "请填写转交原因", "reason"
        elif request.form.get("confirmed") == "y":
            try:
                operations.reassign_slot(current_user, record, new, reason, once=formtokens.posted())
                flash(f"已将 {record.number} 的「{record.chain[record.current_slot]['label']}」转交给 {new.name}。",
                      "success")
                return redirect(url_for(".waiting"))
            except operations.AlreadyDone:
                return redirect(url_for(".waiting"))
            except operations.OperationError as e:
                error, field = e.message, e.field or "signer"
        elif new.id not in {u.id for u in people}:
            entry = record.chain[record.current_slot]
            slot = next((s for s in spec.slots if s.key == entry["key"]), None)
            roles = workflow.slot_roles(spec, slot) if slot is not None else ()
            error = (workflow.refusal(new, roles, f"签署「{entry['label']}」")
                     or f"不能转交给 {new.name}：填写人本人、当前签署人或本轮其他环节的签署人不能接手此环节")
            field = "signer"
    confirming = request.method == "POST" and error is None
    return render_page("signoff/reassign.html", record=record, spec=spec, people=people, error=error,
                       error_field=field, new=new, reason=reason, confirming=confirming,
                       stuck=operations.stuck(record)), 400 if error else 200
