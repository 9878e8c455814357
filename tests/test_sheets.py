"""Every sheet of the registry through the pages a rep uses: the new, edit and
read-only pages carry every paper label in paper order; a filled sheet comes
back exactly; bad values come back with their messages and what was typed;
values from the project are the server's; who may see, file and edit. Plus a
sheet registered at test time, numbers taken at the same instant, and two
sessions saving the same draft."""
import threading

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from salestrack import operations
from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.formkit.builder import NEED_A_ROW
from salestrack.formkit.kinds import REQUIRED
from salestrack.formkit.spec import Field, FormSpec, Section, Slot, Table, check_spec
from salestrack.models import Attachment, Customer, Project, Record, Revision
from tests.formkit.test_formkit_spec import PAPER
from tests.sheet_samples import (FILES, UPLOADS, bad_inputs, count, file_sheet, form_labels, form_values, html,
                                 make_world, new_url, resubmit, sheet_form, sheet_view, spec_labels,
                                 unlabelled_inputs)

SPECS = registry.all_specs()
SELECTS = ("choice", "checks", "user")


def by_key(spec):
    return spec.key


@pytest.fixture
def world(factory):
    return make_world(factory)



def expected_data(filled, record) -> dict:
    """What record.data should hold, the files replaced by their saved ids."""
    data = dict(filled.stored)
    for key, value in data.items():
        if value is FILES:
            ids = record.data.get(key)
            assert [db.session.get(Attachment, i).filename for i in ids] == [n for n, _ in UPLOADS]
            data[key] = ids
    return data


def check_form_page(spec, response):
    """New/edit page: every label in paper order, every input labelled."""
    assert response.status_code == 200
    form = sheet_form(html(response))
    assert form_labels(form) == spec_labels(spec)
    if spec.key in PAPER:
        assert form_labels(form, tables=False) == [label for label, _, _ in PAPER[spec.key]]
    assert [dt.text for dt in form.xpath(".//dl[@class='facts']//dt")] == ["编号", spec.author_label]
    assert unlabelled_inputs(form) == []
    return form


def round_trip(client, world, spec):
    """New page → save a draft with every field filled → record.data and the
    read-only page hold every value → the edit page holds them too (saving it
    unchanged changes nothing)."""
    check_form_page(spec, client.get(new_url(world.project, spec)))
    filled = world.fill(spec)
    record = file_sheet(client, world, spec, filled)
    assert record.status == "draft" and record.number.startswith(spec.prefix + "-")
    assert record.data == expected_data(filled, record)

    page = client.get(f"/records/{record.id}")
    assert page.status_code == 200
    view = sheet_view(page)
    header_field = spec.header_date()
    date_entry = (header_field.label, filled.shown[header_field.key]) if header_field else \
        ("日期", record.created_at.date().isoformat())
    assert view.header == [("编号", record.number), (spec.author_label, world.rep.name), date_entry]
    body_labels = spec_labels(spec, skip=(header_field,))
    assert view.labels == [label for label, _ in view.header] + body_labels
    if spec.key in PAPER:
        paper = [label for label, _, _ in PAPER[spec.key]]
        if header_field:
            paper.remove(header_field.label)
        rest = list(view.labels[3:])
        for table in spec.tables():  # its legend, before its columns (a column may share its text)
            rest.remove(table.label)
        assert rest == paper
    assert view.fields == [(f.label, filled.shown[f.key]) for f in spec.fields() if f is not header_field]
    assert view.tables == {t.label: filled.shown[t.key] for t in spec.tables()}

    edit = client.get(f"/records/{record.id}/edit")
    check_form_page(spec, edit)
    again = resubmit(client, record, edit)
    assert again.status_code == 302, again.get_data(as_text=True)[:3000]
    db.session.refresh(record)
    assert record.data == expected_data(filled, record)
    assert (record.version, len(record.revisions)) == (1, 1), "saving an unchanged sheet made a new version"
    return record, filled


