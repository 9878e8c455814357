"""Realistic filled-in values for every field kind, with what the engine
should store and print for them."""
from fractions import Fraction

from werkzeug.datastructures import MultiDict

from salestrack.formkit import scoring
from salestrack.formkit.spec import Field, Table

USERS = [(1, "王芳", "manager"), (2, "李四", "rep"), (3, "张伟", "implementation"), (4, "赵敏", "gm")]
USER_NAMES = {uid: name for uid, name, _ in USERS}
FILE_NAMES = {11: "技术方案.pdf", 12: "报价单.xlsx"}

TEXTS = {
    "customer_name": "杭州华东精密机械有限公司", "name": "杭州华东精密机械有限公司",
    "short_name": "华东精机", "customer_no": "KH-2026-0031", "reached": "采购部王经理",
    "contact": "0571-8765 4321", "promise": "周五前发送节能改造方案", "todo": "整理客户设备清单",
    "visitee": "设备部陈部长", "place": "客户二号厂房会议室", "companions": "技术部刘工",
    "phone": "0571-8765 4321", "email": "chen@hdjj.example.cn", "tender_term": "合同签订后预付30%",
    "bid_term": "合同签订后预付20%，到货验收后付60%", "contract_name": "数控系统改造项目合同",
    "contract_no": "HT-2026-118", "vat_no": "91330100MA2XXXX12K", "support_period": "2026年4月上旬，约3天",
}
TEXTAREA = "客户计划三季度改造两条产线，预算约两百万元。\n希望我方下周到现场演示数控系统。"


def sample(field: Field) -> tuple[list[str], object, str]:
    """(submitted values, stored value, printed text) for one field."""
    kind = field.kind
    if kind in ("text", "contact"):
        text = TEXTS.get(field.key, f"{field.label}：按双方约定执行")
        return [text], text, text
    if kind == "textarea":
        return [TEXTAREA.replace("\n", "\r\n")], TEXTAREA, TEXTAREA
    if kind == "date":
        return ["2026-03-18"], "2026-03-18", "2026-03-18"
    if kind == "datetime":
        return ["2026-03-20T14:30"], "2026-03-20T14:30", "2026-03-20 14:30"
    if kind == "time":
        return ["09:45"], "09:45", "09:45"
    if kind == "int":
        return ["3"], 3, "3"
    if kind == "money":
        return ["1234.5"], "1234.50", "1,234.50 万元"  # shown with its unit (issue 10 finding 8)
    if kind == "percent":
        return ["35"], 35, "35%"
    if kind == "score":
        low, high = field.scale or (0, 100)
        value = high - 1 if high - low > 1 else high
        return [str(value)], value, str(value)
    if kind == "choice":
        return [field.choices[-1]], field.choices[-1], field.choices[-1]
    if kind == "checks":
        first = field.choices[0]
        if field.has_other:
            stored = {"values": [first, "其他"], "other": "参加展会布展"}
            return [first, "其他"], stored, f"{first}、其他：参加展会布展"
        return [first], {"values": [first], "other": ""}, first
    if kind == "user":
        uid = next(u for u, _, role in USERS if field.role in (None, role))
        return [str(uid)], uid, USER_NAMES[uid]
    if kind == "files":
        return ["11,12"], [11, 12], "技术方案.pdf、报价单.xlsx"
    raise AssertionError(kind)


def row_count(table: Table, rows: int) -> int:
    """How many rows a filled table has: `rows`, but at least every
    preprinted row, and no more where none may be added."""
    return max(rows, len(table.rows)) if table.add_rows else len(table.rows)


def weights(n: int) -> list[int]:
    """n whole weights (percent) adding up to 100, the first taking the rest."""
    base = 100 // n
    return [100 - base * (n - 1)] + [base] * (n - 1)


def scoring_cell(table: Table, col: Field, index: int, n: int):
    """(submitted values, stored, shown) for a cell a scoring table decides:
    a preprinted row's label (not posted: [] ) and the 权重 column, whose
    values add up to 100; None for any other cell."""
    fixed = table.fixed(index)
    if fixed and col.key == table.label_column and not fixed.typed:
        return [], fixed.label, fixed.label
    if col.key == table.weights:
        weight = weights(n)[index]
        return [str(weight)], weight, f"{weight}%"
    return None


def filled(spec, rows: int = 2) -> tuple[MultiDict, dict, dict]:
    """Formdata filling every input of the sheet, the JSON it should store,
    and the text printable() should show per key (tables: list of rows)."""
    pairs, stored, shown = [], {}, {}
    for item in spec.items():
        if isinstance(item, Table):
            stored[item.key], shown[item.key] = [], []
            n = row_count(item, rows)
            for index in range(n):
                row, row_text = {}, []
                for col in item.columns:
                    values, value, text = scoring_cell(item, col, index, n) or sample(col)
                    name = f"{item.key}-{index}-{col.key}"
                    pairs += [(name, v) for v in values]
                    if col.has_other:
                        pairs.append((name + "_other", "参加展会布展"))
                    row[col.key] = value
                    row_text.append(text)
                stored[item.key].append(row)
                shown[item.key].append(row_text)
            stored.update(scoring.table_computed(item, stored[item.key]))
        elif not item.source:
            values, value, text = sample(item)
            pairs += [(item.key, v) for v in values]
            if item.has_other:
                pairs.append((item.key + "_other", "参加展会布展"))
            stored[item.key] = value
            shown[item.key] = text
    return MultiDict(pairs), stored, shown


def input_names(spec, rows: int = 2) -> list[str]:
    """Every input name of the sheet for the first `rows` table rows."""
    names = []
    for item in spec.items():
        if isinstance(item, Table):
            for index in range(rows):
                for col in item.columns:
                    names.append(f"{item.key}-{index}-{col.key}")
                    if col.has_other:
                        names.append(f"{item.key}-{index}-{col.key}_other")
        elif not item.source:
            names.append(item.key)
            if item.has_other:
                names.append(item.key + "_other")
    return names


def first_of_kind(spec, kind: str) -> tuple[str, Field] | None:
    """(input name, Field) of the sheet's first input of a kind, cells included."""
    for item in spec.items():
        if isinstance(item, Table):
            for col in item.columns:
                if col.kind == kind:
                    return f"{item.key}-0-{col.key}", col
        elif item.kind == kind and not item.source:
            return item.key, item
    return None


def exact_total(weights, scores) -> str:
    """Σ w/100 × s by exact fractions (weights in percent, scores; texts or
    numbers, None for no score), rounded half up to two decimals: the
    reference the scoring tests hold the page, the server and the PDF to."""
    total = sum((Fraction(w) / 100 * Fraction(s) for w, s in zip(weights, scores, strict=True) if s is not None),
                Fraction(0))
    hundredths = (total * 100 + Fraction(1, 2)).__floor__()
    return f"{hundredths // 100}.{hundredths % 100:02d}"
