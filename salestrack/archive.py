"""The archive of sealed final PDFs as the application sees it: which record
and approval a file or a number belongs to, a check of every stored file, and
the audit export (the PDFs plus a manifest in one zip) used by the page and
the command line alike."""
from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from . import operations, pdf
from .extensions import db
from .models import ArchivedPdf, AuditEvent, Customer, Project, Record, Signature, Team, User, utcnow
from .safecell import safe_cell
from .templating import local_time, sheet_title

# `archive verify` reports an approved sheet still without its sealed PDF
# only after this many minutes; until then it is 归档中 (the queue's worker
# seals it, and re-queues it after ARCHIVE_RETRY_MINUTES).
ARCHIVE_LATE_MINUTES = 10

NUMBER = re.compile(r"[A-Z]{1,6}-\d{4}-\d{4,}")


def _archive_dir():
    return current_app.config["ARCHIVE_DIR"]


def _cert_path():
    """Every certificate whose seals count as ours (see printing.seal_paths)."""
    from .printing import seal_paths
    return seal_paths()[2]


def _verify(data: bytes) -> dict:
    """pdf.verify_pdf with our seal certificates and the trusted time-stamp authorities."""
    from .printing import tsa_cert_paths
    return pdf.verify_pdf(data, _cert_path(), tsa_cert_paths())


def versions_of(record: Record) -> list[ArchivedPdf]:
    """Every sealed PDF of a record, oldest first: one per final approval."""
    return list(db.session.scalars(
        sa.select(ArchivedPdf).where(ArchivedPdf.record_id == record.id).order_by(ArchivedPdf.id)))


def signatures_of(archived: ArchivedPdf) -> list[Signature]:
    """The signatures of the approval round that a sealed PDF records, slot by slot."""
    return sorted((s for s in archived.record.signatures if s.round == archived.round), key=lambda s: s.slot_index)


@dataclass(frozen=True)
class TrailSignature:
    """One act on one slot as the audit trail recorded it (a `sign` or
    `return` event): the same names as a Signature, so pages show either."""
    slot_label: str
    signer: User | None
    on_behalf_of: User | None
    decision: str  # approved | returned
    comment: str | None
    at: datetime


def _trail_signature(ev: AuditEvent) -> TrailSignature:
    detail = ev.detail or {}
    return TrailSignature(str(detail.get("slot") or ""), ev.actor, ev.on_behalf_of,
                          "approved" if ev.action == "sign" else "returned", detail.get("comment") or None, ev.at)


_SIGN_ACTIONS = ("sign", "return")


def _decision_events(record_ids=None):
    q = (sa.select(AuditEvent).where(AuditEvent.target_type == "record", AuditEvent.action.in_(_SIGN_ACTIONS))
         .order_by(AuditEvent.id))
    if record_ids is not None:
        q = q.where(AuditEvent.target_id.in_(record_ids))
    return db.session.scalars(q)


def signers_of(archived: ArchivedPdf) -> list[TrailSignature]:
    """Who signed (or returned) the approval round that a sealed PDF records,
    in order, read from the audit trail (keyed, see audit.py), not from the
    editable signatures table. Used by the verify page and the export manifest."""
    return [_trail_signature(ev) for ev in _decision_events([archived.record_id])
            if (ev.detail or {}).get("round") == archived.round]


def signer_text(sig: Signature | TrailSignature) -> str:
    """'王芳', or '王芳 代 李娜' when signed for someone else."""
    name = sig.signer.name if sig.signer is not None else "（已删除的用户）"
    if sig.on_behalf_of is not None:
        return f"{name} 代 {sig.on_behalf_of.name}"
    return name


# ── checking stored files and uploads ─────────────────────────────────────
@dataclass
class FileCheck:
    """One archived PDF checked: present, equal to its hash, sealed by us."""
    archived: ArchivedPdf
    seal: dict | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_archived(archived: ArchivedPdf) -> FileCheck:
    """Reads the stored file back and checks its hash and its PAdES seal."""
    try:
        data = pdf.archive_load(_archive_dir(), archived.sha256)
    except FileNotFoundError:
        return FileCheck(archived, None, "归档文件缺失")
    except pdf.ArchiveCorrupt:
        data = pdf.archive_path(_archive_dir(), archived.sha256).read_bytes()
        seal = _verify(data)
        return FileCheck(archived, seal, "归档文件的内容与其 SHA-256 不符（文件已被改动）：" + what_changed(seal))
    seal = _verify(data)
    named = claimed_number(data)
    if named is not None and named != archived.record.number:
        return FileCheck(archived, seal, f"归档文件是 {named} 的，不是 {archived.record.number} 的（记录与文件被调换）")
    return FileCheck(archived, seal, seal_problem(seal))


def what_changed(seal: dict) -> str:
    """How a file differs from what our seal signed, in words, from verify_pdf's report."""
    if not seal["signed"]:
        return "文件中已没有电子签章"
    if not seal["intact"]:
        return "签章所覆盖的内容被改动（或文件被另存），签章无效"
    if seal["appended"]:
        return "本单位签章完好，签章后追加了：" + "；".join(seal["appended"])
    return "签章完好，文件其他部分被改动"


