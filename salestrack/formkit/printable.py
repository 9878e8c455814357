"""A filled sheet as plain data for the read-only page and the PDF, laid out
like the paper: header, sections of labelled values and tables, sign-off slots."""
from __future__ import annotations

from datetime import date, datetime

from . import scoring
from . import drawing
from .kinds import checks_note, display
from .spec import OTHER, FormSpec, Table


HIDDEN = "（仅客户所属团队可见）"  # a private detail (Field.private) for a reader who may not see it


def printable(spec: FormSpec, record: dict, user_names: dict | None = None, *, paper: bool = False,
              private: bool = True) -> dict:
    """The sheet as a plain dict (see the shape in the return statement).

    `record` keys read: 'number' (编号), 'sheet', 'status', 'author_name',
    'created_at' (date, datetime or ISO text; the header date when the sheet
    has no typed one), 'data' (the stored JSON) and optionally 'attachments'
    ({attachment id: file name}). `user_names` maps user ids (int or str) to
    names. The header date field is printed in the header, not repeated below.
    `paper`: as the paper prints it (the PDF): fields sharing a print_label
    become one entry under it (see _joined); the web page keeps one labelled
    value per field.
    """
    record = record or {}
    data = record.get("data") if isinstance(record.get("data"), dict) else {}
    names = {"user_names": user_names, "file_names": record.get("attachments")}
    header_field = spec.header_date()
    if header_field is not None:
        date_entry = {"label": header_field.label,
                      "value": display(header_field, data.get(header_field.key), **names)}
    else:
        date_entry = {"label": "日期", "value": _date_text(record.get("created_at"))}
    sections = []
    for section in spec.sections:
        pairs = [(item, _item(item, data, names, paper, private)) for item in section.items
                 if item is not header_field]
        items = _joined(pairs) if paper else [item for _, item in pairs]
        if items:
            sections.append({"title": section.title, "items": items})
    return {
        "title": spec.title,
        "title_en": spec.title_en,
        "number": record.get("number") or "",
        "sheet": record.get("sheet") or spec.key,
        "status": record.get("status") or "",
        "header": [
            {"label": "编号", "value": record.get("number") or ""},
            {"label": spec.author_label, "value": record.get("author_name") or ""},
            date_entry,
        ],
        "note": spec.note,
        "landscape": spec.landscape,
        "sections": sections,
        "slots": [{"key": slot.key, "label": slot.label, "comment_label": slot.comment_label}
                  for slot in spec.slots],
    }


def _item(item, data: dict, names: dict, paper: bool = False, private: bool = True) -> dict:
    if isinstance(item, Table):
        rows = [row for row in (data.get(item.key) if isinstance(data.get(item.key), list) else [])
                if isinstance(row, dict)]
        widths, classes = column_layout(item)
        hidden = not private and any(col.private for col in item.columns)
        return {"type": "table", "key": item.key, "label": item.label if item.print_caption or not paper else "",
                "columns": [col.label for col in item.columns], "parties": parties(item, data),
                "widths": widths, "classes": classes,
                "rows": [[HIDDEN if col.private and not private and row.get(col.key) not in (None, "")
                          else display(col, row.get(col.key), **names) for col in item.columns]
                         for row in rows if isinstance(row, dict)],
                "groups": row_groups(item, len(rows)), "footer": footer(item, data),
                # the rows drawn (formkit.drawing), the same SVG on the page and in the PDF
                "drawing": drawing.svg(item, rows, names) if item.drawing and not hidden else "",
                "drawing_title": item.drawing.title if item.drawing else ""}
    if item.private and not private:
        return {"type": "field", "key": item.key, "label": item.label, "kind": "text", "wide": item.wide,
                "value": HIDDEN if data.get(item.key) not in (None, "") else ""}
    out = {"type": "field", "key": item.key, "label": item.label,
           "value": display(item, data.get(item.key), **names),
           "kind": item.kind, "wide": item.wide}
    if item.kind in ("choice", "checks") and item.choices:
        out["options"] = options(item, data.get(item.key))
    return out


def parties(table: Table, data: dict) -> list[str]:
    """Per column, the party a score column is about as the sheet names it
    (A竞争对手 → 华为), printed after the column's label; '' elsewhere."""
    out = []
    for col in table.columns:
        party = data.get(col.party) if col.party else None
        party = party.get("name") if isinstance(party, dict) else party
        out.append(party.strip() if isinstance(party, str) else "")
    return out


def row_groups(table: Table, count: int) -> list[str]:
    """Per row, the group label printed above it where a group begins (客户综合评估's
    行业因素 …), else ''."""
    out, last = [], ""
    for index in range(count):
        row = table.fixed(index)
        group = row.group if row else ""
        out.append(group if group and group != last else "")
        last = group
    return out


