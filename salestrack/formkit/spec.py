"""The declarative description of a paper sheet: its fields, repeating tables,
sections and sign-off slots. Everything else (form, storage, view, PDF, chain)
is derived from a FormSpec, so a new sheet is one definition file."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..process import GROUPS, ROLE_CODES, STAGE_BY_CODE

MONEY_UNIT = "万元"  # every money field of every sheet is in 10 000 yuan
KINDS = ("text", "textarea", "date", "datetime", "time", "int", "money",
         "percent", "score", "choice", "checks", "user", "files", "contact")
WEIGHT_TOTAL = 100  # 权重 of a weighted table add up to 100 % (客户综合评估, 关键采购标准清单)
COMPUTED_SUFFIX = "_computed"  # data[<table>_computed]: the table's computed values, stored with the record
# Values the system knows (from the customer master and the project); a
# source may also be '<provides>.<field key>' of another sheet (FormSpec.provides).
SOURCES = ("customer.name", "customer.customer_no", "project.name", "project.project_no")
PREFILL_CUSTOMER = "customer."
PREFILL_PROJECT = "project."
PREFILL_PERSON = "person."
_PREFILL = re.compile(r"(customer|project|person)\.[a-z][a-z0-9_]{0,39}")
# A source read from another sheet of the same project: '<provides>.<field key>'.
_SHEET_SOURCE = re.compile(r"[a-z][a-z0-9_]{0,39}\.[a-z][a-z0-9_]{0,39}")
FILED_ON = ("project", "customer")
# What a picked person (contact field) may fill in a sibling field.
PERSON_ATTRS = ("title", "phone")
DRAWINGS = ("tree", "bars")
# The record-keeping block (信息登记日期 …) a master-data sheet prints at its
# foot: item → label. FormSpec.record_block lists the items in the paper's order.
RECORD_BLOCK = {"registered": "信息登记日期", "entered": "信息录入人", "collected": "信息采集人",
                "reviewer": "信息审核人", "review_mark": "信息审核标记", "revisions": "信息修改记录"}
COLLECTOR_FIELD = "collector"  # the user field that names the 信息采集人
OTHER = "其他"
OTHER_SUFFIX = "_other"

_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
_PREFIX = re.compile(r"[A-Z]{1,6}")
_TABLE_SIGNER = re.compile(r"table:([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)")
# Names a WTForms/Flask-WTF form or its constructor already uses.
_RESERVED = frozenset({
    "meta", "data", "errors", "form_errors", "csrf_token", "formdata", "obj",
    "prefix", "extra_filters", "process", "populate_obj", "post_process",
    "validate", "validate_on_submit", "is_submitted", "hidden_tag",
    "sheet_spec", "is_draft",
})


def _tuple(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


@dataclass(frozen=True)
class Field:
    """One labelled value on the sheet. `prefill` ('customer.<attr>' or
    'project.<attr>') is what the system already knows for it: a new sheet
    opens with that value, still editable; `prefill_map` ((stored, shown)
    pairs) turns a stored code into the paper's wording (e.g. 'A' → 'A类客户').
    On a sheet with updates_customer, the 'customer.' fields are the ones its
    final approval writes back to the customer master."""
    key: str
    label: str
    label_en: str
    kind: str
    choices: tuple[str, ...] = ()
    required: bool = False
    help: str = ""
    source: str | None = None
    default: str | None = None
    wide: bool = False
    role: str | None = None
    prefill: str | None = None
    prefill_map: tuple[tuple[str, str], ...] = ()
    # How a table column prints when its kind does not say it (see
    # printable.column_layout): "unbroken" (a phone number: never split),
    # "narrow" (序号-like) or "wide" (free text).
    print_as: str | None = None
    # A score column: the lowest and highest score the paper allows (竞争对手分析表's
    # 标准(1-5) is (1, 5)); None allows 0-100.
    scale: tuple[int, int] | None = None
    # A score column of a weighted table: the key of the sheet's field that
    # names the compared party (A竞争对手 → 华为), shown in the column's head.
    party: str | None = None
    # A date or datetime field that is an appointment of the author's (我的日程
    # and its iCalendar feed): what kind ("计划联络", "约定拜访", "承诺反馈"),
    # and the key of the field beside it (same row of a table, or the sheet)
    # whose value says what it is about.
    calendar: str | None = None
    calendar_text: str | None = None
    # A person's private detail (family, birthday, political status …):
    # shown and printed only to who may see the person's private fields
    # (access.can_see_private_person), never in a bulk export.
    private: bool = False
    # On a contact field: ((sibling field key, person attribute), …) that
    # picking a recorded person fills when still blank — the same row's cell
    # for a table column, else the sheet's field (e.g. (("title", "title"),)).
    fills: tuple[tuple[str, str], ...] = ()
    # The paper's label when it prints this field together with its
    # neighbours: consecutive fields with the same print_label print as one
    # entry under it, values joined by " 至 " (实施开始日期及结束日期); the
    # form keeps one labelled input each.
    print_label: str | None = None
    # A choice whose last box the paper prints blank, for the writer's own
    # words (资源支持申请表's 客户分类: □A类客户 … □D类客户 □): beside the
    # list the form offers a text input; what is written there is the value.
    write_in: bool = False

    def __post_init__(self):
        object.__setattr__(self, "choices", _tuple(self.choices))
        object.__setattr__(self, "scale", _tuple(self.scale))
        object.__setattr__(self, "prefill_map", _tuple(self.prefill_map))
        object.__setattr__(self, "fills", tuple(tuple(p) if isinstance(p, list) else p
                                                for p in _tuple(self.fills)))

    @property
    def unit(self) -> str | None:
        """The unit the value is in, shown beside its input, in its label's
        accessible name and after its printed value: 万元 for money (the
        department's unit on every sheet; issue 10 finding 8)."""
        return MONEY_UNIT if self.kind == "money" else None

    @property
    def has_other(self) -> bool:
        """A checks field whose 其他 box carries a free-text note."""
        return self.kind == "checks" and OTHER in self.choices

    @property
    def takes_note(self) -> bool:
        """A field with a second text input, key + OTHER_SUFFIX: a checks
        field's 其他 note or a choice's write-in (write_in)."""
        return self.has_other or (self.kind == "choice" and self.write_in)


@dataclass(frozen=True)
class Row:
    """A row the paper preprints (评估指标 产品质量 …). `group` is the group
    label printed above it (客户综合评估's 行业因素); `typed` lets the user
    write the label over the printed one (影响因素分析表's 其它)."""
    key: str
    label: str
    group: str = ""
    typed: bool = False


@dataclass(frozen=True)
class Grade:
    """级别: a label for a weighted total, from the thresholds kept in the
    setting GRADE_THRESHOLDS[setting] ([minimum total, label] pairs); blank
    while none are configured (paper-forms-toolkit.md, 9)."""
    label: str
    label_en: str
    setting: str


@dataclass(frozen=True)
class Drawing:
    """How a table's rows are drawn as a diagram (SVG, the same drawing on the
    page and in the PDF; formkit.drawing). Each name is a column key.

    kind "tree": one box per row, naming `node` (and the `lines` columns
    under it), joined to the row whose `node` is the row's `parent`, laid out
    in tiers by `tier` (the tier column's choices, first = top) and coloured
    by `colour` (its choices in `palette` order).
    kind "bars": one bar per row, labelled by `node` (and `lines`), as long
    as `length` (a percent column) and coloured by `colour`.
    `tiers` are the tier column's values top-down; `scale` the colour
    column's values in `palette` order (default: its choices); `line` a
    choice column whose value sets the style of the line to the parent (its
    first choice solid and thick … its last dotted)."""
    kind: str
    node: str
    title: str
    parent: str | None = None
    lines: tuple[str, ...] = ()
    tier: str | None = None
    tiers: tuple[str, ...] = ()
    colour: str | None = None
    scale: tuple[str, ...] = ()
    palette: tuple[str, ...] = ()
    line: str | None = None
    length: str | None = None

    def __post_init__(self):
        for name in ("lines", "tiers", "scale", "palette"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))

    def columns(self) -> list[str]:
        return [c for c in (self.node, self.parent, *self.lines, self.tier, self.colour, self.line, self.length)
                if c]


