"""Every sheet through the web form: fill, validate, store, print, re-edit."""
from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from formkit_samples import FILE_NAMES, USER_NAMES, USERS, filled, first_of_kind, row_count
from salestrack.formkit import (build_form, errors, fill_sources, form_data, printable, registry,
                                validate_field)
from salestrack.formkit.builder import NEED_A_ROW
from salestrack.formkit.printable import JOIN
from salestrack.formkit.spec import Table

SPECS = registry.all_specs()
TABLE_SPECS = [s for s in SPECS if s.tables()]
ids = lambda s: s.key  # noqa: E731
CONTEXT = {"customer.name": "杭州华东精密机械有限公司", "customer.customer_no": "KH-2026-0031",
           "project.name": "二号产线数控改造", "project.project_no": "XM-2026-0007",
           "contract.contract_name": "数控系统改造项目合同",
           "contract.contract_no": "HT-2026-118"}


def submit(spec, formdata, **kwargs):
    form = build_form(spec, formdata, users=USERS, **kwargs)
    return form, form.validate()


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_realistic_submission_round_trips(spec):
    formdata, stored, shown = filled(spec)
    form, ok = submit(spec, formdata)
    assert ok, errors(form)
    assert errors(form) == {}
    data = form_data(spec, form)
    assert data == stored

    data = fill_sources(spec, data, CONTEXT)
    for field in spec.source_fields():
        assert data[field.key] == CONTEXT[field.source]
    page = printable(spec, {"number": f"{spec.prefix}-2026-0001", "sheet": spec.key, "status": "draft",
                            "author_name": "李四", "created_at": date(2026, 3, 18), "data": data,
                            "attachments": FILE_NAMES}, USER_NAMES, paper=True)
    printed = {key: item for s in page["sections"] for item in s["items"] for key in item.get("keys") or [item["key"]]}
    header_date = spec.header_date()
    for key, text in shown.items():
        if header_date is not None and key == header_date.key:
            assert page["header"][2] == {"label": header_date.label, "value": text}
        elif isinstance(text, list):
            assert printed[key]["rows"] == text
        elif printed[key].get("keys"):  # printed with its neighbours under one paper label
            assert printed[key]["value"].split(JOIN)[printed[key]["keys"].index(key)] == text
        else:
            assert printed[key]["value"] == text
    for field in spec.source_fields():
        assert printed[field.key]["value"] == CONTEXT[field.source]

    again = build_form(spec, data=data, users=USERS)
    for field in spec.fields():
        if not field.source:
            assert again[field.key].data == stored[field.key]
            if field.kind not in ("choice", "checks", "user"):
                assert again[field.key]._value()
    resubmitted, ok = submit(spec, rendered_formdata(spec, again))
    assert ok, errors(resubmitted)
    assert form_data(spec, resubmitted) == stored


def rendered_formdata(spec, form) -> MultiDict:
    """What a browser would send back for a form rendered from stored data."""
    pairs = []

    def add(field):
        kind = field.spec_field.kind
        if kind in ("choice", "user", "checks"):
            pairs.extend((field.name, value) for value, _, selected, _ in field.iter_choices() if selected and value)
            if field.spec_field.has_other:
                pairs.append((field.other_name, field.other))
        else:
            pairs.append((field.name, field._value()))

    for item in spec.items():
        if isinstance(item, Table):
            for entry in form[item.key]:
                for cell in entry.form:
                    add(cell)
        elif not item.source:
            add(form[item.key])
    return MultiDict(pairs)


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_source_fields_are_not_inputs(spec):
    form = build_form(spec, users=USERS)
    for field in spec.source_fields():
        assert field.key not in form
    formdata, _, _ = filled(spec)
    for field in spec.source_fields():
        formdata[field.key] = "篡改的客户名称"
    form, ok = submit(spec, formdata)
    assert ok
    assert all(f.key not in form_data(spec, form) for f in spec.source_fields())


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_new_sheet_starts_with_today_and_start_rows(spec):
    form = build_form(spec, users=USERS)
    header = spec.header_date()
    if header:
        assert form[header.key].data == date.today().isoformat()
        assert form[header.key]._value() == date.today().isoformat()
    for table in spec.tables():
        assert len(form[table.key].entries) == (len(table.rows) or table.start_rows)


