"""Excel: the funnel and forecast tables and the project list export with
Chinese headers; the import previews, shows row-level errors and writes
all rows or none; export then import round-trips."""
import hashlib
import io
import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from salestrack import operations
from salestrack.extensions import db
from salestrack.models import AuditEvent, Customer, Project, ProjectEvent


@pytest.fixture
def world(factory):
    return make_world(factory)


def make_world(factory) -> dict:
    """Two reps of a team with two customers and three projects (one lost, one won with 回款), a director."""
    team, manager, rep, rep2 = factory.team_with_people()
    director = factory.user("director")
    c1 = factory.customer(rep, name="苏州恒力精密机械有限公司", short_name="恒力精机", category="VIP", source="展会",
                          industry="机械", contact="顾建华", phone="0512-6588 1234", address="苏州工业园区星湖街 88 号")
    c2 = factory.customer(rep2, name="上海东方电气设备有限公司")
    factory.project(rep, c1, name="数控车间 MES 系统", amount=Decimal("186.50"), probability=60,
                    expected_sign_date=date(2027, 1, 15), customer_class="A", lead_source="展会及研讨会",
                    product_line="MES", competitors="西门子", funding="企业自筹", stage_stay_reason="等待预算")
    lost = factory.project(rep2, c2, name="智能仓储改造", amount=Decimal("92"), customer_class="C")
    operations.change_stage(rep2, lost, "lost", "价格高于竞争对手")
    won = factory.project(rep, c1, name="质量追溯系统", amount=Decimal("120"))
    operations.change_stage(rep, won, "won", "老客户直接续签")
    won = db.session.get(Project, won.id)
    operations.add_instalment(rep, won, planned_date=date(2026, 11, 30), planned_amount=Decimal("36"),
                              actual_date=date(2026, 11, 30), actual_amount=Decimal("36"))
    return dict(team=team, manager=manager, rep=rep, rep2=rep2, director=director)


def sheet_rows(data: bytes, name: str) -> list[list]:
    wb = load_workbook(io.BytesIO(data), read_only=True)
    rows = [list(r) for r in wb[name].iter_rows(values_only=True)]
    width = max(len(r) for r in rows)
    return [r + [None] * (width - len(r)) for r in rows]


def counts():
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Customer, Project))


def wipe():
    """Removes customers and projects, as on a fresh installation with the same people."""
    for model in (ProjectEvent, Project, Customer):
        db.session.execute(sa.delete(model))
    db.session.commit()


def upload(client, data: bytes, name="导入.xlsx"):
    return client.post("/funnel/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def confirm(client, preview):
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]+)"', preview.get_data(as_text=True)).group(1)
    return client.post("/funnel/import/confirm", data={"token": token})


def test_funnel_and_forecast_tables_export_with_chinese_headers(client, login, world):
    login(world["director"])
    response = client.get("/funnel/export/funnel.xlsx?period=this_year")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    rows = sheet_rows(response.data, "销售漏斗表")
    assert rows[0][0] == "销售漏斗表"
    header = rows[4]
    assert header[:6] == ["序号", "销售阶段", "客户采购流程", "里程碑", "项目数", "预计金额（万元）"]
    by_stage = {r[1]: r for r in rows[5:13]}
    assert by_stage["项目立项"][4] == 1 and by_stage["项目立项"][5] == pytest.approx(186.5)
    assert by_stage["签约成交"][4] == 1
    assert sheet_rows(response.data, "月度趋势")[0][0] == "月份"
    forecast = client.get("/funnel/export/forecast.xlsx")
    assert sheet_rows(forecast.data, "加权预测")[4][:3] == ["销售阶段", "项目数", "预计金额（万元）"]
    assert sheet_rows(forecast.data, "销售收入预测表")[4][1:] == [
        "预计可回款（>90%）", "有希望回款（50%–90%）", "已实现回款", "丢失项目", "延期项目"]


def test_project_list_export_follows_the_list_filters_and_access(client, login, world):
    login(world["rep"])
    rows = sheet_rows(client.get("/funnel/export/projects.xlsx").data, "项目")
    assert rows[0][:4] == ["项目编号", "项目名称", "客户编号", "客户名称"]
    assert sorted(r[1] for r in rows[1:]) == ["数控车间 MES 系统", "质量追溯系统"]  # not rep2's
    rows = sheet_rows(client.get("/funnel/export/projects.xlsx?stage=won").data, "项目")
    assert [r[1] for r in rows[1:]] == ["质量追溯系统"]
    assert "/funnel/export/projects.xlsx?stage=won" in client.get("/projects/?stage=won").get_data(as_text=True)


