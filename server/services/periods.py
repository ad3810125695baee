"""Report periods: the one place for their windows, due dates and the current period.

The monthly report (YYYY-MM) due on the cut-off day (setting REPORT_DUE_DAY, default 17) covers the
cut-off day of the previous month up to the day before the cut-off of its own month. The police
station's weekly report (YYYY-Www, an ISO week) covers Monday to Sunday and is due the Monday after.
"""
import re
from datetime import date, datetime, time, timedelta

from ..config import settings
from . import schedule

# Matched whole (`$` also takes a final newline, which would make "2024-03\n" a second period),
# in the years a time may have (Aware): year 0 has no calendar, and 0001-01 would look back to it.
PERIOD = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
WEEK = re.compile(r"(\d{4})-W(0[1-9]|[1-4][0-9]|5[0-3])")
YEARS = range(1900, 2101)


def due_day() -> int:
    """Return the cut-off day of the month (also the report's due day)."""
    return int(settings().get("REPORT_DUE_DAY", 17))


def parse(period: str) -> tuple[int, int]:
    """Return (year, month) of a well-formed period; raise ValueError otherwise."""
    match = PERIOD.fullmatch(period or "")
    if match is None or int(match.group(1)) not in YEARS:
        raise ValueError(f"not a period: {period!r}")
    return int(match.group(1)), int(match.group(2))


def name(year: int, month: int) -> str:
    """Return the period of a year and month."""
    return f"{year:04d}-{month:02d}"


def _month_before(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def previous(period: str) -> str:
    """Return the period before `period`."""
    return name(*_month_before(*parse(period)))


def following(period: str) -> str:
    """Return the period after `period`."""
    year, month = parse(period)
    return name(year + 1, 1) if month == 12 else name(year, month + 1)


def report_due_date(period: str) -> date:
    """Return the day the monthly report of a period is due (the cut-off day of its month)."""
    year, month = parse(period)
    return date(year, month, due_day())


def window(period: str) -> tuple[date, date]:
    """Return the first day of the period's window and the day after its last (its due date). The
    window of the first period there is (1900-01) starts in the month before it."""
    year, month = parse(period)
    return date(*_month_before(year, month), due_day()), date(year, month, due_day())


def window_bounds(period: str) -> tuple[datetime, datetime]:
    """Return the window as aware moments [start, end) at local midnight in the town's zone."""
    zone = schedule.local_zone()
    start, end = window(period)
    return datetime.combine(start, time(), zone), datetime.combine(end, time(), zone)


def current_period(today: date) -> str:
    """Return the period whose report falls due next (the one due today included)."""
    this = name(today.year, today.month)
    return this if today.day <= due_day() else following(this)


def is_future(period: str, today: date) -> bool:
    """Say whether a period's month lies after today's month (its report cannot be submitted)."""
    return parse(period) > (today.year, today.month)


def week_window(week: str) -> tuple[date, date]:
    """Return the Monday of an ISO week and the Monday after (its due date); ValueError if malformed."""
    match = WEEK.fullmatch(week or "")
    if match is None or int(match.group(1)) not in YEARS:
        raise ValueError(f"not a week: {week!r}")
    monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    return monday, monday + timedelta(days=7)


def week_bounds(week: str) -> tuple[datetime, datetime]:
    """Return an ISO week as aware moments [Monday, Monday after) at local midnight in the town's zone."""
    zone = schedule.local_zone()
    start, end = week_window(week)
    return datetime.combine(start, time(), zone), datetime.combine(end, time(), zone)


def week_name(day: date) -> str:
    """Return the ISO week a day falls in."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def last_week(today: date) -> str:
    """Return the last whole week before today's: the one whose weekly report falls due next."""
    return week_name(today - timedelta(days=7))
