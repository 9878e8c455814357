"""The numbers of the funnel page: the funnel and its monthly trend, the
weighted and historical forecasts, the revenue collection forecast, stage
conversion and time in stage, stale stages, rep and team evaluation, and the
lead-source share. Every function takes a Scope (what the user may see plus
the chosen team, rep and period), aggregates in SQL and returns plain
dataclasses; Python only combines the few aggregated rows."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from . import access
from .extensions import db
from .models import Customer, Project, ProjectEvent, Record, Target, Team, User, utcnow
from .process import FUNNEL_STAGES, LEAD_SOURCES, OPEN_STAGES, ROLE_LABELS

CENT = Decimal("0.01")


def money(value) -> Decimal:
    """A sum from the database as 万元 with two decimals (SQLite sums in floats)."""
    return Decimal(str(value or 0)).quantize(CENT)


def ratio(part, whole) -> float | None:
    """part / whole, or None when there is nothing to divide by."""
    return float(part) / float(whole) if whole else None


# ── periods and scope ─────────────────────────────────────────────────────
def utc_midnight(day: date) -> datetime:
    """The start of a local calendar day as the naive UTC timestamp stored in the database."""
    from . import clock
    return clock.start_of_day(day)


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """Local calendar days from `start` up to, not including, `end`."""
    start: date
    end: date
    label: str = ""

    @property
    def start_at(self) -> datetime:
        return utc_midnight(self.start)

    @property
    def end_at(self) -> datetime:
        return utc_midnight(self.end)

    def month_starts(self) -> list[date]:
        """The first day of every month the period touches, plus the one after."""
        months = [date(self.start.year, self.start.month, 1)]
        while months[-1] < self.end:
            months.append(add_months(months[-1], 1))
        return months


PERIODS = (("this_month", "本月"), ("last_month", "上月"), ("this_quarter", "本季度"),
           ("last_quarter", "上季度"), ("this_year", "本年"), ("last_year", "去年"),
           ("last_12", "最近 12 个月"))
DEFAULT_PERIOD = "this_year"


def period_for(key: str | None, today: date | None = None) -> Period:
    """A named period around `today` (local date); unknown names give this year."""
    today = today or local_today()
    key = key if key in dict(PERIODS) else DEFAULT_PERIOD
    month = date(today.year, today.month, 1)
    quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    start, end = {
        "this_month": (month, add_months(month, 1)),
        "last_month": (add_months(month, -1), month),
        "this_quarter": (quarter, add_months(quarter, 3)),
        "last_quarter": (add_months(quarter, -3), quarter),
        "this_year": (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "last_year": (date(today.year - 1, 1, 1), date(today.year, 1, 1)),
        "last_12": (add_months(month, -11), add_months(month, 1)),
    }[key]
    return Period(start, end, dict(PERIODS)[key])


def local_today() -> date:
    """Today in the department's time zone (salestrack.clock)."""
    from . import clock
    return clock.today()


@dataclass(frozen=True)
class Scope:
    """Which projects a number covers: those the user may see (access clause),
    optionally one team or one rep, over a period."""
    visible: Any
    period: Period
    team_id: int | None = None
    owner_id: int | None = None
    product_line: str | None = None  # 应用类型/所属产品, as stored

    @property
    def is_everything(self) -> bool:
        """Every project: a role that sees all, with no team, rep or product line chosen."""
        return (isinstance(self.visible, sa.sql.elements.True_) and not self.team_id and not self.owner_id
                and not self.product_line)

    def clauses(self) -> list:
        out = [self.visible]
        if self.team_id:
            out.append(Project.team_id == self.team_id)
        if self.owner_id:
            out.append(Project.owner_id == self.owner_id)
        if self.product_line:
            out.append(Project.product_line == self.product_line)
        return out


