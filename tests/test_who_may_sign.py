"""Who may sign (issue 15 findings 1–4). The server decides who may hold each
slot — role, team, active — with one rule (workflow.refusal) that the
pickers, submit, delegation, signing and 转交 all use: admin, clerk and
auditor never sign, not even as deputies; a deactivated person's
delegations end and what waits for him moves to his manager; a sheet stuck
on a deactivated signer can be withdrawn by its author or reassigned by an
admin or director; one person holds one slot per round."""
import dataclasses
from datetime import date, timedelta

import lxml.html
import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from salestrack import operations
from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.formkit.spec import Table
from salestrack.models import AuditEvent, Delegation, Record, Signature, User
from tests.sheet_samples import new_url
from tests.signoff_support import (approve_all, file_sheet, fill, inbox, notifications, page, reload, sign, spec,
                                   state, submit, world)  # noqa: F401

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")

TODAY = date.today()


def _delegations(w, principal, deputy, starts=TODAY, ends=TODAY + timedelta(days=3)):
    return w.browser(principal).post("/delegations/", data={
        "deputy": str(deputy.id), "starts_on": starts.isoformat(), "ends_on": ends.isoformat()})


def _options(html: str, name: str) -> set[str]:
    doc = lxml.html.fromstring(html)
    return {o.get("value") for o in doc.xpath(f"//select[@name='{name}']/option") if o.get("value")}


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def admin(factory):
    return factory.user("admin", username="guanli", name="管理员")


def _deactivate(w, admin_user, person):
    """The admin unticks 在职 on the person's page, as the admin does."""
    client = w.browser(admin_user)
    form = lxml.html.fromstring(client.get(f"/admin/users/{person.id}").get_data(as_text=True))
    fields = {i.get("name"): i.get("value") or "" for i in form.xpath("//form[not(contains(@action,'password'))]"
                                                                        "//input[@name and @type!='checkbox']")}
    fields |= {s.get("name"): (s.xpath("option[@selected]/@value") or [""])[0]
               for s in form.xpath("//form[not(contains(@action,'password'))]//select")}
    fields = {k: v for k, v in fields.items() if not k.startswith("pw-")}
    response = client.post(f"/admin/users/{person.id}", data=fields)
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    assert not reload(person).active


# ── finding 1: read-only roles and admin never sign, not even by delegation ──
def test_the_delegation_page_offers_only_people_who_may_sign_for_you(world, admin, factory):
    w = world
    gone = factory.user("rep", w.team, username="likai", name="李凯")
    operations.update_user(None, gone, active=False)
    offered = _options(page(w, w.manager, "/delegations/"), "deputy")
    assert {str(u.id) for u in (w.rep, w.rep2, w.other_manager, w.director, w.gm)} <= offered
    assert not offered & {str(u.id) for u in (w.clerk, w.auditor, admin, w.hr, w.pm, gone, w.manager)}
    assert _options(page(w, w.pm, "/delegations/"), "deputy") == {str(w.engineer.id)}


@pytest.mark.parametrize("principal,deputy", [
    ("manager", "clerk"), ("gm", "auditor"), ("manager", "admin"), ("manager", "hr"), ("pm", "rep2"),
    ("manager", "inactive"), ("clerk", "rep2")])
def test_a_delegation_to_someone_who_may_not_hold_the_slots_is_refused(world, admin, factory, principal, deputy):
    w = world
    people = {"admin": admin, "inactive": factory.user("rep", w.team, username="likai", name="李凯")}
    operations.update_user(None, people["inactive"], active=False)
    person = people.get(deputy) or getattr(w, deputy)
    response = _delegations(w, getattr(w, principal), person)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="deputy-error"' in body and any(m in body for m in ("不能代", "无需委托", "已停用"))
    assert _count(Delegation) == 0


def test_a_delegation_made_before_these_rules_lets_no_clerk_or_auditor_sign(world):
    """Delegations already on file (the clerk approved a phone log that was
    sealed): the rule holds when signing, not only when delegating."""
    w = world
    for deputy in (w.clerk, w.auditor):
        db.session.add(Delegation(principal_id=w.manager.id, deputy_id=deputy.id, starts_on=TODAY,
                                  ends_on=TODAY + timedelta(days=3)))
    db.session.commit()
    record = file_sheet(w, spec("phone_log"))
    submit(w, record)
    for deputy in (w.clerk, w.auditor):
        assert inbox(w, deputy) == set()
        before = state(record)
        refused = sign(w, deputy, record, comment="代签")
        assert refused.status_code in (200, 404)
        assert state(record) == before and reload(record).status == "submitted"
    assert _count(Signature) == 0


