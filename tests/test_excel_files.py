"""The files the department really has, built in code the way Excel, WPS and
other systems write them, imported through the pages; what is stored is
checked cell by cell (issue 16)."""
import io
import re
import time
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.styles import Border, Side

from salestrack import operations
from salestrack.extensions import db
from salestrack.models import AuditEvent, Customer, Instalment, Project
from tests.test_excel import counts, make_world, upload

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def world(factory):
    return make_world(factory)


def book(sheets: dict, edit=None) -> bytes:
    """A workbook of {sheet: rows}; a cell given as (value, number_format) gets
    that format. `edit(ws_by_name)` may change the sheets before saving."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                fmt = None
                if isinstance(value, tuple):
                    value, fmt = value
                cell = ws.cell(row=r, column=c, value=value)
                if fmt:
                    cell.number_format = fmt
    if edit:
        edit({ws.title: ws for ws in wb.worksheets})
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def rewrite(data: bytes, member: str, change) -> bytes:
    """The .xlsx `data` with one zip member's XML passed through `change` (raw edits)."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            dst.writestr(item, change(body.decode()).encode() if item.filename == member else body)
    return out.getvalue()


def text_of(response) -> str:
    return response.get_data(as_text=True)


def errors_of(response) -> str:
    text = text_of(response)
    return text[text.find("发现"):][:3000] if "发现" in text else text[-3000:]


def project(name) -> Project:
    return db.session.scalar(sa.select(Project).where(Project.name == name))


def imported(client, data, name="导入.xlsx", **extra):
    preview = upload(client, data, name)
    assert preview.status_code == 200, errors_of(preview)
    assert "确认导入" in text_of(preview), text_of(preview)[-2000:]
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]+)"', text_of(preview)).group(1)
    done = client.post("/funnel/import/confirm", data={"token": token, **extra})
    assert done.status_code == 302, errors_of(done)
    return preview


PROJECT_HEADER = ["项目名称", "客户名称", "预计合同金额（万元）", "签约概率（%）", "预计签约日期"]
CUSTOMER = "苏州恒力精密机械有限公司"


# ── what the cells mean ───────────────────────────────────────────────────
def test_a_number_shown_as_00123_is_customer_00123_and_a_project_finds_it(client, login, world):
    login(world["director"])
    data = book({"客户": [["客户编号", "企业名称"], [(123, "00000"), "杭州零零科技有限公司"],
                          [(7, '"KH-"0000'), "杭州七号科技有限公司"]],
                 "项目": [["项目名称", "客户编号"], ["零零项目", "00123"], ["七号项目", "KH-0007"]]})
    imported(client, data)
    numbers = set(db.session.scalars(sa.select(Customer.customer_no).where(Customer.name.like("杭州%"))))
    assert numbers == {"00123", "KH-0007"}
    assert project("零零项目").customer.customer_no == "00123"
    assert project("七号项目").customer.customer_no == "KH-0007"


def test_a_customers_only_file_keeps_the_zeros(client, login, world):
    login(world["director"])
    imported(client, book({"客户": [["客户编号", "企业名称"], [(42, "000000"), "温州四二机电有限公司"]]}))
    assert db.session.scalar(sa.select(Customer.customer_no).where(Customer.name == "温州四二机电有限公司")) == "000042"


def test_a_formula_without_a_result_is_refused_naming_the_cell(client, login, world):
    login(world["director"])
    data = book({"项目": [PROJECT_HEADER, ["公式项目", CUSTOMER, "=100*1.13", "=20*2", "2027-01-01"]]})
    response = upload(client, data)
    text = text_of(response)
    assert response.status_code == 400 and "确认导入" not in text
    assert "单元格 C2 是公式「=100*1.13」，但文件中没有保存它的计算结果" in text
    assert "单元格 D2 是公式「=20*2」" in text
    assert project("公式项目") is None


