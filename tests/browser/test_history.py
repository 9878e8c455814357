"""Back and Forward always restore a whole page, whatever htmx swapped in
between (issue 14: after many filter steps on a list, Back showed only the
results table, without navigation or filter form)."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
STEPS = 16  # more than htmx keeps in its history cache (10), with room for steps that share an entry


def test_back_and_forward_after_many_filter_steps_show_whole_pages(page, factory):
    team, manager, rep, _ = factory.team_with_people()
    customer = factory.customer(rep, name="苏州恒力精密机械有限公司")
    for n in range(3):
        factory.project(rep, customer, name=f"数控车间 MES 第{n + 1}期")
    sign_in(page, rep.username, PASSWORD)
    page.goto("/projects/")
    search = page.get_by_label("搜索")
    for step in range(STEPS):
        with page.expect_response(lambda r: "/projects/?" in r.url):
            search.fill(f"第{step % 3 + 1}期" if step % 2 else f"MES {step}")
    navigation = page.get_by_role("navigation", name="主导航")
    rows = page.locator("#project-rows")
    # Steps typed quickly may share one history entry; what matters is that
    # every entry Back reaches is a whole page, well past htmx's cache.
    backs = 0
    while True:
        page.go_back()
        page.wait_for_load_state()
        expect(navigation).to_have_count(1)
        if "/projects/" not in page.url:
            break
        backs += 1
        expect(search, f"Back #{backs} shows no whole page: {page.url}").to_have_count(1)
        expect(rows).to_have_count(1)
        assert backs <= STEPS, "Back never leaves the list"
    assert backs > 10, f"only {backs} list entries in the history"
    for step in range(3):
        page.go_forward()
        page.wait_for_load_state()
        expect(navigation).to_have_count(1)
        expect(search, f"Forward #{step + 1} shows no whole page").to_have_count(1)
        expect(rows).to_have_count(1)
