"""axe-core (npm, pinned in package-lock.json) over every page of the URL
map, for every role, in Chromium: no serious or critical violation (issue 14:
two elements shared id="stage", the checks group's name ran its options
together, status tags lacked contrast). New routes are covered when they
are registered."""
from pathlib import Path

import pytest

from salestrack.formkit import registry
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD, TEST_DB
from tests.test_access import GET_RULES, ROLES, _ids, _url, world  # noqa: F401  (world is a fixture)

# The markup checked here does not depend on the database: the SQLite run checks it.
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(TEST_DB != "sqlite", reason="same pages on every database; checked on SQLite")]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# Downloads and fragments, not pages a person reads.
NOT_PAGES = {"records.attachment", "audit.export", "funnel.export_forecast", "funnel.export_funnel",
             "funnel.export_projects", "signoff.record_pdf", "records.row", "signoff.pdf_links"}
FILES = (".xlsx", ".csv", ".ics", ".pdf", ".zip")  # downloads by their name
RUN_AXE = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
  .filter(v => ['serious', 'critical'].includes(v.impact))
  .map(v => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`)"""


@pytest.mark.parametrize("role", ROLES)
def test_no_page_has_a_serious_accessibility_violation(browser, live_server, world, role):
    teams, people = world
    user = people[role]
    urls = [_url(rule, _ids(teams["own"])) for rule in GET_RULES
            if rule.endpoint not in NOT_PAGES and not rule.rule.endswith(FILES)]
    if role == "rep":
        own = teams["own"]
        urls += [f"/customers/{own['customer'].id}/sheets/{spec.key}/new" if spec.filed_on == "customer"
                 else f"/projects/{own['project'].id}/sheets/{spec.key}/new" for spec in registry.all_specs()]
    # The checker is injected into each page: the page's CSP (no inline script)
    # would refuse it, so only this test's browser context bypasses the CSP.
    context = browser.new_context(base_url=live_server, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    found, checked = [], 0
    try:
        sign_in(page, user.username, PASSWORD)
        for url in urls:
            response = page.goto(url)
            if response is None or response.status != 200 or "html" not in response.headers.get("content-type", ""):
                continue
            page.add_script_tag(path=str(AXE))
            found += [f"{url}: {v}" for v in page.evaluate(RUN_AXE)]
            checked += 1
    finally:
        context.close()
    assert checked >= 5, f"only {checked} pages open for {role}"
    assert not found, "\n".join(found)
