"""Excel, because the department lives in it: the 销售漏斗表, the forecast
tables and any filtered project list as .xlsx with Chinese headers; and the
import of customers and projects from a workbook laid out like the project
export, checked row by row before anything is written."""
from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from . import access, sheetfile
from .customer_keys import TAX_ID_SHAPE, duplicate_message, name_key, tax_key
from .extensions import db
from .models import Customer, Project, Team, User, utcnow
from .process import CLASS_CODES, LEAD_SOURCES, PROBABILITY_VALUES, STAGE_BY_CODE, STAGES, stage_label
from .safecell import safe_cell
from .templating import local_time

MAX_IMPORT_BYTES = sheetfile.MAX_BYTES
MAX_IMPORT_ROWS = sheetfile.MAX_ROWS
MAX_EXPORT_ROWS = 100_000
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0.0%"

# (key, header); keys marked informational are exported but not imported.
PROJECT_SHEET = "项目"
PROJECT_COLUMNS = (
    ("project_no", "项目编号"), ("name", "项目名称"), ("customer_no", "客户编号"), ("customer_name", "客户名称"),
    ("owner_username", "业务负责人账号"), ("owner_name", "业务负责人"), ("team", "所属片区"),
    ("product_line", "应用类型/所属产品"), ("amount", "预计合同金额（万元）"), ("probability", "签约概率（%）"),
    ("expected_sign_date", "预计签约日期"), ("competitors", "主要竞争对手"), ("funding", "项目资金来源及预算"),
    ("lead_source", "客户来源"), ("customer_class", "客户分类"), ("stage", "当前阶段"),
    ("stage_entered_at", "进入阶段日期"), ("stage_stay_reason", "阶段停留原因"), ("lost_reason", "丢标原因"),
    ("signed_at", "签约日期"), ("collected_amount", "已回款（万元）"), ("collection_date", "回款日期"),
    ("last_followup_at", "上次跟进"),
)
INFORMATIONAL = {"owner_name", "team", "stage_entered_at", "last_followup_at"}
CUSTOMER_SHEET = "客户"
CUSTOMER_COLUMNS = (
    ("customer_no", "客户编号"), ("name", "企业名称"), ("short_name", "企业简称"), ("category", "客户类别"),
    ("source", "客户来源"), ("industry", "企业所属行业"), ("contact", "联系人"), ("phone", "电话"),
    ("address", "地址"), ("owner_username", "负责人账号"), ("tax_id", "统一社会信用代码/增值税号"),
)
TEXT_LIMITS = {"name": 200, "product_line": 120, "competitors": 300, "funding": 300, "stage_stay_reason": 500,
               "lost_reason": 500, "short_name": 80, "contact": 80, "phone": 40, "address": 300,
               "customer_no": 30, "project_no": 30, "tax_id": 40}


# ── writing ───────────────────────────────────────────────────────────────
def _sheet(wb: Workbook, title: str, first: bool = False):
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    return ws


def _header_row(ws, row: int, headers) -> None:
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(row=row, column=col, value=text)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = max(10, min(40, len(str(text)) * 2 + 4))
    ws.freeze_panes = ws.cell(row=row + 1, column=1)


def _title(ws, title: str, subtitle: str) -> int:
    """A title and the filters above a report table; returns the header row."""
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    safe_cell(subtitle, ws.cell(row=2, column=1))
    ws.cell(row=3, column=1, value=f"导出时间：{local_time(utcnow())}")
    return 5


def _put(ws, row: int, values, formats=None) -> None:
    for col, value in enumerate(values, start=1):
        cell = safe_cell(value, ws.cell(row=row, column=col))
        if formats and formats.get(col):
            cell.number_format = formats[col]


def _append(ws, values) -> None:
    ws.append([safe_cell(v, ws) for v in values])


def _bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def funnel_workbook(scope_label: str, stages, conversion, trend) -> bytes:
    """销售漏斗表: per stage the count and 预计金额, the conversion to the next
    stage and the average days in it; and the monthly trend."""
    wb = Workbook()
    ws = _sheet(wb, "销售漏斗表", first=True)
    row = _title(ws, "销售漏斗表", scope_label)
    _header_row(ws, row, ("序号", "销售阶段", "客户采购流程", "里程碑", "项目数", "预计金额（万元）",
                          "到达本阶段的项目数", "转化到下一阶段", "阶段转化率", "平均停留天数"))
    conv = {c.code: c for c in conversion}
    formats = {6: MONEY_FORMAT, 9: PERCENT_FORMAT}
    for s in stages:
        c = conv[s.code]
        stage = STAGE_BY_CODE[s.code]
        row += 1
        _put(ws, row, (s.number, s.label, stage.customer_step, stage.milestone, s.count, float(s.amount),
                       c.reached, c.next_reached, c.rate, c.avg_days), formats)
    row += 1
    _put(ws, row, ("", "合计（进行中）", "", "", sum(s.count for s in stages if s.code != "won"),
                   float(sum(s.amount for s in stages if s.code != "won"))), formats)
    ws.cell(row=row + 2, column=1, value="说明：1–7 阶段为期末仍在该阶段的项目；签约成交为期间内签约的项目。"
                                          "转化率按期间内新建项目的全部阶段记录计算，跳过的阶段视为已经过。")

    ws = _sheet(wb, "月度趋势")
    _header_row(ws, 1, ["月份"] + [s.label for s in stages] + ["进行中合计"])
    for i, month in enumerate(trend, start=2):
        _put(ws, i, [f"{month.month:%Y-%m}"] + [s.count for s in month.stages] + [month.open_count])
    return _bytes(wb)


