"""The change list, the content hash and the print layout."""
from datetime import datetime

import pytest

from formkit_samples import USER_NAMES, USERS, filled
from salestrack.formkit import (build_form, canonical_json, content_hash, diff, form_data, printable,
                                registry)


@pytest.fixture
def customer():
    return registry.get("customer_info")


def stored(spec):
    formdata, _, _ = filled(spec)
    form = build_form(spec, formdata, users=USERS)
    assert form.validate()
    return form_data(spec, form)


def test_diff_of_fields_reads_like_the_paper(customer):
    old = stored(customer)
    new = dict(old, category="VIP", market_share=40, collector=2, fax=None)
    old["category"] = "一般"
    assert diff(customer, old, new, USER_NAMES) == [
        {"label": "客户类别", "key": "category", "old": "一般", "new": "VIP"},
        {"label": "传真", "key": "fax", "old": "传真：按双方约定执行", "new": ""},
        {"label": "市场占有率", "key": "market_share", "old": "35%", "new": "40%"},
        {"label": "信息采集人", "key": "collector", "old": "王芳", "new": "李四"},
    ]


def test_no_change_means_an_empty_list(customer):
    data = stored(customer)
    assert diff(customer, data, dict(data)) == []
    assert diff(customer, {"fax": ""}, {"fax": None}) == []


def test_diff_from_nothing_lists_every_filled_field(customer):
    data = stored(customer)
    changes = diff(customer, {}, data, USER_NAMES)
    assert [c["key"] for c in changes] == [k for k, v in data.items() if v is not None]
    assert all(c["old"] == "" for c in changes)


def phone_rows():
    return [
        {"seq": 1, "time": "09:00", "reached": "王经理", "content": "约演示"},
        {"seq": 2, "time": "10:30", "reached": "陈部长", "content": "谈预算"},
        {"seq": 3, "time": "15:00", "reached": "刘工", "content": "确认参数"},
    ]


def test_diff_of_an_edited_cell():
    spec = registry.get("phone_log")
    old = {"date": "2026-03-18", "calls": phone_rows()}
    rows = phone_rows()
    rows[1]["reached"] = "陈总"
    assert diff(spec, old, {"date": "2026-03-18", "calls": rows}) == [
        {"label": "电话记录 第2行 · 找到谁", "key": "calls-1-reached", "old": "陈部长", "new": "陈总"}]


def test_diff_of_added_and_removed_rows():
    spec = registry.get("phone_log")
    old = {"calls": phone_rows()}
    added = phone_rows() + [{"seq": 4, "time": "16:00", "reached": "赵工", "content": "回访"}]
    assert diff(spec, old, {"calls": added}) == [{
        "label": "电话记录 新增第4行", "key": "calls-3", "old": "",
        "new": "序号：4；时间：16:00；找到谁：赵工；电话沟通内容：回访"}]
    removed = [phone_rows()[0], phone_rows()[2]]
    assert diff(spec, old, {"calls": removed}) == [{
        "label": "电话记录 删除第2行", "key": "calls-1",
        "old": "序号：2；时间：10:30；找到谁：陈部长；电话沟通内容：谈预算", "new": ""}]


def test_diff_tolerates_malformed_stored_data():
    spec = registry.get("phone_log")
    changes = diff(spec, {"calls": "oops", "date": 5}, {"calls": [None, {"seq": "x"}], "date": None})
    assert [c["key"] for c in changes] == ["date", "calls-0", "calls-1"]
    assert changes[2]["new"] == "序号：x"


def test_canonical_json_is_compact_sorted_utf8():
    data = {"b": [1, "二"], "a": {"y": None, "x": "1234.50"}}
    assert canonical_json(data) == '{"a":{"x":"1234.50","y":null},"b":[1,"二"]}'.encode("utf-8")


def test_content_hash_ignores_key_order_but_not_content():
    one = {"category": "VIP", "calls": [{"seq": 1, "time": "09:00"}], "name": "华东精机"}
    two = {"name": "华东精机", "calls": [{"time": "09:00", "seq": 1}], "category": "VIP"}
    assert content_hash(one) == content_hash(two)
    assert len(content_hash(one)) == 64
    assert content_hash(one) != content_hash(dict(one, category="重要"))
    assert content_hash({"x": 1}) != content_hash({"x": "1"})


def test_canonical_json_refuses_what_json_cannot_store():
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})
    with pytest.raises(TypeError):
        canonical_json({"x": datetime(2026, 1, 1)})


@pytest.mark.parametrize("spec", registry.all_specs(), ids=lambda s: s.key)
def test_printable_shape(spec):
    data = stored(spec)
    page = printable(spec, {"number": f"{spec.prefix}-2026-0007", "sheet": spec.key, "status": "approved",
                            "author_name": "李四", "created_at": datetime(2026, 3, 18, 9, 5),
                            "data": data}, USER_NAMES)
    assert set(page) == {"title", "title_en", "number", "sheet", "status", "header", "note",
                         "landscape", "sections", "slots"}
    assert page["landscape"] is spec.landscape
    assert page["title"] == spec.title and page["number"] == f"{spec.prefix}-2026-0007"
    assert page["header"][:2] == [{"label": "编号", "value": f"{spec.prefix}-2026-0007"},
                                  {"label": spec.author_label, "value": "李四"}]
    header = spec.header_date()
    assert page["header"][2]["label"] == (header.label if header else "日期")
    assert page["header"][2]["value"] == (data[header.key] if header else "2026-03-18")
    keys = []
    for section in page["sections"]:
        assert set(section) == {"title", "items"} and section["items"]
        for item in section["items"]:
            keys.append(item["key"])
            if item["type"] == "field":
                choices = item["kind"] in ("choice", "checks")
                assert set(item) == {"type", "key", "label", "value", "kind", "wide"} | ({"options"} if choices else set())
                assert isinstance(item["value"], str)
                if choices:
                    assert [o["label"] for o in item["options"]][:len(spec.field(item["key"]).choices)] == \
                        list(spec.field(item["key"]).choices)
            else:
                assert set(item) == {"type", "key", "label", "columns", "widths", "classes", "rows", "groups", "footer",
                                     "parties", "drawing", "drawing_title"}
                assert len(item["groups"]) == len(item["rows"])
                assert all(len(row) == len(item["columns"]) for row in item["rows"])
                assert len(item["widths"]) == len(item["columns"]) and abs(sum(item["widths"]) - 100) < 0.1
    expected = [i.key for i in spec.items() if header is None or i.key != header.key]
    assert keys == expected
    assert page["slots"] == [{"key": s.key, "label": s.label, "comment_label": s.comment_label}
                             for s in spec.slots]
    assert page["note"] == spec.note


def test_printable_of_an_empty_record_never_raises():
    for spec in registry.all_specs():
        page = printable(spec, {}, None)
        assert page["number"] == "" and page["sections"]
