"""The append-only audit trail as a hash chain: each event's hash covers its
content and the previous event's hash, so editing, deleting or reordering
any event breaks the chain from that point on.

The hash is an HMAC-SHA-256 under a key kept outside the database (the file
AUDIT_KEY_PATH, default instance/audit_key), so someone who can write to the
database but not read that file cannot recompute the chain after rewriting an
event. Cutting events off the end leaves a shorter chain that is still
consistent; that is caught by comparing with a copy of the chain head kept
elsewhere (`flask audit head`, `flask audit verify --head FILE`)."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from types import SimpleNamespace

import sqlalchemy as sa
from flask import current_app, has_request_context, request

from .extensions import db
from .models import AuditEvent, User, utcnow

GENESIS = "0" * 64
# Serialises appends on PostgreSQL (SQLite writers are already serialised by
# BEGIN IMMEDIATE), so two events can never claim the same predecessor.
_PG_LOCK_KEY = 815_2026


def _event_payload(ev: AuditEvent) -> bytes:
    payload = {
        "at": ev.at.isoformat(timespec="microseconds"),
        "actor": ev.actor_id, "on_behalf_of": ev.on_behalf_of_id, "action": ev.action,
        "target_type": ev.target_type, "target_id": ev.target_id, "target_label": ev.target_label,
        "ip": ev.ip, "user_agent": ev.user_agent, "detail": ev.detail or {},
        "content_hash": ev.content_hash, "prev": ev.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


class AuditKeyMissing(RuntimeError):
    """The audit key file is missing while the trail has events: it must be
    restored from the backup (a new key would make every event fail)."""


def key_path() -> str:
    return current_app.config["AUDIT_KEY_PATH"]


def create_key(path: str) -> bytes:
    """Writes a new random 32-byte key to `path` (mode 0600) and returns it;
    refuses (FileExistsError) to overwrite an existing one."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    key = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex() + "\n")
    return key


def read_key(path: str) -> bytes:
    """The key in `path` (64 hex digits); FileNotFoundError when absent."""
    with open(path) as fh:
        return bytes.fromhex(fh.read().strip())


def audit_key() -> bytes:
    """The chain's key. Created on first use only while the trail is empty;
    raises AuditKeyMissing when events exist but the key file does not."""
    path = key_path()
    try:
        return read_key(path)
    except FileNotFoundError:
        if db.session.scalar(sa.select(AuditEvent.id).limit(1)) is not None:
            raise AuditKeyMissing(f"审计密钥 {path} 缺失：请从备份恢复（flask restore），不要新建") from None
        try:
            return create_key(path)
        except FileExistsError:  # another process created it a moment ago
            return read_key(path)


def event_hash(ev, key: bytes | None = None) -> str:
    """HMAC-SHA-256 (hex) of an event's content and predecessor under the audit key."""
    return hmac.new(key if key is not None else audit_key(), _event_payload(ev), hashlib.sha256).hexdigest()


def legacy_hash(ev) -> str:
    """The unkeyed SHA-256 the trail used before it was keyed (migration 0009)."""
    return hashlib.sha256(_event_payload(ev)).hexdigest()


def append(action: str, actor: User | None = None, *, target=None, target_label: str | None = None,
           detail: dict | None = None, content_hash: str | None = None,
           on_behalf_of: User | None = None) -> AuditEvent:
    """Adds one event to the chain inside the caller's transaction."""
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    prev = session.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
    ev = AuditEvent(
        at=utcnow(), actor_id=actor.id if actor else None,
        on_behalf_of_id=on_behalf_of.id if on_behalf_of else None, action=action,
        target_type=type(target).__name__.lower() if target is not None else None,
        target_id=getattr(target, "id", None), target_label=target_label,
        ip=request.remote_addr if has_request_context() else None,
        user_agent=(request.user_agent.string[:300] if has_request_context() else None),
        detail=detail or {}, content_hash=content_hash, prev_hash=prev)
    if ev.target_id is None and target is not None:
        session.flush()  # a target created in this transaction gets its id first
        ev.target_id = target.id
    ev.hash = event_hash(ev)
    session.add(ev)
    return ev


@dataclass
class ChainProblem:
    event_id: int
    position: int
    problem: str