@dataclass(frozen=True)
class Table:
    """A repeating table: rows of the same columns, as many as needed.
    required=True means a submitted sheet needs at least one filled row;
    `drawing` draws the rows as a diagram below the table.

    A scoring table adds: `rows`, the rows the paper preprints (always shown,
    their label in column `label_column`, never typed unless Row.typed), and
    `add_rows`, whether rows may be added after them; `weights`, the key of
    the 权重 column whose values must total 100 % on a submitted sheet;
    `scores`, the score columns (one per compared party), each weighted into
    a total; `total_label` heads the row of computed totals (合计, 综合评价)
    and `grade` the row of 级别. Computed values are stored with the record
    under `<key>_computed` (scoring.computed)."""
    key: str
    label: str
    label_en: str
    columns: tuple[Field, ...]
    start_rows: int = 3
    required: bool = False
    rows: tuple[Row, ...] = ()
    label_column: str | None = None
    add_rows: bool = True
    weights: str | None = None
    scores: tuple[str, ...] = ()
    total_label: str | None = None
    grade: Grade | None = None
    drawing: Drawing | None = None
    # False when the paper prints no caption over the table (its label is
    # then the web form's only): 拜访中对客户的承诺 heads the first column.
    print_caption: bool = True

    def __post_init__(self):
        object.__setattr__(self, "columns", _tuple(self.columns))
        object.__setattr__(self, "rows", _tuple(self.rows))
        object.__setattr__(self, "scores", _tuple(self.scores))

    @property
    def computed_key(self) -> str | None:
        """The data key its computed values are stored under, or None."""
        return self.key + COMPUTED_SUFFIX if self.total_label else None

    def fixed(self, index: int) -> Row | None:
        """The preprinted row at this position, or None for an added row."""
        return self.rows[index] if 0 <= index < len(self.rows) else None

    def column(self, key: str) -> Field:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)


@dataclass(frozen=True)
class Section:
    """A block of the sheet, printed under its title ('' for none)."""
    title: str
    title_en: str
    items: tuple[Field | Table, ...]

    def __post_init__(self):
        object.__setattr__(self, "items", _tuple(self.items))


@dataclass(frozen=True)
class Slot:
    """One sign-off step; `signer` says who signs (see parse_signer)."""
    key: str
    label: str
    label_en: str
    signer: str
    comment_required: bool = False
    comment_label: str | None = None


@dataclass(frozen=True)
class FormSpec:
    """One paper sheet. `order` places it in lists (the toolkit's order)."""
    key: str
    title: str
    title_en: str
    prefix: str
    group: str
    stages: tuple[str, ...]
    version: int
    author_label: str
    sections: tuple[Section, ...]
    slots: tuple[Slot, ...]
    note: str | None = None
    followup: bool = False  # submitting it is a follow-up of the project (paper-forms-toolkit.md 3.13)
    followup_date: str = "date"  # the date field that dates the follow-up (联系日期 / 拜访日期)
    # On final approval, the fields prefilled from 'customer.<attr>' write
    # their changed values to the customer master (never a draft; a blank
    # field erases a stored value only when the user ticked its 清空 box).
    updates_customer: bool = False
    # The person master's sheets (联系人基本信息表, 关键决策人基本信息表): filed
    # for one person of the customer (Record.person_id, a new one when none
    # is named); they open with what is on file for him ('person.<attr>'
    # prefills) and at final approval the person takes their non-blank values
    # — a draft never changes him. marks_key_decision_maker: the approval
    # also marks him a 关键决策人.
    updates_person: bool = False
    marks_key_decision_maker: bool = False
    order: int = 100
    landscape: bool = False  # the paper sheet is a wide table: print on landscape A4
    # One person holds at most one slot of a round (the author cannot pick
    # the same engineer as 技术工程师 and 项目经理); True lets a sheet's
    # definition allow it. None of the department's sheets does.
    signers_may_repeat: bool = False
    # Roles a sheet may take (architecture.md: the engine names no sheet):
    # where it is filed: "project" (a sales project) or "customer" (a
    # customer-level sheet, opened from the customer page, taking nothing
    # from a project: 营销活动表, 异常客户信息表);
    filed_on: str = "project"
    # final approval lands it in the implementation team's worklist
    # (实施工作台), received by its last slot's signer (the handover's 项目经理);
    # the keys are the fields its worklist card shows (empty: not a worklist sheet);
    worklist: tuple[str, ...] = ()
    # other sheets of the same project read its values as `source` fields
    # '<provides>.<field key>' (the contract review provides 'contract');
    provides: str | None = None
    # the record-keeping block printed at its foot, RECORD_BLOCK items in the
    # paper's order (paper-forms-toolkit.md, Master data; Part 2 #1).
    record_block: tuple[str, ...] = ()
    # What the PDF prints beyond the fields, as the paper does (Part 2 #2,
    # #3, #6): the header line 编号/author/日期 (False: the paper prints none;
    # the system still numbers and dates the sheet), the title over the
    # sign-off block ('' for the system's 审批签核), and the author's line
    # (author_label … 日期) printed again at the foot after the signatures.
    paper_header: bool = True
    sign_title: str = ""
    author_at_foot: bool = False

    def __post_init__(self):
        for name in ("stages", "sections", "slots", "record_block", "worklist"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))

    def items(self) -> list[Field | Table]:
        return [item for section in self.sections for item in section.items]

    def fields(self) -> list[Field]:
        return [item for item in self.items() if isinstance(item, Field)]

    def tables(self) -> list[Table]:
        return [item for item in self.items() if isinstance(item, Table)]

    def field(self, key: str) -> Field:
        for item in self.fields():
            if item.key == key:
                return item
        raise KeyError(key)

    def table(self, key: str) -> Table:
        for item in self.tables():
            if item.key == key:
                return item
        raise KeyError(key)

    def names_people(self) -> bool:
        """True when a field or table column names a person of the customer
        (contact kind): its form offers the customer's people."""
        return any(f.kind == "contact" for item in self.items()
                   for f in (item.columns if isinstance(item, Table) else (item,)))

    def person_fields(self) -> list[Field]:
        """The fields whose approval updates the person master (none unless
        updates_person)."""
        if not self.updates_person:
            return []
        return [f for f in self.fields() if f.prefill and f.prefill.startswith(PREFILL_PERSON)]

    def private_fields(self) -> list[Field]:
        """Fields and table columns holding a person's private details."""
        return [f for item in self.items()
                for f in (item.columns if isinstance(item, Table) else (item,)) if f.private]

    def drawings(self) -> list[Table]:
        """The tables drawn as a diagram."""
        return [t for t in self.tables() if t.drawing is not None]

    def source_fields(self) -> list[Field]:
        return [f for f in self.fields() if f.source]

    def master_fields(self) -> list[Field]:
        """The fields whose approval updates the customer master (none unless
        updates_customer)."""
        if not self.updates_customer:
            return []
        return [f for f in self.fields() if f.prefill and f.prefill.startswith(PREFILL_CUSTOMER)]

    def holds_customer_master(self) -> bool:
        """True for the sheet that is the customer master's own record (its
        master fields include the company name, as 客户基本信息表's do):
        changes to the master are made by filing it."""
        return any(f.prefill == PREFILL_CUSTOMER + "name" for f in self.master_fields())

    def header_date(self) -> Field | None:
        """The sheet's header date: the first section's date field defaulting
        to today, or None when the paper has no typed header date."""
        if not self.sections:
            return None
        for item in self.sections[0].items:
            if isinstance(item, Field) and item.kind == "date" and item.default == "today":
                return item
        return None