def test_a_formula_with_its_cached_result_imports_the_result(client, login, world):
    login(world["director"])
    data = book({"项目": [PROJECT_HEADER, ["公式项目", CUSTOMER, "=100*1.13", "=20*2", "2027-01-01"]]})
    data = rewrite(data, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(
        "<f>100*1.13</f><v></v>", "<f>100*1.13</f><v>113.00000000000001</v>").replace(
        "<f>20*2</f><v></v>", "<f>20*2</f><v>40</v>"))
    imported(client, data)
    p = project("公式项目")
    assert (p.amount, p.probability, p.expected_sign_date) == (Decimal("113.00"), 40, date(2027, 1, 1))


def test_a_sheet_declaring_its_size_as_a1_is_read_in_full(client, login, world):
    login(world["director"])
    data = book({"项目": [PROJECT_HEADER, ["WPS 项目", CUSTOMER, 55, 60, "2027-02-01"]]})
    data = rewrite(data, "xl/worksheets/sheet1.xml", lambda xml: re.sub(r'<dimension ref="[^"]*"/>',
                                                                        '<dimension ref="A1"/>', xml))
    assert b'<dimension ref="A1"/>' in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    imported(client, data)
    p = project("WPS 项目")
    assert (p.customer.name, p.amount, p.probability, p.expected_sign_date) == \
        (CUSTOMER, Decimal("55.00"), 60, date(2027, 2, 1))


def test_rows_holding_only_borders_are_ignored(client, login, world):
    login(world["director"])

    def borders(sheets):
        thin = Side(style="thin")
        for row in sheets["项目"].iter_rows(min_row=1, max_row=6000, max_col=5):
            for cell in row:
                cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)

    data = book({"项目": [PROJECT_HEADER, ["边框一", CUSTOMER, 1, 20, None], ["边框二", CUSTOMER, 2, 40, None]]},
                borders)
    preview = imported(client, data)
    assert "将新建 0 个客户、2 个项目" in text_of(preview)
    assert project("边框二").amount == Decimal("2.00")


@pytest.mark.parametrize("header", ["预计合同金额(万元)", "预计合同金额\n（万元）", "预计合同金额 ( 万元 )",
                                    "预计合同金额【万元】", "预计合同金额万元", "预计合同金额"])
def test_headers_match_whatever_the_brackets_spaces_and_line_breaks(client, login, world, header):
    login(world["director"])
    data = book({"项目": [["项目名称", "客户名称", header, "签约概率(%)", "备注"], ["括号项目", CUSTOMER, 77, 40, "随便写"]]})
    preview = imported(client, data)
    assert "以下列不是导入的列，已忽略：备注" in text_of(preview)
    assert (project("括号项目").amount, project("括号项目").probability) == (Decimal("77.00"), 40)


def test_an_amount_column_in_yuan_is_refused_at_its_header(client, login, world):
    login(world["director"])
    response = upload(client, book({"项目": [["项目名称", "客户名称", "预计合同金额(元)"], ["元项目", CUSTOMER, 770000]]}))
    assert response.status_code == 400
    assert "此列的单位是「元」，本系统金额以万元计" in text_of(response) and project("元项目") is None


@pytest.mark.parametrize("value,expected", [
    ((46113, "General"), date(2026, 4, 1)),
    ((46113, "yyyy-mm-dd"), date(2026, 4, 1)),
    ("2026年3月5日", date(2026, 3, 5)),
    ("2026-03-05 00:00:00", date(2026, 3, 5)),
    ("2026/3/5", date(2026, 3, 5)),
    ("20260305", date(2026, 3, 5)),
    ((datetime(2026, 3, 5, 14, 30), "yyyy-mm-dd hh:mm"), date(2026, 3, 5)),
])
def test_dates_in_the_forms_people_write_them(client, login, world, value, expected):
    login(world["director"])
    imported(client, book({"项目": [["项目名称", "客户名称", "预计签约日期"], ["日期项目", CUSTOMER, value]]}))
    assert project("日期项目").expected_sign_date == expected


