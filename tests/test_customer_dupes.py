"""Issue 10, finding 7 — one company, one customer. Registering, renaming or
importing a customer that is on file already (same name after normalisation,
or same 统一社会信用代码/增值税号) is stopped with a pointer to the existing
one; someone who may not see it learns only which team holds it and whom to
ask. An admin merges duplicates; everything follows, the audit trail says so."""
import io
import re

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from openpyxl import Workbook

from salestrack import operations
from salestrack.customer_keys import name_key, tax_key
from salestrack.excel import ImportPlan
from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.models import AuditEvent, Customer, Project, Record


@pytest.fixture
def two_teams(factory):
    east, east_manager, rep, rep2 = factory.team_with_people()
    south, south_manager, rep3, _ = factory.team_with_people()
    original = factory.customer(rep, name="苏州恒力精密机械有限公司", contact="顾建华", phone="0512-6588 1234",
                                tax_id="91320500MA1XYZ1234")
    return dict(east=east, east_manager=east_manager, rep=rep, rep2=rep2, south=south,
                south_manager=south_manager, rep3=rep3, original=original)


def customer_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Customer))


def page_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.mark.parametrize("typed", [
    "苏州恒力精密机械有限公司",
    "苏州恒力精密机械股份有限公司",
    "苏州 恒力精密机械（有限公司）",
    "苏州恒力精密机械(集团)有限责任公司",
    "ｓｕｚｈｏｕ恒力精密机械公司",  # full-width letters, different suffix
])
def test_another_team_registering_the_same_company_is_told_whom_to_ask(client, login, two_teams, typed):
    w = two_teams
    if typed.startswith("ｓ"):
        operations.update_customer(w["rep"], w["original"], name="SUZHOU恒力精密机械有限公司")
    login(w["rep3"])
    before = customer_count()
    response = client.post("/customers/new", data={"name": typed, "contact": "新联系人", "phone": "138"})
    assert response.status_code == 400
    text = page_text(response)
    team, owner, manager = w["east"].name, w["rep"].name, w["east_manager"].name
    assert f"已由 {team} 登记" in text and owner in text and manager in text
    # never its details: not its number, contact or phone; what was typed is kept
    assert w["original"].customer_no not in text and "顾建华" not in text and "6588" not in text
    assert 'value="新联系人"' in response.get_data(as_text=True)
    assert customer_count() == before


