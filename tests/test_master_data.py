"""Issue 10, finding 1 — master data changes only through review — and the
pickers half of finding 6, through the pages as the people use them:

sheets open with what the system knows (customer master, project class and
stage, bank and tax data); a draft never writes the customer master; at the
信息审核人's approval the master takes the changed fields, lists them in
信息修改记录 on the customer page, and a blank field keeps the stored value
unless its 清空 box was ticked."""
import re

import pytest

import sqlalchemy as sa
from lxml import html as lxml_html
from werkzeug.datastructures import MultiDict

from salestrack import access, operations
from salestrack.extensions import db
from salestrack.models import Customer, CustomerChange, Record
from tests.signoff_support import approve_all, page, reload, spec, submit, world  # noqa: F401

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")

ON_FILE = {"name": "苏州恒力精密机械有限公司", "short_name": "恒力精机", "category": "重要", "source": "展会",
           "industry": "机械", "contact": "陈部长", "phone": "0512-6666 8888", "address": "苏州市吴中区东吴北路 18 号"}


def _customer_on_file(w):
    customer = db.session.get(Customer, w.project.customer_id)
    operations.update_customer(w.rep, customer, **ON_FILE)
    customer.profile = {"legal_rep": "周建国", "bank": "工商银行苏州分行", "account_no": "1102 0266 0900 1234",
                        "vat_no": "91320500MA1XYZ1234"}
    db.session.commit()
    db.session.execute(sa.delete(CustomerChange))  # the setting up is not what the tests look at
    db.session.commit()
    return customer


def _form(w, url) -> list[tuple[str, str]]:
    """The inputs of the served sheet form as a browser would send them
    unchanged (text, selected options, ticked boxes)."""
    doc = lxml_html.fromstring(page(w, w.rep, url))
    form = doc.xpath("//form[contains(@class,'sheet-form')]")[0]
    return [(k, v) for k, v in form.form_values() if k not in ("csrf_token", "form_token")]


def _value(pairs, name):
    return [v for k, v in pairs if k == name]


def _replace(pairs, name, value):
    return [(k, v) for k, v in pairs if k != name] + ([(name, value)] if value is not None else [])


def _file(w, pairs, sheet="customer_info"):
    response = w.browser(w.rep).post(f"/projects/{w.project.id}/sheets/{sheet}/new",
                                     data=MultiDict(pairs + [("action", "draft")]))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return db.session.scalars(sa.select(Record).order_by(Record.id.desc())).first()


def test_customer_info_opens_with_what_is_on_file(world):
    _customer_on_file(world)
    pairs = _form(world, f"/projects/{world.project.id}/sheets/customer_info/new")
    for key in ("name", "short_name", "category", "source", "industry", "contact", "phone", "address"):
        assert _value(pairs, key) == [ON_FILE[key]], key
    assert _value(pairs, "legal_rep") == ["周建国"] and _value(pairs, "bank") == ["工商银行苏州分行"]
    text = page(world, world.rep, f"/projects/{world.project.id}/sheets/customer_info/new")
    assert "留空不会清除档案中的原值" in text and "清空档案中的此项" in text


def test_a_draft_never_writes_the_customer_master(world):
    customer = _customer_on_file(world)
    pairs = _form(world, f"/projects/{world.project.id}/sheets/customer_info/new")
    pairs = _replace(pairs, "phone", "0512-1111 2222")
    pairs = _replace(pairs, "industry", "")
    pairs = _replace(pairs, "address", "")
    _file(world, pairs)
    reload(customer)
    assert (customer.phone, customer.industry, customer.address) == (
        ON_FILE["phone"], ON_FILE["industry"], ON_FILE["address"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CustomerChange)) == 0


def test_approval_writes_changes_lists_them_and_a_blank_keeps_the_stored_value(world):
    customer = _customer_on_file(world)
    pairs = _form(world, f"/projects/{world.project.id}/sheets/customer_info/new")
    pairs = _replace(pairs, "phone", "0512-1111 2222")
    pairs = _replace(pairs, "contact", "李科长")
    pairs = _replace(pairs, "industry", "")  # emptied, no 清空 box: the stored value stays
    pairs = _replace(pairs, "address", "")  # emptied and 清空 ticked: the stored value goes
    pairs += [("_clear", "address")]
    record = _file(world, pairs)
    assert record.data["_clear"] == ["address"]
    reload(customer)
    assert customer.address == ON_FILE["address"]  # still a draft
    shown = lxml_html.fromstring(page(world, world.manager, f"/records/{record.id}")).xpath("//*[@id='to-clear']")
    assert shown and "地址" in shown[0].text_content()  # the 信息审核人 sees what approval will clear
    assert submit(world, record).status_code == 302
    reload(record)
    assert [s["signer_id"] for s in record.chain] == [world.manager.id]  # 信息审核人
    approve_all(world, record)
    reload(customer)
    assert customer.phone == "0512-1111 2222" and customer.contact == "李科长"
    assert customer.industry == ON_FILE["industry"]
    assert customer.address is None
    assert customer.profile["legal_rep"] == "周建国" and customer.info_record_id == record.id
    # 信息修改记录 on the customer page: who, field label, old → new, the sheet.
    doc = lxml_html.fromstring(page(world, world.manager, f"/customers/{customer.id}"))
    rows = [[re.sub(r"\s+", " ", td.text_content()).strip() for td in tr.xpath("td")]
            for tr in doc.xpath("//section[@id='changes']//tbody/tr")]
    by_label = {row[2]: row for row in rows}
    assert set(by_label) == {"电话", "联系人", "地址"}, rows
    assert by_label["电话"][1].startswith("张伟") and "李娜 审核" in by_label["电话"][1]
    assert by_label["电话"][3:] == [ON_FILE["phone"], "0512-1111 2222", record.number]
    assert by_label["地址"][3:5] == [ON_FILE["address"], "（已清空）"]


