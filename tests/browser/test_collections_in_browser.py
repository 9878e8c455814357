"""The 回款计划 in Chromium: the owner adds an instalment and records what
came in; the section updates in place, an error stands next to its field
and what was typed stays (issue 10, collections on the project)."""
from decimal import Decimal

import pytest
import sqlalchemy as sa

from salestrack import operations
from salestrack.extensions import db
from salestrack.models import Instalment
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_owner_adds_an_instalment_in_place_and_errors_stay_by_the_field(page, factory):
    team, manager, rep, _ = factory.team_with_people()
    project = factory.project(rep, name="数控车间 MES", amount=Decimal("120"))
    operations.change_stage(rep, project, "won", "框架协议直接签约")
    sign_in(page, rep.username, PASSWORD)
    page.goto(f"/projects/{project.id}")
    page.evaluate("window.__same_page = true")
    section = page.locator("#collections")
    section.get_by_label("计划日期").last.fill("2026-10-31")
    section.get_by_label("计划金额（万元）").last.fill("36")
    section.get_by_label("实际金额（万元）").last.fill("36")  # the date is missing
    section.get_by_role("button", name="添加").click()
    page.wait_for_selector("#new-actual_date-error:has-text('请同时填写实际回款日期')")
    assert page.locator("#new-planned_amount").input_value() == "36"
    page.locator("#new-actual_date").fill("2026-11-05")
    page.locator("#collections").get_by_role("button", name="添加").click()
    page.wait_for_selector("#collections :text('已添加第 1 期回款计划')")
    assert "已回款 36.00 万元" in page.inner_text("#collections")
    assert page.evaluate("window.__same_page") is True  # no reload
    db.session.rollback()
    item = db.session.scalar(sa.select(Instalment))
    assert (item.seq, item.planned_amount, item.actual_amount) == (1, Decimal("36.00"), Decimal("36.00"))