# ── finding 2: a deactivated person's delegations end ─────────────────────
def test_deactivating_a_principal_ends_his_delegations_and_his_deputy_signs_no_more(world, admin):
    w = world
    assert _delegations(w, w.manager, w.rep2).status_code == 302
    assert _delegations(w, w.other_manager, w.manager).status_code == 302
    record = file_sheet(w, spec("phone_log"))
    submit(w, record)
    _deactivate(w, admin, w.manager)
    items = db.session.scalars(sa.select(Delegation)).all()
    assert all(d.revoked_at is not None for d in items) and len(items) == 2
    assert _count_events("delegate_revoke") == 2
    assert inbox(w, w.rep2) == set()
    refused = sign(w, w.rep2, record, comment="王芳 代 李娜")
    assert "王芳 代 李娜" not in page(w, w.rep, f"/records/{record.id}")
    assert not db.session.scalar(sa.select(Signature).where(Signature.signer_id == w.rep2.id))
    assert refused.status_code in (200, 404)


def test_a_deputy_cannot_sign_for_a_principal_deactivated_without_the_app(world):
    """A principal marked inactive by other means (a database fix, an
    import): his delegation is void when it is used."""
    w = world
    assert _delegations(w, w.manager, w.rep2).status_code == 302
    record = file_sheet(w, spec("phone_log"))
    submit(w, record)
    db.session.execute(sa.update(User).where(User.id == w.manager.id).values(active=False))
    db.session.commit()
    assert inbox(w, w.rep2) == set()
    sign(w, w.rep2, record, comment="代签")
    assert reload(record).status == "submitted" and _count(Signature) == 0


def _count_events(action) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


# ── finding 3: nothing stays stuck on a deactivated signer ────────────────
def test_deactivating_a_signer_moves_what_waits_for_him_to_his_manager(world, admin):
    w = world
    record = file_sheet(w, spec("resource_request"))
    submit(w, record)
    later = file_sheet(w, spec("handover"))
    submit(w, later, {"engineer": w.engineer, "project_manager": w.pm})
    before = page(w, admin, f"/admin/users/{w.manager.id}")  # the admin is told first what will move
    assert "2 份表单待其签署" in before and record.number in before and later.number in before
    _deactivate(w, admin, w.manager)  # 李娜 manages 华东片区; above her is the director
    told = page(w, admin, f"/admin/users/{w.manager.id}")  # … and after, what moved to whom
    assert f"{record.number} → 赵敏" in told and f"{later.number} → 赵敏" in told
    reload(record)
    assert record.waiting_for_id == w.director.id and record.chain[0]["signer_id"] == w.director.id
    assert record.chain[0]["label"] == spec("resource_request").slots[0].label
    assert inbox(w, w.director) >= {record.id, later.id}
    assert len(notifications(w.director, record, "submitted")) == 1
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "reassign",
                                                          AuditEvent.target_id == record.id))
    assert event.actor_id == admin.id and event.detail["from"] == ["李娜"] and event.detail["to"] == "zhaomin"
    assert "转交签署" in page(w, admin, "/audit/")
    approve_all(w, record)
    assert reload(record).status == "approved"


def test_a_later_slot_of_a_deactivated_person_moves_too(world, admin):
    w = world
    record = file_sheet(w, spec("handover"))
    submit(w, record, {"engineer": w.engineer, "project_manager": w.pm})
    _deactivate(w, admin, w.pm)  # no team: the director takes over 项目经理
    reload(record)
    assert [e["signer_id"] for e in record.chain] == [w.manager.id, w.engineer.id, w.director.id]
    assert record.waiting_for_id == w.manager.id
    approve_all(w, record)
    assert reload(record).status == "approved"