def scope_for(user: User, period: Period, team_id: int | None = None, owner_id: int | None = None,
              product_line: str | None = None) -> Scope:
    """Always starts from access.project_scope, so filters only ever narrow."""
    return Scope(access.project_scope(user), period, team_id, owner_id, product_line or None)


# ── SQL helpers ───────────────────────────────────────────────────────────
class days_between(FunctionElement):
    """Whole days from the date of timestamp `b` to date `a`, on SQLite and PostgreSQL."""
    type = sa.Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({a}) - julianday(date({b})))"


@compiles(days_between, "postgresql")
def _days_between_postgresql(element, compiler, **kw):
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST({a} AS DATE) - CAST({b} AS DATE))"


class month_of(FunctionElement):
    """'YYYY-MM' of a date column, on SQLite (ISO text) and PostgreSQL."""
    type = sa.String()
    inherit_cache = True
    name = "month_of"


@compiles(month_of, "sqlite")
def _month_of_sqlite(element, compiler, **kw):
    return f"substr({compiler.process(list(element.clauses)[0], **kw)}, 1, 7)"


@compiles(month_of, "postgresql")
def _month_of_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(list(element.clauses)[0], **kw)}, 'YYYY-MM')"


def stage_number(column):
    """1–8 for the funnel stages, NULL for lost and postponed."""
    return sa.case({s.code: s.number for s in FUNNEL_STAGES}, value=column, else_=None)


def bucket(column, boundaries: list):
    """Index i of the interval [boundaries[i-1], boundaries[i]) holding the value
    (0 before the first boundary); comparisons only, so it works everywhere."""
    return sa.case(*[(column < b, i) for i, b in enumerate(boundaries)], else_=len(boundaries))


def reached_stage(project=Project):
    """The highest funnel stage a project ever entered (a skipped stage counts
    as passed), from its history; 1 for a project with none."""
    ev = aliased(ProjectEvent)
    highest = (sa.select(sa.func.max(stage_number(ev.to_value)))
               .where(ev.project_id == project.id, ev.kind.in_(("created", "stage"))).scalar_subquery())
    return sa.case((project.stage == "won", 8), else_=sa.func.coalesce(highest, 1))


# ── the funnel and its trend ──────────────────────────────────────────────
@dataclass
class StageRow:
    code: str
    number: int
    label: str
    count: int = 0
    amount: Decimal | None = Decimal("0.00")  # None in the trend, which counts only


@dataclass
class TrendMonth:
    month: date
    stages: list[StageRow]  # open stages as at the month's end, then 签约成交 within the month

    @property
    def open_count(self) -> int:
        return sum(s.count for s in self.stages if s.code != "won")


def _stage_rows() -> list[StageRow]:
    return [StageRow(s.code, s.number, s.label) for s in FUNNEL_STAGES]


def _open_now(scope: Scope) -> dict[str, tuple[int, Decimal]]:
    """Open projects per stage right now, from the projects themselves."""
    return {stage: (n, money(amount)) for stage, n, amount in db.session.execute(
        sa.select(Project.stage, sa.func.count(), sa.func.sum(Project.amount))
        .where(*scope.clauses(), Project.stage.in_(OPEN_STAGES)).group_by(Project.stage))}


def _history_rows(scope: Scope, boundaries: list[datetime], amounts: bool):
    """Stage changes from boundaries[0] on, summed per (stage entered, stage
    left, interval b of `boundaries`; b = len(boundaries) after the last): the
    few rows the funnel at earlier moments is worked out from."""
    ev = ProjectEvent
    if scope.is_everything and not amounts and db.session.get_bind().dialect.name == "sqlite":
        return _history_counts(boundaries)  # SQLite groups by sorting: counting index ranges is faster
    at_bucket = bucket(ev.at, boundaries).label("b")
    columns = [ev.to_value, ev.from_value, at_bucket, sa.func.count()]
    q = sa.select(*columns, sa.func.sum(Project.amount)) if amounts else sa.select(*columns)
    q = q.where(ev.kind.in_(("created", "stage")), ev.at >= boundaries[0])
    if amounts or not scope.is_everything:
        q = q.join(Project, Project.id == ev.project_id).where(*scope.clauses())
    return db.session.execute(q.group_by(ev.to_value, ev.from_value, at_bucket)).all()


