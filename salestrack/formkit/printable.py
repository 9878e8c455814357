"""A filled sheet as plain data for the read-only page and the PDF, laid out
like the paper: header, sections of labelled values and tables, sign-off slots."""
from __future__ import annotations

from datetime import date, datetime

from .kinds import display
from .spec import FormSpec, Table


def printable(spec: FormSpec, record: dict, user_names: dict | None = None) -> dict:
    """The sheet as a plain dict (see the shape in the return statement).

    `record` keys read: 'number' (编号), 'sheet', 'status', 'author_name',
    'created_at' (date, datetime or ISO text; the header date when the sheet
    has no typed one), 'data' (the stored JSON) and optionally 'attachments'
    ({attachment id: file name}). `user_names` maps user ids (int or str) to
    names. The header date field is printed in the header, not repeated below.
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
        items = [_item(item, data, names) for item in section.items if item is not header_field]
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
        "sections": sections,
        "slots": [{"key": slot.key, "label": slot.label, "comment_label": slot.comment_label}
                  for slot in spec.slots],
    }


def _item(item, data: dict, names: dict) -> dict:
    if isinstance(item, Table):
        rows = data.get(item.key) if isinstance(data.get(item.key), list) else []
        return {"type": "table", "key": item.key, "label": item.label,
                "columns": [col.label for col in item.columns],
                "rows": [[display(col, row.get(col.key), **names) for col in item.columns]
                         for row in rows if isinstance(row, dict)]}
    return {"type": "field", "key": item.key, "label": item.label,
            "value": display(item, data.get(item.key), **names),
            "kind": item.kind, "wide": item.wide}


def _date_text(value) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10] if value else ""
