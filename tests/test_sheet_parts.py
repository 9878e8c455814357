"""The parts around a sheet's form: attachments, repeating-table rows, the
inline check of one input, and the author's list of sheets."""
import os
from datetime import datetime
from io import BytesIO
from pathlib import Path

import lxml.html
import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import stream_encode_multipart

from salestrack import operations
from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.formkit.kinds import REQUIRED
from salestrack.formkit.spec import Table
from salestrack.models import Attachment, Record
from tests.sheet_samples import (BAD, PDF_BYTES, PNG_BYTES, UPLOADS, count, file_sheet, form_values, html,
                                 make_world, new_url, sheet_form, sheet_view, value_for)

SPECS = registry.all_specs()
TABLES = [(spec, table) for spec in SPECS for table in spec.tables() if table.add_rows]


@pytest.fixture
def world(factory):
    return make_world(factory)



# ── attachments ───────────────────────────────────────────────────────────
REQUEST = registry.get("resource_request")


def post_with_files(client, world, files, **replace):
    filled = world.fill(REQUEST)
    filled.uploads = {"attachments__upload": files}
    for name, value in replace.items():
        filled.replace(name, value)
    return client.post(new_url(world.project, REQUEST), data=filled.post_data())


def test_too_large_a_file_is_refused_with_a_message_and_the_sheet_kept(app, client, world, login):
    login(world.rep)
    limit = app.config["ATTACHMENT_MAX_BYTES"]
    filled = world.fill(REQUEST)
    filled.uploads = {}
    filled.replace("support_needed", "需要两名工程师驻场")
    data = {**client.served_form(new_url(world.project, REQUEST)), **filled.post_data()}  # a body made by hand
    data["attachments__upload"] = FileStorage(BytesIO(PDF_BYTES + b"0" * limit), filename="设备清单.pdf")
    # encoded in memory: the test client would spool it to a temporary file it never closes
    body, length, boundary = stream_encode_multipart(data, use_tempfile=False)
    response = client.post(new_url(world.project, REQUEST), input_stream=body, content_length=length,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400
    page = html(response)
    message = page.get_element_by_id("attachments-error").text_content()
    assert "设备清单.pdf" in message and f"超过 {limit // (1024 * 1024)} MB" in message
    assert form_values(sheet_form(page))["support_needed"] == ["需要两名工程师驻场"]
    assert (count(Attachment), count(Record)) == (0, 0)


def test_a_program_renamed_to_pdf_is_refused_by_its_content(client, world, login):
    login(world.rep)
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 200
    response = post_with_files(client, world, [("a.pdf", exe), ("报价单.pdf", PDF_BYTES)])
    assert response.status_code == 400
    page = html(response)
    assert "「a.pdf」的文件类型不允许" in page.get_element_by_id("attachments-error").text_content()
    # the good file of the same upload is kept for the next try
    assert "报价单.pdf" in page.get_element_by_id("attachments-list").text_content()
    assert db.session.scalars(sa.select(Attachment.filename)).all() == ["报价单.pdf"]
    assert count(Record) == 0


def download(client, attachment_id):
    with client.get(f"/attachments/{attachment_id}") as response:
        return response.status_code, response.data


def test_attachments_download_for_those_who_see_the_record_only(client, world, login, switch):
    login(world.rep)
    record = file_sheet(client, world, REQUEST)
    pdf, png = sorted(record.attachments, key=lambda a: a.id)
    page = html(client.get(f"/records/{record.id}"))
    assert page.xpath(f"//a[@href='/attachments/{pdf.id}' and text()='技术方案.pdf']")
    assert download(client, pdf.id) == (200, PDF_BYTES)
    assert download(client, png.id) == (200, PNG_BYTES)
    with client.get(f"/attachments/{pdf.id}") as response:
        assert response.mimetype == "application/pdf"
        assert "attachment" in response.headers["Content-Disposition"]
    for who, status in ((world.manager, 200), (world.people["clerk"], 200), (world.people["auditor"], 200),
                        (world.rep2, 404), (world.other_rep, 404), (world.people["hr"], 404)):
        switch(who)
        assert download(client, pdf.id)[0] == status, who.name


def test_an_upload_not_yet_on_a_saved_sheet_is_only_its_uploaders(client, world, login, switch):
    login(world.rep)
    response = post_with_files(client, world, [("技术方案.pdf", PDF_BYTES)], date="2026-02-30")
    assert response.status_code == 400
    upload = db.session.scalar(sa.select(Attachment))
    assert upload.record_id is None
    assert f'href="/attachments/{upload.id}"' in response.get_data(as_text=True)
    assert download(client, upload.id) == (200, PDF_BYTES)
    switch(world.manager)
    assert download(client, upload.id)[0] == 404


def upload_as(user):
    return operations.store_attachment(user, "attachments", "草稿附件.pdf", PDF_BYTES, "application/pdf")


def test_someone_elses_upload_cannot_be_smuggled_onto_a_sheet(client, world, login):
    theirs = upload_as(world.other_rep)
    login(world.rep)
    filled = world.fill(REQUEST)
    filled.uploads = {}
    filled.pairs.append(("attachments", str(theirs.id)))
    record = file_sheet(client, world, REQUEST, filled)
    assert record.data["attachments"] is None and record.attachments == []
    assert db.session.get(Attachment, theirs.id).record_id is None


def test_files_are_kept_outside_static_under_server_made_names(app, client, world, login):
    login(world.rep)
    record = file_sheet(client, world, REQUEST)
    static = Path(app.static_folder).resolve()
    for attachment in record.attachments:
        path = Path(app.config["ATTACHMENT_DIR"], attachment.stored_name).resolve()
        assert path.read_bytes() in (PDF_BYTES, PNG_BYTES)
        assert not path.is_relative_to(static)
        assert attachment.stored_name not in (name for name, _ in UPLOADS)
        assert client.get(f"/static/{attachment.stored_name}").status_code == 404
    for folder, _, names in os.walk(static):
        for name in names:
            assert Path(folder, name).read_bytes() not in (PDF_BYTES, PNG_BYTES)


def test_removing_a_file_on_edit_takes_it_off_the_sheet(client, world, login):
    login(world.rep)
    record = file_sheet(client, world, REQUEST)
    keep = record.data["attachments"][0]
    form = sheet_form(html(client.get(f"/records/{record.id}/edit")))
    values = [(n, v) for n, v in form.form_values() if n != "attachments"] + [("attachments", str(keep)),
                                                                               ("action", "draft")]
    assert client.post(f"/records/{record.id}/edit", data=MultiDict(values)).status_code == 302
    db.session.refresh(record)
    assert record.data["attachments"] == [keep]
    view = dict(sheet_view(client.get(f"/records/{record.id}")).fields)
    assert view["资料附件"] == "技术方案.pdf"


# ── repeating tables ──────────────────────────────────────────────────────
def fragment(response):
    return lxml.html.fragment_fromstring(response.get_data(as_text=True), create_parent="div")


@pytest.mark.parametrize("spec,table", TABLES, ids=lambda x: x.key)
def test_add_a_row_returns_row_n_and_the_button_for_the_next(client, world, login, spec, table):
    login(world.rep)
    page = html(client.get(new_url(world.project, spec)))
    first = len(table.rows) or table.start_rows  # a table of preprinted rows starts with them
    button = page.get_element_by_id(f"add-{table.key}")
    assert button.get("hx-get") == f"/sheets/{spec.key}/rows/{table.key}?index={first}"
    assert (button.get("hx-target"), button.get("hx-swap")) == (f"#tbl-{table.key} tbody", "beforeend")
    rows = page.xpath(f"//table[@id='tbl-{table.key}']/tbody/tr[not(@class='row-group')]")
    assert len(rows) == first
    # a preprinted row cannot be deleted, an added one can
    assert [bool(r.xpath(".//button[@data-remove-row]")) for r in rows] == [
        table.fixed(i) is None for i in range(len(rows))]
    assert page.xpath("//script[contains(@src, 'htmx')]")

    response = client.get(f"/sheets/{spec.key}/rows/{table.key}?index=7")
    assert response.status_code == 200
    body = fragment(response)
    row = body.xpath("./tr")
    assert len(row) == 1
    assert [el.get("name") for el in row[0].xpath(".//input|.//select|.//textarea")] == \
        [f"{table.key}-7-{col.key}" for col in table.columns]
    for el in row[0].xpath(".//input|.//select|.//textarea"):
        assert row[0].xpath(f".//label[@for='{el.get('id')}']"), el.get("name")
        assert el.get("value") in (None, "") and not el.xpath(".//option[@selected and @value!='']")
    oob = body.xpath(f"./button[@id='add-{table.key}']")
    assert oob and oob[0].get("hx-swap-oob") == "true"
    assert oob[0].get("hx-get") == f"/sheets/{spec.key}/rows/{table.key}?index=8"


@pytest.mark.parametrize("query,status", [("index=-1", 400), ("index=10000", 400), ("index=abc", 200),
                                          ("index=", 200)])
def test_add_a_row_with_an_odd_index(client, world, login, query, status):
    login(world.rep)
    assert client.get(f"/sheets/phone_log/rows/calls?{query}").status_code == status


def test_add_a_row_for_an_unknown_sheet_or_table_is_404(client, world, login):
    login(world.rep)
    assert client.get("/sheets/phone_log/rows/nope?index=1").status_code == 404
    assert client.get("/sheets/nope/rows/calls?index=1").status_code == 404


PHONE = registry.get("phone_log")


def call_row(world, index, at, who="采购部王经理"):
    """Posted cells of one filled 电话记录 row at `index`."""
    pairs = []
    for col in PHONE.table("calls").columns:
        values, _, _ = value_for(col, world.people, 0)
        pairs += [(f"calls-{index}-{col.key}", v) for v in values]
    pairs = [(n, who if n.endswith("-reached") else v) for n, v in pairs]
    return [(n, at if n.endswith("-time") else v) for n, v in pairs]


def post_rows(client, world, pairs, action="draft"):
    return client.post(new_url(world.project, PHONE),
                       data=MultiDict([("date", "2026-03-18"), ("action", action)] + pairs))


def test_rows_with_a_gap_are_stored_in_order(client, world, login):
    login(world.rep)
    response = post_rows(client, world, call_row(world, 0, "09:00", "甲") + call_row(world, 5, "10:30", "乙"))
    assert response.status_code == 302
    record = db.session.scalar(sa.select(Record))
    assert [(r["time"], r["reached"]) for r in record.data["calls"]] == [("09:00", "甲"), ("10:30", "乙")]


def test_thirty_rows_are_accepted_and_shown(client, world, login):
    login(world.rep)
    pairs = [p for i in range(30) for p in call_row(world, i, f"{8 + i // 6:02d}:{i % 6 * 10:02d}", f"联系人{i + 1}")]
    assert post_rows(client, world, pairs).status_code == 302
    record = db.session.scalar(sa.select(Record))
    assert [r["reached"] for r in record.data["calls"]] == [f"联系人{i + 1}" for i in range(30)]
    assert len(sheet_view(client.get(f"/records/{record.id}")).tables["电话记录"]) == 30
    page = html(client.get(f"/records/{record.id}/edit"))
    assert len(page.xpath("//table[@id='tbl-calls']/tbody/tr")) == 30
    assert page.get_element_by_id("add-calls").get("hx-get").endswith("index=30")


def test_blank_rows_are_dropped(client, world, login):
    login(world.rep)
    blank = [(f"calls-{i}-{col.key}", "") for i in (2, 3, 4) for col in PHONE.table("calls").columns]
    response = post_rows(client, world, call_row(world, 0, "09:00") + call_row(world, 1, "09:30") + blank)
    assert response.status_code == 302
    assert len(db.session.scalar(sa.select(Record)).data["calls"]) == 2


def test_an_error_in_a_row_after_a_gap_is_shown_on_that_row(client, world, login):
    login(world.rep)
    response = post_rows(client, world, call_row(world, 0, "09:00", "甲") + call_row(world, 5, "25:61", "乙"))
    assert response.status_code == 400
    page = html(response)
    # rows are numbered again from 0, and the message follows its row
    assert "请输入有效的时间" in page.get_element_by_id("calls-1-time-error").text_content()
    values = form_values(sheet_form(page))
    assert (values["calls-0-reached"], values["calls-1-reached"], values["calls-1-time"]) == (["甲"], ["乙"], ["25:61"])
    assert page.get_element_by_id("add-calls").get("hx-get").endswith("index=2")
    assert count(Record) == 0


# ── the inline check of one input ─────────────────────────────────────────
def inputs_by_kind(spec):
    """{kind: (input name, Field)}: the first input of each kind, cells included."""
    out = {}
    for item in spec.items():
        for name, col in ([(f"{item.key}-0-{c.key}", c) for c in item.columns] if isinstance(item, Table)
                          else [(item.key, item)] if not item.source else []):
            out.setdefault(col.kind, (name, col))
    return out


def check(client, spec, name, values):
    return client.post(f"/sheets/{spec.key}/check", data={name: values}, headers={"HX-Trigger-Name": name})


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.key)
def test_checking_one_input_answers_its_message(client, world, login, spec):
    login(world.rep)
    for kind, (name, field) in inputs_by_kind(spec).items():
        if kind not in BAD:
            continue
        bad, message = BAD[kind]
        response = check(client, spec, name, [bad])
        assert response.status_code == 200
        answer = fragment(response).get_element_by_id(f"{name}-error")
        assert message in answer.text_content(), name
        good, _, _ = value_for(field, world.people)
        assert fragment(check(client, spec, name, good)).get_element_by_id(f"{name}-error").text_content() == ""
    required = next((f for f in spec.fields() if f.required and f.kind != "files"), None)
    if required:
        assert REQUIRED in check(client, spec, required.key, [""]).get_data(as_text=True)


