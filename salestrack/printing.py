"""A record as its print document (plain data for the PDF templates), the
draft preview, and the sealed final PDF archived on approval."""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import current_app

from . import pdf
from .extensions import db
from .formkit import registry
from .operations import OperationError
from .formkit.canonical import content_hash
from .models import ArchivedPdf, Record
from .formkit.printable import HIDDEN
from .records import record_view, user_names, withheld_labels
from .templating import local_time

DECISIONS = {"approved": "同意", "returned": "退回"}


class SealMissing(OperationError):
    """The seal is gone while sealed PDFs exist: final approval waits for it
    to be restored rather than sealing with a new one (backup.seal_missing_with_archive)."""


def _signer_text(sig) -> str:
    if sig.on_behalf_of is not None:
        return f"{sig.signer.name} 代 {sig.on_behalf_of.name}"
    return sig.signer.name


def print_document(record: Record, base: str | None = None, *, private: bool = True) -> dict:
    """Everything printed on the sheet: the paper's fields, the signature
    block of the current round, the record-keeping foot (FormSpec.record_block),
    the revision history and the approval timeline. `base`: the app's
    address for the verify link (default base_url()). `private=False`
    withholds a person's private details (records.record_view), also in the
    history."""
    doc = record_view(record, private=private, paper=True)
    withheld = withheld_labels(record, private)
    current = {s.slot_index: s for s in record.signatures if s.round == record.round}
    signatures = []
    chain = record.chain or [{"label": s["label"]} for s in doc["slots"]]
    for index, slot in enumerate(chain):
        sig = current.get(index)
        signatures.append({
            "slot_label": slot["label"], "signer": _signer_text(sig) if sig else "",
            "decision": DECISIONS.get(sig.decision, "") if sig else "", "comment": (sig.comment or "") if sig else "",
            "at": local_time(sig.at) if sig else "", "hash": sig.content_hash[:12] if sig else ""})
    names = user_names()
    doc["signatures"] = signatures
    files = _file_names(record)
    doc["revisions"] = [{"number": r.number, "author": names.get(r.author_id, ""), "at": local_time(r.at),
                         "changes": [_withheld(_named_files(c, files), withheld) for c in r.changes or []]}
                        for r in record.revisions]
    doc["timeline"] = _timeline(record)
    doc["record_keeping"] = _record_keeping(record, current)
    spec = registry.get(record.sheet)
    doc["foot"] = doc["header"][1:] if spec.author_at_foot else []  # the author's line again: author, 日期
    if not spec.paper_header:  # the paper prints none; 编号 still runs at the top of each page
        doc["header"] = []
    doc["sign_title"] = spec.sign_title or "审批签核"
    if doc["record_keeping"]:  # the block prints each of its labels once, in the paper's order
        doc["sections"] = _without_labels(doc["sections"], {item["label"] for item in doc["record_keeping"]})
    doc["content_hash"] = content_hash(record.data or {})
    doc["organization"] = current_app.config.get("ORGANIZATION") or "销售部"
    doc["verify_url"] = (verify_url(record.number, base) if "archive.verify_number" in current_app.view_functions
                         else None)
    return doc


def verify_url(number: str, base: str | None = None) -> str:
    """The verify page of a number under `base` or else base_url(), the same
    in a request, a CLI task, a job or a test."""
    path = current_app.url_map.bind("localhost").build("archive.verify_number", {"number": number})
    return (base or base_url()).rstrip("/") + path


def base_url() -> str:
    """The app's address without a trailing slash: BASE_URL when set, else the
    address the current request was served at (so a QR code leads to the
    running app on any host and port), else http://127.0.0.1:$PORT (5000)."""
    import os

    from flask import has_request_context, request
    configured = (current_app.config.get("BASE_URL") or "").strip()
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return f"http://127.0.0.1:{os.environ.get('PORT') or 5000}"


def seal_paths() -> tuple[str, str, list[str]]:
    """(seal key, seal certificate, every certificate whose seals count as ours),
    from SEAL_KEY_PATH, SEAL_CERT_PATH and SEAL_TRUSTED_CERTS."""
    config = current_app.config
    extra = [p for p in (config.get("SEAL_TRUSTED_CERTS") or "").split(":") if p.strip()]
    return config["SEAL_KEY_PATH"], config["SEAL_CERT_PATH"], [config["SEAL_CERT_PATH"], *extra]


def tsa_cert_paths() -> list[str]:
    """The time-stamp authorities' certificates (TSA_CERTS) whose time-stamps verify as trusted."""
    return [p for p in (current_app.config.get("TSA_CERTS") or "").split(":") if p.strip()]


def seal_names() -> dict:
    """The names a new seal certificate carries: ORGANIZATION's 文件签章."""
    org = current_app.config.get("ORGANIZATION") or "销售部"
    return {"common_name": f"{org} 文件签章", "org": org}