BAD = {
    "date": ("2026-13-45", "请输入有效的日期"),
    "money": ("12.345", "金额最多两位小数"),
    "choice": ("不存在的选项", "请从列表中选择"),
    "int": ("三", "请输入整数"),
    "datetime": ("下周二下午", "请输入有效的日期和时间"),
    "time": ("25:61", "请输入有效的时间（时:分）"),
    "percent": ("120", "百分比应在 0 到 100 之间"),
    "user": ("999", "请从列表中选择人员"),
    "files": ("abc", "附件编号无效"),
    "checks": ("不存在的选项", "请从列表中选择"),
}


BAD_CASES = [(spec, kind) for spec in SPECS for kind in sorted(BAD) if first_of_kind(spec, kind)]


@pytest.mark.parametrize("spec, kind", BAD_CASES, ids=[f"{s.key}-{k}" for s, k in BAD_CASES])
def test_invalid_value_is_an_error_next_to_its_input_and_is_kept(spec, kind):
    name, _ = first_of_kind(spec, kind)
    typed, message = BAD[kind]
    formdata, _, _ = filled(spec)
    formdata.setlist(name, [typed])
    form, ok = submit(spec, formdata)
    assert not ok
    assert errors(form) == {name: [message]}
    field = form[name] if "-" not in name else cell(form, name)
    assert field.raw_data == [typed]
    if kind not in ("choice", "checks", "user"):
        assert field._value() == typed
        assert typed in str(field())
    assert validate_field(spec, name, typed, users=USERS) == [message]


def test_every_bad_value_kind_is_exercised_by_some_sheet():
    assert {kind for _, kind in BAD_CASES} == set(BAD)


def cell(form, name):
    table, index, col = name.split("-")
    return form[table][int(index)][col]


MONEY_SPECS = [s for s in SPECS if first_of_kind(s, "money")]


@pytest.mark.parametrize("spec", MONEY_SPECS, ids=ids)
def test_negative_money_is_refused(spec):
    name, _ = first_of_kind(spec, "money")
    formdata, _, _ = filled(spec)
    formdata[name] = "-500"
    form, ok = submit(spec, formdata)
    assert errors(form) == {name: ["金额不能为负数"]}
    assert (cell(form, name) if "-" in name else form[name])._value() == "-500"


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_required_fields_are_enforced_except_in_drafts(spec):
    required = [f for f in spec.fields() if f.required]
    tables = [t for t in spec.tables() if t.required]  # a sheet that is one table needs a row of it
    assert required or tables, "a clerk refuses a sheet with nothing required"
    formdata, _, _ = filled(spec)
    for field in required:
        formdata.setlist(field.key, [""])
    for table in tables:
        for name in [k for k in formdata if k.startswith(f"{table.key}-")]:
            formdata.setlist(name, [""])
    form, ok = submit(spec, formdata)
    assert not ok
    assert errors(form) == {**{f.key: ["此项为必填项"] for f in required}, **{t.key: [NEED_A_ROW] for t in tables}}

    draft, ok = submit(spec, formdata, draft=True)
    assert ok, errors(draft)
    assert all(form_data(spec, draft)[f.key] is None for f in required)
    assert all(form_data(spec, draft)[t.key] == [] for t in tables)


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_draft_still_refuses_malformed_values(spec):
    name, field = next(first_of_kind(spec, k) for k in BAD if first_of_kind(spec, k))
    typed, message = BAD[field.kind]
    formdata, _, _ = filled(spec)
    formdata[name] = typed
    form, ok = submit(spec, formdata, draft=True)
    assert not ok and errors(form) == {name: [message]}


@pytest.mark.parametrize("spec", [s for s in TABLE_SPECS if not s.tables()[0].rows], ids=ids)
def test_blank_rows_are_dropped_wherever_they_are(spec):
    table = spec.tables()[0]
    formdata, stored, _ = filled(spec, rows=2)
    last = [k for k in formdata if k.startswith(f"{table.key}-1-")]
    moved = {k: formdata.getlist(k) for k in last}
    for k in last:
        del formdata[k]
    for k, values in moved.items():
        formdata.setlist(k.replace(f"{table.key}-1-", f"{table.key}-3-"), values)
    for col in table.columns:
        formdata[f"{table.key}-1-{col.key}"] = "  "
        formdata[f"{table.key}-2-{col.key}"] = ""
        formdata[f"{table.key}-4-{col.key}"] = ""
        formdata[f"{table.key}-5-{col.key}"] = ""
    form, ok = submit(spec, formdata)
    assert ok, errors(form)
    assert len(form[table.key].entries) == 6
    assert form_data(spec, form)[table.key] == stored[table.key]


