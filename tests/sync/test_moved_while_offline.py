"""A fact recorded on a phone about a record that moved out of the phone's reach meanwhile (the head
moved the household to another grid while the worker was offline) is still the worker's record: it
is kept under the record's new place, and the phone that filed it is told to let it go."""
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import Clue, PlanProgress

from .test_push_pull_basics import op, pull_all, push

OUT_OF_REACH = {"child_id": ["儿童不存在或不在您的管辖范围内"]}


def _visit(child_id: str, visited_at: datetime, notes: str = "监护人在家") -> dict:
    return op("visit", "create", str(uuid.uuid4()), {
        "child_id": child_id, "visited_at": visited_at.isoformat(), "lat": 29.1, "lon": 113.2,
        "accuracy_m": 10, "answers": {"guardian_present": True}, "notes": notes})


def _move_a1_to_a2(town, login) -> None:
    head = login("head_a", device_id="phone-head-a-0001")
    moved = push(head, [op("household", "update", town.households["a1"], {"grid_id": town.grids["a2"]},
                           base_version=1)])
    assert moved["results"][0]["status"] == "applied"


def _answer(result: dict) -> tuple:
    return result["status"], result.get("errors")


def test_a_visit_made_before_the_move_is_kept_under_the_new_grid(town, login):
    worker = login("worker_a", device_id="phone-worker-a-0001")
    _, cursor = pull_all(worker)
    visited = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    _move_a1_to_a2(town, login)

    visit = _visit(town.children["a1"], visited)
    earlier = _visit(town.children["a1"], visited - timedelta(days=2))
    kept = push(worker, [visit, earlier])  # one run of creates, as a phone's outbox sends them
    assert [_answer(r) for r in kept["results"]] == [("applied", None)] * 2
    assert [r["status"] for r in push(worker, [visit, earlier])["results"]] == ["duplicate"] * 2

    head = login("head_a")
    stored = head.get(f"/api/visits/{visit['id']}").get_json()
    assert (stored["child_id"], stored["grid_id"], stored["worker_id"], stored["notes"]) == (
        town.children["a1"], town.grids["a2"], town.users["worker_a"], "监护人在家")
    child = head.get(f"/api/children/{town.children['a1']}").get_json()
    assert datetime.fromisoformat(child["last_visit_at"]) == visited
    # The filing phone lets go of the visit with the child it no longer holds.
    later, _ = pull_all(worker, cursor)
    assert {(c["entity"], c["id"], c["action"]) for c in later} == {
        ("household", town.households["a1"], "evict"), ("child", town.children["a1"], "evict"),
        ("visit", visit["id"], "evict"), ("visit", earlier["id"], "evict")}
    assert worker.get(f"/api/visits/{visit['id']}").status_code == 404
    # The head of the village, who sees both grids, is sent the visit and no evict for it.
    changes, _ = pull_all(login("head_a", device_id="phone-head-a-0002"))
    assert [(c["action"], c["data"]["grid_id"]) for c in changes if c["id"] == visit["id"]] == [
        ("upsert", town.grids["a2"])]


def test_a_phone_that_had_not_heard_of_the_move_keeps_its_later_visit(town, login):
    worker = login("worker_a", device_id="phone-worker-a-0001")
    pull_all(worker)
    _move_a1_to_a2(town, login)
    visit = _visit(town.children["a1"], datetime.now(UTC))
    assert [_answer(r) for r in push(worker, [visit])["results"]] == [("applied", None)]


def test_a_visit_after_the_phone_was_told_of_the_move_is_refused(town, login):
    worker = login("worker_a", device_id="phone-worker-a-0001")
    pull_all(worker)
    _move_a1_to_a2(town, login)
    pull_all(worker)
    late = push(worker, [_visit(town.children["a1"], datetime.now(UTC))])
    assert [_answer(r) for r in late["results"]] == [("rejected", OUT_OF_REACH)]
    # A phone that never pulled has only the visit's own time to go by.
    fresh = login("worker_a", device_id="phone-worker-a-0002")
    refused = push(fresh, [_visit(town.children["a1"], datetime.now(UTC))])
    assert [_answer(r) for r in refused["results"]] == [("rejected", OUT_OF_REACH)]


def test_a_child_that_was_never_in_reach_stays_out_of_reach(town, login):
    """Another grid's child, also after it moved, whatever time the visit claims."""
    stranger = login("worker_b", device_id="phone-worker-b-0001")
    pull_all(stranger)
    long_ago = datetime.now(UTC) - timedelta(days=30)
    _move_a1_to_a2(town, login)
    results = push(stranger, [_visit(town.children["a1"], long_ago), _visit(town.children["a2"], long_ago)])
    assert [_answer(r) for r in results["results"]] == [("rejected", OUT_OF_REACH)] * 2


