"""Sales projects: numbering, stage changes with their history and rules,
editing with conflict detection, bad input, live search."""
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from salestrack import operations
from salestrack.extensions import db
from salestrack.models import AuditEvent, Project, ProjectEvent


@pytest.fixture
def rep_world(factory, login):
    team, manager, rep, rep2 = factory.team_with_people()
    customer = factory.customer(rep, name="苏州恒力精密机械有限公司")
    login(rep)
    return dict(team=team, manager=manager, rep=rep, rep2=rep2, customer=customer)


def _backdate(project, days):
    project.stage_entered_at = project.stage_entered_at - timedelta(days=days)
    db.session.commit()


def test_rep_creates_a_project_with_a_system_number(client, rep_world):
    response = client.post("/projects/new", data={
        "name": "恒力精机 MES 系统", "customer_id": rep_world["customer"].id, "amount": "186.5",
        "probability": "60", "customer_class": "A", "lead_source": "展会及研讨会",
        "expected_sign_date": "2027-01-15", "competitors": "西门子"})
    assert response.status_code == 302
    project = db.session.scalar(sa.select(Project))
    assert project.project_no.startswith("XM-") and project.project_no.endswith("-0001")
    assert project.owner_id == rep_world["rep"].id and project.team_id == rep_world["team"].id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "恒力精机 MES 系统" in page and "186.50 万元" in page and "项目立项" in page


@pytest.mark.parametrize("field,value,message", [
    ("amount", "12.345", "金额最多两位小数"),
    ("amount", "-5", "请输入 0 到 10,000,000 之间的金额"),
    ("amount", "很多", "Not a valid decimal value"),
    ("expected_sign_date", "2027-13-45", None),
    ("probability", "55", None),
    ("customer_class", "E", None),
    ("name", "", "请填写项目名称"),
])
def test_bad_input_is_refused_next_to_the_field_and_keeps_what_was_typed(client, rep_world, field, value, message):
    data = {"name": "保留我输入的名称", "customer_id": rep_world["customer"].id, "amount": "10",
            "probability": "20", "customer_class": "C", "competitors": "保留的竞争对手"} | {field: value}
    response = client.post("/projects/new", data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in text
    if message and "Not a valid" not in message:
        assert message in text
    assert "保留的竞争对手" in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Project)) == 0


def test_two_reps_saving_at_once_get_different_numbers(app, factory):
    reps = [factory.user("rep") for _ in range(6)]
    customer = factory.customer(reps[0])
    numbers, errors = [], []

    def create(rep):
        with app.app_context():
            try:
                numbers.append(operations.create_project(rep, name="并发", customer_id=customer.id).project_no)
            except Exception as e:  # noqa: BLE001 - the test reports any failure
                errors.append(e)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=create, args=(db.session.get(type(r), r.id),)) for r in reps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(numbers)) == 6


def test_stage_change_records_who_when_and_why(client, rep_world, factory):
    project = factory.project(rep_world["rep"], rep_world["customer"])
    response = client.post(f"/projects/{project.id}/stage", data={"stage": "contact", "reason": "客户约了技术交流"})
    assert response.status_code == 302
    event = db.session.scalar(sa.select(ProjectEvent).where(ProjectEvent.kind == "stage"))
    assert (event.from_value, event.to_value, event.actor_id, event.reason) == \
        ("lead", "contact", rep_world["rep"].id, "客户约了技术交流")
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "项目立项 → <strong>初步接触</strong>" in page and "客户约了技术交流" in page
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "project_stage")).detail["to"] == "contact"


def test_leaving_a_stage_after_seven_days_needs_a_reason(client, rep_world, factory):
    project = factory.project(rep_world["rep"], rep_world["customer"])
    _backdate(project, 8)
    refused = client.post(f"/projects/{project.id}/stage", data={"stage": "contact", "reason": ""})
    assert refused.status_code == 400
    assert "阶段停留原因" in refused.get_data(as_text=True)
    assert db.session.get(Project, project.id).stage == "lead"
    assert client.post(f"/projects/{project.id}/stage",
                       data={"stage": "contact", "reason": "客户预算审批推迟"}).status_code == 302
    event = db.session.scalar(sa.select(ProjectEvent).where(ProjectEvent.kind == "stage"))
    assert event.days_in_stage == 8


def test_a_stay_reason_on_the_project_counts_as_the_reason(client, rep_world, factory):
    project = factory.project(rep_world["rep"], rep_world["customer"], stage_stay_reason="等待招标文件")
    _backdate(project, 10)
    assert client.post(f"/projects/{project.id}/stage", data={"stage": "contact"}).status_code == 302
    assert db.session.scalar(sa.select(ProjectEvent.reason).where(ProjectEvent.kind == "stage")) == "等待招标文件"


def test_losing_a_project_needs_the_reason_and_zeroes_probability(client, rep_world, factory):
    project = factory.project(rep_world["rep"], rep_world["customer"])
    assert client.post(f"/projects/{project.id}/stage", data={"stage": "lost"}).status_code == 400
    assert client.post(f"/projects/{project.id}/stage", data={"stage": "lost", "reason": "价格过高"}).status_code == 302
    project = db.session.get(Project, project.id)
    assert (project.stage, project.probability, project.lost_reason) == ("lost", 0, "价格过高")


