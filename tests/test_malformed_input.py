"""Malformed input gets an answer, not a 500 (issue 15, finding 12): each
input the sweep found, and a missing or altered archived file, answered with
a page that names the problem."""
import os

import pytest

from salestrack import pdf
from salestrack.formkit import registry
from tests.archive_helpers import approve, file_sheet, make_people

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")


@pytest.mark.parametrize("version", ["abc", "1.5", "", "99999999999999999999", "-1"])
def test_a_malformed_version_on_project_edit_is_answered(client, factory, login, version):
    rep = factory.user("rep", factory.team())
    project = factory.project(rep)
    login(rep)
    page = client.post(f"/projects/{project.id}/edit", data={"version": version, "name": "改名后的项目"})
    assert page.status_code < 500


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "nan", "sNaN"])
def test_an_amount_that_is_no_number_is_refused_next_to_the_field(client, factory, login, amount):
    rep = factory.user("rep", factory.team())
    project = factory.project(rep)
    login(rep)
    served = client.served_form(f"/projects/{project.id}/edit")
    page = client.post(f"/projects/{project.id}/edit", data={**served, "amount": amount, "name": project.name,
                                                             "customer_id": str(project.customer_id)})
    assert page.status_code == 400
    assert "请输入有效的金额" in page.get_data(as_text=True) or "金额" in page.get_data(as_text=True)


@pytest.mark.parametrize("role, url", [
    ("auditor", "/audit/?to=9999-12-31"), ("auditor", "/audit/?from=9999-12-31&to=9999-12-31"),
    ("auditor", "/audit/export.csv?to=9999-12-31"),
    ("clerk", "/archive/export?from=2026-01-01&to=9999-12-31"),
    ("clerk", "/archive/export?from=0001-01-01&to=9999-12-31"),
])
def test_a_date_at_the_end_of_the_calendar_is_answered(client, factory, login, role, url):
    login(factory.user(role))
    response = client.get(url)
    response.close()
    assert response.status_code < 500


def test_the_archive_export_says_which_dates_it_takes(client, factory, login):
    login(factory.user("clerk"))
    page = client.post("/archive/export", data={"from": "2026-01-01", "to": "9999-12-31"})
    assert page.status_code == 400 and "有效的开始和结束日期" in page.get_data(as_text=True)


@pytest.fixture
def approved(factory):
    people = make_people(factory)
    spec = registry.get("phone_log")
    record, _ = file_sheet(factory, people, spec, rows=1)
    approve(record, spec, people.author)
    return people, record


@pytest.mark.parametrize("version", [str(2**31), str(2**63), "abc", "-1", ""])
def test_a_pdf_version_beyond_any_id_is_not_found(app, client, login, approved, version):
    people, record = approved
    login(people.author)
    response = client.get(f"/records/{record.id}/pdf", query_string={"version": version})
    response.close()
    assert response.status_code == 404


def test_a_missing_archived_file_is_named_on_a_clear_page(app, client, login, approved):
    people, record = approved
    login(people.author)
    path = pdf.archive_path(app.config["ARCHIVE_DIR"], record.pdf_sha256)
    os.chmod(path, 0o644)
    os.remove(path)
    page = client.get(f"/records/{record.id}/pdf")
    text = page.get_data(as_text=True)
    assert page.status_code == 503
    assert "文件缺失" in text and record.pdf_sha256 in text and "archive verify" in text


def test_an_altered_archived_file_is_named_on_a_clear_page(app, client, login, approved):
    people, record = approved
    login(people.author)
    path = pdf.archive_path(app.config["ARCHIVE_DIR"], record.pdf_sha256)
    os.chmod(path, 0o644)
    path.write_bytes(path.read_bytes() + b"%tampered")
    page = client.get(f"/records/{record.id}/pdf")
    text = page.get_data(as_text=True)
    assert page.status_code == 503
    assert "归档文件已被改动" in text and "archive verify" in text