def forecast_workbook(scope_label: str, forecast, collection) -> bytes:
    """The weighted forecast per stage and the 销售收入预测表 by month."""
    from .funnel import COLLECTION_COLUMNS
    wb = Workbook()
    ws = _sheet(wb, "加权预测", first=True)
    row = _title(ws, "销售预测（预计签约日期在期间内的进行中项目）", scope_label)
    _header_row(ws, row, ("销售阶段", "项目数", "预计金额（万元）", "按签约概率加权（万元）", "历史成交转化率",
                          "按历史转化率加权（万元）"))
    formats = {3: MONEY_FORMAT, 4: MONEY_FORMAT, 5: PERCENT_FORMAT, 6: MONEY_FORMAT}
    for r in forecast.rows:
        row += 1
        _put(ws, row, (r.label, r.count, float(r.amount), float(r.weighted), r.rate, float(r.historical)), formats)
    row += 1
    _put(ws, row, ("合计", forecast.count, float(forecast.amount), float(forecast.weighted), None,
                   float(forecast.historical)), formats)

    ws = _sheet(wb, "销售收入预测表")
    row = _title(ws, "销售收入预测表（万元）", scope_label)
    _header_row(ws, row, ["月份"] + [label for _, label in COLLECTION_COLUMNS])
    for r in collection:
        row += 1
        _put(ws, row, [f"{r.month:%Y-%m}" if r.month else "合计"] +
             [float(getattr(r, key)) for key, _ in COLLECTION_COLUMNS],
             {i: MONEY_FORMAT for i in range(2, 2 + len(COLLECTION_COLUMNS))})
    return _bytes(wb)


DATE_FORMAT = "yyyy-mm-dd"


def _report_cell(ws, value, kind: str, bold: bool = False):
    """A cell of a report for a write-only sheet: 万元 as a number, a date as
    a date, text as text that never starts a formula (safecell); a blank or
    plain value goes in as it is (a styled cell costs ten times as much to
    write, and a report has tens of thousands)."""
    from openpyxl.cell import WriteOnlyCell
    if value is None or value == "":
        return None
    if kind == "money":
        value, number_format = float(value), MONEY_FORMAT
    elif kind in ("date", "node") and isinstance(value, date):
        number_format = DATE_FORMAT
    elif not bold:
        return safe_cell(value, ws)
    else:
        number_format = None
    cell = safe_cell(value, WriteOnlyCell(ws))
    if number_format:
        cell.number_format = number_format
    if bold:
        cell.font = Font(bold=True)
    return cell


def _styled_header(ws, texts):
    from openpyxl.cell import WriteOnlyCell
    row = []
    for text in texts:
        cell = WriteOnlyCell(ws, text)
        if text:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        row.append(cell)
    return row


def report_workbook(report, scope_label: str) -> bytes:
    """A report of salestrack.reports as .xlsx: one sheet per table, titled as
    the paper; the columns in the paper's order (the group heading — 意向阶段,
    销售前期 … — in the row above the first column of its run), then each
    block's rows and its 合计 row (Σ of the money columns). Money in 万元 as
    numbers, dates as dates; text cells kept as text (safecell)."""
    from openpyxl.cell import WriteOnlyCell
    wb = Workbook(write_only=True)
    for table in report.tables:
        ws = wb.create_sheet(table.title[:31])
        for i, column in enumerate(table.columns, start=1):
            width = 12 if column.kind in ("money", "date", "node") else max(10, min(30, len(column.label) * 2 + 4))
            ws.column_dimensions[get_column_letter(i)].width = width
        title = WriteOnlyCell(ws, f"{report.title}" + (f" · {table.title}" if table.title != report.title else ""))
        title.font = Font(bold=True, size=14)
        ws.append([title])
        ws.append([safe_cell(scope_label, ws)])
        ws.append([f"导出时间：{local_time(utcnow())}　金额单位：万元"])
        ws.append([])
        if any(c.group for c in table.columns):
            groups, previous = [], None
            for c in table.columns:
                groups.append(c.group if c.group and c.group != previous else "")
                previous = c.group
            ws.append(_styled_header(ws, groups))
        ws.append(_styled_header(ws, [c.label for c in table.columns]))
        for block in table.blocks:
            for row in block.rows:
                ws.append([_report_cell(ws, row.get(c.key), c.kind) for c in table.columns])
            if block.totals is not None:
                name = block.label.split("（", 1)[0] + " " if block.label else ""
                totals = [WriteOnlyCell(ws, f"{name}合计（{block.count} 项）")]
                totals[0].font = Font(bold=True)
                for c in table.columns[1:]:
                    totals.append(_report_cell(ws, block.totals.get(c.key), c.kind, bold=True)
                                  if c.key in block.totals else None)
                ws.append(totals)
        for note in (table.note, report.note):
            if note:
                ws.append([])
                ws.append([safe_cell("说明：" + note, ws)])
    return _bytes(wb)


def projects_workbook(query) -> bytes:
    """The projects of `query` (a select of Project joined to Customer) on sheet
    项目, and their customers on sheet 客户, in the layout the import reads."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(PROJECT_SHEET)
    ws.append([h for _, h in PROJECT_COLUMNS])
    owner, team = sa.orm.aliased(User), sa.orm.aliased(Team)
    rows = db.session.execute(
        query.with_only_columns(Project, Customer.customer_no, Customer.name, owner.username, owner.name, team.name)
        .join(owner, owner.id == Project.owner_id).outerjoin(team, team.id == Project.team_id)
        .options(sa.orm.selectinload(Project.instalments))
        .order_by(Project.project_no).limit(MAX_EXPORT_ROWS).execution_options(yield_per=2000))
    for p, customer_no, customer_name, username, owner_name, team_name in rows:
        _append(ws, [p.project_no, p.name, customer_no, customer_name, username, owner_name, team_name,
                   p.product_line, float(p.amount) if p.amount is not None else None, p.probability,
                   p.expected_sign_date, p.competitors, p.funding, p.lead_source, p.customer_class,
                   stage_label(p.stage), local_time(p.stage_entered_at, "%Y-%m-%d"), p.stage_stay_reason,
                   p.lost_reason, p.signed_at, float(p.collected_amount) if p.instalments else None,
                   p.collection_date, local_time(p.last_followup_at, "%Y-%m-%d") or None])
    ws = wb.create_sheet(CUSTOMER_SHEET)
    ws.append([h for _, h in CUSTOMER_COLUMNS])
    ids = query.with_only_columns(Project.customer_id).order_by(None).subquery()
    for c, username in db.session.execute(
            sa.select(Customer, User.username).outerjoin(User, User.id == Customer.owner_id)
            .where(Customer.id.in_(sa.select(ids.c.customer_id))).order_by(Customer.customer_no)):
        _append(ws, [c.customer_no, c.name, c.short_name, c.category, c.source, c.industry, c.contact, c.phone,
                   c.address, username, c.tax_id])
    return _bytes(wb)


# ── reading ───────────────────────────────────────────────────────────────
ImportFileError = sheetfile.FileRefused
MAX_SERIES_VALUE = 9_999_999  # the largest sequence number a system-style number may carry
NUMBER_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,29}")
HEADER_ALIASES = {CUSTOMER_SHEET: {"客户名称": "name", "客户全称": "name", "公司名称": "name"},
                  PROJECT_SHEET: {"预计金额": "amount", "合同金额": "amount", "签约概率": "probability"}}
REQUIRED = {CUSTOMER_SHEET: ("name",), PROJECT_SHEET: ("name",)}
UPDATABLE = ("name", "product_line", "amount", "probability", "expected_sign_date", "competitors", "funding",
             "lead_source", "customer_class", "stage_stay_reason", "lost_reason")


@dataclass
class RowError:
    sheet: str
    row: int  # the spreadsheet's row number, as Excel shows it; 1 for the header
    column: str  # the column header as the file spells it ('' for the whole row)
    message: str
    cell: str = ""  # e.g. "I3"


@dataclass
class ImportPlan:
    """What an import would do: the customers and projects to create, the
    existing projects to change (each with its changes, old → new), what is
    unchanged, columns ignored, amounts above MONEY_CONFIRM_ABOVE (万元) that
    need the unit confirmed, and every error found. `digest` is the SHA-256
    of the file."""
    customers: list[dict] = field(default_factory=list)
    projects: list[dict] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)
    unchanged: int = 0
    notices: list[str] = field(default_factory=list)
    large_amounts: list[RowError] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    digest: str = ""

    @property
    def acts(self) -> int:
        return len(self.customers) + len(self.projects) + len(self.updates)


_BRACKETS = str.maketrans({"【": "(", "〔": "(", "[": "(", "{": "(", "】": ")", "〕": ")", "]": ")", "}": ")"})


def header_parts(text) -> tuple[str, str]:
    """A column header as a person matches it: (name, unit), full/half width,
    brackets, spaces and line breaks not mattering. "预计合同金额（万元）",
    "预计合同金额(万元)" and "预计合同金额\\n万元" all give ("预计合同金额", "万元")."""
    text = unicodedata.normalize("NFKC", str(text or "")).translate(_BRACKETS)
    text = re.sub(r"\s+", "", text)
    m = re.fullmatch(r"(.+?)\(([^()]*)\)", text)
    if m:
        return m.group(1), m.group(2)
    m = re.fullmatch(r"(.+?)(万元|%)", text)
    if m:
        return m.group(1), m.group(2)
    return text, ""


def _columns_of(sheet_name: str):
    columns = PROJECT_COLUMNS if sheet_name == PROJECT_SHEET else CUSTOMER_COLUMNS
    by_name = {header_parts(h)[0]: (k, header_parts(h)[1]) for k, h in columns}
    for alias, key in HEADER_ALIASES[sheet_name].items():
        by_name.setdefault(alias, (key, {k: header_parts(h)[1] for k, h in columns}[key]))
    return columns, by_name


@dataclass
class _Table:
    """One sheet read for one role: its header row and rows as {key: Cell},
    with each key's column number and header as the file spells it."""
    role: str
    sheet: sheetfile.Sheet
    header_row: int
    keys: dict[str, int]
    headers: dict[str, str]
    rows: list[tuple[int, dict]] = field(default_factory=list)


def _map_header(role: str, sheet: sheetfile.Sheet, plan: ImportPlan) -> _Table | None:
    if not sheet.rows:
        return None
    header_row, cells = sheet.rows[0]
    columns, by_name = _columns_of(role)
    keys, headers = {}, {}
    unknown = []
    for col in sorted(cells):
        cell = cells[col]
        text = str(cell.value).strip() if cell.value is not None else ""
        if not text:
            continue
        name, unit = header_parts(text)
        found = by_name.get(name)
        if found is None:
            unknown.append(text)
            continue
        key, expected_unit = found
        ref = f"{get_column_letter(col)}{header_row}"
        if key in keys:
            plan.errors.append(RowError(sheet.name, header_row, text, f"与 {get_column_letter(keys[key])} 列"
                                        f"「{headers[key]}」是同一列，请删除其中一列", ref))
            continue
        if expected_unit == "万元" and unit and unit != "万元":
            plan.errors.append(RowError(sheet.name, header_row, text, f"此列的单位是「{unit}」，本系统金额以万元计："
                                        f"请换算为万元并把列名改为「{name}（万元）」", ref))
            continue
        keys[key], headers[key] = col, text
    for key in REQUIRED[role]:
        if key not in keys:
            plan.errors.append(RowError(sheet.name, header_row, "", f"缺少列「{dict(columns)[key]}」"))
    if role == PROJECT_SHEET and not {"customer_no", "customer_name", "project_no"} & set(keys):
        plan.errors.append(RowError(sheet.name, header_row, "", "缺少列「客户编号」或「客户名称」"))
    if unknown:
        plan.notices.append(f"工作表「{sheet.name}」中以下列不是导入的列，已忽略：{'、'.join(unknown)}")
    return _Table(role, sheet, header_row, keys, headers)