def parse_signer(rule: str) -> tuple[str, object]:
    """Split a signer rule: ('team_manager', None), ('project_owner', None)
    — the project's account manager (客户经理), who signs even when he is the
    author —, ('role', 'gm'), ('chosen', 'implementation') or
    ('table', ('reviewers', 'name'))."""
    if rule in ("team_manager", "project_owner"):
        return rule, None
    if not isinstance(rule, str):
        raise ValueError(f"signer rule must be a string: {rule!r}")
    head, _, arg = rule.partition(":")
    if head in ("role", "chosen"):
        if arg not in ROLE_CODES:
            raise ValueError(f"unknown role in signer rule {rule!r}")
        return head, arg
    match = _TABLE_SIGNER.fullmatch(rule)
    if match:
        return "table", (match.group(1), match.group(2))
    raise ValueError(f"bad signer rule {rule!r}")


def check_spec(spec: FormSpec) -> None:
    """Refuse a definition that the engine could not serve faithfully."""
    def fail(message):
        raise ValueError(f"{getattr(spec, 'key', '?')}: {message}")

    if not isinstance(spec, FormSpec):
        raise ValueError("not a FormSpec")
    if not isinstance(spec.key, str) or not _KEY.fullmatch(spec.key):
        fail("key must be lower-case letters, digits and _ (at most 40)")
    if not isinstance(spec.prefix, str) or not _PREFIX.fullmatch(spec.prefix):
        fail("prefix must be 1-6 capital letters")
    for name in ("title", "title_en", "author_label"):
        if not isinstance(getattr(spec, name), str) or not getattr(spec, name).strip():
            fail(f"{name} is empty")
    if spec.group and spec.group not in GROUPS:
        fail(f"unknown toolkit group {spec.group!r}")
    if not isinstance(spec.stages, tuple) or any(s not in STAGE_BY_CODE for s in spec.stages):
        fail(f"unknown stage in {spec.stages!r}")
    if not isinstance(spec.version, int) or isinstance(spec.version, bool) or spec.version < 1:
        fail("version must be a positive integer")
    if spec.note is not None and not isinstance(spec.note, str):
        fail("note must be text")
    if not isinstance(spec.order, int):
        fail("order must be an integer")
    if not spec.sections or not all(isinstance(s, Section) for s in spec.sections):
        fail("sections must be a non-empty tuple of Section")

    keys = set()
    for section in spec.sections:
        if not isinstance(section.title, str):
            fail("section title must be text")
        if not section.items:
            fail(f"section {section.title!r} is empty")
        for item in section.items:
            if isinstance(item, Table):
                _check_table(item, fail)
            elif isinstance(item, Field):
                _check_field(item, fail, in_table=False)
            else:
                fail(f"section item {item!r} is neither Field nor Table")
            _claim(keys, item, fail)
            if isinstance(item, Table) and item.computed_key:
                _claim(keys, Field(item.computed_key, item.total_label, "", "text"), fail)
    for table in spec.tables():
        for col in table.columns:
            if col.party is not None and (col.party not in keys or not any(
                    f.key == col.party and f.kind in ("text", "contact") for f in spec.fields())):
                fail(f"table {table.key!r}: party {col.party!r} of {col.key!r} names no text field of the sheet")

    if not isinstance(spec.slots, tuple) or not all(isinstance(s, Slot) for s in spec.slots):
        fail("slots must be a tuple of Slot")
    slot_keys = set()
    for slot in spec.slots:
        if not isinstance(slot.key, str) or not _KEY.fullmatch(slot.key):
            fail(f"bad slot key {slot.key!r}")
        if slot.key in slot_keys:
            fail(f"duplicate slot key {slot.key!r}")
        slot_keys.add(slot.key)
        if not isinstance(slot.label, str) or not slot.label.strip():
            fail(f"slot {slot.key!r} has no label")
        try:
            how, arg = parse_signer(slot.signer)
        except ValueError as exc:
            fail(str(exc))
        if how == "table":
            table_key, column_key = arg
            try:
                column = spec.table(table_key).column(column_key)
            except KeyError:
                fail(f"slot {slot.key!r} names a missing table column {slot.signer!r}")
            if column.kind != "user":
                fail(f"slot {slot.key!r}: column {column_key!r} is not a user column")

    if spec.marks_key_decision_maker and not spec.updates_person:
        fail("marks_key_decision_maker needs updates_person")
    if spec.updates_person and spec.updates_customer:
        fail("a sheet updates the customer master or a person, not both")
    for item in spec.items():
        if not isinstance(item, Table):
            if item.prefill and item.prefill.startswith(PREFILL_PERSON) and not spec.updates_person:
                fail(f"field {item.key!r}: 'person.' prefills are for sheets with updates_person")
            _check_fills(item, lambda key: key in {f.key for f in spec.fields()}, fail)
        else:
            for col in item.columns:
                _check_fills(col, lambda key, t=item: key in {c.key for c in t.columns}, fail)
            if item.drawing is not None:
                _check_drawing(item, fail)
    if spec.filed_on not in FILED_ON:
        fail(f"filed_on must be one of {FILED_ON}")
    if spec.filed_on == "customer":
        if spec.followup or spec.worklist or spec.provides:
            fail("a customer-level sheet is no follow-up, worklist or source of a project")
        for item in spec.fields():
            if (item.source or item.prefill or "").startswith(PREFILL_PROJECT) or (
                    item.source and not item.source.startswith(PREFILL_CUSTOMER)):
                fail(f"field {item.key!r}: a customer-level sheet takes nothing from a project")
        if any(parse_signer(slot.signer)[0] == "project_owner" for slot in spec.slots):
            fail("a customer-level sheet has no project owner to sign")
    if spec.worklist:
        if not spec.slots:
            fail("a worklist sheet needs a sign-off slot: its last signer receives it")
        if not isinstance(spec.worklist, tuple) or not all(
                any(f.key == key for f in spec.fields()) for key in spec.worklist):
            fail("worklist names the sheet's fields its worklist card shows")
    if spec.provides is not None and (not isinstance(spec.provides, str) or not _KEY.fullmatch(spec.provides)
                                      or spec.provides in ("customer", "project")):
        fail("provides must be a lower-case name other than customer and project")
    if not isinstance(spec.record_block, tuple) or any(i not in RECORD_BLOCK for i in spec.record_block) \
            or len(set(spec.record_block)) != len(spec.record_block):
        fail(f"record_block items must be distinct items of {tuple(RECORD_BLOCK)}")
    if "collected" in spec.record_block:
        try:
            collector = spec.field(COLLECTOR_FIELD)
        except KeyError:
            fail(f"record_block prints 信息采集人: a user field {COLLECTOR_FIELD!r} is needed")
        if collector.kind != "user":
            fail(f"field {COLLECTOR_FIELD!r} must be a user field")

    if spec.followup:
        try:
            dated_by = spec.field(spec.followup_date)
        except KeyError:
            fail(f"followup_date {spec.followup_date!r} names no field")
        if dated_by.kind != "date":
            fail(f"followup_date {spec.followup_date!r} is not a date field")
        if not spec.slots:
            fail("a follow-up sheet needs a sign-off slot: only a submitted sheet counts as a follow-up")


