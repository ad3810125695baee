"""A ledger fixture on top of the small test town, with the values each ledger must show."""
from datetime import datetime, timedelta

from server.extensions import db
from server.models import Child, Inspection, Plan, StaffCheck, Visit, new_id, utcnow

from .helpers import TZ, today


def _visit(town, key: str, at: datetime, amends: str | None = None) -> str:
    visit = Visit(id=new_id(), child_id=town.children[key], household_id=town.households[key],
                  grid_id=town.grids[key], village_id=town.villages[key[0]], worker_id=town.users["worker_a"],
                  visited_at=at, received_at=at, counted_at=at, amends_id=amends, flags=[],
                  review_status="none")
    db.session.add(visit)
    db.session.flush()
    return visit.id


def build(town) -> dict:
    """Add visits, a plan, inspections and a staff check; return the facts the tests check against."""
    now, day = utcnow(), today()
    start = datetime(day.year, 1, 1, 0, 1, tzinfo=TZ)
    first = _visit(town, "a1", start)
    _visit(town, "a1", start + (now - start) / 2)
    _visit(town, "a1", start + (now - start) / 2, amends=first)
    _visit(town, "a1", start - timedelta(days=10))
    a1 = db.session.get(Child, town.children["a1"])
    a1.risk_level, a1.last_visit_at = "high", start + (now - start) / 2
    a1.next_visit_due = day - timedelta(days=3)
    a2 = db.session.get(Child, town.children["a2"])
    a2.categories, a2.sex, a2.follow_ups = ["disabled", "left_behind"], "M", ["schedule_education"]
    plan = Plan(id=new_id(), child_id=a1.id, grid_id=a1.grid_id, village_id=a1.village_id,
                helper_id=town.users["worker_a"], status="active", approved_by=town.users["head_a"],
                approved_at=now, next_review_due=day + timedelta(days=30), risk_factors=["injury_signs"])
    plan.measures = [{"kind": "other", "detail": "强制报告（派出所）：立即报告", "due": None}]
    db.session.add(plan)
    results = [{"item": "verify_identity", "result": "fail", "severity": "high",
                "deadline": (day - timedelta(days=2)).isoformat()},
               {"item": "staff_trained", "result": "fail", "severity": "low",
                "deadline": (day + timedelta(days=20)).isoformat()},
               {"item": "patrol_visitors", "result": "pass", "severity": "medium", "deadline": None}]
    inspection = Inspection(id=new_id(), venue_id=town.venues["a"], village_id=town.villages["a"],
                            inspector_id=town.users["inspector"], inspected_at=now - timedelta(days=10),
                            received_at=now, counted_at=now - timedelta(days=10), template_key="lodging",
                            template_version=1, results=results)
    db.session.add(inspection)
    db.session.flush()
    again = Inspection(id=new_id(), venue_id=town.venues["a"], village_id=town.villages["a"],
                       inspector_id=town.users["inspector"], inspected_at=now - timedelta(days=1),
                       received_at=now, counted_at=now - timedelta(days=1), template_key="lodging",
                       template_version=1,
                       reinspection_of=inspection.id,
                       results=[{"item": "verify_identity", "result": "pass", "severity": "high",
                                 "deadline": None}])
    check = StaffCheck(id=new_id(), employer_kind="venue", employer_id=town.venues["a"],
                       village_id=town.villages["a"], checked_on=day - timedelta(days=400), result="clear",
                       next_due=day - timedelta(days=35))
    check.person_name, check.id_number = "王小二", "430699199001010018"
    db.session.add_all([again, check])
    db.session.commit()
    return {"plan": plan.id, "inspection": inspection.id, "again": again.id, "check": check.id,
            "last_visit": (start + (now - start) / 2).astimezone(TZ).date()}