def test_export_then_import_round_trips(client, login, world):
    login(world["director"])
    exported = client.get("/funnel/export/projects.xlsx").data
    wipe()
    preview = upload(client, exported)
    assert preview.status_code == 200, preview.get_data(as_text=True)[-3000:]
    assert "将新建 2 个客户、3 个项目" in preview.get_data(as_text=True)
    assert counts() == (0, 0)  # the preview writes nothing
    last_event = db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))
    assert confirm(client, preview).status_code == 302
    assert counts() == (2, 3)
    again = client.get("/funnel/export/projects.xlsx").data
    informational = {"进入阶段日期", "上次跟进"}
    for name in ("项目", "客户"):
        before, after = sheet_rows(exported, name), sheet_rows(again, name)
        keep = [i for i, h in enumerate(before[0]) if h not in informational]
        assert [[r[i] for i in keep] for r in after] == [[r[i] for i in keep] for r in before], name
    lost = db.session.scalar(sa.select(Project).where(Project.stage == "lost"))
    assert lost.lost_reason == "价格高于竞争对手" and lost.owner_id == world["rep2"].id
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "data_import"))
    assert (event.detail["customers"], event.detail["projects"], event.detail["updated"]) == (2, 3, 0)
    assert event.content_hash == hashlib.sha256(exported).hexdigest()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.id > last_event)) == 1  # the import is one audit event
    # numbers taken from the file are never issued again
    fresh = operations.create_customer(world["rep"], name="新客户")
    assert fresh.customer_no not in {r[0] for r in sheet_rows(exported, "客户")[1:]}


def test_importing_the_same_file_twice_changes_nothing(client, login, world):
    login(world["director"])
    exported = client.get("/funnel/export/projects.xlsx").data
    before = counts()
    preview = upload(client, exported)
    text = preview.get_data(as_text=True)
    assert "将新建 0 个客户、0 个项目，更新 0 个项目" in text and "另有 5 行与系统中一致" in text
    assert "确认导入" not in text
    assert counts() == before


def _workbook(project_rows, customer_rows=None, project_header=None) -> bytes:
    from salestrack.excel import CUSTOMER_COLUMNS, PROJECT_COLUMNS
    wb = Workbook()
    ws = wb.active
    ws.title = "项目"
    header = project_header or [h for _, h in PROJECT_COLUMNS]
    ws.append(header)
    for row in project_rows:
        ws.append([row.get(h) for h in header])
    if customer_rows is not None:
        cs = wb.create_sheet("客户")
        cs.append([h for _, h in CUSTOMER_COLUMNS])
        for row in customer_rows:
            cs.append([row.get(h) for _, h in CUSTOMER_COLUMNS])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


GOOD = {"项目名称": "新项目", "客户名称": "杭州新客户有限公司", "预计合同金额（万元）": 30, "客户分类": "B",
        "签约概率（%）": 40, "预计签约日期": "2027-03-01", "当前阶段": "方案设计"}
NEW_CUSTOMER = {"企业名称": "杭州新客户有限公司", "客户类别": "重要"}


def test_a_good_file_with_a_new_customer_imports(client, login, world):
    login(world["manager"])
    before = counts()
    preview = upload(client, _workbook([GOOD, GOOD | {"项目名称": "第二个", "业务负责人账号": world["rep2"].username}],
                                       [NEW_CUSTOMER]))
    assert preview.status_code == 200
    assert confirm(client, preview).status_code == 302
    assert counts() == (before[0] + 1, before[1] + 2)
    second = db.session.scalar(sa.select(Project).where(Project.name == "第二个"))
    assert (second.owner_id, second.stage, second.amount, second.expected_sign_date) == \
        (world["rep2"].id, "design", Decimal("30.00"), date(2027, 3, 1))
    event = db.session.scalar(sa.select(ProjectEvent).where(ProjectEvent.project_id == second.id))
    assert (event.kind, event.to_value) == ("created", "design")