def footer(table: Table, data: dict) -> list[dict]:
    """The computed rows under a scoring table, as {'label', 'cells'} with one
    cell per column: the total row (合计 / 综合评价: Σ 权重 and each party's
    weighted total) and the 级别 row. Values are the ones stored with the
    record; a sheet stored before they were computed gets them computed now."""
    if not table.computed_key:
        return []
    values = data.get(table.computed_key)
    if not isinstance(values, dict):
        rows = data.get(table.key) if isinstance(data.get(table.key), list) else []
        values = scoring.table_values(table, rows)
    label_at = table.label_column or table.columns[0].key
    rows = [(table.total_label, {table.weights: values.get("weights") or "",
                                 **(values.get("totals") if isinstance(values.get("totals"), dict) else {})})]
    if table.grade:
        rows.append((table.grade.label, values.get("grades") if isinstance(values.get("grades"), dict) else {}))
    out = []
    for label, cells in rows:
        line = [label if col.key == label_at else str(cells.get(col.key) or "") for col in table.columns]
        out.append({"label": label, "cells": line, "label_at": [c.key for c in table.columns].index(label_at)})
    return out


JOIN = " 至 "


def _joined(pairs: list[tuple]) -> list[dict]:
    """The printed items of (spec item, printed item) pairs, consecutive
    fields sharing a print_label as one entry under it: its 'value' joins
    theirs by JOIN ('2026-03-02 至 2026-05-30'; a blank one as '—', both
    blank as blank) and 'keys' lists their keys."""
    groups: list[list[tuple]] = []
    for spec_item, item in pairs:
        label = getattr(spec_item, "print_label", None)
        if label and groups and getattr(groups[-1][0][0], "print_label", None) == label:
            groups[-1].append((spec_item, item))
        else:
            groups.append([(spec_item, item)])
    out = []
    for group in groups:
        spec_item, first = group[0]
        if getattr(spec_item, "print_label", None):
            values = [item["value"] for _, item in group]
            first = {**first, "label": spec_item.print_label, "keys": [item["key"] for _, item in group],
                     "value": JOIN.join(v or "—" for v in values) if any(values) else ""}
        out.append(first)
    return out


# Relative printed width of a table column by the kind of its content: 序号
# narrow, dates and times wide enough not to break, free text widest.
COLUMN_WEIGHTS = {"int": 3.5, "time": 5.5, "date": 9, "datetime": 10, "money": 8, "percent": 5.5, "score": 6,
                  "choice": 8, "checks": 12, "user": 7, "files": 12, "text": 9, "textarea": 20}
PRINT_AS_WEIGHTS = {"narrow": 3.5, "unbroken": 12, "wide": 20}
UNBROKEN_KINDS = {"int", "time", "date", "money", "percent", "score"}


def column_layout(table: Table) -> tuple[list[float], list[str]]:
    """A table's printed column widths (percent of the table, summing to 100)
    and cell classes ('unbroken': never split a value; 'keep-all': split only
    at spaces), from each column's kind or its print_as option."""
    weights = [PRINT_AS_WEIGHTS.get(col.print_as) or COLUMN_WEIGHTS.get(col.kind, 9) for col in table.columns]
    total = sum(weights) or 1
    widths = [round(100 * w / total, 2) for w in weights]
    classes = ["unbroken" if col.kind in UNBROKEN_KINDS or col.print_as == "unbroken"
               else "keep-all" if col.kind == "datetime" else "" for col in table.columns]
    return widths, classes


def options(field, value) -> list[dict]:
    """Every option of a choice or checks field as on paper: {'label', 'checked',
    'note'} in the definition's order; 其他 carries its typed note. A stored
    value that is no longer an option (or a choice's write-in) is kept as a
    checked option at the end; a write-in left blank prints its blank box."""
    if field.kind == "checks":
        chosen = list(value.get("values") or []) if isinstance(value, dict) else []
        note = checks_note(value) if isinstance(value, dict) else ""
    else:
        chosen = [value] if value not in (None, "") else []
        note = ""
    out = [{"label": choice, "checked": choice in chosen, "note": note if choice == OTHER else ""}
           for choice in field.choices]
    out += [{"label": str(v), "checked": True, "note": ""} for v in chosen if v not in field.choices]
    if getattr(field, "write_in", False) and all(v in field.choices for v in chosen):
        out.append({"label": "", "checked": False, "note": ""})  # the paper's blank box, left blank
    return out


def _date_text(value) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10] if value else ""
