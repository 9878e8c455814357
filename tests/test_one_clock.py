"""One clock for the department (issue 10, finding 3): every date a person
sees — a new sheet's 日期, a record or project number's year, a delegation
that starts today, a won project's 签约日期, an export file's name, the dates
printed on a sealed PDF — is the date in Shanghai, not the server's UTC date.

Every test runs at 23:30 UTC on 31 December 2026, which is 07:30 on
1 January 2027 in Shanghai: the server's UTC date is yesterday and last year.
The clock keeps ticking from there (time-machine), so logins, tokens and
ordering behave as in real time."""
from datetime import date, datetime, timezone
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
import time_machine
from werkzeug.datastructures import MultiDict

from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.models import Project, Record
from tests.pdf.pdf_helpers import pdf_text
from tests.sheet_samples import html, sheet_form
from tests.signoff_support import approve_all, fill, inbox, page, reload, sign, spec, submit, world  # noqa: F401

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")

UTC_2330 = datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc)
SHANGHAI_DAY = date(2027, 1, 1)  # 07:30 in Shanghai
UTC_DAY = date(2026, 12, 31)


@pytest.fixture
def at_2330_utc():
    with time_machine.travel(UTC_2330, tick=True):
        yield


def served_date(w, user, project, sheet_spec) -> str:
    """The value the new-sheet page puts in the sheet's header date."""
    form = sheet_form(html(w.browser(user).get(f"/projects/{project.id}/sheets/{sheet_spec.key}/new")))
    return form.inputs[sheet_spec.header_date().key].value


@pytest.mark.parametrize("sheet_spec", [s for s in registry.all_specs() if s.header_date()], ids=lambda s: s.key)
def test_a_new_sheet_defaults_to_todays_date_in_shanghai(at_2330_utc, world, sheet_spec):
    assert served_date(world, world.rep, world.project, sheet_spec) == SHANGHAI_DAY.isoformat()


def test_numbers_made_on_new_years_eve_at_2330_utc_carry_the_new_year(at_2330_utc, world):
    w = world
    browser = w.browser(w.rep)
    response = browser.post("/projects/new", data={
        "name": "恒力精机 WMS 项目", "customer_id": w.project.customer_id, "probability": "20", "customer_class": "B"})
    assert response.status_code == 302
    project = db.session.get(Project, int(response.headers["Location"].rsplit("/", 1)[-1]))
    assert project.project_no.startswith("XM-2027-")
    record_response = browser.post(f"/projects/{w.project.id}/sheets/phone_log/new",
                                   data=MultiDict(fill(spec("phone_log"), w) + [("action", "draft")]))
    assert record_response.status_code == 302
    record = db.session.scalars(sa.select(Record).order_by(Record.id.desc())).first()
    assert "-2027-" in record.number
    assert record.number in page(w, w.rep, "/records/")


def test_a_delegation_starting_today_is_active_today(at_2330_utc, world):
    w = world
    delegations = html(w.browser(w.manager).get("/delegations/"))
    starts = delegations.get_element_by_id("starts_on").get("value")
    assert starts == SHANGHAI_DAY.isoformat()  # the form offers today, in Shanghai
    response = w.browser(w.manager).post("/delegations/", data={
        "deputy": str(w.director.id), "starts_on": starts, "ends_on": "2027-01-05"}, follow_redirects=True)
    assert f"已委托 {w.director.name}" in response.get_data(as_text=True)
    assert "生效中" in page(w, w.manager, "/delegations/")
    assert "未开始" not in page(w, w.manager, "/delegations/")

    sheet = spec("resource_request")
    w.browser(w.rep).post(f"/projects/{w.project.id}/sheets/{sheet.key}/new",
                          data=MultiDict(fill(sheet, w) + [("action", "draft")]))
    record = db.session.scalars(sa.select(Record).order_by(Record.id.desc())).first()
    submit(w, record)
    assert record.id in inbox(w, w.director)  # the deputy may sign today
    assert "已签署" in sign(w, w.director, record, comment="代李娜经理同意").get_data(as_text=True)


def test_a_project_won_at_0730_in_shanghai_is_signed_that_day(at_2330_utc, world):
    w = world
    assert w.browser(w.rep).post(f"/projects/{w.project.id}/stage",
                                 data={"stage": "won", "reason": "客户签约"}).status_code == 302
    project = db.session.get(Project, w.project.id)
    assert (project.stage, project.signed_at) == ("won", SHANGHAI_DAY)


@pytest.mark.parametrize("url, who, name", [
    ("/funnel/export/projects.xlsx", "director", "项目清单-20270101.xlsx"),
    ("/funnel/export/funnel.xlsx", "director", "销售漏斗表-20270101.xlsx"),
    ("/funnel/export/forecast.xlsx", "director", "销售预测表-20270101.xlsx"),
    ("/audit/export.csv", "auditor", "审计日志-20270101.csv"),
])
def test_export_file_names_carry_todays_date_in_shanghai(at_2330_utc, world, url, who, name):
    response = world.browser(getattr(world, who)).get(url)
    assert response.status_code == 200
    assert name in unquote(response.headers["Content-Disposition"])


def test_a_sealed_pdf_prints_the_same_date_for_the_same_day(at_2330_utc, world, tmp_path):
    """The sheet's 联系日期 as the page offered it and the signatures' times:
    one day, 2027-01-01, nowhere the server's UTC date."""
    w = world
    sheet = spec("phone_log")
    offered = served_date(w, w.rep, w.project, sheet)
    data = [(k, offered if v == UTC_DAY.isoformat() else v) for k, v in fill(sheet, w)]
    data = [(k, offered) if k == "date" else (k, v) for k, v in data]
    assert w.browser(w.rep).post(f"/projects/{w.project.id}/sheets/{sheet.key}/new",
                                 data=MultiDict(data + [("action", "draft")])).status_code == 302
    record = db.session.scalars(sa.select(Record).order_by(Record.id.desc())).first()
    submit(w, record)
    approve_all(w, record)
    reload(record)
    assert record.status == "approved"
    response = w.browser(w.rep).get(f"/records/{record.id}/pdf")
    assert response.status_code == 200
    text = pdf_text(response.data, tmp_path)
    assert "2027-01-01" in text and "2027-01-01 07:3" in text  # the sheet's date and the signature time
    assert UTC_DAY.isoformat() not in text
