"""Cells of every export (xlsx, CSV, the audit export's manifest.csv) that
Excel and WPS open as the text they are: a cell beginning with = + - @, a tab
or a carriage return would otherwise start a formula (CSV injection, OWASP)."""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _risky(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def safe_cell(value, into=None):
    """`value` ready for a cell of an export.

    - `into` None (CSV): the text of `value` ('' for None), with a leading
      apostrophe when it begins with one of FORMULA_STARTS — Excel's own mark
      for "this is text", and what the importer strips again.
    - `into` an openpyxl worksheet (also write-only, for `ws.append`): `value`
      itself, or for such text a cell of type text with Excel's quote prefix,
      shown and kept as typed and never evaluated.
    - `into` an openpyxl cell: the cell, given `value` the same way.
    Numbers, dates and None pass unchanged."""
    if into is None:
        text = "" if value is None else str(value)
        return "'" + text if text.startswith(FORMULA_STARTS) else text
    if hasattr(into, "data_type"):
        into.value = value
        cell = into
    elif not _risky(value):
        return value
    else:
        from openpyxl.cell import WriteOnlyCell
        cell = WriteOnlyCell(into, value)
    if _risky(value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell
