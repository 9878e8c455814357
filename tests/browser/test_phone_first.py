"""Every sheet and every list on a phone (375 px) and in a desktop window
(1,280 px): no page scrolls sideways, and every required field is on screen
and fillable by its label (issue 14: a phone log row showed 3 of its 12
columns on a phone, and hidden cell labels made the page 1,774 px wide in a
1,280 px window)."""
import re

import pytest

from salestrack.formkit import registry
from salestrack.formkit.spec import Table
from salestrack.reports import REPORTS
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.sheet_samples import new_url

pytestmark = pytest.mark.browser

WIDTHS = (375, 1280)
SHEETS = registry.all_specs()
LISTS = ("/", "/projects/", "/customers/", "/records/", "/inbox/", "/followups/", "/funnel/",
         "/handover/", "/notifications/", "/reports/") + tuple(f"/reports/{key}" for key, _ in REPORTS)


@pytest.fixture
def office(factory):
    team, manager, rep, _ = factory.team_with_people()
    project = factory.project(rep, factory.customer(rep, name="苏州恒力精密机械有限公司"), name="数控车间 MES 二期改造")
    return rep, manager, project


def _open(browser, live_server, user, width):
    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": 800},
                                  is_mobile=width < 720, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, user.username, PASSWORD)
    return context, page


def _fits(page, what):
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{what} is {overflow}px wider than the {page.viewport_size['width']}px window"


def _on_screen(page, locator, what):
    locator.scroll_into_view_if_needed()
    assert locator.is_visible() and locator.is_editable(), f"{what} cannot be filled"
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    assert box and box["x"] >= -1 and box["x"] + box["width"] <= width + 1, \
        f"{what} lies outside the {width}px window (x={box and box['x']:.0f}, w={box and box['width']:.0f})"


def _labelled(page, label):
    return page.get_by_label(re.compile(rf"^{re.escape(label)}(（万元）)?\*?$")).first


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.key)
def test_a_sheet_fits_the_screen_and_every_required_field_is_fillable(browser, live_server, office, sheet, width):
    rep, _, project = office
    context, page = _open(browser, live_server, rep, width)
    try:
        page.goto(new_url(project, sheet))  # on the customer for a customer-level sheet
        _fits(page, f"new {sheet.key}")
        for item in sheet.items():
            if isinstance(item, Table):
                printed = item.label_column if item.fixed(0) and not item.fixed(0).typed else None
                for col in item.columns:
                    unit = f"（{col.unit}）" if col.unit else ""
                    cell = page.get_by_label(f"{item.label} 第1行 {col.label}{unit}", exact=True)
                    if col.key == printed:  # a preprinted row's label is shown, not typed
                        label = page.locator(f"#tbl-{item.key} th.row-label").first
                        assert label.is_visible() and label.inner_text().endswith(item.rows[0].label)
                    elif col.kind != "checks":
                        _on_screen(page, cell, f"{sheet.key}: {item.label} 第1行 {col.label}")
            elif item.required and not item.source and item.kind not in ("checks", "files"):
                _on_screen(page, _labelled(page, item.label), f"{sheet.key}: {item.label}")
            elif item.required and item.kind == "checks":
                group = page.get_by_role("group", name=re.compile(rf"^{re.escape(item.label)}\*?$"))
                _on_screen(page, group.get_by_role("checkbox").first, f"{sheet.key}: {item.label}")
        page.get_by_role("button", name="保存草稿").click()
        page.wait_for_url(re.compile(r"/records/\d+$"))
        _fits(page, f"{sheet.key} record page")
        page.goto(page.url + "/edit")
        _fits(page, f"{sheet.key} edit page")
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_list_fits_the_screen(browser, live_server, office, width):
    rep, manager, project = office
    for user in (rep, manager):
        context, page = _open(browser, live_server, user, width)
        try:
            for path in LISTS + (f"/projects/{project.id}", f"/customers/{project.customer_id}"):
                page.goto(path)
                _fits(page, f"{path} for {user.role}")
        finally:
            context.close()


@pytest.mark.parametrize("path,column", [("/projects/", "阶段"), ("/customers/", "企业名称"), ("/followups/?within=30", "应跟进日期")])
def test_on_a_phone_a_list_row_is_a_card_with_every_value_named(browser, live_server, office, factory, path, column):
    """At 375 px a list row shows all its values, each under its column's
    name, inside the window: nothing to scroll sideways for the stage, the
    status or the due date (also after a filter step swapped the rows)."""
    rep, _, project = office
    context, page = _open(browser, live_server, rep, 375)
    try:
        page.goto(path)
        cell = page.locator(f"table.list tbody tr:first-child td[data-label='{column}']")
        assert cell.count() == 1, f"{path}: no {column} cell in the first row"
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 376, f"{column} lies outside the window"
        label = cell.evaluate("td => getComputedStyle(td, '::before').content")
        assert label == f'"{column}"'
        _fits(page, path)
    finally:
        context.close()