def _looks_like(role: str, sheet: sheetfile.Sheet) -> bool:
    if not sheet.rows:
        return False
    _, by_name = _columns_of(role)
    found = {by_name[n][0] for n in (header_parts(c.value)[0] for c in sheet.rows[0][1].values()
                                     if c.value is not None) if n in by_name}
    if role == PROJECT_SHEET:
        return "name" in found and bool({"customer_no", "customer_name"} & found)
    return "name" in found and not _looks_like(PROJECT_SHEET, sheet)


def _pick_sheets(sheets: list[sheetfile.Sheet], plan: ImportPlan) -> dict[str, _Table]:
    """The sheet for customers and the sheet for projects: by name (客户, 项目),
    else the one sheet whose header row has that sheet's columns."""
    picked = {}
    for role in (CUSTOMER_SHEET, PROJECT_SHEET):
        named = [s for s in sheets if header_parts(s.name)[0] == role]
        candidates = named or [s for s in sheets if _looks_like(role, s) and s not in picked.values()]
        if len(candidates) > 1:
            raise ImportFileError(f"工作簿中有多个工作表像是「{role}」表：{'、'.join(s.name for s in candidates)}。"
                                  f"请把要导入的工作表命名为「{role}」，或删除其余的")
        if candidates:
            picked[role] = candidates[0]
    if not picked:
        raise ImportFileError(f"工作簿中没有名为「{PROJECT_SHEET}」或「{CUSTOMER_SHEET}」的工作表，"
                              "也没有列名含「项目名称」或「企业名称」的工作表")
    tables = {}
    for role, sheet in picked.items():
        if sheet.hidden:
            plan.errors.append(RowError(sheet.name, 0, "", f"工作表「{sheet.name}」是隐藏的：请在 Excel 中取消隐藏后再导入，"
                                                          "或删除它"))
            continue
        table = _map_header(role, sheet, plan)
        if table is not None:
            _fill_rows(table, plan)
            tables[role] = table
    return tables


def _fill_rows(table: _Table, plan: ImportPlan) -> None:
    """table.rows from the sheet: only the columns needed; a value merged
    down a column applies to every row of the merge; a merge across columns,
    and hidden rows holding data, are refused naming the cells."""
    sheet, wanted = table.sheet, {col: key for key, col in table.keys.items()}
    fill_down = {}
    for r1, c1, r2, c2 in sheet.merged:
        if r2 < table.header_row or not any(c1 <= col <= c2 for col in wanted):
            continue
        ref = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}"
        if c2 > c1:
            spanned = [table.headers[wanted[c]] for c in range(c1, c2 + 1) if c in wanted]
            plan.errors.append(RowError(sheet.name, r1, spanned[0], f"单元格 {ref} 是合并单元格，跨了"
                                        f"{'、'.join('「' + h + '」' for h in spanned)}"
                                        f"{'等几列' if len(spanned) > 1 else '和旁边的列'}：请取消合并，每列各填各的值", ref))
        elif r1 > table.header_row:
            for r in range(r1 + 1, r2 + 1):
                fill_down[(r, c1)] = (r1, c1)
    source = {number: cells for number, cells in sheet.rows}
    for number, cells in sheet.rows[1:]:
        row = {wanted[c]: cell for c, cell in cells.items() if c in wanted}
        for col, key in wanted.items():
            if key not in row and (number, col) in fill_down:
                r, c = fill_down[(number, col)]
                if c in source.get(r, {}):
                    row[key] = source[r][c]
        if not row:
            continue
        if number in sheet.hidden_rows:
            plan.errors.append(RowError(sheet.name, number, "", f"第 {number} 行是隐藏行（可能被筛选隐藏）："
                                        "请取消隐藏确认后再导入，或删除该行"))
            continue
        table.rows.append((number, row))


