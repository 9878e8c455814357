"""A spreadsheet file as the person who made it sees it, for the import:
.xlsx (Excel, WPS, other systems' exports), old .xls and .csv (UTF-8 with or
without BOM, GB18030) read into plain sheets of cells — each cell's value, its
number format (so an identifier shown as 00123 stays 00123) and, for a
formula the file holds no result for, the formula.

Reading is bounded before it is costly: file size, unpacked size, columns,
cells and seconds are limited, the real extent of the data is read whatever
the file declares, rows holding only formatting are dropped, and .xlsx/.xls
are parsed in a child process (low priority, killed at the time limit), so an
upload never holds a server thread's CPU for long. The limits are named in
the refusal. What the cells mean for customers and projects is excel.py's."""
from __future__ import annotations

import csv
import io
import multiprocessing
import os
import re
import threading
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

MAX_BYTES = 5 * 1024 * 1024
MAX_UNPACKED = 64 * 1024 * 1024
MAX_COLUMNS = 100
MAX_ROWS = 5000           # rows holding data, per sheet
MAX_CELLS = 200_000       # cells holding data, all sheets read
MAX_XML_CELLS = 2_000_000  # cells in the file, also those holding only formatting
PARSE_SECONDS = 20        # CPU seconds of parsing (a busy machine does not count against a file)
PARSE_WALL_SECONDS = 180  # and the wall-clock backstop
IMPORT_SLOTS = 2          # imports read and checked at once per server process; more are asked to retry
XLSX_MAGIC, XLS_MAGIC = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class FileRefused(Exception):
    """The file as a whole cannot be read; `message` says why and what to do, in Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Cell:
    """One cell: `value` (str, int, float, bool, datetime or None), Excel's
    number format, `formula` when the file holds a formula without a result,
    `error` for an error value such as #DIV/0!."""
    value: object
    fmt: str = "General"
    formula: str | None = None
    error: str | None = None


@dataclass
class Sheet:
    """One worksheet: its rows holding data as (row number, {column number: Cell}),
    both 1-based as Excel numbers them; hidden rows that hold data; merged
    ranges as (first row, first column, last row, last column)."""
    name: str
    hidden: bool = False
    rows: list[tuple[int, dict[int, Cell]]] = field(default_factory=list)
    hidden_rows: set[int] = field(default_factory=set)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)


def kind_of(data: bytes, filename: str) -> str:
    """'xlsx', 'xls' or 'csv', by the file's content (a .csv by its name, as
    text has no signature); FileRefused for anything else."""
    if data.startswith(XLSX_MAGIC):
        return "xlsx"
    if data.startswith(XLS_MAGIC):
        return "xls"
    if (filename or "").lower().endswith((".csv", ".txt")):
        return "csv"
    raise FileRefused("请上传 Excel 工作簿（.xlsx 或 .xls）或 CSV 文件；此文件不是这几种格式")


def read(data: bytes, filename: str = "") -> list[Sheet]:
    """The sheets of the file `data` named `filename`. FileRefused when it is
    not a readable .xlsx/.xls/.csv, or exceeds a limit (MAX_BYTES, MAX_UNPACKED,
    MAX_COLUMNS, MAX_ROWS, MAX_CELLS, MAX_XML_CELLS, PARSE_SECONDS) — the message
    names the limit."""
    if len(data) > MAX_BYTES:
        raise FileRefused(f"文件超过 {MAX_BYTES // 1024 // 1024} MB，请分批导入")
    if not data:
        raise FileRefused("文件是空的，请选择要导入的 Excel 或 CSV 文件")
    kind = kind_of(data, filename)
    if kind == "csv":
        return [_read_csv(data, filename)]
    if kind == "xlsx":
        _check_zip(data)
    return _in_child(_read_xlsx if kind == "xlsx" else _read_xls, data)


_slots = threading.BoundedSemaphore(IMPORT_SLOTS)


