"""Realistic values for any sheet, built from its definition, and readers for
the pages a user sees: the form (labels, inputs, values) and the read-only
sheet (header, labelled values, tables). Shared by the sheet tests."""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field

import lxml.html
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from salestrack.extensions import db
from salestrack.formkit import scoring
from salestrack.formkit.spec import FormSpec, Table
from salestrack.models import Record
from tests.formkit.formkit_samples import row_count, sample, scoring_cell

NOTE = "参加展会布展"
# Small real files: a one-page PDF and a 1×1 PNG.
PDF_BYTES = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
             b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
             b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
             b"trailer<</Root 1 0 R>>\n%%EOF\n")
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
UPLOADS = (("技术方案.pdf", PDF_BYTES), ("现场照片.png", PNG_BYTES))


@dataclass
class Filled:
    """A sheet filled in the way a rep fills it: what the browser posts, what
    record.data should hold, and what the read-only page should show."""
    spec: FormSpec
    pairs: list[tuple[str, str]] = dc_field(default_factory=list)
    uploads: dict[str, list[tuple[str, bytes]]] = dc_field(default_factory=dict)
    stored: dict = dc_field(default_factory=dict)
    shown: dict = dc_field(default_factory=dict)

    def post_data(self, action="draft", **extra) -> dict:
        """The multipart body for the test client (lists for repeated names)."""
        data: dict[str, list] = {}
        for name, value in self.pairs:
            data.setdefault(name, []).append(value)
        for name, files in self.uploads.items():
            from io import BytesIO
            data[name] = [(BytesIO(content), filename) for filename, content in files]
        data["action"] = action
        for name, value in extra.items():
            data[name] = value
        return data

    def values_of(self, name: str) -> list[str]:
        return [v for n, v in self.pairs if n == name]

    def replace(self, name: str, *values: str) -> None:
        """Posts `values` under `name` instead of what was there."""
        at = next((i for i, (n, _) in enumerate(self.pairs) if n == name), len(self.pairs))
        self.pairs = [p for p in self.pairs if p[0] != name]
        self.pairs[at:at] = [(name, v) for v in values]


def value_for(col, people: dict, row: int | None = None) -> tuple[list[str], object, str]:
    """(posted values, stored value, shown text) for one field; `people` maps
    a role to a user and `row` varies the values from row to row."""
    if col.kind == "user":
        user = people[col.role or "manager"]
        return [str(user.id)], user.id, user.name
    values, stored, shown = sample(col)
    if row:
        if col.kind in ("text", "contact"):
            values, stored, shown = [f"{stored}（{row + 1}）"], f"{stored}（{row + 1}）", f"{stored}（{row + 1}）"
        elif col.kind == "int":
            values, stored, shown = [str(row + 1)], row + 1, str(row + 1)
        elif col.kind == "date":
            values, stored, shown = [f"2026-03-{18 + row}"], f"2026-03-{18 + row}", f"2026-03-{18 + row}"
    return values, stored, shown


def filled(spec: FormSpec, people: dict, sources: dict, rows: int = 2) -> Filled:
    """Every input of the sheet filled with a realistic value; tables get
    `rows` rows; files fields get a PDF and a PNG uploaded. `sources` is the
    project's context ('project.name': ...), for the values the server fills."""
    out = Filled(spec)
    for item in spec.items():
        if isinstance(item, Table):
            out.stored[item.key], out.shown[item.key] = [], []
            n = row_count(item, rows)
            for index in range(n):
                cells, texts = {}, []
                for col in item.columns:
                    values, stored, shown = scoring_cell(item, col, index, n) or value_for(col, people, index)
                    name = f"{item.key}-{index}-{col.key}"
                    out.pairs += [(name, v) for v in values]
                    if col.has_other:
                        out.pairs.append((name + "_other", NOTE))
                    cells[col.key] = stored
                    texts.append(shown)
                out.stored[item.key].append(cells)
                out.shown[item.key].append(texts)
            out.stored.update(scoring.table_computed(item, out.stored[item.key]))
        elif item.source:
            value = sources.get(item.source)
            out.stored[item.key] = value
            out.shown[item.key] = value or "—"
        elif item.kind == "files":
            out.uploads[item.key + "__upload"] = list(UPLOADS)
            out.stored[item.key] = FILES
            out.shown[item.key] = "、".join(name for name, _ in UPLOADS)
        else:
            values, stored, shown = value_for(item, people)
            out.pairs += [(item.key, v) for v in values]
            if item.has_other:
                out.pairs.append((item.key + "_other", NOTE))
            out.stored[item.key], out.shown[item.key] = stored, shown
    return out


