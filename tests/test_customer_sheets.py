"""Customer-level sheets (营销活动表, 异常客户信息表: paper-forms-toolkit.md,
"Customer-level records") are filed against the customer, not a project:
offered and listed on the customer page, seen by whoever sees the customer,
signed by its 信息审核人, printed with their record-keeping block, listed and
exported as 客户档案. And the roles a sheet plays are its definition's: a
sheet registered at test time lands in the worklist or provides source values
without an engine change."""
from dataclasses import replace

import pytest
import sqlalchemy as sa
from lxml import html as lxml_html

from salestrack import operations
from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.models import AuditEvent, Record
from tests.archive_helpers import approve, make_people
from tests.sheet_samples import count, file_sheet, make_world, new_url

pytestmark = pytest.mark.usefixtures("worker")  # approvals are sealed by the queue's worker

CUSTOMER_SHEETS = [s for s in registry.all_specs() if s.filed_on == "customer"]


@pytest.fixture
def world(factory):
    return make_world(factory)


def _text(response) -> str:
    return lxml_html.fromstring(response.get_data(as_text=True)).text_content()


def test_the_toolkit_has_its_two_customer_level_sheets():
    assert [s.title for s in CUSTOMER_SHEETS] == ["营销活动表", "异常客户信息表"]


@pytest.mark.parametrize("spec", CUSTOMER_SHEETS, ids=lambda s: s.key)
def test_offered_and_listed_on_the_customer_page_not_the_project(client, world, switch, spec):
    switch(world.rep)
    customer_page = client.get(f"/customers/{world.customer.id}").get_data(as_text=True)
    assert new_url(world.project, spec) in customer_page
    project_page = client.get(f"/projects/{world.project.id}").get_data(as_text=True)
    assert f"/sheets/{spec.key}/new" not in project_page
    assert client.get(f"/projects/{world.project.id}/sheets/{spec.key}/new").status_code == 404
    # a project sheet is not filed on a customer either
    project_sheet = next(s for s in registry.all_specs() if s.filed_on == "project")
    assert client.get(f"/customers/{world.customer.id}/sheets/{project_sheet.key}/new").status_code == 404

    record = file_sheet(client, world, spec)
    assert record.project_id is None and record.customer_id == world.customer.id
    page = client.get(f"/records/{record.id}")
    assert page.status_code == 200
    assert "客户档案" in _text(page) and world.customer.name in _text(page)
    listed = _text(client.get(f"/customers/{world.customer.id}"))
    assert record.number in listed and spec.title in listed
    mine = _text(client.get("/records/?q=华东精密"))  # found by its customer, though it has no project
    assert record.number in mine and "（客户档案）" in mine
    created = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "create",
                                                            AuditEvent.target_id == record.id))
    assert created.detail["customer"] == world.customer.customer_no and "project" not in created.detail


@pytest.mark.parametrize("spec", CUSTOMER_SHEETS, ids=lambda s: s.key)
def test_who_sees_and_files_it_follows_the_customer(client, world, switch, spec):
    switch(world.rep)
    record = file_sheet(client, world, spec)
    url, new = f"/records/{record.id}", new_url(world.project, spec)
    for who, view, file in ((world.manager, 200, 200), (world.people["director"], 200, 200),
                            (world.people["auditor"], 200, 403), (world.other_rep, 404, 404),
                            (world.people["implementation"], 404, 404), (world.people["hr"], 404, 404)):
        switch(who)
        assert [client.get(url).status_code, client.get(new).status_code] == [view, file], who.name
    switch(world.other_rep)
    assert client.post(new, data={"action": "draft"}).status_code == 404
    assert count(Record) == 1


