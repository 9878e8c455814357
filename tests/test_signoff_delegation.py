"""代签: a signer names a deputy for some days; the deputy signs for him and
the record, the inbox and the audit trail say "X 代 Y". Outside those days,
or once revoked, the deputy can no longer sign; nobody signs his own sheet."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from salestrack import operations
from salestrack.extensions import db
from salestrack.models import AuditEvent, Delegation, Signature
from tests.signoff_support import (file_sheet, inbox, notifications, page, reload, sign, spec, submit,
                                   world)  # noqa: F401

TODAY = date.today()


def _delegate(w, principal, deputy, starts=TODAY, ends=TODAY):
    response = w.browser(principal).post("/delegations/", data={
        "deputy": str(deputy.id), "starts_on": starts.isoformat(), "ends_on": ends.isoformat()},
        follow_redirects=True)
    assert f"已委托 {deputy.name}" in response.get_data(as_text=True)
    return db.session.scalars(sa.select(Delegation).order_by(Delegation.id.desc())).first()


def test_a_deputy_signs_for_his_principal_and_everyone_sees_who_for_whom(world):
    w = world
    _delegate(w, w.manager, w.director, TODAY, TODAY + timedelta(days=4))
    assert "生效中" in page(w, w.manager, "/delegations/")
    assert "李娜：" in page(w, w.director, "/delegations/")
    assert len(notifications_of(w.director, "delegated")) == 1

    record = file_sheet(w, spec("resource_request"))
    submit(w, record)
    reload(record)
    assert inbox(w, w.director) == {record.id} and inbox(w, w.manager) == {record.id}
    assert "赵敏 代 李娜" in page(w, w.director, "/inbox/")
    assert "（代 李娜 签署）" in page(w, w.director, f"/records/{record.id}")

    w.browser(w.rep).post(f"/records/{record.id}/remind")
    assert len(notifications(w.manager, record, "reminder")) == 1
    deputy_told = notifications(w.director, record, "reminder")
    assert len(deputy_told) == 1 and "您是 李娜 的代签人" in deputy_told[0].message

    assert "已签署" in sign(w, w.director, record, comment="代李娜经理同意").get_data(as_text=True)
    reload(record)
    assert (record.current_slot, record.waiting_for_id) == (1, w.gm.id)
    signature = db.session.scalar(sa.select(Signature).where(Signature.record_id == record.id))
    assert (signature.signer_id, signature.on_behalf_of_id, signature.comment) == \
        (w.director.id, w.manager.id, "代李娜经理同意")
    assert "赵敏 代 李娜" in page(w, w.rep, f"/records/{record.id}")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "sign"))
    assert (event.actor_id, event.on_behalf_of_id, event.target_id) == (w.director.id, w.manager.id, record.id)
    assert inbox(w, w.director) == set() and inbox(w, w.manager) == set()


def notifications_of(user, kind):
    from salestrack.models import Notification
    return db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id,
                                                            Notification.kind == kind)).all()


@pytest.mark.parametrize("how", ["expired", "revoked", "not yet begun"])
def test_a_delegation_outside_its_dates_or_revoked_no_longer_allows_signing(world, how):
    w = world
    if how == "not yet begun":
        item = _delegate(w, w.manager, w.director, TODAY + timedelta(days=1), TODAY + timedelta(days=3))
    else:
        item = _delegate(w, w.manager, w.director, TODAY, TODAY + timedelta(days=3))
    record = file_sheet(w, spec("phone_log"))
    submit(w, record)
    if how == "expired":
        db.session.execute(sa.update(Delegation).where(Delegation.id == item.id).values(
            starts_on=TODAY - timedelta(days=10), ends_on=TODAY - timedelta(days=1)))
        db.session.commit()
        assert "已过期" in page(w, w.manager, "/delegations/")
    elif how == "revoked":
        response = w.browser(w.manager).post(f"/delegations/{item.id}/revoke", follow_redirects=True)
        assert "已撤销委托" in response.get_data(as_text=True)
    assert inbox(w, w.director) == set()
    refused = sign(w, w.director, record, comment="代签")
    assert "您不是当前环节的签署人" in refused.get_data(as_text=True)
    reload(record)
    assert (record.status, record.waiting_for_id) == ("submitted", w.manager.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 0


def test_a_deputy_cannot_sign_his_own_sheet(world, factory):
    w = world
    _delegate(w, w.manager, w.rep2, TODAY, TODAY + timedelta(days=2))
    own_project = factory.project(w.rep2, name="王芳的项目")
    w.project = own_project
    record = file_sheet(w, spec("phone_log"), author=w.rep2)
    submit(w, record, author=w.rep2)
    reload(record)
    assert record.waiting_for_id == w.manager.id
    assert inbox(w, w.rep2) == set()
    assert "请您签署" not in page(w, w.rep2, f"/records/{record.id}")
    refused = sign(w, w.rep2, record, comment="自己批")
    assert "您不是当前环节的签署人" in refused.get_data(as_text=True)
    assert reload(record).status == "submitted"
    sign(w, w.manager, record)
    assert reload(record).status == "approved"


def test_only_the_principal_revokes_his_delegation(world):
    w = world
    item = _delegate(w, w.manager, w.director, TODAY, TODAY + timedelta(days=2))
    assert w.browser(w.director).post(f"/delegations/{item.id}/revoke").status_code == 404
    assert w.browser(w.rep).post(f"/delegations/{item.id}/revoke").status_code == 404
    db.session.refresh(item)
    assert item.revoked_at is None


@pytest.mark.parametrize("starts,ends,deputy,message", [
    (TODAY, TODAY + timedelta(days=1), "manager", "不能委托给自己"),
    (TODAY + timedelta(days=3), TODAY, "director", "结束日期不能早于开始日期"),
    (TODAY - timedelta(days=5), TODAY - timedelta(days=1), "director", "结束日期已过"),
    (TODAY, TODAY + timedelta(days=400), "director", "委托期限最长一年"),
])
def test_a_delegation_needs_sensible_dates_and_another_person(world, starts, ends, deputy, message):
    w = world
    response = w.browser(w.manager).post("/delegations/", data={
        "deputy": str(getattr(w, deputy).id), "starts_on": starts.isoformat(), "ends_on": ends.isoformat()})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delegation)) == 0


def test_the_approval_stays_valid_after_the_delegation_ends(world):
    """Signing is judged when it happens: ending the delegation later does
    not undo what the deputy signed."""
    w = world
    item = _delegate(w, w.manager, w.director, TODAY, TODAY + timedelta(days=2))
    record = file_sheet(w, spec("phone_log"))
    submit(w, record)
    sign(w, w.director, record)
    operations.revoke_delegation(w.manager, db.session.get(Delegation, item.id))
    reload(record)
    assert record.status == "approved"
    assert "赵敏 代 李娜" in page(w, w.rep, f"/records/{record.id}")


@pytest.mark.parametrize("deputy", ["rep2", "other_manager"])
def test_a_deputy_who_cannot_otherwise_see_the_project_opens_and_signs_the_sheet(world, deputy):
    """The inbox link must open: a senior rep or another team's manager
    standing in for 李娜 sees the sheets waiting for her, while the delegation lasts."""
    w = world
    person = getattr(w, deputy)
    item = _delegate(w, w.manager, person, TODAY, TODAY + timedelta(days=1))
    record = file_sheet(w, spec("visit_report"))
    submit(w, record)
    assert inbox(w, person) == {record.id}
    assert "（代 李娜 签署）" in page(w, person, f"/records/{record.id}")
    assert "已签署" in sign(w, person, record, comment="客户很重视，尽快出方案").get_data(as_text=True)
    assert reload(record).status == "approved"
    assert f"{person.name} 代 李娜" in page(w, w.rep, f"/records/{record.id}")

    other = file_sheet(w, spec("phone_log"))
    submit(w, other)
    operations.revoke_delegation(w.manager, db.session.get(Delegation, item.id))
    assert w.browser(person).get(f"/records/{other.id}").status_code == 404


@pytest.mark.parametrize("change", ["who signed for whom", "the decision", "the signed content"])
def test_the_audit_chain_check_detects_an_edited_sign_off_event(world, app, change):
    w = world
    _delegate(w, w.manager, w.director, TODAY, TODAY)
    record = file_sheet(w, spec("phone_log"))
    submit(w, record)
    sign(w, w.director, record)
    runner = app.test_cli_runner()
    intact = runner.invoke(args=["audit", "verify"])
    assert intact.exit_code == 0 and "chain intact" in intact.output
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "sign"))
    values = {"who signed for whom": {"on_behalf_of_id": None},
              "the decision": {"action": "return"},
              "the signed content": {"content_hash": "0" * 64}}[change]
    db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == event.id).values(**values))
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert int(result.output.split("#")[1].split()[0]) == event.id
