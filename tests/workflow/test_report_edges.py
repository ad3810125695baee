"""The monthly report at its window's edges: each record counted once, in the period its own time
puts it, with the children and plans that time says were on the register."""
import uuid
from datetime import datetime

from server.extensions import db
from server.models import Child, Plan, Visit, counted_time, new_id, replaying_at
from server.services import periods, report_figures

from .helpers import TZ


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=TZ)


def figures(head, period: str) -> dict:
    answer = head.get(f"/api/reports/monthly?period={period}")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["figures"]


def op(entity: str, record_id: str, data: dict) -> dict:
    return {"op_id": str(uuid.uuid4()), "entity": entity, "action": "create", "id": record_id,
            "base_version": None, "data": data}


def test_an_inspection_corrected_into_the_next_window_is_counted_once_there(town, login):
    """Synced late, then corrected to a time after the window's end: the original was still counted in
    the first period (the correction was read only up to the window's end), and the correction in the
    next. As a visit is, it is counted once, as corrected, and its failures are open from then on."""
    inspector, head = login("inspector"), login("head_a")
    body = {"venue_id": town.venues["a"], "lat": 29.1, "lon": 113.2, "accuracy_m": 10,
            "answers": [{"item": "verify_identity", "result": "fail"}]}
    before = {period: figures(head, period)["venues"] for period in ("2026-11", "2026-12")}
    first = str(uuid.uuid4())
    with replaying_at(at(2026, 11, 18, 10)):
        made = inspector.post("/api/inspections", json={**body, "id": first,
                                                        "inspected_at": at(2026, 11, 16, 22).isoformat()})
        assert made.status_code == 201, made.get_json()
    with replaying_at(at(2026, 11, 19, 10)):
        fixed = inspector.post("/api/inspections", json={**body, "amends": first, "amend_reason": "时间填错",
                                                         "inspected_at": at(2026, 11, 17, 9).isoformat()})
        assert fixed.status_code == 201, fixed.get_json()
    after = {period: figures(head, period)["venues"] for period in ("2026-11", "2026-12")}
    assert after["2026-11"] == before["2026-11"]
    moved = {key: after["2026-12"][key] - before["2026-12"][key]
             for key in ("inspections", "inspected", "failed_items", "open_violations")}
    assert moved == {"inspections": 1, "inspected": 1, "failed_items": 1, "open_violations": 1}


def test_a_child_registered_and_visited_offline_on_the_last_evening_is_on_that_periods_register(town, login):
    """Synced after midnight: the visit counted in the period by its time, the child by the time the
    server received it, so the report had a child visited who was not on its register."""
    worker, head = login("worker_a", device_id="phone-worker-a-0001"), login("head_a")
    before = {period: figures(head, period)["children"] for period in ("2026-11", "2026-12")}
    kid = str(uuid.uuid4())
    with replaying_at(at(2026, 11, 17, 0, 30)):
        child = {"household_id": town.households["a1"], "name": "甲新", "sex": "M", "categories": ["migrant"],
                 "registered_at": at(2026, 11, 16, 23, 30).isoformat()}
        visit = {"child_id": kid, "lat": 29.1, "lon": 113.2, "accuracy_m": 10, "answers": {},
                 "visited_at": at(2026, 11, 16, 23, 45).isoformat()}
        pushed = worker.post("/api/sync/push", json={
            "device_id": "phone-worker-a-0001", "device_time": at(2026, 11, 17, 0, 30).isoformat(),
            "ops": [op("child", kid, child), op("visit", str(uuid.uuid4()), visit)]})
        results = pushed.get_json()["results"]
        assert [r["status"] for r in results] == ["applied", "applied"], results
    after = {period: figures(head, period)["children"] for period in ("2026-11", "2026-12")}
    grew = {period: {key: after[period][key] - before[period][key] for key in ("registered", "active")}
            for period in after}
    assert grew == {"2026-11": {"registered": 1, "active": 1}, "2026-12": {"registered": 0, "active": 1}}
    assert after["2026-11"]["by_category"]["migrant"] == before["2026-11"]["by_category"]["migrant"] + 1


def test_a_child_registered_in_error_takes_its_plans_out_of_the_report_as_its_visits(app, town):
    with app.app_context():
        kid, village = town.children["a1"], town.villages["a"]
        child = db.session.get(Child, kid)
        child.created_at = child.registered_at = at(2026, 10, 1)
        when = at(2026, 11, 1, 10)
        placed = {"grid_id": town.grids["a1"], "village_id": village}
        db.session.add(Visit(id=new_id(), child_id=kid, household_id=town.households["a1"], **placed,
                             worker_id=town.users["worker_a"], visited_at=when, received_at=when,
                             counted_at=counted_time(when, when), flags=[], review_status="none"))
        db.session.add(Plan(id=new_id(), child_id=kid, **placed, helper_id=town.users["worker_a"],
                            status="closed", created_at=at(2026, 11, 1, 11), approved_by=town.users["head_a"],
                            approved_at=at(2026, 11, 2), closed_at=at(2026, 11, 3)))
        db.session.commit()
        end = periods.window_bounds("2026-11")[1]
        before = report_figures.village_figures(village, "2026-11", end)
        db.session.get(Child, kid).deleted_at = at(2026, 11, 5)
        db.session.commit()
        after = report_figures.village_figures(village, "2026-11", end)
        assert (after["visits"]["total"], after["plans"]) == (
            before["visits"]["total"] - 1, {**before["plans"], "drafted": before["plans"]["drafted"] - 1,
                                            "approved": before["plans"]["approved"] - 1,
                                            "closed": before["plans"]["closed"] - 1})