@contextmanager
def import_slot():
    """One of the IMPORT_SLOTS imports this server process works on at once
    (reading and checking), so imports never take every thread; FileRefused
    asking to retry when all are taken."""
    if not _slots.acquire(blocking=False):
        raise FileRefused("服务器正在处理其他导入，请稍候一分钟再上传")
    try:
        yield
    finally:
        _slots.release()


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRefused("无法读取此 Excel 文件，请确认是用 Excel 或 WPS 保存的 .xlsx 文件") from None
    if unpacked > MAX_UNPACKED:
        raise FileRefused(f"文件解压后有 {unpacked // 1024 // 1024} MB，超过 {MAX_UNPACKED // 1024 // 1024} MB 的上限"
                          "（通常是格式或空单元格过多）：请只复制数据区域到新工作簿后再导入")


# ── the child process ─────────────────────────────────────────────────────
def _child(conn, reader, data) -> None:
    import resource
    try:
        os.nice(10)
        resource.setrlimit(resource.RLIMIT_CPU, (PARSE_SECONDS + 2, PARSE_SECONDS + 3))
    except (OSError, ValueError):
        pass
    try:
        conn.send(("ok", reader(data)))
    except FileRefused as e:
        conn.send(("refused", e.message))
    except Exception:  # noqa: BLE001 - any failure to parse is the file's fault
        conn.send(("refused", "无法读取此 Excel 文件，请确认是用 Excel 或 WPS 保存的文件"))
    finally:
        conn.close()