def _stuck_contract_review(w) -> Record:
    """A contract review whose reviewers signed, now waiting at 审核 for 李娜,
    deactivated behind the app's back (as before these rules)."""
    record = file_sheet(w, spec("contract_review"))
    assert submit(w, record).status_code == 302
    for reviewer in (w.engineer, w.rep2):
        sign(w, reviewer, record, comment="评审通过")
    assert reload(record).waiting_for_id == w.manager.id
    db.session.execute(sa.update(User).where(User.id == w.manager.id).values(active=False))
    db.session.commit()
    return record


def test_the_author_can_withdraw_a_sheet_stuck_on_a_deactivated_signer(world):
    w = world
    record = _stuck_contract_review(w)
    shown = page(w, w.rep, f"/records/{record.id}")
    assert "已停用" in shown and f'action="/records/{record.id}/withdraw"' in shown
    w.browser(w.rep).post(f"/records/{record.id}/withdraw")
    reload(record)
    assert (record.status, record.waiting_for_id) == ("draft", None)
    assert _count(Signature) == 2  # the reviewers' signatures stay in history


def test_an_admin_reassigns_a_waiting_slot_after_confirming(world, admin):
    w = world
    record = _stuck_contract_review(w)
    listed = page(w, admin, "/signoff/waiting")
    assert record.number in listed and "已停用" in listed
    url = f"/records/{record.id}/reassign"
    offered = _options(page(w, admin, url), "signer")
    assert str(w.other_manager.id) in offered and str(w.director.id) in offered
    assert not offered & {str(u.id) for u in (w.clerk, w.auditor, admin, w.rep2, w.rep, w.engineer, w.manager)}

    before = state(record)
    refused = ((w.clerk, "不能签署「审核」"), (w.engineer, "不能签署「审核」"), (w.rep, "不能签署「审核」"),
               (w.gm, "不能转交给 孙建国"), (w.manager, "已停用"))
    for bad, message in refused:
        response = w.browser(admin).post(url, data={"signer": str(bad.id), "reason": "李娜离职"})
        assert response.status_code == 400 and message in response.get_data(as_text=True)
        assert 'id="signer-error"' in response.get_data(as_text=True)
    response = w.browser(admin).post(url, data={"signer": str(w.other_manager.id), "reason": ""})
    assert response.status_code == 400 and 'id="reason-error"' in response.get_data(as_text=True)
    confirm = w.browser(admin).post(url, data={"signer": str(w.other_manager.id), "reason": "李娜离职"})
    assert confirm.status_code == 200 and "确认转交" in confirm.get_data(as_text=True)
    assert state(record) == before  # nothing happens before the confirmation

    done = w.browser(admin).post(url, data={"signer": str(w.other_manager.id), "reason": "李娜离职",
                                            "confirmed": "y"}, follow_redirects=True)
    assert "已将" in done.get_data(as_text=True)
    reload(record)
    assert record.waiting_for_id == w.other_manager.id and record.chain[2]["signer_id"] == w.other_manager.id
    assert inbox(w, w.other_manager) == {record.id}
    assert _count_events("reassign") == 1
    approve_all(w, record)
    assert reload(record).status == "approved"


@pytest.mark.parametrize("who", ["rep", "other_manager", "gm", "clerk", "auditor", "hr"])
def test_only_an_admin_or_director_reassigns(world, who):
    w = world
    record = _stuck_contract_review(w)
    before = state(record)
    assert w.browser(getattr(w, who)).get("/signoff/waiting").status_code == 403
    response = w.browser(getattr(w, who)).post(f"/records/{record.id}/reassign", data={
        "signer": str(w.other_manager.id), "reason": "x", "confirmed": "y"})
    assert response.status_code == 403
    assert state(record) == before


# ── finding 4: one slot per person per round; pickers offer signers only ──
def test_one_person_cannot_hold_two_slots_of_a_round(world):
    w = world
    sheet = spec("contract_review")
    pairs = [(k, str(w.manager.id) if k == "reviewers-0-name" else v) for k, v in fill(sheet, w)]
    response = w.browser(w.rep).post(f"/projects/{w.project.id}/sheets/{sheet.key}/new",
                                     data=MultiDict(pairs + [("action", "draft")]))
    record = db.session.get(Record, int(response.headers["Location"].rsplit("/", 1)[1]))
    refused = submit(w, record)
    assert refused.status_code == 400 and "同一轮中一人只能签署一个环节" in refused.get_data(as_text=True)
    assert reload(record).status == "draft"

    handover = file_sheet(w, spec("handover"))
    refused = submit(w, handover, {"engineer": w.engineer, "project_manager": w.engineer})
    assert refused.status_code == 400 and "同一轮中一人只能签署一个环节" in refused.get_data(as_text=True)
    assert reload(handover).status == "draft"


