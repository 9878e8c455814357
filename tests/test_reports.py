"""The department's reports (销售漏斗表, 销售收入预测表, 销售漏斗报表,
销售项目跟踪表) on a small data set built here, whose right answers are
worked out by hand below; their pages per role and their Excel exports in
the paper's column order."""
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from salestrack import clock, funnel, operations, reports
from salestrack.extensions import db
from salestrack.models import Instalment, Person, Project, ProjectNode

from tests.test_funnel import set_history

YEAR_2025 = funnel.Period(date(2025, 1, 1), date(2026, 1, 1))
D = Decimal


@pytest.fixture
def world(factory):
    """Two teams; the projects P1 … P9 of the worked answers below."""
    team, manager, r1, r2 = factory.team_with_people()
    other_team, _other_manager, r3, _ = factory.team_with_people()
    director = factory.user("director")
    c1 = factory.customer(r1, name="苏州恒力精密机械有限公司", address="苏州工业园区星湖街 1 号")
    c2 = factory.customer(r2, name="无锡华光电气有限公司", address="无锡新吴区 8 号", contact="王经理", phone="0510-333")
    c3 = factory.customer(r3, name="广州南方自动化有限公司")
    operations.add_person(r1, c1, name="张工", title="工程师", phone="0512-111")
    boss, _ = operations.add_person(r1, c1, name="李总", title="总经理", phone="0512-222")
    db.session.get(Person, boss.id).key_decision_maker = True
    db.session.commit()

    def make(owner, customer, amount, created, *steps, **fields):
        p = factory.project(owner, customer, amount=D(amount), product_line=fields.pop("product_line", "MES"))
        return set_history(p, created, *steps, **fields)

    p = {
        "P1": make(r1, c1, 100, "2025-01-10", "contact@2025-02-01"),
        "P2": make(r1, c1, 60, "2025-01-05", "contact@2025-01-20", "design@2025-03-01", "showcase@2025-04-01"),
        "P3": make(r2, c2, 40, "2025-02-01", "negotiate@2025-05-01", probability=90,
                   expected_sign_date=date(2025, 12, 1), competitors="西门子"),
        "P4": make(r2, c2, 80, "2025-01-15", "won@2025-06-15", expected_sign_date=date(2025, 6, 30)),
        "P5": make(r3, c3, 25, "2025-03-01", product_line="WMS"),
        "P6": make(r1, c1, 30, "2025-02-01", "lost@2025-07-01", expected_sign_date=date(2025, 8, 1),
                   lost_reason="价格因素"),
        "P7": make(r2, c2, 15, "2025-01-01", "postponed@2025-03-01", expected_sign_date=date(2025, 9, 1)),
        "P8": make(r1, c1, 70, "2024-06-01", "won@2024-12-01"),
        "P9": make(r1, c1, 70, "2025-03-01", "design@2025-04-01", probability=60,
                   expected_sign_date=date(2025, 11, 15)),
    }
    db.session.add_all([
        Instalment(project_id=p["P8"].id, seq=1, kind="software", planned_date=date(2025, 2, 1),
                   planned_amount=D(50), actual_date=date(2025, 2, 10), actual_amount=D(30)),
        Instalment(project_id=p["P8"].id, seq=2, kind="implementation", planned_date=date(2025, 10, 1),
                   planned_amount=D(20)),
    ])
    db.session.commit()
    return dict(team=team, other_team=other_team, manager=manager, r1=r1, r2=r2, r3=r3, director=director,
                projects=p)


def scope_of(user, period=YEAR_2025, **kw):
    return funnel.scope_for(user, period, **kw)


def blocks(report, table=0):
    return {b.code: b for b in report.tables[table].blocks}


def names(block, key="customer"):
    return [r[key] for r in block.rows]


def test_funnel_by_category_blocks_totals_contacts_and_entry_dates(world):
    report = reports.funnel_by_category(scope_of(world["director"]))
    b = blocks(report)
    assert [(code, b[code].count, b[code].totals["amount"]) for code in b] == [
        ("intent", 2, D("125.00")), ("solution", 2, D("130.00")), ("negotiation", 1, D("40.00")),
        ("signed", 1, D("80.00"))]
    first = b["intent"].rows[0]  # P1, the larger of the two
    assert (first["customer"], first["contact"], first["phone"], first["address"], first["entered"]) == (
        "苏州恒力精密机械有限公司", "李总", "0512-222", "苏州工业园区星湖街 1 号", date(2025, 1, 10))
    # 方案: P9 (70, entered 方案设计 2025-04-01), then P2 (60, 方案设计 since 2025-03-01 though now 业绩展示)
    assert [(r["amount"], r["entered"]) for r in b["solution"].rows] == [
        (D("70.00"), date(2025, 4, 1)), (D("60.00"), date(2025, 3, 1))]
    talk = b["negotiation"].rows[0]  # a customer without people: the master's contact
    assert (talk["contact"], talk["phone"], talk["competitors"], talk["entered"]) == (
        "王经理", "0510-333", "西门子", date(2025, 5, 1))
    assert b["signed"].rows[0]["entered"] == date(2025, 6, 15)


