"""The append-only audit trail as a hash chain: each event's hash covers its
content and the previous event's hash, so editing, deleting or reordering
any event breaks the chain from that point on."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import sqlalchemy as sa
from flask import has_request_context, request

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


def event_hash(ev: AuditEvent) -> str:
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


def verify_chain() -> tuple[int, ChainProblem | None]:
    """Walks the trail in order; returns (events checked, first problem)."""
    prev = GENESIS
    count = 0
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000))
    try:
        for position, ev in enumerate(events, start=1):
            count = position
            if ev.prev_hash != prev:
                return count, ChainProblem(ev.id, position, "链断开：前一事件缺失、被删除或顺序被调换")
            if event_hash(ev) != ev.hash:
                return count, ChainProblem(ev.id, position, "事件内容被修改")
            prev = ev.hash
    finally:
        events.close()
    return count, None
