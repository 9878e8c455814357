"""我的日程: the week's appointments from the sheets and the follow-up
discipline, and the personal iCalendar feed (a secret link to subscribe to
from a phone's calendar; made, replaced and ended here)."""
from datetime import date, timedelta

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user

from .. import agenda, clock, operations
from ..printing import base_url
from .common import render_page, roles_required

bp = Blueprint("agenda", __name__, url_prefix="/calendar")
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
FEED_ROLES = ("rep", "manager", "director", "gm")


def _week_start(value: str | None) -> date:
    """The Monday of the week of ?week=YYYY-MM-DD (any day of it); this week when absent or unreadable."""
    try:
        day = date.fromisoformat(value) if value else clock.today()
    except ValueError:
        day = clock.today()
    return agenda.week_of(day)[0]


@bp.get("/")
@roles_required(*FEED_ROLES)
def week():
    """The week's planned contacts, visits, promise deadlines and due follow-ups, day by day."""
    monday = _week_start(request.args.get("week"))
    sunday = monday + timedelta(days=6)
    today = clock.today()
    found = agenda.entries(current_user, monday, sunday)
    days = [{"date": monday + timedelta(days=i), "label": WEEKDAYS[i],
             "entries": [e for e in found if e.day == monday + timedelta(days=i)]} for i in range(7)]
    overdue = [e for e in agenda.followup_entries(current_user, today, today) if e.overdue and e.day < monday] \
        if monday <= today <= sunday else []
    return render_page("agenda/week.html", days=days, monday=monday, sunday=sunday, today=today, overdue=overdue,
                       previous=(monday - timedelta(days=7)).isoformat(), following=(monday + timedelta(days=7)).isoformat())


@bp.post("/feed")
@roles_required(*FEED_ROLES)
def make_feed():
    """Makes (or replaces) the personal feed link and shows it once on the page."""
    token = operations.make_calendar_feed(current_user)
    url = base_url() + url_for("agenda.feed", token=token)
    flash("已生成日程订阅链接。请复制下面的链接，在手机日历中「添加订阅日历」。此链接只显示这一次，"
          "请勿转发；如泄露，请重新生成或停用。", "success")
    return render_page("agenda/feed_made.html", feed_url=url)


@bp.post("/feed/revoke")
@roles_required(*FEED_ROLES)
def revoke_feed():
    """Ends the personal feed link."""
    if operations.revoke_calendar_feed(current_user):
        flash("日程订阅链接已停用，原链接从此无法访问。", "success")
    return redirect(url_for("agenda.week"))


@bp.get("/feed/<token>.ics")
def feed(token: str):
    """The personal iCalendar feed, reached by its secret link without signing in; 404 once revoked."""
    user = agenda.user_for_token(token)
    if user is None:
        abort(404)
    return Response(agenda.ical(user, base_url()), mimetype="text/calendar",
                    headers={"Content-Disposition": 'inline; filename="salestrack.ics"'})