def test_a_manager_who_sees_the_customer_gets_a_link_to_it(client, login, two_teams):
    w = two_teams
    login(w["east_manager"])
    response = client.post("/customers/new", data={"name": "苏州恒力精密机械 有限公司"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'href="/customers/{w["original"].id}"' in html and w["original"].customer_no in html


def test_same_tax_id_under_another_name_is_stopped(client, login, two_teams):
    w = two_teams
    login(w["rep3"])
    response = client.post("/customers/new", data={"name": "恒力精机（苏州）", "tax_id": "9132 0500 ma1x-yz1234"})
    assert response.status_code == 400
    text = page_text(response)
    assert "统一社会信用代码/增值税号的客户已由" in text and w["east"].name in text
    assert customer_count() == 1


def test_tax_id_is_stored_normalised_and_unique(client, login, two_teams):
    w = two_teams
    login(w["rep3"])
    response = client.post("/customers/new", data={"name": "东莞长安精工模具厂", "tax_id": "91441900 ab12-cd34ef"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Customer.tax_id).where(Customer.name == "东莞长安精工模具厂")) \
        == "91441900AB12CD34EF"
    bad = client.post("/customers/new", data={"name": "珠海市政务信息中心", "tax_id": "税号？"})
    assert bad.status_code == 400 and "8–20 位数字或大写字母" in page_text(bad)


def test_renaming_a_customer_into_an_existing_one_is_stopped(client, login, two_teams, factory):
    w = two_teams
    other = factory.customer(w["rep3"], name="广州粤海传媒集团")
    login(w["south_manager"])  # the 信息审核人 of rep3's customers, who edits the master directly
    response = client.post(f"/customers/{other.id}/edit", data={"name": "苏州恒力精密机械有限公司"})
    assert response.status_code == 400 and f"已由 {w['east'].name} 登记" in page_text(response)
    db.session.expire_all()
    assert db.session.get(Customer, other.id).name == "广州粤海传媒集团"
    # an edit that keeps the name saves as before
    ok = client.post(f"/customers/{other.id}/edit", data={"name": "广州粤海传媒集团", "phone": "020-1"})
    assert ok.status_code == 302


def _workbook(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "客户"
    ws.append(["客户编号", "企业名称", "统一社会信用代码/增值税号"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_import_stops_customers_on_file_and_repeats_within_the_file(client, login, two_teams, factory):
    w = two_teams
    director = factory.user("director")
    login(w["rep3"])
    data = _workbook([[None, "苏州恒力精密机械股份有限公司", None],
                      [None, "厦门海鹰航空部件有限公司", None],
                      [None, "厦门 海鹰航空部件（有限公司）", None],
                      [None, "南京航天测控科技", "91320500ma1xyz1234"]])
    response = client.post("/funnel/import", data={"file": (io.BytesIO(data), "客户.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    text = page_text(response)
    assert f"已由 {w['east'].name} 登记" in text and w["original"].customer_no not in text
    assert "与第 3 行是同一家客户" in text
    assert text.count("已由") == 2  # the name row and the tax-id row
    assert customer_count() == 1
    # the director, who may see it, is given its number
    client.post("/logout")
    login(director)
    text = page_text(client.post("/funnel/import", data={"file": (io.BytesIO(data), "客户.xlsx")},
                                 content_type="multipart/form-data"))
    assert w["original"].customer_no in text


def test_import_rows_refuses_a_duplicate_that_appeared_after_the_preview(two_teams):
    w = two_teams
    rows = [{"customer_no": None, "name": "苏州恒力精密机械（有限公司）", "owner": w["rep3"]}]
    with pytest.raises(operations.DuplicateCustomer):
        operations.import_rows(w["rep3"], ImportPlan(customers=rows))
    assert customer_count() == 1


def test_name_key_is_one_indexed_lookup(app):
    indexes = {i["name"]: i["column_names"] for i in sa.inspect(db.engine).get_indexes("customers")}
    assert indexes["ix_customers_name_key"] == ["name_key"]
    assert name_key("苏州恒力精密机械有限公司") == name_key("苏州恒力精密机械（股份有限公司）") == "苏州恒力精密机械"
    assert name_key("Cisco Systems, Inc.") == "ciscosystems" and name_key("Cisco") == "cisco"
    assert tax_key(" 9132-0500 ma1x ") == "91320500MA1X"


def test_migration_fills_keys_and_keeps_existing_duplicates(app, factory):
    rep = factory.user("rep")
    first = factory.customer(rep, name="上海东方电气设备有限公司")
    downgrade(revision="0003_form_tokens")
    with db.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO customers (customer_no, name, profile, created_at, updated_at) "
            "VALUES ('C09999', '上海东方电气设备（股份有限公司）', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    upgrade()
    db.session.expire_all()
    keys = db.session.execute(sa.select(Customer.customer_no, Customer.name_key).order_by(Customer.id)).all()
    assert keys == [(first.customer_no, "上海东方电气设备"), ("C09999", "上海东方电气设备")]


def _file_phone_log(rep, project) -> Record:
    spec = registry.get("phone_log")
    return operations.create_record(rep, project, spec, {})


def test_admin_merges_two_customers_after_a_summary(client, login, two_teams, factory):
    w = two_teams
    admin = factory.user("admin")
    keep = w["original"]
    # a duplicate registered before the check existed
    dup = Customer(customer_no="C00013", name="苏州恒力精密机械股份有限公司", owner_id=w["rep3"].id,
                   team_id=w["south"].id, contact="周立", address="苏州工业园区", profile={"website": "hengli.cn"})
    db.session.add(dup)
    db.session.commit()
    project = factory.project(w["rep3"], dup)
    record = _file_phone_log(w["rep3"], project)
    login(admin)
    listing = client.get("/admin/customers/duplicates")
    assert listing.status_code == 200
    assert keep.customer_no in page_text(listing) and "C00013" in page_text(listing)
    preview = client.post("/admin/customers/duplicates", data={"keep": keep.customer_no, "merged": "C00013"})
    text = page_text(preview)
    assert preview.status_code == 200
    assert "1 个项目、1 张表单" in text and "地址" in text and "苏州工业园区" in text
    assert db.session.get(Customer, dup.id) is not None  # the summary changes nothing
    done = client.post("/admin/customers/duplicates",
                       data={"keep": keep.customer_no, "merged": "C00013", "confirmed": "y"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Customer, dup.id) is None
    assert db.session.get(Project, project.id).customer_id == keep.id
    assert db.session.get(Record, record.id).customer_id == keep.id
    kept = db.session.get(Customer, keep.id)
    assert kept.contact == "顾建华" and kept.address == "苏州工业园区" and kept.profile["website"] == "hengli.cn"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "customer_merge"))
    assert event.detail["kept"] == keep.customer_no and event.detail["merged"] == "C00013"
    assert event.detail["projects"] == 1 and event.detail["records"] == 1
    # the project's page now names the kept customer
    client.post("/logout")
    login(w["rep3"])
    assert keep.name in page_text(client.get(f"/projects/{project.id}"))


def test_merge_refuses_the_same_customer_twice_and_unknown_numbers(client, login, two_teams, factory):
    login(factory.user("admin"))
    w = two_teams
    same = client.post("/admin/customers/duplicates",
                       data={"keep": w["original"].customer_no, "merged": w["original"].customer_no, "confirmed": "y"})
    assert same.status_code == 400 and "不能是同一个" in page_text(same)
    unknown = client.post("/admin/customers/duplicates", data={"keep": "C77777", "merged": "x" * 30})
    assert unknown.status_code == 400 and "没有客户编号为「C77777」" in page_text(unknown)
    assert customer_count() == 1


def test_only_the_admin_merges(client, login, two_teams):
    login(two_teams["east_manager"])
    assert client.get("/admin/customers/duplicates").status_code == 403