def _history_counts(boundaries: list[datetime]):
    """The same rows for the whole company, as one count per stage, direction
    and interval, each read from a range of the (to_value, at) or
    (from_value, at) index instead of sorting every change."""
    ev = ProjectEvent
    intervals = list(zip(boundaries, boundaries[1:] + [None], strict=True))
    keys, counts = [], []
    for direction, column in (("in", ev.to_value), ("out", ev.from_value)):
        for code in OPEN_STAGES:
            for b, (lo, hi) in enumerate(intervals, start=1):
                q = sa.select(sa.func.count()).select_from(ev).where(
                    column == code, ev.at >= lo, ev.kind.in_(("created", "stage")))
                counts.append((q.where(ev.at < hi) if hi else q).scalar_subquery().label(f"c{len(counts)}"))
                keys.append((direction, code, b))
    row = db.session.execute(sa.select(*counts)).one()
    return [(code, None, b, n) if direction == "in" else (None, code, b, n)
            for (direction, code, b), n in zip(keys, row, strict=True) if n]


def _funnels_at(scope: Scope, moments: list[datetime], amounts: bool = True) -> list[dict[str, list]]:
    """Open projects per stage as at each of `moments` (ascending, none in the
    future): today's funnel with the stage changes made since each moment
    undone. Only the history after the first moment is read."""
    now = _open_now(scope)
    totals = [{code: [n, amount] for code, (n, amount) in now.items()} for _ in moments]
    for to_value, from_value, b, n, *amount in _history_rows(scope, moments, amounts):
        amount = money(amount[0]) if amounts else Decimal(0)
        # an event in interval b (at or after moments[b-1]) happened after moments 0 … b-1
        for i in range(b):
            snapshot = totals[i]
            for code, sign in ((to_value, -1), (from_value, 1)):
                if code in OPEN_STAGES:
                    entry = snapshot.setdefault(code, [0, Decimal(0)])
                    entry[0] += sign * n
                    entry[1] += sign * amount
    return totals


def _won_between(scope: Scope, boundaries: list[datetime]) -> dict[int, tuple[int, Decimal]]:
    """Projects that reached 签约成交 in each interval of `boundaries` (index 1 is
    the first interval)."""
    ev = ProjectEvent
    at_bucket = bucket(ev.at, boundaries).label("b")
    return {b: (n, money(amount)) for b, n, amount in db.session.execute(
        sa.select(at_bucket, sa.func.count(), sa.func.sum(Project.amount))
        .join(Project, Project.id == ev.project_id)
        .where(ev.kind == "stage", ev.to_value == "won", ev.at >= boundaries[0], ev.at < boundaries[-1],
               *scope.clauses())
        .group_by(at_bucket))}


def _rows(snapshot: dict[str, list], won: tuple[int, Decimal]) -> list[StageRow]:
    rows = _stage_rows()
    for row in rows:
        row.count, row.amount = won if row.code == "won" else snapshot.get(row.code, (0, money(0)))
    return rows


def funnel(scope: Scope) -> list[StageRow]:
    """Count and 预计金额 per stage: open projects in stages 1–7 as at the end
    of the period (now, for a period not over yet), and the projects signed
    within the period."""
    now = utcnow()
    end = min(scope.period.end_at, now)
    if end == now:  # nothing to undo
        snapshot = {code: list(value) for code, value in _open_now(scope).items()}
    else:
        [snapshot] = _funnels_at(scope, [end])
    won = _won_between(scope, [scope.period.start_at, end])
    return _rows(snapshot, won.get(1, (0, money(0))))