@pytest.mark.parametrize("name", ["no_such_input", "calls-0-nope", "customer_name", "", "calls", "date_other",
                                  "<script>alert(1)</script>"])
def test_checking_an_unknown_input_is_a_bad_request(client, world, login, name):
    login(world.rep)
    response = client.post("/sheets/phone_log/check", data={name: "x"}, headers={"HX-Trigger-Name": name})
    assert response.status_code == 400


def test_checking_without_saying_which_input_is_a_bad_request(client, world, login):
    login(world.rep)
    assert client.post("/sheets/phone_log/check", data={"date": "2026-02-30"}).status_code == 400
    assert client.post("/sheets/nope/check", data={"date": "x"}, headers={"HX-Trigger-Name": "date"}).status_code == 404


def test_every_checked_input_asks_the_check_url_and_has_its_message_slot(client, world, login):
    login(world.rep)
    for spec in SPECS:
        page = html(client.get(new_url(world.project, spec)))
        for el in page.xpath("//form[contains(@class,'sheet-form')]//*[@hx-post]"):  # not 添加联系人's own form
            assert el.get("hx-post") == f"/sheets/{spec.key}/check"
            assert el.get("hx-target") == f"#{el.get('id')}-error"
            assert page.get_element_by_id(f"{el.get('id')}-error") is not None


