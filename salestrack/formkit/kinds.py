"""Field kinds. Each kind says, in one class, how it is typed (its WTForms
input), how submitted text is cleaned into JSON-safe storage, and how a stored
value reads as text. Cleaning never raises on bad input: it raises Invalid,
which the form turns into a message next to the input.

Stored values (None when empty, for every kind):
  text, textarea  str            date      'YYYY-MM-DD'
  datetime        'YYYY-MM-DDTHH:MM' (local wall time)
  time            'HH:MM'        int       int
  money           '1234.50' (万元, exactly two decimals)
  percent         int, or float with at most two decimals, 0..100
  score           int, or float with at most two decimals, within the field's scale
  choice          one of the choices
  checks          {'values': [choices in choice order], 'other': note}
  user            int user id    files     [attachment ids]
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

from wtforms import widgets
from wtforms.fields import Field as WTField
from wtforms.fields.choices import SelectFieldBase
from wtforms.utils import unset_value
from wtforms.validators import StopValidation

from ..pdf_env import missing_glyph_message, missing_glyphs
from .spec import OTHER, OTHER_SUFFIX, Field

REQUIRED = "此项为必填项"
TEXT_LIMIT = 500
TEXTAREA_LIMIT = 10000
NOTE_LIMIT = 200
MONEY_MAX = Decimal("1e10")
INT_MAX = 2**31 - 1


class Invalid(ValueError):
    """A submitted value that cannot be stored; the message is for the user."""


def _strings(values) -> list[str]:
    """Submitted values as text; anything else (an uploaded file) is ignored."""
    if values is None:
        return []
    if not isinstance(values, (list, tuple)):
        values = [values]
    out = []
    for value in values:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            out.append(str(value))
    return out


def _first(values) -> str:
    texts = _strings(values)
    return texts[0] if texts else ""


_FULLWIDTH = {0xFF01 + i: 0x21 + i for i in range(94)} | {0x3000: 0x20}


def _number_text(text: str) -> str:
    """Full-width digits and punctuation (Chinese input methods) as ASCII."""
    return text.translate(_FULLWIDTH).strip()


def _bad_char(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t"


def clean_text(raw: str, *, multiline: bool, limit: int) -> str | None:
    """Trimmed text, line breaks normalised; control characters refused, and
    characters no font of the printed sheets can draw (they would be sealed as
    empty boxes, see pdf_env.FONT_FAMILIES)."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    text = text.strip()
    if any(_bad_char(ch) for ch in text):
        raise Invalid("含有无法保存的控制字符")
    if len(text) > limit:
        raise Invalid(f"内容过长，最多 {limit} 字")
    missing = missing_glyphs(text)
    if missing:
        raise Invalid(missing_glyph_message(missing))
    return text or None


_DATE = r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
_TIME = r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
_DATE_RE = re.compile(_DATE, re.ASCII)
_TIME_RE = re.compile(_TIME, re.ASCII)
_DATETIME_RE = re.compile(_DATE + r"\s*[T ]\s*" + _TIME, re.ASCII)
_INT_RE = re.compile(r"[+-]?\d+", re.ASCII)
_DECIMAL_RE = re.compile(r"(-?)(\d*)(?:\.(\d*))?", re.ASCII)
_ID_RE = re.compile(r"\d{1,18}", re.ASCII)


def _make_date(y: str, m: str, d: str, message: str) -> date:
    try:
        value = date(int(y), int(m), int(d))
    except ValueError:
        raise Invalid(message) from None
    if not 1900 <= value.year <= 2100:
        raise Invalid(message)
    return value


def _make_time(h: str, mi: str, s: str | None, message: str) -> str:
    if int(h) > 23 or int(mi) > 59 or (s is not None and int(s) > 59):
        raise Invalid(message)
    return f"{int(h):02d}:{int(mi):02d}"


def _parse_decimal(text: str, *, not_number: str, negative: str, too_precise: str) -> Decimal | None:
    """A non-negative decimal with at most two significant decimals."""
    match = _DECIMAL_RE.fullmatch(text)
    if not match or not (match.group(2) or match.group(3)):
        raise Invalid(not_number)
    sign, whole, frac = match.group(1), match.group(2) or "0", match.group(3) or ""
    if sign:
        raise Invalid(negative)
    if len(frac.rstrip("0")) > 2:
        raise Invalid(too_precise)
    try:
        return Decimal(f"{whole}.{frac or '0'}")
    except InvalidOperation:
        raise Invalid(not_number) from None