def trend(scope: Scope, months: int = 12) -> list[TrendMonth]:
    """Open projects per stage at the end of each month, and the projects
    signed in it, for the `months` months up to the period's last month (or
    the current month, for a period not over yet). Counts only: amounts
    would need every stage change joined to its project."""
    last_day = min(scope.period.end - timedelta(days=1), local_today())
    last = date(last_day.year, last_day.month, 1)
    starts = [add_months(last, i - months + 1) for i in range(months + 1)]
    boundaries = [utc_midnight(d) for d in starts]
    boundaries[-1] = min(boundaries[-1], utcnow())
    snapshots = _funnels_at(scope, boundaries[1:], amounts=False)
    won = _won_between(scope, boundaries)
    out = []
    for i, month in enumerate(starts[:-1]):
        rows = _rows(snapshots[i], won.get(i + 1, (0, money(0))))
        for row in rows:
            row.amount = None
        out.append(TrendMonth(month, rows))
    return out


# ── conversion and time in stage ──────────────────────────────────────────
@dataclass
class ConversionRow:
    code: str
    number: int
    label: str
    reached: int = 0  # projects of the cohort that reached this stage
    next_reached: int | None = None  # … and the next one
    avg_days: float | None = None  # average stay in this stage, of stays ended in the period
    stays: int = 0

    @property
    def rate(self) -> float | None:
        return ratio(self.next_reached, self.reached) if self.next_reached is not None else None


def conversion(scope: Scope) -> list[ConversionRow]:
    """Stage-to-stage conversion of the projects created in the period (reached
    n+1 / reached n, from their whole history), and the average days spent in
    each stage by the stays that ended in the period."""
    reached = reached_stage().label("reached")
    cohort = (sa.select(reached).where(*scope.clauses(), Project.created_at >= scope.period.start_at,
                                       Project.created_at < scope.period.end_at).subquery())
    by_reached = dict(db.session.execute(
        sa.select(cohort.c.reached, sa.func.count()).group_by(cohort.c.reached)).all())
    ev = ProjectEvent
    stays = {code: (avg, n) for code, avg, n in db.session.execute(
        sa.select(ev.from_value, sa.func.avg(ev.days_in_stage), sa.func.count())
        .join(Project, Project.id == ev.project_id)
        .where(ev.kind == "stage", ev.at >= scope.period.start_at, ev.at < scope.period.end_at, *scope.clauses())
        .group_by(ev.from_value))}
    rows = [ConversionRow(s.code, s.number, s.label) for s in FUNNEL_STAGES]
    for row in rows:
        row.reached = sum(n for r, n in by_reached.items() if r is not None and r >= row.number)
        avg, row.stays = stays.get(row.code, (None, 0))
        row.avg_days = round(float(avg), 1) if avg is not None else None
    for row, following in zip(rows, rows[1:], strict=False):
        row.next_reached = following.reached
    return rows


def win_rates(scope: Scope) -> dict[str, float | None]:
    """Each stage's measured conversion to 成交: of the projects closed (won or
    lost) in the twelve months up to the period's end (or now) that reached
    the stage, the share that was won: the recent track record."""
    until = min(scope.period.end_at, utcnow())
    since = until - timedelta(days=365)
    reached = reached_stage().label("reached")
    closed = sa.select(Project.stage, reached).where(
        *scope.clauses(), Project.stage.in_(("won", "lost")), Project.stage_entered_at >= since,
        Project.stage_entered_at < until).subquery()
    counts = db.session.execute(
        sa.select(closed.c.stage, closed.c.reached, sa.func.count()).group_by(closed.c.stage, closed.c.reached)).all()
    won = sum(n for stage, _, n in counts if stage == "won")
    rates = {}
    for s in FUNNEL_STAGES:
        lost = sum(n for stage, r, n in counts if stage == "lost" and r is not None and r >= s.number)
        rates[s.code] = ratio(won, won + lost)
    return rates