def test_a_date_that_is_no_date_is_refused_in_its_cell(client, login, world):
    login(world["director"])
    response = upload(client, book({"项目": [["项目名称", "客户名称", "预计签约日期"], ["日期项目", CUSTOMER, "2026年13月5日"]]}))
    assert response.status_code == 400
    assert re.search(r"<td>C2</td><td>预计签约日期</td><td>日期「2026年13月5日」无效", text_of(response))


# ── .csv and .xls ─────────────────────────────────────────────────────────
CSV = "项目名称,客户名称,预计合同金额（万元）,签约概率（%）,预计签约日期\n{name},{customer},12.5,60%,2027年1月2日\n"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_in_utf8_with_and_without_bom_and_in_gb18030(client, login, world, encoding):
    login(world["director"])
    name = f"CSV 项目 {encoding}"
    imported(client, CSV.format(name=name, customer=CUSTOMER).encode(encoding), "项目清单.csv")
    p = project(name)
    assert (p.customer.name, p.amount, p.probability, p.expected_sign_date) == \
        (CUSTOMER, Decimal("12.50"), 60, date(2027, 1, 2))


def test_a_csv_in_another_encoding_is_refused_with_the_way_forward(client, login, world):
    login(world["director"])
    response = upload(client, CSV.format(name="x", customer=CUSTOMER).encode("utf-16"), "项目清单.csv")
    assert response.status_code == 400 and "另存为「CSV UTF-8」" in text_of(response)


def test_an_old_xls_with_formats_merges_and_a_hidden_sheet(client, login, world):
    login(world["director"])
    imported(client, (FIXTURES / "funnel.xls").read_bytes(), "漏斗.xls")
    customer = db.session.scalar(sa.select(Customer).where(Customer.name == "宁波旧系统机械有限公司"))
    assert (customer.customer_no, customer.category) == ("00123", "重要")
    one, two = project("旧系统项目一"), project("旧系统项目二")
    assert (one.customer_id, one.amount, one.probability, one.expected_sign_date, one.stage) == \
        (customer.id, Decimal("12.50"), 40, date(2027, 3, 5), "design")
    assert (two.customer_id, two.amount, two.probability, two.expected_sign_date) == \
        (customer.id, Decimal("80.00"), 60, date(2027, 6, 30))


# ── merges, hidden rows and sheets, several sheets ────────────────────────
def test_a_value_merged_down_a_column_applies_to_each_row(client, login, world):
    login(world["director"])
    data = book({"项目": [["项目名称", "客户名称"], ["合并一", CUSTOMER], ["合并二", None]]},
                lambda s: s["项目"].merge_cells("B2:B3"))
    imported(client, data)
    assert project("合并一").customer.name == project("合并二").customer.name == CUSTOMER


def test_a_merge_across_columns_is_refused_naming_the_cells_and_columns(client, login, world):
    login(world["director"])
    data = book({"项目": [["项目名称", "客户名称", "主要竞争对手"], ["横向合并", CUSTOMER, None]]},
                lambda s: s["项目"].merge_cells("B2:C2"))
    response = upload(client, data)
    assert response.status_code == 400
    assert "单元格 B2:C2 是合并单元格，跨了「客户名称」、「主要竞争对手」" in text_of(response)


def test_a_hidden_row_and_a_hidden_projects_sheet_are_refused(client, login, world):
    login(world["director"])

    def hide_row(s):
        s["项目"].row_dimensions[3].hidden = True

    response = upload(client, book({"项目": [["项目名称", "客户名称"], ["看得见", CUSTOMER], ["看不见", CUSTOMER]]}, hide_row))
    assert response.status_code == 400 and "第 3 行是隐藏行" in text_of(response)

    def hide_sheet(s):
        s["项目"].sheet_state = "hidden"

    response = upload(client, book({"说明": [["这是说明"]], "项目": [["项目名称", "客户名称"], ["藏起来", CUSTOMER]]},
                                   hide_sheet))
    assert response.status_code == 400 and "工作表「项目」是隐藏的" in text_of(response)
    assert project("看得见") is None and project("藏起来") is None


