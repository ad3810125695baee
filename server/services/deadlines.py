"""Deadlines outside the child register: rectifications and the monthly report (periods.py has the dates)."""
from datetime import date, timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import StaffCheck, Venue, Village
from . import casework, enforcement, periods, reports, scope

SOON_DAYS = 7
RECHECK_SOON_DAYS = 30
RECTIFY_ROLES = ("inspector", "village_head", "town_admin")
# Only villages submit monthly reports (POST /api/reports/monthly/submit); a unit's reminder
# could never be cleared, so units get none until unit reports exist.
REPORT_ROLES = ("village_head", "town_admin")


def rectification_tasks(actor, today: date) -> list[dict]:
    """Return each open rectification in scope that is overdue or due within a week."""
    if actor.role not in RECTIFY_ROLES:
        return []
    open_items = [v for v in enforcement.for_my_unit(actor, enforcement.open_violations(actor, today))
                  if v["deadline"] is not None and v["deadline"] <= today + timedelta(days=SOON_DAYS)]
    venues = dict(db.session.execute(select(Venue.id, Venue.name).where(
        Venue.id.in_({v["venue_id"] for v in open_items}))).all()) if open_items else {}
    return [{"kind": "rectification", "title": f"{venues.get(v['venue_id'], '')} 整改期限",
             "due": v["deadline"], "overdue": v["overdue"], "entity": "inspection",
             "entity_id": v["inspection_id"], "village_id": v["village_id"],
             "detail": {"item": v["item"], "severity": v["severity"], "venue_id": v["venue_id"]}}
            for v in sorted(open_items, key=lambda v: v["deadline"])]


def _submitted(period: str, village_id: str | None = None, unit_id: str | None = None) -> bool:
    return reports.find_snapshot(period, village_id=village_id, unit_id=unit_id) is not None


def _report_item(period: str, today: date, detail: dict) -> dict:
    due = periods.report_due_date(period)
    return {"kind": "report_due", "title": f"{period} 月报", "due": due, "overdue": due < today,
            "entity": "report", "entity_id": period, "village_id": detail.get("village_id"),
            "detail": detail}


def report_tasks(actor, today: date) -> list[dict]:
    """Return the monthly reports the caller still owes: last period's if late, this one's when near."""
    if actor.role not in REPORT_ROLES:
        return []
    period = periods.current_period(today)
    candidates = [periods.previous(period)]
    if periods.report_due_date(period) - today <= timedelta(days=SOON_DAYS):
        candidates.append(period)
    if actor.role == "town_admin":
        villages = db.session.execute(select(Village.id, Village.name).order_by(Village.name)).all()
        items = []
        for p in candidates:
            missing = [name for vid, name in villages if not _submitted(p, village_id=vid)]
            if missing:
                items.append(_report_item(p, today, {"missing": missing}))
        return items
    if not actor.village_id:
        return []
    owner = {"village_id": actor.village_id}
    return [_report_item(p, today, owner) for p in candidates if not _submitted(p, **owner)]


def _item(kind: str, title: str, entity: str, entity_id, village_id, due=None, overdue=False,
          detail: dict | None = None) -> dict:
    return {"kind": kind, "title": title, "due": due, "overdue": overdue, "entity": entity,
            "entity_id": entity_id, "village_id": village_id, "detail": detail or {}}


def venue_tasks(actor, today: date) -> list[dict]:
    """Venues unvisited for 90 days, and the town admin's warning of a month with no operation."""
    items = []
    if actor.role in ("inspector", "town_admin"):
        items += [_item("venue_stale", f"{v.name} {'超过90天未检查' if v.last_inspected_at else '尚未检查'}",
                        "venue", v.id, v.village_id,
                        overdue=True, detail={"last_inspected_at": v.last_inspected_at})
                  for v in enforcement.stale_venues(actor, today)]
    if actor.role == "town_admin" and enforcement.operation_missing(today):
        items.append(_item("operation_missing", f"{today:%Y-%m} 已过20日，本月尚未开展联合执法行动",
                           "joint_operation", None, None, overdue=True))
    return items


def staff_check_tasks(actor, today: date) -> list[dict]:
    """Staff re-checks falling due within 30 days, and record-found alerts for police and the town."""
    items = []
    if actor.role in ("inspector", "village_head", "town_admin"):
        due = db.session.scalars(scope.scoped_select(actor, StaffCheck).where(
            StaffCheck.next_due <= today + timedelta(days=RECHECK_SOON_DAYS),
            casework.standing_check_condition()).order_by(StaffCheck.next_due))
        items += [_item("staff_recheck_due", "从业人员定期查询到期", "staff_check", c.id, c.village_id,
                        due=c.next_due, overdue=c.next_due < today) for c in due]
    if actor.role in ("police", "town_admin"):
        found = db.session.scalars(scope.scoped_select(actor, StaffCheck).where(
            StaffCheck.result == "record_found", casework.standing_check_condition())
            .order_by(StaffCheck.checked_on))
        items += [_item("staff_record_found", "从业查询发现违法犯罪记录，请处置", "staff_check", c.id,
                        c.village_id, overdue=True, detail={"checked_on": c.checked_on}) for c in found]
    return items


def minor_tasks(actor, today: date) -> list[dict]:
    """Minors found in venues of the caller's village that still need registering."""
    return [_item("minor_unregistered", "场所检查发现未登记未成年人，请核实登记", "minor_found", c.id,
                  c.village_id, due=None, overdue=True) for c in enforcement.unregistered_minor_clues(actor)]
