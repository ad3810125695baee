"""The monthly report's figures for one village and period: counts from the records, nothing personal.

Counts of events (visits, plans drafted, inspections …) take the period's window; counts of
states (active children, overdue visits, open violations …) are as of the window's end, or as
of now while the window is still running. Clues are never counted: village heads never see them.
"""
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import (
    CATEGORIES,
    RISK_LEVELS,
    Child,
    Inspection,
    JointOperation,
    Plan,
    StaffCheck,
    Venue,
    Visit,
    standing_ids,
    stands,
)
from . import enforcement, periods, risk_rules, schedule


def village_figures(village_id: str, period: str, as_of: datetime) -> dict:
    """Return the figures of one village for a period, states counted as of `as_of`."""
    start, _ = periods.window_bounds(period)
    children = _children(village_id, as_of)
    active = [c for c in children if c.status == "active"]
    plans = _plan_rows(village_id)
    return {
        "children": {
            "active": len(active),
            "by_category": {k: sum(k in (c.categories or []) for c in active) for k in CATEGORIES},
            "by_risk": {k: sum(c.risk_level == k for c in active) for k in RISK_LEVELS},
            "registered": sum(c.registered_at >= start for c in children)},
        "visits": _visits(village_id, start, as_of, active),
        "plans": _plans(plans, start, as_of, active),
        "venues": _venues(village_id, start, as_of),
        "staff_checks": _staff_checks(village_id, period)}


def town_operations(period: str) -> dict:
    """Return the joint operations of the period's window (town-wide)."""
    first, end = periods.window(period)
    count = db.session.scalar(select(func.count(JointOperation.id)).where(
        JointOperation.deleted_at.is_(None), JointOperation.date >= first, JointOperation.date < end))
    return {"total": count or 0}


def unit_staff_checks(period: str) -> dict:
    """Return the staff checks of the period's window made of units' staff (no village), town-wide."""
    return _staff_checks(None, period)


def sum_figures(rows: list[dict]) -> dict:
    """Return the key-by-key sum of several villages' figures (same shape)."""
    total: dict = {}
    for row in rows:
        for key, value in row.items():
            total[key] = sum_figures([total.get(key, {}), value]) if isinstance(value, dict) \
                else total.get(key, 0) + value
    return total


def _children(village_id: str, as_of: datetime) -> list:
    # By when the child was registered (the phone's word, checked), as its visits count by theirs: a
    # child registered and visited offline late on the window's last day is on that period's register.
    return db.session.execute(select(
        Child.id, Child.status, Child.categories, Child.risk_level, Child.created_at, Child.registered_at,
        Child.risk_changed_at)
        .where(Child.village_id == village_id, Child.deleted_at.is_(None), Child.merged_into_id.is_(None),
               Child.registered_at < as_of)).all()


def _struck(village_id: str):
    """The village's children registered in error (deleted): never on the register, so neither are
    their visits and plans (a merged duplicate's went to the child it was merged into)."""
    return select(Child.id).where(Child.village_id == village_id, Child.deleted_at.isnot(None))


def _visits(village_id: str, start: datetime, as_of: datetime, active: list) -> dict:
    live = (Visit.village_id == village_id, Visit.deleted_at.is_(None), Visit.counted_at < as_of,
            Visit.child_id.notin_(_struck(village_id)))
    # A correction takes its visit's place, its time, flags and review included: one visit, as corrected.
    rows = db.session.execute(select(Visit.child_id, Visit.flags, Visit.review_status).where(
        *live, *stands(Visit), Visit.counted_at >= start)).all()
    # The last visit is the latest standing one, as on the schedule: a time corrected back counts.
    last = dict(db.session.execute(select(Visit.child_id, func.max(Visit.counted_at))
                                   .where(*live, *stands(Visit)).group_by(Visit.child_id)).all())
    return {"total": len(rows), "children_visited": len({r.child_id for r in rows if r.child_id}),
            "flagged": sum(bool(r.flags) for r in rows),
            "accepted": sum(r.review_status == "accepted" for r in rows),
            "questioned": sum(r.review_status == "questioned" for r in rows),
            "overdue_children": sum(_overdue(c, last.get(c.id), as_of) for c in active)}


