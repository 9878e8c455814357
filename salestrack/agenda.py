"""我的日程: a person's appointments, taken from the sheets' own fields and
the follow-up discipline, for a week page and a personal iCalendar feed.

Appointments are the date and datetime fields a sheet definition marks with
`calendar` (电话记录表's 计划下次联络时间, 客户拜访总结报告's 约定下次拜访时间
and each promise's 反馈时间), in the sheets the person wrote, and the
follow-up sheets due on his open projects (salestrack/followup.py). Typed
times are local times of the department (Asia/Shanghai, config
BABEL_DEFAULT_TIMEZONE); a date without a time is an all-day entry."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from . import clock, followup
from .extensions import db
from .formkit import registry
from .formkit.spec import Table
from .models import Project, Record, User

FOLLOWUP_KIND = "待跟进"
FEED_DAYS_BEFORE, FEED_DAYS_AFTER = 30, 180


@dataclass
class Entry:
    kind: str  # 计划联络 | 约定拜访 | 承诺反馈 | 待跟进
    day: date  # the local date it falls on
    at: datetime | None  # the local time (aware, department's zone); None: all day
    about: str  # what it is about: the customer and the promise, purpose or project
    link: str  # the sheet's or the project's page (a path)
    uid: str  # stable across feeds: the sheet's number, the field and the row
    overdue: bool = False

    @property
    def title(self) -> str:
        """The kind and what it is about, e.g. 承诺反馈：华东精机（提供测试报告）."""
        return f"{self.kind}：{self.about}"


def _calendar_fields(spec) -> list[tuple[str | None, object, dict]]:
    """(table key or None, field, {key: field} of its row or sheet) for each calendar field of a sheet."""
    out = []
    for item in spec.items():
        if isinstance(item, Table):
            row = {c.key: c for c in item.columns}
            out += [(item.key, c, row) for c in item.columns if c.calendar]
        elif item.calendar:
            out.append((None, item, {f.key: f for f in spec.fields()}))
    return out


def _when(value, kind: str) -> tuple[date, datetime | None] | None:
    """(local date, aware local time or None) of a stored date/datetime value; None when empty or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        if kind == "datetime":
            at = datetime.fromisoformat(value.strip())
            at = at.replace(tzinfo=clock.zone()) if at.tzinfo is None else at.astimezone(clock.zone())
            return at.date(), at
        return date.fromisoformat(value.strip()[:10]), None
    except ValueError:
        return None


def sheet_entries(user: User, first: date, last: date) -> list[Entry]:
    """The appointments in the sheets `user` wrote that fall on local dates
    first..last (inclusive), from every sheet whose definition marks a
    calendar field. Returned sheets are the current version of each record
    (any status: a draft's plan is still his plan)."""
    marked = {spec.key: _calendar_fields(spec) for spec in registry.all_specs()}
    marked = {key: fields for key, fields in marked.items() if fields}
    if not marked:
        return []
    records = db.session.scalars(
        sa.select(Record).where(Record.author_id == user.id, Record.sheet.in_(marked))
        .options(joinedload(Record.project).joinedload(Project.customer)).order_by(Record.id)).unique()
    out = []
    for record in records:
        data = record.data or {}
        customer = record.project.customer
        who = (customer.short_name or customer.name) if customer is not None else record.project.name
        for table, field, siblings in marked[record.sheet]:
            rows = data.get(table) if table else [data]
            for index, row in enumerate(rows if isinstance(rows, list) else []):
                if not isinstance(row, dict):
                    continue
                when = _when(row.get(field.key), field.kind)
                if when is None or not first <= when[0] <= last:
                    continue
                about = row.get(field.calendar_text) if field.calendar_text in siblings else None
                text = who + (f"（{about.strip()}）" if isinstance(about, str) and about.strip() else "")
                out.append(Entry(field.calendar, when[0], when[1], text, f"/records/{record.id}",
                                 f"{record.number}-{field.key}-{index}"))
    return out


def followup_entries(user: User, first: date, last: date, now: datetime | None = None) -> list[Entry]:
    """The follow-up sheets due on `user`'s open projects on local dates
    first..last, and (when first is today or earlier) those already overdue,
    dated on the day they fell due (followup.due_list: class intervals in days)."""
    now = now or clock.now()
    window = max(0, (clock.start_of_day(last + timedelta(days=1)) - now).days + 1)
    out = []
    for item in followup.due_list([Project.owner_id == user.id], within_days=window, limit=500, now=now):
        day = clock.local_date(item.due)
        overdue = item.due <= now
        if day > last or (day < first and not overdue):
            continue
        out.append(Entry(FOLLOWUP_KIND, day, None, f"{item.customer} · {item.name}（{item.customer_class}类）",
                         f"/projects/{item.project_id}", f"followup-{item.project_id}-{day.isoformat()}",
                         overdue=overdue))
    return out


def entries(user: User, first: date, last: date, now: datetime | None = None) -> list[Entry]:
    """Every appointment of `user` on local dates first..last, by date and
    time (all-day entries first within a day)."""
    found = sheet_entries(user, first, last) + followup_entries(user, first, last, now)
    return sorted(found, key=lambda e: (e.day, e.at is not None, e.at or datetime.min.replace(tzinfo=timezone.utc),
                                        e.kind, e.about))


def week_of(day: date) -> tuple[date, date]:
    """The Monday and Sunday of the week `day` is in."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


# ── the personal iCalendar feed ──────────────────────────────────────────
def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh secret for a feed link (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


def user_for_token(token: str) -> User | None:
    """The active person whose feed link carries `token`; None for an unknown, revoked or malformed one."""
    if not token or len(token) > 100:
        return None
    user = db.session.scalar(sa.select(User).where(User.calendar_token_hash == token_hash(token)))
    return user if user is not None and user.active else None


def ical(user: User, base_url: str, now: datetime | None = None) -> bytes:
    """`user`'s appointments from FEED_DAYS_BEFORE days ago to FEED_DAYS_AFTER
    days ahead as an iCalendar (RFC 5545) file: timed entries in the
    department's zone (with its VTIMEZONE), dated ones as all-day events,
    each linking to its sheet or project under `base_url`."""
    from icalendar import Calendar, Event
    now = now or clock.now()
    today = clock.local_date(now)
    cal = Calendar()
    cal.add("prodid", "-//salestrack//我的日程//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{user.name} 的日程")
    cal.add("x-wr-timezone", clock.zone().key)
    stamp = now.replace(tzinfo=timezone.utc)
    for entry in entries(user, today - timedelta(days=FEED_DAYS_BEFORE), today + timedelta(days=FEED_DAYS_AFTER), now):
        event = Event()
        event.add("uid", f"{entry.uid}@salestrack")
        event.add("dtstamp", stamp)
        event.add("summary", entry.title)
        if entry.at is not None:
            event.add("dtstart", entry.at)
            event.add("dtend", entry.at + timedelta(hours=1))
        else:
            event.add("dtstart", entry.day)
            event.add("dtend", entry.day + timedelta(days=1))
        event.add("categories", [entry.kind])
        event.add("url", base_url.rstrip("/") + entry.link)
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()