@pytest.mark.parametrize("who,intent,signed", [("r2", (0, D("0.00")), (1, D("80.00"))),
                                               ("manager", (1, D("100.00")), (1, D("80.00"))),
                                               ("director", (2, D("125.00")), (1, D("80.00")))])
def test_funnel_by_category_in_each_role_scope(world, who, intent, signed):
    b = blocks(reports.funnel_by_category(scope_of(world[who])))
    assert (b["intent"].count, b["intent"].totals["amount"]) == intent
    assert (b["signed"].count, b["signed"].totals["amount"]) == signed


def test_a_block_lists_its_first_rows_and_totals_them_all(world):
    b = blocks(reports.funnel_by_category(scope_of(world["director"]), limit=1))
    assert len(b["intent"].rows) == 1 and b["intent"].count == 2 and b["intent"].totals["amount"] == D("125.00")


def test_product_line_filter(world):
    b = blocks(reports.funnel_by_category(scope_of(world["director"], product_line="WMS")))
    assert [b[c].count for c in b] == [1, 0, 0, 0]
    assert reports.product_lines(scope_of(world["director"]).visible) == ["MES", "WMS"]
    assert reports.product_lines(scope_of(world["r2"]).visible) == ["MES"]


def test_revenue_forecast_main_and_side_tables(world):
    report = reports.revenue_forecast(scope_of(world["director"]))
    main, realised, unrealised = (blocks(report, i) for i in range(3))
    # 预计可回款: P8's plan in 2025 still to collect (软件 50 − 30, 实施 20), and P4 signed without a plan
    assert (main["sure"].count, main["sure"].totals) == (
        2, {"amount": D("150.00"), "software": D("20.00"), "implementation": D("20.00")})
    p8, p4 = main["sure"].rows
    assert (p8["software"], p8["implementation"], p8["date"], p8["mark"]) == (
        D("20.00"), D("20.00"), date(2025, 2, 1), "")
    assert (p4["amount"], p4["software"], p4["date"], p4["mark"]) == (D("80.00"), None, date(2025, 6, 30), "未定回款计划")
    # 有希望: P9 at 60 % and P3 at exactly 90 %, by 预计签约日期
    assert [r["amount"] for r in main["hopeful"].rows] == [D("70.00"), D("40.00")]
    assert main["hopeful"].totals["amount"] == D("110.00")
    assert (realised["collected"].count, realised["collected"].totals) == (
        1, {"amount": D("70.00"), "software": D("30.00"), "implementation": D("0.00")})
    assert realised["collected"].rows[0]["date"] == date(2025, 2, 10)
    assert (unrealised["lost"].count, unrealised["lost"].totals["amount"]) == (1, D("30.00"))
    assert (unrealised["postponed"].count, unrealised["postponed"].totals["amount"]) == (1, D("15.00"))


def test_revenue_forecast_agrees_with_the_funnel_pages_collection_table(world):
    scope = scope_of(world["director"])
    total = funnel.collection_forecast(scope)[-1]
    main, realised, unrealised = (blocks(reports.revenue_forecast(scope), i) for i in range(3))
    unplanned = sum((r["amount"] for r in main["sure"].rows if r["mark"]), D(0))
    assert main["sure"].totals["software"] + main["sure"].totals["implementation"] + unplanned == total.sure
    assert main["hopeful"].totals["amount"] == total.hopeful
    assert realised["collected"].totals["software"] + realised["collected"].totals["implementation"] == \
        total.collected
    assert (unrealised["lost"].totals["amount"], unrealised["postponed"].totals["amount"]) == (
        total.lost, total.postponed)


