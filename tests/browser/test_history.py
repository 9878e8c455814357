"""Back and Forward always restore a whole page, whatever htmx swapped in
between (issue 14: after many filter steps on a list, Back showed only the
results table, without navigation or filter form)."""
import pytest

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
STEPS = 14  # more than htmx keeps in its history cache (10)


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
    for step in range(STEPS):
        page.go_back()
        page.wait_for_load_state()
        assert navigation.count() == 1 and search.count() == 1, f"Back #{step + 1} shows no whole page: {page.url}"
        assert page.locator("#project-rows").count() == 1
    for step in range(3):
        page.go_forward()
        page.wait_for_load_state()
        assert navigation.count() == 1 and search.count() == 1, f"Forward #{step + 1} shows no whole page"
