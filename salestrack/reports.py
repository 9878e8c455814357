"""The department's own reports in their paper layout (paper-forms-toolkit.md
Part 3): 销售漏斗表 by category (3.2), 销售收入预测表 with its 主表, 上副表
and 下副表 (3.6), 销售漏斗报表 (3.4), 销售项目跟踪表 with its 13 nodes
(3.7), and the reps' TOP ranking with their sheets filed by kind (3.5's
个人 tab, as a chart). Each function takes a funnel.Scope (what the user may
see, the team, rep, product line and period chosen) and returns a Report:
tables of columns in the paper's order and blocks of rows, each block with
its 合计 counted in SQL over all its rows, however many of them are listed. The page and the
Excel export render the same Report. Amounts are 万元, dates the
department's (Asia/Shanghai)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from . import clock
from .extensions import db
from .funnel import Scope, money
from .models import Customer, Instalment, Person, Project, ProjectEvent, ProjectNode, Record, Team, User
from .process import (CATEGORY_OF_STAGE, FUNNEL_CATEGORIES, OPEN_STAGES, REPORT_STAGE_NUMBERS, REPORT_STAGE_OF,
                      TRACKING_NODES)

ROWS_SHOWN = 50  # rows a page lists per block; the 合计 and the Excel export cover them all
EXPORT_ROWS = 100_000


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # the paper's heading
    kind: str = "text"  # text | int | money | date | node
    group: str = ""  # the heading printed over a run of columns (意向阶段, 销售前期 …)
    on_page: bool = True  # False: a paper column the system holds nothing for; in the export only


@dataclass
class Block:
    code: str
    label: str
    rows: list[dict[str, Any]]
    count: int  # rows in the block, listed or not
    totals: dict[str, Decimal | int] | None = None  # the 合计 row: Σ of each money (and count) column


@dataclass
class Table:
    key: str
    title: str
    columns: tuple[Column, ...]
    blocks: list[Block]
    note: str = ""

    @property
    def has_totals(self) -> bool:
        return any(b.totals is not None for b in self.blocks)


@dataclass
class Report:
    key: str
    title: str
    tables: list[Table]
    note: str = ""
    page: int = 1
    pages: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


def _owner_team_customer(q):
    return (q.join(Customer, Customer.id == Project.customer_id).join(User, User.id == Project.owner_id))


def contacts(customer_ids) -> dict[int, tuple[str, str, str]]:
    """{customer id: (name, 职位, 电话)} of each customer's main contact from
    its people (salestrack/people.py): its first recorded 关键决策人, else its
    first recorded person. Only the non-private columns are read."""
    out: dict[int, tuple[str, str, str]] = {}
    ids = sorted({i for i in customer_ids if i is not None})
    for start in range(0, len(ids), 1000):
        for cid, name, title, phone in db.session.execute(
                sa.select(Person.customer_id, Person.name, Person.title, Person.phone)
                .where(Person.customer_id.in_(ids[start:start + 1000]))
                .order_by(Person.customer_id, Person.key_decision_maker.desc(), Person.id)):
            out.setdefault(cid, (name, title or "", phone or ""))
    return out


def key_people(customer_ids) -> dict[int, str]:
    """{customer id: "姓名（职位）、…"} of each customer's 关键决策人, for
    销售漏斗报表's 关键人物情况."""
    out: dict[int, list[str]] = {}
    ids = sorted({i for i in customer_ids if i is not None})
    for start in range(0, len(ids), 1000):
        for cid, name, title in db.session.execute(
                sa.select(Person.customer_id, Person.name, Person.title)
                .where(Person.customer_id.in_(ids[start:start + 1000]), Person.key_decision_maker)
                .order_by(Person.customer_id, Person.id)):
            out.setdefault(cid, []).append(f"{name}（{title}）" if title else name)
    return {cid: "、".join(names) for cid, names in out.items()}


def _local_day(value) -> date | None:
    return clock.local_date(value)


