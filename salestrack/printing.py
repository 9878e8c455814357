"""A record as its print document (plain data for the PDF templates), the
draft preview, and the sealed final PDF archived on approval."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from . import pdf
from .extensions import db
from .operations import OperationError
from .formkit.canonical import content_hash
from .models import ArchivedPdf, Record
from .records import record_view, user_names
from .templating import local_time

DECISIONS = {"approved": "同意", "returned": "退回"}


class SealMissing(OperationError):
    """The seal is gone while sealed PDFs exist: final approval waits for it
    to be restored rather than sealing with a new one (backup.seal_missing_with_archive)."""


def _signer_text(sig) -> str:
    if sig.on_behalf_of is not None:
        return f"{sig.signer.name} 代 {sig.on_behalf_of.name}"
    return sig.signer.name


def print_document(record: Record) -> dict:
    """Everything printed on the sheet: the paper's fields, the signature
    block of the current round, the record-keeping foot (客户基本信息表),
    the revision history and the approval timeline."""
    doc = record_view(record)
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
    doc["revisions"] = [{"number": r.number, "author": names.get(r.author_id, ""), "at": local_time(r.at),
                         "changes": r.changes or []} for r in record.revisions]
    doc["timeline"] = _timeline(record)
    doc["record_keeping"] = _record_keeping(record, current) if record.sheet == "customer_info" else []
    doc["content_hash"] = content_hash(record.data or {})
    doc["verify_url"] = verify_url(record.number) if "archive.verify_number" in current_app.view_functions else None
    return doc


def verify_url(number: str) -> str:
    """The verify page of a number under BASE_URL, the same in a request, a CLI task or a test."""
    path = current_app.url_map.bind("localhost").build("archive.verify_number", {"number": number})
    return current_app.config["BASE_URL"].rstrip("/") + path


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
        out.append({"at": local_time(ev.at), "actor": actor, "action": actions[ev.action],
                    "comment": (ev.detail or {}).get("comment") or (ev.detail or {}).get("slot") or ""})
    return out


def _record_keeping(record: Record, current: dict) -> list[dict]:
    """客户基本信息表's foot: who registered, entered, collected, reviewed."""
    names = user_names()
    review = current.get(0)
    collector = (record.data or {}).get("collector")
    return [
        {"label": "信息登记日期", "value": local_time(record.created_at, "%Y-%m-%d")},
        {"label": "信息录入人", "value": record.author.name},
        {"label": "信息采集人", "value": names.get(collector, "") if isinstance(collector, int) else ""},
        {"label": "信息审核人", "value": _signer_text(review) if review else ""},
        {"label": "信息审核标记", "value": DECISIONS.get(review.decision, "") if review else "未审核"},
        {"label": "信息修改记录", "value": f"共 {len(record.revisions)} 版，见末页"},
    ]


def preview_pdf(record: Record) -> bytes:
    """Any record as a PDF now, watermarked until approved."""
    return pdf.render_pdf(print_document(record))


def archive_final(record: Record) -> ArchivedPdf:
    """On final approval: render once, seal, store by SHA-256 and record it.
    Called inside the approving transaction."""
    from .backup import seal_missing_with_archive
    config = current_app.config
    if seal_missing_with_archive():
        raise SealMissing("电子签章证书缺失，而已有加盖签章的归档文件：请管理员从备份恢复签章后再审批。")
    pdf.ensure_cert(config["SEAL_KEY_PATH"], config["SEAL_CERT_PATH"])
    sealed = pdf.final_pdf(print_document(record), config["SEAL_KEY_PATH"], config["SEAL_CERT_PATH"])
    sha = pdf.archive_store(config["ARCHIVE_DIR"], sealed)
    archived = db.session.query(ArchivedPdf).filter_by(sha256=sha).one_or_none()
    if archived is None:
        archived = ArchivedPdf(record_id=record.id, revision_number=len(record.revisions), round=record.round,
                               sha256=sha, size=len(sealed))
        db.session.add(archived)
    record.pdf_sha256 = sha
    return archived


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