def test_the_sheet_is_found_by_its_columns_among_several(client, login, world):
    login(world["director"])
    data = book({"说明": [["填写说明"], ["金额以万元计"]], "Sheet1": [["项目名称", "客户名称"], ["按列找到", CUSTOMER]]})
    imported(client, data)
    assert project("按列找到").customer.name == CUSTOMER
    two = book({"A": [["项目名称", "客户名称"], ["甲", CUSTOMER]], "B": [["项目名称", "客户名称"], ["乙", CUSTOMER]]})
    response = upload(client, two)
    assert response.status_code == 400 and "有多个工作表像是「项目」表：A、B" in text_of(response)


# ── update as well as create ──────────────────────────────────────────────
def test_an_existing_project_is_updated_old_to_new_in_one_audit_event(client, login, world):
    login(world["rep"])
    mes = project("数控车间 MES 系统")
    before = db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))
    data_with_customer = book({"项目": [["项目编号", "项目名称", "客户名称", "预计合同金额（万元）", "签约概率（%）",
                                         "预计签约日期", "当前阶段", "阶段停留原因"],
                                        [mes.project_no, "数控车间 MES 系统", CUSTOMER, 200, 80, "2027-02-28",
                                         "方案设计", "客户要求先出方案"],
                                        [None, "新建的项目", CUSTOMER, 10, 20, None, None, None]]})
    preview = imported(client, data_with_customer)
    text = text_of(preview)
    assert "将新建 0 个客户、1 个项目，更新 1 个项目" in text
    assert "预计合同金额（万元）：186.50 → 200.00" in text and "预计签约日期：2027-01-15 → 2027-02-28" in text
    assert "当前阶段：项目立项 → 方案设计" in text
    mes = project("数控车间 MES 系统")
    assert (mes.amount, mes.expected_sign_date, mes.stage) == (Decimal("200.00"), date(2027, 2, 28), "design")
    assert project("新建的项目").amount == Decimal("10.00")
    events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before)))
    assert [e.action for e in events] == ["data_import"]
    assert events[0].detail["changed_projects"] == [mes.project_no] and events[0].content_hash


def test_an_update_the_stage_rules_forbid_is_refused_in_the_preview(client, login, world):
    login(world["rep"])
    mes = project("数控车间 MES 系统")
    data = book({"项目": [["项目编号", "项目名称", "当前阶段"], [mes.project_no, "数控车间 MES 系统", "丢单/放弃"]]})
    response = upload(client, data)
    assert response.status_code == 400 and "丢单/放弃须填写丢标原因" in text_of(response)
    assert project("数控车间 MES 系统").stage == "lead"


def test_another_reps_project_is_neither_changed_nor_revealed(client, login, world):
    login(world["rep"])
    lost = project("智能仓储改造")  # rep2's
    data = book({"项目": [["项目编号", "项目名称", "客户名称"], [lost.project_no, "改名", CUSTOMER]]})
    response = upload(client, data)
    text = text_of(response)
    assert response.status_code == 400 and f"项目编号「{lost.project_no}」不可用" in text
    assert "智能仓储改造" not in text and "上海东方电气设备有限公司" not in text
    other = db.session.scalar(sa.select(Customer).where(Customer.name == "上海东方电气设备有限公司"))
    data = book({"项目": [["项目名称", "客户编号"], ["偷看", other.customer_no]]})
    text = text_of(upload(client, data))
    assert f"客户编号 {other.customer_no} 不存在" in text and "上海东方电气" not in text
    data = book({"客户": [["客户编号", "企业名称"], [other.customer_no, "随便"]]})
    text = text_of(upload(client, data))
    assert f"客户编号「{other.customer_no}」不可用" in text and "上海东方电气" not in text and "将跳过" not in text