# ── my sheets ─────────────────────────────────────────────────────────────
@pytest.fixture
def filed(client, world, login, factory):
    """李明's phone log, visit report and customer information sheet on two
    projects, one of them filed last year; and 陈强's (another team) phone log."""
    login(world.rep)
    second = factory.project(world.rep, factory.customer(world.rep, name="宁波港机设备有限公司"), name="岸桥远程监控")
    phone = file_sheet(client, world, PHONE)
    visit = file_sheet(client, world, registry.get("visit_report"))
    first, world.project = world.project, second
    old = file_sheet(client, world, PHONE)
    world.project = first
    old.created_at = datetime(2025, 6, 15, 3, 0)
    db.session.commit()
    client.post("/logout")
    theirs_project = factory.project(world.other_rep)
    theirs = operations.create_record(world.other_rep, theirs_project, PHONE, {"date": "2026-03-18"})
    login(world.rep)
    return {"phone": phone, "visit": visit, "old": old, "theirs": theirs, "second": second}


def listed(client, query="", **headers):
    response = client.get(f"/records/?{query}", headers=headers)
    assert response.status_code == 200
    return response, response.get_data(as_text=True)


def test_my_sheets_lists_mine_only_and_filters(client, filed):
    numbers = {key: r.number for key, r in filed.items() if isinstance(r, Record)}
    _, text = listed(client)
    assert all(numbers[k] in text for k in ("phone", "visit", "old")) and numbers["theirs"] not in text
    _, text = listed(client, "sheet=phone_log")
    assert numbers["phone"] in text and numbers["old"] in text and numbers["visit"] not in text
    _, text = listed(client, "status=draft")
    assert all(numbers[k] in text for k in ("phone", "visit", "old"))
    _, text = listed(client, "status=approved")
    assert "共 0 份表单" in text and "没有符合条件的表单" in text
    _, text = listed(client, "from=2025-06-01&to=2025-06-15")
    assert numbers["old"] in text and numbers["phone"] not in text
    _, text = listed(client, "to=2025-06-14")
    assert "共 0 份表单" in text
    _, text = listed(client, "from=2026-01-01")
    assert numbers["old"] not in text and numbers["phone"] in text
    for q in ("宁波港机", "岸桥远程", filed["second"].customer.customer_no, numbers["old"]):
        _, text = listed(client, f"q={q}")
        assert numbers["old"] in text and numbers["phone"] not in text, q