def category_entered(project_ids) -> dict[int, date]:
    """{project id: the department's date it entered the 销售漏斗表 category it
    is in now}: the first of its latest run of stage changes that stayed in
    that category (process.CATEGORY_OF_STAGE), from its stage history."""
    runs: dict[int, list[tuple[str, Any]]] = {}
    ids = sorted(set(project_ids))
    for start in range(0, len(ids), 1000):
        for pid, to_value, at in db.session.execute(
                sa.select(ProjectEvent.project_id, ProjectEvent.to_value, ProjectEvent.at)
                .where(ProjectEvent.project_id.in_(ids[start:start + 1000]),
                       ProjectEvent.kind.in_(("created", "stage")))
                .order_by(ProjectEvent.project_id, ProjectEvent.at, ProjectEvent.id)):
            runs.setdefault(pid, []).append((CATEGORY_OF_STAGE.get(to_value), at))
    out = {}
    for pid, events in runs.items():
        current, entered = events[-1][0], events[-1][1]
        for category, at in reversed(events):
            if category != current:
                break
            entered = at
        out[pid] = _local_day(entered)
    return out


# ── 3.2 销售漏斗表 ─────────────────────────────────────────────────────────
FUNNEL_COLUMNS = (
    Column("category", "分类"), Column("customer", "客户名称"), Column("owner", "业务员"),
    Column("product_line", "应用类型"), Column("amount", "预计成交金额（万元）", "money"),
    Column("address", "客户地址"), Column("contact", "客户联系人"), Column("phone", "客户联系电话"),
    Column("entered", "进入本阶段漏斗时间", "date"), Column("competitors", "主要竞争对手"),
)


def _category_where(scope: Scope, category) -> list:
    if category.stages:
        return [*scope.clauses(), Project.stage.in_(category.stages)]
    return [*scope.clauses(), Project.stage == "won", Project.signed_at >= scope.period.start,
            Project.signed_at < scope.period.end]


def funnel_by_category(scope: Scope, limit: int = ROWS_SHOWN) -> Report:
    """销售漏斗表 (3.2): the open projects in the blocks 意向/方案/谈判 as they
    stand today, and the contracts signed in the period, each block with its
    合计 (count and Σ 预计成交金额, 万元) and its first `limit` rows by amount.
    Contact and phone come from the customer's people (contacts()), else the
    customer master; 进入本阶段漏斗时间 is when the project entered its
    category (category_entered()), for a new contract its 签约日期."""
    blocks = []
    for category in FUNNEL_CATEGORIES:
        where = _category_where(scope, category)
        count, total = db.session.execute(
            sa.select(sa.func.count(), sa.func.sum(Project.amount)).select_from(Project).where(*where)).one()
        # the block's first rows from the projects alone, then their customers and reps
        first = sa.select(Project.id).where(*where).order_by(Project.amount.desc().nulls_last(), Project.id) \
            .limit(limit).subquery()
        found = db.session.execute(_owner_team_customer(
            sa.select(Project.id, Project.customer_id, Customer.name, Customer.address, Customer.contact,
                      Customer.phone, User.name, Project.product_line, Project.amount, Project.competitors,
                      Project.signed_at).join(first, first.c.id == Project.id))
            .order_by(Project.amount.desc().nulls_last(), Project.id)).all()
        people = contacts(r[1] for r in found)
        entered = category_entered(r[0] for r in found) if category.stages else {}
        short = category.label.split("（", 1)[0]
        rows = []
        for pid, cid, customer, address, contact, phone, owner, product, amount, competitors, signed in found:
            name, _title, person_phone = people.get(cid, (contact or "", "", phone or ""))
            rows.append({"project_id": pid, "category": short, "customer": customer, "owner": owner,
                         "product_line": product or "", "amount": money(amount) if amount is not None else None,
                         "address": address or "", "contact": name, "phone": person_phone or phone or "",
                         "entered": signed if not category.stages else entered.get(pid),
                         "competitors": competitors or ""})
        blocks.append(Block(category.code, category.label, rows, count, {"amount": money(total)}))
    table = Table("funnel_by_category", "销售漏斗表", FUNNEL_COLUMNS, blocks,
                  note="意向、方案、谈判客户为今天仍在进行中的项目；本期新签为所选期间内签约的项目。")
    return Report("funnel_by_category", "销售漏斗表", [table])


# ── 3.6 销售收入预测表 ─────────────────────────────────────────────────────
def _forecast_columns(amount_label: str, split_label: str, date_label: str | None) -> tuple[Column, ...]:
    columns = (Column("category", "分类"), Column("customer", "客户名称"), Column("owner", "业务员"),
               Column("product_line", "应用类型"), Column("amount", amount_label, "money"),
               Column("software", "软件", "money", split_label), Column("implementation", "实施", "money", split_label))
    return columns + ((Column("date", date_label, "date"),) if date_label else ())