def seal_problem(seal: dict) -> str | None:
    """What is wrong with a file's seal for an archived copy, in words; None if nothing."""
    if not seal["signed"]:
        return "没有电子签章"
    if not seal["intact"]:
        return "电子签章无效（签章后文件被改动，或签章损坏）"
    if not seal["ours"]:
        return "电子签章不是由本单位的签章证书签署"
    if not seal["valid_then"]:
        return "签章时本单位签章证书不在有效期内"
    if not seal["whole_file"]:
        return "签章后文件被追加了内容：" + "；".join(seal["appended"])
    return None


def check_all() -> tuple[int, list[str]]:
    """Every archived PDF checked as a file (present, hash, seal, the number it
    names) and against the audit trail: its record's `archive` event names
    this SHA-256, and the signatures of its round are the trail's `sign` /
    `return` events (signer, for whom, slot, decision). Every record's
    pdf_sha256 must be its own latest archived PDF. Returns (files checked,
    one line per problem). The trail itself is checked by `audit verify`."""
    count, problems = 0, []
    archived_events: dict[int, list[str]] = {}
    for ev in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.target_type == "record",
                                                               AuditEvent.action == "archive")):
        archived_events.setdefault(ev.target_id, []).append((ev.detail or {}).get("sha256"))
    decided: dict[tuple[int, int], list[tuple]] = {}
    for ev in _decision_events():
        sig = _trail_signature(ev)
        decided.setdefault((ev.target_id, (ev.detail or {}).get("round")), []).append(_sig_key(sig))
    latest: dict[int, ArchivedPdf] = {}
    for archived in db.session.scalars(sa.select(ArchivedPdf).order_by(ArchivedPdf.id)):
        count += 1
        latest[archived.record_id] = archived
        label = f"{archived.record.number} {archived.sha256}"
        check = check_archived(archived)
        if check.problem:
            problems.append(f"{label}: {check.problem}")
        if archived.sha256 not in archived_events.get(archived.record_id, []):
            problems.append(f"{label}: 审计记录中没有此表单归档这个文件的事件（文件与表单的对应被改动）")
        in_table = sorted(_sig_key(s) for s in archived.record.signatures if s.round == archived.round)
        if in_table != sorted(decided.get((archived.record_id, archived.round), [])):
            problems.append(f"{label}: 签署记录与审计记录不符（签署人、代签、环节或结果被改动）")
    for record in db.session.scalars(sa.select(Record).where(Record.pdf_sha256.is_not(None)).order_by(Record.id)):
        own = latest.get(record.id)
        if own is None or own.sha256 != record.pdf_sha256:
            problems.append(f"{record.number} {record.pdf_sha256}: 记录指向的不是本表单最新的归档文件")
    # An approval younger than ARCHIVE_LATE_MINUTES without its file is 归档中
    # (the queue's worker seals it); older ones are reported.
    late = utcnow() - timedelta(minutes=ARCHIVE_LATE_MINUTES)
    missing = sa.select(Record).where(Record.status == "approved", Record.pdf_sha256.is_(None),
                                      Record.approved_at < late)
    for record in db.session.scalars(missing.order_by(Record.id)):
        problems.append(f"{record.number}: 已审批超过 {ARCHIVE_LATE_MINUTES} 分钟仍没有归档文件（请检查任务队列的 worker）")
    return count, problems


def _sig_key(sig) -> tuple:
    """What must agree between a signature row and its audit event."""
    return (sig.slot_label[:80], sig.signer.id if sig.signer else None,
            sig.on_behalf_of.id if sig.on_behalf_of else None, sig.decision)


@dataclass
class UploadCheck:
    """An uploaded PDF compared with the archive and its seal checked."""
    sha256: str
    size: int
    archived: ArchivedPdf | None  # the archived version with exactly these bytes
    seal: dict
    claimed_number: str | None  # the document number the file itself names


def check_upload(data: bytes) -> UploadCheck:
    """Looks the file up by its SHA-256 and checks its seal; nothing is stored."""
    sha = hashlib.sha256(data).hexdigest()
    archived = db.session.scalar(sa.select(ArchivedPdf).where(ArchivedPdf.sha256 == sha))
    return UploadCheck(sha, len(data), archived, _verify(data), claimed_number(data))


def claimed_number(data: bytes) -> str | None:
    """The document number in the PDF's title ('电话记录表 DH-2026-0001'), if readable."""
    try:
        from pyhanko.pdf_utils.reader import PdfFileReader
        info = PdfFileReader(io.BytesIO(data), strict=False).trailer_view.get("/Info")
        title = str(info.get_object().get("/Title", "")) if info is not None else ""
    except Exception:  # an unreadable file names no number
        return None
    match = NUMBER.search(title)
    return match.group(0) if match else None


# ── audit export ──────────────────────────────────────────────────────────
MANIFEST_COLUMNS = ("编号", "表单", "项目", "客户", "填写人", "签署人", "审批时间", "SHA-256", "文件")


