"""我的日程 and its iCalendar feed: the week's planned contacts, visits and
promise deadlines come from the sheets' own fields, due follow-ups from the
follow-up discipline; the feed is a secret link that a real calendar parser
(icalendar's own) reads with the department's time zone, and revoking or
replacing the link makes the old URL answer 404."""
import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine
from icalendar import Calendar

from salestrack import operations
from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.formkit.spec import Table
from tests.archive_helpers import make_people, sheet_data

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 18, 2, 0, tzinfo=timezone.utc)  # Wednesday 18 March, 10:00 in Shanghai


@pytest.mark.parametrize("spec", registry.all_specs(), ids=lambda s: s.key)
def test_every_calendar_field_is_a_date_and_names_a_field_beside_it(spec):
    for item in spec.items():
        fields = item.columns if isinstance(item, Table) else [item]
        siblings = {f.key for f in fields} if isinstance(item, Table) else {f.key for f in spec.fields()}
        for field in (f for f in fields if f.calendar):
            assert field.kind in ("date", "datetime"), field.key
            assert field.calendar_text in siblings, field.key


@pytest.fixture
def week(app, factory):
    """A rep with a phone log (a call planned Thursday 09:30), a visit report
    (a visit agreed Friday 14:00, one promise due today and one in April)
    and a class-A project whose follow-up falls due on Thursday."""
    with time_machine.travel(NOW, tick=False):
        people = make_people(factory)
        customer = factory.customer(people.author, name="杭州华东精密机械有限公司", short_name="华东精机")
        project = factory.project(people.author, customer, name="数控车间改造", customer_class="A")
        phone = registry.get("phone_log")
        data, _, _ = sheet_data(phone, people, rows=2)
        data["calls"][0].update(next_contact_at="2026-03-19T09:30", promise="周五前发送节能方案")
        data["calls"][1].update(next_contact_at="2026-03-30T09:00")  # the week after next
        operations.create_record(people.author, project, phone, data)
        visit = registry.get("visit_report")
        data, _, _ = sheet_data(visit, people, rows=2)
        data.update(next_visit_at="2026-03-20T14:00", next_visit_purpose="方案演示")
        data["promises"][0].update(promise="提供测试报告", due="2026-03-18")
        data["promises"][1].update(promise="安排样机试用", due="2026-04-30")
        operations.create_record(people.author, project, visit, data)
        project.followup_from = datetime(2026, 3, 12, 1, 0)  # class A: due 7 days later, Thursday the 19th
        db.session.commit()
    return people


def _sign_in(client, user):
    from tests.conftest import PASSWORD
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302


@pytest.fixture
def frozen():
    """The department's clock stopped at NOW for the whole test (signing in included)."""
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_week_page_lists_the_sheets_appointments_and_due_follow_ups_day_by_day(client, week, frozen):
    _sign_in(client, week.author)
    page = client.get("/calendar/").get_data(as_text=True)
    days = re.split(r"<li class=\"day card", page)[1:]
    assert len(days) == 7 and "今天" in days[2]  # Monday … Sunday; Wednesday is today
    assert "全天" in days[2] and ">承诺反馈<" in days[2] and ">华东精机（提供测试报告）</a>" in days[2]
    assert "09:30" in days[3] and ">计划联络<" in days[3] and ">华东精机（周五前发送节能方案）</a>" in days[3]
    assert ">待跟进<" in days[3] and ">华东精机 · 数控车间改造（A类）</a>" in days[3]
    assert "14:00" in days[4] and ">约定拜访<" in days[4] and ">华东精机（方案演示）</a>" in days[4]
    assert 'aria-label="约定拜访：华东精机（方案演示）"' in days[4]
    assert "安排样机试用" not in page and "2026-03-30" not in page
    later = client.get("/calendar/?week=2026-04-28").get_data(as_text=True)
    assert "华东精机（安排样机试用）" in later and "提供测试报告" not in later


def test_a_bad_week_shows_this_week_and_roles_without_a_calendar_are_refused(client, factory, week, frozen):
    _sign_in(client, week.author)
    page = client.get("/calendar/?week=2026-13-45").get_data(as_text=True)
    assert "2026年3月16日" in page  # this week's Monday
    client.post("/logout")
    _sign_in(client, factory.user("clerk"))
    assert client.get("/calendar/").status_code == 403


def _feed_url(client) -> str:
    made = client.post("/calendar/feed").get_data(as_text=True)
    return re.search(r'id="feed-url"[^>]*value="([^"]+)"', made).group(1)


def test_the_feed_is_read_by_the_icalendar_parser_with_the_right_events_and_time_zone(app, client, week, frozen):
    _sign_in(client, week.author)
    url = _feed_url(client)
    assert url.startswith("http://localhost/calendar/feed/") and url.endswith(".ics")
    anonymous = app.test_client()  # a phone's calendar: no session
    response = anonymous.get(url.removeprefix("http://localhost"))
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    assert [tz.tz_name for tz in cal.timezones] == ["Asia/Shanghai"]
    events = {str(e["SUMMARY"]): e for e in cal.events}
    call = events["计划联络：华东精机（周五前发送节能方案）"]
    assert call.start == datetime(2026, 3, 19, 9, 30, tzinfo=SHANGHAI)
    assert call.start.astimezone(timezone.utc) == datetime(2026, 3, 19, 1, 30, tzinfo=timezone.utc)
    assert str(call.start.tzinfo) == "Asia/Shanghai"
    assert events["约定拜访：华东精机（方案演示）"].start == datetime(2026, 3, 20, 14, 0, tzinfo=SHANGHAI)
    assert events["承诺反馈：华东精机（提供测试报告）"].start == date(2026, 3, 18)  # all day
    assert events["承诺反馈：华东精机（安排样机试用）"].start == date(2026, 4, 30)
    assert events["待跟进：华东精机 · 数控车间改造（A类）"].start == date(2026, 3, 19)
    assert datetime(2026, 3, 30, 9, 0, tzinfo=SHANGHAI) in {e.start for e in cal.events}  # beyond this week
    assert str(call["URL"]).startswith("http://localhost/records/")
    assert len({str(e["UID"]) for e in cal.events}) == len(cal.events) == 6


def test_revoking_or_replacing_the_link_makes_the_old_url_404(app, client, week):
    _sign_in(client, week.author)
    first = _feed_url(client).removeprefix("http://localhost")
    anonymous = app.test_client()
    assert anonymous.get(first).status_code == 200
    second = _feed_url(client).removeprefix("http://localhost")  # 重新生成
    assert anonymous.get(first).status_code == 404 and anonymous.get(second).status_code == 200
    assert "原链接从此无法访问" in client.post("/calendar/feed/revoke", follow_redirects=True).get_data(as_text=True)
    assert anonymous.get(second).status_code == 404
    assert anonymous.get("/calendar/feed/" + "x" * 43 + ".ics").status_code == 404
    page = client.get("/calendar/").get_data(as_text=True)
    assert "生成订阅链接" in page and "停用链接" not in page