def _overdue(child, last_visit: datetime | None, as_of: datetime) -> bool:
    """Say whether a child's visit was overdue at `as_of` (the rule of schedule.overdue_condition):
    a full interval after the last visit or, never visited, after registration, in the town's days."""
    since = last_visit if last_visit is not None else child.registered_at
    interval = timedelta(days=schedule.interval_days(child.risk_level))
    return schedule.local_date(since) + interval < schedule.local_date(as_of)


def _plan_rows(village_id: str) -> list:
    return db.session.execute(select(Plan.child_id, Plan.status, Plan.created_at, Plan.approved_at,
                                     Plan.closed_at).where(
        Plan.village_id == village_id, Plan.deleted_at.is_(None),
        Plan.child_id.notin_(_struck(village_id)))).all()


def _active_at(plan, as_of: datetime) -> bool:
    began = plan.approved_at or (plan.created_at if plan.status == "active" else None)
    return began is not None and began < as_of and (plan.closed_at is None or plan.closed_at >= as_of)


def _plans(rows: list, start: datetime, as_of: datetime, active: list) -> dict:
    """Count plans active at the end, drafted, approved and closed in the window, and children missing one."""
    active_plans = {r.child_id for r in rows if _active_at(r, as_of)}
    rules = risk_rules.rules()["plan"]
    cutoff = as_of - timedelta(days=rules["deadline_days"])

    def within(moment):
        return moment is not None and start <= moment < as_of
    return {"active": sum(_active_at(r, as_of) for r in rows),
            "drafted": sum(within(r.created_at) for r in rows),
            "approved": sum(within(r.approved_at) for r in rows),
            "closed": sum(within(r.closed_at) for r in rows),
            "missing": sum(c.risk_level in rules["required_levels"] and c.id not in active_plans
                           and (c.risk_changed_at or c.created_at) < cutoff for c in active)}


def _venues(village_id: str, start: datetime, as_of: datetime) -> dict:
    venues = db.session.scalar(select(func.count(Venue.id)).where(
        Venue.village_id == village_id, Venue.deleted_at.is_(None), Venue.status == "open",
        Venue.created_at < as_of)) or 0
    # A correction replaces its inspection: one inspection, counted as corrected, at its own time (as a
    # visit). One corrected to after `as_of` is not counted before it, nor are its failures open: so
    # the corrections made since are read too, to know where each chain of them ends.
    every = list(db.session.scalars(select(Inspection).where(
        Inspection.village_id == village_id, Inspection.deleted_at.is_(None),
        or_(Inspection.counted_at < as_of, Inspection.amends_id.isnot(None)))
        .order_by(Inspection.counted_at, Inspection.received_at, Inspection.id)))
    standing = standing_ids(every)
    by_id = {i.id: i for i in every}
    inspections = [i for i in every if i.counted_at < as_of and by_id[standing[i.id]].counted_at < as_of]
    in_window = [i for i in inspections if i.counted_at >= start and standing[i.id] == i.id]
    violations = enforcement.violations_in(inspections, schedule.local_date(as_of))
    return {"total": venues, "inspected": len({i.venue_id for i in in_window}),
            "inspections": len(in_window),
            "failed_items": sum(r.get("result") == "fail" for i in in_window for r in i.results or []),
            "open_violations": len(violations),
            "overdue_rectifications": sum(v["overdue"] for v in violations)}


def _staff_checks(village_id: str | None, period: str) -> dict:
    first, end = periods.window(period)
    placed = StaffCheck.village_id.is_(None) if village_id is None else StaffCheck.village_id == village_id
    rows = db.session.scalars(select(StaffCheck.result).where(
        placed, StaffCheck.deleted_at.is_(None),
        StaffCheck.checked_on >= first, StaffCheck.checked_on < end)).all()
    return {"total": len(rows), "record_found": sum(r == "record_found" for r in rows)}