def test_my_sheets_answers_htmx_with_the_rows_only(client, filed):
    response, text = listed(client, "sheet=visit_report", **{"HX-Request": "true"})
    assert "<html" not in text and filed["visit"].number in text and filed["phone"].number not in text
    assert "HX-Request" in response.headers["Vary"]
    full, text = listed(client, "sheet=visit_report")
    assert "<html" in text and "HX-Request" in full.headers["Vary"]
    form = html(full).xpath("//form[contains(@class, 'filters')]")[0]
    assert form.get("hx-get") == "/records/" and form.get("hx-target") == "#record-rows"


def test_a_manager_widens_the_list_to_his_team(client, filed, world, switch):
    switch(world.manager)
    _, text = listed(client)
    assert "共 0 份表单" in text
    _, text = listed(client, "who=all")
    assert filed["phone"].number in text and filed["theirs"].number not in text
    switch(world.rep)
    _, text = listed(client, "who=all")
    assert filed["theirs"].number not in text


@pytest.mark.parametrize("query", ["page=abc", "page=0", "page=-3", "page=99999999999999999999999", "from=2026-13-45",
                                   "to=9999-12-31", "from=0001-01-01", "q=%25", "q=_", "status=bogus", "sheet=nope",
                                   "q=" + "长" * 500])
def test_odd_list_parameters_never_break_it(client, filed, query):
    listed(client, query)


@pytest.mark.parametrize("url", ["/records/", "/projects/", "/customers/"])
def test_a_page_number_past_the_end_shows_the_last_page(client, filed, world, url):
    expected = {"/records/": filed["phone"].number, "/projects/": world.project.name,
                "/customers/": world.customer.name}[url]
    for page in ("99999999999999999999999", "7"):
        response = client.get(f"{url}?page={page}")
        assert response.status_code == 200
        assert expected in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/records/2147483648", "/records/99999999999999999999999/edit",
                                 "/attachments/2147483648", "/projects/2147483648/sheets/phone_log/new"])
def test_an_id_too_large_for_the_database_is_not_found(client, world, login, url):
    login(world.rep)
    assert client.get(url).status_code == 404
    assert client.post(url, data={"action": "draft"}).status_code in (404, 405)
