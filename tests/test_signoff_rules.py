"""The server enforces every sign-off rule whatever the browser sends: only
the rightful signer acts on the current slot, nobody skips ahead, signs
twice, signs his own sheet or approves after a return; fields the client
must not set are ignored; two approvals of one slot at once record one."""
import re
import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from salestrack import operations
from salestrack.extensions import db
from salestrack.models import Delegation, Record, Signature, User
from tests.signoff_support import (crafted_token, fill, file_sheet, notifications, reload, sign, spec, state, submit,
                                   world)  # noqa: F401


def _bring(w, name: str) -> Record:
    """A 资源支持申请表 (chain: 李娜 → 孙建国 → 周婷) in the named state."""
    if name == "own_sheet_at_director":
        record = operations.create_record(w.manager, w.project, spec("phone_log"), {})
        operations.submit_record(w.manager, record, spec("phone_log"), {})
        return record
    sheet = spec("resource_request")
    record = file_sheet(w, sheet)
    if name == "draft":
        return record
    operations.submit_record(w.rep, record, sheet, {})
    if name == "at_manager":
        return record
    operations.sign_record(w.manager, record, sheet, "approved", "同意", expected_slot=0)
    if name == "at_gm":
        return record
    if name == "returned":
        operations.sign_record(w.gm, record, sheet, "returned", "预算不足", expected_slot=1)
        return record
    operations.sign_record(w.gm, record, sheet, "approved", "", expected_slot=1)
    operations.sign_record(w.hr, record, sheet, "approved", "", expected_slot=2)
    assert name == "approved"
    return record


def _act(w, actor: User, record: Record, action: str):
    """Does `action` as `actor` through the pages; the response after redirects."""
    browser = w.browser(actor)
    url = f"/records/{record.id}"
    if action.startswith("approve") or action.startswith("return"):
        decision = "returned" if action.startswith("return") else "approved"
        comment = "理由充分" if action == "return_with_reason" else ("" if decision == "returned" else "同意")
        data = {"decision": "bogus" if action == "approve_bogus" else decision, "comment": comment}
        slot = action.rsplit("_slot_", 1)[1] if "_slot_" in action else record.current_slot
        data["slot"] = "" if slot is None else str(slot)
        if "form_token" not in browser.served_form(url + "/sign"):  # no form for him: a request made by hand
            data["form_token"] = crafted_token()
        return browser.post(url + "/sign", data=data, follow_redirects=True)
    if action in ("withdraw", "remind", "submit"):
        return browser.post(f"{url}/{action}", follow_redirects=True)
    if action == "edit":
        form = fill(spec(record.sheet), w) + [("version", str(record.version)), ("action", "draft")]
        return browser.post(url + "/edit", data=MultiDict(form), follow_redirects=True)
    raise AssertionError(action)


# (who, the sheet's state, what he tries, what he is told: a message, or an HTTP status)
ILLEGAL = [
    ("manager", "draft", "approve", "此表单当前不在审批中"),
    ("author", "draft", "approve", "此表单当前不在审批中"),
    ("author", "at_manager", "approve", "您不是当前环节的签署人"),
    ("author", "at_manager", "return_with_reason", "您不是当前环节的签署人"),
    ("gm", "at_manager", "approve", "您不是当前环节的签署人"),
    ("director", "at_manager", "approve", "您不是当前环节的签署人"),
    ("clerk", "at_manager", "approve", "您不是当前环节的签署人"),
    ("auditor", "at_gm", "approve", "您不是当前环节的签署人"),
    ("hr", "at_manager", "approve", 404),
    ("rep2", "at_manager", "approve", 404),
    ("other_manager", "at_manager", "approve", 404),
    ("pm", "at_manager", "approve", 404),
    ("manager", "at_manager", "approve_slot_2", "此环节已被他人处理"),  # skipping ahead
    ("gm", "at_manager", "approve_slot_1", "此环节已被他人处理"),  # signing before his turn
    ("manager", "at_gm", "approve_slot_0", "此环节已被他人处理"),  # signing twice
    ("manager", "at_gm", "approve", "您不是当前环节的签署人"),
    ("manager", "at_manager", "return_without_reason", "请填写退回原因"),
    ("manager", "at_manager", "approve_bogus", "无效的审批操作"),
    ("gm", "returned", "approve", "此表单当前不在审批中"),  # approving after return
    ("manager", "returned", "approve_slot_0", "此表单当前不在审批中"),
    ("hr", "approved", "approve_slot_2", "此表单当前不在审批中"),
    ("manager", "own_sheet_at_director", "approve_slot_0", "您不是当前环节的签署人"),  # his own sheet
    ("author", "at_gm", "withdraw", "已有人签署，不能撤回"),
    ("manager", "at_manager", "withdraw", "只有填写人可以撤回"),
    ("author", "draft", "withdraw", "只有审批中的表单可以撤回"),
    ("author", "at_manager", "edit", "表单正在审批中，不能修改"),
    ("manager", "draft", "edit", 403),
    ("manager", "returned", "submit", 403),
    ("author", "at_manager", "submit", "此表单已在审批中或已批准"),
    ("author", "approved", "submit", "此表单已在审批中或已批准"),
    ("gm", "at_manager", "remind", "只有填写人可以催办"),
    ("author", "draft", "remind", "此表单不在审批中"),
]


