"""Issue 12, item 1 — people as master data — through the pages as the
department uses them:

联系人基本信息表 and 关键决策人基本信息表 are filed for a person of the
customer, open with what is on file for him, never change him as drafts,
and write him at the 信息审核人's approval (a new person when none was
named); his private details stay with the customer's team, its manager and
above (page, PDF, export); every person-picking field offers the customer's
people, its main contact included, and fills what its definition declares."""
import io
import re
import zipfile
from datetime import date

import pytest
import sqlalchemy as sa
from lxml import html as lxml_html
from werkzeug.datastructures import MultiDict

from salestrack import archive, operations
from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.formkit.kinds import PEOPLE_LIST
from salestrack.formkit.spec import Table
from salestrack.models import ArchivedPdf, AuditEvent, Customer, Person, Record
from tests.signoff_support import approve_all, page, reload, submit, world  # noqa: F401

pytestmark = pytest.mark.usefixtures("worker")  # approvals are sealed by the queue's worker

PERSON_SHEETS = [s for s in registry.all_specs() if s.updates_person]
BIRTHDAY = "1971-05-04"
FAMILY = "妻子在市一院工作，儿子读高二"


def _person(w, **private) -> Person:
    customer = db.session.get(Customer, w.project.customer_id)
    person, _ = operations.add_person(w.rep, customer, name="陈建华", title="设备部部长", phone="0512-6666 1234")
    person.details = {"rapport": "能交流", "interests": "钓鱼"}
    person.private = {"birthday": BIRTHDAY, "family": FAMILY, **private}
    db.session.commit()
    return person


def _form(w, user, url) -> list[tuple[str, str]]:
    doc = lxml_html.fromstring(page(w, user, url))
    form = doc.xpath("//form[contains(@class,'sheet-form')]")[0]
    return [(k, v) for k, v in form.form_values() if k not in ("csrf_token", "form_token")]


def _value(pairs, name):
    return [v for k, v in pairs if k == name]


def _replace(pairs, name, value):
    return [(k, v) for k, v in pairs if k != name] + [(name, value)]


def _file(w, user, spec, pairs) -> Record:
    response = w.browser(user).post(f"/projects/{w.project.id}/sheets/{spec.key}/new",
                                    data=MultiDict(pairs + [("action", "draft")]))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return db.session.scalars(sa.select(Record).order_by(Record.id.desc())).first()


def _new_url(w, spec, person=None) -> str:
    return f"/projects/{w.project.id}/sheets/{spec.key}/new" + (f"?person={person.id}" if person else "")


@pytest.mark.parametrize("spec", PERSON_SHEETS, ids=lambda s: s.key)
def test_a_person_sheet_opens_with_what_is_on_file_and_only_approval_writes_the_person(world, spec):
    person = _person(world)
    pairs = _form(world, world.rep, _new_url(world, spec, person))
    assert _value(pairs, "_person") == [str(person.id)]
    assert _value(pairs, "name") == ["陈建华"] and _value(pairs, "title") == ["设备部部长"]
    assert _value(pairs, "birthday") == [BIRTHDAY]  # his own team reads (and files) the private details
    pairs = _replace(pairs, "title", "副总经理")
    pairs = _replace(pairs, "phone", "")  # blank: what is on file stays
    pairs = _replace(pairs, "interests", "围棋")
    record = _file(world, world.rep, spec, pairs)
    assert record.person_id == person.id
    reload(person)
    assert (person.title, person.details["interests"]) == ("设备部部长", "钓鱼")  # a draft changes nothing
    assert not person.key_decision_maker
    assert submit(world, record).status_code == 302
    reload(record)
    assert [s["signer_id"] for s in record.chain] == [world.manager.id]  # 信息审核人
    approve_all(world, record)
    reload(person)
    assert (person.title, person.phone, person.details["interests"]) == ("副总经理", "0512-6666 1234", "围棋")
    assert person.private["birthday"] == BIRTHDAY
    assert person.key_decision_maker == spec.marks_key_decision_maker
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "person_update")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.detail["changes"]["职位"] == ["设备部部长", "副总经理"]
    # The person page shows what is on file and links to the sheet.
    doc = lxml_html.fromstring(page(world, world.rep, f"/customers/{person.customer_id}/people/{person.id}"))
    assert "副总经理" in doc.text_content() and record.number in doc.text_content()
    assert doc.findtext(".//title") == f"{person.name} · 联系人 · 销售项目管理"  # the tab names the person, nothing else
    assert len(doc.xpath("//section[@id='person-sheets']")) == 1
    assert doc.xpath(f"//a[contains(@href, '/sheets/{spec.key}/new?person={person.id}')]")


