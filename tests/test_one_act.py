"""One click is one act, a signature applies only to what the signer saw, and
nothing typed is lost to a stale page.

Each test posts what a browser posts — the hidden inputs of the form as it was
served — and repeats or delays that very request the way a double click, a
network retry or a second tab does."""
import threading

import lxml.html
import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from salestrack.extensions import db
from salestrack.models import AuditEvent, Notification, Record, Revision, Signature
from tests.signoff_support import fill, file_sheet, reload, spec, state, submit, world  # noqa: F401


def _form(client, url: str, data) -> MultiDict:
    """`data` plus the hidden inputs of the form posting to `url`, as served now."""
    body = MultiDict(data)
    for name, value in client.served_form(url).items():
        body.setdefault(name, value)
    return body


def _twice(client, url: str, body: MultiDict, at_once: bool, **kwargs):
    """The same request sent twice: one after the other, or both at the same instant."""
    if not at_once:
        return [client.post(url, data=body.copy(), **kwargs) for _ in range(2)]
    second = client.application.test_client()  # the same browser: the same session cookie
    second.set_cookie("session", client.get_cookie("session").value)
    answers, errors, start = [None, None], [], threading.Barrier(2)

    def send(i, c):
        try:
            start.wait()
            answers[i] = c.post(url, data=body.copy(), **kwargs)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=send, args=(i, c)) for i, c in enumerate((client, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return answers


def _count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _waiting(w) -> Record:
    """A resource request the rep has submitted: it waits for his manager (then 总经理, 人力资源)."""
    record = file_sheet(w, spec("resource_request"))
    submit(w, record)
    return record


WHEN = pytest.mark.parametrize("at_once", [False, True], ids=["one after the other", "at the same instant"])


@WHEN
def test_saving_a_new_sheet_twice_files_one_sheet(world, at_once):
    w, sheet = world, spec("phone_log")
    client = w.browser(w.rep)
    url = f"/projects/{w.project.id}/sheets/{sheet.key}/new"
    body = _form(client, url, fill(sheet, w) + [("action", "draft")])
    answers = _twice(client, url, body, at_once)
    assert [a.status_code for a in answers] == [302, 302], [a.get_data(as_text=True)[:300] for a in answers]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert _count(Record) == 1 and _count(Revision) == 1
    assert _count(AuditEvent, AuditEvent.action == "create") == 1


def test_saving_and_submitting_twice_leads_both_times_to_the_one_sheets_submit_page(world):
    w, sheet = world, spec("resource_request")
    client = w.browser(w.rep)
    url = f"/projects/{w.project.id}/sheets/{sheet.key}/new"
    first, second = _twice(client, url, _form(client, url, fill(sheet, w) + [("action", "submit")]), False)
    assert first.headers["Location"] == second.headers["Location"] and first.headers["Location"].endswith("/submit")
    assert _count(Record) == 1


@WHEN
def test_saving_an_edited_sheet_twice_makes_one_revision(world, at_once):
    w, sheet = world, spec("phone_log")
    record = file_sheet(w, sheet)
    client = w.browser(w.rep)
    url = f"/records/{record.id}/edit"
    body = _form(client, url, [(k, v) for k, v in fill(sheet, w) if k != "calls-0-reached"]
                 + [("calls-0-reached", "采购部王经理（已回电）"), ("action", "draft")])
    answers = _twice(client, url, body, at_once)
    assert [a.status_code for a in answers] == [302, 302], [a.get_data(as_text=True)[:300] for a in answers]
    assert reload(record).version == 2
    assert _count(Revision, Revision.record_id == record.id) == 2  # the first save and this one


@WHEN
def test_submitting_twice_submits_once(world, at_once):
    w, sheet = world, spec("resource_request")
    record = file_sheet(w, sheet)
    client = w.browser(w.rep)
    url = f"/records/{record.id}/submit"
    answers = _twice(client, url, _form(client, url, []), at_once)
    assert [a.status_code for a in answers] == [302, 302], [a.get_data(as_text=True)[:300] for a in answers]
    assert (reload(record).status, record.round, record.current_slot) == ("submitted", 1, 0)
    assert _count(AuditEvent, AuditEvent.action == "submit") == 1
    assert _count(Notification, Notification.user_id == w.manager.id, Notification.kind == "submitted") == 1


@WHEN
@pytest.mark.parametrize("from_inbox", [False, True], ids=["record page", "inbox"])
def test_signing_twice_signs_once(world, at_once, from_inbox):
    w = world
    record = _waiting(w)
    client = w.browser(w.manager)
    url = f"/records/{record.id}/sign"
    body = _form(client, url, {"decision": "approved", "comment": "同意派人"})
    headers = {"HX-Request": "true"} if from_inbox else {}
    answers = _twice(client, url, body, at_once, headers=headers)
    assert [a.status_code for a in answers] == ([200, 200] if from_inbox else [302, 302])
    if from_inbox:
        assert all("已签署" in a.get_data(as_text=True) for a in answers)
    assert (reload(record).current_slot, record.waiting_for_id) == (1, w.gm.id)  # one step, not two
    assert _count(Signature, Signature.record_id == record.id) == 1
    assert _count(Notification, Notification.user_id == w.gm.id, Notification.kind == "submitted") == 1


def test_returning_twice_returns_once(world):
    w = world
    record = _waiting(w)
    client = w.browser(w.manager)
    url = f"/records/{record.id}/sign"
    body = _form(client, url, {"decision": "returned", "comment": "请补充支援原因"})
    _twice(client, url, body, False)
    assert reload(record).status == "returned"
    assert _count(Signature, Signature.record_id == record.id) == 1
    assert _count(Notification, Notification.user_id == w.rep.id, Notification.kind == "returned") == 1


# ── a signature applies only to what the signer saw ──────────────────────
def _change_while_open(w, record, sheet, value):
    """The author withdraws the sheet, changes 需何支援 and submits it again."""
    author = w.browser(w.rep)
    assert author.post(f"/records/{record.id}/withdraw").status_code == 302
    url = f"/records/{record.id}/edit"
    body = _form(author, url, [(k, v) for k, v in fill(sheet, w) if k != "support_needed"]
                 + [("support_needed", value), ("action", "draft")])
    assert author.post(url, data=body).status_code == 302
    submit(w, record)
    assert reload(record).status == "submitted" and record.version == 2


@pytest.mark.parametrize("decision", ["approved", "returned"])
@pytest.mark.parametrize("from_inbox", [False, True], ids=["record page", "inbox"])
def test_a_sheet_changed_after_the_signer_opened_it_is_not_signed(world, decision, from_inbox):
    w, sheet = world, spec("resource_request")
    record = _waiting(w)
    signer = w.browser(w.manager)
    url = f"/records/{record.id}/sign"
    seen = _form(signer, url, {"decision": decision, "comment": "理由充分"})  # the page he has open
    assert seen["version"] == "1"
    _change_while_open(w, record, sheet, "需要三名工程师驻场三周")
    before = state(record)

    headers = {"HX-Request": "true"} if from_inbox else {}
    answer = signer.post(url, data=seen, headers=headers)
    assert state(record) == before
    if from_inbox:  # the whole page goes to the sheet as it is now
        assert answer.headers["HX-Redirect"] == f"/records/{record.id}"
    else:
        assert answer.status_code == 302 and answer.headers["Location"] == f"/records/{record.id}"
    page = signer.get(f"/records/{record.id}").get_data(as_text=True)
    assert "您打开此表单后，填写人修改了内容（现为第 2 版）" in page
    assert "需要三名工程师驻场三周" in page  # the current content is what he now sees
    assert 'name="version" value="2"' in page  # and what he signs next
    again = signer.post(url, data=_form(signer, url, {"decision": decision, "comment": "理由充分"}))
    assert again.status_code == 302
    assert _count(Signature, Signature.record_id == record.id) == 1


# ── nothing typed is lost to a stale page ────────────────────────────────
def _inputs(html: str) -> dict:
    doc = lxml.html.fromstring(html)
    form = doc.xpath("//form[contains(@class, 'sheet-form')]")[0]
    # A browser drops the newline that opens a <textarea>'s text; lxml keeps it.
    return {name: value.removeprefix("\r\n").removeprefix("\n") for name, value in form.form_values()}


def test_a_form_saved_after_signing_out_and_in_elsewhere_comes_back_with_everything_typed(world, login):
    w, sheet = world, spec("visit_report")
    client = w.browser(w.rep)
    url = f"/projects/{w.project.id}/sheets/{sheet.key}/new"
    body = _form(client, url, fill(sheet, w) + [("action", "draft")])  # the first tab, filled in
    client.post("/logout")  # another tab: signed out and in again, a new session
    login(w.rep, c=client)

    stale = client.post(url, data=body)
    assert stale.status_code == 400
    page = stale.get_data(as_text=True)
    assert "页面已过期" in page and "还没有保存" in page and "请核对后再保存一次" in page
    shown = _inputs(page)
    typed = {k: v for k, v in body.items(multi=False) if k not in ("csrf_token", "form_token", "action")}
    assert {k: shown.get(k) for k in typed} == typed
    assert _count(Record) == 0

    resend = MultiDict(body)  # 保存草稿 again, from the page shown
    for name, value in lxml.html.fromstring(page).xpath("//form[contains(@class, 'sheet-form')]")[0].form_values():
        if name in ("csrf_token", "form_token"):
            resend[name] = value
    saved = client.post(url, data=resend)
    assert saved.status_code == 302 and _count(Record) == 1


def test_a_form_from_before_the_one_time_tokens_is_shown_again_not_saved(world):
    w, sheet = world, spec("phone_log")
    client = w.browser(w.rep)
    url = f"/projects/{w.project.id}/sheets/{sheet.key}/new"
    body = _form(client, url, fill(sheet, w) + [("action", "draft")])
    body["form_token"] = ""
    answer = client.post(url, data=body)
    assert answer.status_code == 400 and "页面已过期" in answer.get_data(as_text=True)
    assert _count(Record) == 0


def test_a_stale_signature_keeps_the_comment_typed(world, login):
    w = world
    record = _waiting(w)
    signer = w.browser(w.manager)
    url = f"/records/{record.id}/sign"
    seen = _form(signer, url, {"decision": "returned", "comment": "请把驻场人数写清楚"})
    signer.post("/logout")
    login(w.manager, c=signer)
    answer = signer.post(url, data=seen)
    assert answer.status_code == 409
    page = answer.get_data(as_text=True)
    assert "页面已过期" in page and "请把驻场人数写清楚</textarea>" in page
    assert reload(record).status == "submitted"


def test_a_form_saved_while_signed_out_comes_back_with_everything_typed_after_signing_in(world):
    from tests.conftest import PASSWORD
    w, sheet = world, spec("visit_report")
    client = w.browser(w.rep)
    url = f"/projects/{w.project.id}/sheets/{sheet.key}/new"
    body = _form(client, url, fill(sheet, w) + [("action", "draft")])  # the first tab, filled in
    client.post("/logout")  # another tab: signed out, not back in

    asked = client.post(url, data=body)
    assert asked.status_code == 401
    page = asked.get_data(as_text=True)
    assert "您已退出登录，刚才填写的表单" in page and "还没有保存" in page
    sign_in = MultiDict(lxml.html.fromstring(page).xpath("//form[.//input[@type='password']]")[0].form_values())
    sign_in["username"], sign_in["password"] = w.rep.username, PASSWORD
    signed = client.post("/login", data=sign_in)
    assert signed.status_code == 302 and signed.headers["Location"] == url
    assert _count(Record) == 0

    back = client.get(url)
    assert back.status_code == 200 and "您重新登录前输入的内容都在下面" in back.get_data(as_text=True)
    typed = {k: v for k, v in body.items(multi=False) if k not in ("csrf_token", "form_token", "action")}
    shown = _inputs(back.get_data(as_text=True))
    assert {k: shown.get(k) for k in typed} == typed
    assert "您重新登录前输入的内容" not in client.get(url).get_data(as_text=True)  # handed back once
    resend = MultiDict(body)
    for name, value in lxml.html.fromstring(back.get_data(as_text=True)).xpath(
            "//form[contains(@class, 'sheet-form')]")[0].form_values():
        if name in ("csrf_token", "form_token"):
            resend[name] = value
    assert client.post(url, data=resend).status_code == 302 and _count(Record) == 1


def test_kept_input_goes_back_only_to_the_one_who_typed_it(world, login):
    from salestrack import operations
    w = world
    url = f"/projects/{w.project.id}/sheets/visit_report/new"
    operations.keep_form(w.rep2, url, [("visitee", "王芳留下的王总")])  # another person, the same form
    operations.keep_form(w.rep, f"/projects/{w.project.id}/sheets/phone_log/new", [("date", "2026-03-01")])
    assert "王芳留下的王总" not in w.browser(w.rep).get(url).get_data(as_text=True)
    operations.keep_form(w.rep, url, [("visitee", "张伟的王总")])
    assert "张伟的王总" in w.browser(w.rep).get(url).get_data(as_text=True)