def _in_child(reader, data: bytes) -> list[Sheet]:
    """`reader(data)` run in a forked child at lower priority, stopped after
    PARSE_SECONDS of CPU (PARSE_WALL_SECONDS of waiting at most)."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, reader, data), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(PARSE_WALL_SECONDS):
            raise FileRefused(f"文件在 {PARSE_SECONDS} 秒内未能读完：请减少行数或删除多余的工作表后再导入")
        status, result = parent.recv()
    except EOFError:
        raise FileRefused("无法读取此 Excel 文件，请确认是用 Excel 或 WPS 保存的文件") from None
    finally:
        parent.close()
        if proc.is_alive():
            proc.kill()
        proc.join()
    if status == "refused":
        raise FileRefused(result)
    return result


class _Limits:
    """Counts what was read and refuses the file at the first limit passed."""

    def __init__(self):
        self.cells = self.xml_cells = 0
        self.deadline = time.process_time() + PARSE_SECONDS

    def row(self, sheet: str, number: int, cells: dict[int, Cell], seen: int, kept_rows: int) -> None:
        self.xml_cells += seen
        if self.xml_cells > MAX_XML_CELLS:
            raise FileRefused(f"文件中的单元格（含只有格式的空单元格）超过 {MAX_XML_CELLS:,} 个："
                              "请只复制数据区域到新工作簿后再导入")
        if time.process_time() > self.deadline:
            raise FileRefused(f"文件在 {PARSE_SECONDS} 秒内未能读完：请减少行数后再导入")
        if not cells:
            return
        wide = max(cells)
        if wide > MAX_COLUMNS:
            from openpyxl.utils import get_column_letter
            raise FileRefused(f"工作表「{sheet}」第 {number} 行在 {get_column_letter(wide)} 列有数据，"
                              f"超过最多 {MAX_COLUMNS} 列的限制：请删除多余的列后再导入")
        if kept_rows > MAX_ROWS + 1:  # the header row and MAX_ROWS rows of data
            raise FileRefused(f"工作表「{sheet}」有超过 {MAX_ROWS} 行数据，一次最多导入 {MAX_ROWS} 行：请分批导入")
        self.cells += len(cells)
        if self.cells > MAX_CELLS:
            raise FileRefused(f"文件中有数据的单元格超过 {MAX_CELLS:,} 个：请分批导入")


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ── .xlsx ─────────────────────────────────────────────────────────────────
def _read_xlsx(data: bytes) -> list[Sheet]:
    """Every worksheet, parsed by openpyxl's own streaming sheet parser so the
    cached result and the formula of a cell are both seen, whatever extent
    the file declares (WPS and several exporters write A1)."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    # the workbook's parts without openpyxl's worksheet objects, which scan a
    # sheet without a declared size from end to end just to size it
    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    wb = reader.wb
    apply_stylesheet(reader.archive, wb)
    limits = _Limits()

    def number_format(style_id: int) -> str:
        try:
            fmt_id = wb._cell_styles[style_id].numFmtId
        except (IndexError, TypeError):
            return "General"
        if fmt_id < BUILTIN_FORMATS_MAX_SIZE:
            return BUILTIN_FORMATS.get(fmt_id, "General")
        try:
            return wb._number_formats[fmt_id - BUILTIN_FORMATS_MAX_SIZE]
        except IndexError:
            return "General"

    class Parser(WorkSheetParser):
        def parse_cell(self, element):
            cell = super().parse_cell(element)  # data_only: the cached result
            formula = element.find(FORMULA_TAG)
            cell["formula"] = self.parse_formula(element) if formula is not None else None
            return cell

        def parse_row(self, row):
            number, cells = super().parse_row(row)
            hidden = row.get("hidden") in ("1", "true")
            return number, cells, hidden

    sheets = []
    for part, rel in reader.parser.find_sheets():
        if rel.target not in reader.valid_files or "chartsheet" in rel.Type:
            continue
        sheet = Sheet(part.name, hidden=(part.state or "visible") != "visible")
        with reader.archive.open(rel.target) as src:
            parser = Parser(src, reader.shared_strings, data_only=True, epoch=wb.epoch,
                            date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
            for number, raw, hidden in parser.parse():
                cells = {}
                for c in raw:
                    value, formula = c["value"], c["formula"]
                    if c["data_type"] == "e":
                        cells[c["column"]] = Cell(None, error=str(value))
                    elif not _blank(value):
                        if isinstance(value, str):
                            value = value.strip()
                        cells[c["column"]] = Cell(value, number_format(c["style_id"]))
                    elif formula:
                        cells[c["column"]] = Cell(None, formula=str(formula))
                limits.row(sheet.name, number, cells, len(raw), len(sheet.rows) + 1)
                if cells:
                    sheet.rows.append((number, cells))
                    if hidden:
                        sheet.hidden_rows.add(number)
            if parser.merged_cells is not None:
                for ref in parser.merged_cells.mergeCell:
                    min_col, min_row, max_col, max_row = range_boundaries(ref.ref)
                    sheet.merged.append((min_row, min_col, max_row, max_col))
        sheets.append(sheet)
    reader.archive.close()
    return sheets


# ── .xls ──────────────────────────────────────────────────────────────────
def _read_xls(data: bytes) -> list[Sheet]:
    """Every worksheet of an Excel 97–2003 workbook, by xlrd (values, formats,
    merged ranges, hidden rows and sheets)."""
    import xlrd
    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    except Exception:  # noqa: BLE001
        raise FileRefused("无法读取此 .xls 文件，请在 Excel 或 WPS 中另存为 .xlsx 后再导入") from None
    limits = _Limits()
    sheets = []
    for index in range(book.nsheets):
        ws = book.sheet_by_index(index)
        sheet = Sheet(ws.name, hidden=ws.visibility != 0)
        for r in range(ws.nrows):
            cells = {}
            row = ws.row(r)
            for c, cell in enumerate(row):
                fmt = "General"
                try:
                    fmt = book.format_map[book.xf_list[cell.xf_index].format_key].format_str
                except (KeyError, IndexError, TypeError, AttributeError):
                    pass
                if cell.ctype == xlrd.XL_CELL_DATE:
                    try:
                        cells[c + 1] = Cell(xlrd.xldate_as_datetime(cell.value, book.datemode), fmt)
                    except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                        cells[c + 1] = Cell(cell.value, fmt)
                elif cell.ctype == xlrd.XL_CELL_ERROR:
                    cells[c + 1] = Cell(None, error=xlrd.error_text_from_code.get(cell.value, "#错误"))
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    cells[c + 1] = Cell(bool(cell.value), fmt)
                elif not _blank(cell.value) and cell.ctype in (xlrd.XL_CELL_TEXT, xlrd.XL_CELL_NUMBER):
                    value = cell.value.strip() if isinstance(cell.value, str) else cell.value
                    cells[c + 1] = Cell(value, fmt)
            limits.row(sheet.name, r + 1, cells, len(row), len(sheet.rows) + 1)
            if cells:
                sheet.rows.append((r + 1, cells))
                info = ws.rowinfo_map.get(r)
                if info is not None and info.hidden:
                    sheet.hidden_rows.add(r + 1)
        sheet.merged = [(rlo + 1, clo + 1, rhi, chi) for rlo, rhi, clo, chi in ws.merged_cells]
        sheets.append(sheet)
        book.unload_sheet(index)
    return sheets


# ── .csv ──────────────────────────────────────────────────────────────────
FORMULA_ESCAPE = re.compile(r"^'(?=[=+\-@\t\r])")


def decode_text(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without BOM), else GB18030 (as
    Excel and WPS save "CSV" on a Chinese Windows); FileRefused otherwise."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise FileRefused("无法识别此 CSV 文件的编码，请另存为「CSV UTF-8」或 .xlsx 后再导入")


def _read_csv(data: bytes, filename: str) -> Sheet:
    """A CSV file as one sheet named after the file; the leading apostrophe the
    exports put before = + - @ (safecell) is taken off again."""
    text = decode_text(data)
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count)
    name = os.path.splitext(os.path.basename(filename or ""))[0] or "CSV"
    sheet = Sheet(name)
    limits = _Limits()
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            cells = {c: Cell(FORMULA_ESCAPE.sub("", v.strip())) for c, v in enumerate(row, start=1) if v.strip()}
            limits.row(name, number, cells, len(row), len(sheet.rows) + 1)
            if cells:
                sheet.rows.append((number, cells))
    except csv.Error:
        raise FileRefused("此 CSV 文件的格式有误（引号不配对），请在 Excel 中打开后另存为 .xlsx 再导入") from None
    return sheet