class _Row:
    """One row being checked: typed values out, errors collected per cell with
    the column header as the file spells it."""

    def __init__(self, table: _Table, number: int, values: dict, errors: list[RowError]):
        self.table, self.number, self.values, self.errors = table, number, values, errors
        self.ok = True

    def ref(self, key) -> str:
        col = self.table.keys.get(key)
        return f"{get_column_letter(col)}{self.number}" if col else ""

    def header(self, key) -> str:
        return self.table.headers.get(key) or dict(PROJECT_COLUMNS + CUSTOMER_COLUMNS).get(key, "")

    def error(self, key, message):
        self.ok = False
        self.errors.append(RowError(self.table.sheet.name, self.number, self.header(key), message, self.ref(key)))

    def has(self, key) -> bool:
        return key in self.table.keys

    def cell(self, key) -> sheetfile.Cell | None:
        """The cell of `key`, None when empty; an error for a formula without
        result or an error value."""
        cell = self.values.get(key)
        if cell is None:
            return None
        if cell.formula:
            self.error(key, f"单元格 {self.ref(key)} 是公式「{cell.formula}」，但文件中没有保存它的计算结果："
                            "请在 Excel 或 WPS 中打开此文件并保存，再重新上传")
            return None
        if cell.error:
            self.error(key, f"单元格 {self.ref(key)} 的值是错误值 {cell.error}，请改正后再导入")
            return None
        return cell

    def text(self, key, required=False, choices=None):
        cell = self.cell(key)
        value = None
        if cell is not None:
            v = cell.value
            if isinstance(v, bool):
                value = "是" if v else "否"
            elif isinstance(v, (int, float)):
                value = sheetfile.shown_number(v, cell.fmt)
            elif isinstance(v, datetime):
                value = v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat(" ")
            else:
                value = str(v).strip() or None
        if value is None and required and self.ok:
            self.error(key, f"请填写{self.header(key)}")
        elif value is not None and len(value) > TEXT_LIMITS.get(key, 200):
            self.error(key, f"最多 {TEXT_LIMITS.get(key, 200)} 字")
        elif value is not None and choices is not None and value not in choices:
            self.error(key, f"「{value}」不是有效的{self.header(key)}，可选：{'、'.join(choices)}")
        return value

    def identifier(self, key) -> str | None:
        """A 项目编号/客户编号: letters, digits and - _ . /, at most 30; a
        system-style number (C00001, XM-2026-0001) within its counter's range."""
        value = self.text(key)
        if value is None:
            return None
        if not NUMBER_SHAPE.fullmatch(value):
            self.error(key, f"编号「{value}」无效：只能由字母、数字和 - _ . / 组成，最多 30 位")
            return None
        series = series_of(value)
        if series and (series[1] > MAX_SERIES_VALUE or (series[0].startswith("project-")
                                                        and not 2000 <= int(series[0][8:]) <= 2099)):
            self.error(key, f"编号「{value}」超出范围：序号最大 {MAX_SERIES_VALUE}，年份 2000–2099")
            return None
        return value

    def amount(self, key):
        cell = self.cell(key)
        if cell is None:
            return None
        value = cell.value
        try:
            if isinstance(value, bool):
                raise InvalidOperation
            if isinstance(value, (int, float)):
                amount = Decimal(format(value, ".15g"))
            else:
                text = unicodedata.normalize("NFKC", str(value)).replace(",", "").replace(" ", "")
                if text.endswith("元") and not text.endswith("万元"):
                    self.error(key, f"「{value}」的单位是元：请换算为万元")
                    return None
                amount = Decimal(text.removesuffix("万元"))
        except (InvalidOperation, ValueError):
            self.error(key, f"「{value}」不是金额：请填写数字（万元）")
            return None
        if not amount.is_finite() or amount < 0 or amount > 10_000_000:
            self.error(key, "金额须在 0 到 10,000,000 万元之间")
            return None
        if amount != amount.quantize(Decimal("0.01")):
            self.error(key, "金额最多两位小数")
            return None
        return amount.quantize(Decimal("0.01"))

    def day(self, key):
        cell = self.cell(key)
        if cell is None:
            return None
        value = cell.value
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found = sheetfile.excel_date(value)
            if found is None:
                self.error(key, f"「{value}」不是日期：请写成 2026-03-05")
            return found.date() if found else None
        text = unicodedata.normalize("NFKC", str(value)).strip()
        m = DATE_TEXT.fullmatch(text)
        try:
            if m:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if re.fullmatch(r"\d{8}", text):
                return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            pass
        self.error(key, f"日期「{value}」无效，请写成 2026-03-05")
        return None

    def probability(self, key):
        cell = self.cell(key)
        if cell is None:
            return None
        value = cell.value
        number = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = Decimal(format(value, ".15g"))
            if "%" in cell.fmt or (isinstance(value, float) and 0 < value < 1):
                number *= 100  # a cell formatted as a percentage
        else:
            try:
                number = Decimal(unicodedata.normalize("NFKC", str(value)).strip().rstrip("%").strip())
            except InvalidOperation:
                number = None
        if number is None or not number.is_finite() or number not in PROBABILITY_VALUES:
            self.error(key, "签约概率须为 0、20、40、60、80 或 100")
            return None
        return int(number)


DATE_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")


def _owner_lookup(actor: User):
    """username → User for the people `actor` may give customers and projects to."""
    q = sa.select(User).where(User.active, User.role.in_(("rep", "manager")))
    if actor.role == "manager":
        q = q.where(sa.or_(User.team_id.in_(access.managed_team_ids(actor)), User.id == actor.id))
    elif actor.role not in ("director", "gm"):
        q = q.where(User.id == actor.id)
    users = {u.username.lower(): u for u in db.session.scalars(q)}
    users.setdefault(actor.username.lower(), actor)
    return users


def plan_import(data: bytes, actor: User, filename: str = "", money_limit: Decimal | None = None) -> ImportPlan:
    """Reads and checks an import file (.xlsx, .xls or .csv; sheetfile) without
    writing anything: which customers and projects it creates, which of the
    `actor`'s projects it changes and how. Amounts above `money_limit` (万元,
    the config's MONEY_CONFIRM_ABOVE) are listed in `large_amounts`. Raises
    ImportFileError when the file as a whole cannot be read or exceeds a limit;
    every row problem is a RowError. Nothing outside the importer's scope is
    revealed: a number of a record he may not see reads as unusable."""
    with sheetfile.import_slot():
        return _plan(data, actor, filename, money_limit)


def _plan(data: bytes, actor: User, filename: str, money_limit: Decimal | None) -> ImportPlan:
    plan = ImportPlan(digest=hashlib.sha256(data).hexdigest())
    tables = _pick_sheets(sheetfile.read(data, filename), plan)
    if plan.errors:
        return plan  # wrong headers, merges or hidden rows: the rows cannot be read reliably
    owners = _owner_lookup(actor)
    on_file = _OnFile(tables, access.customer_scope(actor))
    new_by_no, new_by_name = _plan_customers(tables.get(CUSTOMER_SHEET), plan, actor, owners, on_file)
    _plan_projects(tables.get(PROJECT_SHEET), plan, actor, owners, on_file, new_by_no, new_by_name)
    if money_limit is not None:
        for p in plan.projects + plan.updates:
            for key in ("amount", "collected_amount"):
                if p.get(key) is not None and p[key] > money_limit:
                    plan.large_amounts.append(RowError(PROJECT_SHEET, p["row"], p["headers"][key],
                                                       f"{p[key]:,} 万元", p["refs"][key]))
    return plan


