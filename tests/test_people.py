"""The people in the customer's organisation (person master, toolkit sheets 8
and 20): the customer page lists and adds them; the customer's 信息审核人
edits them; their private fields (family, birthday, political status,
spouse, children …) are read only by the customer's team, its manager and
above — never by a rep of another team who sees the customer."""
import pytest
import sqlalchemy as sa
from lxml import html as lxml_html

from salestrack import operations
from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.models import AuditEvent, Person

SECRET = {"political_status": "中共党员", "birthday": "1975-06-18", "family": "妻子在市一院工作，儿子读高二",
          "spouse_name": "林秀华", "child_name": "陈子涵"}


def _people(customer):
    return list(db.session.scalars(sa.select(Person).where(Person.customer_id == customer.id).order_by(Person.id)))


def _edit_form(client, url):
    doc = lxml_html.fromstring(client.get(url).get_data(as_text=True))
    form = doc.xpath("//form[contains(@class,'sheet-form')]")[0]
    return dict(form.form_values())


def test_customer_page_lists_its_people_and_adds_one_in_place(factory, login, client):
    team, manager, rep, _ = factory.team_with_people()
    customer = factory.customer(rep)
    login(rep)
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "暂无联系人" in page and "新联系人姓名" in page
    response = client.post(f"/customers/{customer.id}/people", headers={"HX-Request": "true"},
                           data={"person_name": " 陈建国 ", "person_title": "采购部长", "person_phone": "0512-6666 8888"})
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert "已添加联系人 陈建国" in fragment and "采购部长" in fragment and "<html" not in fragment
    [person] = _people(customer)
    assert (person.name, person.title, person.phone, person.created_by_id) == ("陈建国", "采购部长", "0512-6666 8888", rep.id)
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert f"/customers/{customer.id}/people/{person.id}" in page and "采购部长" in page


def test_a_repeated_add_records_the_person_once(factory, login, client):
    team, manager, rep, _ = factory.team_with_people()
    customer = factory.customer(rep)
    login(rep)
    for _ in range(2):
        response = client.post(f"/customers/{customer.id}/people", data={"person_name": "王工", "person_title": "设备科长"})
        assert response.status_code == 302
    assert len(_people(customer)) == 1
    assert "未重复添加" in client.get(response.headers["Location"]).get_data(as_text=True)
    client.post(f"/customers/{customer.id}/people", data={"person_name": "王工", "person_title": "总工程师"})
    assert [p.title for p in _people(customer)] == ["设备科长", "总工程师"]  # another 王工


def test_a_blank_name_is_refused_next_to_the_form_and_adds_nobody(factory, login, client):
    team, manager, rep, _ = factory.team_with_people()
    customer = factory.customer(rep)
    login(rep)
    response = client.post(f"/customers/{customer.id}/people", headers={"HX-Request": "true"},
                           data={"person_name": "  ", "person_title": "采购部长"})
    assert response.status_code == 400
    assert "请填写姓名" in response.get_data(as_text=True)
    assert _people(customer) == []


def test_a_rep_of_another_team_cannot_add_people_to_a_customer_he_cannot_see(factory, login, client):
    _, _, rep, _ = factory.team_with_people()
    _, _, stranger, _ = factory.team_with_people()
    customer = factory.customer(rep)
    login(stranger)
    assert client.post(f"/customers/{customer.id}/people", data={"person_name": "混入者"}).status_code == 404
    assert _people(customer) == []


def _person_with_secrets(factory, login, client):
    """A customer of one team, a person on it whose private fields its team
    manager (信息审核人) filled in through the person's edit page."""
    team, manager, rep, rep2 = factory.team_with_people()
    customer = factory.customer(rep)
    person, _ = operations.add_person(rep, customer, name="陈建国", title="总经理")
    login(manager)
    url = f"/customers/{customer.id}/people/{person.id}/edit"
    values = _edit_form(client, url) | SECRET | {"rapport": "投缘", "key_decision_maker": "是"}
    response = client.post(url, data=values)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    client.post("/logout")
    return customer, person, manager, rep, rep2


def test_private_fields_are_read_by_the_team_its_manager_and_above_only(factory, login, client):
    customer, person, manager, rep, rep2 = _person_with_secrets(factory, login, client)
    db.session.refresh(person)
    assert person.private == SECRET and person.key_decision_maker and person.details["rapport"] == "投缘"
    # A colleague and a rep of another team, each selling to the same customer
    # on a project of his own, both see the customer and the person …
    factory.project(rep2, customer)
    _, _, outsider, _ = factory.team_with_people()
    factory.project(outsider, customer)
    readers = [rep, rep2, manager, factory.user("director"), factory.user("gm")]
    others = [outsider, factory.user("clerk"), factory.user("auditor")]
    url = f"/customers/{customer.id}/people/{person.id}"
    for user in readers + others:
        login(user)
        response = client.get(url)
        assert response.status_code == 200, user.role
        text = response.get_data(as_text=True)
        assert "投缘" in text and "总经理" in text
        # … but only the customer's team, its manager and above read the private fields.
        for value in ("中共党员", "1975-06-18", "妻子在市一院工作", "林秀华", "陈子涵"):
            assert (value in text) == (user in readers), (user.role, value)
        client.post("/logout")


def test_private_values_stay_out_of_the_audit_trail(factory, login, client):
    _person_with_secrets(factory, login, client)
    events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "person_update")))
    assert len(events) == 1
    detail = str(events[0].detail)
    assert "政治面貌" in detail and "中共党员" not in detail and "林秀华" not in detail