FORECAST_TABLES = (
    ("main", "主表", _forecast_columns("预计合同金额（万元）", "预测本期回款（万元）", "预计回款日期"),
     (("sure", "预计可回款（可能性大于90%）"), ("hopeful", "有希望回款项目（可能性90%—50%）"))),
    ("realised", "上副表（实现表）", _forecast_columns("合同金额（万元）", "本期回款（万元）", "回款日期"),
     (("collected", "已实现回款"),)),
    ("unrealised", "下副表（未实现表）", _forecast_columns("合同金额（万元）", "预计本期回款（万元）", "预计回款日期"),
     (("lost", "丢失项目"), ("postponed", "延期项目（未丢失）"))),
)


def _plan_in_period(scope: Scope):
    """Per project, the 回款计划 still to collect (计划金额 − 实际金额, 万元)
    of instalments planned in the period, split 软件/实施, and the first
    such 计划日期."""
    outstanding = Instalment.planned_amount - sa.func.coalesce(Instalment.actual_amount, 0)
    return (sa.select(Instalment.project_id.label("project_id"),
                      sa.func.sum(sa.case((Instalment.kind == "software", outstanding), else_=0)).label("software"),
                      sa.func.sum(sa.case((Instalment.kind == "implementation", outstanding), else_=0))
                      .label("implementation"),
                      sa.func.min(Instalment.planned_date).label("date"))
            .where(outstanding > 0, Instalment.planned_date >= scope.period.start,
                   Instalment.planned_date < scope.period.end)
            .group_by(Instalment.project_id).subquery())


def _collected_in_period(scope: Scope):
    """Per project, 实际金额 (万元) collected in the period, split 软件/实施,
    and the last 实际回款日期."""
    return (sa.select(Instalment.project_id.label("project_id"),
                      sa.func.sum(sa.case((Instalment.kind == "software", Instalment.actual_amount), else_=0))
                      .label("software"),
                      sa.func.sum(sa.case((Instalment.kind == "implementation", Instalment.actual_amount), else_=0))
                      .label("implementation"),
                      sa.func.max(Instalment.actual_date).label("date"))
            .where(Instalment.actual_amount > 0, Instalment.actual_date >= scope.period.start,
                   Instalment.actual_date < scope.period.end)
            .group_by(Instalment.project_id).subquery())


def _top_per_block(rows, order, limit: int, sums: tuple[str, ...]):
    """{block: (rows in it, {column: Σ}, its first `limit` rows by `order`)}
    of a subquery `rows` with a column `block`: one pass, with window
    functions, however many rows each block has."""
    ranked = sa.select(
        rows, sa.func.count().over(partition_by=rows.c.block).label("n"),
        *[sa.func.sum(rows.c[c]).over(partition_by=rows.c.block).label("sum_" + c) for c in sums],
        sa.func.row_number().over(partition_by=rows.c.block, order_by=[rows.c[c] for c in order]).label("rn"),
    ).subquery()
    out: dict[str, tuple[int, dict, list]] = {}
    for r in db.session.execute(sa.select(ranked).where(ranked.c.rn <= limit)
                                .order_by(ranked.c.block, ranked.c.rn)):
        block = out.setdefault(r.block, (r.n, {c: money(getattr(r, "sum_" + c)) for c in sums}, []))
        block[2].append(r)
    return out


def _forecast_rows(scope: Scope):
    """The rows of 销售收入预测表's 主表 and 下副表, each with its block
    (sure | hopeful | lost | postponed): the projects with something of
    their plan falling due in the period, and those without any plan expected
    to sign in the period (as funnel.collection_forecast counts them). Two
    selects joined by UNION ALL, each read from its own index (instalments
    by date, projects by 预计签约日期)."""
    block = sa.case(
        (sa.and_(Project.stage.not_in(("lost", "postponed")), Project.probability > 90), "sure"),
        (sa.and_(Project.stage.in_(OPEN_STAGES), Project.probability.between(50, 90)), "hopeful"),
        (Project.stage == "lost", "lost"), (Project.stage == "postponed", "postponed"), else_=None)

    def columns(software, implementation, day, has_plan):
        return (Project.id.label("id"), Project.amount.label("amount"), software.label("software"),
                implementation.label("implementation"), day.label("date"), has_plan.label("has_plan"),
                block.label("block"))

    part = _plan_in_period(scope)
    planned = (sa.select(*columns(part.c.software, part.c.implementation, part.c.date, sa.true()))
               .select_from(part).join(Project, Project.id == part.c.project_id)
               .where(*scope.clauses(), block.is_not(None)))
    nothing = sa.cast(sa.null(), Project.amount.type)
    unplanned = sa.select(*columns(nothing, nothing, Project.expected_sign_date, sa.false())).where(
        *scope.clauses(), block.is_not(None), Project.expected_sign_date >= scope.period.start,
        Project.expected_sign_date < scope.period.end, ~sa.exists().where(Instalment.project_id == Project.id))
    return sa.union_all(planned, unplanned).subquery()