def _timeline(record: Record) -> list[dict]:
    from .models import AuditEvent
    import sqlalchemy as sa
    actions = {"submit": "提交", "sign": "同意", "return": "退回", "withdraw": "撤回", "archive": "归档"}
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.target_type == "record", AuditEvent.target_id == record.id,
        AuditEvent.action.in_(list(actions))).order_by(AuditEvent.id))
    out = []
    for ev in events:
        actor = ev.actor.name if ev.actor else ""
        if ev.on_behalf_of is not None:
            actor = f"{actor} 代 {ev.on_behalf_of.name}"
        detail = ev.detail or {}
        action = actions[ev.action] + (f"（{detail['slot']}）" if detail.get("slot") else "")
        out.append({"at": local_time(ev.at), "actor": actor, "action": action,  # 意见 is the signer's words only
                    "comment": detail.get("comment") or ""})
    return out


_ATTACHMENT_REF = re.compile(r"附件#(\d+)")


def _file_names(record: Record) -> dict[int, str]:
    """{attachment id: file name} of every file ever uploaded to the record."""
    from .models import Attachment
    import sqlalchemy as sa
    rows = db.session.execute(sa.select(Attachment.id, Attachment.filename).where(Attachment.record_id == record.id))
    return {row.id: row.filename for row in rows}


def _named_files(change: dict, files: dict[int, str]) -> dict:
    """A revision's change with '附件#4' (a file no longer at hand when it was
    recorded) replaced by that file's name."""
    def name(match):
        return files.get(int(match.group(1)), match.group(0))
    return {key: _ATTACHMENT_REF.sub(name, value) if isinstance(value, str) else value
            for key, value in change.items()}


def _withheld(change: dict, labels: set[str]) -> dict:
    if change.get("label") in labels:
        return {**change, "old": HIDDEN if change.get("old") else "", "new": HIDDEN if change.get("new") else ""}
    return change


def _without_labels(sections: list[dict], labels: set[str]) -> list[dict]:
    """The sections without the fields of these labels; a section left empty goes too."""
    out = []
    for section in sections:
        items = [i for i in section["items"] if i.get("type") == "table" or i.get("label") not in labels]
        if items:
            out.append({**section, "items": items})
    return out


def _record_keeping(record: Record, current: dict) -> list[dict]:
    """The record-keeping foot of a master-data sheet, [{'label', 'value'}] in
    the order its definition declares (FormSpec.record_block: §2 prints 审核标记
    before 审核人, sheets 8, 10, 20 and 28 the other way round;
    paper-forms-toolkit.md Part 2 #1). None of it is typed: 登记日期 and
    录入人 are the record's creation (local date, Asia/Shanghai), 采集人 its
    user field, 审核人/审核标记 the last slot's act of the current round."""
    from .formkit.spec import COLLECTOR_FIELD, RECORD_BLOCK
    try:
        block = registry.get(record.sheet).record_block
    except KeyError:
        return []
    if not block:
        return []
    names = user_names()
    review = current.get(len(record.chain) - 1) if record.chain else None
    collector = (record.data or {}).get(COLLECTOR_FIELD)
    values = {
        "registered": local_time(record.created_at, "%Y-%m-%d"),
        "entered": record.author.name,
        "collected": names.get(collector, "") if isinstance(collector, int) else "",
        "review_mark": DECISIONS.get(review.decision, "") if review else "未审核",
        "reviewer": _signer_text(review) if review else "",
        "revisions": f"共 {len(record.revisions)} 版，见末页",
    }
    return [{"label": RECORD_BLOCK[item], "value": values[item]} for item in block]


def preview_pdf(record: Record, *, private: bool = True) -> bytes:
    """Any record as a PDF now, watermarked until approved; `private=False`
    withholds a person's private details (print_document)."""
    doc = print_document(record, private=private)
    if not private and doc.get("status") == "approved":
        doc["status"] = "withheld"  # watermarked 副本: the sealed file is the one with every detail
    return pdf.render_pdf(doc)


def check_sealable(record: Record) -> None:
    """What would stop the final PDF from being sealed, checked in the
    approving transaction so that the approval itself is refused: raises
    SealMissing when the seal is gone while sealed files exist, and
    OperationError when the sheet holds a character no print font can draw
    (it would print as an empty box). Rendering and sealing come after, in
    the seal_final_pdf job (archive_approved)."""
    from .backup import seal_missing_with_archive
    if seal_missing_with_archive():
        raise SealMissing("电子签章证书缺失，而已有加盖签章的归档文件：请管理员从备份恢复签章后再审批。")
    missing = pdf.doc_missing_glyphs(print_document(record))
    if missing:
        raise OperationError(f"无法归档：{pdf.MissingGlyphs(missing)}。请退回填写人修改后再审批。")


