"""Issue 10, finding 8 — money without its unit. Every money input shows 万元
beside it and in its label's accessible name; the record page, the sealed
PDF and the Excel exports show 万元 with every amount; an amount implausible
in 万元 (above MONEY_CONFIRM_ABOVE) is saved only after the user confirms the
unit, and nothing typed is lost meanwhile."""
import io

import lxml.html
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.models import ArchivedPdf, Project, Record
from tests.archive_helpers import approve, file_sheet as file_archived_sheet, make_people
from tests.pdf.pdf_helpers import pdf_text, squeeze
from tests.sheet_samples import make_world, new_url

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")

HANDOVER = registry.get("handover")
MONEY_SPECS = [s for s in registry.all_specs() if any(f.kind == "money" for f in s.fields())]


def doc(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def accessible_name(page, input_id: str) -> str:
    label = page.xpath(f"//label[@for='{input_id}']")[0]
    return " ".join(label.text_content().split())


@pytest.mark.parametrize("spec", MONEY_SPECS, ids=lambda s: s.key)
def test_every_money_input_shows_its_unit(client, login, factory, spec):
    world = make_world(factory)
    login(world.rep)
    page = doc(client.get(new_url(world.project, spec)))
    money = [f for f in spec.fields() if f.kind == "money"]
    assert money
    for f in money:
        assert "万元" in accessible_name(page, f.key), f.label
        suffix = page.xpath(f"//input[@id='{f.key}']/following-sibling::span[@class='unit']")
        assert suffix and suffix[0].text == "万元"


def test_project_and_target_amount_inputs_show_the_unit(client, login, factory):
    world = make_world(factory)
    login(world.rep)
    page = doc(client.get("/projects/new"))
    assert "万元" in accessible_name(page, "amount")
    assert page.xpath("//input[@id='amount']/following-sibling::span[@class='unit']")[0].text == "万元"


def test_handover_amounts_show_their_unit_on_the_record_page(client, login, factory):
    world = make_world(factory)
    login(world.rep)
    response = client.post(new_url(world.project, HANDOVER),
                           data={"list_price": "268.5", "implementation_budget": "36", "action": "draft"})
    assert response.status_code == 302
    text = " ".join(doc(client.get(response.headers["Location"])).text_content().split())
    assert "268.50 万元" in text and "36.00 万元" in text


def test_sealed_pdf_prints_amounts_with_their_unit(app, factory, tmp_path, login, client):
    people = make_people(factory)
    record, _ = file_archived_sheet(factory, people, HANDOVER, rows=1)
    approve(record, HANDOVER, people.author)
    login(people.author)
    response = client.get(f"/records/{record.id}/pdf")
    assert response.status_code == 200
    archived = db.session.scalar(sa.select(ArchivedPdf).where(ArchivedPdf.record_id == record.id))
    assert archived is not None
    text = squeeze(pdf_text(response.data, tmp_path))
    amounts = [record.data[f.key] for f in HANDOVER.fields() if f.kind == "money" and record.data.get(f.key)]
    assert len(amounts) == 2
    for amount in amounts:
        assert squeeze(f"{float(amount):,.2f}万元") in text, amount


def test_an_amount_typed_in_yuan_asks_for_confirmation_and_keeps_everything(client, login, factory):
    world = make_world(factory)
    login(world.rep)
    url = new_url(world.project, HANDOVER)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Record))
    typed = {"list_price": "2685000", "implementation_budget": "36", "impl_goals": "四个月内三条产线上线",
             "action": "draft"}
    response = client.post(url, data=typed)
    assert response.status_code == 400
    page = doc(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Record)) == before  # nothing saved
    error = page.xpath("//p[@id='list_price-error']")[0].text_content()
    assert "2,685,000.00 万元即 268.50 亿元" in error
    box = page.xpath("//input[@name='unit_ok:list_price']")
    assert box and not box[0].get("checked")
    assert "确认金额单位为万元" in accessible_name(page, box[0].get("id"))
    # nothing typed is lost; the plausible amount asks nothing
    assert page.xpath("//input[@id='list_price']")[0].get("value") == "2685000"
    assert page.xpath("//input[@id='implementation_budget']")[0].get("value") == "36"
    assert "四个月内三条产线上线" in page.xpath("//textarea[@id='impl_goals']")[0].text_content()
    assert not page.xpath("//input[@name='unit_ok:implementation_budget']")
    # confirming the unit saves it as typed
    saved = client.post(url, data=typed | {"unit_ok:list_price": "y"})
    assert saved.status_code == 302
    record = db.session.get(Record, int(saved.headers["Location"].rsplit("/", 1)[-1]))
    assert record.data["list_price"] == "2685000.00"