def test_other_sheets_open_with_the_projects_class_stage_and_the_customers_bank_data(world):
    _customer_on_file(world)
    world.project.customer_class = "A"
    world.project.stage = "negotiate"
    db.session.commit()
    base = f"/projects/{world.project.id}/sheets"
    assert _value(_form(world, f"{base}/resource_request/new"), "customer_class") == ["A类客户"]
    assert _value(_form(world, f"{base}/visit_report/new"), "stage") == ["合作谈判"]
    contract = _form(world, f"{base}/contract_review/new")
    assert _value(contract, "bank") == ["工商银行苏州分行"]
    assert _value(contract, "account_no") == ["1102 0266 0900 1234"]
    assert _value(contract, "vat_no") == ["91320500MA1XYZ1234"]


def test_user_pickers_offer_the_authors_team_first(world):
    doc = lxml_html.fromstring(page(world, world.rep, f"/projects/{world.project.id}/sheets/contract_review/new"))
    options = [o.text_content().strip() for o in doc.xpath("//select[@name='reviewers-0-name']/option")
               if o.get("value")]
    east = {u.name for u in (world.manager, world.rep, world.rep2)}
    south = {world.other_manager.name, world.other_rep.name}
    last_east = max(i for i, name in enumerate(options) if name in east)
    first_south = min(i for i, name in enumerate(options) if name in south)
    assert last_east < first_south, options


def test_the_customer_edit_page_leads_a_rep_through_review(world):
    """Issue 10, finding 1, by the customer page: a rep's 修改客户信息 does not
    write the master; it leads to 客户基本信息表 on his project, prefilled."""
    customer = _customer_on_file(world)
    client = world.browser(world.rep)
    shown = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "修改客户信息" in shown and f"/customers/{customer.id}/edit" in shown
    guide = client.get(f"/customers/{customer.id}/edit")
    text = guide.get_data(as_text=True)
    assert guide.status_code == 200 and "经信息审核人审核后才会更新" in text
    sheet_url = f"/projects/{world.project.id}/sheets/customer_info/new"
    assert sheet_url in text and "李娜" in text  # the 信息审核人 who could change it at once
    assert "陈部长" in page(world, world.rep, sheet_url)  # the sheet it leads to opens with what is on file
    # whatever the browser sends, the rep's post changes nothing
    posted = client.post(f"/customers/{customer.id}/edit", data={"name": ON_FILE["name"], "contact": "别人"})
    assert posted.status_code in (400, 403)
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).contact == "陈部长"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CustomerChange)) == 0


def test_the_information_reviewer_edits_the_master_directly_and_it_is_listed(world):
    customer = _customer_on_file(world)
    response = world.browser(world.manager).post(f"/customers/{customer.id}/edit",
                                                 data={**ON_FILE, "contact": "顾建华", "tax_id": ""})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).contact == "顾建华"
    change = db.session.scalars(sa.select(CustomerChange)).one()
    assert (change.field_label, change.old_value, change.new_value, change.changed_by_id) == \
        ("联系人", "陈部长", "顾建华", world.manager.id)
    shown = page(world, world.manager, f"/customers/{customer.id}")
    assert "信息审核人直接修改" in shown and "顾建华" in shown
    # another team's manager sees the customer only through a project, and is no reviewer of it
    assert not access.can_review_customer(world.other_manager, customer)


def test_the_customer_page_shows_every_master_field_on_file(world):
    """The fields the master sheets keep beyond the customer columns (法人代表,
    开户银行, 增值税号 …) show on the customer page with their paper labels,
    so the page agrees with its 信息修改记录."""
    customer = _customer_on_file(world)
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page(world, world.rep, f"/customers/{customer.id}")))
    for label, value in (("法人代表", "周建国"), ("开户银行", "工商银行苏州分行"), ("增值税号", "91320500MA1XYZ1234")):
        assert f"{label} {value}" in shown, label
