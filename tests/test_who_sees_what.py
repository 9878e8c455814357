"""What people see (issue 15 findings 7 and 13): the handover worklist
follows the record's own access rule and shows what was agreed, not a
revision still in sign-off; a team keeps its manager when the posted one is
not a valid choice; a customer page names no sheet its reader may not open."""
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from salestrack.extensions import db
from salestrack.models import Record, Team
from tests.signoff_support import (approve_all, file_sheet, fill, page, reload, spec, state, submit,
                                   world)  # noqa: F401

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")


def _approved_handover(w) -> Record:
    record = file_sheet(w, spec("handover"))
    assert submit(w, record, {"engineer": w.engineer, "project_manager": w.pm}).status_code == 302
    approve_all(w, record)
    return reload(record)


def test_implementation_staff_see_and_move_only_handovers_they_may_open(world, factory):
    w = world
    record = _approved_handover(w)
    newcomer = factory.user("implementation", username="xinren", name="新人")
    listed = page(w, newcomer, "/handover/")
    assert record.number not in listed and "恒力精机" not in listed and "没有交接单" in listed
    before = state(record)
    response = w.browser(newcomer).post(f"/handover/{record.id}/status", data={"status": "started"})
    assert response.status_code == 404
    assert state(record) == before
    assert record.number in page(w, w.pm, "/handover/")  # those who signed it still have it


def test_the_worklist_shows_the_approved_handover_and_marks_a_revision_in_sign_off(world):
    w = world
    record = _approved_handover(w)
    agreed = record.data["impl_scope"]
    handover = spec("handover")
    pairs = [(k, v) for k, v in fill(handover, w) if k not in ("impl_scope", "implementation_budget")]
    response = w.browser(w.rep).post(f"/records/{record.id}/edit", data=MultiDict([
        *pairs, ("impl_scope", "新范围：全部产线与仓储"), ("implementation_budget", "999.00"),
        ("version", str(reload(record).version)), ("action", "draft")]))
    assert response.status_code == 302
    assert submit(w, record, {"engineer": w.engineer, "project_manager": w.pm}).status_code == 302
    assert reload(record).status == "submitted"

    listed = page(w, w.pm, "/handover/")
    assert record.number in listed and "修订审批中" in listed
    assert agreed in listed and "128.50" in listed
    assert "新范围" not in listed and "999.00" not in listed

    approve_all(w, record)
    listed = page(w, w.pm, "/handover/")
    assert "新范围：全部产线与仓储" in listed and "999.00" in listed and "修订" not in listed
    assert reload(record).data["implementation_budget"] in (Decimal("999.00"), "999.00", 999.0)


def test_an_invalid_manager_is_refused_next_to_the_field_and_the_team_keeps_its_manager(world, factory):
    w = world
    admin = factory.user("admin", username="guanli", name="管理员")
    inactive = factory.user("manager", username="likai", name="李凯")
    w.browser(admin)  # signed in before the deactivation below
    from salestrack import operations
    operations.update_user(None, inactive, active=False)
    for bad in ("999999", "abc", str(w.rep.id), str(inactive.id), str(admin.id), "-1", ""):
        response = w.browser(admin).post(f"/admin/teams/{w.team.id}/manager", data={"manager_id": bad})
        body = response.get_data(as_text=True)
        assert response.status_code == 400, bad
        assert f'id="mgr-{w.team.id}-error"' in body and "请从列表中选择在职的业务经理" in body
        assert db.session.get(Team, w.team.id).manager_id == w.manager.id
    response = w.browser(admin).post(f"/admin/teams/{w.team.id}/manager", data={"manager_id": str(w.other_manager.id)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Team, w.team.id).manager_id == w.other_manager.id


def test_a_customer_page_names_no_sheet_its_reader_may_not_open(world, factory):
    w = world
    info = file_sheet(w, spec("customer_info"))
    submit(w, info)
    approve_all(w, info)
    assert reload(info).status == "approved" and w.project.customer.info_record_id == info.id
    assert info.number in page(w, w.rep, f"/customers/{w.project.customer_id}")

    # The engineer works on another project of the same customer only.
    other = factory.project(w.rep2, db.session.get(type(w.project.customer), w.project.customer_id), name="恒力二期")
    w.project = other
    handover = file_sheet(w, spec("handover"), author=w.rep2)
    submit(w, handover, {"engineer": w.engineer, "project_manager": w.pm}, author=w.rep2)
    approve_all(w, handover)
    customer_page = page(w, w.engineer, f"/customers/{other.customer_id}")
    assert "恒力二期" in customer_page
    assert info.number not in customer_page
    assert w.browser(w.engineer).get(f"/records/{info.id}").status_code == 404
