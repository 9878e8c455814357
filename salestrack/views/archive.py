"""文件验证 and 审计导出: is this PDF (or this number) a genuine archived
document, sealed and unchanged, and who signed it; and the auditors' zip of
the approved PDFs with a manifest."""
import tempfile

import sqlalchemy as sa
from flask import Blueprint, current_app, redirect, request, send_file, url_for
from flask_login import current_user, login_required

from .. import access, archive
from ..extensions import db
from ..formkit import registry
from ..models import Record, Team
from .common import as_day, render_page, roles_required

bp = Blueprint("archive", __name__)


@bp.route("/verify/", methods=["GET", "POST"])
@login_required
def verify():
    """Checks an uploaded PDF against the archive and its seal; a typed
    number goes to that number's page."""
    upload = request.files.get("file")
    if request.method == "POST" and upload is not None and upload.filename:
        limit = current_app.config["VERIFY_MAX_BYTES"]
        data = upload.read(limit + 1)
        error = _upload_error(data, limit)
        if error:
            return render_page("archive/verify.html", error=error), 400
        check = archive.check_upload(data)
        record = check.archived.record if check.archived else None
        visible = record is not None and access.can_view_record(current_user, record)
        return render_page("archive/verify.html", upload=check, filename=upload.filename,
                           record=record if visible else None, hidden_number=record.number if record else None,
                           archive_signatures=archive.signers_of)
    number = (request.values.get("number") or "").strip().upper()
    if number:
        return redirect(url_for(".verify_number", number=number))
    error = "请选择要核验的 PDF 文件，或输入文件编号。" if request.method == "POST" else None
    return render_page("archive/verify.html", error=error), 400 if error else 200


def _upload_error(data: bytes, limit: int) -> str | None:
    if len(data) > limit:
        return f"文件太大：只能核验不超过 {limit // (1024 * 1024)} MB 的 PDF 文件。"
    if not data.startswith(b"%PDF-"):
        return "这不是 PDF 文件。请上传从本系统下载的 PDF。"
    return None


@bp.get("/verify/<number>")
@login_required
def verify_number(number: str):
    """The QR code's target: a number's archived versions, each checked
    against its hash and seal, with who signed it. A number the user may not
    see answers exactly like one that does not exist."""
    record = db.session.scalar(sa.select(Record).where(Record.number == number))
    if record is None or not access.can_view_record(current_user, record):
        return render_page("archive/verify.html", missing=number), 404
    checks = [archive.check_archived(a) for a in archive.versions_of(record)]
    return render_page("archive/verify.html", record=record, checks=list(reversed(checks)),
                       archive_signatures=archive.signers_of)


@bp.route("/archive/export", methods=["GET", "POST"])
@roles_required("clerk", "auditor")
def export():
    """审计导出: choose a period (and a sheet, a team), see what it holds,
    download the sealed PDFs and manifest.csv as one zip."""
    teams = list(db.session.scalars(sa.select(Team).order_by(Team.name)))
    source = request.form if request.method == "POST" else request.args
    criteria, error, items = None, None, None
    if request.method == "POST" or "from" in source:
        criteria, error = _criteria(source, teams)
    if criteria is not None:
        items = archive.export_items(criteria)
        if request.method == "POST" and not items:
            error = "所选条件下没有已归档的文件。"
        elif request.method == "POST":
            out = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)
            try:
                archive.export_zip(current_user, criteria, out)
            except archive.ExportError as e:
                out.close()
                error = e.message
            except BaseException:
                out.close()
                raise
            else:
                out.seek(0)
                return send_file(out, mimetype="application/zip", as_attachment=True,
                                 download_name=criteria.filename)
    today = archive.local_today()
    form = {"from": today.replace(day=1).isoformat(), "to": today.isoformat(), "sheet": "", "team": ""} | source.to_dict()
    return render_page("archive/export.html", form=form, teams=teams, sheets=registry.all_specs(), items=items,
                       names=archive.file_names(items) if items else [], error=error), 400 if error else 200


def _criteria(source, teams) -> tuple[archive.ExportCriteria | None, str | None]:
    """The export criteria from the form, or the message saying what is wrong."""
    start, end = as_day(source.get("from")), as_day(source.get("to"))
    if start is None or end is None:
        return None, "请填写有效的开始和结束日期（1900–9998 年）。"
    if end < start:
        return None, "结束日期不能早于开始日期。"
    sheet = source.get("sheet") or None
    if sheet is not None and sheet not in {s.key for s in registry.all_specs()}:
        return None, "请选择有效的表单类型。"
    team = None
    if source.get("team"):
        team = next((t for t in teams if str(t.id) == source.get("team")), None)
        if team is None:
            return None, "请选择有效的团队。"
    return archive.ExportCriteria(start, end, sheet, team), None
