"""A table drawn as a diagram (Table.drawing): an org tree or a bar chart, as
one inline SVG string. The same function draws the record page and the PDF
(WeasyPrint renders inline SVG), so both always show the same picture of the
same rows. Pure: rows in, text out; every value is escaped."""
from __future__ import annotations

from markupsafe import escape

from .kinds import display
from .spec import Drawing, Table

FONT = "WenQuanYi Micro Hei, Noto Sans CJK SC, sans-serif"
BOX_W, BOX_H, GAP_X, GAP_Y = 132, 58, 14, 40
NO_COLOUR = "#ffffff"
LINE_STYLES = (("2.6", ""), ("1.6", ""), ("1.2", "6 4"), ("1.2", "1.5 3"))  # by position in the line column's choices
BAR_H, BAR_GAP, LABEL_W, BAR_W = 26, 10, 190, 330
MAX_TEXT = 11  # characters per line in a box; longer text is cut with …


def svg(table: Table, rows: list, names: dict | None = None) -> str:
    """The SVG (a string, '' when no row names a node) of `table`'s filled
    rows (the stored JSON: a list of {column key: value}) as its Drawing
    declares; `names` are the user/file names display() reads. Widths are
    in SVG user units; the image scales to the page or sheet width."""
    drawing = table.drawing
    if drawing is None:
        return ""
    texts = [_texts(table, row, names or {}) for row in rows or [] if isinstance(row, dict)]
    texts = [t for t in texts if t.get(drawing.node)]
    if not texts:
        return ""
    return _tree(drawing, table, texts) if drawing.kind == "tree" else _bars(drawing, table, texts)


def _texts(table: Table, row: dict, names: dict) -> dict:
    return {col.key: display(col, row.get(col.key), **names).strip() for col in table.columns}


def _scale(drawing: Drawing, table: Table) -> tuple[str, ...]:
    return drawing.scale or (table.column(drawing.colour).choices if drawing.colour else ())


def _fill(drawing: Drawing, table: Table, value: str) -> str:
    scale = _scale(drawing, table)
    return drawing.palette[scale.index(value)] if value in scale else NO_COLOUR


def _cut(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(x, y, text, *, size=12, anchor="middle", weight="normal", fill="#222") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}" '
            f'fill="{fill}">{escape(text)}</text>')


def _open(width: float, height: float, label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" role="img" aria-label="{escape(label)}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" width="100%" preserveAspectRatio="xMidYMin meet" '
            f'font-family="{FONT}">')


def _legend(drawing: Drawing, table: Table, y: float, width: float) -> tuple[list[str], float]:
    """Colour keys (and line styles) under the drawing; returns (parts, height)."""
    parts, x = [], 8.0
    if drawing.colour:
        parts.append(_text(x, y + 13, table.column(drawing.colour).label + "：", anchor="start", size=11))
        x += 14 * (len(table.column(drawing.colour).label) + 1)
        for value, colour in zip(_scale(drawing, table), drawing.palette, strict=True):
            parts.append(f'<rect x="{x:.1f}" y="{y + 3:.1f}" width="14" height="12" fill="{colour}" stroke="#555"/>')
            parts.append(_text(x + 18, y + 13, value, anchor="start", size=11))
            x += 26 + 12 * len(value)
    if drawing.line:
        x += 16
        column = table.column(drawing.line)
        parts.append(_text(x, y + 13, column.label + "：", anchor="start", size=11))
        x += 14 * (len(column.label) + 1)
        for index, value in enumerate(column.choices):
            stroke, dash = LINE_STYLES[min(index, len(LINE_STYLES) - 1)]
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<line x1="{x:.1f}" y1="{y + 9:.1f}" x2="{x + 22:.1f}" y2="{y + 9:.1f}" stroke="#333" '
                         f'stroke-width="{stroke}"{dash_attr}/>')
            parts.append(_text(x + 26, y + 13, value, anchor="start", size=11))
            x += 34 + 12 * len(value)
    return parts, (22 if parts else 0)


# ── the org tree ─────────────────────────────────────────────────────────
def tree_layout(drawing: Drawing, texts: list[dict]) -> list[dict]:
    """Places each row's box: [{'row': texts, 'parent': index or None,
    'level': tier row, 'x': slot}] in row order. A row's parent is the first
    other row whose node is its parent text (a loop is cut where it closes);
    a child sits below its parent, on its own tier when that is lower; leaves
    take consecutive slots, a parent is centred over its children."""
    first = {}
    for index, row in enumerate(texts):
        first.setdefault(row[drawing.node], index)
    parents = []
    for index, row in enumerate(texts):
        parent = first.get(row.get(drawing.parent) or "") if drawing.parent else None
        parents.append(None if parent == index else parent)
    for index in range(len(texts)):  # cut loops: walk up, drop the link that closes one
        seen, at = {index}, parents[index]
        while at is not None:
            if at in seen:
                parents[index] = None
                break
            seen.add(at)
            at = parents[at]
    children = {i: [j for j, p in enumerate(parents) if p == i] for i in range(len(texts))}
    tiers = {t: n for n, t in enumerate(drawing.tiers)}
    levels: dict[int, int] = {}

    def level(i: int, floor: int) -> None:
        own = tiers.get(texts[i].get(drawing.tier or "") or "", -1)
        levels[i] = max(floor, own)
        for child in children[i]:
            level(child, levels[i] + 1)

    roots = [i for i, p in enumerate(parents) if p is None]
    for root in roots:
        level(root, 0)
    slots: dict[int, float] = {}
    next_slot = [0.0]

    def place(i: int) -> None:
        if not children[i]:
            slots[i] = next_slot[0]
            next_slot[0] += 1
            return
        for child in children[i]:
            place(child)
        slots[i] = (slots[children[i][0]] + slots[children[i][-1]]) / 2

    for root in roots:
        place(root)
    return [{"row": texts[i], "parent": parents[i], "level": levels[i], "x": slots[i]} for i in range(len(texts))]