class _OnFile:
    """The customers and projects a file's rows name, read from the database
    before the rows are checked, CHUNK keys a query: a 5,000-row file costs a
    few dozen queries instead of two per row, so checking it holds a server
    thread (and its interpreter) for well under a second.

    `visible` is the importer's access.customer_scope clause. Lookups:
    customers_by_no (客户编号 → Customer), customers_by_name and
    customers_by_tax (customer_keys.name_key / tax_key → Customers, oldest
    first), visible_ids (ids of those the importer may see) and projects_by_no
    (项目编号 → Project), projects_by_name ((customer id, 项目名称) → Project)."""
    CHUNK = 500

    def __init__(self, tables: dict, visible):
        numbers, names, taxes, project_numbers, project_names = set(), set(), set(), set(), set()
        scratch: list[RowError] = []  # the keys are read again, with their errors, row by row
        for table, fields in ((tables.get(CUSTOMER_SHEET), ("customer_no", "name", "tax_id")),
                              (tables.get(PROJECT_SHEET), ("project_no", "customer_no", "customer_name", "name"))):
            for number, values in (table.rows if table is not None else ()):
                row = _Row(table, number, values, scratch)
                for key in fields:
                    value = row.text(key)
                    if not value:
                        continue
                    if key == "customer_no":
                        numbers.add(value)
                    elif key == "project_no":
                        project_numbers.add(value)
                    elif key == "tax_id":
                        taxes.add(tax_key(value))
                    elif key == "name" and table is tables.get(PROJECT_SHEET):
                        project_names.add(value)
                    else:
                        names.add(name_key(value))
        self.customers_by_no = {c.customer_no: c for c in self._load(Customer, Customer.customer_no, numbers)}
        self.customers_by_name: dict[str, list[Customer]] = {}
        for c in self._load(Customer, Customer.name_key, names - {None}):
            self.customers_by_name.setdefault(c.name_key, []).append(c)
        self.customers_by_tax: dict[str, list[Customer]] = {}
        for c in self._load(Customer, Customer.tax_id, taxes - {None}):
            self.customers_by_tax.setdefault(c.tax_id, []).append(c)
        ids = {c.id for c in self.customers_by_no.values()}
        ids.update(c.id for found in (*self.customers_by_name.values(), *self.customers_by_tax.values()) for c in found)
        self.visible_ids = set()
        ordered = sorted(ids)
        for start in range(0, len(ordered), self.CHUNK):
            self.visible_ids.update(db.session.scalars(
                sa.select(Customer.id).where(Customer.id.in_(ordered[start:start + self.CHUNK]), visible)))
        self.projects_by_no = {p.project_no: p for p in self._load(Project, Project.project_no, project_numbers)}
        self.projects_by_name = {(p.customer_id, p.name): p for p in self._load(Project, Project.name, project_names)}

    def _load(self, model, column, keys: set) -> list:
        ordered, out = sorted(keys), []
        for start in range(0, len(ordered), self.CHUNK):
            out.extend(db.session.scalars(sa.select(model).where(column.in_(ordered[start:start + self.CHUNK]))
                                          .order_by(model.id)))
        return out

    def duplicate(self, name: str | None, tax_id: str | None):
        """As customer_keys.find_duplicate, from what was read: (Customer,
        'tax_id' | 'name') or None; a matching tax id wins."""
        for reason, found in (("tax_id", self.customers_by_tax.get(tax_key(tax_id)) if tax_id else None),
                              ("name", self.customers_by_name.get(name_key(name)) if name else None)):
            if found:
                return found[0], reason
        return None


def _plan_customers(table, plan, actor, owners, on_file: _OnFile):
    from .views.customers import CATEGORIES, INDUSTRIES, SOURCES
    new_by_no, new_by_name, seen_keys = {}, {}, {}
    if table is None:
        return new_by_no, new_by_name
    for number, values in table.rows:
        row = _Row(table, number, values, plan.errors)
        c = {"row": number, "customer_no": row.identifier("customer_no"), "name": row.text("name", required=True),
             "short_name": row.text("short_name"), "category": row.text("category", choices=CATEGORIES),
             "source": row.text("source", choices=SOURCES), "industry": row.text("industry", choices=INDUSTRIES),
             "contact": row.text("contact"), "phone": row.text("phone"), "address": row.text("address"),
             "tax_id": tax_key(row.text("tax_id"))}
        username = row.text("owner_username")
        if c["customer_no"]:
            if c["customer_no"] in new_by_no:
                row.error("customer_no", f"客户编号 {c['customer_no']} 在文件中重复")
                continue
            existing = on_file.customers_by_no.get(c["customer_no"])
            if existing is not None:
                if existing.id not in on_file.visible_ids:
                    row.error("customer_no", f"客户编号「{c['customer_no']}」不可用：新客户请留空客户编号，由系统编号")
                elif row.ok and any(row.has(k) and (c[k] or None) != (getattr(existing, k) or None)
                                    for k in ("name", "short_name", "category", "source", "industry", "contact",
                                              "phone", "address", "tax_id")):
                    plan.notices.append(f"客户第 {number} 行（{existing.customer_no}）与系统中的客户资料不同："
                                        "客户资料须经客户信息修改审批后变更，本次导入不改动它")
                    plan.unchanged += 1
                else:
                    plan.unchanged += 1
                continue
        c["owner"] = owners.get((username or actor.username).lower())
        if c["owner"] is None:
            row.error("owner_username", f"账号「{username}」不存在，或不是您可以指定的业务员")
        if row.ok:
            _check_duplicate(row, c, actor, seen_keys, on_file)
        if row.ok:
            plan.customers.append(c)
            if c["customer_no"]:
                new_by_no[c["customer_no"]] = c
            new_by_name.setdefault(name_key(c["name"]), c)
    return new_by_no, new_by_name


