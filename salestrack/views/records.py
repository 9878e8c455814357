"""Sheets filed against projects (or, customer-level sheets, against a
customer): new, edit, view, inline checks, rows, attachments, and the
author's list. One set of routes and templates serves every sheet; the
sheet's definition (salestrack/forms/) decides the rest.

Where a sheet is filed is its `owner` here: the Project, or the Customer for
a sheet with FormSpec.filed_on == "customer"."""
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from .. import access, clock, formtokens, operations
from ..extensions import db
from ..formkit import registry
from ..formkit.builder import (build_form, confirm_implausible_amounts, errors as form_errors, form_data,
                               validate_field)
from ..formkit.diff import diff
from ..models import Attachment, Customer, Person, Project, Record
from ..process import RECORD_STATUSES
from ..people import offered_people, picker_people
from ..records import (CLEAR_INPUT, CLEAR_KEY, cleared_fields, prefill_values, customer_column_problems,
                       detect_upload_type, picker_users, record_view, sheets_by_group,
                       source_context, usable_attachment_ids, user_names, attachment_path, ALLOWED_UPLOADS,
                       withheld_labels,
                       UPLOAD_EXTENSIONS, clean_filename, extension_matches)
from ..formkit.printable import HIDDEN, printable
from .common import page_number, render_page

bp = Blueprint("records", __name__)
PAGE_SIZE = 50


def _customer_of(owner) -> Customer:
    return owner if isinstance(owner, Customer) else owner.customer


def _project_of(owner) -> Project | None:
    return owner if isinstance(owner, Project) else None


def _owner_of(record: Record):
    """Where the record is filed: its project, else its customer."""
    return record.project if record.project_id is not None else record.customer


def _spec_or_404(sheet: str):
    try:
        return registry.get(sheet)
    except KeyError:
        abort(404)


def _store_uploads(spec, formdata: MultiDict) -> dict[str, list[str]]:
    """Keeps every file sent with the sheet, even when the sheet itself does
    not validate, and adds their ids to the form's hidden list so nothing is
    lost on re-display. Returns upload errors by field."""
    problems: dict[str, list[str]] = {}
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    for field in (f for f in spec.fields() if f.kind == "files"):
        ids = [p for p in ",".join(formdata.getlist(field.key)).split(",") if p.strip()]
        for upload in request.files.getlist(field.key + "__upload"):
            if not upload or not upload.filename:
                continue
            content = upload.read(limit + 1)
            name = clean_filename(upload.filename)
            kind = detect_upload_type(content)
            if len(content) > limit:
                problems.setdefault(field.key, []).append(f"「{name}」超过 {limit // (1024 * 1024)} MB，未上传")
            elif not content:
                problems.setdefault(field.key, []).append(f"「{name}」是空文件，未上传")
            elif kind is None:
                allowed = "、".join(sorted(set(ALLOWED_UPLOADS.values())))
                problems.setdefault(field.key, []).append(f"「{name}」的文件类型不允许（允许：{allowed}）")
            elif not extension_matches(name, kind):
                endings = "、".join(sorted(UPLOAD_EXTENSIONS[kind]))
                problems.setdefault(field.key, []).append(
                    f"「{name}」的扩展名与文件内容（{ALLOWED_UPLOADS[kind]}）不符，未上传：应为 {endings}")
            else:
                try:
                    ids.append(str(operations.store_attachment(current_user, field.key, name, content, kind).id))
                except operations.OperationError as e:
                    problems.setdefault(field.key, []).append(f"「{name}」未上传：{e.message}")
        formdata.setlist(field.key, [",".join(ids)] if ids else [])
    return problems


def _form_for_post(spec, owner, record=None):
    formdata = MultiDict(request.form)
    upload_problems = _store_uploads(spec, formdata)
    draft = request.form.get("action", "draft") == "draft"
    form = build_form(spec, formdata=formdata, users=picker_users(current_user), draft=draft,
                      people=picker_people(_customer_of(owner).id))
    valid = form.validate()
    for key, messages in upload_problems.items():
        form[key].errors = list(form[key].errors) + messages
        valid = False
    for key, message in customer_column_problems(spec, form_data(spec, form)).items():
        form[key].errors = list(form[key].errors) + [message]
        valid = False
    limit = Decimal(str(current_app.config["MONEY_CONFIRM_ABOVE"]))
    if not confirm_implausible_amounts(spec, form, limit, request.form, stored=record.data if record else None):
        valid = False
    return form, valid


def _files_for(spec, form, record=None) -> dict[int, Attachment]:
    """Attachments named by the form's hidden lists, for showing them."""
    ids = []
    for field in (f for f in spec.fields() if f.kind == "files"):
        ids += form[field.key].data or []
    ids = usable_attachment_ids(current_user, record, ids)
    return {a.id: a for a in db.session.scalars(sa.select(Attachment).where(Attachment.id.in_(ids)))} if ids else {}