@pytest.mark.parametrize("spec", SPECS, ids=by_key)
def test_definition_is_valid(spec):
    check_spec(spec)
    assert registry.get(spec.key) is spec


@pytest.mark.parametrize("spec", SPECS, ids=by_key)
def test_every_field_round_trips_through_new_view_and_edit(client, world, login, spec):
    login(world.rep)
    round_trip(client, world, spec)


def invalid_save(client, world, spec, url):
    """Posts the sheet filled in with one bad value per kind; the answer must
    be 400 with each message next to its input and everything typed kept."""
    filled = world.fill(spec)
    bad = bad_inputs(spec)
    assert bad, f"{spec.key}: nothing to get wrong"
    for name, (value, _) in bad.items():
        filled.replace(name, value)
    response = client.post(url, data=filled.post_data("draft"))
    assert response.status_code == 400
    page = html(response)
    for name, (_, message) in bad.items():
        assert message in page.get_element_by_id(f"{name}-error").text_content(), name
        element = page.get_element_by_id(name)  # a checks field is a group of boxes
        assert "true" in (element.get("aria-invalid"), element.getparent().get("aria-invalid")), name
    values = form_values(sheet_form(page))
    kinds = {name: kind for name, kind in _input_kinds(spec)}
    for name in dict(filled.pairs):
        if name in bad and kinds.get(name) in SELECTS:
            continue  # a value that is not an option cannot be shown as chosen
        assert values.get(name) == [v.replace("\r\n", "\n").strip() for v in filled.values_of(name)], name
    for field in (f for f in spec.fields() if f.kind == "files"):
        listed = page.get_element_by_id(f"{field.key}-list").text_content()
        assert all(filename in listed for filename, _ in UPLOADS), "uploaded files were lost"
    return response


def _input_kinds(spec):
    for item in spec.items():
        if isinstance(item, Table):
            for index in range(2):
                for col in item.columns:
                    yield f"{item.key}-{index}-{col.key}", col.kind
        else:
            yield item.key, item.kind


@pytest.mark.parametrize("spec", SPECS, ids=by_key)
def test_invalid_values_come_back_next_to_their_inputs_with_what_was_typed(client, world, login, spec):
    login(world.rep)
    invalid_save(client, world, spec, new_url(world.project, spec))
    assert (count(Record), count(Revision)) == (0, 0)


@pytest.mark.parametrize("spec", SPECS, ids=by_key)
def test_invalid_edit_changes_nothing(client, world, login, spec):
    login(world.rep)
    record = file_sheet(client, world, spec)
    before = dict(record.data)
    invalid_save(client, world, spec, f"/records/{record.id}/edit")
    db.session.refresh(record)
    assert (record.data, record.version, len(record.revisions)) == (before, 1, 1)


@pytest.mark.parametrize("spec", SPECS, ids=by_key)
def test_submitting_needs_the_required_values_a_draft_does_not(client, world, login, spec):
    login(world.rep)
    header = spec.header_date()
    only_date = {header.key: "2026-03-18"} if header else {}
    response = client.post(new_url(world.project, spec), data={**only_date, "action": "submit"})
    assert response.status_code == 400
    page = html(response)
    for field in spec.fields():
        if field.required and field is not header:
            assert REQUIRED in page.get_element_by_id(f"{field.key}-error").text_content(), field.key
    for table in spec.tables():
        if table.required:
            assert NEED_A_ROW in page.get_element_by_id(f"{table.key}-error").text_content(), table.key
    assert count(Record) == 0
    draft = client.post(new_url(world.project, spec), data={**only_date, "action": "draft"})
    assert draft.status_code == 302
    assert count(Record) == 1