def _plan_projects(table, plan, actor, owners, on_file: _OnFile, new_by_no, new_by_name):
    if table is None:
        return
    seen_numbers, seen_names = set(), {}
    for number, values in table.rows:
        row = _Row(table, number, values, plan.errors)
        p = {"row": number, "project_no": row.identifier("project_no"), "name": row.text("name", required=True),
             "product_line": row.text("product_line"), "amount": row.amount("amount"),
             "probability": row.probability("probability"), "expected_sign_date": row.day("expected_sign_date"),
             "competitors": row.text("competitors"), "funding": row.text("funding"),
             "lead_source": row.text("lead_source", choices=LEAD_SOURCES),
             "customer_class": (row.text("customer_class") or "").upper() or None,
             "stage_stay_reason": row.text("stage_stay_reason"), "lost_reason": row.text("lost_reason"),
             "signed_at": row.day("signed_at"), "collected_amount": row.amount("collected_amount"),
             "collection_date": row.day("collection_date"),
             "headers": {k: row.header(k) for k in ("amount", "collected_amount")},
             "refs": {k: row.ref(k) for k in ("amount", "collected_amount")}}
        if p["customer_class"] and p["customer_class"] not in CLASS_CODES:
            row.error("customer_class", f"客户分类「{p['customer_class']}」无效，可选：A、B、C、D")
        stage_text = row.text("stage")
        stage = next((s.code for s in STAGES if stage_text in (s.label, s.code)), None) if stage_text else None
        if stage_text and stage is None:
            row.error("stage", f"阶段「{stage_text}」无效，可选：{'、'.join(s.label for s in STAGES)}")
        p["stage"] = stage
        username = row.text("owner_username")
        p["customer_no"], p["customer_name"] = row.text("customer_no"), row.text("customer_name")
        if p["project_no"]:
            if p["project_no"] in seen_numbers:
                row.error("project_no", f"项目编号 {p['project_no']} 在文件中重复")
                continue
            seen_numbers.add(p["project_no"])
            existing = on_file.projects_by_no.get(p["project_no"])
            if existing is not None:
                if access.can_edit_project(actor, existing):
                    _plan_update(row, p, existing, username, plan)
                elif access.can_view_project(actor, existing):
                    row.error("project_no", f"您不能修改项目 {p['project_no']}（不是您负责的项目）")
                else:
                    row.error("project_no", f"项目编号「{p['project_no']}」不可用：新项目请留空项目编号，由系统编号")
                continue
        p["stage"] = stage or STAGES[0].code
        p["customer_class"] = p["customer_class"] or "C"
        if p["probability"] is None:
            p["probability"] = 20  # the default of a new project, also for an empty cell
        if p["stage"] == "lost" and not p["lost_reason"]:
            row.error("lost_reason", "丢单/放弃须填写丢标原因")
        p["owner"] = owners.get((username or actor.username).lower())
        if p["owner"] is None:
            row.error("owner_username", f"账号「{username}」不存在，或不是您可以指定的业务员")
        p["customer"] = _find_customer(row, p, on_file, new_by_no, new_by_name)
        if row.ok:
            _check_project_duplicate(row, p, actor, on_file, seen_names)
        if row.ok:
            plan.projects.append(p)


def _shown(key, value) -> str:
    if value is None or value == "":
        return "（空）"
    if key == "stage":
        return stage_label(value)
    if key == "probability":
        return f"{value}%"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def _plan_update(row: _Row, p: dict, project: Project, username: str | None, plan: ImportPlan) -> None:
    """An existing project the importer may edit: the changes the row makes,
    old → new, for the columns the file has; the stage through the same
    rules as on the project page (operations.stage_change_problem)."""
    from .operations import stage_change_problem
    if row.has("owner_username") and username and username.lower() != project.owner.username.lower():
        row.error("owner_username", "导入不更换业务负责人：请在项目页使用「转交」")
    if p["customer_no"] and p["customer_no"] != project.customer.customer_no:
        row.error("customer_no", "导入不更换项目的客户")
    elif not p["customer_no"] and p["customer_name"] and name_key(p["customer_name"]) != project.customer.name_key:
        row.error("customer_name", "导入不更换项目的客户")
    changes, fields = [], {}
    labels = dict(PROJECT_COLUMNS)
    for key in UPDATABLE:
        if not row.has(key) or p[key] is None and key in ("name", "probability", "customer_class"):
            continue
        old = getattr(project, key)
        if (old or None) != (p[key] or None) and not (key == "probability" and old == p[key]):
            fields[key] = p[key]
            changes.append((row.header(key) or labels[key], _shown(key, old), _shown(key, p[key])))
    stage = None
    if p["stage"] and p["stage"] != project.stage:
        reason = (p["lost_reason"] if p["stage"] == "lost" else p["stage_stay_reason"]) or ""
        problem = stage_change_problem(project, p["stage"], reason)
        if problem:
            row.error("stage", problem)
        stage = (p["stage"], reason)
        changes.insert(0, (row.header("stage"), _shown("stage", project.stage), _shown("stage", p["stage"])))
        for key in ("stage_stay_reason", "lost_reason", "probability"):
            fields.pop(key, None)
        changes = [c for c in changes if c[0] not in (row.header("stage_stay_reason"), row.header("lost_reason"),
                                                      row.header("probability"))]
    elif "lost_reason" in fields and project.stage != "lost":
        fields.pop("lost_reason")
        changes = [c for c in changes if c[0] != row.header("lost_reason")]
    collection = None
    if row.has("collected_amount") or row.has("collection_date"):
        had = bool(project.instalments)
        old_paid = project.collected_amount if had else None
        old_date = project.collection_date if had else None
        if (old_paid, old_date) != (p["collected_amount"], p["collection_date"]) and \
                (p["collected_amount"] is not None or p["collection_date"] is not None):
            if had:
                row.error("collected_amount", "此项目已有回款计划：回款请在项目页的回款计划中登记")
            else:
                collection = (p["collected_amount"], p["collection_date"])
                changes.append((row.header("collected_amount"), "（空）", _shown("amount", p["collected_amount"])))
    if not row.ok:
        return
    if not changes:
        plan.unchanged += 1
        return
    plan.updates.append({"row": p["row"], "project_id": project.id, "project_no": project.project_no,
                         "name": project.name, "version": project.version, "fields": fields, "stage": stage,
                         "collection": collection, "changes": changes, "amount": fields.get("amount"),
                         "collected_amount": collection[0] if collection else None,
                         "headers": p["headers"], "refs": p["refs"]})