@pytest.mark.parametrize("spec", TABLE_SPECS, ids=ids)
def test_twenty_five_rows_are_accepted(spec):
    table = spec.tables()[0]
    formdata, stored, _ = filled(spec, rows=25)
    form, ok = submit(spec, formdata)
    assert ok, errors(form)
    count = row_count(table, 25)  # a table of preprinted rows only keeps its rows
    assert len(form_data(spec, form)[table.key]) == count
    assert form_data(spec, form) == stored
    assert len(build_form(spec, data=stored, users=USERS)[table.key].entries) == count


CHECKED_CELL_SPECS = [s for s in TABLE_SPECS if any(c.kind in BAD for t in s.tables() for c in t.columns)]


@pytest.mark.parametrize("spec", CHECKED_CELL_SPECS, ids=ids)
def test_error_in_a_later_row_is_keyed_by_that_row(spec):
    table, col = next((t, c) for t in spec.tables() for c in t.columns if c.kind in BAD)
    typed, message = BAD[col.kind]
    formdata, _, _ = filled(spec, rows=3)
    formdata[f"{table.key}-2-{col.key}"] = typed
    form, ok = submit(spec, formdata)
    assert not ok
    assert errors(form) == {f"{table.key}-2-{col.key}": [message]}
    assert form[table.key][2][col.key].raw_data == [typed]


@pytest.mark.parametrize("spec", [s for s in TABLE_SPECS if any(t.required for t in s.tables())], ids=ids)
def test_required_table_needs_a_filled_row(spec):
    formdata, _, _ = filled(spec, rows=0)
    form, ok = submit(spec, formdata)
    assert not ok
    required = [t.key for t in spec.tables() if t.required]
    assert {k: v for k, v in errors(form).items() if k in required} == {k: ["请至少填写一行"] for k in required}
    draft, ok = submit(spec, formdata, draft=True)
    assert ok, errors(draft)


@pytest.mark.parametrize("spec", TABLE_SPECS, ids=ids)
def test_row_count_comes_from_submission_then_storage_then_start_rows(spec):
    table = spec.tables()[0]
    formdata, stored, _ = filled(spec, rows=5)
    count = row_count(table, 5)
    assert len(build_form(spec, formdata, users=USERS)[table.key].entries) == count
    assert len(build_form(spec, data=stored, users=USERS)[table.key].entries) == count
    assert len(build_form(spec, data={}, users=USERS)[table.key].entries) == (len(table.rows) or table.start_rows)
    more = build_form(spec, formdata, users=USERS, row_counts={table.key: 7})
    assert len(more[table.key].entries) == row_count(table, 7)


def test_a_checks_note_checks_other_and_is_kept():
    spec = registry.get("resource_request")
    formdata, _, _ = filled(spec)
    formdata.setlist("support_form", ["出差"])
    formdata["support_form_other"] = "协助客户验收"
    form, ok = submit(spec, formdata)
    assert ok
    assert form_data(spec, form)["support_form"] == {"values": ["出差", "其他"], "other": "协助客户验收"}
    rendered = str(form["support_form"]())
    assert 'checked id="support_form-0"' in rendered and 'checked id="support_form-2"' in rendered
    assert form["support_form"].other_name == "support_form_other"
    assert form["support_form"].other == "协助客户验收"
    assert validate_field(spec, "support_form_other", "\x00") == ["含有无法保存的控制字符"]


def test_user_input_offers_only_people_of_its_role():
    spec = registry.get("contract_review")
    form = build_form(spec, users=USERS)
    options = [label for _, label, _, _ in form["reviewers"][0]["name"].iter_choices()]
    assert options == ["请选择", "王芳", "李四", "张伟", "赵敏"]
    from salestrack.formkit.kinds import make_field
    from salestrack.formkit.spec import Field
    from flask_wtf import FlaskForm
    restricted = type("F", (FlaskForm,), {"who": make_field(
        Field("who", "实施人员", "Implementer", "user", role="implementation"), users=USERS)})
    form = restricted(formdata=MultiDict({"who": "2"}))
    assert not form.validate() and form.who.errors == ["请从列表中选择人员"]
    assert [label for _, label, _, _ in form.who.iter_choices()] == ["请选择", "张伟"]


