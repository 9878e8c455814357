"""Online sign-off, driven through the pages as the people involved use them:
every sheet from draft through each slot of its chain to approval, return
and resubmission keeping every round, withdrawal, reminders, the inbox and
its badge, overdue sheets, and approved sheets being locked."""
import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.formkit.canonical import content_hash
from salestrack.models import ArchivedPdf, AuditEvent, Project, Record, Signature
from salestrack.templating import local_time
from tests.signoff_support import (approve_all, chosen_signers, crafted_token, editable_input, expected_chain, file_sheet, fill,
                                   inbox, notifications, page, reload, sign, spec, submit, wait_for_pdf_link,
                                   world)  # noqa: F401

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")

SHEETS = [s for s in registry.all_specs() if s.slots]


def test_every_sheet_has_a_sign_off_chain():
    assert {s.key for s in SHEETS} == {s.key for s in registry.all_specs()}
    assert len(SHEETS) == len(registry.all_specs()) >= 11


def _badge(html: str) -> int:
    """The number on the 待我审批 link in the navigation (0 when there is none)."""
    match = re.search(r'href="/inbox/">待我审批(?: <span class="badge"[^>]*>(\d+)</span>)?</a>', html)
    assert match, "the navigation has no 待我审批 link"
    return int(match.group(1) or 0)


@pytest.mark.slow
@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.key)
def test_a_sheet_goes_from_draft_through_its_whole_chain_to_approval(world, sheet):
    w = world
    record = file_sheet(w, sheet, action="submit")
    assert record.status == "draft" and record.sheet == sheet.key
    picks = chosen_signers(sheet, w, w.rep)
    confirm = page(w, w.rep, f"/records/{record.id}/submit")
    assert "确认提交" in confirm
    for key, person in picks.items():
        assert f'name="signer_{key}"' in confirm and person.name in confirm

    response = submit(w, record, picks)
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    reload(record)
    signers = expected_chain(sheet, w, w.rep, picks)
    assert [slot["signer_id"] for slot in record.chain] == [u.id for u in signers]
    assert record.round == 1

    for index, signer in enumerate(signers):
        reload(record)
        assert (record.status, record.current_slot, record.waiting_for_id) == ("submitted", index, signer.id)
        assert f"等待 <strong>{signer.name}</strong> 审批" in page(w, w.rep, f"/records/{record.id}")
        listed = page(w, signer, "/inbox/")
        assert inbox(w, signer) == {record.id} and record.number in listed and _badge(listed) == 1
        for other in w.everyone():
            if other.id != signer.id:
                assert inbox(w, other) == set(), (other.name, index)
        assert len(notifications(signer, record, "submitted")) == 1 + signers[:index].count(signer)
        done = sign(w, signer, record, comment=f"{signer.name} 同意第 {index + 1} 步")
        assert "已签署" in done.get_data(as_text=True)

    wait_for_pdf_link(w.browser(w.rep), record.id)  # the queue's worker seals it; the page shows 归档中 till then
    reload(record)
    assert record.status == "approved" and record.waiting_for_id is None and record.approved_at is not None
    signatures = list(db.session.scalars(sa.select(Signature).where(Signature.record_id == record.id)
                                         .order_by(Signature.slot_index)))
    digest = content_hash(record.data)
    assert [(s.slot_index, s.slot_key, s.signer_id, s.decision, s.round) for s in signatures] == \
        [(i, slot["key"], u.id, "approved", 1) for i, (slot, u) in enumerate(zip(record.chain, signers, strict=True))]
    assert all(s.content_hash == digest and s.at is not None for s in signatures)
    assert [s.comment for s in signatures] == [f"{u.name} 同意第 {i + 1} 步" for i, u in enumerate(signers)]
    assert len(notifications(w.rep, record, "approved")) == 1

    archived = db.session.scalar(sa.select(ArchivedPdf).where(ArchivedPdf.record_id == record.id))
    assert archived is not None and archived.sha256 == record.pdf_sha256 and archived.round == 1
    pdf = w.browser(w.rep).get(f"/records/{record.id}/pdf")
    assert pdf.mimetype == "application/pdf" and hashlib.sha256(pdf.data).hexdigest() == archived.sha256

    shown = page(w, w.rep, f"/records/{record.id}")
    assert "审批通过" in shown and "已归档" in shown and "修改（将重新审批）" in shown
    assert all(inbox(w, person) == set() for person in w.everyone())

    # Approved means locked: a change is a new revision that must be signed again.
    form = page(w, w.rep, f"/records/{record.id}/edit")
    assert "保存修改将生成新版本，需重新审批" in form
    changed, stored = editable_input(sheet)
    response = w.browser(w.rep).post(f"/records/{record.id}/edit", data=MultiDict(_resave(record, sheet, w, changed)))
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    reload(record)
    assert record.status == "draft" and len(record.revisions) == 2
    assert stored(record.data) == "改过之后的内容"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature).where(
        Signature.record_id == record.id)) == len(signers)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ArchivedPdf).where(
        ArchivedPdf.record_id == record.id)) == 1
    shown = page(w, w.rep, f"/records/{record.id}")
    assert "第 1 轮" in shown and shown.count("内容已变更") == len(signers)

    assert submit(w, record, picks).status_code == 302
    reload(record)
    assert (record.status, record.round, record.current_slot, record.waiting_for_id) == \
        ("submitted", 2, 0, signers[0].id)
    shown = page(w, w.rep, f"/records/{record.id}")
    assert "第 2 轮（当前）" in shown and "第 1 轮" in shown