# ── forecasts ─────────────────────────────────────────────────────────────
@dataclass
class ForecastRow:
    code: str
    label: str
    count: int = 0
    amount: Decimal = Decimal("0.00")
    weighted: Decimal = Decimal("0.00")  # Σ 预计金额 × 签约概率
    rate: float | None = None  # the stage's measured conversion to 成交
    historical: Decimal = Decimal("0.00")  # 预计金额 × rate


@dataclass
class Forecast:
    rows: list[ForecastRow]
    count: int
    amount: Decimal
    weighted: Decimal
    historical: Decimal


def forecast(scope: Scope) -> Forecast:
    """Open projects expected to sign within the period, per stage: the
    weighted forecast and its historical variant."""
    sums = {stage: (n, amount, weighted) for stage, n, amount, weighted in db.session.execute(
        sa.select(Project.stage, sa.func.count(), sa.func.sum(Project.amount),
                  sa.func.sum(Project.amount * Project.probability))
        .where(*scope.clauses(), Project.stage.in_(OPEN_STAGES),
               Project.expected_sign_date >= scope.period.start, Project.expected_sign_date < scope.period.end)
        .group_by(Project.stage))}
    rates = win_rates(scope)
    rows = []
    for s in FUNNEL_STAGES:
        if s.code not in OPEN_STAGES:
            continue
        n, amount, weighted = sums.get(s.code, (0, 0, 0))
        amount = money(amount)
        rate = rates[s.code]
        rows.append(ForecastRow(s.code, s.label, n, amount, money(Decimal(str(weighted or 0)) / 100), rate,
                                money(amount * Decimal(str(rate))) if rate is not None else money(0)))
    return Forecast(rows, sum(r.count for r in rows), sum((r.amount for r in rows), money(0)),
                    sum((r.weighted for r in rows), money(0)), sum((r.historical for r in rows), money(0)))


COLLECTION_COLUMNS = (("sure", "预计可回款（>90%）"), ("hopeful", "有希望回款（50%–90%）"),
                      ("collected", "已实现回款"), ("lost", "丢失项目"), ("postponed", "延期项目"))


@dataclass
class CollectionRow:
    month: date | None  # None for the total
    sure: Decimal = Decimal("0.00")
    hopeful: Decimal = Decimal("0.00")
    collected: Decimal = Decimal("0.00")
    lost: Decimal = Decimal("0.00")
    postponed: Decimal = Decimal("0.00")


def collection_forecast(scope: Scope) -> list[CollectionRow]:
    """销售收入预测表 by month, in 万元, read from the projects' 回款计划
    (instalments): 预计可回款 is what is still to collect (计划金额 − 实际金额)
    of instalments of projects above 90 % (signed), by 计划日期; a signed
    project without a plan counts its whole amount at 预计签约日期. 有希望回款
    is the amount of open projects at 50–90 %, 丢失/延期 the amounts of lost
    and postponed projects, each by 预计签约日期. 已实现回款 is the 实际金额 of
    instalments by 实际回款日期. The last row is the total."""
    from .models import Instalment
    months = scope.period.month_starts()[:-1]
    start, end = scope.period.start, scope.period.end
    sure_project = sa.and_(Project.stage.not_in(("lost", "postponed")), Project.probability > 90)
    has_plan = sa.exists().where(Instalment.project_id == Project.id)
    month = month_of(Project.expected_sign_date).label("m")

    def total_if(condition, value=Project.amount):
        return sa.func.sum(sa.case((condition, value), else_=0))

    rows = {f"{d:%Y-%m}": CollectionRow(d) for d in months}
    for m, sure, hopeful, lost, postponed in db.session.execute(
            sa.select(month,
                      total_if(sa.and_(sure_project, ~has_plan)),
                      total_if(sa.and_(Project.stage.in_(OPEN_STAGES), Project.probability.between(50, 90))),
                      total_if(Project.stage == "lost"), total_if(Project.stage == "postponed"))
            .where(*scope.clauses(), Project.expected_sign_date >= start, Project.expected_sign_date < end)
            .group_by(month)):
        row = rows[m]
        row.sure, row.hopeful, row.lost, row.postponed = money(sure), money(hopeful), money(lost), money(postponed)
    outstanding = Instalment.planned_amount - sa.func.coalesce(Instalment.actual_amount, 0)
    month = month_of(Instalment.planned_date).label("m")
    for m, amount in db.session.execute(
            sa.select(month, sa.func.sum(outstanding)).join(Project, Project.id == Instalment.project_id)
            .where(*scope.clauses(), sure_project, outstanding > 0,
                   Instalment.planned_date >= start, Instalment.planned_date < end).group_by(month)):
        rows[m].sure += money(amount)
    month = month_of(Instalment.actual_date).label("m")
    for m, amount in db.session.execute(
            sa.select(month, sa.func.sum(Instalment.actual_amount)).join(Project, Project.id == Instalment.project_id)
            .where(*scope.clauses(), Instalment.actual_amount > 0, Instalment.actual_date >= start,
                   Instalment.actual_date < end).group_by(month)):
        rows[m].collected = money(amount)
    out = [rows[m] for m in sorted(rows)]
    total = CollectionRow(None)
    for key, _ in COLLECTION_COLUMNS:
        setattr(total, key, sum((getattr(r, key) for r in out), money(0)))
    return out + [total]