def test_a_file_of_new_projects_uploaded_again_is_stopped_not_doubled(client, login, world):
    """Rows without 项目编号 create projects; the same file uploaded a second
    time names the projects it would double and how to update them instead."""
    login(world["manager"])
    data = _workbook([GOOD], [NEW_CUSTOMER])
    assert confirm(client, upload(client, data)).status_code == 302
    created = db.session.scalar(sa.select(Project).where(Project.name == "新项目"))
    before = counts()
    again = upload(client, _workbook([GOOD]))
    text = again.get_data(as_text=True)
    assert again.status_code == 400 and "确认导入" not in text
    assert f"该客户已有同名项目 {created.project_no}：要更新它，请在「项目编号」列填写 {created.project_no}" in text
    assert counts() == before


def test_two_rows_of_one_new_project_in_a_file_are_stopped(client, login, world):
    login(world["manager"])
    response = upload(client, _workbook([GOOD, GOOD], [NEW_CUSTOMER]))
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "与第 2 行是同一个项目（客户与项目名称相同）" in text


@pytest.mark.parametrize("bad,where,message", [
    ({"预计签约日期": "2027-13-45"}, "预计签约日期", "日期「2027-13-45」无效"),
    ({"客户分类": "E"}, "客户分类", "客户分类「E」无效"),
    ({"预计合同金额（万元）": -5}, "预计合同金额（万元）", "金额须在 0 到 10,000,000 万元之间"),
    ({"预计合同金额（万元）": "很多"}, "预计合同金额（万元）", "「很多」不是金额"),
    ({"签约概率（%）": 55}, "签约概率（%）", "签约概率须为"),
    ({"当前阶段": "快成了"}, "当前阶段", "阶段「快成了」无效"),
    ({"当前阶段": "丢单/放弃"}, "丢标原因", "须填写丢标原因"),
    ({"客户名称": "不存在的公司"}, "客户名称", "客户「不存在的公司」不存在"),
    ({"业务负责人账号": "nobody"}, "业务负责人账号", "账号「nobody」不存在"),
    ({"项目名称": None}, "项目名称", "请填写项目名称"),
])
def test_a_bad_row_is_reported_by_row_and_column_and_nothing_is_written(client, login, world, bad, where, message):
    login(world["manager"])
    before = counts()
    response = upload(client, _workbook([GOOD, GOOD | bad], [NEW_CUSTOMER]))
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(rf"<td>项目</td><td class=\"num\">3</td><td>[A-Z]+3</td><td>{re.escape(where)}</td>"
                     rf"<td>[^<]*{re.escape(message)}",
                     text), text[text.find("发现"):][:1500]
    assert "确认导入" not in text
    assert counts() == before


def test_a_wrong_header_is_refused(client, login, world):
    from salestrack.excel import PROJECT_COLUMNS
    login(world["manager"])
    header = ["项目名" if h == "项目名称" else h for _, h in PROJECT_COLUMNS]
    response = upload(client, _workbook([{"项目名": "x", "客户名称": "苏州恒力精密机械有限公司"}], project_header=header))
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "已忽略：项目名" in text and "缺少列「项目名称」" in text
    assert counts() == (2, 3)


@pytest.mark.parametrize("data,name", [
    (b"hello, this is not a spreadsheet", "fake.xlsx"),
    (b"PK\x03\x04" + b"\x00" * 100, "broken.xlsx"),
    (b"\x00\x01\x02 binary", "list.csv"),
    (b"", "empty.xlsx"),
])
def test_files_that_are_not_xlsx_are_refused_without_error_pages(client, login, world, data, name):
    login(world["manager"])
    response = upload(client, data, name)
    assert response.status_code == 400
    assert "Excel" in response.get_data(as_text=True) or ".xlsx" in response.get_data(as_text=True)
    assert counts() == (2, 3)


def test_a_workbook_without_the_sheets_is_refused(client, login, world):
    login(world["manager"])
    wb = Workbook()
    wb.active.title = "Sheet1"
    out = io.BytesIO()
    wb.save(out)
    response = upload(client, out.getvalue())
    assert response.status_code == 400 and "没有名为「项目」或「客户」的工作表" in response.get_data(as_text=True)


def test_confirm_needs_the_uploaders_own_preview(client, login, world):
    login(world["manager"])
    response = client.post("/funnel/import/confirm", data={"token": "0" * 32})
    assert response.status_code == 302 and counts() == (2, 3)


def test_a_rep_imports_only_for_himself(client, login, world):
    login(world["rep"])
    response = upload(client, _workbook([GOOD | {"业务负责人账号": world["rep2"].username}], [NEW_CUSTOMER]))
    assert response.status_code == 400 and f"账号「{world['rep2'].username}」不存在" in response.get_data(as_text=True)
