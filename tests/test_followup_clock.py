"""The follow-up clock counts real follow-ups (issue 10, findings 2 and 10;
paper-forms-toolkit.md 3.13): only a submitted follow-up sheet counts,
dated by its own contact date and never in the future; a draft never
counts; a sheet submitted more than 24 hours after its contact date is
marked 补录 where sheets are listed; a reassigned project gives its new
owner one full follow-up period."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import lxml.html
import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from salestrack.extensions import db
from salestrack.models import Project, Record
from tests.signoff_support import fill, page, reload, spec, submit, world  # noqa: F401

PHONE_LOG = "phone_log"


class clock:  # the department's calendar, as the test sees it (independent of salestrack.clock)
    @staticmethod
    def now():
        return datetime.now(timezone.utc).replace(tzinfo=None)

    @staticmethod
    def today():
        return datetime.now(ZoneInfo("Asia/Shanghai")).date()


@pytest.fixture
def neglected(world):
    """The world's project as class A (a follow-up every 7 days, lost after
    30), created 40 days ago and never followed up: overdue and past the limit."""
    project = db.session.get(Project, world.project.id)
    project.customer_class = "A"
    project.created_at = clock.now() - timedelta(days=40)
    db.session.commit()
    return project


def file_phone_log(w, contact_day, action="draft", author=None) -> Record:
    author = author or w.rep
    data = fill(spec(PHONE_LOG), w, date=[contact_day.isoformat()]) + [("action", action)]
    response = w.browser(author).post(f"/projects/{w.project.id}/sheets/{PHONE_LOG}/new", data=MultiDict(data))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return db.session.scalars(sa.select(Record).order_by(Record.id.desc())).first()


def last_followup_shown(w, user) -> str:
    doc = lxml.html.fromstring(page(w, user, f"/projects/{w.project.id}"))
    return doc.xpath("//dt[text()='上次跟进']/following-sibling::dd")[0].text_content().strip()


def followup_row(w, user) -> str | None:
    """The text of the project's row in 待跟进与已逾期 on `user`'s 跟进提醒, or None."""
    doc = lxml.html.fromstring(page(w, user, "/followups/"))
    rows = [r.text_content() for r in doc.xpath("//tr[td/a[contains(@href, '/projects/%d')]]" % w.project.id)]
    due = [r for r in rows if "应跟进" not in r]
    return " ".join(" ".join(r.split()) for r in due) if due else None


def test_an_empty_draft_dated_three_weeks_back_moves_nothing(world, neglected):
    w = world
    three_weeks = clock.today() - timedelta(days=21)
    response = w.browser(w.rep).post(f"/projects/{w.project.id}/sheets/{PHONE_LOG}/new",
                                     data={"date": three_weeks.isoformat(), "action": "draft"})
    assert response.status_code in (302, 400)
    full = file_phone_log(w, three_weeks)  # a complete draft does not count either
    assert full.status == "draft"
    assert last_followup_shown(w, w.rep) == "—"
    row = followup_row(w, w.rep)
    assert row is not None and "逾期" in row and "超过跟进期限" in row


def test_a_submitted_follow_up_is_dated_by_its_contact_date_and_marked_late(world, neglected):
    w = world
    three_weeks = clock.today() - timedelta(days=21)
    record = file_phone_log(w, three_weeks)
    assert submit(w, record).status_code == 302
    reload(record)
    assert record.status == "submitted"
    assert last_followup_shown(w, w.rep) == three_weeks.isoformat()
    row = followup_row(w, w.rep)  # 21 days ago for a 7-day class: still 14 days overdue, no longer past the limit
    assert row is not None and "逾期 14 天" in row and "超过跟进期限" not in row
    # 补录: filed three weeks after the contact; the manager sees it where the sheet is listed.
    assert "补录" in page(w, w.manager, f"/projects/{w.project.id}")
    assert "补录" in page(w, w.manager, f"/records/{record.id}")
    assert "补录" in page(w, w.rep, "/records/")


@pytest.mark.parametrize("days_back, late", [(0, False), (1, False), (2, True)])
def test_a_contact_is_recorded_within_24_hours_or_is_late(world, neglected, days_back, late):
    """The contact's hour is not on the sheet: a contact on day D may be
    recorded until the end of D + 1."""
    w = world
    record = file_phone_log(w, clock.today() - timedelta(days=days_back))
    submit(w, record)
    reload(record)
    assert record.late_entry is late
    assert ("补录" in page(w, w.manager, f"/records/{record.id}")) is late
    assert last_followup_shown(w, w.rep) == (clock.today() - timedelta(days=days_back)).isoformat()


def test_a_future_contact_date_never_dates_the_follow_up_in_the_future(world, neglected):
    w = world
    record = file_phone_log(w, clock.today() + timedelta(days=5))
    submit(w, record)
    assert last_followup_shown(w, w.rep) == clock.today().isoformat()


def test_an_older_sheet_does_not_move_the_clock_back(world, neglected):
    w = world
    for days_back in (3, 10):
        submit(w, file_phone_log(w, clock.today() - timedelta(days=days_back)))
    assert last_followup_shown(w, w.rep) == (clock.today() - timedelta(days=3)).isoformat()


def test_a_reassigned_project_gives_its_new_owner_a_full_period(world, neglected):
    w = world
    assert "逾期" in (followup_row(w, w.manager) or "")
    response = w.browser(w.manager).post(f"/followups/{w.project.id}/reassign", data={
        f"p{w.project.id}-owner_id": str(w.rep2.id), f"p{w.project.id}-reason": "张伟一个月未跟进"})
    assert response.status_code == 302
    row = followup_row(w, w.rep2)  # due in 7 days: listed, not overdue, not past the limit
    assert row is not None
    assert "逾期" not in row and "超过跟进期限" not in row
    assert (clock.today() + timedelta(days=7)).isoformat() in row
    assert last_followup_shown(w, w.rep2) == "—"  # no follow-up was made: the page does not pretend one was


def test_the_timeline_speaks_labels_and_names(world):
    """Finding 10: '修改：签约概率：40% → 60%' and '转交：张伟 → 王芳', not column keys
    and account names."""
    w = world
    project = db.session.get(Project, w.project.id)
    old_probability, old_class = project.probability, project.customer_class
    new_class = "A" if old_class != "A" else "B"
    edit = w.browser(w.rep).post(f"/projects/{project.id}/edit", data={
        "name": project.name, "customer_id": project.customer_id, "probability": "60", "customer_class": new_class,
        "version": project.version})
    assert edit.status_code == 302
    assert w.browser(w.manager).post(f"/projects/{project.id}/reassign", data={
        "owner_id": str(w.rep2.id), "reason": "调整片区"}).status_code == 302
    doc = lxml.html.fromstring(page(w, w.manager, f"/projects/{project.id}"))
    timeline = " ".join(" ".join(li.text_content().split()) for li in doc.xpath("//ol[@class='timeline']/li"))
    assert f"签约概率：{old_probability}% → 60%" in timeline
    assert f"客户分类：{old_class} 类 → {new_class} 类" in timeline
    assert "转交：张伟 → 王芳" in timeline
    for raw in ("probability", "customer_class", w.rep.username, w.rep2.username):
        assert raw not in timeline


def test_the_evaluation_counts_each_reps_late_entries(world, neglected):
    """补录 shows in 业绩考核 too: per rep, late follow-up sheets of all his
    follow-up sheets submitted in the period."""
    import lxml.html
    w = world
    for days_back in (0, 5, 9):
        submit(w, file_phone_log(w, clock.today() - timedelta(days=days_back)))
    doc = lxml.html.fromstring(page(w, w.manager, "/funnel/?period=this_month"))
    rows = {tr.xpath("./td")[0].text_content().split()[0]: tr.xpath("./td")[-1].text_content().split()
            for tr in doc.xpath("//h3[text()='个人']/following-sibling::table[1]/tbody/tr")}
    assert rows[w.rep.name] == ["2", "/", "3"]