# ── stages without a reason for staying ───────────────────────────────────
@dataclass
class StaleProject:
    id: int
    project_no: str
    name: str
    stage: str
    owner: str
    entered_at: datetime
    days: int


def stale_stages(scope: Scope, limit: int = 50, now: datetime | None = None) -> tuple[int, list[StaleProject]]:
    """Open projects more than STAGE_STAY_DAYS days in their stage without a
    阶段停留原因: how many, and the longest-waiting `limit` of them."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["STAGE_STAY_DAYS"] + 1)
    where = [*scope.clauses(), Project.stage.in_(OPEN_STAGES), Project.stage_entered_at <= cutoff,
             sa.or_(Project.stage_stay_reason.is_(None), Project.stage_stay_reason == "")]
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Project).where(*where))
    rows = db.session.execute(
        sa.select(Project.id, Project.project_no, Project.name, Project.stage, User.name, Project.stage_entered_at)
        .join(User, User.id == Project.owner_id).where(*where)
        .order_by(Project.stage_entered_at, Project.id).limit(limit)).all()
    return total, [StaleProject(*r, days=(now - r[5]).days) for r in rows]


# ── evaluation ────────────────────────────────────────────────────────────
@dataclass
class Evaluation:
    kind: str  # rep | team
    id: int
    name: str
    team: str = ""
    title: str = ""  # the person's 职务 (业务员, 业务经理 …); empty for a team
    target_amount: Decimal = Decimal("0.00")
    signed_amount: Decimal = Decimal("0.00")
    target_customers: int = 0
    new_customers: int = 0
    signed: int = 0  # projects signed in the period
    signed_customers: int = 0
    leads: int = 0  # projects created in the period
    leads_won: int = 0  # … of which signed by now
    avg_cycle_days: float | None = None  # days from lead to signing, of those signed in the period
    collected: Decimal = Decimal("0.00")
    followups: int = 0  # follow-up sheets first submitted in the period
    late_entries: int = 0  # … of which 补录 (filed more than 24 h after the contact)

    @property
    def achievement(self) -> float | None:  # 达成率
        return ratio(self.signed_amount, self.target_amount)

    @property
    def customer_achievement(self) -> float | None:
        return ratio(self.new_customers, self.target_customers)

    @property
    def lead_conversion(self) -> float | None:  # 线索转化率
        return ratio(self.leads_won, self.leads)

    @property
    def collection_rate(self) -> float | None:  # 回款率
        return ratio(self.collected, self.signed_amount)

    @property
    def avg_deal(self) -> Decimal | None:  # 客单价: signed amount per signed customer
        return money(self.signed_amount / self.signed_customers) if self.signed_customers else None


def _month_keys(period: Period) -> list[tuple[int, int]]:
    return [(d.year, d.month) for d in period.month_starts()[:-1]]


def _targets(period: Period) -> tuple[dict, dict]:
    """Targets of the period's months: {(user_id, (y, m)): (amount, customers)}
    and the same per team (team-wide targets only)."""
    months = _month_keys(period)
    years = {y for y, _ in months}
    by_user, by_team = {}, {}
    for t in db.session.scalars(sa.select(Target).where(Target.year.in_(years))):
        if (t.year, t.month) not in months:
            continue
        value = (Decimal(t.signed_amount or 0), t.new_customers or 0)
        if t.user_id:
            by_user[(t.user_id, (t.year, t.month))] = value
        elif t.team_id:
            by_team[(t.team_id, (t.year, t.month))] = value
    return by_user, by_team


def _evaluation_sums(scope: Scope, group):
    """Signed, lead and customer sums grouped by owner or team column."""
    from .models import Instalment
    p = scope.period
    collected = (sa.select(Instalment.project_id, sa.func.sum(Instalment.actual_amount).label("amount"))
                 .group_by(Instalment.project_id).subquery())
    signed = {k: v for k, *v in db.session.execute(
        sa.select(group, sa.func.count(), sa.func.sum(Project.amount),
                  sa.func.sum(sa.func.coalesce(collected.c.amount, 0)),
                  sa.func.count(sa.distinct(Project.customer_id)),
                  sa.func.avg(days_between(Project.signed_at, Project.created_at)))
        .outerjoin(collected, collected.c.project_id == Project.id)
        .where(*scope.clauses(), Project.stage == "won", Project.signed_at >= p.start, Project.signed_at < p.end)
        .group_by(group))}
    leads = {k: (n, won) for k, n, won in db.session.execute(
        sa.select(group, sa.func.count(), sa.func.sum(sa.case((Project.stage == "won", 1), else_=0)))
        .where(*scope.clauses(), Project.created_at >= p.start_at, Project.created_at < p.end_at)
        .group_by(group))}
    return signed, leads


def _late_entries(period) -> dict[int, tuple[int, int]]:
    """{author id: (follow-up sheets first submitted in `period`, of which
    补录)} — the 24-hour rule of paper-forms-toolkit.md 3.13, per rep."""
    from .formkit import registry
    keys = [s.key for s in registry.all_specs() if s.followup]
    rows = db.session.execute(
        sa.select(Record.author_id, sa.func.count(), sa.func.sum(sa.case((Record.late_entry, 1), else_=0)))
        .where(Record.sheet.in_(keys), Record.first_submitted_at >= period.start_at,
               Record.first_submitted_at < period.end_at)
        .group_by(Record.author_id))
    return {uid: (n, int(late or 0)) for uid, n, late in rows}


def evaluation(scope: Scope, user: User) -> tuple[list[Evaluation], list[Evaluation]]:
    """目标 vs 实际 per rep and per team for the period (reps and teams the
    user may see, narrowed by the scope's filters)."""
    p = scope.period
    people = sa.select(User.id, User.name, User.team_id, User.role, User.title).where(User.role.in_(("rep", "manager")))
    teams_q = sa.select(Team.id, Team.name)
    if user.role == "rep":
        people = people.where(User.id == user.id)
        teams_q = teams_q.where(sa.false())
    elif user.role == "manager":
        mine = access.managed_team_ids(user)
        people = people.where(sa.or_(User.team_id.in_(mine), User.id == user.id))
        teams_q = teams_q.where(Team.id.in_(mine))
    if scope.team_id:
        people = people.where(User.team_id == scope.team_id)
        teams_q = teams_q.where(Team.id == scope.team_id)
    if scope.owner_id:
        people = people.where(User.id == scope.owner_id)
        teams_q = teams_q.where(sa.false())
    people = db.session.execute(people.order_by(User.name)).all()
    teams = db.session.execute(teams_q.order_by(Team.name)).all()
    team_names = dict(db.session.execute(sa.select(Team.id, Team.name)).all())
    by_user, by_team = _targets(p)
    months = _month_keys(p)

    def new_customers(column):
        return dict(db.session.execute(
            sa.select(column, sa.func.count()).where(Customer.created_at >= p.start_at, Customer.created_at < p.end_at)
            .group_by(column)).all())

    def fill(row: Evaluation, signed, leads, customers):
        row.followups, row.late_entries = late.get(row.id, (0, 0)) if row.kind == "rep" else (
            sum(late.get(uid, (0, 0))[0] for uid in members.get(row.id, ())),
            sum(late.get(uid, (0, 0))[1] for uid in members.get(row.id, ())))
        n, amount, collected, n_customers, cycle = signed.get(row.id, (0, 0, 0, 0, None))
        row.signed, row.signed_amount, row.collected = n, money(amount), money(collected)
        row.signed_customers = n_customers
        row.avg_cycle_days = round(float(cycle), 1) if cycle is not None else None
        row.leads, row.leads_won = (x or 0 for x in leads.get(row.id, (0, 0)))
        row.new_customers = customers.get(row.id, 0)
        return row

    late = _late_entries(p)
    members: dict[int, list[int]] = defaultdict(list)
    for uid, team_id in db.session.execute(sa.select(User.id, User.team_id).where(User.team_id.is_not(None))):
        members[team_id].append(uid)
    signed, leads = _evaluation_sums(scope, Project.owner_id)
    customers = new_customers(Customer.owner_id)
    reps = []
    for uid, name, team_id, role, title in people:
        row = fill(Evaluation("rep", uid, name, team_names.get(team_id, "")), signed, leads, customers)
        row.title = title or ROLE_LABELS.get(role, "")
        for month in months:
            amount, count = by_user.get((uid, month), (Decimal(0), 0))
            row.target_amount += amount
            row.target_customers += count
        row.target_amount = money(row.target_amount)
        reps.append(row)

    signed, leads = _evaluation_sums(scope, Project.team_id)
    customers = new_customers(Customer.team_id)
    out_teams = []
    for tid, name in teams:
        row = fill(Evaluation("team", tid, name, name), signed, leads, customers)
        for month in months:
            # The team's own target for the month, else the sum of its reps' targets.
            amount, count = by_team.get((tid, month)) or (
                sum((by_user.get((u, month), (Decimal(0), 0))[0] for u in members[tid]), Decimal(0)),
                sum(by_user.get((u, month), (Decimal(0), 0))[1] for u in members[tid]))
            row.target_amount += amount
            row.target_customers += count
        row.target_amount = money(row.target_amount)
        out_teams.append(row)
    return reps, out_teams


@dataclass
class SourceShare:
    source: str
    customers: int
    share: float | None


def lead_sources(scope: Scope) -> list[SourceShare]:
    """客户来源 of the customers signed in the period, as a share of them all,
    in the department's list order (then anything not on the list)."""
    source = sa.func.coalesce(Project.lead_source, "未填写").label("source")
    counts = dict(db.session.execute(
        sa.select(source, sa.func.count(sa.distinct(Project.customer_id)))
        .where(*scope.clauses(), Project.stage == "won", Project.signed_at >= scope.period.start,
               Project.signed_at < scope.period.end)
        .group_by(source)).all())
    total = sum(counts.values())
    order = list(LEAD_SOURCES) + sorted(set(counts) - set(LEAD_SOURCES))
    return [SourceShare(s, counts.get(s, 0), ratio(counts.get(s, 0), total)) for s in order]