def test_collections_come_in_for_a_project_without_a_plan(client, login, world):
    login(world["rep"])
    mes = project("数控车间 MES 系统")
    data = book({"项目": [["项目编号", "项目名称", "已回款（万元）", "回款日期"], [mes.project_no, mes.name, 50, "2026-11-20"]]})
    preview = imported(client, data)
    assert "已回款（万元）：（空） → 50.00" in text_of(preview)
    item = db.session.scalar(sa.select(Instalment).where(Instalment.project_id == mes.id))
    assert (item.actual_amount, item.actual_date) == (Decimal("50.00"), date(2026, 11, 20))


# ── identifiers, limits ───────────────────────────────────────────────────
def test_numbers_outside_their_range_are_refused_and_numbering_still_works(client, login, world):
    login(world["director"])
    data = book({"客户": [["客户编号", "企业名称"], ["C9223372036854775807", "溢出客户有限公司"], ["C 1; DROP", "坏编号公司"]],
                 "项目": [["项目编号", "项目名称", "客户名称"], ["XM-2026-9223372036854775807", "溢出项目", CUSTOMER],
                          ["XM-9999-0001", "远年项目", CUSTOMER]]})
    response = upload(client, data)
    text = text_of(response)
    assert response.status_code == 400
    assert "编号「C9223372036854775807」超出范围" in text and "编号「XM-2026-9223372036854775807」超出范围" in text
    assert "编号「C 1; DROP」无效" in text and "编号「XM-9999-0001」超出范围" in text
    customer = operations.create_customer(world["rep"], name="编号照常有限公司")
    new = operations.create_project(world["rep"], name="编号照常", customer_id=customer.id)
    assert re.fullmatch(r"C\d{5}", customer.customer_no) and re.fullmatch(r"XM-\d{4}-\d{4}", new.project_no)
    assert client.post("/customers/new", data={"name": "页面新建有限公司"}).status_code in (200, 302)


def _huge_xlsx(rows: int, columns: int) -> bytes:
    """A workbook of rows × columns numeric cells, written the way a hostile
    exporter would: tiny zipped, huge unpacked."""
    cells = "<c><v>1</v></c>" * columns
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+'
        'xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
        'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet '
        'name="项目" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, body in parts.items():
            z.writestr(name, body)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                        b'2006/main"><sheetData>')
            for r in range(1, rows + 1):
                sheet.write(f'<row r="{r}">{cells}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def test_the_5000_by_2001_file_is_refused_within_a_second(client, login, world):
    login(world["director"])
    data = _huge_xlsx(5000, 2001)
    assert len(data) < 1024 * 1024
    started = time.perf_counter()
    response = upload(client, data)
    elapsed = time.perf_counter() - started
    assert response.status_code == 400 and "超过 64 MB 的上限" in text_of(response)
    assert elapsed < 1.0, elapsed
    assert counts() == (2, 3)


def test_a_file_wider_than_the_column_limit_is_refused_at_its_first_row(client, login, world):
    login(world["director"])
    response = upload(client, _huge_xlsx(200, 2001))
    assert response.status_code == 400
    assert "工作表「项目」第 1 行在 BXY 列有数据，超过最多 100 列的限制" in text_of(response)


def test_imports_beyond_the_slots_are_asked_to_retry_and_lose_nothing(client, login, world):
    from salestrack import sheetfile
    login(world["director"])
    data = book({"项目": [["项目名称", "客户名称"], ["排队项目", CUSTOMER]]})
    with sheetfile.import_slot(), sheetfile.import_slot():  # two imports running in this process
        busy = upload(client, data)
    assert busy.status_code == 400 and "服务器正在处理其他导入，请稍候一分钟再上传" in text_of(busy)
    imported(client, data)  # and once they are done, the same file goes through
    assert project("排队项目") is not None


@pytest.mark.parametrize("rows,accepted", [(5000, True), (5001, False)])
def test_five_thousand_rows_of_data_are_read_and_one_more_is_refused(rows, accepted):
    from salestrack import sheetfile
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("项目")
    ws.append(["项目名称", "客户名称"])
    for i in range(rows):
        ws.append([f"项目{i}", CUSTOMER])
    out = io.BytesIO()
    wb.save(out)
    if accepted:
        assert len(sheetfile.read(out.getvalue(), "x.xlsx")[0].rows) == rows + 1
    else:
        with pytest.raises(sheetfile.FileRefused, match="最多导入 5000 行"):
            sheetfile.read(out.getvalue(), "x.xlsx")


# ── 万元: an implausible amount needs the unit confirmed ──────────────────
def test_an_implausible_amount_is_flagged_and_needs_the_box(client, login, world, app):
    login(world["director"])
    limit = app.config["MONEY_CONFIRM_ABOVE"]
    data = book({"项目": [PROJECT_HEADER, ["大金额项目", CUSTOMER, limit * 10, 20, None]]})
    preview = upload(client, data)
    text = text_of(preview)
    assert preview.status_code == 200 and "⚠ 超过" in text and "（C2）" in text
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]+)"', text).group(1)
    refused = client.post("/funnel/import/confirm", data={"token": token})
    assert refused.status_code == 400 and "请核对标出的金额并勾选确认" in text_of(refused)
    assert project("大金额项目") is None
    done = client.post("/funnel/import/confirm", data={"token": token, "units_confirmed": "y"})
    assert done.status_code == 302
    assert project("大金额项目").amount == Decimal(limit * 10)