# ── what a cell shows ─────────────────────────────────────────────────────
_QUOTED = re.compile(r'"([^"]*)"|\\(.)|([0#?]+)|(.)')


def shown_number(value: float, fmt: str) -> str:
    """An integral number as a number format like `00000` or `"C"00000` shows
    it (leading zeros, literal prefix/suffix): what a person reads as the
    identifier. Other formats give the plain number (123, or 12.5)."""
    whole = float(value).is_integer()
    plain = str(int(value)) if whole else repr(float(value))
    section = (fmt or "General").split(";")[0]
    if not whole or section in ("General", "@", "0", ""):
        return plain
    out, digits = [], 0
    for quoted, escaped, placeholders, other in _QUOTED.findall(section):
        if placeholders:
            if digits:
                return plain  # 0-0 style formats: not an identifier pattern
            digits = placeholders.count("0")
            out.append(None)
        elif other and other not in "-_ ()/":
            return plain
        else:
            out.append(quoted or escaped or other)
    if digits == 0:
        return plain
    number = str(int(value)).zfill(digits) if value >= 0 else plain
    return "".join(number if part is None else part for part in out)


def excel_date(serial: float) -> datetime | None:
    """The date of an Excel serial number (1900 date system, as Excel and WPS
    write by default), or None when out of the range 1900-03-01..9999-12-31."""
    from datetime import timedelta
    if not 61 <= serial <= 2_958_465:
        return None
    return datetime(1899, 12, 30) + timedelta(days=float(serial))