def test_funnel_report_lists_projects_furthest_first_with_the_paper_numbers(world):
    report = reports.funnel_report(scope_of(world["director"]))
    [block] = report.tables[0].blocks
    p = world["projects"]
    assert [r["project_id"] for r in block.rows] == [p[k].id for k in ("P4", "P3", "P9", "P2", "P1", "P5", "P6", "P7")]
    assert block.count == 8 and report.pages == 1
    won = block.rows[0]
    assert (won["stage_number"], won["final_price"], won["signed_at"]) == ("7 成交", D("80.00"), date(2025, 6, 15))
    assert [r["stage_number"] for r in block.rows] == [
        "7 成交", "6 商务谈判", "4 客户立项", "4 客户立项", "3 确认客户意向", "2 发掘客户潜在商机", "丢单/放弃", "延期"]
    p1 = block.rows[4]
    assert (p1["contact"], p1["title"], p1["phone"], p1["key_people"], p1["filed"]) == (
        "李总", "总经理", "0512-222", "李总（总经理）", date(2025, 1, 10))
    assert block.rows[6]["lost_reason"] == "价格因素"
    second = reports.funnel_report(scope_of(world["director"]), page=2, per_page=3)
    assert (second.page, second.pages) == (2, 3)
    assert [r["project_id"] for r in second.tables[0].blocks[0].rows] == [p[k].id for k in ("P2", "P1", "P5")]


def test_stage_changes_reach_tracking_nodes_and_the_rest_are_set_by_hand(world, factory):
    r1 = world["r1"]
    project = factory.project(r1, amount=D(10))
    operations.change_stage(r1, project, "contact")
    operations.change_stage(r1, project, "design")
    today = clock.today()
    operations.set_node(r1, project, "tender_start", today - timedelta(days=3))
    operations.set_node(r1, project, "visit", today - timedelta(days=9))  # corrects the stage's date
    with pytest.raises(operations.OperationError, match="不能晚于今天"):
        operations.set_node(r1, project, "bid_won", today + timedelta(days=1))
    with pytest.raises(operations.OperationError, match="有效的节点"):
        operations.set_node(r1, project, "nonsense", today)
    report = reports.project_tracking(scope_of(r1, funnel.period_for("this_year")))
    row = next(r for r in report.tables[0].blocks[0].rows if r["project_id"] == project.id)
    assert (row["visit"], row["tech_exchange"], row["tender_start"], row["bid_won"]) == (
        today - timedelta(days=9), today, today - timedelta(days=3), None)
    assert [c.label for c in report.tables[0].columns[3:]] == [
        "业务拜访", "技术交流", "方案汇报", "报价", "招标启动", "投标准备", "中标", "合同谈判", "合同签订",
        "首付款", "货到款", "安装调试款", "尾款"]
    operations.set_node(r1, project, "tender_start", None)
    assert db.session.query(ProjectNode).filter_by(project_id=project.id).count() == 2


# ── pages and exports ─────────────────────────────────────────────────────
PAPER_HEADERS = {
    "funnel_by_category": [["分类", "客户名称", "业务员", "应用类型", "预计成交金额（万元）", "客户地址", "客户联系人",
                            "客户联系电话", "进入本阶段漏斗时间", "主要竞争对手"]],
    "revenue_forecast": [
        ["分类", "客户名称", "业务员", "应用类型", "预计合同金额（万元）", "软件", "实施", "预计回款日期"],
        ["分类", "客户名称", "业务员", "应用类型", "合同金额（万元）", "软件", "实施", "回款日期"],
        ["分类", "客户名称", "业务员", "应用类型", "合同金额（万元）", "软件", "实施", "预计回款日期"]],
    "funnel_report": [["填报日期", "项目名称", "所属产品", "所属月份", "客户名称", "具体地址", "主要联系人", "职位",
                       "联系电话", "预计金额（万元）", "阶段填写编号", "项目简介", "关键人物情况", "客户痛点", "客户利益点",
                       "参观公司情况", "参观典型用户情况", "竞争对手情况", "项目需求调研", "方案制作要点", "方案讲解",
                       "方案确认", "投标准备", "最终成交价格（万元）", "最终成交日期", "成功原因", "丢标原因", "准备预案"]],
    "project_tracking": [["项目名称", "项目编号", "业务负责人", "业务拜访", "技术交流", "方案汇报", "报价", "招标启动",
                          "投标准备", "中标", "合同谈判", "合同签订", "首付款", "货到款", "安装调试款", "尾款"]],
    "rep_ranking": [["名次", "业务员", "片区", "签约项目数", "签约金额（万元）"]],
}


def _rows_after_header(ws, header):
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    start = next(i for i, row in enumerate(rows) if list(row[:len(header)]) == header)
    return rows[start + 1:]


@pytest.mark.parametrize("key", [k for k, _ in reports.REPORTS])
def test_each_export_opens_with_the_papers_columns_in_order(client, login, world, key):
    login(world["director"])
    response = client.get(f"/reports/{key}/export.xlsx?period=this_year")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(BytesIO(response.data))
    assert len(wb.worksheets) == len(PAPER_HEADERS[key])
    for ws, header in zip(wb.worksheets, PAPER_HEADERS[key], strict=True):
        found = [list(row[:len(header)]) for row in ws.iter_rows(values_only=True)]
        assert header in found, ws.title