def _flashes(html: str) -> list[str]:
    """The refusals a page shows: its messages, and the errors next to fields."""
    return (re.findall(r'<div class="flash flash-(?:error|warning)" role="(?:status|alert)">(.*?)</div>', html, re.S)
            + [m for m in re.findall(r'<p class="error"[^>]*>(.*?)</p>', html, re.S) if m.strip()])


@pytest.mark.parametrize("actor,status,action,told", ILLEGAL, ids=[f"{a}-{s}-{x}" for a, s, x, _ in ILLEGAL])
def test_illegal_acts_are_refused_and_change_nothing(world, actor, status, action, told):
    w = world
    record = _bring(w, status)
    person = w.rep if actor == "author" else getattr(w, actor)
    before = state(record)
    response = _act(w, person, record, action)
    text = response.get_data(as_text=True)
    if isinstance(told, int):
        assert response.status_code == told
    else:
        assert response.status_code in (200, 400, 409)
        assert any(told in message for message in _flashes(text)), _flashes(text)
    assert state(record) == before


FORGED = ("status", "waiting_for_id", "signer_id", "on_behalf_of_id", "author_id", "current_slot", "round",
          "approved_at", "impl_status", "chain", "principal_id", "decision_by")


def _forged(w) -> dict:
    values = {"status": "approved", "approved_at": "2020-01-01 00:00", "impl_status": "finished",
              "chain": "[]", "current_slot": "2", "round": "9"}
    return {name: values.get(name, str(w.gm.id)) for name in FORGED}


def test_fields_the_client_must_not_set_are_ignored_by_every_form(world):
    w = world
    forged = _forged(w)
    sheet = spec("resource_request")
    rep = w.browser(w.rep)

    response = rep.post(f"/projects/{w.project.id}/sheets/{sheet.key}/new",
                        data=MultiDict(fill(sheet, w) + [("action", "draft")] + list(forged.items())))
    assert response.status_code == 302
    record = db.session.scalars(sa.select(Record).order_by(Record.id.desc())).first()
    assert (record.status, record.author_id, record.waiting_for_id, record.round, record.chain) == \
        ("draft", w.rep.id, None, 0, [])
    assert not set(forged) & set(record.data)

    rep.post(f"/records/{record.id}/edit", data=MultiDict(
        fill(sheet, w, reason=["补充说明"]) + [("version", str(record.version)), ("action", "draft")]
        + list(forged.items())))
    reload(record)
    assert (record.status, record.waiting_for_id, record.data["reason"]) == ("draft", None, "补充说明")
    assert not set(forged) & set(record.data)

    # The team-manager and single-holder slots are not the author's to choose.
    submit(w, record, signer_department=str(w.gm.id), signer_gm=str(w.hr.id), signer_hr=str(w.gm.id), **forged)
    reload(record)
    assert (record.status, record.round, record.current_slot, record.waiting_for_id) == \
        ("submitted", 1, 0, w.manager.id)
    assert [s["signer_id"] for s in record.chain] == [w.manager.id, w.gm.id, w.hr.id]

    rep.post(f"/records/{record.id}/remind", data=forged)
    reload(record)
    assert (record.status, record.waiting_for_id) == ("submitted", w.manager.id)

    sign(w, w.manager, record, comment="同意", **{k: v for k, v in forged.items() if k != "decision"})
    reload(record)
    signature = db.session.scalar(sa.select(Signature).where(Signature.record_id == record.id))
    assert (signature.signer_id, signature.on_behalf_of_id, signature.slot_index, signature.round) == \
        (w.manager.id, None, 0, 1)
    assert (record.status, record.current_slot, record.waiting_for_id) == ("submitted", 1, w.gm.id)

    other = file_sheet(w, sheet)
    submit(w, other)
    rep.post(f"/records/{other.id}/withdraw", data=forged)
    reload(other)
    assert (other.status, other.waiting_for_id) == ("draft", None)

    w.browser(w.manager).post("/delegations/", data=forged | {
        "deputy": str(w.rep2.id), "starts_on": date.today().isoformat(),
        "ends_on": (date.today() + timedelta(days=2)).isoformat()})
    delegation = db.session.scalar(sa.select(Delegation))
    assert (delegation.principal_id, delegation.deputy_id) == (w.manager.id, w.rep2.id)