class Kind:
    """Base kind: plain single-line text."""
    name = "text"
    limit = TEXT_LIMIT
    multiline = False

    def clean(self, field: Field, values, *, note=None, users=None):
        """Submitted values (a list of strings) → stored value; raises Invalid."""
        return clean_text(_first(values), multiline=self.multiline, limit=self.limit)

    def to_input(self, value) -> str:
        """A stored value as the text an input shows when editing."""
        return "" if value is None else str(value)

    def display(self, field: Field, value, *, user_names=None, file_names=None) -> str:
        """A stored value as the reader sees it on the view and the PDF."""
        return "" if value is None else str(value)

    def selected(self, value) -> list[str]:
        """Stored value as the option values it selects (choice-like kinds)."""
        return [] if value is None else [str(value)]

    def widget(self, field: Field):
        return widgets.TextInput()


class TextareaKind(Kind):
    name = "textarea"
    limit = TEXTAREA_LIMIT
    multiline = True

    def widget(self, field):
        return widgets.TextArea()


class DateKind(Kind):
    name = "date"
    message = "请输入有效的日期"

    def clean(self, field, values, *, note=None, users=None):
        text = _number_text(_first(values))
        if not text:
            return None
        match = _DATE_RE.fullmatch(text)
        if not match:
            raise Invalid(self.message)
        return _make_date(*match.groups(), self.message).isoformat()

    def widget(self, field):
        return widgets.DateInput()


class DateTimeKind(Kind):
    name = "datetime"
    message = "请输入有效的日期和时间"

    def clean(self, field, values, *, note=None, users=None):
        text = _number_text(_first(values))
        if not text:
            return None
        match = _DATETIME_RE.fullmatch(text)
        if not match:
            raise Invalid(self.message)
        y, m, d, h, mi, s = match.groups()
        day = _make_date(y, m, d, self.message)
        return f"{day.isoformat()}T{_make_time(h, mi, s, self.message)}"

    def display(self, field, value, **names):
        return value.replace("T", " ") if isinstance(value, str) else super().display(field, value)

    def widget(self, field):
        return widgets.DateTimeLocalInput()


class TimeKind(Kind):
    name = "time"
    message = "请输入有效的时间（时:分）"

    def clean(self, field, values, *, note=None, users=None):
        text = _number_text(_first(values))
        if not text:
            return None
        match = _TIME_RE.fullmatch(text)
        if not match:
            raise Invalid(self.message)
        return _make_time(*match.groups(), self.message)

    def widget(self, field):
        return widgets.TimeInput()


class IntKind(Kind):
    name = "int"

    def clean(self, field, values, *, note=None, users=None):
        text = _number_text(_first(values))
        if not text:
            return None
        if not _INT_RE.fullmatch(text):
            raise Invalid("请输入整数")
        digits = text.lstrip("+-").lstrip("0") or "0"  # int() refuses strings of over 4,300 digits
        if len(digits) > len(str(INT_MAX)):
            raise Invalid("数值超出范围")
        number = -int(digits) if text.startswith("-") else int(digits)
        if abs(number) > INT_MAX:
            raise Invalid("数值超出范围")
        return number

    def widget(self, field):
        return widgets.TextInput()


class MoneyKind(Kind):
    name = "money"

    def clean(self, field, values, *, note=None, users=None):
        text = _number_text(_first(values)).replace(",", "").replace(" ", "")
        text = text.removesuffix("万元").removesuffix("万")
        if not text:
            return None
        amount = _parse_decimal(text, not_number="请输入有效的金额", negative="金额不能为负数",
                                too_precise="金额最多两位小数")
        if amount > MONEY_MAX:
            raise Invalid("金额过大")
        return str(amount.quantize(Decimal("0.01")))

    def display(self, field, value, **names):
        if value is None:
            return ""
        try:
            return f"{Decimal(str(value)):,.2f} {field.unit}"
        except (InvalidOperation, ValueError):
            return str(value)

    def widget(self, field):
        return widgets.TextInput()