@pytest.mark.parametrize("spec", [s for s in SPECS if s.source_fields()], ids=by_key)
def test_values_from_the_project_are_shown_and_kept_by_the_server(client, world, login, spec):
    login(world.rep)
    sources = world.sources()
    form = sheet_form(html(client.get(new_url(world.project, spec))))
    for field in spec.source_fields():
        shown = form.get_element_by_id(f"src-{field.key}")
        assert shown.get("value", "") == (sources.get(field.source) or "")
        assert shown.get("readonly") is not None and not shown.get("name"), "a prefilled value must not be posted"
    filled = world.fill(spec)
    forged = [(f.key, "伪造的值") for f in spec.source_fields()]
    filled.pairs += forged
    record = file_sheet(client, world, spec, filled)
    for field in spec.source_fields():
        assert record.data[field.key] == sources.get(field.source)
    assert "伪造的值" not in client.get(f"/records/{record.id}").get_data(as_text=True)


def test_handover_shows_the_contract_from_the_contract_review(client, world, login):
    login(world.rep)
    review = registry.get("contract_review")
    filled = world.fill(review)
    filled.replace("contract_name", "数控车间 MES 系统采购合同")
    filled.replace("contract_no", "HT-2026-118")
    file_sheet(client, world, review, filled)
    handover = registry.get("handover")
    form = sheet_form(html(client.get(new_url(world.project, handover))))
    assert form.get_element_by_id("src-contract_name").get("value") == "数控车间 MES 系统采购合同"
    assert form.get_element_by_id("src-contract_no").get("value") == "HT-2026-118"
    record = file_sheet(client, world, handover)
    assert (record.data["contract_name"], record.data["contract_no"]) == ("数控车间 MES 系统采购合同", "HT-2026-118")
    view = dict(sheet_view(client.get(f"/records/{record.id}")).fields)
    assert (view["合同名称"], view["合同编号"]) == ("数控车间 MES 系统采购合同", "HT-2026-118")


DESCRIBED = [s for s in SPECS if any(col.help for t in s.tables() for col in t.columns)]


def test_the_buying_roles_legend_describes_its_columns():
    assert registry.get("buying_roles") in DESCRIBED  # the paper's 项目 | 描述 | 选项 legend


@pytest.mark.parametrize("spec", DESCRIBED, ids=by_key)
def test_a_columns_help_is_shown_once_under_its_table_not_in_every_row(client, world, login, spec):
    login(world.rep)
    page = html(client.get(new_url(world.project, spec)))
    for table in spec.tables():
        block = page.get_element_by_id(f"field-{table.key}")
        legend = block.xpath(".//dl[contains(@class, 'column-help')]")
        described = {col.label: col.help for col in table.columns if col.help}
        if not described:
            assert legend == []
            continue
        assert [(dt.text_content(), dd.text_content()) for dt, dd in
                zip(legend[0].xpath("dt"), legend[0].xpath("dd"), strict=True)] == list(described.items())
        for text in described.values():
            assert block.text_content().count(text) == 1, text


@pytest.mark.parametrize("spec", SPECS, ids=by_key)
def test_a_saved_draft_is_not_a_follow_up(client, world, login, spec):
    """Issue 10 finding 2: only a submitted follow-up sheet moves the clock
    (tests/test_followup_clock.py); saving a draft of any sheet does not."""
    login(world.rep)
    assert world.project.last_followup_at is None
    file_sheet(client, world, spec)
    project = db.session.get(Project, world.project.id)
    assert project.last_followup_at is None and project.followup_from is None
    page = html(client.get(f"/projects/{project.id}"))
    shown = page.xpath("//dt[text()='上次跟进']/following-sibling::dd")[0].text_content().strip()
    assert shown == "—"