def _resave(record, sheet, w, changed):
    """The edit form as the author sends it back with one text changed."""
    pairs = [(k, v) for k, v in fill(sheet, w) if k != changed]
    return pairs + [(changed, "改过之后的内容"), ("version", str(record.version)), ("action", "draft")]


def test_return_revise_resubmit_keeps_every_round_with_its_reasons(world):
    w, sheet = world, spec("resource_request")
    record = file_sheet(w, sheet)
    submit(w, record)
    sign(w, w.manager, record, comment="同意派人")
    returned = sign(w, w.gm, record, decision="returned", comment="预算不足，请补充费用说明")
    assert "已退回" in returned.get_data(as_text=True)
    reload(record)
    assert (record.status, record.waiting_for_id, record.round) == ("returned", None, 1)
    told = notifications(w.rep, record, "returned")
    assert len(told) == 1 and "孙建国" in told[0].message and "预算不足，请补充费用说明" in told[0].message
    banner = page(w, w.rep, f"/records/{record.id}").split('returned-banner', 1)[1].split("</div>", 1)[0]
    assert "孙建国" in banner and "退回了此表单" in banner and "预算不足，请补充费用说明" in banner
    assert inbox(w, w.hr) == set() and inbox(w, w.gm) == set()

    # The author revises and resubmits: the chain starts again from the first slot.
    changed = "reason"
    w.browser(w.rep).post(f"/records/{record.id}/edit", data=MultiDict(_resave(record, sheet, w, changed)))
    reload(record)
    assert record.status == "returned" and len(record.revisions) == 2
    assert submit(w, record).status_code == 302
    reload(record)
    assert (record.round, record.current_slot, record.waiting_for_id) == (2, 0, w.manager.id)
    sign(w, w.manager, record, comment="补充后同意")
    sign(w, w.gm, record, decision="returned", comment="还需写明出差天数")
    w.browser(w.rep).post(f"/records/{record.id}/submit")
    approve_all(w, record)
    reload(record)
    assert (record.status, record.round) == ("approved", 3)

    rows = db.session.execute(sa.select(Signature.round, Signature.slot_index, Signature.decision, Signature.comment)
                              .where(Signature.record_id == record.id).order_by(Signature.id)).all()
    assert [tuple(r) for r in rows] == [
        (1, 0, "approved", "同意派人"), (1, 1, "returned", "预算不足，请补充费用说明"),
        (2, 0, "approved", "补充后同意"), (2, 1, "returned", "还需写明出差天数"),
        (3, 0, "approved", "李娜：同意"), (3, 1, "approved", "孙建国：同意"), (3, 2, "approved", "周婷：同意")]
    shown = page(w, w.rep, f"/records/{record.id}")
    for text in ("第 3 轮（当前）", "第 2 轮", "第 1 轮", "预算不足，请补充费用说明", "还需写明出差天数", "补充后同意"):
        assert text in shown
    # Round 1 signed the first version; the sheet has changed since, and the page says so.
    assert shown.index("第 3 轮") < shown.index("第 2 轮") < shown.index("第 1 轮")
    assert shown.count("内容已变更") == 2


def test_returning_needs_a_reason(world):
    w = world
    record = file_sheet(w, spec("phone_log"))
    submit(w, record)
    refused = sign(w, w.manager, record, decision="returned", comment="  ")
    assert "请填写退回原因" in refused.get_data(as_text=True)
    assert reload(record).status == "submitted"