def _check_fills(field: Field, exists, fail) -> None:
    for pair in field.fills:
        if field.kind != "contact":
            fail(f"field {field.key!r}: only a contact field fills others")
        if not (isinstance(pair, tuple) and len(pair) == 2 and exists(pair[0]) and pair[1] in PERSON_ATTRS):
            fail(f"field {field.key!r}: fills takes (sibling key, one of {PERSON_ATTRS}) pairs")


def _check_drawing(table: Table, fail) -> None:
    drawing = table.drawing
    if not isinstance(drawing, Drawing) or drawing.kind not in DRAWINGS:
        fail(f"table {table.key!r}: drawing must be a Drawing of kind {DRAWINGS}")
    keys = {c.key for c in table.columns}
    for name in drawing.columns():
        if name not in keys:
            fail(f"table {table.key!r}: drawing names a missing column {name!r}")
    if drawing.kind == "tree" and not drawing.parent:
        fail(f"table {table.key!r}: a tree needs its parent column")
    if drawing.kind == "bars" and (not drawing.length or table.column(drawing.length).kind != "percent"):
        fail(f"table {table.key!r}: bars need a percent length column")
    for name in (drawing.tier, drawing.line):
        if name and table.column(name).kind != "choice":
            fail(f"table {table.key!r}: the drawing's {name!r} must be a choice column")
    if drawing.colour:
        column = table.column(drawing.colour)
        scale = drawing.scale or column.choices
        if not scale or len(drawing.palette) != len(scale):
            fail(f"table {table.key!r}: the drawing needs one palette colour per value of {drawing.colour!r}")
        if not all(isinstance(c, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", c) for c in drawing.palette):
            fail(f"table {table.key!r}: palette colours are #rrggbb")
    if drawing.tier and set(drawing.tiers) != set(table.column(drawing.tier).choices):
        fail(f"table {table.key!r}: tiers must list the tier column's choices, top first")


def _claim(keys: set, item, fail) -> None:
    """Record a top-level key, refusing clashes (including a checks note)."""
    names = [item.key]
    if isinstance(item, Field) and item.takes_note:
        names.append(item.key + OTHER_SUFFIX)
    for name in names:
        if name in keys:
            fail(f"duplicate key {name!r}")
        keys.add(name)


def _check_key(key, fail) -> None:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        fail(f"bad key {key!r}: lower-case letters, digits and _ (at most 40)")
    if key in _RESERVED or key.startswith(("filter_", "validate_")):
        fail(f"key {key!r} is reserved by the form library")


def _check_table(table: Table, fail) -> None:
    _check_key(table.key, fail)
    if not isinstance(table.label, str) or not table.label.strip():
        fail(f"table {table.key!r} has no label")
    if not isinstance(table.start_rows, int) or table.start_rows < 0:
        fail(f"table {table.key!r}: start_rows must be >= 0")
    if not table.columns:
        fail(f"table {table.key!r} has no columns")
    seen = set()
    for col in table.columns:
        if not isinstance(col, Field):
            fail(f"table {table.key!r}: columns must be Field")
        _check_field(col, fail, in_table=True)
        _claim(seen, col, fail)
    _check_scoring(table, fail)


def _check_scoring(table: Table, fail) -> None:
    """The preprinted rows, 权重 column, score columns and computed rows of a table."""
    where = f"table {table.key!r}"
    kinds = {col.key: col.kind for col in table.columns}
    if not isinstance(table.rows, tuple) or not all(isinstance(r, Row) for r in table.rows):
        fail(f"{where}: rows must be a tuple of Row")
    row_keys = [r.key for r in table.rows]
    if len(set(row_keys)) != len(row_keys):
        fail(f"{where}: duplicate row keys")
    for row in table.rows:
        _check_key(row.key, fail)
        if not isinstance(row.label, str) or not row.label.strip() or not isinstance(row.group, str):
            fail(f"{where}: row {row.key!r} needs a label")
    if table.rows:
        if kinds.get(table.label_column) != "text":
            fail(f"{where}: preprinted rows need label_column, a text column for their labels")
        if table.required:
            fail(f"{where}: a table with preprinted rows is never empty; required makes no sense")
    elif table.label_column is not None or not table.add_rows:
        fail(f"{where}: label_column and add_rows=False are for preprinted rows")
    if table.weights is not None and kinds.get(table.weights) != "percent":
        fail(f"{where}: weights must name a percent column")
    if not isinstance(table.scores, tuple) or any(kinds.get(k) != "score" for k in table.scores):
        fail(f"{where}: scores must name score columns")
    if table.scores and table.weights is None:
        fail(f"{where}: scores are weighted by a weights column")
    if table.total_label is not None and table.weights is None:
        fail(f"{where}: total_label needs a weights column")
    if table.total_label is not None and (not isinstance(table.total_label, str) or not table.total_label.strip()):
        fail(f"{where}: total_label must be text")
    if table.grade is not None:
        if not isinstance(table.grade, Grade) or not table.scores or table.total_label is None:
            fail(f"{where}: grade needs score columns and a total row")
        if not isinstance(table.grade.setting, str) or not _KEY.fullmatch(table.grade.setting):
            fail(f"{where}: grade setting must be a lower-case name")


def _check_field(field: Field, fail, *, in_table: bool) -> None:
    _check_key(field.key, fail)
    where = f"field {field.key!r}"
    if field.kind not in KINDS:
        fail(f"{where}: unknown kind {field.kind!r}")
    if not isinstance(field.label, str) or not field.label.strip():
        fail(f"{where} has no label")
    if field.kind in ("choice", "checks"):
        if not field.choices:
            fail(f"{where}: {field.kind} needs choices")
        if not all(isinstance(c, str) and c.strip() for c in field.choices):
            fail(f"{where}: choices must be non-empty text")
        if len(set(field.choices)) != len(field.choices):
            fail(f"{where}: duplicate choices")
    elif field.choices:
        fail(f"{where}: only choice and checks take choices")
    if field.role is not None and (field.kind != "user" or field.role not in ROLE_CODES):
        fail(f"{where}: role must be a known role code on a user field")
    if field.scale is not None:
        if field.kind != "score":
            fail(f"{where}: scale is for score fields")
        if (not isinstance(field.scale, tuple) or len(field.scale) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in field.scale)
                or not 0 <= field.scale[0] < field.scale[1] <= 100):
            fail(f"{where}: scale must be (lowest, highest) integers within 0-100")
    if field.party is not None and (field.kind != "score" or not in_table):
        fail(f"{where}: party is for score columns")
    if not isinstance(field.private, bool):
        fail(f"{where}: private is True or False")
    if field.print_label is not None and (in_table or not isinstance(field.print_label, str)
                                          or not field.print_label.strip()):
        fail(f"{where}: print_label is a non-empty text, for fields outside tables")
    if field.write_in and (field.kind != "choice" or in_table):
        fail(f"{where}: write_in is for choice fields outside tables")
    if field.print_as not in (None, "unbroken", "narrow", "wide"):
        fail(f"{where}: print_as must be 'unbroken', 'narrow' or 'wide'")
    if field.source is not None:
        if in_table:
            fail(f"{where}: table cells cannot come from a source")
        if field.source not in SOURCES and (not _SHEET_SOURCE.fullmatch(field.source) or field.source.startswith(
                (PREFILL_CUSTOMER, PREFILL_PROJECT))):
            fail(f"{where}: unknown source {field.source!r}")
        if field.kind != "text" or field.required or field.default is not None:
            fail(f"{where}: a source field is plain text, not required, no default")
    if field.prefill is not None:
        if field.source is not None:
            fail(f"{where}: prefill is for plain fields (not source fields)")
        if in_table and (field.prefill not in SOURCES or field.kind != "text"):
            fail(f"{where}: a table cell's prefill is one of {SOURCES}, on a text column"
                 " (filled at save in every filled row where left blank)")
        if not isinstance(field.prefill, str) or not _PREFILL.fullmatch(field.prefill):
            fail(f"{where}: prefill must be 'customer.<attr>', 'project.<attr>' or 'person.<attr>'")
        if field.kind in ("files", "checks", "user"):
            fail(f"{where}: {field.kind} fields take no prefill")
    if field.prefill_map:
        if field.prefill is None:
            fail(f"{where}: prefill_map without prefill")
        if not all(isinstance(p, tuple) and len(p) == 2 for p in field.prefill_map):
            fail(f"{where}: prefill_map must be (stored, shown) pairs")
        if field.kind == "choice" and any(shown not in field.choices for _, shown in field.prefill_map):
            fail(f"{where}: prefill_map names a value that is not one of the choices")
    if field.default is not None:
        if in_table:
            fail(f"{where}: table cells take no default (blank rows must stay blank)")
        if field.default == "today":
            if field.kind != "date":
                fail(f"{where}: default 'today' is for date fields")
        elif field.kind == "choice":
            if field.default not in field.choices:
                fail(f"{where}: default is not one of the choices")
        elif field.kind not in ("text", "textarea") or not isinstance(field.default, str):
            fail(f"{where}: unsupported default {field.default!r}")
