"""Weighted scoring tables (客户综合评估, 竞争对手分析表, 影响因素分析表,
关键采购标准清单): the 权重 total, each party's weighted total and its 级别.

Arithmetic is on whole hundredths, so the server, the page's live totals
(static/js/app.js, the same steps) and the PDF agree to the last digit: a
weight w % and a score s, each with at most two decimals, are W = 100·w and
S = 100·s; a party's total Σ w/100 · s is Σ W·S / 10⁶, rounded half up to
two decimals. The formula is the one implied by the 100 % printed under 权重
on 客户综合评估 (paper-forms-toolkit.md, 9)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .spec import WEIGHT_TOTAL, FormSpec, Table

FULL = WEIGHT_TOTAL * 100  # 100 % in hundredths of a percent


def hundredths(value) -> int | None:
    """A stored percent or score (int, float or text, at most two decimals)
    as a whole number of hundredths; None when empty or not such a number."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value)) * 100
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number != number.to_integral_value() or number < 0:
        return None
    return int(number)


def weight_sum(table: Table, rows: list) -> int:
    """Σ 权重 of the rows in hundredths of a percent (10 000 is 100 %)."""
    return sum(hundredths(_cell(row, table.weights)) or 0 for row in rows)


def weighted_total(table: Table, rows: list, column: str) -> int | None:
    """One party's Σ 权重 × 分 in hundredths of a score point, rounded half
    up; None when the party has no score yet. A row without a weight counts 0."""
    product, scored = 0, False
    for row in rows:
        score = hundredths(_cell(row, column))
        if score is None:
            continue
        scored = True
        product += (hundredths(_cell(row, table.weights)) or 0) * score
    return (product + 5_000) // 10_000 if scored else None


def grade(total: int | None, thresholds) -> str | None:
    """The 级别 of a total (hundredths) from [minimum total, label] pairs:
    the label of the highest minimum the total reaches; None without a
    total or thresholds. Malformed pairs are skipped."""
    if total is None or not thresholds:
        return None
    best = None
    for pair in thresholds:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            continue
        floor = hundredths(pair[0])
        if floor is not None and floor <= total and (best is None or floor > best[0]):
            best = (floor, str(pair[1]))
    return best[1] if best else None


def percent_text(value: int) -> str:
    """Hundredths of a percent as the page prints them: 100%, 99.5%, 33.33%."""
    whole, frac = divmod(value, 100)
    return f"{whole}.{frac:02d}".rstrip("0").rstrip(".") + "%" if frac else f"{whole}%"


def score_text(value: int | None) -> str:
    """Hundredths of a score point with two decimals (3.45); '' for None."""
    if value is None:
        return ""
    whole, frac = divmod(value, 100)
    return f"{whole}.{frac:02d}"


def computed(spec: FormSpec, data: dict, grade_thresholds=None) -> dict:
    """{<table>_computed: values} for every table with a total row, from the
    table's stored rows in `data`: {'weights': Σ 权重 as text ('100%'),
    'totals': {score column: '3.45' or ''}, 'grades': {score column: 级别 or
    ''}}. `grade_thresholds` is the setting GRADE_THRESHOLDS: {grade
    setting: [[minimum total, label], …]} (config.py)."""
    out = {}
    for table in spec.tables():
        if table.computed_key:
            rows = data.get(table.key) if isinstance(data.get(table.key), list) else []
            out[table.computed_key] = table_values(table, rows, grade_thresholds)
    return out


def table_computed(table: Table, rows: list, grade_thresholds=None) -> dict:
    """{<table>_computed: values} for one table's rows; {} for a table without a total row."""
    return {table.computed_key: table_values(table, rows, grade_thresholds)} if table.computed_key else {}


def table_values(table: Table, rows: list, grade_thresholds=None) -> dict:
    """One table's computed values (see computed) for its rows."""
    rows = [row for row in rows if isinstance(row, dict)]
    thresholds = grade_thresholds if isinstance(grade_thresholds, dict) else {}
    totals = {col: weighted_total(table, rows, col) for col in table.scores}
    limits = thresholds.get(table.grade.setting) if table.grade else None
    return {
        "weights": percent_text(weight_sum(table, rows)),
        "totals": {col: score_text(value) for col, value in totals.items()},
        "grades": {col: grade(value, limits) or "" for col, value in totals.items()} if table.grade else {},
    }


def weights_message(total: int) -> str:
    """The refusal next to a 权重 column whose rows do not add up to 100 %."""
    return f"权重合计须为 {WEIGHT_TOTAL}%，现为 {percent_text(total)}"


def _cell(row, key):
    return row.get(key) if isinstance(row, dict) and key else None
