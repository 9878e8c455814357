"""Sign-off chains: from a sheet's declared slots to the people who sign this
record, and who may act on it now. The acts themselves (submit, sign,
return, withdraw, remind, delegate) are in operations.py.

States: draft → submitted (waiting at slot k of n) → approved; or returned
at any slot (with a reason) → the author revises → submits again, and the
chain restarts in a new round. Every round's signatures stay in history."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from . import clock
from .extensions import db
from .formkit.spec import parse_signer
from .models import Delegation, Record, Team, User, utcnow
from .process import ROLE_LABELS, SALES_LINE, SIGNING_ROLES

# Who may hold a 'team_manager' slot: the manager, or above him the director
# and the general manager (a manager's own sheet goes to the director).
TEAM_MANAGER_ROLES = ("manager", "director", "gm")


class ChainError(Exception):
    """The chain cannot be formed (no manager, nobody chosen …); `slot` names
    the slot at fault for the submit form."""

    def __init__(self, message: str, slot: str | None = None):
        super().__init__(message)
        self.message = message
        self.slot = slot


@dataclass(frozen=True)
class Choice:
    """A slot whose signer the author picks when submitting."""
    key: str
    label: str
    role: str
    candidates: list[tuple[int, str]]


# ── who may hold a slot ───────────────────────────────────────────────────
def refusal(user: User | None, roles, what: str) -> str | None:
    """The one rule of who may hold a sign-off slot (issue 15): why `user`
    may not `what` (e.g. "签署「审核」") — he is missing, no longer active, or
    his role is not among `roles` or not a signing role (admin, clerk and
    auditor never sign; process.SIGNING_ROLES) —, or None when he may.
    Pickers, submit, delegation, signing and reassignment all ask here."""
    if user is None:
        return f"找不到签署人，不能{what}"
    if not user.active:
        return f"{user.name} 已停用，不能{what}"
    if user.role not in roles or user.role not in SIGNING_ROLES:
        return f"{user.name}（{ROLE_LABELS.get(user.role, user.role)}）不能{what}"
    return None


def slot_roles(spec, slot) -> tuple[str, ...]:
    """The roles that may hold `slot` of `spec`, from its signer rule:
    team_manager → manager, director, gm; project_owner → the sales line;
    role:/chosen:<role> → that role; a table's user column → its declared
    role, else every signing role."""
    kind, arg = parse_signer(slot.signer)
    if kind == "team_manager":
        return TEAM_MANAGER_ROLES
    if kind == "project_owner":
        return SALES_LINE
    if kind in ("role", "chosen"):
        return (arg,)
    table, column = arg
    role = spec.table(table).column(column).role
    return (role,) if role else SIGNING_ROLES


def candidates(roles) -> list[User]:
    """The people `refusal` lets hold a slot taken by `roles`, by name: what
    every people picker offers (never inactive people, admin, clerk or
    auditor)."""
    people = db.session.scalars(sa.select(User).where(User.active, User.role.in_(tuple(roles)))
                                .order_by(User.name))
    return [u for u in people if refusal(u, roles, "") is None]


def stand_in_roles(principal: User) -> tuple[str, ...]:
    """Who may deputise (代签) for `principal`: those allowed to hold his
    slots — anyone of the sales line for someone of the sales line (a
    senior rep or another team's manager for a 业务经理), HR for HR,
    implementation for implementation; nobody for admin, clerk and auditor,
    who hold no slots."""
    if principal.role in SALES_LINE:
        return SALES_LINE
    if principal.role in SIGNING_ROLES:
        return (principal.role,)
    return ()


def deputy_refusal(deputy: User | None, principal: User) -> str | None:
    """Why `deputy` may not sign for `principal` (None: he may): the
    principal must be active and hold slots, the deputy another person
    allowed to hold them (refusal with stand_in_roles)."""
    if deputy is not None and deputy.id == principal.id:
        return "不能委托给自己"
    if not principal.active:
        return f"{principal.name} 已停用，委托已失效"
    roles = stand_in_roles(principal)
    if not roles:
        return f"{principal.name}（{ROLE_LABELS.get(principal.role, principal.role)}）不签署表单，无需委托代签"
    return refusal(deputy, roles, f"代 {principal.name} 签署")


def _active(q):
    return list(db.session.scalars(q.where(User.active).order_by(User.name)))


def _team_manager(author: User) -> User:
    """The author's team manager; a manager's own sheet (or that of someone
    without a team, or whose manager may not sign) goes to the director,
    the director's own to the general manager."""
    team = db.session.get(Team, author.team_id) if author.team_id else None
    manager = db.session.get(User, team.manager_id) if team and team.manager_id else None
    if manager is not None and manager.id != author.id and refusal(manager, TEAM_MANAGER_ROLES, "") is None:
        return manager
    for role in ("director", "gm"):
        above = [u for u in candidates((role,)) if u.id != author.id]
        if above:
            return above[0]
    raise ChainError("找不到您所在团队的业务经理，请联系管理员设置团队经理。")


def substitute_for(person: User, record: Record) -> User | None:
    """Who takes over the slots `person` (being deactivated) holds on a
    submitted `record`: his team's manager, else a director, else the
    general manager — active, not the author, not holding another slot of
    the round (unless the sheet allows it). None when nobody fits."""
    from .formkit import registry
    spec = registry.get(record.sheet)
    others = {e["signer_id"] for e in record.chain or [] if e["signer_id"] != person.id}
    team = db.session.get(Team, person.team_id) if person.team_id else None
    people = [db.session.get(User, team.manager_id)] if team and team.manager_id else []
    people += candidates(("director",)) + candidates(("gm",))
    for user in people:
        if (user is not None and user.id not in (person.id, record.author_id)
                and refusal(user, TEAM_MANAGER_ROLES, "") is None
                and (spec.signers_may_repeat or user.id not in others)):
            return user
    return None


def choices(spec, author: User) -> list[Choice]:
    """The slots the author must fill in when submitting: 'chosen:<role>'
    slots, and role slots held by more than one person. Candidates of the
    author's own team come first, then the others, each by name."""
    out = []
    for slot in spec.slots:
        kind, arg = parse_signer(slot.signer)
        if kind == "chosen" or (kind == "role" and len(_role_holders(arg, author)) > 1):
            out.append(Choice(slot.key, slot.label, arg,
                              [(u.id, u.name) for u in own_team_first(_role_holders(arg, author), author)]))
    return out


def own_team_first(people: list, author: User) -> list:
    """`people` (Users, or (id, name, role, team_id) tuples) with those of the
    author's team first; the order within each part is kept."""
    def team(p):
        return p.team_id if isinstance(p, User) else p[3]
    if author is None or author.team_id is None:
        return list(people)
    return [p for p in people if team(p) == author.team_id] + [p for p in people if team(p) != author.team_id]


def _role_holders(role: str, author: User) -> list[User]:
    return [u for u in candidates((role,)) if u.id != author.id]


def resolve_chain(spec, author: User, data: dict, chosen: dict[str, int], project=None) -> list[dict]:
    """The slots of this round with the person who signs each, in order.
    `project` is the record's project: a 'project_owner' slot is signed by its
    owner (the account manager, 商务条款偏离表's 客户经理), also when he is the
    author — such a chain entry carries author_signs=True. Everyone named
    must pass `refusal` for the slot, and a person the author picked (a
    chosen slot, a table row, one of several holders of a role) may hold no
    other slot of the round unless spec.signers_may_repeat. Raises
    ChainError naming the slot at fault."""
    chain = []
    holder_of: dict[int, tuple[str, bool]] = {}  # signer id → (slot label, picked by the author)
    for slot in spec.slots:
        kind, arg = parse_signer(slot.signer)
        people: list[tuple[User, str]] = []
        author_signs = False
        picked_by_author = kind in ("chosen", "table")
        if kind == "team_manager":
            people = [(_team_manager(author), slot.label)]
        elif kind == "project_owner":
            owner = db.session.get(User, project.owner_id) if project is not None else None
            if owner is None or refusal(owner, slot_roles(spec, slot), "") is not None:
                raise ChainError(f"项目没有在职的客户经理，无法确定「{slot.label}」，请联系业务经理转交项目。", slot.key)
            people = [(owner, slot.label)]
            author_signs = True
        elif kind in ("role", "chosen"):
            holders = _role_holders(arg, author)
            picked = chosen.get(slot.key)
            if kind == "role" and len(holders) == 1:
                people = [(holders[0], slot.label)]
            elif picked is not None and any(u.id == picked for u in holders):
                people = [(db.session.get(User, picked), slot.label)]
                picked_by_author = True
            elif not holders:
                raise ChainError(f"「{slot.label}」没有可签署的人员，请联系管理员。", slot.key)
            else:
                raise ChainError(f"请选择「{slot.label}」的签署人", slot.key)
        elif kind == "table":
            table, column = arg
            seen = set()
            for row in data.get(table) or []:
                user_id = row.get(column) if isinstance(row, dict) else None
                user = db.session.get(User, user_id) if isinstance(user_id, int) else None
                if user is None or user.id in seen:
                    continue
                if user.id == author.id:
                    raise ChainError(f"「{slot.label}」中不能包含填写人本人", slot.key)
                why = refusal(user, slot_roles(spec, slot), f"签署「{slot.label}」")
                if why:
                    raise ChainError(why + "，请修改表单中的人员", slot.key)
                seen.add(user.id)
                people.append((user, f"{slot.label}（{user.name}）"))
            if not people:
                raise ChainError(f"「{slot.label}」至少需要一位评审人员", slot.key)
        for user, label in people:
            if user.id == author.id and not author_signs:
                raise ChainError("不能由填写人本人签署自己的表单", slot.key)
            earlier = holder_of.get(user.id)
            if earlier and not spec.signers_may_repeat and (picked_by_author or earlier[1]):
                fix = f"请为「{slot.label}」另选他人" if picked_by_author else f"请不要在「{earlier[0]}」中选择 {user.name}"
                raise ChainError(f"{user.name} 已是「{earlier[0]}」的签署人，同一轮中一人只能签署一个环节，{fix}",
                                 slot.key)
            holder_of.setdefault(user.id, (slot.label, picked_by_author))
            entry = {"key": slot.key, "label": label, "signer_id": user.id, "signer_name": user.name,
                     "comment_required": slot.comment_required,
                     "comment_label": slot.comment_label or "意见"}
            if user.id == author.id:
                entry["author_signs"] = True
            chain.append(entry)
    return chain


def principals_of(deputy: User, on: date | None = None) -> list[int]:
    """Ids of the people `deputy` may sign for on `on` (default today,
    Asia/Shanghai): delegations in force whose principal is active and for
    whom `deputy` may stand in (deputy_refusal)."""
    on = on or clock.today()
    principals = db.session.scalars(sa.select(User).join(Delegation, Delegation.principal_id == User.id).where(
        Delegation.deputy_id == deputy.id, Delegation.revoked_at.is_(None),
        Delegation.starts_on <= on, Delegation.ends_on >= on))
    return [p.id for p in principals if deputy_refusal(deputy, p) is None]


def acting_for(user: User, record: Record) -> User | None:
    """Whom `user` would sign for on this record now: himself, the person he
    deputises for, or None when he may not sign it."""
    if record.status != "submitted" or record.waiting_for_id is None or record.current_slot is None:
        return None
    if record.author_id == user.id and not (record.chain or [{}])[record.current_slot].get("author_signs"):
        return None
    if not user.active or user.role not in SIGNING_ROLES:
        return None
    if record.waiting_for_id == user.id:
        return user
    if record.waiting_for_id in principals_of(user):
        return db.session.get(User, record.waiting_for_id)
    return None


def inbox_query(user: User):
    """Records waiting for `user`, or for someone he deputises for today. His
    own sheets only where the chain names him (a project_owner slot)."""
    waiting_for = [user.id] + principals_of(user)
    return sa.select(Record).where(Record.status == "submitted", Record.waiting_for_id.in_(waiting_for),
                                   sa.or_(Record.author_id != user.id, Record.waiting_for_id == user.id))


def working_days_between(start, end) -> int:
    """Whole working days (Mon–Fri) from `start` to `end` (stored UTC
    timestamps), counted on the department's calendar (salestrack.clock)."""
    days = 0
    day = clock.local_date(start)
    last = clock.local_date(end)
    while day < last:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days += 1
    return days


def is_overdue(record: Record, now=None) -> bool:
    if record.waiting_since is None:
        return False
    limit = current_app.config["SIGNOFF_OVERDUE_WORKING_DAYS"]
    return working_days_between(record.waiting_since, now or utcnow()) > limit


def rounds(record: Record) -> list[dict]:
    """Every sign-off round, newest first, with its signatures."""
    by_round: dict[int, list] = {}
    for sig in record.signatures:
        by_round.setdefault(sig.round, []).append(sig)
    out = []
    for number in sorted(set(by_round) | ({record.round} if record.round else set()), reverse=True):
        out.append({"round": number, "signatures": sorted(by_round.get(number, []), key=lambda s: s.slot_index),
                    "current": number == record.round})
    return out
