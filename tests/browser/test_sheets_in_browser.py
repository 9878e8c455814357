"""What a rep does in the browser: fill a sheet by its paper labels, add and
remove rows without a reload, see errors next to the field as he leaves it,
be asked before leaving with unsaved changes; the pages fit a phone."""
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from salestrack.extensions import db
from salestrack.models import Record
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def rep_project(factory):
    team, manager, rep, _ = factory.team_with_people()
    project = factory.project(rep, factory.customer(rep, name="苏州恒力精密机械有限公司"), name="数控车间 MES")
    return rep, project, manager


def test_rep_fills_a_phone_log_by_its_labels_and_rows_change_in_place(page, rep_project):
    rep, project, _ = rep_project
    sign_in(page, rep.username, PASSWORD)
    page.goto(f"/projects/{project.id}/sheets/phone_log/new")
    page.evaluate("window.__same_page = true")
    page.get_by_label("联系日期").fill("2026-11-20")
    page.get_by_label("电话记录 第1行 找到谁").fill("顾总")
    page.get_by_label("电话记录 第1行 电话沟通内容").fill("约定下周技术交流")
    page.get_by_label("电话记录 第2行 找到谁").fill("要删除的行")
    rows = page.locator("#tbl-calls tbody tr")
    assert rows.count() == 3
    page.get_by_role("button", name="＋ 添加一行").click()
    expect_rows(rows, 4)
    page.get_by_label("电话记录 第4行 找到谁").fill("沈工")
    page.get_by_label("电话记录 第4行 电话沟通内容").fill("确认现场勘查时间")
    page.get_by_role("button", name="删除第2行").click()
    expect_rows(rows, 3)
    assert page.evaluate("window.__same_page") is True  # no reload happened
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(re.compile(r"/records/\d+$"))
    text = page.inner_text("main")
    assert "顾总" in text and "沈工" in text and "要删除的行" not in text
    db.session.rollback()  # see what the server committed
    record = db.session.scalar(sa.select(Record))
    assert [r["reached"] for r in record.data["calls"]] == ["顾总", "沈工"]


def expect_rows(rows, n):
    rows.nth(n - 1).wait_for() if n else None
    for _ in range(50):
        if rows.count() == n:
            return
        rows.page.wait_for_timeout(100)
    assert rows.count() == n


def test_a_bad_value_is_flagged_next_to_the_field_when_leaving_it(page, rep_project):
    rep, project, _ = rep_project
    sign_in(page, rep.username, PASSWORD)
    page.goto(f"/projects/{project.id}/sheets/phone_log/new")
    cell = page.get_by_label("电话记录 第1行 计划下次联络时间")
    cell.evaluate("el => el.type = 'text'")  # let us type what a broken browser might send
    cell.fill("明天下午")
    page.get_by_label("电话记录 第1行 找到谁").click()
    error = page.locator("#calls-0-next_contact_at-error")
    # Playwright's own waiting (a string predicate would be eval'd in the page, which its CSP forbids)
    expect(error).to_contain_text("时间")


def test_leaving_with_unsaved_changes_asks_first(page, rep_project):
    rep, project, _ = rep_project
    sign_in(page, rep.username, PASSWORD)
    page.goto(f"/projects/{project.id}/sheets/visit_report/new")
    page.get_by_label("拜访对象").fill("王总")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.dismiss()))
    page.evaluate("document.querySelector('a.brand').click()")
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert "/sheets/visit_report/new" in page.url


@pytest.fixture
def waiting_phone_log(rep_project):
    """A phone log the rep has submitted: it waits for his manager."""
    from salestrack import operations
    from salestrack.formkit import registry
    rep, project, manager = rep_project
    spec = registry.get("phone_log")
    record = operations.create_record(rep, project, spec, {"date": "2026-11-20", "calls": [
        {"reached": "顾总", "content": "约定技术交流"}]})
    operations.submit_record(rep, record, spec, {})
    return record


def test_manager_approves_from_the_inbox_in_place(page, rep_project, waiting_phone_log):
    rep, project, manager = rep_project
    record = waiting_phone_log
    sign_in(page, manager.username, PASSWORD)
    page.goto("/inbox/")
    page.evaluate("window.__same_page = true")
    item = page.locator(f"#inbox-{record.id}")
    item.get_by_role("button", name="同意").click()
    page.locator(f"#inbox-{record.id} .flash-success").wait_for()
    assert page.evaluate("window.__same_page") is True
    db.session.rollback()
    assert db.session.get(Record, record.id).status == "approved"


