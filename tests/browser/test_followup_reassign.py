"""跟进提醒 → 转交 in Chromium: choosing the new owner must not reload the
list (the filter form reacts only to its own inputs), and 转交 gives the
project to the rep chosen (issue 10, finding 4)."""
from datetime import timedelta

import pytest

from salestrack.extensions import db
from salestrack.models import Project, ProjectEvent, utcnow
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_manager_picks_another_rep_and_reassigns_to_him(page, factory):
    team, manager, rep, rep2 = factory.team_with_people()
    project = factory.project(rep, name="久未跟进的改造项目", customer_class="A")
    stored = db.session.get(Project, project.id)
    stored.last_followup_at = utcnow() - timedelta(days=40)
    db.session.commit()
    sign_in(page, manager.username, PASSWORD)
    page.goto("/followups/")
    requests = []
    page.on("request", lambda r: requests.append(r.url) if "/followups/?" in r.url or r.url.endswith("/followups/") else None)
    row = page.locator(f"#limit-{project.id}")
    row.get_by_label("转交给").select_option(label=rep2.name)
    row.get_by_label("原因").fill("李明调岗，由王强接手")
    page.wait_for_timeout(500)  # time for a reload, if one were triggered
    assert requests == []  # choosing in the row did not reload the list
    assert row.get_by_label("转交给").input_value() == str(rep2.id)
    assert row.get_by_label("原因").input_value() == "李明调岗，由王强接手"
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="转交").click()
    page.wait_for_selector(".flash")
    assert f"转交给 {rep2.name}" in page.inner_text("main")
    db.session.rollback()  # see what the server committed
    assert db.session.get(Project, project.id).owner_id == rep2.id
    event = db.session.query(ProjectEvent).filter_by(kind="reassigned").one()
    assert event.reason == "李明调岗，由王强接手"


def test_the_filter_still_reloads_the_list_when_its_own_select_changes(page, factory):
    team, manager, rep, rep2 = factory.team_with_people()
    factory.project(rep, name="甲项目", customer_class="A")
    sign_in(page, manager.username, PASSWORD)
    page.goto("/followups/")
    with page.expect_response(lambda r: "within=30" in r.url):
        page.get_by_label("范围").select_option("30")
    page.wait_for_url(lambda url: "within=30" in url)
