"""One clock for the department.

Every "now" and "today" in salestrack comes from here. Timestamps are stored
as naive UTC (`now()`); dates a person sees or types — a sheet's 日期, a
signing date, a delegation's first day, a period, a file name — are dates in
the department's time zone, config `BABEL_DEFAULT_TIMEZONE` (default
Asia/Shanghai). So a project won at 07:15 Shanghai time on the 1st (23:15
UTC on the 30th) is dated the 1st, and a sheet opened then defaults to the 1st.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_ZONE = "Asia/Shanghai"


def zone() -> ZoneInfo:
    """The department's time zone (config BABEL_DEFAULT_TIMEZONE; Asia/Shanghai
    outside an app context)."""
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_ZONE)


def now() -> datetime:
    """This moment as stored: naive UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def local_now() -> datetime:
    """This moment in the department's time zone (aware)."""
    return datetime.now(zone())


def today() -> date:
    """Today's date in the department's time zone (not the server's UTC date)."""
    return local_now().date()


def local_date(moment: datetime | None) -> date | None:
    """The department's date of a stored naive-UTC timestamp (or an aware one)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone()).date()


def to_local(moment: datetime) -> datetime:
    """A stored naive-UTC (or aware) timestamp as an aware local datetime."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone())


def start_of_day(day: date) -> datetime:
    """The first moment of a local date, as stored (naive UTC): 00:00 Shanghai
    on the 1st is 16:00 UTC on the 30th."""
    return datetime.combine(day, time(), zone()).astimezone(timezone.utc).replace(tzinfo=None)


def end_of_day(day: date) -> datetime:
    """The first moment after a local date, as stored (naive UTC)."""
    return start_of_day(day + timedelta(days=1))


def stamp(fmt: str = "%Y%m%d") -> str:
    """Today (or now, with a time format) in the department's time zone, for file names."""
    return local_now().strftime(fmt)