def test_winning_sets_probability_and_signing_date(client, rep_world, factory):
    project = factory.project(rep_world["rep"], rep_world["customer"])
    client.post(f"/projects/{project.id}/stage", data={"stage": "won", "reason": "老客户直接续签"})
    project = db.session.get(Project, project.id)
    assert project.probability == 100 and project.signed_at is not None


def test_unknown_stage_is_refused(client, rep_world, factory):
    project = factory.project(rep_world["rep"], rep_world["customer"])
    assert client.post(f"/projects/{project.id}/stage", data={"stage": "bogus"}).status_code == 400


def test_second_editor_gets_a_conflict_instead_of_overwriting(client, rep_world, factory):
    project = factory.project(rep_world["rep"], rep_world["customer"], competitors="原始")
    stale_version = project.version
    operations.update_project(rep_world["manager"], project, competitors="经理改的")
    response = client.post(f"/projects/{project.id}/edit", data={
        "name": project.name, "customer_id": rep_world["customer"].id, "probability": "40",
        "customer_class": "B", "competitors": "我改的", "version": stale_version})
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "已被他人修改" in text and "我改的" in text
    assert db.session.get(Project, project.id).competitors == "经理改的"


def test_manager_reassigns_a_project_and_history_shows_it(client, rep_world, factory, login):
    project = factory.project(rep_world["rep"], rep_world["customer"])
    client.post("/logout")
    login(rep_world["manager"])
    response = client.post(f"/projects/{project.id}/reassign",
                           data={"owner_id": rep_world["rep2"].id, "reason": "超过一个月未跟进"})
    assert response.status_code == 302
    assert db.session.get(Project, project.id).owner_id == rep_world["rep2"].id
    assert "转交" in client.get(f"/projects/{project.id}").get_data(as_text=True)


def test_rep_cannot_reassign(client, rep_world, factory):
    project = factory.project(rep_world["rep"], rep_world["customer"])
    assert client.post(f"/projects/{project.id}/reassign", data={"owner_id": rep_world["rep2"].id}).status_code == 403


def test_live_search_returns_only_the_rows_fragment(client, rep_world, factory):
    factory.project(rep_world["rep"], rep_world["customer"], name="数控车间 MES")
    factory.project(rep_world["rep"], rep_world["customer"], name="仓储改造")
    fragment = client.get("/projects/?q=MES", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and "数控车间 MES" in text and "仓储改造" not in text
    assert "HX-Request" in fragment.headers["Vary"]
    full = client.get("/projects/?q=MES").get_data(as_text=True)
    assert "<html" in full


def test_filters_combine(client, rep_world, factory):
    a = factory.project(rep_world["rep"], rep_world["customer"], name="甲项目", customer_class="A")
    factory.project(rep_world["rep"], rep_world["customer"], name="乙项目", customer_class="C")
    operations.change_stage(rep_world["rep"], a, "contact")
    text = client.get("/projects/?stage=contact&class=A").get_data(as_text=True)
    assert "甲项目" in text and "乙项目" not in text
    assert "共 0 个项目" in client.get("/projects/?stage=won").get_data(as_text=True)


@pytest.mark.parametrize("query", ["%", "_", "'; DROP TABLE projects; --", "a" * 500, "\x00", "<script>"])
def test_odd_search_text_never_breaks_the_list(client, rep_world, query):
    response = client.get("/projects/", query_string={"q": query, "page": "x", "owner": "abc"})
    assert response.status_code == 200
    assert "<script>" not in response.get_data(as_text=True).split("<main", 1)[1].replace('value="&lt;script&gt;"', "")


@pytest.mark.parametrize("url", ["/projects/?owner=99999999999", "/projects/?team=99999999999999999999",
                                 "/funnel/?team=99999999999", "/followups/?rep=99999999999"])
def test_ids_beyond_the_integer_range_in_filters_are_ignored(client, rep_world, url):
    assert client.get(url).status_code < 500


def test_a_delegation_to_an_impossible_person_is_refused_next_to_the_form(client, rep_world):
    response = client.post("/delegations/", data={"deputy": "99999999999", "starts_on": "2026-11-22",
                                                  "ends_on": "2026-11-25"})
    assert response.status_code == 400 and "请选择被委托人" in response.get_data(as_text=True)


def test_project_page_refuses_reassigning_to_the_current_owner_next_to_the_field(client, rep_world, factory, login):
    project = factory.project(rep_world["rep"], rep_world["customer"])
    client.post("/logout")
    login(rep_world["manager"])
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    picker = page.split('id="owner_id"', 1)[1].split("</select>", 1)[0]
    assert "— 请选择 —" in picker and f'value="{rep_world["rep"].id}"' not in picker
    assert picker.count("selected") == 1 and '<option selected value="">' in picker  # nobody picked for him
    response = client.post(f"/projects/{project.id}/reassign",
                           data={"owner_id": rep_world["rep"].id, "reason": "交接"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert f"该项目已由 {rep_world['rep'].name} 负责" in text and "交接" in text
    assert db.session.get(Project, project.id).version == project.version
