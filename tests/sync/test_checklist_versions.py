"""A phone offline across a release that changed a checklist: its visits and inspections were
answered on the version it had, and are checked against that version, not refused for items or
options the release removed."""
import uuid
from datetime import date, timedelta

from server.services import checklists

from ..services.test_checklists import release, release_home_visit
from .test_push_pull_basics import op, push

NEEDS_REFUSED = {"answers.needs": ["选项无效"]}


def _visit(child_id: str, version: int | None, answers: dict) -> dict:
    return op("visit", "create", str(uuid.uuid4()), {
        "child_id": child_id, "visited_at": "2026-11-27T10:00:00+08:00", "lat": 29.1, "lon": 113.2,
        "accuracy_m": 10, "template_version": version, "answers": answers})


def _inspection(venue_id: str, version: int | None, answers: list) -> dict:
    return op("inspection", "create", str(uuid.uuid4()), {
        "venue_id": venue_id, "inspected_at": "2026-11-27T10:00:00+08:00", "template_version": version,
        "answers": answers})


def _answers(result: dict) -> tuple:
    return result["status"], result.get("errors")


def test_a_visit_answered_on_the_version_before_a_release_is_checked_by_it(data_copy, town, login):
    dropped = release_home_visit(data_copy)
    worker = login("worker_a", device_id="phone-worker-a-0001")
    answered = {"needs": [dropped], "guardian_present": True}
    results = push(worker, [_visit(town.children["a1"], 1, answered), _visit(town.children["a1"], 2, answered),
                            _visit(town.children["a1"], None, answered)])["results"]
    assert [_answers(r) for r in results] == [("applied", None), ("rejected", NEEDS_REFUSED),
                                              ("rejected", NEEDS_REFUSED)]
    shown = worker.get(f"/api/visits/{results[0]['id']}").get_json()
    assert (shown["template_version"], shown["answers"]) == (1, answered)


def test_an_inspection_answered_on_the_version_before_a_release_is_checked_by_it(data_copy, town, login):
    release(data_copy, "lodging.json",
            lambda d: d.update(items=[i for i in d["items"] if i["key"] != "staff_trained"]))
    inspector = login("inspector", device_id="phone-inspector-0001")
    failed = [{"item": "staff_trained", "result": "fail"}, {"item": "verify_identity", "result": "pass"}]
    results = push(inspector, [_inspection(town.venues["a"], 1, failed),
                               _inspection(town.venues["a"], 2, failed)])["results"]
    assert [_answers(r) for r in results] == [
        ("applied", None), ("rejected", {"answers": ["未知的检查项：staff_trained"]})]
    shown = inspector.get(f"/api/inspections/{results[0]['id']}").get_json()
    due = (date(2026, 11, 27) + timedelta(days=checklists.severity_deadline_days("low"))).isoformat()
    assert (shown["template_version"], [(a["item"], a["result"], a["deadline"]) for a in shown["answers"]]) == (
        1, [("staff_trained", "fail", due), ("verify_identity", "pass", None)])
    assert checklists.item_labels("lodging", 1)["staff_trained"] == '前台人员知晓"五必须"要求'
    assert "staff_trained" not in checklists.item_labels("lodging", 2)