def _person_for(spec, customer):
    """The person of the customer a new person-master sheet is filed for
    (?person=<id>, posted back as _person); None for a new person or another
    sheet; 404 for someone else's person."""
    raw = request.values.get("_person") or request.args.get("person")
    if not spec.updates_person or not raw or customer is None:
        return None
    person = db.session.get(Person, int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if person is None or person.customer_id != customer.id:
        abort(404)
    return person


def _render_form(spec, form, owner, record=None, status=200, conflict=None, stale=False, version=None,
                 person=None):
    """The sheet's form page. `stale`: True/'files' for a stale POST shown
    again, 'kept' for input kept over a sign-in; `version`: the record version
    the user's page had (else the current one); `person`: whom a new
    person-master sheet is filed for."""
    if request.method == "POST":
        cleared = cleared_fields(spec, request.form.getlist(CLEAR_INPUT))
    else:
        cleared = (record.data or {}).get(CLEAR_KEY) or [] if record else []
    customer, project = _customer_of(owner), _project_of(owner)
    people = offered_people(customer) if spec.names_people() else []
    if record is not None and record.person_id:
        person = db.session.get(Person, record.person_id)
    elif record is None and person is None:
        person = _person_for(spec, customer)
    return render_page("records/edit.html", spec=spec, form=form, project=project, customer=customer, record=record,
                       cleared=cleared, people=people, filed_for=person,
                       can_add_people=access.can_edit_customer(current_user, customer),
                       sources=source_context(project, customer), files=_files_for(spec, form, record),
                       grade_thresholds=current_app.config["GRADE_THRESHOLDS"],
                       errors=form_errors(form), conflict=conflict, stale=stale, version=version), status


def _render_stale(spec, owner, record=None):
    """The posted form shown again, unchecked and unsaved, for a stale POST
    (formtokens): everything typed is in it; files chosen must be chosen again."""
    form = build_form(spec, formdata=MultiDict(request.form), users=picker_users(current_user), draft=True,
                      people=picker_people(_customer_of(owner).id))
    files_lost = any(f.filename for f in request.files.values())
    return _render_form(spec, form, owner, record, status=400, stale="files" if files_lost else True,
                        version=request.form.get("version"))


def _kept_form(spec, owner, record=None):
    """The form with what the user typed before he had to sign in again
    (operations.keep_form), unsaved; None when nothing was kept for it."""
    pairs = operations.take_kept_form(current_user, request.path)
    if pairs is None:
        return None
    form = build_form(spec, formdata=MultiDict(pairs), users=picker_users(current_user), draft=True,
                      people=picker_people(_customer_of(owner).id))
    return _render_form(spec, form, owner, record, stale="kept", version=dict(pairs).get("version"))


def _repeated(action: str):
    """The answer to a POST whose one-time token was used already: what the
    first one answered, nothing done twice. None when the token is unused."""
    used = formtokens.prior_use()
    return None if used is None else _after_duplicate(used.record_id, action)


def _after_duplicate(record_id: int | None, action: str):
    record = db.session.get(Record, record_id) if record_id else None
    if record is None:
        flash("此操作已完成（重复的提交已忽略）。", "info")
        return redirect(url_for("main.home"))
    return _after_save(record, action)


def _saved_data(spec, form, record=None) -> dict:
    data = form_data(spec, form, current_app.config["GRADE_THRESHOLDS"])
    cleared = cleared_fields(spec, request.form.getlist(CLEAR_INPUT))
    if cleared:
        data[CLEAR_KEY] = cleared
    for field in (f for f in spec.fields() if f.kind == "files"):
        data[field.key] = usable_attachment_ids(current_user, record, data.get(field.key)) or None
    return data


def _after_save(record, action: str):
    if action == "submit":
        return redirect(url_for("signoff.submit", record_id=record.id))
    flash(f"已保存 {record.number}" + ("（草稿）" if record.status == "draft" else ""), "success")
    return redirect(url_for(".show", record_id=record.id))


@bp.route("/projects/<int:project_id>/sheets/<sheet>/new", methods=["GET", "POST"])
@formtokens.keeps_form_over_login
@login_required
def new(project_id: int, sheet: str):
    project = access.get_visible_or_404(Project, project_id, current_user)
    spec = _spec_or_404(sheet)
    if spec.filed_on != "project":
        abort(404)
    if access.filing_right_lost(current_user, project):
        flash("本项目的立项权已取消（超过跟进期限未跟进），不能填写新表单；请联系片区经理转交或恢复。", "error")
        return redirect(url_for("projects.show", project_id=project.id))
    if not access.can_file_sheet(current_user, project):
        abort(403)
    return _new(spec, project)


@bp.route("/customers/<int:customer_id>/sheets/<sheet>/new", methods=["GET", "POST"])
@formtokens.keeps_form_over_login
@login_required
def new_for_customer(customer_id: int, sheet: str):
    """A customer-level sheet (营销活动表, 异常客户信息表), filed against the
    customer alone, opened from the customer page."""
    customer = access.get_visible_or_404(Customer, customer_id, current_user)
    spec = _spec_or_404(sheet)
    if spec.filed_on != "customer":
        abort(404)
    if not access.can_file_customer_sheet(current_user, customer):
        abort(403)
    return _new(spec, customer)


def _new(spec, owner):
    """The new-sheet page and its POST, for a project or a customer."""
    customer = _customer_of(owner)
    person = _person_for(spec, customer)
    if request.method == "GET":
        private = access.can_see_private_person(current_user, customer)
        prefilled = prefill_values(spec, _project_of(owner), person, private=private, customer=customer) or None
        return _kept_form(spec, owner) or _render_form(
            spec, build_form(spec, data=prefilled, users=picker_users(current_user)), owner, person=person)
    action = request.form.get("action", "draft")
    if formtokens.is_stale():
        return _render_stale(spec, owner)
    repeated = _repeated(action)
    if repeated is not None:
        return repeated
    form, valid = _form_for_post(spec, owner)
    if not valid:
        return _render_form(spec, form, owner, status=400, person=person)
    data = _saved_data(spec, form)
    try:
        record = operations.create_record(current_user, _project_of(owner), spec, data,
                                          attachment_ids=data_attachment_ids(spec, data), once=formtokens.posted(),
                                          customer=customer, person=person)
    except operations.AlreadyDone as e:
        return _after_duplicate(e.record_id, action)
    return _after_save(record, action)


@bp.route("/records/<int:record_id>")
@login_required
def show(record_id: int):
    return show_page(access.get_visible_or_404(Record, record_id, current_user))


def show_page(record: Record, status: int = 200, sign_error: str | None = None, sign_error_field: str | None = None,
              comment: str = ""):
    """The record page; after a refused signature, with the message next to
    the signing form and the typed comment kept."""
    private = access.may_read_private(current_user, record)
    return render_page("records/show.html", record=record, doc=record_view(record, private=private),
                       withheld=withheld_labels(record, private), withheld_text=HIDDEN,
                       spec=registry.get(record.sheet), can_edit=access.can_edit_record(current_user, record),
                       signoff=signoff_context(record), sign_error=sign_error, sign_error_field=sign_error_field,
                       comment=comment), status


def signoff_context(record: Record) -> dict:
    """What the record page shows of its sign-off."""
    from .. import workflow
    from ..formkit.canonical import content_hash
    return {"rounds": workflow.rounds(record), "acting_for": workflow.acting_for(current_user, record),
            "overdue": workflow.is_overdue(record) if record.status == "submitted" else False,
            "signed_this_round": any(s.round == record.round for s in record.signatures),
            "stuck": operations.stuck(record),
            "versions": {r.content_hash: r.number for r in record.revisions},
            "current_hash": content_hash(record.data or {})}


@bp.route("/records/<int:record_id>/edit", methods=["GET", "POST"])
@formtokens.keeps_form_over_login
@login_required
def edit(record_id: int):
    record = access.get_visible_or_404(Record, record_id, current_user)
    spec = registry.get(record.sheet)
    if not access.can_edit_record(current_user, record):
        abort(403)
    action = request.form.get("action", "draft")
    if request.method == "POST" and not formtokens.is_stale():
        repeated = _repeated(action)
        if repeated is not None:
            return repeated
    if record.status not in operations.EDITABLE_STATUSES:
        flash("表单正在审批中，不能修改；如需修改请先撤回。", "warning")
        return redirect(url_for(".show", record_id=record.id))
    owner = _owner_of(record)
    if request.method == "GET":
        return _kept_form(spec, owner, record) or _render_form(
            spec, build_form(spec, data=record.data, users=picker_users(current_user)), owner, record)
    if formtokens.is_stale():
        return _render_stale(spec, owner, record)
    form, valid = _form_for_post(spec, owner, record)
    if not valid:
        return _render_form(spec, form, owner, record, status=400)
    try:
        expected = int(request.form.get("version", "0") or 0)
    except ValueError:
        expected = 0
    data = _saved_data(spec, form, record)
    try:
        linked = {a.id for a in record.attachments}
        record = operations.save_record(current_user, record, spec, data, expected, attachment_ids=[
            i for i in data_attachment_ids(spec, data) if i not in linked], once=formtokens.posted())
    except operations.AlreadyDone as e:
        return _after_duplicate(e.record_id, action)
    except operations.ConflictError:
        return _conflict(spec, form, record, data)
    except operations.OperationError as e:
        flash(e.message, "error")
        return _render_form(spec, form, owner, record, status=409)
    return _after_save(record, action)


def data_attachment_ids(spec, data) -> list[int]:
    return [i for f in spec.fields() if f.kind == "files" for i in (data.get(f.key) or [])]


def _conflict(spec, form, record, mine: dict):
    """Both versions side by side; the user's values stay in the form, which
    now carries the current version so saving again is a conscious choice."""
    db.session.refresh(record)
    names = user_names()
    theirs = record_view(record)
    mine_doc = printable(spec, {"number": record.number, "sheet": record.sheet, "status": record.status,
                                "author_name": record.author.name, "created_at": record.created_at,
                                "data": {**record.data, **mine}}, names)
    changes = diff(spec, record.data, {**record.data, **mine}, names)
    last = record.revisions[-1] if record.revisions else None
    page, _ = _render_form(spec, form, _owner_of(record), record, conflict={
        "theirs": theirs, "mine": mine_doc, "changes": changes, "by": last.author.name if last else "",
        "at": last.at if last else None})
    return page, 409


@bp.post("/sheets/<sheet>/check")
@login_required
def check(sheet: str):
    """Inline validation of one input as the user leaves it (htmx)."""
    spec = _spec_or_404(sheet)
    name = request.headers.get("HX-Trigger-Name") or request.form.get("_field", "")
    try:
        messages = validate_field(spec, name, request.form.getlist(name), users=picker_users(current_user))
    except KeyError:
        abort(400)
    return f'<p class="error" id="{escape(name)}-error" aria-live="polite">{escape("；".join(messages))}</p>'


@bp.get("/sheets/<sheet>/rows/<table>")
@login_required
def row(sheet: str, table: str):
    """One more blank row for a repeating table (htmx), plus the add button
    pointing at the row after it."""
    spec = _spec_or_404(sheet)
    try:
        if not spec.table(table).add_rows:  # only the paper's preprinted rows
            abort(404)
    except KeyError:
        abort(404)
    index = request.args.get("index", 0, type=int) or 0
    if not 0 <= index < 10_000:
        abort(400)
    form = build_form(spec, users=picker_users(current_user), row_counts={table: index + 1})
    return render_template("records/_row.html", spec=spec, table=spec.table(table), field=form[table],
                           entry=form[table].entries[index], index=index, oob_add_button=True)


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    item = db.get_or_404(Attachment, attachment_id)
    if item.record_id is None:
        if item.uploaded_by_id != current_user.id:
            abort(404)
    else:
        access.get_visible_or_404(Record, item.record_id, current_user)
    operations.log_download(current_user, item, item.filename, item.sha256)
    return send_file(attachment_path(item), mimetype=item.content_type, as_attachment=True,
                     download_name=clean_filename(item.filename))


@bp.get("/records/")
@login_required
def mine():
    """The sheets I filed (managers and up may widen to all they can see)."""
    args = request.args
    q = sa.select(Record).outerjoin(Project, Project.id == Record.project_id).join(
        Customer, Customer.id == Record.customer_id)
    if args.get("who") == "all" and current_user.role not in ("rep",):
        q = q.where(access.record_scope(current_user))
    else:
        q = q.where(Record.author_id == current_user.id)
    if args.get("sheet"):
        q = q.where(Record.sheet == args["sheet"])
    if args.get("status"):
        q = q.where(Record.status == args["status"])
    try:
        q = q.where(Record.created_at >= clock.start_of_day(date.fromisoformat(args.get("from", ""))))
    except (ValueError, OverflowError):
        pass
    try:
        q = q.where(Record.created_at < clock.end_of_day(date.fromisoformat(args.get("to", ""))))
    except (ValueError, OverflowError):
        pass
    text = (args.get("q") or "").strip()[:100]
    if text:
        like = f"%{text}%"
        q = q.where(sa.or_(Record.number.ilike(like), Project.name.ilike(like), Customer.name.ilike(like),
                           Customer.customer_no.ilike(like)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
    page, pages = page_number(total, PAGE_SIZE)
    records = list(db.session.scalars(q.order_by(Record.updated_at.desc(), Record.id.desc())
                                      .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return render_page("records/mine.html", "records/_list.html", records=records, total=total, page=page,
                       pages=pages, args=args, specs=registry.all_specs(),
                       statuses=RECORD_STATUSES)


def project_sheets_context(project: Project) -> dict:
    """For the project page: filed sheets by toolkit group, sheets to offer."""
    from ..records import sheets_for_project
    records = [r for r in project.records if access.can_view_record(current_user, r)]
    first, rest = sheets_for_project(project)
    return {"sheet_groups": sheets_by_group(records), "offer_first": first, "offer_rest": rest,
            "can_file": access.can_file_sheet(current_user, project)}
