"""Generated data at scale for `flask --app wsgi demo --scale N`: teams of
reps, customers, N projects with plausible stage histories over three years,
and follow-up sheets (phone logs) filed against them. Written with bulk
inserts in batches, so 100 000 projects and 1 000 000 sheets take minutes.
Seed data, not anyone's act: no audit events."""
from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from .customer_keys import name_key
from .extensions import db
from .clock import local_date
from .models import Customer, Instalment, Person, Project, ProjectEvent, ProjectNode, Record, Team, User, utcnow
from .operations import hash_password
from .process import LEAD_SOURCES, STAGE_NODES, STAGES

PATH = tuple(s.code for s in STAGES if s.number)  # lead … won
PROBABILITY = {"lead": 20, "contact": 20, "design": 40, "showcase": 40, "confirm": 60, "evaluate": 60,
               "negotiate": 80, "won": 100, "lost": 0, "postponed": 20}
CLASSES = ("A", "B", "C", "D")
CLASS_WEIGHTS = (15, 35, 35, 15)
FOLLOWUP_EVERY = {"A": 7, "B": 14, "C": 30, "D": 90}
PRODUCTS = ("MES 制造执行系统", "WMS 仓储系统", "机器视觉检测", "数据采集平台", "设备物联网关", "能源管理系统",
            "APS 高级排产", "质量追溯系统", "动环监控", "机房工程")
CITIES = ("苏州", "无锡", "常州", "南京", "杭州", "宁波", "合肥", "济南", "青岛", "郑州", "武汉", "长沙",
          "广州", "深圳", "佛山", "东莞", "厦门", "福州", "成都", "重庆")
TRADES = ("精密机械", "电气设备", "自动化", "汽车零部件", "新材料", "电子科技", "智能装备", "环保科技")
BATCH = 2000  # projects per batch, with their events and sheets


def generated_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Project).where(Project.project_no.like("XM-G-%")))


def _next_id(model) -> int:
    return (db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1


def _people(n_projects: int, password: str) -> list[tuple[int, int]]:
    """Teams of ten reps (the demo teams topped up), one per 10 000 projects:
    returns (rep id, team id) of everyone who will own projects."""
    now = utcnow()
    pw = hash_password(password)
    teams = list(db.session.execute(sa.select(Team.id, Team.name).order_by(Team.id)))
    wanted = max(2, n_projects // 10_000)
    user_id, team_id = _next_id(User), _next_id(Team)
    new_users, new_teams = [], []
    for i in range(len(teams), wanted):
        new_teams.append({"id": team_id, "name": f"{CITIES[i % len(CITIES)]}片区{i + 1:02d}"})
        new_users.append({"id": user_id, "username": f"gmgr{i + 1:02d}", "name": f"经理{i + 1:02d}", "role": "manager",
                          "team_id": team_id, "password_hash": pw, "active": True, "created_at": now,
                          "title": "业务经理", "email": None, "locale": None})
        teams.append((team_id, new_teams[-1]["name"]))
        team_id += 1
        user_id += 1
    if new_teams:
        db.session.execute(sa.insert(Team.__table__), new_teams)
    for tid, _ in teams:
        have = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
            User.team_id == tid, User.role == "rep"))
        for k in range(have, 10):
            new_users.append({"id": user_id, "username": f"grep{tid:02d}{k:02d}", "name": f"业务员{tid:02d}{k:02d}",
                              "role": "rep", "team_id": tid, "password_hash": pw, "active": True, "created_at": now,
                              "title": "大客户经理", "email": None, "locale": None})
            user_id += 1
    if new_users:
        db.session.execute(sa.insert(User.__table__), new_users)
    for row in new_users:
        if row["role"] == "manager":
            db.session.execute(sa.update(Team).where(Team.id == row["team_id"]).values(manager_id=row["id"]))
    db.session.commit()
    return list(db.session.execute(sa.select(User.id, User.team_id).where(
        User.role == "rep", User.team_id.is_not(None)).order_by(User.id)))