class PercentKind(Kind):
    name = "percent"

    def clean(self, field, values, *, note=None, users=None):
        text = _number_text(_first(values)).removesuffix("%").strip()
        if not text:
            return None
        number = _parse_decimal(text, not_number="请输入有效的百分比", negative="百分比应在 0 到 100 之间",
                                too_precise="百分比最多两位小数")
        if number > 100:
            raise Invalid("百分比应在 0 到 100 之间")
        return int(number) if number == number.to_integral_value() else float(number)

    def display(self, field, value, **names):
        return "" if value is None else f"{value}%"

    def widget(self, field):
        return widgets.TextInput()


class ScoreInput(widgets.TextInput):
    """A text input for a score that says its scale (1–5) where a phone
    hides the column heads, and brings up the decimal keypad."""

    def __call__(self, field, **kwargs):
        low, high = getattr(field, "spec_field", None) and field.spec_field.scale or (0, 100)
        kwargs.setdefault("placeholder", f"{low}–{high}")
        kwargs.setdefault("inputmode", "decimal")
        return super().__call__(field, **kwargs)


class ScoreKind(Kind):
    """A score given to one party for one criterion: a number with at most
    two decimals within the field's scale (default 0-100)."""
    name = "score"

    def clean(self, field, values, *, note=None, users=None):
        text = _number_text(_first(values))
        if not text:
            return None
        low, high = field.scale or (0, 100)
        out_of_range = f"评分应在 {low} 到 {high} 之间"
        number = _parse_decimal(text, not_number="请输入有效的评分", negative=out_of_range,
                                too_precise="评分最多两位小数")
        if not low <= number <= high:
            raise Invalid(out_of_range)
        return int(number) if number == number.to_integral_value() else float(number)

    def widget(self, field):
        return ScoreInput()


class ChoiceKind(Kind):
    name = "choice"

    def clean(self, field, values, *, note=None, users=None):
        text = _first(values).strip()
        written = (clean_text(_first(note), multiline=False, limit=NOTE_LIMIT) or "") if field.write_in else ""
        if written and text:
            raise Invalid("请只选一项：从列表中选择，或在空白框中填写")
        if written:
            return written
        if not text:
            return None
        if text not in field.choices:
            raise Invalid("请从列表中选择")
        return text

    def widget(self, field):
        return widgets.Select()


class ChecksKind(Kind):
    name = "checks"

    def clean(self, field, values, *, note=None, users=None):
        picked = {v.strip() for v in _strings(values) if v.strip()}
        if any(v not in field.choices for v in picked):
            raise Invalid("请从列表中选择")
        other = ""
        if field.has_other:
            other = clean_text(_first(note), multiline=False, limit=NOTE_LIMIT) or ""
            if other:
                picked.add(OTHER)
        if not picked:
            return None
        return {"values": [c for c in field.choices if c in picked], "other": other}

    def selected(self, value) -> list[str]:
        if isinstance(value, dict) and isinstance(value.get("values"), list):
            return [str(v) for v in value["values"]]
        return []

    def display(self, field, value, **names):
        if value is None:
            return ""
        if not isinstance(value, dict):
            return str(value)
        note = checks_note(value)
        parts = [f"{OTHER}：{note}" if v == OTHER and note else v for v in self.selected(value)]
        return "、".join(parts)

    def widget(self, field):
        return widgets.ListWidget(prefix_label=False)


class UserKind(Kind):
    name = "user"

    def clean(self, field, values, *, note=None, users=None):
        text = _number_text(_first(values))
        if not text:
            return None
        if not _ID_RE.fullmatch(text) or int(text) == 0:
            raise Invalid("请从列表中选择人员")
        user_id = int(text)
        if users is not None and user_id not in users:
            raise Invalid("请从列表中选择人员")
        return user_id

    def display(self, field, value, *, user_names=None, file_names=None):
        if value is None:
            return ""
        return _lookup(user_names, value) or f"#{value}"

    def widget(self, field):
        return widgets.Select()