def test_validate_field_names_and_rules():
    spec = registry.get("phone_log")
    assert validate_field(spec, "date", "") == ["此项为必填项"]
    assert validate_field(spec, "date", "", draft=True) == []
    assert validate_field(spec, "calls-12-content", "") == []
    assert validate_field(spec, "calls-12-next_contact_at", "明天") == ["请输入有效的日期和时间"]
    assert validate_field(spec, "calls-2-todo_done_at", "2026/4/1") == []
    with pytest.raises(KeyError):
        validate_field(spec, "calls-0-nothing", "x")
    with pytest.raises(KeyError):
        validate_field(spec, "nothing", "x")
    handover = registry.get("handover")
    with pytest.raises(KeyError):
        validate_field(handover, "customer_name", "x")
    assert validate_field(handover, "list_price", "12.345") == ["金额最多两位小数"]


def test_errors_are_flat_and_keyed_by_input_name():
    spec = registry.get("phone_log")
    form, ok = submit(spec, MultiDict({"date": "x", "calls-0-time": "9点", "calls-0-content": "谈价格"}))
    assert not ok
    assert errors(form) == {"date": ["请输入有效的日期"], "calls-0-time": ["请输入有效的时间（时:分）"],
                            "calls-0-reached": ["此项为必填项"]}


def test_plain_dict_formdata_is_accepted():
    spec = registry.get("handover")
    form = build_form(spec, {"list_price": "88", "remarks": "无"}, users=USERS)
    assert form["list_price"].data == "88.00"


def test_fill_sources_overrides_whatever_was_sent():
    spec = registry.get("handover")
    data = fill_sources(spec, {"customer_name": "别的公司", "remarks": "无"}, {"customer.name": "华东精机"})
    assert data["customer_name"] == "华东精机"
    assert data["contract_no"] is None
    assert data["remarks"] == "无"


def test_csrf_is_part_of_the_form_when_enabled(formkit_app):
    formkit_app.config["WTF_CSRF_ENABLED"] = True
    try:
        spec = registry.get("handover")
        form = build_form(spec, MultiDict({"remarks": "无"}), users=USERS, draft=True)
        assert "csrf_token" in form
        assert not form.validate()
        assert "csrf_token" in errors(form)
    finally:
        formkit_app.config["WTF_CSRF_ENABLED"] = False


WRITE_INS = [(s, f) for s in SPECS for f in s.fields() if f.write_in]


@pytest.mark.parametrize("spec,field", WRITE_INS, ids=lambda x: getattr(x, "key", None))
def test_a_write_in_is_stored_shown_again_and_printed_in_its_blank_box(spec, field):
    """The paper's blank last box (客户分类 □): what is written there is the
    value; choosing from the list as well is refused next to the field, both
    kept; the PDF ticks the written box, or prints it blank."""
    from salestrack.formkit.printable import options
    formdata, _, _ = filled(spec)
    formdata.setlist(field.key, [""])
    formdata.setlist(field.key + "_other", ["  战略合作客户 "])
    form, ok = submit(spec, formdata)
    assert ok, errors(form)
    assert form_data(spec, form)[field.key] == "战略合作客户"
    again = build_form(spec, data=form_data(spec, form), users=USERS)
    assert again[field.key].other == "战略合作客户"
    assert [c[0] for c in again[field.key].iter_choices() if c[2]] == [""], "the list shows nothing chosen"
    assert options(field, "战略合作客户")[-1] == {"label": "战略合作客户", "checked": True, "note": ""}
    assert options(field, field.choices[0])[-1] == {"label": "", "checked": False, "note": ""}

    formdata.setlist(field.key, [field.choices[0]])
    form, ok = submit(spec, formdata)
    assert not ok and errors(form) == {field.key: ["请只选一项：从列表中选择，或在空白框中填写"]}
    assert form[field.key].other == "  战略合作客户 " and form[field.key].selected_values() == [field.choices[0]]
    assert validate_field(spec, field.key + "_other", "战略合作客户") == []