def test_funnel_export_carries_every_row_and_the_totals(client, login, world):
    login(world["director"])
    wb = load_workbook(BytesIO(client.get("/reports/funnel_by_category/export.xlsx").data))
    rows = _rows_after_header(wb.active, PAPER_HEADERS["funnel_by_category"][0])
    intent = [r for r in rows if r[0] == "意向客户"]
    assert [(r[1], r[4], r[6], r[7]) for r in intent] == [
        ("苏州恒力精密机械有限公司", 100.0, "李总", "0512-222"), ("广州南方自动化有限公司", 25.0, None, None)]
    assert ("意向客户 合计（2 项）", 125.0) in [(r[0], r[4]) for r in rows]


def test_forecast_export_splits_software_and_implementation(client, login, world, monkeypatch):
    monkeypatch.setattr(funnel, "period_for", lambda key, today=None: YEAR_2025)
    login(world["director"])
    wb = load_workbook(BytesIO(client.get("/reports/revenue_forecast/export.xlsx").data))
    assert wb.sheetnames == ["主表", "上副表（实现表）", "下副表（未实现表）"]
    main = _rows_after_header(wb["主表"], PAPER_HEADERS["revenue_forecast"][0])
    assert ("预计可回款 合计（2 项）", 150.0, 20.0, 20.0) in [(r[0], r[4], r[5], r[6]) for r in main]
    realised = _rows_after_header(wb["上副表（实现表）"], PAPER_HEADERS["revenue_forecast"][1])
    assert realised[0][5:7] == [30.0, 0.0] and realised[0][7].date() == date(2025, 2, 10)


def _block_count(page, label):
    return page.split(label, 1)[1].split("</small>", 1)[0].rsplit(">", 1)[1]


@pytest.mark.parametrize("who,intent", [("r1", "1 项"), ("r2", "0 项"), ("manager", "1 项"), ("director", "2 项")])
def test_each_role_sees_its_own_projects_in_the_reports(client, login, world, who, intent):
    login(world[who])
    page = client.get("/reports/funnel_by_category").get_data(as_text=True)
    assert _block_count(page, "意向客户（有明显的购买需求）") == intent
    listed = client.get("/reports/funnel_report").get_data(as_text=True)
    assert ("广州南方自动化有限公司" in listed) == (who == "director")
    assert ("苏州恒力精密机械有限公司" in listed) == (who in ("r1", "manager", "director"))


def test_a_manager_cannot_widen_his_view_with_filters(client, login, world):
    login(world["manager"])
    page = client.get(f"/reports/funnel_by_category?team={world['other_team'].id}").get_data(as_text=True)
    assert _block_count(page, "意向客户（有明显的购买需求）") == "0 项"
    wb = load_workbook(BytesIO(client.get(f"/reports/funnel_report/export.xlsx?owner={world['r3'].id}").data))
    assert "广州南方自动化有限公司" not in str(list(wb.active.iter_rows(values_only=True)))


@pytest.mark.parametrize("key", [k for k, _ in reports.REPORTS])
@pytest.mark.parametrize("args", ["", "period=bogus&product=%00", "team=abc&owner=-1&page=-3",
                                  "page=99999999999999999999", "product=不存在的产品"])
def test_odd_filters_never_break_a_report(client, login, world, key, args):
    login(world["director"])
    assert client.get(f"/reports/{key}?{args}").status_code == 200
    assert client.get(f"/reports/{key}/export.xlsx?{args}").status_code == 200


