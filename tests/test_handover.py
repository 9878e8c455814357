"""The receiving side of 售前与工程实施交接单: once its 项目经理 signs, it is in
the implementation team's worklist, where they mark it started and finished;
the rep sees how far it is; nobody else changes that status."""
import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from salestrack.extensions import db
from salestrack.models import Record
from tests.signoff_support import (approve_all, file_sheet, fill, notifications, page, reload, sign, spec, state, submit,
                                   wait_for_pdf_link, world)  # noqa: F401

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")


def _worklist(w, user, status=""):
    return page(w, user, "/handover/" + (f"?status={status}" if status else ""))


def _approved_handover(w) -> Record:
    record = file_sheet(w, spec("handover"))
    assert submit(w, record, {"engineer": w.engineer, "project_manager": w.pm}).status_code == 302
    sign(w, w.manager, record)
    sign(w, w.engineer, record, comment="技术范围已确认")
    assert record.number not in _worklist(w, w.pm)  # not until the 项目经理 has signed
    sign(w, w.pm, record, comment="已接收")
    return reload(record)


def _set(w, user, record, status, **extra):
    return w.browser(user).post(f"/handover/{record.id}/status", data={"status": status, **extra},
                                follow_redirects=True)


def test_an_approved_handover_lands_in_the_worklist_and_moves_to_finished(world):
    w = world
    record = _approved_handover(w)
    assert (record.status, record.impl_status) == ("approved", "received")
    assert [s["signer_id"] for s in record.chain] == [w.manager.id, w.engineer.id, w.pm.id]
    assert len(notifications(w.pm, record, "worklist")) == 1

    listed = _worklist(w, w.pm)
    assert record.number in listed and "已接收" in listed and "开始实施" in listed
    assert record.number in _worklist(w, w.pm, "received") and record.number not in _worklist(w, w.pm, "started")
    assert "实施状态：<strong>已接收</strong>" in page(w, w.rep, f"/records/{record.id}")

    response = _set(w, w.pm, record, "started")
    assert f"{record.number}：实施中" in response.get_data(as_text=True)
    reload(record)
    assert record.impl_status == "started" and record.impl_started_at is not None
    assert "实施状态：<strong>实施中</strong>" in page(w, w.rep, f"/records/{record.id}")
    told = notifications(w.rep, record, "worklist")
    assert len(told) == 1 and "已开始实施" in told[0].message

    _set(w, w.pm, record, "finished")
    reload(record)
    assert record.impl_status == "finished" and record.impl_finished_at is not None
    assert "实施状态：<strong>已完成</strong>" in page(w, w.rep, f"/records/{record.id}")
    assert record.number in _worklist(w, w.rep) and "已完成" in _worklist(w, w.rep)
    assert "实施完成</button>" not in _worklist(w, w.pm) and "开始实施</button>" not in _worklist(w, w.pm)


@pytest.mark.parametrize("who", ["rep", "manager", "gm", "director", "clerk"])
def test_only_the_implementation_team_changes_the_status(world, who):
    w = world
    record = _approved_handover(w)
    before = state(record)
    assert _set(w, getattr(w, who), record, "started").status_code == 403
    assert state(record) == before
    listed = _worklist(w, getattr(w, who))
    assert record.number in listed and "开始实施</button>" not in listed


@pytest.mark.parametrize("steps,refused", [
    ((), "finished"),  # skipping 实施中
    (("started",), "received"),
    (("started",), "started"),
    (("started", "finished"), "started"),  # going back
    ((), "bogus"),
])
def test_the_status_only_moves_forward_one_step(world, steps, refused):
    w = world
    record = _approved_handover(w)
    for step in steps:
        _set(w, w.pm, record, step)
    before = state(record)
    response = _set(w, w.pm, record, refused)
    assert "实施状态只能按 已接收 → 实施中 → 已完成 推进" in response.get_data(as_text=True)
    assert state(record) == before


def test_a_handover_still_in_sign_off_has_no_status_to_change(world):
    w = world
    record = file_sheet(w, spec("handover"))
    submit(w, record, {"engineer": w.engineer, "project_manager": w.pm})
    sign(w, w.manager, record)
    assert _set(w, w.pm, record, "started").status_code == 404
    assert reload(record).impl_status is None


def test_a_forged_status_field_is_ignored(world):
    w = world
    record = _approved_handover(w)
    _set(w, w.pm, record, "started", impl_status="finished", impl_finished_at="2020-01-01")
    reload(record)
    assert (record.impl_status, record.impl_finished_at) == ("started", None)


def test_other_sheets_never_reach_the_worklist(world):
    w = world
    record = file_sheet(w, spec("phone_log"))
    submit(w, record)
    sign(w, w.manager, record)
    assert reload(record).status == "approved" and record.impl_status is None
    assert record.number not in _worklist(w, w.pm)
    assert _set(w, w.pm, record, "started").status_code == 404
    assert db.session.scalar(sa.select(Record.impl_status).where(Record.id == record.id)) is None


def test_the_rep_sees_the_implementation_status_on_the_project_page(world):
    w = world
    record = _approved_handover(w)
    assert "实施：已接收" in page(w, w.rep, f"/projects/{record.project_id}")
    _set(w, w.pm, record, "started")
    assert "实施中" in page(w, w.manager, f"/projects/{record.project_id}")


def test_a_revised_and_reapproved_handover_keeps_where_implementation_stands(world):
    w = world
    record = _approved_handover(w)
    _set(w, w.pm, record, "started")
    wait_for_pdf_link(w.browser(w.rep), record.id)  # an approved sheet is changed once its PDF is archived
    response = w.browser(w.rep).post(f"/records/{record.id}/edit", data=MultiDict([
        *[(k, v) for k, v in fill(spec("handover"), w) if k != "remarks"], ("remarks", "补充：增加一次现场培训"),
        ("version", str(reload(record).version)), ("action", "draft")]))
    assert response.status_code == 302
    assert submit(w, record, {"engineer": w.engineer, "project_manager": w.pm}).status_code == 302
    approve_all(w, record)
    record = reload(record)
    assert record.status == "approved" and record.round == 2
    assert record.impl_status == "started"
    assert any("重新审批" in n.message for n in notifications(w.pm, record, "worklist"))
