"""A monthly-report fixture on the small test town: records just inside and outside the 2026-11 window.

With the cut-off day 17 the 2026-11 report covers [2026-10-17 00:00, 2026-11-17 00:00) Beijing time.
"""
from datetime import date, datetime

from server.extensions import db
from server.models import (
    Child,
    Inspection,
    JointOperation,
    Plan,
    StaffCheck,
    Venue,
    Visit,
    counted_time,
    new_id,
)

from .helpers import TZ

PERIOD = "2026-11"


def at(*parts) -> datetime:
    """Return a Beijing time."""
    return datetime(*parts, tzinfo=TZ)


def add_visit(town, key: str, when: datetime, flags=(), review="none", amends=None,
              received: datetime | None = None) -> str:
    """Add a visit to a test child (as stored after a sync, received when made unless `received`
    says otherwise) and return its id."""
    village = town.villages[key[0]]
    visit = Visit(id=new_id(), child_id=town.children[key], household_id=town.households[key],
                  grid_id=town.grids[key], village_id=village, worker_id=town.users[f"worker_{key[0]}"],
                  visited_at=when, received_at=received or when,
                  counted_at=counted_time(when, received or when),
                  flags=list(flags), review_status=review, amends_id=amends)
    db.session.add(visit)
    db.session.flush()
    return visit.id


def _child(town, key: str, created: datetime, status: str = "active") -> None:
    child = Child(id=new_id(), household_id=town.households["a1"], grid_id=town.grids["a1"],
                  village_id=town.villages["a"], sex="M", categories=["migrant"], birth_year=2014,
                  status=status, created_at=created, registered_at=created, risk_level="low")
    child.name = f"测试{key}"
    db.session.add(child)
    town.children[key] = child.id


def _inspection(town, venue: str, when: datetime, results: list, again_of=None) -> str:
    inspection = Inspection(id=new_id(), venue_id=venue, village_id=town.villages["a"],
                            inspector_id=town.users["inspector"], inspected_at=when, received_at=when,
                            counted_at=when,
                            template_key="lodging", template_version=1, results=results,
                            reinspection_of=again_of)
    db.session.add(inspection)
    db.session.flush()
    return inspection.id


def _fail(item: str, deadline: str) -> dict:
    return {"item": item, "result": "fail", "severity": "high", "deadline": deadline}


def _children(town) -> None:
    a1, a2, b1 = (db.session.get(Child, town.children[k]) for k in ("a1", "a2", "b1"))
    a1.created_at, a1.risk_level = at(2026, 9, 1), "high"
    a2.created_at, a2.risk_level, a2.categories = at(2026, 10, 20), "medium", ["disabled", "left_behind"]
    b1.created_at, b1.risk_level, b1.risk_changed_at = at(2026, 9, 1), "high", at(2026, 11, 5)
    for child in (a1, a2, b1):
        child.registered_at = child.created_at
    _child(town, "a_after", at(2026, 11, 17))                       # registered after the window
    _child(town, "a_moved", at(2026, 10, 18), status="moved_out")   # registered in it, since moved out
    _child(town, "a_deleted", at(2026, 10, 19))
    db.session.flush()
    db.session.get(Child, town.children["a_deleted"]).deleted_at = at(2026, 10, 20)


def _visits(town) -> None:
    add_visit(town, "a1", at(2026, 10, 16, 23, 59))                                  # before the window
    add_visit(town, "a1", at(2026, 10, 17), flags=["no_location"], review="accepted")  # its first moment
    questioned = add_visit(town, "a2", at(2026, 11, 16, 23, 59), flags=["clock_skew"], review="questioned")
    add_visit(town, "a2", at(2026, 11, 16, 23, 59, 30), amends=questioned, review="accepted")  # corrected
    add_visit(town, "a2", at(2026, 11, 17))                                          # after the window
    add_visit(town, "b1", at(2026, 11, 1, 10))


def _plans(town) -> None:
    a1, a2 = town.children["a1"], town.children["a2"]
    common = {"grid_id": town.grids["a1"], "village_id": town.villages["a"],
              "helper_id": town.users["worker_a"], "approved_by": town.users["head_a"]}
    db.session.add_all([
        Plan(id=new_id(), child_id=a1, status="active", created_at=at(2026, 10, 1),
             approved_at=at(2026, 10, 20), **common),
        Plan(id=new_id(), child_id=a2, status="closed", created_at=at(2026, 10, 25),
             approved_at=at(2026, 10, 26), closed_at=at(2026, 11, 10), **common),
        Plan(id=new_id(), child_id=a2, status="draft", created_at=at(2026, 11, 20),
             **{**common, "approved_by": None})])


def _venues(town) -> None:
    for key in ("a", "b"):
        db.session.get(Venue, town.venues[key]).created_at = at(2026, 1, 1)
    second = Venue(id=new_id(), village_id=town.villages["a"], type="ktv", name="测试a歌厅", status="open",
                   created_at=at(2026, 1, 1))
    closed = Venue(id=new_id(), village_id=town.villages["a"], type="bar", name="测试a酒吧", status="closed",
                   created_at=at(2026, 1, 1))
    db.session.add_all([second, closed])
    db.session.flush()
    first = _inspection(town, town.venues["a"], at(2026, 10, 10), [_fail("verify_identity", "2026-10-20")])
    _inspection(town, town.venues["a"], at(2026, 10, 18), [
        {"item": "verify_identity", "result": "pass", "severity": "high", "deadline": None},
        _fail("staff_trained", "2026-11-30")], again_of=first)
    ktv = _inspection(town, second.id, at(2026, 11, 10), [
        _fail("no_minors", "2026-11-15"), _fail("sign_displayed", "2026-11-20"),
        {"item": "real_name", "result": "na", "severity": "low", "deadline": None}])
    _inspection(town, second.id, at(2026, 11, 17), [
        {"item": "no_minors", "result": "pass", "severity": "high", "deadline": None}], again_of=ktv)


def _checks_and_operations(town) -> None:
    checks = (("a", date(2026, 10, 16), "clear"), ("a", date(2026, 10, 17), "record_found"),
              ("a", date(2026, 11, 17), "clear"), ("b", date(2026, 11, 16), "clear"))
    for village, checked_on, result in checks:
        check = StaffCheck(id=new_id(), employer_kind="venue", employer_id=town.venues[village],
                           village_id=town.villages[village], checked_on=checked_on, result=result)
        check.person_name = "王小二"
        db.session.add(check)
    for day in (date(2026, 10, 16), date(2026, 10, 17), date(2026, 11, 17)):
        db.session.add(JointOperation(id=new_id(), date=day, lead_unit="测试派出所", units=[], member_ids=[]))


def build(town) -> None:
    """Add the records of the report fixture (needs an app context)."""
    _children(town)
    _visits(town)
    _plans(town)
    _venues(town)
    _checks_and_operations(town)
    db.session.commit()