FILES = object()  # stands for "the ids of the files uploaded with the sheet"


# Values each kind refuses, with the message the user reads.
BAD = {
    "text": ("过长" * 251, "内容过长"),
    "contact": ("过长" * 41, "内容过长"),
    "textarea": ("超长" * 5001, "内容过长"),
    "date": ("2026-02-30", "请输入有效的日期"),
    "datetime": ("下周三下午", "请输入有效的日期和时间"),
    "time": ("25:61", "请输入有效的时间"),
    "int": ("三", "请输入整数"),
    "money": ("12.345", "金额最多两位小数"),
    "percent": ("120", "百分比应在 0 到 100 之间"),
    "score": ("3.333", "评分最多两位小数"),
    "choice": ("不存在的选项", "请从列表中选择"),
    "checks": ("不存在的选项", "请从列表中选择"),
    "user": ("999999", "请从列表中选择人员"),
}


def bad_inputs(spec: FormSpec) -> dict[str, tuple[str, str]]:
    """{input name: (bad value, message)}: the first typed input of each kind
    at the top level, and the first cell of each kind in the second row of
    every table."""
    out, seen = {}, set()
    for item in spec.items():
        if isinstance(item, Table):
            table_seen = set()
            for col in item.columns:
                if col.key == item.label_column and item.fixed(1) and not item.fixed(1).typed:
                    continue  # a preprinted row's label is the paper's, never typed
                if col.kind in BAD and col.kind not in table_seen:
                    table_seen.add(col.kind)
                    out[f"{item.key}-1-{col.key}"] = BAD[col.kind]
        elif not item.source and item.kind in BAD and item.kind not in seen:
            seen.add(item.kind)
            out[item.key] = BAD[item.kind]
    return out


# ── reading pages ─────────────────────────────────────────────────────────
def html(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.get_data(as_text=True))


def sheet_form(page) -> lxml.html.FormElement:
    forms = page.xpath("//form[contains(@class, 'sheet-form')]")
    assert len(forms) == 1, "the page has no sheet form"
    return forms[0]


def form_labels(form, tables=True) -> list[str]:
    """The paper labels of a sheet form in page order: each field's label,
    each table's title (unless tables=False) and its column headings."""
    title = " or (self::span and @class='rows-title')" if tables else ""
    found = form.xpath(".//*[(self::label and parent::div[contains(concat(' ', @class, ' '), ' field ')])"
                       f"{title} or (self::th and @scope='col')]")
    return [(el.text or "").strip() for el in found]


def spec_labels(spec: FormSpec, *, tables=True, skip=()) -> list[str]:
    out = []
    for item in spec.items():
        if item in skip:
            continue
        if isinstance(item, Table):
            out += ([item.label] if tables else []) + [c.label for c in item.columns]
        else:
            out.append(item.label)
    return out


def form_values(form) -> dict[str, list[str]]:
    """What the browser would post from the form as it stands (no buttons)."""
    out: dict[str, list[str]] = {}
    for name, value in form.form_values():
        out.setdefault(name, []).append(value.replace("\r\n", "\n").strip())
    return out


def unlabelled_inputs(form) -> list[str]:
    """Inputs a screen reader could not name: no id, or no <label for=id>;
    and labels whose `for` points at nothing."""
    problems = []
    ids = {el.get("id") for el in form.iter() if el.get("id")}
    label_for = {el.get("for") for el in form.iter("label")}
    for el in form.xpath(".//input[not(@type='hidden')] | .//select | .//textarea"):
        if not el.get("id") or el.get("id") not in label_for:
            problems.append(f"{el.tag} name={el.get('name')} id={el.get('id')}: no label")
    for target in label_for - ids:
        problems.append(f"label for={target}: no such element")
    all_ids = [el.get("id") for el in form.iter() if el.get("id")]
    problems += [f"duplicate id {i}" for i in {i for i in all_ids if all_ids.count(i) > 1}]
    return problems


