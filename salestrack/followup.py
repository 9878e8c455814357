"""Follow-up discipline (sales-process.md): when each open project's next
follow-up sheet is due, judged from its customer class and the moment its
follow-up clock counts from, and which projects have gone past the limit
after which the manager may reassign them.

The clock counts from Project.followup_from: the later of the last real
follow-up (the contact date of the latest submitted follow-up sheet, see
operations.submit_record; paper-forms-toolkit.md 3.13) and the moment the
project was last reassigned (its new owner gets one full cadence period).
Rows written before that column existed fall back to last_followup_at, then
to the project's creation.

Computed in SQL without date arithmetic in the database: for each class the
cut-off timestamp is worked out here and compared per class, which also lets
the database use the index on last_followup_at."""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from .extensions import db
from .models import Customer, Project, User, utcnow
from .process import CLASS_CODES, OPEN_STAGES


@dataclass
class FollowUp:
    project_id: int
    project_no: str
    name: str
    customer: str
    owner_id: int
    owner: str
    customer_class: str
    last: datetime  # the last follow-up (else the project's creation), shown as 上次跟进
    due: datetime  # the clock's start (last follow-up or reassignment) + the class's interval
    overdue_days: int
    past_loss_limit: bool


@dataclass
class OwnerCount:
    owner_id: int
    owner: str
    due: int  # due within the window, overdue included
    overdue: int
    past_limit: int


def _intervals() -> dict[str, int]:
    return current_app.config["FOLLOWUP_INTERVAL_DAYS"]


def _loss_limits() -> dict[str, int | None]:
    return current_app.config["FOLLOWUP_LOSS_DAYS"]


def clock_start():
    """The moment a project's follow-up clock counts from (naive UTC)."""
    return sa.func.coalesce(Project.followup_from, Project.last_followup_at, Project.created_at)


def _last_before(cutoff: datetime, inclusive: bool = True):
    """COALESCE(followup_from, last_followup_at, created_at) <= cutoff (or <),
    written so the index on the projects' open work can serve it."""
    def cmp(column):
        return column <= cutoff if inclusive else column < cutoff
    return sa.or_(cmp(Project.followup_from),
                  sa.and_(Project.followup_from.is_(None), cmp(Project.last_followup_at)),
                  sa.and_(Project.followup_from.is_(None), Project.last_followup_at.is_(None),
                          cmp(Project.created_at)))


def due_condition(moment: datetime, inclusive: bool = True):
    """Projects whose next follow-up is due at (or, not inclusive, before) `moment`."""
    return sa.or_(*[sa.and_(Project.customer_class == c,
                            _last_before(moment - timedelta(days=_intervals().get(c, 30)), inclusive))
                    for c in CLASS_CODES])


def loss_condition(now: datetime, klass: str | None = None):
    """More whole days without a follow-up than the class's loss limit (D has none)."""
    parts = [sa.and_(Project.customer_class == c, _last_before(now - timedelta(days=limit + 1)))
             for c, limit in _loss_limits().items() if limit is not None and klass in (None, c)]
    return sa.or_(*parts) if parts else sa.false()


def _rows(where, now: datetime, limit: int) -> list[FollowUp]:
    """The `limit` most urgent projects matching `where`: one query per class,
    each already in due-date order (the interval is the same within a
    class), merged here. The inner query reads only the projects' index; the
    names are joined to the few rows kept."""
    last = clock_start()
    per_class = []
    limits = _loss_limits()
    for klass in CLASS_CODES:
        interval = timedelta(days=_intervals().get(klass, 30))
        loss = limits.get(klass)
        urgent = (sa.select(Project.id, last.label("last"))
                  .where(*where, Project.customer_class == klass)
                  .order_by(last, Project.id).limit(limit).subquery())
        rows = db.session.execute(
            sa.select(Project.id, Project.project_no, Project.name,
                      sa.func.coalesce(Customer.short_name, Customer.name), Project.owner_id, User.name,
                      Project.customer_class, sa.func.coalesce(Project.last_followup_at, Project.created_at),
                      urgent.c.last)
            .join(urgent, urgent.c.id == Project.id)
            .join(Customer, Customer.id == Project.customer_id).join(User, User.id == Project.owner_id)
            .order_by(urgent.c.last, Project.id)).all()
        per_class.append([FollowUp(*r[:8], due=r[8] + interval, overdue_days=max(0, (now - r[8] - interval).days),
                                   past_loss_limit=loss is not None and (now - r[8]).days > loss) for r in rows])
    return list(heapq.merge(*per_class, key=lambda f: (f.due, f.project_id)))[:limit]


def _open(scope_clauses) -> list:
    return [*scope_clauses, Project.stage.in_(OPEN_STAGES)]


def due_list(scope_clauses, within_days: int = 7, limit: int = 200, now: datetime | None = None) -> list[FollowUp]:
    """Open projects whose follow-up is due within `within_days` or overdue,
    most urgent first. `scope_clauses`: access.project_scope(user) and any
    narrowing filters."""
    now = now or utcnow()
    return _rows([*_open(scope_clauses), due_condition(now + timedelta(days=within_days))], now, limit)


def past_loss_limit(scope_clauses, limit: int = 200, now: datetime | None = None) -> list[FollowUp]:
    """Open projects past their class's loss limit, longest without follow-up first."""
    now = now or utcnow()
    return _rows([*_open(scope_clauses), loss_condition(now)], now, limit)


def counts_by_owner(scope_clauses, within_days: int = 7, now: datetime | None = None) -> list[OwnerCount]:
    """Per rep: follow-ups due (within the window), overdue, and past the loss limit."""
    now = now or utcnow()

    def flag(condition):
        return sa.func.sum(sa.case((condition, 1), else_=0))

    per_owner = (sa.select(Project.owner_id, sa.func.count().label("due"),
                           flag(due_condition(now, inclusive=False)).label("overdue"),
                           flag(loss_condition(now)).label("past_limit"))
                 .where(*_open(scope_clauses), due_condition(now + timedelta(days=within_days)))
                 .group_by(Project.owner_id).subquery())
    rows = db.session.execute(
        sa.select(per_owner.c.owner_id, User.name, per_owner.c.due, per_owner.c.overdue, per_owner.c.past_limit)
        .join(User, User.id == per_owner.c.owner_id).order_by(User.name)).all()
    return [OwnerCount(*r) for r in rows]
