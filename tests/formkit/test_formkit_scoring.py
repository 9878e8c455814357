"""Scoring tables on the data a form receives: the paper's preprinted rows
stay the paper's, the weights of a submitted sheet add up to 100 % (refused
next to the 权重 column otherwise, what was typed kept), each party's total is
Σ 权重 × 评分 rounded half up to two decimals, and 级别 follows the
configured thresholds."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from formkit_samples import USERS, exact_total, filled
from salestrack.formkit import build_form, errors, form_data, printable, registry
from salestrack.formkit.scoring import grade, percent_text, score_text
from salestrack.formkit.spec import Field, FormSpec, Grade, Row, Section, Table, check_spec

SCORING = [s for s in registry.all_specs() if any(t.weights for t in s.tables())]
ids = lambda s: s.key  # noqa: E731


def weighted(spec):
    return next(t for t in spec.tables() if t.weights)


def submit(spec, formdata, draft=False, thresholds=None):
    form = build_form(spec, formdata, users=USERS, draft=draft)
    ok = form.validate()
    return form, ok, (form_data(spec, form, thresholds) if ok else None)


def test_the_four_weighted_sheets_are_the_papers():
    assert {s.key for s in SCORING} == {"customer_assessment", "competitor_analysis", "factor_analysis",
                                        "buying_criteria"}
    assessment = weighted(registry.get("customer_assessment"))
    assert len(assessment.rows) == 24 and len({r.group for r in assessment.rows}) == 7
    assert (assessment.total_label, assessment.grade.label) == ("综合评价", "级别")


@pytest.mark.parametrize("spec", SCORING, ids=ids)
@pytest.mark.parametrize("change", [-1, 0.01, "zero"])
def test_a_submitted_sheet_whose_weights_do_not_add_up_is_refused_next_to_the_column(spec, change):
    table = weighted(spec)
    formdata, _, _ = filled(spec)
    name = f"{table.key}-0-{table.weights}"
    others = sum(float(v) for k, v in formdata.items(multi=True)
                 if k.endswith(f"-{table.weights}") and k != name)
    weight = "0" if change == "zero" else f"{float(formdata[name]) + change:g}"
    formdata[name] = weight
    form, ok, _ = submit(spec, formdata)
    total = others + float(weight)
    assert not ok
    problems = errors(form)
    assert problems.get(f"{table.key}-{table.weights}") == [f"权重合计须为 100%，现为 {percent_text(round(total * 100))}"]
    assert form[table.key].entries[0].form[table.weights].raw_data == [weight]  # what was typed is kept
    # a draft may be saved on the way to 100 %
    draft, ok, data = submit(spec, formdata, draft=True)
    assert ok and data[table.computed_key]["weights"] == percent_text(round(total * 100))


@pytest.mark.parametrize("spec", SCORING, ids=ids)
def test_a_wrong_weight_cell_is_said_in_its_cell_not_as_a_wrong_total(spec):
    table = weighted(spec)
    formdata, _, _ = filled(spec)
    formdata[f"{table.key}-1-{table.weights}"] = "三十"
    form, ok, _ = submit(spec, formdata)
    assert not ok and errors(form) == {f"{table.key}-1-{table.weights}": ["请输入有效的百分比"]}


@pytest.mark.parametrize("spec", [s for s in SCORING if weighted(s).rows], ids=ids)
def test_a_preprinted_label_is_the_papers_whatever_is_posted(spec):
    table = weighted(spec)
    formdata, stored, _ = filled(spec)
    for index in range(len(table.rows)):
        formdata[f"{table.key}-{index}-{table.label_column}"] = "改过的指标"
    form, ok, data = submit(spec, formdata)
    assert ok, errors(form)
    labels = [row[table.label_column] for row in data[table.key][:len(table.rows)]]
    assert labels == [("改过的指标" if row.typed else row.label) for row in table.rows]


def test_a_typed_row_starts_with_its_printed_label():
    spec = registry.get("factor_analysis")
    table = weighted(spec)
    form = build_form(spec, users=USERS)
    other = form[table.key].entries[5].form[table.label_column]
    assert other._value() == "其它"
    assert 'name="factors-5-factor"' in str(other())


@pytest.mark.parametrize("spec", [s for s in SCORING if not weighted(s).add_rows], ids=ids)
def test_no_row_is_added_where_the_paper_preprints_them_all(spec):
    table = weighted(spec)
    formdata, stored, _ = filled(spec)
    extra = len(table.rows)
    for col in table.columns:
        formdata[f"{table.key}-{extra}-{col.key}"] = "1"
    form, ok, data = submit(spec, formdata)
    assert ok, errors(form)
    assert len(data[table.key]) == len(table.rows) == len(form[table.key].entries)


def split_100(draw, n: int) -> list[str]:
    """n weights in hundredths of a percent that add up to exactly 100 %."""
    cuts = sorted(draw(st.lists(st.integers(0, 10_000), min_size=n - 1, max_size=n - 1)))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, 10_000], strict=True)]
    return [percent_text(p).removesuffix("%") for p in parts]


def score_text_of(h: int) -> str:
    return f"{h // 100}.{h % 100:02d}".rstrip("0").rstrip(".")


@pytest.mark.parametrize("spec", [s for s in SCORING if weighted(s).scores], ids=ids)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_each_partys_total_is_the_exact_weighted_sum_on_the_server_and_in_print(spec, data):
    table = weighted(spec)
    n = len(table.rows)
    weights = split_100(data.draw, n)
    formdata = MultiDict([("date", "2026-03-18")])
    expected, typed = {}, {}
    for col in table.scores:
        low, high = table.column(col).scale or (0, 100)
        scores = data.draw(st.lists(st.one_of(st.none(), st.integers(low * 100, high * 100)), min_size=n, max_size=n))
        typed[col] = [None if s is None else score_text_of(s) for s in scores]
        expected[col] = exact_total(weights, typed[col]) if any(s is not None for s in scores) else ""
    for index in range(n):
        formdata[f"{table.key}-{index}-{table.weights}"] = weights[index]
        for col in table.scores:
            if typed[col][index] is not None:
                formdata[f"{table.key}-{index}-{col}"] = typed[col][index]
    form, ok, stored = submit(spec, formdata)
    assert ok, errors(form)
    assert stored[table.computed_key]["weights"] == "100%"
    assert stored[table.computed_key]["totals"] == expected
    page = printable(spec, {"data": stored})
    footer = next(i for s in page["sections"] for i in s["items"] if i["key"] == table.key)["footer"]
    columns = [c.key for c in table.columns]
    assert footer[0]["cells"][columns.index(table.weights)] == "100%"
    assert {col: footer[0]["cells"][columns.index(col)] for col in table.scores} == expected


def test_grade_follows_the_configured_thresholds_and_is_blank_without_them():
    spec = registry.get("customer_assessment")
    table = weighted(spec)
    formdata, _, _ = filled(spec)
    limits = {"customer_grade": [[80, "VIP"], [60, "重要"], [0, "一般"]]}
    for index in range(len(table.rows)):
        formdata[f"{table.key}-{index}-score_1"] = "80"
        formdata[f"{table.key}-{index}-score_2"] = "59.99"
    _, ok, graded = submit(spec, formdata, thresholds=limits)
    assert ok
    assert graded[table.computed_key]["totals"] == {"score_1": "80.00", "score_2": "59.99"}
    assert graded[table.computed_key]["grades"] == {"score_1": "VIP", "score_2": "一般"}
    _, _, plain = submit(spec, formdata)
    assert plain[table.computed_key]["grades"] == {"score_1": "", "score_2": ""}
    assert grade(5999, [[60, "重要"], ["bad"], [None, "x"]]) is None
    assert grade(None, limits["customer_grade"]) is None
    assert score_text(None) == "" and score_text(7) == "0.07"


@pytest.mark.parametrize("kind,value,message", [
    ("score", "6", "评分应在 1 到 5 之间"), ("score", "0.5", "评分应在 1 到 5 之间"),
    ("score", "-1", "评分应在 1 到 5 之间"), ("score", "4.255", "评分最多两位小数"), ("score", "五", "请输入有效的评分"),
])
def test_a_score_outside_the_papers_scale_is_refused(kind, value, message):
    spec = registry.get("competitor_analysis")
    formdata, _, _ = filled(spec)
    formdata["criteria-0-score_a"] = value
    form, ok, _ = submit(spec, formdata, draft=True)
    assert not ok and errors(form) == {"criteria-0-score_a": [message]}


def _spec(table: Table, *fields: Field) -> FormSpec:
    return FormSpec(key="scoring_probe", title="评分", title_en="Scores", prefix="PR", group="", stages=(),
                    version=1, author_label="填写人", sections=(Section("", "", (*fields, table)),), slots=())


LABEL = Field("item", "指标", "Item", "text")
WEIGHT = Field("weight", "权重", "Weight", "percent")
SCORE = Field("score", "分", "Score", "score")


@pytest.mark.parametrize("table,fields,message", [
    (Table("t", "表", "T", (LABEL, WEIGHT), rows=(Row("a", "甲"),)), (), "label_column"),
    (Table("t", "表", "T", (LABEL, WEIGHT), weights="item"), (), "weights must name a percent column"),
    (Table("t", "表", "T", (LABEL, WEIGHT, SCORE), scores=("score",)), (), "weighted by a weights column"),
    (Table("t", "表", "T", (LABEL, WEIGHT), weights="weight", scores=("weight",)), (), "score columns"),
    (Table("t", "表", "T", (LABEL, WEIGHT), total_label="合计"), (), "total_label needs a weights column"),
    (Table("t", "表", "T", (LABEL, WEIGHT), weights="weight", total_label="合计", grade=Grade("级别", "G", "g")),
     (), "grade needs score columns"),
    (Table("t", "表", "T", (LABEL, WEIGHT), add_rows=False), (), "for preprinted rows"),
    (Table("t", "表", "T", (LABEL, WEIGHT), rows=(Row("a", "甲"), Row("a", "乙")), label_column="item"), (),
     "duplicate row keys"),
    (Table("t", "表", "T", (LABEL, WEIGHT, Field("score", "分", "S", "score", party="nobody")), weights="weight",
           scores=("score",)), (), "names no text field"),
    (Table("t", "表", "T", (LABEL, Field("weight", "权重", "W", "percent", scale=(1, 5)))), (), "scale is for score"),
    (Table("t", "表", "T", (LABEL, Field("score", "分", "S", "score", scale=(5, 1)))), (), "scale must be"),
    (Table("t", "表", "T", (LABEL, WEIGHT), weights="weight", total_label="合计"), (Field("t_computed", "x", "x", "text"),),
     "duplicate key 't_computed'"),
])
def test_a_scoring_definition_the_engine_cannot_serve_is_refused(table, fields, message):
    with pytest.raises(ValueError, match=message):
        check_spec(_spec(table, *fields))