@dataclass
class SheetView:
    header: list[tuple[str, str]]
    fields: list[tuple[str, str]]
    tables: dict[str, list[list[str]]]
    labels: list[str]


def sheet_view(response) -> SheetView:
    """The read-only sheet of a record page."""
    view = html(response).xpath("//div[contains(@class, 'sheet-view')]")[0]
    header_row = view.xpath(".//table[contains(@class, 'paper-header')]//tr")[0]
    cells = header_row.xpath("./th|./td")
    header = [(cells[i].text_content().strip(), cells[i + 1].text_content().strip())
              for i in range(0, len(cells), 2)]
    fields, tables, labels = [], {}, [label for label, _ in header]
    for el in view.xpath(".//div[contains(@class, 'paper-cell') or contains(@class, 'paper-table')]"):
        label = el.xpath("./div[@class='paper-label']")[0].text_content().strip()
        labels.append(label)
        if "paper-table" in el.get("class"):
            # a column's label is the head's own text (a score column adds its party after it)
            labels += [(th.text or "").strip() for th in el.xpath(".//thead//th")]
            tables[label] = [[td.text_content().strip() for td in tr.xpath("./td")]
                             for tr in el.xpath(".//tbody/tr")
                             if not tr.xpath("./td[@class='muted']") and "row-group" not in (tr.get("class") or "")]
        else:
            fields.append((label, el.xpath("./div[contains(@class, 'paper-value')]")[0].text_content().strip()))
    return SheetView(header, fields, tables, labels)


# ── the people and the project the sheets are filed against ──────────────
@dataclass
class World:
    team: object
    manager: object
    rep: object
    rep2: object
    other_rep: object
    people: dict
    customer: object
    project: object

    def sources(self) -> dict:
        """What sheets take from the project (no contract review yet)."""
        return {"project.name": self.project.name, "project.project_no": self.project.project_no,
                "customer.name": self.customer.name,
                "customer.customer_no": self.customer.customer_no}

    def fill(self, spec, rows=2) -> Filled:
        return filled(spec, self.people, self.sources(), rows)


def make_world(factory) -> World:
    """A 华东 team (manager 王芳, reps 李明 and 赵磊), a rep of another team,
    one person of each other role, and 李明's customer and project."""
    team = factory.team("华东片区")
    manager = factory.user("manager", team, name="王芳")
    rep = factory.user("rep", team, name="李明")
    rep2 = factory.user("rep", team, name="赵磊")
    other_team = factory.team("华南片区")
    factory.user("manager", other_team, name="孙丽")
    other_rep = factory.user("rep", other_team, name="陈强")
    people = {"manager": manager, "rep": rep}
    for role, name in (("implementation", "张伟"), ("gm", "赵敏"), ("hr", "周静"), ("director", "吴刚"),
                       ("clerk", "郑洁"), ("auditor", "冯涛")):
        people[role] = factory.user(role, name=name)
    customer = factory.customer(rep, name="杭州华东精密机械有限公司", short_name="华东精机")
    project = factory.project(rep, customer, name="数控车间 MES 系统")
    return World(team, manager, rep, rep2, other_rep, people, customer, project)


# ── filing and editing through the pages ─────────────────────────────────
def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def new_url(project, spec) -> str:
    """The sheet's new page: on the project, or on the project's customer for
    a customer-level sheet (FormSpec.filed_on)."""
    if spec.filed_on == "customer":
        return f"/customers/{project.customer_id}/sheets/{spec.key}/new"
    return f"/projects/{project.id}/sheets/{spec.key}/new"


def file_sheet(client, world, spec, filled=None, action="draft") -> Record:
    """Files the sheet through the new page; the saved record."""
    filled = filled or world.fill(spec)
    response = client.post(new_url(world.project, spec), data=filled.post_data(action))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return db.session.get(Record, int(response.headers["Location"].rsplit("/", 1)[-1]))


def resubmit(client, record, page, **changes):
    """Posts the edit page's form as the browser would, with `changes`."""
    values = MultiDict(sheet_form(html(page)).form_values())
    for name, value in changes.items():
        values.setlist(name, value if isinstance(value, list) else [value])
    values.setlist("action", ["draft"])
    return client.post(f"/records/{record.id}/edit", data=values)