def _text(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _check_duplicate(row: _Row, c: dict, actor: User, seen_keys: dict, on_file: _OnFile) -> None:
    """Stops a customer row that is already on file (same normalised name or
    统一社会信用代码/增值税号, customer_keys) or repeats an earlier row of the file;
    the error points to the existing customer as the importer may see it."""
    if c["tax_id"] and not TAX_ID_SHAPE.fullmatch(c["tax_id"]):
        row.error("tax_id", "统一社会信用代码/增值税号应为 8–20 位数字或大写字母")
        return
    found = on_file.duplicate(c["name"], c["tax_id"])
    if found is not None:
        row.error("tax_id" if found[1] == "tax_id" else "name", duplicate_message(actor, *found))
        return
    for kind, key in (("tax_id", c["tax_id"]), ("name", name_key(c["name"]))):
        if key and (kind, key) in seen_keys:
            what = "统一社会信用代码/增值税号" if kind == "tax_id" else "企业名称"
            row.error(kind, f"与第 {seen_keys[(kind, key)]} 行是同一家客户（{what}相同）")
            return
    for kind, key in (("tax_id", c["tax_id"]), ("name", name_key(c["name"]))):
        if key:
            seen_keys[(kind, key)] = row.number


def _check_project_duplicate(row: _Row, p: dict, actor: User, on_file: _OnFile, seen_names: dict) -> None:
    """Stops a new project (no 项目编号) that its customer already has under the
    same 项目名称, or that an earlier row of the file creates: uploading one file
    twice must not double the funnel. The error shows the way forward (fill
    in the 项目编号 to update it, or rename a different project) and names the
    existing project only if the importer may see it."""
    customer = p["customer"]
    key = (customer if isinstance(customer, int) else id(customer), p["name"])
    if key in seen_names:
        row.error("name", f"与第 {seen_names[key]} 行是同一个项目（客户与项目名称相同）")
        return
    seen_names[key] = row.number
    existing = on_file.projects_by_name.get((customer, p["name"])) if isinstance(customer, int) else None
    if existing is None:
        return
    if access.can_view_project(actor, existing):
        row.error("name", f"该客户已有同名项目 {existing.project_no}：要更新它，请在「项目编号」列填写 "
                          f"{existing.project_no}；确是另一个项目，请改用不同的项目名称")
    else:
        row.error("name", "该客户已有同名项目（由其他业务员负责）：请先与片区经理核实；"
                          "确是另一个项目，请改用不同的项目名称")


def _find_customer(row: _Row, p: dict, on_file: _OnFile, new_by_no: dict, new_by_name: dict):
    """The project's customer: an existing one the importer may see (by 客户编号,
    else by name as customer_keys.name_key normalises it), or one created by
    the same file. An existing one is returned as its id, a new one as its
    plan dict. A number of a customer he may not see reads as not existing."""
    number, name = p["customer_no"], p["customer_name"]
    if number:
        if number in new_by_no:
            return new_by_no[number]
        found = on_file.customers_by_no.get(number)
        if found is not None and found.id in on_file.visible_ids:
            return found.id
        row.error("customer_no", f"客户编号 {number} 不存在，请先在「客户」工作表中列出")
        return None
    if name:
        ids = [c.id for c in on_file.customers_by_name.get(name_key(name), ()) if c.id in on_file.visible_ids][:2]
        if len(ids) == 1:
            return ids[0]
        if len(ids) > 1:
            row.error("customer_name", f"有多个名为「{name}」的客户，请填写客户编号")
            return None
        if name_key(name) in new_by_name:
            return new_by_name[name_key(name)]
    if not name:
        row.error("customer_name", "新项目请填写客户名称或客户编号")
    else:
        row.error("customer_name", f"客户「{name}」不存在，请先在「客户」工作表中列出")
    return None


NUMBER_SERIES = ((re.compile(r"^C(\d+)$"), lambda m: ("customer", int(m.group(1)))),
                 (re.compile(r"^XM-(\d{4})-(\d+)$"), lambda m: (f"project-{m.group(1)}", int(m.group(2)))))


def series_of(number: str) -> tuple[str, int] | None:
    """The counter a system-style number belongs to, so imported numbers are
    never handed out again."""
    for pattern, key in NUMBER_SERIES:
        m = pattern.match(number or "")
        if m:
            return key(m)
    return None