def verify_chain(head: dict | None = None) -> tuple[int, ChainProblem | None]:
    """Walks the trail in order; returns (events checked, first problem).
    `head` is a copy of an earlier chain head ({"sequence": n, "hash": h},
    see `head()`): the event at that position must still carry that hash, so a
    trail cut short or recomputed since is reported. A missing key file is a
    problem of the whole trail (position 0)."""
    try:
        key = audit_key()
    except AuditKeyMissing as e:
        return 0, ChainProblem(0, 0, str(e))
    prev = GENESIS
    count = 0
    want = (int(head["sequence"]), str(head["hash"])) if head else None
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000))
    try:
        for position, ev in enumerate(events, start=1):
            count = position
            if ev.prev_hash != prev:
                return count, ChainProblem(ev.id, position, "链断开：前一事件缺失、被删除或顺序被调换")
            if event_hash(ev, key) != ev.hash:
                return count, ChainProblem(ev.id, position, "事件内容被修改，或哈希不是用本系统的审计密钥计算的")
            if want and position == want[0] and ev.hash != want[1]:
                return count, ChainProblem(ev.id, position, "与另行保存的链头不符：此前的事件被改写或重算")
            prev = ev.hash
    finally:
        events.close()
    if want and count < want[0]:
        return count, ChainProblem(0, count, f"审计链被截断：只有 {count} 个事件，另行保存的链头是第 {want[0]} 个")
    return count, None


def head() -> dict:
    """The last event as {"sequence": its position (1-based), "event_id",
    "hash", "at" (UTC ISO)}; sequence 0 and the genesis hash for an empty trail.
    Kept outside this server, it lets `verify_chain` detect truncation."""
    last = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    if last is None:
        return {"sequence": 0, "event_id": None, "hash": GENESIS, "at": None}
    count = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.id <= last.id))
    return {"sequence": count, "event_id": last.id, "hash": last.hash,
            "at": last.at.isoformat(timespec="microseconds")}


# ── re-keying: keying a legacy trail, rotating the key ────────────────────
_TABLE = sa.table(
    "audit_events", sa.column("id", sa.Integer), sa.column("at", sa.DateTime),
    sa.column("actor_id", sa.Integer), sa.column("on_behalf_of_id", sa.Integer), sa.column("action", sa.String),
    sa.column("target_type", sa.String), sa.column("target_id", sa.Integer),
    sa.column("target_label", sa.String), sa.column("ip", sa.String), sa.column("user_agent", sa.String),
    sa.column("detail", sa.JSON), sa.column("content_hash", sa.String), sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String))


class RekeyRefused(Exception):
    """The trail does not verify under the old hash, so re-keying it would
    launder a tampered trail."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def rekey(conn: sa.Connection, old_hash, new_key: bytes, reason: str) -> dict:
    """Recomputes every event's hash from genesis under `new_key`, after
    checking each one under `old_hash` (a function of an event), then appends
    an `audit_rekey` event naming `reason`, the number of events and the old
    head. Works on a Core connection inside the caller's transaction (the
    migration's, or the CLI's). Raises RekeyRefused at the first event that
    does not verify under the old hash. Returns the new head."""
    rows = conn.execute(sa.select(_TABLE).order_by(_TABLE.c.id)).mappings().all()
    prev_old, prev_new = GENESIS, GENESIS
    for position, row in enumerate(rows, start=1):
        ev = SimpleNamespace(**row)
        if ev.prev_hash != prev_old or old_hash(ev) != ev.hash:
            raise RekeyRefused(f"第 {position} 个事件（#{ev.id}）在旧密钥下校验不通过：审计链已被改动，拒绝重算")
        prev_old = ev.hash
        ev.prev_hash = prev_new
        prev_new = event_hash(ev, new_key)
        conn.execute(sa.update(_TABLE).where(_TABLE.c.id == ev.id).values(prev_hash=ev.prev_hash, hash=prev_new))
    event = SimpleNamespace(
        at=utcnow(), actor_id=None, on_behalf_of_id=None, action="audit_rekey", target_type=None, target_id=None,
        target_label="审计链重新计算", ip=None, user_agent=None,
        detail={"reason": reason, "events": len(rows), "old_head": {"sequence": len(rows), "hash": prev_old}},
        content_hash=None, prev_hash=prev_new)
    event.hash = event_hash(event, new_key)
    conn.execute(sa.insert(_TABLE).values(**{c.name: getattr(event, c.name) for c in _TABLE.c if c.name != "id"}))
    return {"sequence": len(rows) + 1, "hash": event.hash}