def _collected_rows(scope: Scope):
    """The rows of 上副表: the projects with money collected in the period."""
    part = _collected_in_period(scope)
    return (sa.select(Project.id.label("id"), Project.amount.label("amount"), part.c.software, part.c.implementation,
                      part.c.date, sa.true().label("has_plan"), sa.literal("collected").label("block"))
            .select_from(part).join(Project, Project.id == part.c.project_id).where(*scope.clauses()).subquery())


def _names(project_ids) -> dict[int, tuple]:
    """{project id: (customer id, 客户名称, 业务员, 应用类型)} of a few projects."""
    out = {}
    ids = list(project_ids)
    for start in range(0, len(ids), 1000):
        out.update({pid: rest for pid, *rest in db.session.execute(_owner_team_customer(
            sa.select(Project.id, Project.customer_id, Customer.name, User.name, Project.product_line))
            .where(Project.id.in_(ids[start:start + 1000])))})
    return out


def revenue_forecast(scope: Scope, limit: int = ROWS_SHOWN) -> Report:
    """销售收入预测表 (3.6) for the period, per project, 万元: 主表 预计可回款
    (签约概率 > 90 %, not lost or postponed) and 有希望回款 (open, 50–90 %,
    so exactly 90 % is 有希望); 上副表 已实现回款; 下副表 丢失 and 延期. 软件/实施
    are read from the collection plan (回款计划): outstanding instalments
    planned in the period (主表, 下副表) or 实际金额 collected in it (上副表).
    A project without a plan is listed when 预计签约日期 falls in the period,
    its split blank (marked 未定回款计划). Each block has its 合计 (Σ 合同金额,
    软件, 实施 over all its rows) and lists its first `limit` rows by date."""
    sums = ("amount", "software", "implementation")
    found = _top_per_block(_forecast_rows(scope), ("date", "id"), limit, sums)
    found.update(_top_per_block(_collected_rows(scope), ("date", "id"), limit, sums))
    names = _names(r.id for _, _, rows in found.values() for r in rows)
    tables = []
    for key, title, columns, blocks_of in FORECAST_TABLES:
        blocks = []
        for code, label in blocks_of:
            count, totals, listed = found.get(code, (0, {c: money(0) for c in sums}, []))
            rows = [{"project_id": r.id, "category": label.split("（", 1)[0], "customer": names[r.id][1],
                     "owner": names[r.id][2], "product_line": names[r.id][3] or "",
                     "amount": money(r.amount) if r.amount is not None else None,
                     "software": money(r.software) if r.software is not None else None,
                     "implementation": money(r.implementation) if r.implementation is not None else None,
                     "date": r.date, "mark": "" if r.has_plan else "未定回款计划"} for r in listed]
            blocks.append(Block(code, label, rows, count, totals))
        tables.append(Table(key, title, columns, blocks))
    return Report("revenue_forecast", "销售收入预测表", tables, note=(
        "软件/实施取自项目的回款计划：主表、下副表为计划日期在本期内尚未收回的金额，上副表为本期实际回款。"
        "未定回款计划的项目按预计签约日期列出，不计入软件/实施。"))


# ── 3.4 销售漏斗报表 and 3.7 销售项目跟踪表 ────────────────────────────────
def _listed(scope: Scope):
    """The projects both lists show: in progress now, or signed, lost or
    postponed within the period."""
    closed = sa.and_(Project.stage.in_(("won", "lost", "postponed")),
                     Project.stage_entered_at >= scope.period.start_at, Project.stage_entered_at < scope.period.end_at)
    return [*scope.clauses(), sa.or_(Project.stage.in_(OPEN_STAGES), closed)]