def test_an_empty_probability_cell_previews_and_stores_the_default(client, login, world):
    login(world["director"])
    preview = imported(client, book({"项目": [["项目名称", "客户名称", "签约概率（%）"], ["空概率", CUSTOMER, None]]}))
    assert "<td>20%</td>" in text_of(preview) and project("空概率").probability == 20


def test_an_ordinary_amount_needs_no_box(client, login, world):
    login(world["director"])
    preview = imported(client, book({"项目": [PROJECT_HEADER, ["普通金额", CUSTOMER, 500, 20, None]]}))
    assert "units_confirmed" not in text_of(preview)


def test_dates_outside_excels_calendar_are_refused(client, login, world):
    login(world["director"])
    response = upload(client, book({"项目": [["项目名称", "客户名称", "预计签约日期"], ["远日期", CUSTOMER, 10 ** 9]]}))
    assert response.status_code == 400 and "不是日期" in text_of(response)
    assert date(1899, 12, 30) + timedelta(days=46113) == date(2026, 4, 1)  # the serial used above


# ── round trip and random workbooks ───────────────────────────────────────
def _snapshot():
    """Every customer, project and instalment as stored, to compare before and after."""
    out = []
    for model in (Customer, Project, Instalment):
        table = model.__table__
        out.append(sorted(tuple(str(v) for v in row) for row in db.session.execute(sa.select(table))))
    return out


def _xlsx_exports():
    from tests.test_excel_exports_safe import _export_urls
    return [u for u in _export_urls() if u.endswith(".xlsx")]


@pytest.mark.parametrize("url", _xlsx_exports())
@pytest.mark.parametrize("role", ["director", "rep"])
def test_importing_an_export_unchanged_changes_nothing(client, login, world, url, role):
    login(world[role])
    exported = client.get(url)
    assert exported.status_code == 200
    before = _snapshot()
    preview = upload(client, exported.data, "导出.xlsx")
    assert preview.status_code < 500
    assert "确认导入" not in text_of(preview), text_of(preview)[-2000:]
    assert _snapshot() == before


HEADERS = ["项目编号", "预计合同金额（万元）", "签约概率（%）", "预计签约日期", "当前阶段", "丢标原因",
           "客户分类", "主要竞争对手", "备注"]