def test_a_deleted_child_takes_no_late_visit(app, town, login):
    worker = login("worker_a", device_id="phone-worker-a-0001")
    pull_all(worker)
    visited = datetime.now(UTC) - timedelta(hours=3)
    _move_a1_to_a2(town, login)
    head = login("head_a", device_id="phone-head-a-0001")
    child = head.get(f"/api/children/{town.children['a1']}").get_json()
    gone = push(head, [op("child", "delete", town.children["a1"], base_version=child["version"])])
    assert gone["results"][0]["status"] == "applied"
    refused = push(worker, [_visit(town.children["a1"], visited)])
    assert [_answer(r) for r in refused["results"]] == [("rejected", OUT_OF_REACH)]


def test_a_progress_entry_and_a_clue_filed_offline_follow_the_moved_child(app, town, login):
    worker = login("worker_a", device_id="phone-worker-a-0001")
    plan_id = str(uuid.uuid4())
    made = push(worker, [op("plan", "create", plan_id, {
        "child_id": town.children["a1"], "helper_id": town.users["worker_a"],
        "risk_factors": ["无人照看"], "review_every_days": 30})])
    assert made["results"][0]["status"] == "applied"
    _, cursor = pull_all(worker)
    done = datetime.now(UTC) - timedelta(hours=2)
    _move_a1_to_a2(town, login)

    entry = op("plan_progress", "create", str(uuid.uuid4()), {
        "plan_id": plan_id, "at": done.isoformat(), "note": "已联系学校"})
    clue = op("clue", "create", str(uuid.uuid4()), {"description": "走访时发现异常情况",
                                                    "child_id": town.children["a1"]})
    results = push(worker, [entry, clue])
    assert [_answer(r) for r in results["results"]] == [("applied", None), ("applied", None)]
    shown = login("head_a").get(f"/api/plan_progress/{entry['id']}").get_json()
    assert (shown["plan_id"], shown["note"]) == (plan_id, "已联系学校")
    with app.app_context():
        assert db.session.get(PlanProgress, entry["id"]).grid_id == town.grids["a2"]
        stored = db.session.scalar(select(Clue).where(Clue.id == clue["id"]))
        assert (stored.child_id, stored.village_id, stored.reporter_id) == (
            town.children["a1"], town.villages["a"], town.users["worker_a"])
    later, _ = pull_all(worker, cursor)
    assert ("plan_progress", entry["id"], "evict") in {(c["entity"], c["id"], c["action"]) for c in later}
    assert not [c for c in later if c["id"] == clue["id"]]


def _reassign_worker_a_to_a2(login, town) -> None:
    admin = login("admin", device_id="phone-admin-0001")
    response = admin.patch(f"/api/users/{town.users['worker_a']}", json={"grid_ids": [town.grids["a2"]]})
    assert response.status_code == 200, response.get_json()


def test_a_worker_moved_to_other_grids_keeps_the_visits_made_before(town, login):
    worker = login("worker_a", device_id="phone-worker-a-0001")
    _, cursor = pull_all(worker)
    visited = datetime.now(UTC) - timedelta(hours=3)
    _reassign_worker_a_to_a2(login, town)
    worker = login("worker_a", device_id="phone-worker-a-0001")  # the reassignment ended the session

    visit = _visit(town.children["a1"], visited)
    assert [_answer(r) for r in push(worker, [visit])["results"]] == [("applied", None)]
    stored = login("head_a").get(f"/api/visits/{visit['id']}").get_json()
    assert (stored["child_id"], stored["grid_id"], stored["worker_id"]) == (
        town.children["a1"], town.grids["a1"], town.users["worker_a"])
    # The move between scopes takes the visit off the phone with the rest of the old grid.
    later, _ = pull_all(worker, cursor)
    evicted = {(c["entity"], c["id"]) for c in later if c["action"] == "evict"}
    assert {("child", town.children["a1"]), ("visit", visit["id"])} <= evicted
    # After the phone pulled the reassignment, a new visit to the old grid's child is refused.
    refused = push(worker, [_visit(town.children["a1"], datetime.now(UTC))])
    assert [_answer(r) for r in refused["results"]] == [("rejected", OUT_OF_REACH)]


def test_a_reassignment_opens_no_grid_the_worker_never_had(town, login):
    worker = login("worker_a", device_id="phone-worker-a-0001")
    pull_all(worker)
    _reassign_worker_a_to_a2(login, town)
    worker = login("worker_a", device_id="phone-worker-a-0001")
    long_ago = datetime.now(UTC) - timedelta(days=30)
    refused = push(worker, [_visit(town.children["b1"], long_ago)])
    assert [_answer(r) for r in refused["results"]] == [("rejected", OUT_OF_REACH)]