@pytest.mark.parametrize("path", ["/", "/projects/", "/customers/", "/records/", "/inbox/"])
def test_pages_fit_a_phone_screen(browser, live_server, rep_project, path):
    rep, project, _ = rep_project
    context = browser.new_context(base_url=live_server, viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    try:
        sign_in(page, rep.username, PASSWORD)
        for url in (path, f"/projects/{project.id}", f"/projects/{project.id}/sheets/contract_review/new"):
            page.goto(url)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{url} is {overflow}px wider than the phone"
        page.goto("/")
        projects_link = page.get_by_role("navigation", name="主导航").get_by_role("link", name="项目", exact=True)
        assert projects_link.is_hidden()  # behind the menu button
        page.locator("label.nav-burger").click()
        assert projects_link.is_visible()
    finally:
        context.close()


def test_a_double_click_on_save_files_one_sheet_and_the_buttons_show_they_are_working(page, rep_project):
    rep, project, _ = rep_project
    sign_in(page, rep.username, PASSWORD)
    page.goto(f"/projects/{project.id}/sheets/phone_log/new")
    page.get_by_label("电话记录 第1行 找到谁").fill("顾总")
    page.get_by_label("电话记录 第1行 电话沟通内容").fill("约定下周技术交流")
    # What the page shows while the request is on its way, noted where the
    # next page can read it (the tab's sessionStorage).
    page.evaluate("""() => {
        const form = document.querySelector('form.sheet-form');
        new MutationObserver(() => {
            const save = [...form.querySelectorAll('button')].find(b => b.textContent.trim() === '保存草稿');
            if (form.getAttribute('aria-busy') === 'true')
                sessionStorage.setItem('seen', JSON.stringify({
                    disabled: [...form.querySelectorAll('button')].every(b => b.disabled),
                    busy: save.classList.contains('is-busy')}));
        }).observe(form, {attributes: true, subtree: true});
    }""")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/new" in r.url else None)
    page.get_by_role("button", name="保存草稿").dblclick()
    page.wait_for_url(re.compile(r"/records/\d+$"))
    assert page.evaluate("JSON.parse(sessionStorage.getItem('seen'))") == {"disabled": True, "busy": True}
    assert len(posts) == 1
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Record)) == 1


def test_returning_from_the_inbox_asks_for_a_reason_and_a_confirmation(page, rep_project, waiting_phone_log):
    rep, project, manager = rep_project
    record = waiting_phone_log
    sign_in(page, manager.username, PASSWORD)
    page.goto("/inbox/")
    item = page.locator(f"#inbox-{record.id}")
    dialogs, answer = [], {"ok": False}
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept() if answer["ok"] else d.dismiss()))
    item.get_by_role("button", name="退回").click()
    assert item.locator(".error").inner_text() == "退回时请填写退回原因" and dialogs == []
    item.get_by_role("textbox").fill("请补充对方职务")
    item.get_by_role("button", name="退回").click()  # asked, and 取消
    page.wait_for_timeout(300)
    assert len(dialogs) == 1 and "退回" in dialogs[0]
    db.session.rollback()
    assert db.session.get(Record, record.id).status == "submitted"
    answer["ok"] = True
    item.get_by_role("button", name="退回").click()
    page.locator(f"#inbox-{record.id} .flash-success").wait_for()
    db.session.rollback()
    assert db.session.get(Record, record.id).status == "returned"
    assert len(dialogs) == 2
    author = page.context.browser.new_context(base_url=page.url.split("/inbox")[0]).new_page()
    try:
        sign_in(author, rep.username, PASSWORD)
        author.goto(f"/records/{record.id}")
        banner = author.locator(".returned-banner").inner_text()
        assert manager.name in banner and "请补充对方职务" in banner
    finally:
        author.context.close()


def test_picking_a_person_fills_what_the_sheet_declares_and_keeps_what_was_typed(page, rep_project):
    """找到谁 on the phone log fills the row's 联系方式 with the person's 电话;
    the customer's main contact is offered too; a 联系方式 already typed stays."""
    from salestrack import operations
    rep, project, _ = rep_project
    customer = project.customer
    operations.add_person(rep, customer, name="陈建华", title="设备部部长", phone="0512-6666 1234")
    operations.update_customer(rep, customer, contact="王主任", phone="0512-6800 0001")
    sign_in(page, rep.username, PASSWORD)
    page.goto(f"/projects/{project.id}/sheets/phone_log/new")
    options = page.locator("#customer-people option")
    assert sorted(options.evaluate_all("els => els.map(e => e.value)")) == sorted(["陈建华", "王主任"])
    page.get_by_label("电话记录 第1行 找到谁").fill("陈建华")
    expect(page.get_by_label("电话记录 第1行 联系方式")).to_have_value("0512-6666 1234")
    page.get_by_label("电话记录 第2行 联系方式").fill("138 0000 0000")
    page.get_by_label("电话记录 第2行 找到谁").fill("王主任")
    expect(page.get_by_label("电话记录 第2行 联系方式")).to_have_value("138 0000 0000")
    page.get_by_label("电话记录 第3行 找到谁").fill("王主任")
    expect(page.get_by_label("电话记录 第3行 联系方式")).to_have_value("0512-6800 0001")
