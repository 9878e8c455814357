"""From a FormSpec to a bound Flask-WTF form, and from the validated form to
the JSON stored on the record. Input names follow WTForms: a field is named by
its key, a table cell `<table>-<row>-<column>` (e.g. `calls-0-time`)."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.fields import FieldList, FormField
from wtforms.utils import unset_value

from . import kinds, scoring
from .spec import OTHER_SUFFIX, Field, FormSpec, Table

NEED_A_ROW = "请至少填写一行"
_CELL = re.compile(r"([a-z][a-z0-9_]*)-([0-9]{1,9})-([a-z][a-z0-9_]*)")


class SheetForm(FlaskForm):
    """Base of every built sheet form; `sheet_spec` and `is_draft` are set per build."""
    sheet_spec: FormSpec | None = None
    is_draft = False


class RowList(FieldList):
    """A repeating table. Rows are the submitted indices (no maximum) when a
    form was submitted, else the stored rows; with none, `start_rows` blank
    rows. Blank rows are neither validated nor stored."""

    def __init__(self, unbound_field, label=None, validators=None, *, table: Table,
                 draft=False, min_rows=0, **kwargs):
        super().__init__(unbound_field, label if label is not None else table.label,
                         validators, **kwargs)
        self.table = table
        self.draft = draft
        self.min_rows = min_rows
        self.table_errors: list[str] = []

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.last_index = -1
        self.entries = []
        rows = data if isinstance(data, list) else []
        self.object_data = rows
        if formdata is not None:
            for index in sorted(set(self._submitted_indices(formdata))):
                self._add_entry(formdata, index=index)
            self._compact_indices()
        else:
            for row in rows:
                self._add_entry(None, self._known_columns(row))
        if not self.table.add_rows:
            del self.entries[len(self.table.rows):]
            self.last_index = len(self.entries) - 1
        wanted = max(self.min_rows, len(self.table.rows) or (self.table.start_rows if not self.entries else 0))
        if not self.table.add_rows:
            wanted = len(self.table.rows)
        while len(self.entries) < wanted:
            self._add_entry(formdata)
        self._label_fixed_rows()

    def _label_fixed_rows(self):
        """Preprinted rows carry the paper's label whatever was posted; a
        typed one (其它) starts with it and keeps what the user wrote."""
        for row, entry in zip(self.table.rows, self.entries, strict=False):
            cell = entry.form[self.table.label_column]
            if row.typed and (cell.process_errors or not kinds.is_empty(cell.data)):
                continue
            cell.data, cell.raw_data, cell.process_errors = row.label, None, []

    def is_fixed(self, entry) -> bool:
        """True for a row the paper preprints (kept even when its cells are blank)."""
        return any(entry is fixed for fixed in self.entries[:len(self.table.rows)])

    def _compact_indices(self):
        """Renumbers rows 0, 1, 2 … so a form re-rendered after gaps (a row
        removed in the browser) has the names its error keys use."""
        for position, entry in enumerate(self.entries):
            old = entry.name + "-"
            new = f"{self.name}-{position}"
            entry.name = entry.id = new
            for cell in entry.form:
                cell.name = cell.id = new + "-" + cell.name[len(old):]
        self.last_index = len(self.entries) - 1

    def _submitted_indices(self, formdata):
        for name in formdata:
            match = _CELL.fullmatch(name) if isinstance(name, str) else None
            if match and match.group(1) == self.name:
                yield int(match.group(2))

    def _known_columns(self, row) -> dict:
        if not isinstance(row, dict):
            return {}
        return {col.key: row[col.key] for col in self.table.columns if col.key in row}

    def row_is_blank(self, entry) -> bool:
        """Nothing typed in the row (a preprinted row's label does not count)."""
        return all(cell.is_blank for cell in entry.form
                   if not (cell.short_name == self.table.label_column and self.is_fixed(entry)))

    def filled_rows(self) -> list:
        """The rows to store: every preprinted row, and the others not blank."""
        return [entry for entry in self.entries if self.is_fixed(entry) or not self.row_is_blank(entry)]

    def validate(self, form, extra_validators=()):
        self.table_errors = []
        self.column_errors: dict[str, list[str]] = {}
        for entry in self.entries:
            if self.row_is_blank(entry):
                for cell in entry.form:
                    cell.errors = []
            else:
                entry.validate(form)
        if self.table.required and not self.draft and not self.filled_rows():
            self.table_errors.append(NEED_A_ROW)
        if self.table.weights and not self.draft:
            cells = [entry.form[self.table.weights] for entry in self.filled_rows()]
            if cells and not any(cell.errors for cell in cells):  # no row: only 请至少填写一行
                total = scoring.weight_sum(self.table, [{self.table.weights: cell.data} for cell in cells])
                if total != scoring.FULL:
                    self.column_errors[self.table.weights] = [scoring.weights_message(total)]
        self.errors = ([entry.errors for entry in self.entries if entry.errors] + self.table_errors
                       + [m for messages in self.column_errors.values() for m in messages])
        return not self.errors

    def stored_rows(self) -> list[dict]:
        """The rows as they would be stored (see form_data), also for an
        unvalidated form: the page's totals read what was typed and clean."""
        return [{col.key: entry.form[col.key].data for col in self.table.columns} for entry in self.filled_rows()]

    def computed(self, grade_thresholds=None) -> dict:
        """This table's computed values (scoring.computed) for the rows as typed."""
        if not self.table.computed_key:
            return {}
        return scoring.table_values(self.table, self.stored_rows(), grade_thresholds)


def _row_form(table: Table, draft: bool, users, people=()) -> type[Form]:
    attrs = {col.key: kinds.make_field(col, draft=draft, users=users, people=people) for col in table.columns}
    return type(f"{table.key.title().replace('_', '')}Row", (Form,), attrs)


def _as_multidict(formdata):
    if formdata is None or hasattr(formdata, "getlist"):
        return formdata
    return MultiDict(formdata)


def build_form(spec: FormSpec, formdata=None, data=None, *, users=(), draft=False,
               row_counts=None, request_form=True, people=()) -> SheetForm:
    """A bound form for the sheet. `formdata` is the submitted MultiDict (or a
    dict) or None; `data` the stored JSON (None for a new sheet, which gets the
    fields' defaults); `users` (id, name, role) tuples offered by user inputs;
    `draft` skips required checks; `row_counts` {table_key: n} shows at least
    n rows (for "add a row"); `people` (id, name, title) of the filing
    project's customer's people, whom contact inputs link a typed name to;
    `request_form=False` builds a form that checks
    data already on the server (a stored sheet), so it asks for no CSRF token:
    request tokens belong to requests, not to what was saved."""
    formdata = _as_multidict(formdata)
    stored = data if isinstance(data, dict) else {}
    row_counts = row_counts or {}
    attrs = {"sheet_spec": spec, "is_draft": draft}
    initial = {}
    for item in spec.items():
        if isinstance(item, Table):
            row = FormField(_row_form(item, draft, users, people))
            attrs[item.key] = RowList(row, table=item, draft=draft,
                                      min_rows=_int(row_counts.get(item.key)))
            initial[item.key] = stored.get(item.key)
        elif not item.source:
            attrs[item.key] = kinds.make_field(item, draft=draft, users=users, people=people)
            initial[item.key] = stored[item.key] if item.key in stored else kinds.default_value(item)
    form_class = type(f"{spec.key.title().replace('_', '')}Form", (SheetForm,), attrs)
    meta = None if request_form else {"csrf": False}
    return form_class(formdata=formdata, data=initial, meta=meta)


def _int(value) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def form_data(spec: FormSpec, form: SheetForm, grade_thresholds=None) -> dict:
    """The JSON to store: every typed field and table, source fields excluded
    (fill_sources adds them), blank table rows dropped (a preprinted row is
    kept), and each scoring table's computed values (scoring.computed, its
    级别 from `grade_thresholds`, the setting GRADE_THRESHOLDS)."""
    out = {}
    for item in spec.items():
        if isinstance(item, Table):
            out[item.key] = form[item.key].stored_rows()
        elif not item.source:
            out[item.key] = form[item.key].data
    out.update(scoring.computed(spec, out, grade_thresholds))
    return out


def errors(form: SheetForm) -> dict[str, list[str]]:
    """{input name: [messages]}; a table's own messages (no rows) under its key."""
    out = {}
    for field in form:
        if isinstance(field, RowList):
            if field.table_errors:
                out[field.name] = list(field.table_errors)
            for column, messages in getattr(field, "column_errors", {}).items():
                out[f"{field.name}-{column}"] = list(messages)
            for entry in field.entries:
                for cell in entry.form:
                    if cell.errors:
                        out[cell.name] = list(cell.errors)
        elif field.errors:
            out[field.name] = list(field.errors)
    return out


def fill_sources(spec: FormSpec, data: dict, context: dict) -> dict:
    """A copy of `data` with the source fields set from `context`, keyed by
    the source strings ('project.name': '...'); missing sources become None.
    A table column prefilled from a source ('customer.name') takes its value
    in each filled row where it was left blank."""
    out = dict(data or {})
    for field in spec.source_fields():
        value = (context or {}).get(field.source)
        out[field.key] = None if value is None else str(value)
    for table in spec.tables():
        prefilled = [col for col in table.columns if col.prefill]
        if not prefilled or not isinstance(out.get(table.key), list):
            continue
        rows = []
        for row in out[table.key]:
            row = dict(row) if isinstance(row, dict) else row
            for col in prefilled:  # a filled row's blank cell takes the project's value (电话记录表's 客户名称)
                value = (context or {}).get(col.prefill)
                if isinstance(row, dict) and kinds.is_empty(row.get(col.key)) and value is not None:
                    row[col.key] = str(value)
            rows.append(row)
        out[table.key] = rows
    return out


def validate_field(spec: FormSpec, name: str, value, draft=False, *, users=None) -> list[str]:
    """Messages for one input, for inline validation while typing. `value` is
    a string or list of strings. Table cells are checked for format only (the
    row may still be blank); a user input is checked against `users`
    ((id, name, role) tuples) when given. Unknown names raise KeyError."""
    field, in_table, is_note = _resolve(spec, name)
    values = value if isinstance(value, (list, tuple)) else [value]
    if is_note:
        _, messages = kinds.clean(field, [], note=values)
        return messages
    allowed = None
    if field.kind == "user" and users is not None:
        allowed = {uid for uid, _ in kinds.user_choices(field, users)}
    stored, messages = kinds.clean(field, values, users=allowed)
    if messages:
        return messages
    if field.required and not draft and not in_table and kinds.is_empty(stored):
        return [kinds.REQUIRED]
    return []


def _resolve(spec: FormSpec, name: str) -> tuple[Field, bool, bool]:
    """(spec Field, is a table cell, is a 其他 note) for an input name."""
    if not isinstance(name, str):
        raise KeyError(name)
    if name.endswith(OTHER_SUFFIX):
        found = _lookup(spec, name[: -len(OTHER_SUFFIX)])
        if found is not None and found[0].takes_note:
            return found[0], found[1], True
    found = _lookup(spec, name)
    if found is None:
        raise KeyError(name)
    return found[0], found[1], False


def _lookup(spec: FormSpec, name: str) -> tuple[Field, bool] | None:
    match = _CELL.fullmatch(name)
    if match:
        try:
            return spec.table(match.group(1)).column(match.group(3)), True
        except KeyError:
            return None
    try:
        field = spec.field(name)
    except KeyError:
        return None
    return (None if field.source else (field, False))


UNIT_CONFIRM_PREFIX = "unit_ok:"


def confirm_implausible_amounts(spec: FormSpec, form: SheetForm, limit, formdata, stored=None) -> bool:
    """Asks for a second look at amounts too large to be meant in 万元 (a rep
    typing 2685000 meaning yuan; issue 10 finding 8). Every money input of
    the form — fields and table cells — whose value exceeds `limit` (万元, a
    Decimal) is marked `unit_confirm = 'ask'` with a message next to it,
    unless the POST carries its checkbox `unit_ok:<input name>` (then
    'confirmed', so a form shown again for another reason keeps it ticked)
    or the amount is already stored on the record (`stored`, its data: it
    was confirmed when first saved). Returns whether every such amount was
    confirmed."""
    from decimal import Decimal, InvalidOperation
    ok = True
    kept = _stored_amounts(spec, stored or {})
    for key, cell in _money_inputs(spec, form):
        if cell.data is not None and (key, cell.data) in kept:
            continue
        try:
            amount = Decimal(str(cell.data)) if cell.data is not None else None
        except InvalidOperation:
            amount = None
        if amount is None or amount <= limit:
            continue
        if formdata.get(UNIT_CONFIRM_PREFIX + cell.name):
            cell.unit_confirm = "confirmed"
            continue
        cell.unit_confirm = "ask"
        cell.errors = list(cell.errors) + [implausible_amount_message(amount)]
        ok = False
    return ok


def implausible_amount_message(amount) -> str:
    """The message next to an amount (万元) that needs its unit confirmed."""
    from decimal import Decimal
    yi = Decimal(amount) / Decimal(10000)
    return (f"{amount:,.2f} 万元即 {yi:,.2f} 亿元，超出常见金额。本栏单位是万元（268.5 万元请填 268.5）；"
            "如金额无误，请勾选下方的确认后再保存。")


def _money_inputs(spec: FormSpec, form: SheetForm):
    for item in spec.items():
        if isinstance(item, Table):
            for entry in form[item.key].entries:
                for col in item.columns:
                    if col.kind == "money":
                        yield f"{item.key}.{col.key}", entry.form[col.key]
        elif item.kind == "money" and item.key in form:
            yield item.key, form[item.key]


def _stored_amounts(spec: FormSpec, data: dict) -> set[tuple[str, str]]:
    """(field key or table.column, stored amount) of every money value in `data`."""
    out = set()
    for item in spec.items():
        if isinstance(item, Table):
            for row in data.get(item.key) or []:
                for col in item.columns:
                    if col.kind == "money" and isinstance(row, dict) and row.get(col.key) is not None:
                        out.add((f"{item.key}.{col.key}", str(row[col.key])))
        elif item.kind == "money" and data.get(item.key) is not None:
            out.add((item.key, str(data[item.key])))
    return out