def test_customer_information_sheet_draft_leaves_the_customer_alone(client, world, login):
    """Issue 10 finding 1: only the 信息审核人's approval changes the master
    (tests/test_master_data.py follows it through approval)."""
    login(world.rep)
    spec = registry.get("customer_info")
    filled = world.fill(spec)
    before = db.session.get(Customer, world.customer.id)
    was = (before.name, before.contact, before.phone, before.address)
    for name, value in (("name", "杭州华东精密机械股份有限公司"), ("contact", "陈部长"),
                        ("phone", "0571-8888 6666"), ("address", "杭州市余杭区文一西路 998 号")):
        filled.replace(name, value)
    record = file_sheet(client, world, spec, filled)
    db.session.expire_all()
    customer = db.session.get(Customer, world.customer.id)
    assert (customer.name, customer.contact, customer.phone, customer.address) == was
    assert customer.info_record_id is None
    # the sheet's 企业标识/编号 is the customer's number, whatever was posted
    assert record.data["customer_no"] == customer.customer_no


@pytest.mark.parametrize("spec", SPECS, ids=by_key)
def test_revision_history_shows_who_changed_what_from_what_to_what(client, world, login, spec):
    login(world.rep)
    record = file_sheet(client, world, spec)
    field = next((f for f in spec.fields() if f.kind in ("text", "textarea") and not f.source), spec.header_date())
    changes, expected = {}, []
    if field is not None:  # a sheet may be one table with no header date (客户内部采购流程)
        value = "2026-03-25" if field.kind == "date" else "改过的内容"
        changes[field.key] = value
        expected.append((field.label, record.data[field.key], value))
    for table in spec.tables():
        # a typed person (not one of the customer's people) is text too (角色与态度 has no other)
        printed = table.label_column if table.fixed(1) and not table.fixed(1).typed else None
        col = (next((c for c in table.columns if c.kind in ("text", "textarea") and c.key != printed), None)
               or next((c for c in table.columns if c.kind == "contact"), None))
        if col is None:  # 客户综合评估: its only text is the preprinted 评价指标
            continue
        changes[f"{table.key}-1-{col.key}"] = "第二行改过"
        expected.append((f"{table.label} 第2行 · {col.label}", record.data[table.key][1][col.key], "第二行改过"))
    assert changes
    response = resubmit(client, record, client.get(f"/records/{record.id}/edit"), **changes)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    page = html(client.get(f"/records/{record.id}"))
    latest = page.xpath("//section[@id='revisions']//li")[0]
    assert "第 2 版" in latest.text_content() and world.rep.name in latest.text_content()
    rows = [tuple(td.text_content().strip() for td in tr.xpath("./td")) for tr in latest.xpath(".//tbody/tr")]
    assert sorted(rows) == sorted(expected)


@pytest.mark.parametrize("spec", SPECS, ids=by_key)
def test_who_may_see_file_and_edit_a_sheet(client, world, login, switch, spec):
    login(world.rep)
    record = file_sheet(client, world, spec)
    view, edit, new = f"/records/{record.id}", f"/records/{record.id}/edit", new_url(world.project, spec)
    assert [client.get(u).status_code for u in (view, edit, new)] == [200, 200, 200]
    people = world.people
    expectations = [  # (who, view, edit, new)
        (world.manager, 200, 403, 200),
        (people["director"], 200, 403, 200),
        (people["clerk"], 200, 403, 403),
        (people["auditor"], 200, 403, 403),
        (world.rep2, 404, 404, 404),
        (world.other_rep, 404, 404, 404),
        (people["implementation"], 404, 404, 404),
    ]
    for who, can_view, can_edit, can_file in expectations:
        switch(who)
        got = [client.get(u).status_code for u in (view, edit, new)]
        assert got == [can_view, can_edit, can_file], who.name
        if can_edit != 200:
            assert client.post(edit, data=world.fill(spec).post_data(version="1")).status_code == can_edit
        if can_file != 200:
            assert client.post(new, data=world.fill(spec).post_data()).status_code == can_file
    assert count(Record) == 1
    db.session.refresh(record)
    assert record.version == 1
    # A teammate who takes the project over sees the sheet but it stays its author's.
    operations.reassign_project(world.manager, world.project, world.rep2, "李明调岗")
    switch(world.rep2)
    assert [client.get(u).status_code for u in (view, edit)] == [200, 403]
    switch(world.rep)
    # He may no longer file on the project; a customer-level sheet is filed on
    # the customer, which is still his.
    assert [client.get(u).status_code for u in (view, edit, new)] == [
        200, 200, 200 if spec.filed_on == "customer" else 404]