def test_a_contact_sheet_for_nobody_yet_records_a_new_person_at_approval(world):
    spec = registry.get("contact")
    pairs = _form(world, world.rep, _new_url(world, spec))
    pairs = _replace(pairs, "name", "周晓梅")
    pairs = _replace(pairs, "title", "采购经理")
    pairs = _replace(pairs, "relation_state", "常往来")
    record = _file(world, world.rep, spec, pairs)
    names = lambda: set(db.session.scalars(sa.select(Person.name)))  # noqa: E731
    assert "周晓梅" not in names()
    submit(world, record)
    approve_all(world, record)
    reload(record)
    person = db.session.get(Person, record.person_id)
    assert (person.name, person.title, person.customer_id) == ("周晓梅", "采购经理", world.project.customer_id)
    assert person.details["relation_state"] == "常往来"
    text = page(world, world.rep, f"/customers/{world.project.customer_id}")
    assert "周晓梅" in text and "常往来" in text  # the customer page lists its people


def test_another_customers_person_is_refused(world, factory):
    spec = registry.get("contact")
    stranger_customer = factory.customer(world.rep, name="无锡远东轴承有限公司")
    stranger, _ = operations.add_person(world.rep, stranger_customer, name="马强")
    assert world.browser(world.rep).get(_new_url(world, spec, stranger)).status_code == 404


def _approved_contact(w) -> tuple[Person, Record]:
    person = _person(w)
    spec = registry.get("contact")
    pairs = _form(w, w.rep, _new_url(w, spec, person))
    record = _file(w, w.rep, spec, pairs)
    submit(w, record)
    approve_all(w, record)
    return person, reload(record)


def test_a_rep_of_another_team_never_reads_a_persons_private_details(world, factory, tmp_path):
    person, record = _approved_contact(world)
    assert FAMILY in page(world, world.rep, f"/records/{record.id}")
    assert world.browser(world.rep).get(f"/records/{record.id}/pdf").status_code == 200
    # 刘洋 (华南片区) sells to the same customer on a project of his own.
    customer = db.session.get(Customer, world.project.customer_id)
    theirs = factory.project(world.other_rep, customer, name="恒力精机 二期")
    person_page = page(world, world.other_rep, f"/customers/{customer.id}/people/{person.id}")
    assert "陈建华" in person_page and BIRTHDAY not in person_page and FAMILY not in person_page
    # Filing the person's sheet on his own project opens without them.
    url = f"/projects/{theirs.id}/sheets/contact/new?person={person.id}"
    text = page(world, world.other_rep, url)
    assert "设备部部长" in text and BIRTHDAY not in text and FAMILY not in text
    # He cannot open the record at all; the auditor, who sees every sheet, reads it without them.
    assert world.browser(world.other_rep).get(f"/records/{record.id}").status_code == 404
    shown = page(world, world.auditor, f"/records/{record.id}")
    assert "陈建华" in shown and BIRTHDAY not in shown and FAMILY not in shown and "仅客户所属团队可见" in shown
    # The sealed PDF holds them: he gets a copy printed without them, never the sealed file.
    sealed = db.session.scalars(sa.select(ArchivedPdf).where(ArchivedPdf.record_id == record.id)).one()
    assert world.browser(world.auditor).get(f"/records/{record.id}/pdf?version={sealed.id}").status_code == 403
    assert world.browser(world.rep).get(f"/records/{record.id}/pdf?version={sealed.id}").status_code == 200
    copy = world.browser(world.auditor).get(f"/records/{record.id}/pdf?download=1")
    assert copy.status_code == 200 and copy.data != world.browser(world.rep).get(f"/records/{record.id}/pdf").data
    text = _pdf_text(copy.data, tmp_path)
    assert "陈建华" in text and _squeeze(FAMILY) not in text and BIRTHDAY not in text
    assert _squeeze(FAMILY) in _pdf_text(world.browser(world.rep).get(f"/records/{record.id}/pdf").data, tmp_path)
    # No bulk export carries the sheet.
    out = io.BytesIO()
    today = date.today()
    archive.export_zip(world.auditor, archive.ExportCriteria(start=today.replace(day=1), end=today), out)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as zf:
        assert not any(record.number in name for name in zf.namelist())
        assert record.number not in zf.read("manifest.csv").decode("utf-8-sig")


def _squeeze(text: str) -> str:
    return re.sub(r"[\s，]+", "", text)


def _pdf_text(data: bytes, tmp_path) -> str:
    import subprocess
    path = tmp_path / "sheet.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout.decode()
    return _squeeze(out)


# ── every person-picking field offers the customer's people ─────────────
CONTACT_FIELDS = [(spec, item, col) for spec in registry.all_specs() for item in spec.items()
                  for col in (item.columns if isinstance(item, Table) else (item,)) if col.kind == "contact"]


@pytest.mark.parametrize("spec,item,col", CONTACT_FIELDS,
                         ids=[f"{s.key}.{c.key}" for s, _, c in CONTACT_FIELDS])
