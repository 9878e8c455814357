"""Collections on the project (issue 10, finding 9): the 回款计划 is entered
on the project page by its owner or his manager, 签约日期 is set on winning
and can be corrected there, and the funnel's collection numbers read the
instalments. The old 已回款/回款日期 columns migrate into one instalment."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from salestrack import funnel, operations
from salestrack.extensions import db
from salestrack.models import AuditEvent, Instalment, Project

HX = {"HX-Request": "true"}


@pytest.fixture
def world(factory, login):
    team, manager, rep, rep2 = factory.team_with_people()
    customer = factory.customer(rep, name="苏州恒力精密机械有限公司")
    project = factory.project(rep, customer, name="数控车间 MES", amount=Decimal("120"))
    operations.change_stage(rep, project, "won", "框架协议直接签约")
    login(rep)
    return dict(team=team, manager=manager, rep=rep, rep2=rep2, project=db.session.get(Project, project.id))


def _add(client, project, headers=None, **values):
    data = {f"new-{k}": v for k, v in values.items()}
    return client.post(f"/projects/{project.id}/instalments", data=data, headers=headers or {})


def test_owner_enters_the_collection_plan_on_the_project_page(client, world):
    project = world["project"]
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "签约与回款计划" in page and str(funnel.local_today()) in page  # 签约日期 set on winning
    response = _add(client, project, HX, planned_date="2026-10-31", planned_amount="36", kind="software",
                    actual_date="2026-11-05", actual_amount="36")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'id="collections"' in text and "<html" not in text  # only the section is swapped in
    assert "已添加第 1 期回款计划" in text and "已回款 36.00 万元" in text
    assert _add(client, project, HX, planned_date="2027-03-31", planned_amount="84",
                kind="implementation").status_code == 200
    items = db.session.scalars(sa.select(Instalment).order_by(Instalment.seq)).all()
    assert [(i.seq, i.kind, i.planned_amount, i.actual_amount) for i in items] == [
        (1, "software", Decimal("36.00"), Decimal("36.00")), (2, "implementation", Decimal("84.00"), None)]
    assert db.session.scalar(sa.select(AuditEvent.actor_id).where(AuditEvent.action == "instalment_add")) \
        == world["rep"].id
    # recording what came in for the second instalment, without htmx
    item = items[1]
    response = client.post(f"/projects/{project.id}/instalments/{item.id}", data={
        f"i{item.id}-planned_date": "2027-03-31", f"i{item.id}-planned_amount": "84", f"i{item.id}-kind": "implementation",
        f"i{item.id}-actual_date": "2026-11-30", f"i{item.id}-actual_amount": "50"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Project, project.id).collected_amount == Decimal("86.00")


def test_errors_stand_next_to_the_field_and_what_was_typed_stays(client, world):
    project = world["project"]
    response = _add(client, project, HX, planned_date="2026-10-31", planned_amount="36.555", kind="software",
                    actual_amount="30")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert 'id="new-planned_amount-error"' in text and "金额最多两位小数" in text
    assert 'value="36.555"' in text and 'value="30"' in text
    response = _add(client, project, HX, planned_date="2026-10-31", planned_amount="36", kind="software",
                    actual_amount="30")
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "填写了实际金额，请同时填写实际回款日期" in text
    assert 'id="new-actual_date-error"' in text
    response = _add(client, project, HX, planned_date="明天", planned_amount="abc", kind="software")
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Instalment)) == 0


def test_manager_may_enter_it_and_other_reps_may_not(client, world, login, factory):
    project = world["project"]
    client.post("/logout")
    login(world["rep2"])
    assert _add(client, project, planned_date="2026-10-31", planned_amount="36", kind="software").status_code in (403, 404)
    client.post("/logout")
    login(world["manager"])
    assert _add(client, project, planned_date="2026-10-31", planned_amount="36", kind="software").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Instalment)) == 1


def test_signing_date_is_shown_and_corrected_on_the_project(client, world):
    project = world["project"]
    earlier = funnel.local_today() - timedelta(days=3)
    assert client.post(f"/projects/{project.id}/signed-date", data={"signed_at": str(earlier)}).status_code == 302
    assert db.session.get(Project, project.id).signed_at == earlier
    future = funnel.local_today() + timedelta(days=3)
    refused = client.post(f"/projects/{project.id}/signed-date", data={"signed_at": str(future)}, headers=HX)
    assert refused.status_code == 400 and "签约日期不能晚于今天" in refused.get_data(as_text=True)


def test_collection_numbers_read_the_instalments(world):
    rep, project = world["rep"], world["project"]
    today = funnel.local_today()
    operations.add_instalment(rep, project, planned_date=today, planned_amount=Decimal("40"),
                              actual_date=today, actual_amount=Decimal("40"))
    operations.add_instalment(rep, project, planned_date=today, planned_amount=Decimal("80"), kind="implementation")
    scope = funnel.scope_for(world["manager"], funnel.period_for("year"))
    total = funnel.collection_forecast(scope)[-1]
    assert (total.sure, total.collected) == (Decimal("80.00"), Decimal("40.00"))
    reps, _ = funnel.evaluation(scope, world["manager"])
    row = next(r for r in reps if r.id == rep.id)
    assert row.collection_rate == pytest.approx(40 / 120)  # 回款率


def test_migration_carries_collected_values_over_as_one_instalment(app, world):
    project = world["project"]
    project_id = project.id
    operations.add_instalment(world["rep"], project, planned_date=date(2026, 11, 20), planned_amount=Decimal("36"),
                              actual_date=date(2026, 11, 20), actual_amount=Decimal("36"))
    db.session.commit()
    db.session.close()
    downgrade(revision="0003_form_tokens")  # back to 已回款/回款日期 on the project
    with db.engine.begin() as conn:
        assert conn.execute(sa.text("SELECT collected_amount, collection_date FROM projects")).one() \
            in ((Decimal("36.00"), date(2026, 11, 20)), (36, "2026-11-20"), ("36.00", "2026-11-20"), (36.0, "2026-11-20"))
    upgrade()
    items = db.session.scalars(sa.select(Instalment)).all()
    assert [(i.project_id, i.seq, i.planned_amount, i.actual_amount, i.actual_date) for i in items] == [
        (project_id, 1, Decimal("36.00"), Decimal("36.00"), date(2026, 11, 20))]


def test_the_same_add_form_posted_twice_adds_one_instalment(client, world):
    project = world["project"]
    import re
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    add_form = page.split(f'action="/projects/{project.id}/instalments"', 1)[1].split("</form>", 1)[0]
    served = dict(re.findall(r'name="((?:new-)?csrf_token|form_token)"[^>]*value="([^"]+)"', add_form))
    assert set(served) == {"new-csrf_token", "form_token"}
    body = served | {"new-planned_date": "2026-10-31", "new-planned_amount": "36", "new-kind": "software"}
    first = client.post(f"/projects/{project.id}/instalments", data=dict(body), headers=HX)
    second = client.post(f"/projects/{project.id}/instalments", data=dict(body), headers=HX)
    assert first.status_code == second.status_code == 200
    assert "重复的提交已忽略" in second.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Instalment)) == 1