# ── a sheet that is not one of the seven ──────────────────────────────────
EXTRA = FormSpec(
    key="site_survey", title="现场勘察记录", title_en="Site survey", prefix="KC", group="方案设计型",
    stages=("design",), version=1, author_label="勘察人", order=50, followup=True,
    note="注意：勘察须有客户方人员陪同。",
    sections=(
        Section("", "", (
            Field("date", "勘察日期", "Survey date", "date", required=True, default="today"),
            Field("customer_name", "客户名称", "Customer", "text", source="customer.name"),
            Field("project_name", "项目名称", "Project", "text", source="project.name"),
            Field("site", "勘察地点", "Site", "text", required=True),
            Field("arrived_at", "到达时间", "Arrived", "datetime"),
            Field("start_time", "开始时间", "Start", "time"),
        )),
        Section("现场情况", "On site", (
            Field("machines", "设备台数", "Machines", "int"),
            Field("budget", "客户预算", "Budget (10k CNY)", "money"),
            Field("coverage", "网络覆盖率", "Network coverage", "percent"),
            Field("power", "供电情况", "Power", "choice", choices=("稳定", "偶有波动", "不稳定")),
            Field("needs", "改造需求", "Needs", "checks", choices=("布线", "机柜", "其他")),
            Field("engineer", "陪同工程师", "Engineer", "user", role="implementation"),
            Field("findings", "勘察结论", "Findings", "textarea", wide=True),
            Field("photos", "现场照片", "Photos", "files", wide=True),
            Table("points", "勘察点", "Points", required=True, columns=(
                Field("place", "位置", "Place", "text", required=True),
                Field("checked_by", "检查人", "Checked by", "user"),
                Field("due", "整改期限", "Fix by", "date"),
                Field("cost", "估算费用", "Estimate", "money"),
            )),
        )),
    ),
    slots=(Slot("review", "部门审核", "Department review", "team_manager"),),
)


@pytest.fixture
def extra_sheet():
    spec = registry.register(EXTRA)
    yield spec
    registry.unregister(spec.key)


