"""Scoring tables through the pages, as the rep uses them: weights that do
not add up to 100 % are refused at submission with the message under the
权重 column and everything typed kept; a draft on the way is saved and cannot
be sent to sign-off; the computed totals and 级别 are stored with the record
and shown read-only, never taken from what the browser posts."""
import pytest

from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.models import Record
from tests.sheet_samples import count, file_sheet, form_values, html, make_world, new_url, sheet_form

SCORING = [s for s in registry.all_specs() if any(t.weights for t in s.tables())]


@pytest.fixture
def world(factory):
    return make_world(factory)


def weighted(spec):
    return next(t for t in spec.tables() if t.weights)


def column_of(cell) -> int:
    """The position of a table cell among its row's cells."""
    return cell.getparent().index(cell)


@pytest.mark.parametrize("spec", SCORING, ids=lambda s: s.key)
def test_weights_that_do_not_add_up_to_100_are_refused_under_the_weight_column(client, world, login, spec):
    login(world.rep)
    table = weighted(spec)
    filled = world.fill(spec)
    first = f"{table.key}-0-{table.weights}"
    filled.replace(first, str(int(filled.values_of(first)[0]) - 1))
    response = client.post(new_url(world.project, spec), data=filled.post_data("submit"))
    assert response.status_code == 400
    assert count(Record) == 0
    page = html(response)
    error = page.get_element_by_id(f"{table.key}-{table.weights}-error")
    assert error.text_content() == "权重合计须为 100%，现为 99%"
    cell = error.getparent()
    assert cell.xpath("ancestor::tfoot") and "has-error" in cell.get("class")
    head = page.xpath(f"//table[@id='tbl-{table.key}']/thead/tr/th")
    assert head[column_of(cell)].text.strip() == "权重"  # the message sits in the 权重 column
    posted = {name: [v.replace("\r\n", "\n").strip() for v in filled.values_of(name)] for name, _ in filled.pairs}
    kept = form_values(sheet_form(page))
    assert {name: kept.get(name) for name in posted} == posted  # nothing typed is lost
    assert page.get_element_by_id(f"{table.key}-sum-{table.weights}").text_content() == "99%"


@pytest.mark.parametrize("spec", SCORING, ids=lambda s: s.key)
def test_a_draft_on_the_way_to_100_is_saved_but_not_sent_to_sign_off(client, world, login, spec):
    login(world.rep)
    table = weighted(spec)
    filled = world.fill(spec)
    first = f"{table.key}-0-{table.weights}"
    filled.replace(first, str(int(filled.values_of(first)[0]) - 1))
    record = file_sheet(client, world, spec, filled)
    assert record.data[table.computed_key]["weights"] == "99%"
    page = client.get(f"/records/{record.id}/submit")
    assert "确认提交" not in page.get_data(as_text=True)
    client.post(f"/records/{record.id}/submit", data={"action": "submit"})
    db.session.refresh(record)
    assert record.status == "draft"


def test_totals_and_grade_are_the_servers_stored_and_shown_read_only(app, client, world, login):
    app.config["GRADE_THRESHOLDS"] = {"customer_grade": [[80, "VIP"], [60, "重要"], [0, "一般"]]}
    spec = registry.get("customer_assessment")
    table = weighted(spec)
    login(world.rep)
    filled = world.fill(spec)
    for index in range(len(table.rows)):
        filled.replace(f"{table.key}-{index}-score_1", "85")
        filled.replace(f"{table.key}-{index}-score_2", "60.5")
    # a browser posting its own totals changes nothing
    response = client.post(new_url(world.project, spec),
                           data=filled.post_data("draft", **{table.computed_key: "100", "scores-total-score_1": "99"}))
    assert response.status_code == 302
    record = db.session.get(Record, int(response.headers["Location"].rsplit("/", 1)[-1]))
    assert record.data[table.computed_key] == {"weights": "100%", "totals": {"score_1": "85.00", "score_2": "60.50"},
                                               "grades": {"score_1": "VIP", "score_2": "重要"}}
    view = html(client.get(f"/records/{record.id}"))
    foot = [[c.text_content().strip() for c in tr.xpath("./th|./td")]
            for tr in view.xpath("//div[contains(@class, 'sheet-view')]//tfoot/tr")]
    assert foot == [["综合评价", "100%", "85.00", "60.50"], ["级别", "", "VIP", "重要"]]
    edit = html(client.get(f"/records/{record.id}/edit"))
    assert edit.get_element_by_id(f"{table.key}-total-score_1").text_content() == "85.00"
    assert edit.get_element_by_id(f"{table.key}-grade-score_2").text_content() == "重要"
    assert not edit.xpath(f"//input[starts-with(@name, '{table.computed_key}')]")  # computed, never typed
    # the preprinted indicators are printed, not inputs
    assert not edit.xpath(f"//input[@name='{table.key}-0-{table.label_column}']")
    assert [g.text_content() for g in edit.xpath(f"//table[@id='tbl-{table.key}']//tr[@class='row-group']/th")] == \
        ["行业因素", "生命周期", "规模状况", "组织因素", "发展目标", "经营状况", "客户关系"]


def test_a_grade_threshold_change_does_not_touch_a_stored_sheet(app, client, world, login):
    spec = registry.get("customer_assessment")
    table = weighted(spec)
    login(world.rep)
    record = file_sheet(client, world, spec)
    assert record.data[table.computed_key]["grades"] == {"score_1": "", "score_2": ""}  # none configured
    app.config["GRADE_THRESHOLDS"] = {"customer_grade": [[0, "一般"]]}
    view = html(client.get(f"/records/{record.id}"))
    assert "一般" not in view.xpath("//div[contains(@class, 'sheet-view')]//tfoot")[0].text_content()