def test_only_the_reviewer_edits_a_person_directly(factory, login, client):
    team, manager, rep, _ = factory.team_with_people()
    customer = factory.customer(rep)
    person, _ = operations.add_person(rep, customer, name="陈建国")
    login(rep)
    url = f"/customers/{customer.id}/people/{person.id}/edit"
    assert client.get(url).status_code == 403
    assert client.post(url, data={"name": "改名"}).status_code == 403
    db.session.refresh(person)
    assert person.name == "陈建国"


def test_bad_input_on_the_person_form_is_shown_next_to_the_field_and_keeps_what_was_typed(factory, login, client):
    team, manager, rep, _ = factory.team_with_people()
    customer = factory.customer(rep)
    person, _ = operations.add_person(rep, customer, name="陈建国")
    login(manager)
    url = f"/customers/{customer.id}/people/{person.id}/edit"
    values = _edit_form(client, url) | {"birthday": "1975-13-45", "age": "四十", "family": "妻子在市一院工作"}
    response = client.post(url, data=values)
    assert response.status_code == 400
    doc = lxml_html.fromstring(response.get_data(as_text=True))
    assert "请输入有效的日期" in doc.get_element_by_id("field-birthday").text_content()
    assert "请输入整数" in doc.get_element_by_id("field-age").text_content()
    assert "妻子在市一院工作" in doc.get_element_by_id("field-family").text_content()
    db.session.refresh(person)
    assert person.private == {}


def test_a_person_of_another_customer_is_not_found_under_this_one(factory, login, client):
    team, manager, rep, _ = factory.team_with_people()
    mine, other = factory.customer(rep), factory.customer(rep)
    person, _ = operations.add_person(rep, other, name="陈建国")
    login(rep)
    assert client.get(f"/customers/{mine.id}/people/{person.id}").status_code == 404


# ── sheets that name a customer's person (contact fields) ──────────────────

def _latest_record():
    from salestrack.models import Record
    return db.session.scalars(sa.select(Record).order_by(Record.id.desc())).first()


def _offered(text):
    doc = lxml_html.fromstring(text)
    return [o.get("value") for o in doc.xpath("//datalist[@id='customer-people']/option")]


@pytest.mark.parametrize("sheet, name", [
    (spec.key, f"{t.key}-0-{c.key}" if c is not t else c.key)
    for spec in registry.all_specs() for t in spec.items()
    for c in (t.columns if hasattr(t, "columns") else (t,)) if c.kind == "contact"])
def test_every_person_field_offers_the_customers_people_and_links_the_one_picked(sheet, name, factory, login, client):
    team, manager, rep, _ = factory.team_with_people()
    customer = factory.customer(rep)
    project = factory.project(rep, customer)
    chen, _ = operations.add_person(rep, customer, name="陈建国", title="采购部长")
    operations.add_person(rep, factory.customer(rep), name="别家的人")
    login(rep)
    url = f"/projects/{project.id}/sheets/{sheet}/new"
    page = client.get(url).get_data(as_text=True)
    assert _offered(page) == ["陈建国"]
    doc = lxml_html.fromstring(page)
    assert doc.get_element_by_id(name).get("list") == "customer-people"
    response = client.post(url, data={name: "陈建国", "action": "draft"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    record = _latest_record()
    data = record.data
    stored = data[name.split("-")[0]][0][name.split("-")[2]] if "-" in name else data[name]
    assert stored == {"person": chen.id, "name": "陈建国"}
    assert "陈建国" in client.get(f"/records/{record.id}").get_data(as_text=True)
    # Someone not yet recorded is taken as typed, and printed as typed.
    client.post(url, data={name: "顾总", "action": "draft"})
    data = _latest_record().data
    stored = data[name.split("-")[0]][0][name.split("-")[2]] if "-" in name else data[name]
    assert stored == "顾总"


def test_a_person_is_added_in_place_from_the_sheet_and_then_picked(factory, login, client):
    team, manager, rep, _ = factory.team_with_people()
    customer = factory.customer(rep)
    project = factory.project(rep, customer)
    login(rep)
    url = f"/projects/{project.id}/sheets/phone_log/new"
    page = client.get(url).get_data(as_text=True)
    assert _offered(page) == [] and "新联系人姓名" in page
    response = client.post(f"/customers/{customer.id}/people", headers={"HX-Request": "true"},
                           data={"_for": "sheet", "person_name": "刘工", "person_title": "设备科长"})
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert _offered(fragment) == ["刘工"] and "已添加联系人 刘工" in fragment and "<html" not in fragment
    [liu] = _people(customer)
    client.post(url, data={"calls-0-reached": "刘工", "action": "draft"})
    assert _latest_record().data["calls"][0]["reached"] == {"person": liu.id, "name": "刘工"}


def test_a_name_two_recorded_people_share_is_kept_as_typed():
    from salestrack.formkit import kinds
    from salestrack.formkit.spec import Field
    field = Field("visitee", "拜访对象", "Visitee", "contact")
    people = [(1, "王工", "设备科长"), (2, "王工", "总工程师"), (3, "陈建国", "")]
    assert kinds.clean(field, ["王工"], people=people) == ("王工", [])
    assert kinds.clean(field, [" 陈建国 "], people=people) == ({"person": 3, "name": "陈建国"}, [])
    assert kinds.clean(field, ["陈建国"]) == ("陈建国", [])  # no people given: taken as typed
    assert kinds.clean(field, ["长" * 81], people=people)[1] == ["内容过长，最多 80 字"]
    assert kinds.display(field, {"person": 3, "name": "陈建国"}) == "陈建国"