def test_a_required_opinion_must_be_written_to_approve(world):
    w = world
    record = file_sheet(w, spec("visit_report"))
    submit(w, record)
    refused = sign(w, w.manager, record, comment="")
    assert "请填写领导建议" in refused.get_data(as_text=True)
    assert reload(record).status == "submitted"
    sign(w, w.manager, record, comment="下次带上技术方案")
    assert reload(record).status == "approved"


def test_author_may_withdraw_until_the_first_signature(world):
    w = world
    record = file_sheet(w, spec("resource_request"))
    submit(w, record)
    assert "撤回" in page(w, w.rep, f"/records/{record.id}")
    response = w.browser(w.rep).post(f"/records/{record.id}/withdraw", follow_redirects=True)
    assert "已撤回" in response.get_data(as_text=True)
    reload(record)
    assert (record.status, record.waiting_for_id) == ("draft", None)
    assert inbox(w, w.manager) == set()
    last = sa.select(AuditEvent.action).where(AuditEvent.target_type == "record", AuditEvent.target_id == record.id)
    assert db.session.scalar(last.order_by(AuditEvent.id.desc()).limit(1)) == "withdraw"

    submit(w, record)
    sign(w, w.manager, record)
    assert 'action="/records/%d/withdraw"' % record.id not in page(w, w.rep, f"/records/{record.id}")
    refused = w.browser(w.rep).post(f"/records/{record.id}/withdraw", follow_redirects=True)
    assert "已有人签署，不能撤回" in refused.get_data(as_text=True)
    assert reload(record).waiting_for_id == w.gm.id


def test_a_reminder_reaches_the_signer(world):
    w = world
    record = file_sheet(w, spec("phone_log"))
    submit(w, record)
    response = w.browser(w.rep).post(f"/records/{record.id}/remind", follow_redirects=True)
    assert "已向 李娜 发送催办" in response.get_data(as_text=True)
    reminders = notifications(w.manager, record, "reminder")
    assert len(reminders) == 1 and "张伟 催办" in reminders[0].message and record.number in reminders[0].message
    assert reminders[0].link == f"/records/{record.id}"