FORMATS = ["General", "00000", '"XM-"0000', "0.00", "0%", "yyyy-mm-dd", "@"]
VALUES = st.one_of(
    st.none(), st.just(""), st.just(CUSTOMER), st.sampled_from(["项目立项", "方案设计", "丢单/放弃", "A", "c", "60%"]),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12), st.integers(-10, 10 ** 7),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 20, 40, 0.6, 46113, "2026年3月5日", "2026-03-05 00:00:00", "=1+1", "+x", "@y"]),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)), st.booleans())


def _preview_projects(text: str) -> list[tuple]:
    """(name, stage, class, amount, probability) of each 新建项目 row of a preview page."""
    if "<h3>新建项目</h3>" not in text:
        return []
    body = text.split("<h3>新建项目</h3>", 1)[1].split("</table>", 1)[0]
    rows = []
    for tr in re.findall(r"<tr><td class=\"num\">\d+</td>(.*?)</tr>", body, re.DOTALL):
        cells = [re.sub(r"<[^>]+>|⚠.*", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.DOTALL)]
        rows.append((cells[1], cells[2], cells[3], cells[4], cells[5]))
    return sorted(rows)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_workbooks_never_fail_and_store_what_the_preview_showed(client, login, world, data):
    from markupsafe import escape

    from salestrack.process import stage_label
    from salestrack.templating import money
    login(world["director"])
    columns = ["项目名称", "客户名称"] + data.draw(st.lists(st.sampled_from(HEADERS), max_size=4, unique=True))
    cell = st.tuples(st.one_of(st.none(), st.none(), VALUES), st.sampled_from(FORMATS))
    rows = data.draw(st.lists(st.tuples(
        st.tuples(st.one_of(st.sampled_from(["甲项目", "=乙", "+丙", " 丁 ", "@戊"]), st.text(
            st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=8)), st.just("General")),
        st.tuples(st.sampled_from([CUSTOMER, CUSTOMER, CUSTOMER, "不存在的公司", None]), st.just("General")),
        st.lists(cell, min_size=len(columns) - 2, max_size=len(columns) - 2)).map(
            lambda t: [t[0], t[1], *t[2]]), min_size=1, max_size=6))
    blank_at = data.draw(st.sets(st.integers(0, 6), max_size=2))
    merges = data.draw(st.lists(st.tuples(st.integers(2, 8), st.integers(1, len(columns)), st.integers(0, 2),
                                          st.integers(0, 1)), max_size=2))
    body = [columns]
    for i, row in enumerate(rows):
        if i in blank_at:
            body.append([None] * len(columns))
        body.append([(v, f) if v is not None else None for v, f in row])

    def edit(sheets):
        taken = set()
        for r, c, down, across in merges:
            cells = {(r + dr, c + dc) for dr in range(down + 1) for dc in range(across + 1)}
            if (down or across) and not cells & taken and c + across <= len(columns):
                sheets["项目"].merge_cells(start_row=r, start_column=c, end_row=r + down, end_column=c + across)
                taken |= cells

    last = db.session.scalar(sa.select(sa.func.max(Project.id)))
    preview = upload(client, book({"项目": body}, edit))
    assert preview.status_code in (200, 400), preview.status_code
    text = text_of(preview)
    if "确认导入" not in text:
        event("refused" if "发现" in text else "nothing to import")
        assert db.session.scalar(sa.select(sa.func.max(Project.id))) == last
        return
    event("imported")
    shown = _preview_projects(text)
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]+)"', text).group(1)
    done = client.post("/funnel/import/confirm", data={"token": token, "units_confirmed": "y"})
    assert done.status_code == 302, errors_of(done)
    stored = sorted((str(escape(p.name)), stage_label(p.stage), p.customer_class, money(p.amount), f"{p.probability}%")
                    for p in db.session.scalars(sa.select(Project).where(Project.id > (last or 0))))
    assert stored == shown