class ContactInput(widgets.TextInput):
    """A text input that offers the customer's people (the page's datalist
    PEOPLE_LIST) and takes any name typed."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("list", PEOPLE_LIST)
        kwargs.setdefault("autocomplete", "off")
        fills = getattr(getattr(field, "spec_field", None), "fills", ())
        if fills:  # what picking a person fills (static/js/app.js)
            kwargs.setdefault("data-fills", " ".join(f"{key}={attr}" for key, attr in fills))
        return super().__call__(field, **kwargs)


class ContactKind(Kind):
    """A person on the customer's side (paper-forms-toolkit.md `contact`):
    picked from the customer's people or typed while he is not recorded.
    Stored as {"person": id, "name": name} when the typed name is exactly one
    recorded person's of the filing project's customer, else as the typed
    text; printed as the name (the name as signed, also if the person is
    renamed later)."""
    name = "contact"
    limit = 80

    def clean(self, field, values, *, note=None, users=None, people=None):
        text = clean_text(_first(values), multiline=False, limit=self.limit)
        if not text:
            return None
        ids = [int(p[0]) for p in people or () if p[1] == text]
        return {"person": ids[0], "name": text} if len(ids) == 1 else text

    def to_input(self, value) -> str:
        return str(value.get("name") or "") if isinstance(value, dict) else super().to_input(value)

    def display(self, field, value, **names):
        return self.to_input(value)

    def widget(self, field):
        return ContactInput()


class FilesKind(Kind):
    name = "files"

    def clean(self, field, values, *, note=None, users=None):
        ids = []
        for text in _strings(values):
            for part in _number_text(text).split(","):
                part = part.strip()
                if not part:
                    continue
                if not _ID_RE.fullmatch(part) or int(part) == 0:
                    raise Invalid("附件编号无效")
                if int(part) not in ids:
                    ids.append(int(part))
        return ids or None

    def to_input(self, value) -> str:
        if isinstance(value, list):
            return ",".join(str(v) for v in value)
        return super().to_input(value)

    def display(self, field, value, *, user_names=None, file_names=None):
        if value is None:
            return ""
        if not isinstance(value, list):
            return str(value)
        return "、".join(_lookup(file_names, v) or f"附件#{v}" for v in value)

    def widget(self, field):
        return widgets.HiddenInput()


def checks_note(value) -> str:
    """The 其他 note of a stored checks value."""
    return str(value.get("other") or "") if isinstance(value, dict) else ""


def _lookup(mapping, key) -> str | None:
    """Name for an id in a mapping whose keys may be ints or strings (JSON)."""
    if not mapping:
        return None
    try:
        name = mapping.get(key)
        if name is None:
            name = mapping.get(str(key))
    except TypeError:
        return None
    return None if name is None else str(name)


KINDS = {kind.name: kind for kind in (
    Kind(), TextareaKind(), DateKind(), DateTimeKind(), TimeKind(), IntKind(),
    MoneyKind(), PercentKind(), ScoreKind(), ChoiceKind(), ChecksKind(), UserKind(), FilesKind(), ContactKind())}
PEOPLE_LIST = "customer-people"  # id of the page's datalist of the customer's people


def kind_of(field: Field) -> Kind:
    return KINDS[field.kind]


def is_empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def clean(field: Field, values, *, note=None, users=None, people=None) -> tuple[object, list[str]]:
    """(stored value, error messages) for submitted values; never raises on
    the values. `users`, when given, is the set of ids a user field accepts;
    `people`, (id, name, title) of the customer's people a contact field
    links a typed name to."""
    try:
        if field.kind == "contact":
            return kind_of(field).clean(field, values, people=people), []
        return kind_of(field).clean(field, values, note=note, users=users), []
    except Invalid as exc:
        return None, [str(exc)]


def display(field: Field, value, *, user_names=None, file_names=None) -> str:
    """A stored value as text; never raises, whatever was stored."""
    if is_empty(value):
        return ""
    try:
        return kind_of(field).display(field, value, user_names=user_names, file_names=file_names)
    except (TypeError, ValueError, AttributeError):
        return str(value)


def default_value(field: Field):
    """The stored value a new sheet starts with."""
    if field.default == "today":
        from .. import clock
        return clock.today().isoformat()
    return field.default


def user_choices(field: Field, users) -> list[tuple[int, str]]:
    """(id, name) of the people a user field offers, limited to its role."""
    out = []
    for user in users or ():
        user_id, name, role = user[0], user[1], (user[2] if len(user) > 2 else None)
        if field.role is None or role == field.role:
            out.append((int(user_id), str(name)))
    return out


class KindField(WTField):
    """The WTForms input for one spec Field. `data` is always the cleaned,
    storable value (None if invalid); `raw_data` keeps what was typed so the
    re-rendered form shows it; `is_blank` tells empty table cells apart."""

    def __init__(self, label=None, validators=None, *, spec_field: Field, draft=False,
                 users=(), people=(), **kwargs):
        kind = kind_of(spec_field)
        kwargs.setdefault("widget", kind.widget(spec_field))
        kwargs.setdefault("description", spec_field.help)
        super().__init__(label if label is not None else spec_field.label, validators, **kwargs)
        self.spec_field = spec_field
        self.kind = kind
        self.draft = draft
        self.user_options = user_choices(spec_field, users) if spec_field.kind == "user" else []
        self.raw_note = None
        self.people = people

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors = []
        self.object_data = data
        if formdata is not None:
            self.raw_data = _strings(formdata.getlist(self.name))
            self.raw_note = _first(formdata.getlist(self.other_name)) if self.spec_field.takes_note else None
            allowed = {uid for uid, _ in self.user_options} if self.spec_field.kind == "user" else None
            self.data, self.process_errors = clean(
                self.spec_field, self.raw_data, note=self.raw_note, users=allowed, people=self.people)
        else:
            self.raw_data = None
            self.data = None if data is unset_value else data

    @property
    def other_name(self) -> str:
        """Input name of the 其他 note of a checks field."""
        return self.name + OTHER_SUFFIX

    @property
    def other(self) -> str:
        """The 其他 note to show in its input."""
        if self.raw_note is not None:
            return self.raw_note
        if self.spec_field.kind == "choice":  # a write-in: the value when it is none of the choices
            return self.data if isinstance(self.data, str) and self.data not in self.spec_field.choices else ""
        return checks_note(self.data)

    @property
    def is_blank(self) -> bool:
        """Nothing to store and nothing wrong: a cell that leaves its row blank."""
        return not self.process_errors and is_empty(self.data)

    def _value(self) -> str:
        if self.raw_data is None:
            return self.kind.to_input(self.data)
        if self.spec_field.kind == "files":
            return ",".join(self.raw_data)
        return self.raw_data[0] if self.raw_data else ""

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()
        if self.spec_field.required and not self.draft and is_empty(self.data):
            raise StopValidation(REQUIRED)

    def selected_values(self) -> list[str]:
        """Option values to show as chosen: what was typed, else what is stored."""
        if self.raw_data is not None and (self.process_errors or self.data is None):
            return [v.strip() for v in self.raw_data]
        return self.kind.selected(self.data)


class ChoiceInput(KindField, SelectFieldBase):
    """A select of the choices (choice) or of the people offered (user)."""

    def options(self) -> list[tuple[str, str]]:
        if self.spec_field.kind == "user":
            return [(str(uid), name) for uid, name in self.user_options]
        return [(c, c) for c in self.spec_field.choices]

    def iter_choices(self):
        """(value, label, selected, render_kw) per option, as WTForms widgets read them."""
        chosen = set(self.selected_values())
        choices = [(value, label, value in chosen, {}) for value, label in self.options()]
        if self.spec_field.kind != "checks":
            choices.insert(0, ("", "请选择", not any(selected for _, _, selected, _ in choices), {}))
        return choices

    def has_groups(self):
        return False


class ChecksInput(ChoiceInput):
    """Checkboxes, one per choice. A 其他 note is rendered by the template
    as a text input named `other_name` showing `other`."""
    option_widget = widgets.CheckboxInput()


def make_field(spec_field: Field, *, draft=False, users=(), people=()):
    """The unbound WTForms field for a spec Field; `people` ((id, name,
    title) of the customer's people) for a contact field."""
    cls = KindField
    if spec_field.kind in ("choice", "user"):
        cls = ChoiceInput
    elif spec_field.kind == "checks":
        cls = ChecksInput
    return cls(spec_field=spec_field, draft=draft, users=users, people=people)
