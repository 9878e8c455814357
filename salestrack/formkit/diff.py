"""What changed between two saves of a sheet, in words a reader follows:
the paper's 信息修改记录."""
from __future__ import annotations

import difflib
import json

from .kinds import display, is_empty
from .spec import FormSpec, Table


def diff(spec: FormSpec, old: dict | None, new: dict | None, user_names=None, *,
         file_names=None) -> list[dict]:
    """Changes as {'label', 'key', 'old', 'new'} with values as display text.
    Fields are compared one by one; table rows are aligned first, so an
    inserted or deleted row reads as one '新增第n行' / '删除第n行' entry (with
    the row's summary) and edited rows as per-cell changes '表 第n行 · 列'."""
    old = old if isinstance(old, dict) else {}
    new = new if isinstance(new, dict) else {}
    names = {"user_names": user_names, "file_names": file_names}
    changes = []
    for item in spec.items():
        if isinstance(item, Table):
            changes += _table_changes(item, _rows(old.get(item.key)), _rows(new.get(item.key)), names)
        elif not _same(old.get(item.key), new.get(item.key)):
            changes.append({"label": item.label, "key": item.key,
                            "old": display(item, old.get(item.key), **names),
                            "new": display(item, new.get(item.key), **names)})
    return changes


def _same(a, b) -> bool:
    return (is_empty(a) and is_empty(b)) or a == b


def _rows(value) -> list[dict]:
    if not isinstance(value, list):
        return []
    return [row if isinstance(row, dict) else {} for row in value]


def _row_key(table: Table, row: dict) -> str:
    cells = {col.key: row.get(col.key) for col in table.columns if not is_empty(row.get(col.key))}
    return json.dumps(cells, sort_keys=True, ensure_ascii=False, default=str)


def summary(table: Table, row: dict, **names) -> str:
    """A row as one line: '列：值；列：值' for its filled cells."""
    parts = []
    for col in table.columns:
        text = display(col, row.get(col.key), **names)
        if text:
            parts.append(f"{col.label}：{text}")
    return "；".join(parts)


def _table_changes(table: Table, old_rows: list, new_rows: list, names: dict) -> list[dict]:
    matcher = difflib.SequenceMatcher(
        a=[_row_key(table, r) for r in old_rows], b=[_row_key(table, r) for r in new_rows],
        autojunk=False)
    changes = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            changes += _cell_changes(table, old_rows[i1 + k], new_rows[j1 + k], j1 + k, names)
        for i in range(i1 + paired, i2):
            changes.append({"label": f"{table.label} 删除第{i + 1}行", "key": f"{table.key}-{i}",
                            "old": summary(table, old_rows[i], **names), "new": ""})
        for j in range(j1 + paired, j2):
            changes.append({"label": f"{table.label} 新增第{j + 1}行", "key": f"{table.key}-{j}",
                            "old": "", "new": summary(table, new_rows[j], **names)})
    return changes


def _cell_changes(table: Table, old_row: dict, new_row: dict, index: int, names: dict) -> list[dict]:
    out = []
    for col in table.columns:
        a, b = old_row.get(col.key), new_row.get(col.key)
        if not _same(a, b):
            out.append({"label": f"{table.label} 第{index + 1}行 · {col.label}",
                        "key": f"{table.key}-{index}-{col.key}",
                        "old": display(col, a, **names), "new": display(col, b, **names)})
    return out
