"""Issue 10, finding 6 in Chromium: the project's account manager signs
商务条款偏离表's 客户经理 slot, also when he wrote the sheet himself; nobody
asks him to pick another rep (let alone one of another team)."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_author_owner_submits_bid_deviation_and_the_chain_names_him(page, factory):
    east = factory.team("华东片区")
    manager = factory.user("manager", east, username="wangfang", name="王芳")
    east.manager_id = manager.id
    rep = factory.user("rep", east, username="liming", name="李明")
    factory.user("rep", east, username="zhaolei", name="赵磊")
    south = factory.team("华南片区")
    factory.user("rep", south, username="chenjing", name="陈静")
    from salestrack.extensions import db
    db.session.commit()
    customer = factory.customer(rep, name="苏州恒力精密机械有限公司")
    project = factory.project(rep, customer, name="恒力精机 MES 系统", stage="negotiate")

    sign_in(page, rep.username, PASSWORD)
    page.goto(f"/projects/{project.id}/sheets/bid_deviation/new")
    page.get_by_label("商务条款偏离 第1行 招标文件的商务条款", exact=True).fill("预付款 30%")
    page.get_by_label("商务条款偏离 第1行 投标文件的商务条款", exact=True).fill("预付款 20%，验收后 70%")
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(re.compile(r"/records/\d+$"))
    record_id = int(page.url.rsplit("/", 1)[-1])

    page.get_by_role("link", name="提交审批").click()
    page.wait_for_url(re.compile(rf"/records/{record_id}/submit$"))
    assert page.locator('select[name="signer_account_manager"]').count() == 0  # nobody to pick
    steps = page.locator("ol.chain-steps li").all_inner_texts()
    assert steps[0].startswith("客户经理综合意见：李明") and "您本人" in steps[0], steps
    assert steps[1].startswith("销售主管综合意见：王芳"), steps
    assert "陈静" not in page.locator("main").inner_text()
    page.get_by_role("button", name="确认提交").click()
    page.wait_for_url(re.compile(rf"/records/{record_id}$"))

    names = [t.strip() for t in page.locator("#signoff table.chain").first
             .locator("tbody tr td:nth-child(2)").all_inner_texts()]
    assert names == ["李明", "王芳"], names
    # He gives his 客户经理综合意见 on his own sheet, and it moves on to 王芳.
    page.get_by_label(re.compile("客户经理综合意见")).fill("偏离可接受，客户已口头确认")
    page.get_by_role("button", name="同意", exact=True).click()
    page.wait_for_url(re.compile(rf"/records/{record_id}$"))
    status = page.locator("main").inner_text()
    assert "偏离可接受，客户已口头确认" in status and re.search(r"等待\s*王芳", status), status[:1500]
