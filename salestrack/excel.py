"""Excel, because the department lives in it: the 销售漏斗表, the forecast
tables and any filtered project list as .xlsx with Chinese headers; and the
import of customers and projects from a workbook laid out like the project
export, checked row by row before anything is written."""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from . import access
from .customer_keys import TAX_ID_SHAPE, duplicate_message, find_duplicate, name_key, tax_key
from .extensions import db
from .models import Customer, Project, Team, User, utcnow
from .process import CLASS_CODES, LEAD_SOURCES, PROBABILITY_VALUES, STAGE_BY_CODE, STAGES, stage_label
from .templating import local_time

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
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
    ws.cell(row=2, column=1, value=subtitle)
    ws.cell(row=3, column=1, value=f"导出时间：{local_time(utcnow())}")
    return 5


def _put(ws, row: int, values, formats=None) -> None:
    for col, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=col, value=value)
        if formats and formats.get(col):
            cell.number_format = formats[col]


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
        ws.append([p.project_no, p.name, customer_no, customer_name, username, owner_name, team_name,
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
        ws.append([c.customer_no, c.name, c.short_name, c.category, c.source, c.industry, c.contact, c.phone,
                   c.address, username, c.tax_id])
    return _bytes(wb)


# ── reading ───────────────────────────────────────────────────────────────
class ImportFileError(Exception):
    """The file as a whole cannot be read (not an .xlsx, too big, no sheet)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class RowError:
    sheet: str
    row: int  # the spreadsheet's row number, as Excel shows it; 1 for the header
    column: str
    message: str


@dataclass
class ImportPlan:
    """What an import would do: the rows to create, the rows skipped because
    their number exists already, and every error found."""
    customers: list[dict] = field(default_factory=list)
    projects: list[dict] = field(default_factory=list)
    skipped: list[tuple[str, int, str]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def open_workbook(data: bytes):
    """The workbook in `data`, refused unless it really is an .xlsx of sane size."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFileError(f"文件超过 {MAX_IMPORT_BYTES // 1024 // 1024} MB，请分批导入")
    if not data.startswith(b"PK\x03\x04"):
        raise ImportFileError("请上传 Excel 工作簿（.xlsx）；此文件不是 .xlsx 格式")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if sum(i.file_size for i in z.infolist()) > 40 * MAX_IMPORT_BYTES:
                raise ImportFileError("文件解压后过大，请分批导入")
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ImportFileError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure to parse is the file's fault
        raise ImportFileError("无法读取此 Excel 文件，请确认是用 Excel 或 WPS 保存的 .xlsx 文件") from e


def _read_sheet(wb, name: str, columns, errors: list[RowError]) -> list[tuple[int, dict]] | None:
    """The rows of one sheet as {key: value}, or None when the sheet is absent."""
    if name not in wb.sheetnames:
        return None
    rows = wb[name].iter_rows(values_only=True)
    header = next(rows, None) or ()
    by_header = {h: k for k, h in columns}
    keys = []
    for col, text in enumerate(header, start=1):
        text = str(text).strip() if text is not None else ""
        if not text:
            keys.append(None)
        elif text in by_header:
            keys.append(by_header[text])
        else:
            keys.append(None)
            errors.append(RowError(name, 1, get_column_letter(col), f"未知的列「{text}」"))
    required = {"name"} | ({"customer_name"} if name == PROJECT_SHEET else set())
    for key in required - set(keys):
        errors.append(RowError(name, 1, "", f"缺少列「{dict(columns)[key]}」"))
    out = []
    for number, values in enumerate(rows, start=2):
        if number > MAX_IMPORT_ROWS + 1:
            errors.append(RowError(name, number, "", f"一次最多导入 {MAX_IMPORT_ROWS} 行"))
            break
        row = {k: v for k, v in zip(keys, values, strict=False) if k}
        if all(v is None or str(v).strip() == "" for v in row.values()):
            continue
        out.append((number, row))
    return out


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


class _Row:
    """One row being checked: typed values out, errors collected with the column."""

    def __init__(self, sheet, number, values, columns, errors):
        self.sheet, self.number, self.values, self.errors = sheet, number, values, errors
        self.headers = dict(columns)
        self.ok = True

    def error(self, key, message):
        self.ok = False
        self.errors.append(RowError(self.sheet, self.number, self.headers.get(key, ""), message))

    def text(self, key, required=False, choices=None):
        value = _text(self.values.get(key))
        if value is None and required:
            self.error(key, f"请填写{self.headers[key]}")
        elif value is not None and len(value) > TEXT_LIMITS.get(key, 200):
            self.error(key, f"最多 {TEXT_LIMITS.get(key, 200)} 字")
        elif value is not None and choices is not None and value not in choices:
            self.error(key, f"「{value}」不是有效的{self.headers[key]}，可选：{'、'.join(choices)}")
        return value

    def amount(self, key):
        value = self.values.get(key)
        if value is None or str(value).strip() == "":
            return None
        try:
            amount = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            self.error(key, "请填写数字金额（万元）")
            return None
        if not amount.is_finite() or amount < 0 or amount > 10_000_000:
            self.error(key, "金额须在 0 到 10,000,000 万元之间")
        elif amount != amount.quantize(Decimal("0.01")):
            self.error(key, "金额最多两位小数")
        return amount.quantize(Decimal("0.01")) if amount.is_finite() else None

    def day(self, key):
        value = self.values.get(key)
        if value is None or str(value).strip() == "":
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = str(value).strip().replace("/", "-").replace(".", "-")
        try:
            return date.fromisoformat("-".join(part.zfill(2) for part in text.split("-")))
        except ValueError:
            self.error(key, f"日期「{value}」无效，请写成 YYYY-MM-DD")
            return None

    def probability(self, key):
        value = self.values.get(key)
        if value is None or str(value).strip() == "":
            return 20
        text = str(value).strip().rstrip("%")
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is not None and isinstance(value, float) and 0 < value <= 1:
            number *= 100  # a cell formatted as a percentage
        if number is None or number not in PROBABILITY_VALUES:
            self.error(key, "签约概率须为 0、20、40、60、80 或 100")
            return None
        return int(number)


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


def plan_import(data: bytes, actor: User) -> ImportPlan:
    """Reads and checks an import workbook without writing anything."""
    from .views.customers import CATEGORIES, INDUSTRIES, SOURCES
    wb = open_workbook(data)
    plan = ImportPlan()
    try:
        customer_rows = _read_sheet(wb, CUSTOMER_SHEET, CUSTOMER_COLUMNS, plan.errors)
        project_rows = _read_sheet(wb, PROJECT_SHEET, PROJECT_COLUMNS, plan.errors)
    except Exception as e:  # noqa: BLE001 - a malformed sheet inside a valid zip
        raise ImportFileError("无法读取此 Excel 文件的内容") from e
    finally:
        wb.close()
    if customer_rows is None and project_rows is None:
        raise ImportFileError(f"工作簿中没有名为「{PROJECT_SHEET}」或「{CUSTOMER_SHEET}」的工作表")
    if plan.errors:
        return plan  # wrong headers: the rows cannot be read reliably
    owners = _owner_lookup(actor)
    visible = access.customer_scope(actor)

    # customers: new ones to create, keyed by number (if given) and name
    new_by_no, new_by_name, seen_keys = {}, {}, {}
    for number, values in customer_rows or []:
        row = _Row(CUSTOMER_SHEET, number, values, CUSTOMER_COLUMNS, plan.errors)
        c = {"row": number, "customer_no": row.text("customer_no"), "name": row.text("name", required=True),
             "short_name": row.text("short_name"), "category": row.text("category", choices=CATEGORIES),
             "source": row.text("source", choices=SOURCES), "industry": row.text("industry", choices=INDUSTRIES),
             "contact": row.text("contact"), "phone": row.text("phone"), "address": row.text("address"),
             "tax_id": tax_key(row.text("tax_id"))}
        username = row.text("owner_username")
        c["owner"] = owners.get((username or actor.username).lower())
        if c["owner"] is None:
            row.error("owner_username", f"账号「{username}」不存在，或不是您可以指定的业务员")
        if c["customer_no"]:
            if c["customer_no"] in new_by_no:
                row.error("customer_no", f"客户编号 {c['customer_no']} 在文件中重复")
            elif db.session.scalar(sa.select(Customer.id).where(Customer.customer_no == c["customer_no"])):
                plan.skipped.append((CUSTOMER_SHEET, number, c["customer_no"]))
                continue
        if row.ok:
            _check_duplicate(row, c, actor, seen_keys)
        if row.ok:
            plan.customers.append(c)
            if c["customer_no"]:
                new_by_no[c["customer_no"]] = c
            new_by_name.setdefault(name_key(c["name"]), c)

    seen_numbers = set()
    for number, values in project_rows or []:
        row = _Row(PROJECT_SHEET, number, values, PROJECT_COLUMNS, plan.errors)
        p = {"row": number, "project_no": row.text("project_no"), "name": row.text("name", required=True),
             "product_line": row.text("product_line"), "amount": row.amount("amount"),
             "probability": row.probability("probability"), "expected_sign_date": row.day("expected_sign_date"),
             "competitors": row.text("competitors"), "funding": row.text("funding"),
             "lead_source": row.text("lead_source", choices=LEAD_SOURCES),
             "customer_class": (row.text("customer_class") or "C").upper(),
             "stage_stay_reason": row.text("stage_stay_reason"), "lost_reason": row.text("lost_reason"),
             "signed_at": row.day("signed_at"), "collected_amount": row.amount("collected_amount"),
             "collection_date": row.day("collection_date")}
        if p["customer_class"] not in CLASS_CODES:
            row.error("customer_class", f"客户分类「{p['customer_class']}」无效，可选：A、B、C、D")
        stage_text = row.text("stage") or STAGES[0].label
        stage = next((s.code for s in STAGES if stage_text in (s.label, s.code)), None)
        if stage is None:
            row.error("stage", f"阶段「{stage_text}」无效，可选：{'、'.join(s.label for s in STAGES)}")
        p["stage"] = stage
        if stage == "lost" and not p["lost_reason"]:
            row.error("lost_reason", "丢单/放弃须填写丢标原因")
        username = row.text("owner_username")
        p["owner"] = owners.get((username or actor.username).lower())
        if p["owner"] is None:
            row.error("owner_username", f"账号「{username}」不存在，或不是您可以指定的业务员")
        p["customer"] = _find_customer(row, visible, new_by_no, new_by_name)
        if p["project_no"]:
            if p["project_no"] in seen_numbers:
                row.error("project_no", f"项目编号 {p['project_no']} 在文件中重复")
            elif db.session.scalar(sa.select(Project.id).where(Project.project_no == p["project_no"])):
                plan.skipped.append((PROJECT_SHEET, number, p["project_no"]))
                continue
            seen_numbers.add(p["project_no"])
        if row.ok:
            plan.projects.append(p)
    return plan


def _check_duplicate(row: _Row, c: dict, actor: User, seen_keys: dict) -> None:
    """Stops a customer row that is already on file (same normalised name or
    统一社会信用代码/增值税号, customer_keys) or repeats an earlier row of the file;
    the error points to the existing customer as the importer may see it."""
    if c["tax_id"] and not TAX_ID_SHAPE.fullmatch(c["tax_id"]):
        row.error("tax_id", "统一社会信用代码/增值税号应为 8–20 位数字或大写字母")
        return
    found = find_duplicate(c["name"], c["tax_id"])
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


def _find_customer(row: _Row, visible, new_by_no: dict, new_by_name: dict):
    """The project's customer: an existing one the importer may see (by 客户编号,
    else by name as customer_keys.name_key normalises it), or one created by
    the same file. An existing one is
    returned as its id, a new one as its plan dict."""
    number, name = _text(row.values.get("customer_no")), _text(row.values.get("customer_name"))
    if number:
        if number in new_by_no:
            return new_by_no[number]
        found = db.session.scalar(sa.select(Customer.id).where(Customer.customer_no == number, visible))
        if found:
            return found
        row.error("customer_no", f"客户编号 {number} 不存在，请先在「客户」工作表中列出")
        return None
    if name:
        ids = list(db.session.scalars(sa.select(Customer.id).where(Customer.name_key == name_key(name), visible)
                                      .limit(2)))
        if len(ids) == 1:
            return ids[0]
        if len(ids) > 1:
            row.error("customer_name", f"有多个名为「{name}」的客户，请填写客户编号")
            return None
        if name_key(name) in new_by_name:
            return new_by_name[name_key(name)]
    row.error("customer_name", f"客户「{name or ''}」不存在，请先在「客户」工作表中列出")
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
