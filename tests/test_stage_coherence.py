"""Stages and probability stay coherent (issue 10, finding 5): reopening a
won project needs a reason, resets 签约概率 and clears 签约日期 so it leaves
预计可回款; jumping stages needs a reason; a class that contradicts
probability and date is shown, and the manager can accept it."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from salestrack import funnel, operations
from salestrack.extensions import db
from salestrack.models import AuditEvent, Project


@pytest.fixture
def world(factory, login):
    team, manager, rep, rep2 = factory.team_with_people()
    customer = factory.customer(rep, name="苏州恒力精密机械有限公司")
    login(rep)
    return dict(team=team, manager=manager, rep=rep, rep2=rep2, customer=customer)


def _won(factory, world, **kw):
    project = factory.project(world["rep"], world["customer"], amount=Decimal("120"), **kw)
    for stage in ("contact", "design", "showcase", "confirm", "evaluate", "negotiate", "won"):
        operations.change_stage(world["rep"], project, stage)
    return db.session.get(Project, project.id)


def test_reopening_a_won_project_needs_a_reason_and_resets_probability_and_signing_date(client, world, factory):
    project = _won(factory, world, expected_sign_date=funnel.local_today())
    assert (project.probability, project.signed_at) == (100, funnel.local_today())
    scope = funnel.scope_for(world["manager"], funnel.period_for("year"))
    assert funnel.collection_forecast(scope)[-1].sure == Decimal("120.00")  # counted in 预计可回款

    refused = client.post(f"/projects/{project.id}/stage", data={"stage": "negotiate", "reason": ""})
    assert refused.status_code == 400
    assert "重新打开已签约的项目须填写原因" in refused.get_data(as_text=True)
    assert db.session.get(Project, project.id).stage == "won"

    assert client.post(f"/projects/{project.id}/stage",
                       data={"stage": "negotiate", "reason": "客户法务退回合同，重新谈判"}).status_code == 302
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    assert (project.stage, project.probability, project.signed_at) == ("negotiate", 80, None)
    assert funnel.collection_forecast(scope)[-1].sure == Decimal("0.00")  # no longer 预计可回款
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "80%" in page and "客户法务退回合同，重新谈判" in page


def test_jumping_more_than_one_stage_forward_needs_a_reason(client, world, factory):
    project = factory.project(world["rep"], world["customer"])
    refused = client.post(f"/projects/{project.id}/stage", data={"stage": "won"})
    assert refused.status_code == 400
    assert "从「项目立项」直接跳到「签约成交」跨过了 6 个阶段，请填写原因" in refused.get_data(as_text=True)
    assert db.session.get(Project, project.id).stage == "lead"
    assert client.post(f"/projects/{project.id}/stage", data={"stage": "contact"}).status_code == 302  # one step
    assert client.post(f"/projects/{project.id}/stage", data={"stage": "lead"}).status_code == 302  # back: no reason
    assert client.post(f"/projects/{project.id}/stage",
                       data={"stage": "confirm", "reason": "客户直接发标"}).status_code == 302
    assert db.session.get(Project, project.id).stage == "confirm"


def test_a_class_that_contradicts_probability_and_date_is_shown_and_the_manager_can_accept_it(
        client, world, factory, login):
    far = funnel.local_today() + timedelta(days=200)
    project = factory.project(world["rep"], world["customer"], customer_class="A", probability=40,
                              expected_sign_date=far)
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "分类与概率/日期不符" in page and "按定义应为 C 类" in page
    assert "确认保留 A 类" not in page  # the rep cannot accept it
    assert client.post(f"/projects/{project.id}/class/accept").status_code == 403

    client.post("/logout")
    login(world["manager"])
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "确认保留 A 类" in page
    assert client.post(f"/projects/{project.id}/class/accept").status_code == 302
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert f"已由 {world['manager'].name} 确认" in page and "确认保留 A 类" not in page
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "class_accept")).actor_id \
        == world["manager"].id

    operations.update_project(world["rep"], db.session.get(Project, project.id), probability=20)
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "确认保留 A 类" in page  # the acceptance was for 40 %, not for 20 %


@pytest.mark.parametrize("klass,probability,days,ok", [
    ("A", 80, 20, True), ("A", 60, 20, False), ("A", 80, 60, False),
    ("B", 60, 60, True), ("B", 40, 200, False), ("B", 20, 30, False),
    ("C", 20, 30, True), ("C", 60, 200, True), ("C", 60, 60, False),
    ("D", 20, None, True), ("D", 60, None, False),
])
def test_class_definitions_of_the_sales_process(app, klass, probability, days, ok):
    from salestrack.process import class_mismatch
    today = date(2026, 12, 1)
    expected = today + timedelta(days=days) if days is not None else None
    assert (class_mismatch(klass, probability, expected, today) is None) == ok