def _tree(drawing: Drawing, table: Table, texts: list[dict]) -> str:
    boxes = tree_layout(drawing, texts)
    columns = max(b["x"] for b in boxes) + 1
    depth = max(b["level"] for b in boxes) + 1
    band = 64 if drawing.tiers else 0  # the tier names down the left edge
    width = max(band + columns * (BOX_W + GAP_X) + GAP_X, 560)
    body_h = depth * (BOX_H + GAP_Y) + 8
    legend, legend_h = _legend(drawing, table, body_h + 4, width)
    parts = [_open(width, body_h + legend_h + 8, drawing.title)]

    def left(b):
        return band + GAP_X + b["x"] * (BOX_W + GAP_X)

    def top(b):
        return 10 + b["level"] * (BOX_H + GAP_Y)

    if drawing.tiers:
        for n, tier in enumerate(drawing.tiers[:depth]):
            y = 10 + n * (BOX_H + GAP_Y)
            parts.append(f'<rect x="2" y="{y - 4:.1f}" width="{width - 4:.1f}" height="{BOX_H + 8}" '
                         f'fill="{"#f4f6f8" if n % 2 == 0 else "#ffffff"}" stroke="none"/>')
            parts.append(_text(8, y + BOX_H / 2 + 4, tier, anchor="start", size=12, weight="bold", fill="#555"))
    for b in boxes:  # lines first, boxes over them
        if b["parent"] is None:
            continue
        p = boxes[b["parent"]]
        x1, y1 = left(p) + BOX_W / 2, top(p) + BOX_H
        x2, y2 = left(b) + BOX_W / 2, top(b)
        mid = y2 - GAP_Y / 2
        stroke, dash = LINE_STYLES[1]
        if drawing.line:
            choices = table.column(drawing.line).choices
            value = b["row"].get(drawing.line) or ""
            if value in choices:
                stroke, dash = LINE_STYLES[min(choices.index(value), len(LINE_STYLES) - 1)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<path d="M{x1:.1f},{y1:.1f} V{mid:.1f} H{x2:.1f} V{y2:.1f}" fill="none" stroke="#333" '
                     f'stroke-width="{stroke}"{dash_attr}/>')
    for b in boxes:
        x, y, row = left(b), top(b), b["row"]
        fill = _fill(drawing, table, row.get(drawing.colour or "") or "") if drawing.colour else NO_COLOUR
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{BOX_W}" height="{BOX_H}" rx="5" fill="{fill}" '
                     f'stroke="#333" stroke-width="1"/>')
        parts.append(_text(x + BOX_W / 2, y + 20, _cut(row[drawing.node], 9), size=14, weight="bold"))
        line_text = " · ".join(row.get(key) or "" for key in drawing.lines if row.get(key))
        if line_text:
            parts.append(_text(x + BOX_W / 2, y + 40, _cut(line_text), size=11, fill="#333"))
    parts += legend
    parts.append("</svg>")
    return "".join(parts)


# ── the bar chart ────────────────────────────────────────────────────────
def _number(text: str) -> float:
    try:
        return max(0.0, min(100.0, float(text.rstrip("%"))))
    except ValueError:
        return 0.0


def _bars(drawing: Drawing, table: Table, texts: list[dict]) -> str:
    width = LABEL_W + BAR_W + 90
    top = 26
    height = top + len(texts) * (BAR_H + BAR_GAP)
    total = sum(_number(t.get(drawing.length) or "") for t in texts)
    legend, legend_h = _legend(drawing, table, height + 22, width)
    parts = [_open(width, height + 26 + legend_h + 6, drawing.title)]
    label = table.column(drawing.length).label
    parts.append(_text(LABEL_W, 16, f"{label}（%）", anchor="start", size=11, fill="#555"))
    for tick in (0, 25, 50, 75, 100):
        x = LABEL_W + BAR_W * tick / 100
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height:.1f}" stroke="#ccc" '
                     'stroke-width="0.8"/>')
        parts.append(_text(x, height + 14, f"{tick}", size=10, fill="#666"))
    for n, row in enumerate(texts):
        y = top + n * (BAR_H + BAR_GAP)
        share = _number(row.get(drawing.length) or "")
        fill = _fill(drawing, table, row.get(drawing.colour or "") or "") if drawing.colour else "#8fb3d9"
        name = _cut(row[drawing.node], 8)
        extra = " · ".join(row.get(key) or "" for key in drawing.lines if row.get(key))
        parts.append(_text(LABEL_W - 8, y + 12, name, anchor="end", size=13, weight="bold"))
        if extra:
            parts.append(_text(LABEL_W - 8, y + 24, _cut(extra, 14), anchor="end", size=10, fill="#555"))
        parts.append(f'<rect x="{LABEL_W}" y="{y:.1f}" width="{BAR_W * share / 100:.1f}" height="{BAR_H}" '
                     f'fill="{fill}" stroke="#333" stroke-width="0.8"/>')
        relation = row.get(drawing.colour or "") or ""
        parts.append(_text(LABEL_W + BAR_W * share / 100 + 6, y + 17,
                           f"{share:g}%" + (f" {_cut(relation, 6)}" if relation else ""), anchor="start", size=11))
    note = f"合计 {total:g}%" + ("" if abs(total - 100) < 0.005 else "（比重合计不是 100%）")
    parts.append(_text(LABEL_W + BAR_W, 16, note, anchor="end", size=11,
                       fill="#222" if abs(total - 100) < 0.005 else "#b00020"))
    parts += legend
    parts.append("</svg>")
    return "".join(parts)