def test_a_sheet_registered_later_works_end_to_end(client, world, login, extra_sheet):
    login(world.rep)
    offered = html(client.get(f"/projects/{world.project.id}")).xpath(
        f"//a[@href='{new_url(world.project, extra_sheet)}']")
    assert offered and offered[0].text == "现场勘察记录"
    record, _ = round_trip(client, world, extra_sheet)
    assert record.number.startswith("KC-")
    assert "注意：勘察须有客户方人员陪同。" in client.get(f"/records/{record.id}").get_data(as_text=True)
    assert db.session.get(Project, world.project.id).last_followup_at is None  # a draft is no follow-up
    edit = client.get(f"/records/{record.id}/edit")
    saved = resubmit(client, record, edit, site="二号厂房东侧", **{"points-1-place": "配电间"})
    assert saved.status_code == 302
    db.session.refresh(record)
    assert record.data["site"] == "二号厂房东侧" and record.data["points"][1]["place"] == "配电间"
    assert record.version == 2
    invalid_save(client, world, extra_sheet, new_url(world.project, extra_sheet))
    listed = client.get("/records/?sheet=site_survey", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert record.number in listed and "现场勘察记录" in listed
    assert client.post(f"/records/{record.id}/submit", data={}).status_code == 302
    assert db.session.get(Project, world.project.id).last_followup_at is not None  # a submitted one is


# ── numbers and conflicts ─────────────────────────────────────────────────
def test_two_reps_saving_the_same_sheet_at_once_get_different_numbers(app, factory, world, login):
    spec = registry.get("phone_log")
    clients = []
    for _ in range(6):
        rep = factory.user("rep", world.team)
        project = factory.project(rep, world.customer)
        clients.append((login(rep, c=app.test_client()), new_url(project, spec)))
    form = world.fill(spec)
    start = threading.Barrier(len(clients))
    answers, errors = [], []

    def save(c, url):
        try:
            start.wait()
            answers.append(c.post(url, data=form.post_data()))
        except Exception as e:  # noqa: BLE001 - the test reports any failure
            errors.append(e)

    threads = [threading.Thread(target=save, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [a.status_code for a in answers] == [302] * 6, [a.get_data(as_text=True)[:300] for a in answers]
    db.session.rollback()
    numbers = sorted(db.session.scalars(sa.select(Record.number)))
    assert len(set(numbers)) == 6
    year = numbers[0].split("-")[1]
    assert numbers == [f"DH-{year}-{n:04d}" for n in range(1, 7)]


def test_second_session_saving_a_stale_draft_gets_a_conflict_not_an_overwrite(app, client, world, login):
    spec = registry.get("phone_log")
    login(world.rep)
    record = file_sheet(client, world, spec)
    other = login(world.rep, c=app.test_client())  # the same rep on his laptop
    office_page = client.get(f"/records/{record.id}/edit")
    laptop_page = other.get(f"/records/{record.id}/edit")

    first = resubmit(client, record, office_page, **{"calls-0-reached": "采购部王经理（已回电）"})
    assert first.status_code == 302
    second = resubmit(other, record, laptop_page, **{"calls-1-content": "客户要求下周三前报价", "date": "2026-03-20"})
    assert second.status_code == 409
    page = html(second)
    conflict = page.xpath("//section[contains(@class, 'conflict')]")[0]
    assert "此表单已被他人修改" in conflict.text_content()
    rows = {tr.xpath("./td")[0].text_content(): [td.text_content().strip() for td in tr.xpath("./td")[1:]]
            for tr in conflict.xpath(".//table/tbody/tr")}
    assert rows["电话记录 第2行 · 电话沟通内容"][1] == "客户要求下周三前报价"
    assert rows["联系日期"] == ["2026-03-18", "2026-03-20"]
    assert rows["电话记录 第1行 · 找到谁"][0] == "采购部王经理（已回电）"
    assert "采购部王经理（已回电）" in conflict.xpath(".//details")[0].text_content()
    typed = form_values(sheet_form(page))
    assert typed["calls-1-content"] == ["客户要求下周三前报价"] and typed["date"] == ["2026-03-20"]
    assert typed["version"] == ["2"]

    db.session.rollback()
    db.session.refresh(record)
    assert record.version == 2 and record.data["calls"][0]["reached"] == "采购部王经理（已回电）"
    assert record.data["calls"][1]["content"] != "客户要求下周三前报价"

    third = other.post(f"/records/{record.id}/edit",
                       data=MultiDict(sheet_form(page).form_values() + [("action", "draft")]))
    assert third.status_code == 302
    db.session.rollback()
    db.session.refresh(record)
    assert record.version == 3 and record.data["calls"][1]["content"] == "客户要求下周三前报价"


def test_customer_values_longer_than_the_customer_list_keeps_are_refused_on_the_sheet(client, world, login):
    login(world.rep)
    spec = registry.get("customer_info")
    filled = world.fill(spec)
    filled.replace("contact", "联" * 81)
    filled.replace("phone", "0" * 41)
    filled.replace("anomalies", "长" * 3000)  # kept on the sheet only: no limit but the sheet's
    response = client.post(new_url(world.project, spec), data=filled.post_data())
    assert response.status_code == 400
    page = html(response)
    assert "最多 80 字" in page.get_element_by_id("contact-error").text_content()
    assert "最多 40 字" in page.get_element_by_id("phone-error").text_content()
    assert form_values(sheet_form(page))["contact"] == ["联" * 81]
    assert count(Record) == 0
    assert db.session.get(Customer, world.customer.id).contact is None