def test_every_person_picking_field_offers_the_customers_people_and_main_contact(world, spec, item, col):
    customer = db.session.get(Customer, world.project.customer_id)
    operations.update_customer(world.rep, customer, contact="王主任", phone="0512-6800 0001")
    _person(world)
    doc = lxml_html.fromstring(page(world, world.rep, _new_url(world, spec)))
    name = f"{item.key}-0-{col.key}" if isinstance(item, Table) else col.key
    field = doc.xpath(f"//form[contains(@class,'sheet-form')]//input[@name='{name}']")[0]
    assert field.get("list") == PEOPLE_LIST
    options = {o.get("value"): o for o in doc.xpath(f"//datalist[@id='{PEOPLE_LIST}']/option")}
    assert set(options) == {"陈建华", "王主任"}
    assert options["陈建华"].get("data-title") == "设备部部长"
    assert options["陈建华"].get("data-phone") == "0512-6666 1234"
    assert options["王主任"].get("data-phone") == "0512-6800 0001"  # the main contact, with the customer's 电话
    declared = " ".join(f"{key}={attr}" for key, attr in col.fills)
    assert (field.get("data-fills") or "") == declared


def test_picking_a_person_in_the_phone_log_links_him_and_its_rows_take_the_customer(world):
    person = _person(world)
    customer = db.session.get(Customer, world.project.customer_id)
    spec = registry.get("phone_log")
    record = _file(world, world.rep, spec, [
        ("date", date.today().isoformat()), ("calls-0-time", "09:30"), ("calls-0-reached", "陈建华"),
        ("calls-0-content", "约下周到厂演示"), ("calls-1-reached", "王科长"), ("calls-1-content", "问候"),
        ("calls-1-customer_name", "另一家公司")])
    first, second = record.data["calls"]
    assert first["reached"] == {"person": person.id, "name": "陈建华"} and second["reached"] == "王科长"
    assert (first["customer_name"], first["customer_no"]) == (customer.name, customer.customer_no)
    assert second["customer_name"] == "另一家公司"  # typed: kept as typed


# ── the two diagrams ─────────────────────────────────────────────────────
ORG = [("陈建华", "总经理", "", "决策层", "支持者", "密切"), ("周晓梅", "采购经理", "陈建华", "管理层", "中立者", "频繁"),
       ("马强", "设备主管", "陈建华", "管理层", "反对者", "疏远"), ("李工", "工程师", "马强", "操作层", "支持者", "未联系")]


def test_the_org_chart_is_one_svg_tree_on_the_page_and_in_the_pdf(world):
    from salestrack.formkit import drawing
    from salestrack.pdf import render_html
    from salestrack.printing import print_document
    spec = registry.get("org_chart")
    pairs = [("date", date.today().isoformat())]
    for n, (name, title, boss, level, attitude, closeness) in enumerate(ORG):
        pairs += [(f"people-{n}-person", name), (f"people-{n}-title", title), (f"people-{n}-reports_to", boss),
                  (f"people-{n}-level", level), (f"people-{n}-attitude", attitude),
                  (f"people-{n}-closeness", closeness)]
    record = _file(world, world.rep, spec, pairs)
    svg = drawing.svg(spec.table("people"), record.data["people"])
    doc = lxml_html.fromstring(svg)
    assert [t.text for t in doc.xpath("//text[@font-size='14']")] == [name for name, *_ in ORG]
    assert len(doc.xpath("//path")) == 3  # one line per person with a superior
    assert svg in page(world, world.rep, f"/records/{record.id}")
    assert svg in render_html(print_document(record))
    boxes = drawing.tree_layout(spec.table("people").drawing, [
        {"person": n, "reports_to": b, "level": lv} for n, _, b, lv, *_ in ORG])
    assert [b["level"] for b in boxes] == [0, 1, 1, 2] and [b["parent"] for b in boxes] == [None, 0, 0, 2]


def test_a_reporting_loop_is_cut_instead_of_drawing_forever():
    from salestrack.formkit import drawing
    table = registry.get("org_chart").table("people")
    rows = [{"person": "甲", "reports_to": "乙"}, {"person": "乙", "reports_to": "甲"}]
    boxes = drawing.tree_layout(table.drawing, rows)
    assert sum(b["parent"] is not None for b in boxes) == 1  # one of the two links stays
    assert drawing.svg(table, rows).count("<rect") >= 2


def test_the_relationship_chart_draws_each_decision_maker_and_says_when_weights_miss_100():
    from salestrack.formkit import drawing
    table = registry.get("relationship_map").table("decision_makers")
    rows = [{"person": "陈建华", "relation": "很铁", "weight": 60}, {"person": "周晓梅", "relation": "未接触", "weight": 30}]
    svg = drawing.svg(table, rows)
    assert "陈建华" in svg and "周晓梅" in svg and "#3f78b5" in svg and "#e3e3e3" in svg
    assert "合计 90%" in svg and "不是 100%" in svg
    assert "不是 100%" not in drawing.svg(table, rows + [{"person": "马强", "relation": "常往来", "weight": 10}])
    assert drawing.svg(table, [{"person": "<script>", "weight": 5}]).count("<script>") == 0
