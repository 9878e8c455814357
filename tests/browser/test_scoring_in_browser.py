"""Weighted scoring in Debian's Chromium: for random weights and scores,
typed as people type them (trailing zeros, full-width digits, a % sign),
the totals the page computes while the rep types, the totals the server
stores when he saves, and the totals printed in the sheet's PDF are the same,
and equal the exact Σ 权重 × 评分 rounded half up to two decimals."""
from __future__ import annotations

import re
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.formkit.scoring import percent_text
from salestrack.models import Record
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.formkit.formkit_samples import exact_total

pytestmark = pytest.mark.browser

GRADES = {"customer_grade": [[80, "VIP"], [60, "重要"], [0, "一般"]]}
WIDE = str.maketrans("0123456789.%", "０１２３４５６７８９．％")


@pytest.fixture
def rep(app, factory, page):
    """The rep, signed in, and his project; 级别 thresholds configured."""
    app.config["GRADE_THRESHOLDS"] = GRADES
    team, manager, rep, _ = factory.team_with_people()
    project = factory.project(rep, factory.customer(rep, name="苏州恒力精密机械有限公司"), name="数控车间 MES")
    sign_in(page, rep.username, PASSWORD)
    return page, project


def plain(h: int) -> str:
    """Hundredths as the shortest decimal: 3450 → '34.5'."""
    return f"{h // 100}.{h % 100:02d}".rstrip("0").rstrip(".")


def as_typed(draw, h: int, percent: bool) -> str:
    """A number written one of the ways people write it."""
    text = plain(h)
    style = draw(st.sampled_from(["plain", "zeros", "wide", "percent"]))
    if style == "zeros":
        return f"{h // 100}.{h % 100:02d}"
    if style == "wide":
        return text.translate(WIDE)
    return text + "%" if style == "percent" and percent else text


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "sheet.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, check=True, timeout=60).stdout
    return re.sub(r"\s+", "", out.decode("utf-8"))


@pytest.mark.parametrize("key", ["competitor_analysis", "customer_assessment"])
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_page_server_and_pdf_give_the_same_weighted_totals(rep, key, data, tmp_path):
    page, project = rep
    spec = registry.get(key)
    table = next(t for t in spec.tables() if t.weights)
    n = len(table.rows)
    if data.draw(st.booleans(), label="weights add up to 100 %"):
        cuts = sorted(data.draw(st.lists(st.integers(0, 10_000), min_size=n - 1, max_size=n - 1)))
        weights = [b - a for a, b in zip([0, *cuts], [*cuts, 10_000], strict=True)]
    else:  # a draft on its way: any weights
        weights = data.draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n))
    scores = {}
    for col in table.scores:
        low, high = table.column(col).scale or (0, 100)
        scores[col] = data.draw(st.lists(st.one_of(st.none(), st.integers(low * 100, high * 100)),
                                         min_size=n, max_size=n), label=col)

    page.goto(f"/projects/{project.id}/sheets/{key}/new")
    for index in range(n):
        page.get_by_label(f"{table.label} 第{index + 1}行 权重", exact=True).fill(
            as_typed(data.draw, weights[index], percent=True))
        for col in table.scores:
            if scores[col][index] is not None:
                label = table.column(col).label
                page.get_by_label(f"{table.label} 第{index + 1}行 {label}", exact=True).fill(
                    as_typed(data.draw, scores[col][index], percent=False))

    expected = {col: exact_total([plain(w) for w in weights], [None if s is None else plain(s) for s in scores[col]])
                if any(s is not None for s in scores[col]) else "" for col in table.scores}
    expected_sum = percent_text(sum(weights))
    on_page = {col: page.locator(f"#{table.key}-total-{col}").inner_text() for col in table.scores}
    assert on_page == expected
    assert page.locator(f"#{table.key}-sum-{table.weights}").inner_text() == expected_sum
    grades = {}
    if table.grade:
        grades = {col: page.locator(f"#{table.key}-grade-{col}").inner_text() for col in table.scores}

    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(re.compile(r"/records/\d+$"))
    record_id = int(page.url.rsplit("/", 1)[-1])
    db.session.rollback()  # read what the server committed
    stored = db.session.get(Record, record_id).data[table.computed_key]
    assert stored["totals"] == expected and stored["weights"] == expected_sum
    assert stored["grades"] == grades

    response = page.context.request.get(f"{page.url}/pdf")
    assert response.ok
    printed = pdf_text(response.body(), tmp_path)
    total_row = table.total_label + expected_sum + "".join(expected[col] for col in table.scores)
    assert total_row in printed, printed[-400:]
    if table.grade:
        assert table.grade.label + "".join(grades.values()) in printed