def archive_pending(record: Record) -> bool:
    """Whether the record's sealed PDF is still being made (归档中, Record.archiving)."""
    return record.archiving


def pending_archives(older_than_minutes: float = 0) -> list[int]:
    """Ids of the records approved at least `older_than_minutes` ago whose
    sealed PDF is not there yet: the sweep queues their sealing again."""
    from datetime import timedelta

    from .models import Signature, utcnow
    cutoff = utcnow() - timedelta(minutes=older_than_minutes)
    signed = sa.exists().where(Signature.record_id == Record.id, Signature.round == Record.round)
    return list(db.session.scalars(sa.select(Record.id).where(
        Record.status == "approved", Record.pdf_sha256.is_(None), Record.approved_at <= cutoff, signed)
        .order_by(Record.id)))


def archive_approved(record_id: int, base: str = "") -> ArchivedPdf | None:
    """The seal_final_pdf job: renders the approved record once (PDF/A-3b),
    seals it, stores it under its SHA-256 in ARCHIVE_DIR, registers it
    (archived_pdfs, record.pdf_sha256) and writes the `archive` audit event
    in the final signer's name. `base`: the address the approval was made
    at, printed in the verify link and QR code (empty: base_url()).

    Idempotent: a record that is not approved, or whose current approval is
    already archived, is left as it is (returns the existing ArchivedPdf or
    None); two runs at once render twice but store once, the second seeing
    the first's result under the record's lock. Raises what rendering or
    sealing raises, so the queue retries."""
    from .database import write_transaction
    from . import audit
    from .operations import _locked
    record = db.session.get(Record, record_id)
    if record is None or not archive_pending(record):
        return _current_archive(record) if record is not None else None
    config = current_app.config
    pdf.ensure_cert(config["SEAL_KEY_PATH"], config["SEAL_CERT_PATH"], **seal_names())
    revision, round_ = len(record.revisions), record.round
    doc = print_document(record, base or None)
    sealed = _seal(doc)
    with write_transaction():
        _locked(record)
        if not archive_pending(record) or (len(record.revisions), record.round) != (revision, round_):
            return _current_archive(record)
        sha = pdf.archive_store(config["ARCHIVE_DIR"], sealed)
        archived = ArchivedPdf(record_id=record.id, revision_number=revision, round=round_, sha256=sha,
                               size=len(sealed), created_at=record.approved_at)
        db.session.add(archived)
        record.pdf_sha256 = sha
        final = max((s for s in record.signatures if s.round == round_), key=lambda s: s.slot_index)
        audit.append("archive", final.signer, target=record, target_label=record.number,
                     detail={"sha256": sha, "size": len(sealed)},
                     content_hash=final.content_hash)
    return archived


def _current_archive(record: Record) -> ArchivedPdf | None:
    if not record.pdf_sha256:
        return None
    return db.session.scalars(sa.select(ArchivedPdf).where(ArchivedPdf.sha256 == record.pdf_sha256)).first()


def _seal(doc: dict) -> bytes:
    """The sealed final PDF; time-stamped (PAdES B-LT) when TSA_URL is set. An
    unreachable or failing time-stamp authority does not stop an approval: the
    seal is made without a time-stamp and the failure logged."""
    config = current_app.config
    key, cert = config["SEAL_KEY_PATH"], config["SEAL_CERT_PATH"]
    timestamper = pdf.timestamper_for(config.get("TSA_URL"))
    if timestamper is not None:
        try:
            return pdf.final_pdf(doc, key, cert, timestamper=timestamper, tsa_certs=tsa_cert_paths())
        except pdf.MissingGlyphs:
            raise
        except Exception:
            current_app.logger.exception("time-stamp authority %s failed; sealing without a time-stamp",
                                         config.get("TSA_URL"))
    return pdf.final_pdf(doc, key, cert)


def archived_bytes(record: Record, sha256: str | None = None) -> bytes:
    """The sealed bytes of the record's current archived PDF (or of the version
    with this hash), checked on the way out against the hash, against the
    archive's entry for this record and against the number the file names.
    Raises pdf.ArchiveCorrupt when any differs (a record pointed at another
    record's file is never served), FileNotFoundError when the file is gone."""
    from .archive import claimed_number
    sha = sha256 or record.pdf_sha256
    owner = db.session.scalar(sa.select(ArchivedPdf.record_id).where(ArchivedPdf.sha256 == sha))
    if owner != record.id:
        raise pdf.ArchiveCorrupt(f"archived file {sha} is not registered for {record.number}")
    data = pdf.archive_load(current_app.config["ARCHIVE_DIR"], sha)
    named = claimed_number(data)
    if named is not None and named != record.number:
        raise pdf.ArchiveCorrupt(f"archived file {sha} is {named}'s, not {record.number}'s")
    return data