@pytest.mark.parametrize("spec", CUSTOMER_SHEETS, ids=lambda s: s.key)
def test_signed_by_the_information_reviewer_and_printed_with_its_record_block(app, factory, spec, tmp_path):
    from salestrack import pdf
    from salestrack.printing import print_document
    from tests.pdf.pdf_helpers import pdf_text, squeeze
    people = make_people(factory)
    customer = factory.customer(people.author, name="华东精密机械有限公司")
    from tests.archive_helpers import sheet_data
    data, printed, attachments = sheet_data(spec, people, rows=2)
    with pytest.raises(operations.OperationError, match="应在客户档案中填写"):
        operations.create_record(people.author, factory.project(people.author, customer), spec, data)
    record = operations.create_record(people.author, None, spec, data, customer=customer)
    assert approve(record, spec, people.author) == [people.manager.name]  # 信息审核人: the team's manager
    assert record.status == "approved" and record.pdf_sha256

    doc = print_document(record)
    assert doc["header"] == []  # the paper prints no header line; 编号 runs at the top of the page
    assert [i["label"] for i in doc["record_keeping"]] == [
        "信息登记日期", "信息采集人", "信息录入人", "信息审核人", "信息审核标记", "信息修改记录"]
    text = squeeze(pdf_text(pdf.render_pdf(doc), tmp_path))
    positions = [text.index(label) for label in ("信息采集人", "信息录入人", "信息审核人", "信息审核标记")]
    assert positions == sorted(positions)
    assert text.count("信息采集人") == 1 and people.manager.name in text and customer.name in text


def test_the_archive_export_names_the_customer_file_and_filters_by_the_customers_team(app, factory):
    from salestrack import archive
    from salestrack.templating import filed_under
    people = make_people(factory)
    spec = CUSTOMER_SHEETS[0]
    customer = factory.customer(people.author, name="苏州恒力精密机械有限公司")
    assert customer.team_id == people.team.id
    from tests.archive_helpers import sheet_data
    data, _, _ = sheet_data(spec, people, rows=1)
    record = operations.create_record(people.author, None, spec, data, customer=customer)
    approve(record, spec, people.author)
    from salestrack import clock
    today = clock.local_date(record.approved_at)
    found = archive.export_items(archive.ExportCriteria(start=today, end=today, team=people.team, sheet=spec.key))
    assert [a.record_id for a in found] == [record.id]
    other = factory.team("华南片区")
    assert archive.export_items(archive.ExportCriteria(start=today, end=today, team=other, sheet=spec.key)) == []
    row = archive.manifest_row(found[0], "x.pdf")
    assert row[2] == "（客户档案）" and row[3] == customer.name
    assert filed_under(record) == f"{customer.name}（客户档案）"


# ── roles are options of the definition ───────────────────────────────────
@pytest.fixture
def role_sheets():
    """A second worklist sheet and a second source of values, registered now."""
    handover, review = registry.get("handover"), registry.get("contract_review")
    receiving = replace(handover, key="site_acceptance", title="现场验收交接单", prefix="XY", order=90)
    source = replace(review, key="contract_amendment", title="合同变更记录", prefix="BG", order=91,
                     provides="amendment")
    reading = replace(handover, key="amendment_notice", title="变更通知单", prefix="TZ", order=92, worklist=(),
                      sections=tuple(replace(section, items=tuple(
                          replace(item, source="amendment.contract_no") if getattr(item, "key", "") == "contract_no"
                          else item for item in section.items)) for section in handover.sections))
    specs = [registry.register(s) for s in (receiving, source, reading)]
    yield specs
    for spec in specs:
        registry.unregister(spec.key)


def test_any_sheet_can_land_in_the_worklist_or_provide_values(app, factory, client, login, role_sheets):
    from tests.archive_helpers import sheet_data
    receiving, source, reading = role_sheets
    people = make_people(factory)
    project = factory.project(people.author, name="二期改造")
    data, _, _ = sheet_data(receiving, people, rows=1)
    record = operations.create_record(people.author, project, receiving, data)
    approve(record, receiving, people.author)
    assert record.impl_status == "received"
    pm = db.session.get(type(people.author), record.chain[-1]["signer_id"])
    login(pm)
    worklist = _text(client.get("/handover/"))
    assert record.number in worklist and "现场验收交接单" in worklist

    amendment, _, _ = sheet_data(source, people, rows=1)
    amendment["contract_no"] = "HT-2026-BG-7"
    operations.create_record(people.author, project, source, amendment)
    data, _, _ = sheet_data(reading, people, rows=1)
    notice = operations.create_record(people.author, project, reading, data)
    assert notice.data["contract_no"] == "HT-2026-BG-7"  # read from the sheet that provides 'amendment'