def test_a_handover_signer_must_be_from_the_implementation_team(world):
    w = world
    record = file_sheet(w, spec("handover"))
    response = submit(w, record, {"engineer": w.rep2, "project_manager": w.gm})
    assert response.status_code == 400 and "请选择「技术工程师」的签署人" in response.get_data(as_text=True)
    assert reload(record).status == "draft"


def test_an_author_cannot_name_himself_as_reviewer(world):
    w = world
    sheet = spec("contract_review")
    data = [(k, str(w.rep.id) if k == "reviewers-0-name" else v) for k, v in fill(sheet, w)]
    response = w.browser(w.rep).post(f"/projects/{w.project.id}/sheets/{sheet.key}/new",
                                     data=MultiDict(data + [("action", "draft")]))
    record = db.session.get(Record, int(response.headers["Location"].rsplit("/", 1)[1]))
    refused = submit(w, record)
    assert refused.status_code == 400 and "不能包含填写人本人" in refused.get_data(as_text=True)
    assert reload(record).status == "draft"


@pytest.mark.parametrize("second", ["the same signer", "his deputy"])
def test_two_approvals_of_one_slot_at_the_same_instant_record_one_decision(app, world, second):
    w = world
    sheet = spec("resource_request")
    record = file_sheet(w, sheet)
    operations.submit_record(w.rep, record, sheet, {})
    if second == "his deputy":
        operations.delegate(w.manager, w.rep2, date.today(), date.today())
    people = [w.manager.id, w.manager.id if second == "the same signer" else w.rep2.id]
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def approve(user_id):
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                mine = db.session.get(Record, record.id)
                barrier.wait(timeout=30)
                operations.sign_record(user, mine, sheet, "approved", f"{user.name} 同意", expected_slot=0)
                outcomes.append("signed")
            except operations.OperationError as e:
                outcomes.append(e.message)
            except Exception as e:  # noqa: BLE001 - the test reports any other failure
                errors.append(e)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=(uid,)) for uid in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(outcomes) == ["signed", "此环节已被他人处理，请刷新查看最新状态"]
    db.session.rollback()
    rows = db.session.scalars(sa.select(Signature).where(Signature.record_id == record.id)).all()
    assert len(rows) == 1 and rows[0].slot_index == 0
    reload(record)
    assert (record.status, record.current_slot, record.waiting_for_id) == ("submitted", 1, w.gm.id)
    assert len(notifications(w.gm, record, "submitted")) == 1


def test_an_incomplete_sheet_cannot_be_submitted(world):
    w = world
    record = file_sheet(w, spec("resource_request"), support_needed=[""])
    assert record.data["support_needed"] is None
    response = submit(w, record)
    assert "表单尚未填写完整" in response.get_data(as_text=True)
    reload(record)
    assert (record.status, record.round, record.waiting_for_id) == ("draft", 0, None)


def test_with_two_holders_of_a_role_the_author_must_choose(world, factory):
    w = world
    deputy_gm = factory.user("gm", username="gm2", name="钟副总")
    record = file_sheet(w, spec("resource_request"))
    assert 'name="signer_gm"' in w.browser(w.rep).get(f"/records/{record.id}/submit").get_data(as_text=True)
    refused = submit(w, record)
    assert refused.status_code == 400 and "请选择「总经理审核」的签署人" in refused.get_data(as_text=True)
    assert reload(record).status == "draft"
    submit(w, record, {"gm": deputy_gm})
    reload(record)
    assert [s["signer_id"] for s in record.chain] == [w.manager.id, deputy_gm.id, w.hr.id]