def _history(rng: random.Random, created, now):
    """A stage path from 项目立项: (events [(from, to, at, days)], final stage, entered at)."""
    stage, at, events = "lead", created, []
    while True:
        step = timedelta(days=rng.randint(3, 45), hours=rng.randint(0, 23))
        if at + step > now or rng.random() < 0.04:
            return events, stage, at
        roll = rng.random()
        if roll < 0.12:
            to = "lost"
        elif roll < 0.15:
            to = "postponed"
        else:
            index = PATH.index(stage) + (2 if rng.random() < 0.08 else 1)
            to = PATH[min(index, len(PATH) - 1)]
        events.append((stage, to, at + step, step.days))
        stage, at = to, at + step
        if to in ("won", "lost", "postponed"):
            return events, stage, at


def generate(n_projects: int, n_sheets: int | None = None, password: str = "demo", seed: int = 2026,  # nosec B107 # demo data
             echo=print) -> str:
    """Adds `n_projects` generated projects and `n_sheets` follow-up sheets
    (default ten per project) to a database holding the demo accounts."""
    rng = random.Random(seed)  # nosec B311 # reproducible demo data, not a secret
    n_sheets = 10 * n_projects if n_sheets is None else n_sheets
    now = utcnow()
    owners = _people(n_projects, password)
    customer_id = _next_id(Customer)
    n_customers = max(1, n_projects // 4)
    customers = []
    for i in range(n_customers):
        owner, team = owners[i % len(owners)]
        name = f"{rng.choice(CITIES)}{rng.choice(TRADES)}有限公司（{i + 1}）"
        customers.append({
            "id": customer_id + i, "customer_no": f"CG{i + 1:07d}", "owner_id": owner, "team_id": team,
            "name": name, "name_key": name_key(name), "short_name": None,
            "category": rng.choice(("一般", "重要", "VIP")),
            "profile": {}, "created_at": now - timedelta(days=rng.randint(0, 1200)), "updated_at": now})
    # one contact each, the customer's 关键决策人 for every other one (the reports read them)
    people = [{"customer_id": c["id"], "name": f"联系人{i + 1}", "title": ("总经理", "采购经理", "设备部长")[i % 3],
               "phone": f"0512-{6000000 + i}", "key_decision_maker": i % 2 == 0, "details": {}, "private": {},
               "created_by_id": c["owner_id"], "created_at": now, "updated_at": now}
              for i, c in enumerate(customers)]
    for start in range(0, n_customers, 5000):
        db.session.execute(sa.insert(Customer.__table__), customers[start:start + 5000])
        db.session.execute(sa.insert(Person.__table__), people[start:start + 5000])
    db.session.commit()
    echo(f"demo --scale: {len(owners)} reps, {n_customers} customers")

    project_id, event_id, record_id = _next_id(Project), _next_id(ProjectEvent), _next_id(Record)
    sheets_left, sheet_no = n_sheets, 0
    for start in range(0, n_projects, BATCH):
        projects, events, records, instalments, nodes = [], [], [], [], []
        size = min(BATCH, n_projects - start)
        for i in range(start, start + size):
            owner, team = owners[i % len(owners)]
            customer = customers[rng.randrange(n_customers)]
            product = rng.choice(PRODUCTS)
            created = now - timedelta(days=rng.uniform(0, 1095))
            klass = rng.choices(CLASSES, CLASS_WEIGHTS)[0]
            path, stage, entered = _history(rng, created, now)
            amount = Decimal(rng.randint(500, 50_000)) / 100
            pid = project_id + i
            # every row carries every key: a bulk insert takes its columns from the first row
            events.append({"id": event_id, "project_id": pid, "kind": "created", "from_value": None,
                           "to_value": "lead", "at": created, "days_in_stage": None, "actor_id": owner,
                           "reason": None})
            event_id += 1
            reached = set()
            for from_value, to_value, at, days in path:
                events.append({"id": event_id, "project_id": pid, "kind": "stage", "from_value": from_value,
                               "to_value": to_value, "at": at, "days_in_stage": days, "actor_id": owner,
                               "reason": "价格因素" if to_value == "lost" else None})
                event_id += 1
                node = STAGE_NODES.get(to_value)
                if node and node not in reached:  # as operations._move_stage dates them
                    reached.add(node)
                    nodes.append({"project_id": pid, "node": node, "reached_on": local_date(at), "actor_id": owner,
                                  "at": at})
            # this project's share of the sheets, spread over its open life
            share = sheets_left // (n_projects - i)
            sheets_left -= share
            end = entered if stage in ("won", "lost", "postponed") else now
            span = max(1.0, (end - created).total_seconds())
            times = sorted(created + timedelta(seconds=rng.uniform(0, span)) for _ in range(share))
            if stage not in ("won", "lost", "postponed") and times and rng.random() < 0.5:
                # half of the open projects are followed up on time, the rest lag
                times[-1] = now - timedelta(days=rng.uniform(0, FOLLOWUP_EVERY[klass]))
            for t in times:
                sheet_no += 1
                records.append({"id": record_id, "number": f"DH-G-{sheet_no:07d}", "sheet": "phone_log",
                                "spec_version": 1, "project_id": pid, "customer_id": customer["id"],
                                "author_id": owner, "status": "approved", "data": {}, "version": 1, "round": 1,
                                "chain": [], "submitted_at": t, "approved_at": t, "created_at": t, "updated_at": t})
                record_id += 1
            won = stage == "won"
            signed = entered.date() if won else None
            if won:  # a 回款计划 of one instalment, collected in part or not yet
                share_paid = rng.choice((0, 30, 60, 100))
                instalments.append({
                    "project_id": pid, "seq": 1, "planned_date": signed + timedelta(days=rng.randint(10, 120)),
                    "planned_amount": amount, "kind": "software",
                    "actual_date": signed + timedelta(days=rng.randint(10, 120)) if share_paid else None,
                    "actual_amount": (amount * Decimal(share_paid) / 100).quantize(Decimal("0.01"))
                    if share_paid else None, "created_at": entered, "updated_at": entered})
            projects.append({
                "id": pid, "project_no": f"XM-G-{i + 1:07d}", "name": f"{customer['name'].split('有限公司')[0]}{product}项目",
                "customer_id": customer["id"], "owner_id": owner, "team_id": team,
                "product_line": product, "amount": amount, "probability": PROBABILITY[stage],
                "expected_sign_date": (created + timedelta(days=rng.randint(30, 360))).date(),
                "competitors": None, "funding": "企业自筹", "lead_source": rng.choice(LEAD_SOURCES),
                "customer_class": klass, "stage": stage, "stage_entered_at": entered,
                "stage_stay_reason": "等待客户预算审批" if rng.random() < 0.5 else None,
                "lost_reason": "价格因素" if stage == "lost" else None,
                "last_followup_at": times[-1] if times else None,
                "followup_from": times[-1] if times else None, "signed_at": signed,
                "created_at": created, "updated_at": entered, "version": 1})
        db.session.execute(sa.insert(Project.__table__), projects)
        if instalments:
            db.session.execute(sa.insert(Instalment.__table__), instalments)
        db.session.execute(sa.insert(ProjectEvent.__table__), events)
        if nodes:
            db.session.execute(sa.insert(ProjectNode.__table__), nodes)
        for chunk in range(0, len(records), 5000):
            db.session.execute(sa.insert(Record.__table__), records[chunk:chunk + 5000])
        db.session.commit()
        if (start // BATCH) % 10 == 9 or start + size >= n_projects:
            echo(f"demo --scale: {start + size} projects, {sheet_no} sheets")
    _after_bulk_load()
    return f"{n_projects} projects, {sheet_no} sheets, {n_customers} customers, {len(owners)} reps"


def _after_bulk_load() -> None:
    """Moves PostgreSQL's id sequences past the ids written here, and refreshes
    both databases' planner statistics (and PostgreSQL's visibility map)."""
    if db.engine.dialect.name == "postgresql":
        for table in ("teams", "users", "customers", "people", "projects", "project_events", "records",
                      "instalments", "project_nodes"):
            db.session.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"))  # nosec B608 # table names are the model's own
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")  # also lets index-only scans skip the fresh rows' pages
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()