def test_filters_answer_htmx_with_the_fragment_and_the_tracking_bar(client, login, world):
    login(world["director"])
    operations.set_node(world["r1"], world["projects"]["P2"], "quotation", date(2025, 4, 20))
    fragment = client.get("/reports/project_tracking?page=1", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text
    assert 'class="node reached" title="报价：2025-04-20"' in text


@pytest.mark.parametrize("role,status", [("hr", 403), ("implementation", 403), ("admin", 403), ("clerk", 200),
                                         ("auditor", 200), ("gm", 200), ("rep", 200)])
def test_who_may_open_the_reports(client, login, factory, role, status):
    login(factory.user(role))
    assert client.get("/reports/").status_code == status
    assert client.get("/reports/revenue_forecast").status_code == status
    assert client.get("/reports/nonsense").status_code == (404 if status == 200 else status)


def test_managers_find_the_reports_from_the_funnel_page_and_the_navigation(client, login, world):
    login(world["manager"])
    assert 'href="/reports/"' in client.get("/funnel/").get_data(as_text=True)
    index = client.get("/reports/").get_data(as_text=True)
    for key, title in reports.REPORTS:
        assert f'href="/reports/{key}"' in index and title in index


def test_a_project_stays_in_the_report_as_its_stage_moves(world):
    p3 = db.session.get(Project, world["projects"]["P3"].id)
    operations.change_stage(world["r2"], p3, "won", "客户预算到位")
    b = blocks(reports.funnel_by_category(scope_of(world["director"], funnel.period_for("this_year"))))
    assert b["negotiation"].count == 0 and b["signed"].count == 1


def test_the_project_page_shows_the_node_bar_and_records_a_node(client, login, switch, world):
    p2 = world["projects"]["P2"]
    login(world["r1"])
    page = client.get(f"/projects/{p2.id}").get_data(as_text=True)
    assert "项目进度" in page and page.count('class="node"') + page.count('class="node reached"') >= 13
    later = (clock.today() + timedelta(days=2)).isoformat()
    refused = client.post(f"/projects/{p2.id}/nodes", data={"node": "bid_won", "reached_on": later})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "到达日期不能晚于今天" in text and f'value="{later}"' in text
    saved = client.post(f"/projects/{p2.id}/nodes", data={"node": "bid_won", "reached_on": "2025-05-20"},
                        follow_redirects=True)
    assert saved.status_code == 200 and 'title="中标：2025-05-20"' in saved.get_data(as_text=True)
    switch(world["r3"])
    assert client.post(f"/projects/{p2.id}/nodes", data={"node": "bid_won", "reached_on": "2025-05-21"}
                       ).status_code == 404


def test_the_migration_dates_the_nodes_of_projects_on_file_from_their_history(app, factory):
    """0013 fills 销售项目跟踪表's stage-implied nodes from the stage history
    of projects recorded before it: each dated (Asia/Shanghai) by the first
    entry into its stage."""
    from datetime import datetime

    from flask_migrate import downgrade, upgrade

    from salestrack.models import ProjectEvent
    rep = factory.user("rep", factory.team())
    project = factory.project(rep)
    downgrade(revision="0012_filing_right")  # the revision before the nodes
    for to, at in (("contact", "2025-03-01T17:00:00"), ("design", "2025-03-10T02:00:00"),
                   ("contact", "2025-04-01T02:00:00"), ("lost", "2025-05-01T02:00:00")):
        db.session.add(ProjectEvent(project_id=project.id, kind="stage", to_value=to, at=datetime.fromisoformat(at)))
    db.session.commit()
    upgrade()
    nodes = dict(db.session.query(ProjectNode.node, ProjectNode.reached_on).filter_by(project_id=project.id))
    # 17:00 UTC on 1 March is 2 March in the department; the second entry into 初步接触 changes nothing
    assert nodes == {"visit": date(2025, 3, 2), "tech_exchange": date(2025, 3, 10)}


def test_rep_ranking_by_signed_amount_with_sheets_filed_by_kind(world, factory):
    from salestrack.formkit import registry
    from salestrack.models import Record
    r1, r2 = world["r1"], world["r2"]
    p1, p3 = world["projects"]["P1"], world["projects"]["P3"]
    for author, project, sheet in ((r1, p1, "phone_log"), (r1, p1, "phone_log"), (r1, p1, "visit_report"),
                                   (r2, p3, "phone_log")):
        operations.create_record(author, project, registry.get(sheet), {})
    db.session.query(Record).update({Record.created_at: datetime_of("2025-05-05")})
    db.session.commit()
    report = reports.rep_ranking(scope_of(world["director"]))
    [block] = report.tables[0].blocks
    # signed in 2025: r2 P4 (80); r1 signed P8 in 2024 only
    assert [(r["rank"], r["name"], r["signed"], r["amount"], r["sheet:phone_log"], r["sheet:visit_report"],
             r["sheets"]) for r in block.rows] == [
        (1, r2.name, 1, D("80.00"), 1, 0, 1), (2, r1.name, 0, D("0.00"), 2, 1, 3)]
    assert (block.totals["amount"], block.totals["sheets"]) == (D("80.00"), 4)
    assert report.extra["chart"] == [(r2.name, 1.0, "80.00"), (r1.name, 0.0, "0.00")]
    mine = reports.rep_ranking(scope_of(r1)).tables[0].blocks[0].rows
    assert [(r["name"], r["sheets"]) for r in mine] == [(r1.name, 3)]


def datetime_of(day: str):
    from datetime import datetime
    return datetime.fromisoformat(day + "T04:00:00")
