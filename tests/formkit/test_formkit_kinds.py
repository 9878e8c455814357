"""Cleaning and display of each field kind on its own."""
import pytest

from salestrack.formkit.kinds import clean, display
from salestrack.formkit.spec import Field

CHECKS = Field("form", "支持形式", "Form", "checks", choices=("出差", "提供专业服务", "其他"))


def f(kind, **kw):
    return Field("x", "测试", "Test", kind, **kw)


@pytest.mark.parametrize("kind, typed, stored", [
    ("text", "  华东精机 ", "华东精机"),
    ("text", "第一行\n第二行", "第一行 第二行"),
    ("text", "\u3000", None),
    ("textarea", "第一行\r\n第二行\r\n", "第一行\n第二行"),
    ("date", "2026-03-05", "2026-03-05"),
    ("date", "2026/3/5", "2026-03-05"),
    ("date", "2026年3月5日", "2026-03-05"),
    ("date", "２０２６－０３－０５", "2026-03-05"),
    ("datetime", "2026-03-05T09:30", "2026-03-05T09:30"),
    ("datetime", "2026-03-05 9:30:15", "2026-03-05T09:30"),
    ("time", "9:05", "09:05"),
    ("time", "14：30", "14:30"),
    ("int", "12", 12),
    ("int", "-3", -3),
    ("int", "0" * 5000 + "7", 7),  # leading zeros beyond int()'s digit limit
    ("int", "１２", 12),
    ("money", "1234.5", "1234.50"),
    ("money", "1,234", "1234.00"),
    ("money", "0", "0.00"),
    ("money", ".5", "0.50"),
    ("money", "12.500", "12.50"),
    ("money", "50万元", "50.00"),
    ("money", "10000000000", "10000000000.00"),
    ("percent", "35", 35),
    ("percent", "12.5%", 12.5),
    ("percent", "100", 100),
    ("user", "7", 7),
    ("files", "3, 4,3", [3, 4]),
    ("date", "", None),
    ("money", "   ", None),
])
def test_clean_accepts(kind, typed, stored):
    assert clean(f(kind), [typed]) == (stored, [])


@pytest.mark.parametrize("kind, typed, message", [
    ("text", "a\x00b", "含有无法保存的控制字符"),
    ("text", "长" * 501, "内容过长，最多 500 字"),
    ("text", "\ud800", "含有无法保存的控制字符"),
    ("date", "2026-02-30", "请输入有效的日期"),
    ("date", "1850-01-01", "请输入有效的日期"),
    ("date", "明天", "请输入有效的日期"),
    ("date", "2026-03-05T10:00", "请输入有效的日期"),
    ("datetime", "2026-03-05", "请输入有效的日期和时间"),
    ("datetime", "2026-03-05T24:00", "请输入有效的日期和时间"),
    ("time", "7 pm", "请输入有效的时间（时:分）"),
    ("int", "1.5", "请输入整数"),
    ("int", "1_000", "请输入整数"),
    ("int", "²", "请输入整数"),
    ("int", "99999999999", "数值超出范围"),
    ("int", "1" * 5000, "数值超出范围"),  # beyond Python's 4,300-digit int() limit: no ValueError
    ("money", "12.345", "金额最多两位小数"),
    ("money", "-1", "金额不能为负数"),
    ("money", "1e3", "请输入有效的金额"),
    ("money", "NaN", "请输入有效的金额"),
    ("money", "10000000000.01", "金额过大"),
    ("money", "五十", "请输入有效的金额"),
    ("percent", "101", "百分比应在 0 到 100 之间"),
    ("percent", "-1", "百分比应在 0 到 100 之间"),
    ("percent", "33.333", "百分比最多两位小数"),
    ("user", "abc", "请从列表中选择人员"),
    ("user", "0", "请从列表中选择人员"),
    ("files", "1,x", "附件编号无效"),
])
def test_clean_refuses(kind, typed, message):
    assert clean(f(kind), [typed]) == (None, [message])


def test_choice_must_be_one_of_the_choices():
    field = f("choice", choices=("一般", "重要", "VIP"))
    assert clean(field, ["VIP"]) == ("VIP", [])
    assert clean(field, ["vip"]) == (None, ["请从列表中选择"])
    assert clean(field, [""]) == (None, [])


def test_user_must_be_offered_when_a_list_is_given():
    assert clean(f("user"), ["7"], users={7, 8}) == (7, [])
    assert clean(f("user"), ["9"], users={7, 8}) == (None, ["请从列表中选择人员"])


def test_checks_keep_choice_order_and_other_note():
    assert clean(CHECKS, ["其他", "出差", "出差"], note=["参加展会"]) == (
        {"values": ["出差", "其他"], "other": "参加展会"}, [])
    assert clean(CHECKS, [], note=["只写了备注"]) == ({"values": ["其他"], "other": "只写了备注"}, [])
    assert clean(CHECKS, ["出差"], note=[""]) == ({"values": ["出差"], "other": ""}, [])
    assert clean(CHECKS, ["旅游"]) == (None, ["请从列表中选择"])
    assert clean(CHECKS, []) == (None, [])


def test_non_text_submissions_never_raise():
    class Upload:
        filename = "a.pdf"
    for kind in ("text", "date", "money", "files", "checks", "user"):
        field = CHECKS if kind == "checks" else f(kind)
        assert clean(field, [Upload()])[1] == []
        assert clean(field, None)[1] == []


@pytest.mark.parametrize("field, stored, shown", [
    (f("money"), "1234567.50", "1,234,567.50 万元"),
    (f("money"), "0.00", "0.00 万元"),
    (f("percent"), 12.5, "12.5%"),
    (f("datetime"), "2026-03-05T09:30", "2026-03-05 09:30"),
    (f("date"), "2026-03-05", "2026-03-05"),
    (CHECKS, {"values": ["出差", "其他"], "other": "参加展会"}, "出差、其他：参加展会"),
    (CHECKS, {"values": ["提供专业服务"], "other": ""}, "提供专业服务"),
    (f("user"), 2, "李四"),
    (f("user"), 99, "#99"),
    (f("files"), [11, 99], "方案.pdf、附件#99"),
    (f("text"), None, ""),
    (f("int"), 0, "0"),
])
def test_display(field, stored, shown):
    assert display(field, stored, user_names={"2": "李四"}, file_names={11: "方案.pdf"}) == shown


@pytest.mark.parametrize("kind", ["money", "percent", "checks", "user", "files", "datetime", "int"])
@pytest.mark.parametrize("garbage", ["abc", 3.7, {"x": 1}, [None, {}], {"values": "x"}, True])
def test_display_of_malformed_stored_values_never_raises(kind, garbage):
    field = CHECKS if kind == "checks" else f(kind)
    assert isinstance(display(field, garbage, user_names={1: "x"}), str)