def _report_number():
    return sa.case(REPORT_STAGE_OF, value=Project.stage, else_=0)


def _page_of(where, page: int, per_page: int):
    """(ids of the page's projects, ordered, total, page, pages): the furthest
    on (阶段填写编号 7 first), then by amount."""
    page = max(1, page)
    order = (_report_number().desc(), Project.amount.desc().nulls_last(), Project.id)
    if page <= 1_000_000 // per_page:  # the page and the total in one pass
        found = db.session.execute(sa.select(Project.id, sa.func.count().over()).where(*where).order_by(*order)
                                   .offset((page - 1) * per_page).limit(per_page)).all()
        if found:
            total = found[0][1]
            return [r[0] for r in found], total, page, max(1, -(-total // per_page))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Project).where(*where))
    pages = max(1, -(-total // per_page))
    page = min(page, pages)
    ids = list(db.session.scalars(sa.select(Project.id).where(*where).order_by(*order)
                                  .offset((page - 1) * per_page).limit(per_page)))
    return ids, total, page, pages


REPORT_COLUMNS = (
    Column("filed", "填报日期", "date"), Column("name", "项目名称"), Column("product_line", "所属产品"),
    Column("month", "所属月份"), Column("customer", "客户名称"), Column("address", "具体地址"),
    Column("contact", "主要联系人"), Column("title", "职位"), Column("phone", "联系电话"),
    Column("amount", "预计金额（万元）", "money"), Column("stage_number", "阶段填写编号"),
    Column("summary", "项目简介", group="意向阶段", on_page=False),
    Column("key_people", "关键人物情况", group="意向阶段"),
    Column("pain_points", "客户痛点", group="意向阶段", on_page=False),
    Column("benefits", "客户利益点", group="意向阶段", on_page=False),
    Column("company_visit", "参观公司情况", group="意向阶段", on_page=False),
    Column("reference_visit", "参观典型用户情况", group="意向阶段", on_page=False),
    Column("competitors", "竞争对手情况", group="意向阶段"),
    Column("survey", "项目需求调研", group="方案阶段", on_page=False),
    Column("proposal_points", "方案制作要点", group="方案阶段", on_page=False),
    Column("presentation", "方案讲解", "date", group="方案阶段"),
    Column("confirmation", "方案确认", group="方案阶段", on_page=False),
    Column("bid_preparation", "投标准备", "date", group="方案阶段"),
    Column("final_price", "最终成交价格（万元）", "money", group="成交阶段"),
    Column("signed_at", "最终成交日期", "date", group="成交阶段"),
    Column("won_because", "成功原因", group="成交阶段", on_page=False),
    Column("lost_reason", "丢标原因", group="成交阶段"),
    Column("contingency", "准备预案", group="成交阶段", on_page=False),
)
STAGE_NUMBER_LABELS = dict(REPORT_STAGE_NUMBERS)


def _nodes_of(project_ids) -> dict[int, dict[str, date]]:
    out: dict[int, dict[str, date]] = {}
    ids = list(project_ids)
    for start in range(0, len(ids), 1000):
        for pid, node, day in db.session.execute(
                sa.select(ProjectNode.project_id, ProjectNode.node, ProjectNode.reached_on)
                .where(ProjectNode.project_id.in_(ids[start:start + 1000]))):
            out.setdefault(pid, {})[node] = day
    return out


def _projects_by_id(ids):
    rows = {}
    for start in range(0, len(ids), 1000):
        for row in db.session.execute(_owner_team_customer(
                sa.select(Project.id, Project.project_no, Project.name, Project.created_at, Project.product_line,
                          Project.expected_sign_date, Project.customer_id, Customer.name.label("customer"),
                          Customer.address, Customer.contact, Customer.phone, Project.amount, Project.stage,
                          Project.competitors, Project.signed_at, Project.lost_reason, User.name.label("owner")))
                .where(Project.id.in_(ids[start:start + 1000]))):
            rows[row.id] = row
    return [rows[i] for i in ids]


def funnel_report(scope: Scope, page: int = 1, per_page: int = ROWS_SHOWN) -> Report:
    """销售漏斗报表 (3.4): the projects in progress and those closed in the
    period, one line each in the paper's 28 columns, `per_page` a page,
    furthest stage first. 阶段填写编号 is the printed 1–7 scale
    (process.REPORT_STAGE_OF); 主要联系人/职位/联系电话 the customer's main
    contact (contacts()), 关键人物情况 its 关键决策人; 方案讲解 and 投标准备 the
    dates the project reached 方案汇报 and 投标准备 (销售项目跟踪表); 最终成交价格
    the amount of a signed project. Columns the system holds nothing for stay
    blank (export only). 所属月份 (⚠ the scrape's 所属?份) is the month of
    预计签约日期."""
    ids, total, page, pages = _page_of(_listed(scope), page, per_page)
    found = _projects_by_id(ids)
    people, key = contacts(p.customer_id for p in found), key_people(p.customer_id for p in found)
    nodes = _nodes_of(ids)
    rows = []
    for p in found:
        name, title, phone = people.get(p.customer_id, (p.contact or "", "", p.phone or ""))
        number = REPORT_STAGE_OF.get(p.stage)
        won = p.stage == "won"
        rows.append({
            "project_id": p.id, "filed": _local_day(p.created_at), "name": p.name, "product_line": p.product_line or "",
            "month": f"{p.expected_sign_date:%Y-%m}" if p.expected_sign_date else "", "customer": p.customer,
            "address": p.address or "", "contact": name, "title": title, "phone": phone or p.phone or "",
            "amount": money(p.amount) if p.amount is not None else None,
            "stage_number": f"{number} {STAGE_NUMBER_LABELS[number]}" if number else
            {"lost": "丢单/放弃", "postponed": "延期"}.get(p.stage, ""),
            "key_people": key.get(p.customer_id, ""), "competitors": p.competitors or "",
            "presentation": nodes.get(p.id, {}).get("presentation"),
            "bid_preparation": nodes.get(p.id, {}).get("bid_preparation"),
            "final_price": money(p.amount) if won and p.amount is not None else None,
            "signed_at": p.signed_at if won else None, "lost_reason": p.lost_reason if p.stage == "lost" else ""})
    table = Table("funnel_report", "销售漏斗报表", REPORT_COLUMNS, [Block("projects", "", rows, total)],
                  note="进行中的项目，及所选期间内签约、丢单或延期的项目；阶段填写编号："
                       + "，".join(f"{label}{n}" for n, label in REPORT_STAGE_NUMBERS) + "。")
    return Report("funnel_report", "销售漏斗报表", [table], page=page, pages=pages)


TRACKING_COLUMNS = (Column("name", "项目名称"), Column("project_no", "项目编号"), Column("owner", "业务负责人")) + tuple(
    Column(n.code, n.label, "node", n.phase) for n in TRACKING_NODES)


def project_tracking(scope: Scope, page: int = 1, per_page: int = ROWS_SHOWN) -> Report:
    """销售项目跟踪表 (3.7): per project 项目名称, 项目编号, 业务负责人 and
    项目进度 as its 13 nodes in three phases, each with the date reached
    (ProjectNode) or none; the same projects and order as funnel_report."""
    ids, total, page, pages = _page_of(_listed(scope), page, per_page)
    found = _projects_by_id(ids)
    nodes = _nodes_of(ids)
    rows = [{"project_id": p.id, "name": p.name, "project_no": p.project_no, "owner": p.owner,
             **{n.code: nodes.get(p.id, {}).get(n.code) for n in TRACKING_NODES}} for p in found]
    table = Table("project_tracking", "销售项目跟踪表", TRACKING_COLUMNS, [Block("projects", "", rows, total)],
                  note="项目进度：已到达的节点着色并注明到达日期。")
    return Report("project_tracking", "销售项目跟踪表", [table], page=page, pages=pages)


# ── TOP ranking of reps and their sheets filed by kind ───────────────────
def rep_ranking(scope: Scope, limit: int = ROWS_SHOWN) -> Report:
    """业务员排行 (TOP): the people owning projects in scope ranked by the
    amount (万元) they signed in the period (then by projects signed), with
    the sheets each of them filed (created) in the period, per kind in the
    toolkit's paper order. A person with neither is not listed. `extra["chart"]`: (name, share of the first's amount, text)
    of the first ten, for the bar chart."""
    from .formkit import registry
    p = scope.period
    signed = {owner: (n, money(amount)) for owner, n, amount in db.session.execute(
        sa.select(Project.owner_id, sa.func.count(), sa.func.sum(Project.amount))
        .where(*scope.clauses(), Project.stage == "won", Project.signed_at >= p.start, Project.signed_at < p.end)
        .group_by(Project.owner_id))}
    filed = sa.select(Record.author_id, Record.sheet, sa.func.count()).where(
        Record.created_at >= p.start_at, Record.created_at < p.end_at)
    if not scope.is_everything:  # the people owning projects in scope; read from the index alone
        owners = list(db.session.scalars(sa.select(Project.owner_id).where(*scope.clauses()).distinct()))
        filed = filed.where(Record.author_id.in_(owners))
    sheets: dict[int, dict[str, int]] = {}
    for author, sheet, n in db.session.execute(filed.group_by(Record.author_id, Record.sheet)):
        sheets.setdefault(author, {})[sheet] = n
    people = dict(db.session.execute(
        sa.select(User.id, User.name).where(User.id.in_(set(signed) | set(sheets)))).all())
    teams = dict(db.session.execute(sa.select(User.id, Team.name).join(Team, Team.id == User.team_id)
                                    .where(User.id.in_(list(people)))).all())
    specs = registry.all_specs()
    order = sorted(people, key=lambda uid: (-signed.get(uid, (0, 0))[1], -signed.get(uid, (0, 0))[0], people[uid]))
    rows = []
    for rank, uid in enumerate(order, start=1):
        n, amount = signed.get(uid, (0, money(0)))
        counts = sheets.get(uid, {})
        rows.append({"rank": rank, "name": people[uid], "team": teams.get(uid, ""), "signed": n, "amount": amount,
                     **{f"sheet:{spec.key}": counts.get(spec.key, 0) for spec in specs},
                     "sheets": sum(counts.values())})
    columns = (Column("rank", "名次", "int"), Column("name", "业务员"), Column("team", "片区"),
               Column("signed", "签约项目数", "int"), Column("amount", "签约金额（万元）", "money")) + tuple(
        Column(f"sheet:{spec.key}", spec.title, "int", "期间内填写的表单") for spec in specs) + (
        Column("sheets", "表单合计", "int", "期间内填写的表单"),)
    totals = {"signed": sum(r["signed"] for r in rows), "amount": sum((r["amount"] for r in rows), money(0)),
              "sheets": sum(r["sheets"] for r in rows),
              **{f"sheet:{spec.key}": sum(r[f"sheet:{spec.key}"] for r in rows) for spec in specs}}
    top = rows[0]["amount"] if rows else 0
    chart = [(r["name"], float(r["amount"] / top) if top else 0, f"{r['amount']:,.2f}") for r in rows[:10]]
    table = Table("rep_ranking", "业务员排行", columns, [Block("people", "", rows[:limit], len(rows), totals)],
                  note="按期间内签约金额排名；表单为各人期间内填写的表单份数。")
    return Report("rep_ranking", "业务员排行（TOP）", [table], extra={"chart": chart})


REPORTS = (("funnel_by_category", "销售漏斗表"), ("revenue_forecast", "销售收入预测表"),
           ("funnel_report", "销售漏斗报表"), ("project_tracking", "销售项目跟踪表"),
           ("rep_ranking", "业务员排行（TOP）"))


def build(key: str, scope: Scope, *, page: int = 1, export: bool = False) -> Report:
    """Report `key` (one of REPORTS) for `scope`: a page's worth of rows, or
    with `export` every row (up to EXPORT_ROWS) for the Excel file. KeyError
    for an unknown key."""
    limit = EXPORT_ROWS if export else ROWS_SHOWN
    if key == "funnel_by_category":
        return funnel_by_category(scope, limit)
    if key == "revenue_forecast":
        return revenue_forecast(scope, limit)
    if key == "funnel_report":
        return funnel_report(scope, 1 if export else page, limit)
    if key == "project_tracking":
        return project_tracking(scope, 1 if export else page, limit)
    if key == "rep_ranking":
        return rep_ranking(scope, limit)
    raise KeyError(key)


def product_lines(user_scope) -> list[str]:
    """The product lines (应用类型/所属产品) of the projects a user may see, sorted."""
    return sorted(db.session.scalars(sa.select(Project.product_line).where(
        user_scope, Project.product_line.is_not(None), Project.product_line != "").distinct()))