def test_where_the_organisation_alone_names_one_person_twice_he_signs_both(world):
    """A director's own 人员需求申请: above him 所属部门领导 is the general
    manager, who is also 总经理审核. Nobody picked him twice; he signs both."""
    w = world
    record = file_sheet(w, spec("resource_request"), author=w.director)
    assert submit(w, record, author=w.director).status_code == 302
    assert [e["signer_id"] for e in reload(record).chain] == [w.gm.id, w.gm.id, w.hr.id]
    approve_all(w, record)
    assert reload(record).status == "approved"


def test_a_sheet_whose_definition_allows_it_lets_one_person_hold_two_slots(world):
    w = world
    original = registry.get("handover")
    registry.unregister("handover")
    registry.register(dataclasses.replace(original, signers_may_repeat=True))
    try:
        record = file_sheet(w, spec("handover"))
        assert submit(w, record, {"engineer": w.engineer, "project_manager": w.engineer}).status_code == 302
        assert [e["signer_id"] for e in reload(record).chain] == [w.manager.id, w.engineer.id, w.engineer.id]
    finally:
        registry.unregister("handover")
        registry.register(original)


def test_a_deputy_who_holds_another_slot_of_the_round_cannot_sign_this_one(world):
    w = world
    assert _delegations(w, w.manager, w.rep2).status_code == 302
    record = file_sheet(w, spec("contract_review"))  # reviewers: 郑浩 and 王芳; 审核: 李娜
    submit(w, record)
    for reviewer in (w.engineer, w.rep2):
        sign(w, reviewer, record, comment="评审通过")
    before = state(record)
    refused = sign(w, w.rep2, record, comment="代李娜审核")
    assert "同一轮中不能再代签" in refused.get_data(as_text=True)
    assert state(record) == before


def _user_inputs():
    for sheet in registry.all_specs():
        for item in sheet.items():
            if isinstance(item, Table):
                for col in item.columns:
                    if col.kind == "user":
                        yield sheet.key, f"{item.key}-0-{col.key}"
            elif item.kind == "user":
                yield sheet.key, item.key


@pytest.mark.parametrize("sheet,name", list(_user_inputs()))
def test_user_pickers_offer_no_admin_clerk_auditor_or_inactive_person(world, admin, factory, sheet, name):
    w = world
    gone = factory.user("rep", w.team, username="likai", name="李凯")
    operations.update_user(None, gone, active=False)
    offered = _options(page(w, w.rep, new_url(w.project, spec(sheet))), name)
    assert str(w.manager.id) in offered
    assert not offered & {str(u.id) for u in (admin, w.clerk, w.auditor, gone)}


@pytest.mark.parametrize("who", ["clerk", "auditor", "admin"])
def test_a_forged_reviewer_who_may_not_sign_is_refused_next_to_the_field(world, admin, who):
    w = world
    person = admin if who == "admin" else getattr(w, who)
    sheet = spec("contract_review")
    pairs = [(k, str(person.id) if k == "reviewers-0-name" else v) for k, v in fill(sheet, w)]
    response = w.browser(w.rep).post(f"/projects/{w.project.id}/sheets/{sheet.key}/new",
                                     data=MultiDict(pairs + [("action", "draft")]))
    assert response.status_code == 400 and "请从列表中选择人员" in response.get_data(as_text=True)
    assert _count(Record) == 0


def test_the_submit_page_offers_no_inactive_implementation_person(world, factory):
    w = world
    gone = factory.user("implementation", username="likai", name="李凯")
    operations.update_user(None, gone, active=False)
    record = file_sheet(w, spec("handover"))
    offered = _options(page(w, w.rep, f"/records/{record.id}/submit"), "signer_engineer")
    assert offered == {str(w.engineer.id), str(w.pm.id)}
    refused = submit(w, record, {"engineer": gone, "project_manager": w.pm})
    assert refused.status_code == 400 and reload(record).status == "draft"
