"""Every filter of every list reloads the list when it is changed, not only
the first one (the audit log's 操作 and 操作人 did nothing: the form listened
to its first select only)."""
import pytest

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
LISTS = ("/projects/", "/records/", "/funnel/", "/funnel/targets", "/audit/", "/followups/")


@pytest.fixture
def office(factory):
    team, manager, rep, rep2 = factory.team_with_people()
    factory.team_with_people()
    customer = factory.customer(rep, name="苏州恒力精密机械有限公司")
    factory.project(rep, customer, name="数控车间 MES")
    factory.project(rep2, customer, name="仓储改造")
    return {"director": factory.user("director"), "auditor": factory.user("auditor")}


@pytest.mark.parametrize("path", LISTS)
def test_changing_any_filter_reloads_the_list(page, office, path):
    user = office["auditor" if path == "/audit/" else "director"]
    sign_in(page, user.username, PASSWORD)
    page.goto(path)
    form = page.locator("form[hx-get]").first
    selects = form.locator("select")
    assert selects.count() >= 1, f"{path} has no filter to try"
    for index in range(selects.count()):
        select = selects.nth(index)
        values = [v for v in select.locator("option").evaluate_all("os => os.map(o => o.value)")
                  if v != select.input_value()]
        if not values:
            continue
        name = select.get_attribute("name")
        with page.expect_response(lambda r, name=name: f"{name}=" in r.url, timeout=5_000):
            select.select_option(values[-1])