class ExportError(Exception):
    """An archived file needed for the export is missing or damaged."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ExportCriteria:
    """Approved between two local dates (inclusive), optionally of one sheet and one team."""
    start: date
    end: date
    sheet: str | None = None
    team: Team | None = None

    def describe(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "sheet": self.sheet,
                "team": self.team.name if self.team else None}

    @property
    def filename(self) -> str:
        return f"审计导出_{self.start.isoformat()}_{self.end.isoformat()}.zip"


def _zone() -> ZoneInfo:
    from . import clock
    return clock.zone()


def local_today() -> date:
    """Today in the department's time zone, the calendar approvals are dated by."""
    from . import clock
    return clock.today()


def _utc_bounds(criteria: ExportCriteria) -> tuple[datetime, datetime]:
    """The local dates as naive UTC timestamps: [start 00:00, day after end 00:00)."""
    tz = _zone()

    def utc(day: date) -> datetime:
        return datetime.combine(day, time(), tz).astimezone(timezone.utc).replace(tzinfo=None)
    return utc(criteria.start), utc(criteria.end + timedelta(days=1))


def export_items(criteria: ExportCriteria) -> list[ArchivedPdf]:
    """The sealed PDFs of the approvals in the period: a record approved twice
    (revised after approval) has two, each an approval in its own right.
    Sheets with a person's private details (private_sheets) are never
    exported in bulk."""
    low, high = _utc_bounds(criteria)
    q = (sa.select(ArchivedPdf).join(Record, ArchivedPdf.record_id == Record.id)
         .outerjoin(Project, Record.project_id == Project.id)
         .join(Customer, Record.customer_id == Customer.id)
         .where(ArchivedPdf.created_at >= low, ArchivedPdf.created_at < high))
    if criteria.sheet:
        q = q.where(Record.sheet == criteria.sheet)
    if criteria.team is not None:  # a customer-level sheet belongs to its customer's team
        q = q.where(sa.case((Record.project_id.is_(None), Customer.team_id), else_=Project.team_id)
                    == criteria.team.id)
    private = private_sheets()
    if private:  # a person's private details never leave in a bulk export
        q = q.where(Record.sheet.not_in(private))
    return list(db.session.scalars(q.order_by(ArchivedPdf.created_at, ArchivedPdf.id)))


def private_sheets() -> list[str]:
    """Keys of the sheets holding a person's private details (Field.private):
    their sealed PDFs are left out of every bulk export."""
    from .formkit import registry
    return [spec.key for spec in registry.all_specs() if spec.private_fields()]


def file_names(items: list[ArchivedPdf]) -> list[str]:
    """'DH-2026-0001.pdf'; with '-r2' (the round) when a record has several approvals in the export."""
    per_record: dict[int, int] = {}
    for archived in items:
        per_record[archived.record_id] = per_record.get(archived.record_id, 0) + 1
    return [f"{a.record.number}-r{a.round}.pdf" if per_record[a.record_id] > 1 else f"{a.record.number}.pdf"
            for a in items]


def manifest_row(archived: ArchivedPdf, filename: str) -> list[str]:
    record = archived.record
    signers = "；".join(f"{s.slot_label}：{signer_text(s)}" for s in signers_of(archived) if s.decision == "approved")
    project_name = record.project.name if record.project is not None else "（客户档案）"
    return [record.number, sheet_title(record.sheet), project_name, record.customer.name,
            record.author.name, signers, local_time(archived.created_at), archived.sha256, filename]


def manifest_csv(rows: list[list[str]]) -> bytes:
    """The manifest as CSV in UTF-8 with a BOM, so Excel shows the Chinese right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(MANIFEST_COLUMNS)
    writer.writerows([[safe_cell(v) for v in row] for row in rows])
    return out.getvalue().encode("utf-8-sig")


def export_zip(actor: User | None, criteria: ExportCriteria, out) -> int:
    """Writes the period's sealed PDFs and manifest.csv as a zip to `out` and
    records the export in the audit trail; returns the number of PDFs. Every
    file is read back against its hash first: a damaged archive exports nothing."""
    items = export_items(criteria)
    rows = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for archived, name in zip(items, file_names(items), strict=True):
            try:
                data = pdf.archive_load(_archive_dir(), archived.sha256)
            except (FileNotFoundError, pdf.ArchiveCorrupt):
                raise ExportError(f"{archived.record.number} 的归档文件缺失或已被改动，"
                                  "请先运行 flask archive verify 检查归档。") from None
            zf.writestr(name, data, compress_type=zipfile.ZIP_STORED)  # PDFs are compressed already
            rows.append(manifest_row(archived, name))
        manifest = manifest_csv(rows)
        zf.writestr("manifest.csv", manifest)
    numbers = [row[0] for row in rows]
    operations.log_export(actor, f"归档文件 {criteria.start}~{criteria.end}",
                          {**criteria.describe(), "files": len(numbers), "numbers": numbers[:500]},
                          content_hash=hashlib.sha256(manifest).hexdigest())
    return len(items)
