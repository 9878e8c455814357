"""Loss of 立项权 (paper-forms-toolkit.md 3.13, source 000): no follow-up for
an A project in a month (B two, C three; D never) cancels the rep's right to
file for it; the area manager then reassigns the project or restores the
right. Run by `flask followups enforce` (daily), each effect once."""
from datetime import datetime, timedelta, timezone

import lxml.html
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from salestrack import operations
from salestrack.extensions import db
from salestrack.models import AuditEvent, Notification, Project, ProjectEvent, Record
from tests.signoff_support import fill, page, reload, spec, world  # noqa: F401


def now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def neglect(project, klass: str, days: int) -> Project:
    project = db.session.get(Project, project.id)
    project.customer_class = klass
    project.created_at = now() - timedelta(days=days)
    db.session.commit()
    return project


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_the_loss_limit_cancels_the_right_once_and_tells_the_manager(world):
    w = world
    project = neglect(w.project, "A", 31)
    assert operations.cancel_lapsed_filing_rights() == [project.id]
    assert operations.cancel_lapsed_filing_rights() == []  # a second run changes nothing
    reload(project)
    assert project.filing_right_lost_at is not None
    assert count(ProjectEvent, ProjectEvent.kind == "right_lost") == 1
    assert count(AuditEvent, AuditEvent.action == "filing_right_lost", AuditEvent.actor_id.is_(None)) == 1
    told = db.session.scalars(sa.select(Notification).where(Notification.kind == "followup")).all()
    assert [n.user_id for n in told] == [w.manager.id]
    assert "A 类项目超过 30 天未跟进" in told[0].message and w.rep.name in told[0].message


def test_each_class_has_its_own_limit_and_d_none(world, factory):
    w = world
    cases = {"A": (30, 31), "B": (60, 61), "C": (91, 92), "D": (400, 400)}
    kept, lost = [], []
    for klass, (inside, outside) in cases.items():
        for days, bucket in ((inside, kept), (outside, lost)):
            p = factory.project(w.rep, w.project.customer, name=f"{klass} 类 {days} 天")
            neglect(p, klass, days)
            (bucket if klass != "D" else kept).append(p.id)
    cancelled = set(operations.cancel_lapsed_filing_rights())
    assert cancelled & set(kept) == set()
    assert set(lost) <= cancelled


def test_the_rep_cannot_file_for_it_and_is_told_why(world):
    w = world
    neglect(w.project, "A", 31)
    operations.cancel_lapsed_filing_rights()
    shown = lxml.html.fromstring(page(w, w.rep, f"/projects/{w.project.id}"))
    banner = shown.xpath("//section[@id='filing-right']")[0].text_content()
    assert "立项权已取消" in banner and "联系片区经理" in banner
    assert not shown.xpath("//summary[contains(., '填写新表单')]")
    before = count(Record)
    url = f"/projects/{w.project.id}/sheets/phone_log/new"
    refused = w.browser(w.rep).get(url, follow_redirects=True)
    assert "立项权已取消" in refused.get_data(as_text=True)
    posted = w.browser(w.rep).post(url, data=MultiDict(fill(spec("phone_log"), w) + [("action", "draft")]))
    assert posted.status_code == 302 and count(Record) == before


def test_the_manager_restores_the_right_with_a_reason(world):
    w = world
    neglect(w.project, "A", 31)
    operations.cancel_lapsed_filing_rights()
    url = f"/projects/{w.project.id}/filing-right/restore"
    assert w.browser(w.rep).post(url, data={"reason": "我会跟进"}).status_code == 403
    assert w.browser(w.other_manager).post(url, data={"reason": "x"}).status_code in (403, 404)
    empty = w.browser(w.manager).post(url, data={"reason": " "})
    assert empty.status_code == 400
    error = lxml.html.fromstring(empty.get_data(as_text=True)).xpath("//p[@id='reason-error']")
    assert error and "请填写恢复立项权的理由" in error[0].text_content()
    done = w.browser(w.manager).post(url, data={"reason": "客户年底停产检修，一月恢复联系"}, follow_redirects=True)
    assert "已恢复" in done.get_data(as_text=True)
    project = reload(db.session.get(Project, w.project.id))
    assert project.filing_right_lost_at is None and (now() - project.followup_from).total_seconds() < 60
    history = page(w, w.rep, f"/projects/{w.project.id}")
    assert "取消立项权" in history and "恢复立项权" in history and "客户年底停产检修" in history
    assert w.browser(w.rep).get(f"/projects/{w.project.id}/sheets/phone_log/new").status_code == 200
    assert operations.cancel_lapsed_filing_rights() == []  # the clock restarted: not lapsed again


def test_reassigning_gives_the_new_owner_the_right(world):
    w = world
    neglect(w.project, "A", 31)
    operations.cancel_lapsed_filing_rights()
    project = db.session.get(Project, w.project.id)
    operations.reassign_project(w.manager, project, w.rep2, "原业务员超过跟进期限")
    assert reload(project).filing_right_lost_at is None
    assert w.browser(w.rep2).get(f"/projects/{w.project.id}/sheets/phone_log/new").status_code == 200


def test_the_daily_command_cancels(world, app):
    neglect(world.project, "B", 61)
    result = app.test_cli_runner().invoke(args=["followups", "enforce"])
    assert result.exit_code == 0 and "for 1 project" in result.output
    assert reload(db.session.get(Project, world.project.id)).filing_right_lost_at is not None