def test_a_sheet_is_reminded_at_most_once_per_four_hours_even_two_requests_at_once(world, app, monkeypatch):
    """Reminders stay reminders (issue 10): two 催办 sent in the same instant
    notify the signer once; the other is told when the next one is possible;
    four hours later 催办 works again."""
    import threading

    from salestrack import operations
    w = world
    record = file_sheet(w, spec("phone_log"))
    submit(w, record)
    first = w.browser(w.rep)
    second = app.test_client()  # the same browser: the same session cookie
    second.set_cookie("session", first.get_cookie("session").value)
    answers, start = [None, None], threading.Barrier(2)

    def send(i, c):
        start.wait()
        answers[i] = c.post(f"/records/{record.id}/remind", follow_redirects=True).get_data(as_text=True)

    threads = [threading.Thread(target=send, args=(i, c)) for i, c in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.rollback()
    assert len(notifications(w.manager, record, "reminder")) == 1
    assert sum("已向 李娜 发送催办" in a for a in answers) == 1
    refused = next(a for a in answers if "已向 李娜 发送催办" not in a)
    sent_at = db.session.scalar(sa.select(AuditEvent.at).where(AuditEvent.action == "remind"))
    assert f"每 4 小时最多催办一次；下次可催办时间：{local_time(sent_at + timedelta(hours=4))}" in refused
    later = sent_at + timedelta(hours=4, minutes=1)
    monkeypatch.setattr(operations, "utcnow", lambda: later)  # four hours on
    again = first.post(f"/records/{record.id}/remind", follow_redirects=True).get_data(as_text=True)
    assert "已向 李娜 发送催办" in again
    assert len(notifications(w.manager, record, "reminder")) == 2


def test_the_author_sees_where_it_waits_and_since_when(world):
    w = world
    record = file_sheet(w, spec("resource_request"))
    submit(w, record)
    sign(w, w.manager, record)
    reload(record)
    shown = page(w, w.rep, f"/records/{record.id}")
    assert "等待 <strong>孙建国</strong> 审批（总经理审核，第 2/3 步）" in shown
    assert f"自 {local_time(record.waiting_since)} 起" in shown


def test_overdue_sheets_are_highlighted_after_the_working_day_limit(world, app):
    w = world
    record = file_sheet(w, spec("phone_log"))
    submit(w, record)
    assert "逾期</span>" not in page(w, w.manager, "/inbox/")
    reload(record)
    record.waiting_since = record.waiting_since - timedelta(days=10)  # at least 6 working days
    db.session.commit()
    listed = page(w, w.manager, "/inbox/")
    assert "inbox-item overdue" in listed and "逾期</span>" in listed
    assert "已超过 3 个工作日" in page(w, w.rep, f"/records/{record.id}")
    app.config["SIGNOFF_OVERDUE_WORKING_DAYS"] = 20
    assert "逾期</span>" not in page(w, w.manager, "/inbox/")
    assert "个工作日" not in page(w, w.rep, f"/records/{record.id}")


def test_the_inbox_count_is_in_the_navigation(world):
    w = world
    assert _badge(page(w, w.manager, "/")) == 0
    first, second = file_sheet(w, spec("phone_log")), file_sheet(w, spec("visit_report"))
    submit(w, first)
    submit(w, second)
    assert _badge(page(w, w.manager, "/")) == 2
    assert _badge(page(w, w.rep, "/")) == 0
    sign(w, w.manager, first)
    assert _badge(page(w, w.manager, "/projects/")) == 1


def test_signing_in_place_from_the_inbox(world):
    w = world
    record = file_sheet(w, spec("phone_log"))
    submit(w, record)
    reload(record)
    response = w.browser(w.manager).post(f"/records/{record.id}/sign", headers={"HX-Request": "true"},
                                         data={"decision": "approved", "comment": "", "slot": "0"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in text and "已签署" in text
    assert reload(record).status == "approved"
    again = w.browser(w.manager).post(f"/records/{record.id}/sign", headers={"HX-Request": "true"},
                                      data={"decision": "approved", "comment": "", "slot": "0",
                                            "form_token": crafted_token()})  # no form left: made by hand
    assert again.status_code == 409 and "不在审批中" in again.get_data(as_text=True)


def test_the_record_page_flags_a_signature_whose_content_changed(world):
    w = world
    record = file_sheet(w, spec("phone_log"))
    submit(w, record)
    sign(w, w.manager, record)
    assert "内容已变更" not in page(w, w.rep, f"/records/{record.id}")
    reload(record)
    tampered = dict(record.data, date="2020-01-01")
    db.session.execute(sa.update(Record).where(Record.id == record.id).values(data=tampered))
    db.session.commit()
    assert "内容已变更" in page(w, w.rep, f"/records/{record.id}")


def test_a_managers_own_sheet_goes_to_the_director(world, factory):
    w = world
    w.project = factory.project(w.manager, name="经理自己的项目")
    record = file_sheet(w, spec("phone_log"), author=w.manager)
    assert submit(w, record, author=w.manager).status_code == 302
    reload(record)
    assert record.waiting_for_id == w.director.id
    assert inbox(w, w.director) == {record.id}
    assert inbox(w, w.manager) == set()


def test_demo_manager_sees_his_teams_submitted_sheet_in_inbox_and_badge(app, client):
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    project = db.session.scalar(sa.select(Project).where(Project.name == "恒力精机数控车间 MES 系统"))
    client.post("/login", data={"username": "manager", "password": "demo"})
    before = _badge(client.get("/").get_data(as_text=True))
    client.post("/logout")

    client.post("/login", data={"username": "rep", "password": "demo"})
    call = [("date", "2027-03-01"), ("calls-0-reached", "采购部顾经理"), ("calls-0-content", "约下周现场演示"),
            ("action", "submit")]
    response = client.post(f"/projects/{project.id}/sheets/phone_log/new", data=MultiDict(call))
    assert response.status_code == 302
    record = db.session.scalars(sa.select(Record).order_by(Record.id.desc())).first()
    assert client.post(f"/records/{record.id}/submit").status_code == 302
    client.post("/logout")

    client.post("/login", data={"username": "manager", "password": "demo"})
    listed = client.get("/inbox/").get_data(as_text=True)
    item = listed.split(f'id="inbox-{record.id}"', 1)[1].split("</article>", 1)[0]
    assert record.number in item and "张伟 填写" in item and "恒力精机数控车间 MES 系统" in item
    assert _badge(listed) == before + 1


@pytest.mark.parametrize("author,signer", [("director", "gm"), ("gm", "director")])
def test_a_sheet_by_someone_without_a_team_manager_goes_to_the_next_one_up(world, factory, author, signer):
    w = world
    person = getattr(w, author)
    w.project = factory.project(person, name=f"{person.name}亲自跟进的项目")
    record = file_sheet(w, spec("phone_log"), author=person)
    response = submit(w, record, author=person)
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    reload(record)
    assert (record.status, record.waiting_for_id) == ("submitted", getattr(w, signer).id)
    assert inbox(w, getattr(w, signer)) == {record.id}


@pytest.mark.parametrize("role,shown", [("clerk", False), ("auditor", False), ("hr", True), ("rep", True)])
def test_the_inbox_is_in_the_navigation_only_for_people_who_sign(client, factory, login, role, shown):
    login(factory.user(role))
    nav = client.get("/notifications/").get_data(as_text=True).split('aria-label="主导航"')[1].split("</nav>")[0]
    assert ('href="/inbox/"' in nav) == shown


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.key)
def test_the_submit_page_names_every_signer_the_author_does_not_pick(world, sheet):
    """Before 确认提交 the author sees who signs each fixed slot (the team
    manager, the general manager …) also when other slots have pickers."""
    w = world
    record = file_sheet(w, sheet, action="submit")
    picks = chosen_signers(sheet, w, w.rep)
    confirm = page(w, w.rep, f"/records/{record.id}/submit")
    fixed = [u for u in expected_chain(sheet, w, w.rep, picks) if u not in picks.values()]
    steps = re.search(r'<ol class="chain-steps">(.*?)</ol>', confirm, re.S).group(1)
    for person in fixed:
        assert person.name in steps, f"{sheet.key}: the submit page does not name {person.name}"
    assert steps.count("请选择") == len(picks)


def test_the_printed_approval_record_keeps_the_signers_words_apart_from_the_step(world):
    """审批记录 on the PDF: 操作 names the act and its step, 意见 only what the
    signer wrote (a silent 同意 printed its step's name as if it were his words)."""
    from salestrack.printing import print_document
    w = world
    record = file_sheet(w, spec("phone_log"), action="submit")
    submit(w, record)
    assert sign(w, w.manager, record, comment="").status_code in (200, 302)
    reload(record)
    signed = next(t for t in print_document(record)["timeline"] if t["action"].startswith("同意"))
    slot = spec("phone_log").slots[0].label
    assert signed["action"] == f"同意（{slot}）" and signed["comment"] == ""


def test_author_deletes_a_draft_never_submitted_with_its_files(world, app):
    """A rep who started the wrong sheet deletes the draft (after a
    confirmation); its revisions and attached files go with it and the audit
    trail keeps its number."""
    import os

    from salestrack.database import write_transaction
    from salestrack.models import Attachment, Revision
    w = world
    record = file_sheet(w, spec("resource_request"))
    record_id, number = record.id, record.number
    stored = os.path.join(app.config["ATTACHMENT_DIR"], "draft-file.bin")
    os.makedirs(app.config["ATTACHMENT_DIR"], exist_ok=True)
    with open(stored, "wb") as fh:
        fh.write(b"%PDF-1.4 quote")
    with write_transaction():
        db.session.add(Attachment(record_id=record_id, field_key="files", filename="报价.pdf", stored_name="draft-file.bin",
                                  content_type="application/pdf", size=14, sha256="0" * 64, uploaded_by_id=w.rep.id))
    shown = page(w, w.rep, f"/records/{record_id}")
    assert re.search(r'<button class="danger" data-confirm="删除草稿 %s？[^"]*无法恢复。">删除草稿</button>' % number, shown)
    assert "删除草稿" not in page(w, w.manager, f"/records/{record_id}")
    refused = w.browser(w.manager).post(f"/records/{record_id}/discard", follow_redirects=True)
    assert "只有填写人可以删除草稿" in refused.get_data(as_text=True)

    done = w.browser(w.rep).post(f"/records/{record_id}/discard", follow_redirects=True)
    assert f"已删除草稿 {number}" in done.get_data(as_text=True)
    assert w.project.name in done.get_data(as_text=True)  # back on the project page
    db.session.rollback()
    assert db.session.get(Record, record_id) is None
    for model in (Revision, Attachment):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model).where(model.record_id == record_id)) == 0
    assert not os.path.exists(stored)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "discard"))
    assert (event.actor_id, event.target_label, event.detail["attachments"]) == (w.rep.id, number, 1)
    assert w.browser(w.rep).get(f"/records/{record_id}").status_code == 404


def test_a_sheet_once_submitted_is_not_deleted(world):
    w = world
    record = file_sheet(w, spec("resource_request"))
    submit(w, record)
    w.browser(w.rep).post(f"/records/{record.id}/withdraw")
    assert reload(record).status == "draft"
    assert "删除草稿" not in page(w, w.rep, f"/records/{record.id}")
    refused = w.browser(w.rep).post(f"/records/{record.id}/discard", follow_redirects=True)
    assert "只有从未提交过的草稿可以删除" in refused.get_data(as_text=True)
    assert reload(record).status == "draft"
