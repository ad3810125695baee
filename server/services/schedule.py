"""The visit schedule by risk level: intervals, next due dates, overdue lists, the local day."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlalchemy.sql import ColumnElement

from ..config import settings
from ..models import Child, utcnow
from . import risk_rules


def local_zone() -> ZoneInfo:
    """Return the town's time zone (setting TIMEZONE, default Asia/Shanghai)."""
    return ZoneInfo(settings().get("TIMEZONE", "Asia/Shanghai"))


def local_today() -> date:
    """Return today's date in the town."""
    return utcnow().astimezone(local_zone()).date()


def local_date(moment: datetime | None) -> date | None:
    """Return the town's calendar date of an aware moment."""
    return None if moment is None else moment.astimezone(local_zone()).date()


def interval_days(level: str | None) -> int:
    """Return the days between visits for a risk level (setting VISIT_INTERVAL_DAYS, else the rules)."""
    level = level or "low"
    setting = (settings().get("VISIT_INTERVAL_DAYS") or {}).get(level)
    return int(setting if setting is not None else risk_rules.rules()["visit_interval_days"][level])


def next_visit_due(child: Child) -> date | None:
    """Return the day the child's next visit falls due, counted from the last visit."""
    if child.last_visit_at is None:
        return None
    return local_date(child.last_visit_at) + timedelta(days=interval_days(child.risk_level))


def first_visit_due(child) -> date | None:
    """Return the day an active child never visited falls due: a full interval after registration."""
    if child.status != "active" or child.last_visit_at is not None or child.registered_at is None:
        return None
    return local_date(child.registered_at) + timedelta(days=interval_days(child.risk_level))


def visit_due(child) -> date | None:
    """Return the day the child's next visit falls due, whether visited before or not."""
    return child.next_visit_due or first_visit_due(child)


def overdue_condition(today: date) -> ColumnElement[bool]:
    """Return the filter of active children whose visit is overdue on `today`: due before it, by
    `next_visit_due` or, never visited, by `first_visit_due`."""
    never = [and_(Child.risk_level == level,
                  Child.registered_at < _start_of(today - timedelta(days=interval_days(level))))
             for level in ("low", "medium", "high")]
    return and_(Child.status == "active", or_(
        Child.next_visit_due < today,
        and_(Child.next_visit_due.is_(None), Child.last_visit_at.is_(None), or_(*never))))


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=local_zone())