def test_a_plausible_amount_saves_without_question(client, login, factory, app):
    world = make_world(factory)
    login(world.rep)
    limit = app.config["MONEY_CONFIRM_ABOVE"]
    assert limit == 10_000
    response = client.post(new_url(world.project, HANDOVER), data={"list_price": str(limit), "action": "draft"})
    assert response.status_code == 302


def test_fifty_thousand_yuan_typed_as_wan_asks_for_confirmation(client, login, factory):
    """50,000 元 typed into a 万元 field is 5 亿元: asked, not saved."""
    world = make_world(factory)
    login(world.rep)
    typed = {"name": "恒力精机 备件", "customer_id": world.customer.id, "amount": "50000",
             "probability": "20", "customer_class": "C"}
    response = client.post("/projects/new", data=typed)
    assert response.status_code == 400
    assert "5.00 亿元" in doc(response).xpath("//p[@id='amount-error']")[0].text_content()
    assert db.session.scalar(sa.select(sa.func.count()).where(Project.name == "恒力精机 备件")) == 0


def test_project_amount_typed_in_yuan_asks_for_confirmation(client, login, factory):
    world = make_world(factory)
    login(world.rep)
    typed = {"name": "恒力精机 MES 系统", "customer_id": world.customer.id, "amount": "2685000",
             "probability": "60", "customer_class": "A", "competitors": "西门子"}
    response = client.post("/projects/new", data=typed)
    assert response.status_code == 400
    page = doc(response)
    assert "268.50 亿元" in page.xpath("//p[@id='amount-error']")[0].text_content()
    assert page.xpath("//input[@id='competitors']")[0].get("value") == "西门子"
    assert page.xpath("//input[@name='unit_ok:amount']")
    assert db.session.scalar(sa.select(sa.func.count()).where(Project.name == "恒力精机 MES 系统")) == 0
    saved = client.post("/projects/new", data=typed | {"unit_ok:amount": "y"})
    assert saved.status_code == 302
    assert str(db.session.scalar(sa.select(Project.amount).where(Project.name == "恒力精机 MES 系统"))) \
        == "2685000.00"


def test_excel_exports_name_the_unit_on_every_amount_column(client, login, factory):
    world = make_world(factory)
    login(world.people["director"])
    rows = list(load_workbook(io.BytesIO(client.get("/funnel/export/projects.xlsx").data),
                              read_only=True)["项目"].iter_rows(values_only=True))
    header = rows[0]
    for name in ("预计合同金额", "已回款"):
        assert any(h.startswith(name) and h.endswith("（万元）") for h in header), name


def test_a_confirmed_amount_is_not_questioned_again_on_the_next_save(client, login, factory):
    world = make_world(factory)
    login(world.rep)
    saved = client.post(new_url(world.project, HANDOVER),
                        data={"list_price": "2685000", "unit_ok:list_price": "y", "action": "draft"})
    record_id = int(saved.headers["Location"].rsplit("/", 1)[-1])
    again = client.post(f"/records/{record_id}/edit",
                        data={"list_price": "2685000", "implementation_budget": "36", "action": "draft"})
    assert again.status_code == 302
    changed = client.post(f"/records/{record_id}/edit", data={"list_price": "3685000", "action": "draft"})
    assert changed.status_code == 400 and "368.50 亿元" in changed.get_data(as_text=True)
    project = world.project
    fields = {"name": project.name, "customer_id": world.customer.id, "probability": "40", "customer_class": "B",
              "amount": "2685000"}
    first = client.post(f"/projects/{project.id}/edit", data=fields | {"unit_ok:amount": "y"})
    assert first.status_code == 302, first.get_data(as_text=True)[-2000:]
    second = client.post(f"/projects/{project.id}/edit", data=fields | {"competitors": "西门子"})
    assert second.status_code == 302
