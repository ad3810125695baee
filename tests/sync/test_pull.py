"""Pull: a first pull is the scope, paging is gapless, scope changes evict, cursors are checked."""
import base64
import json
import uuid

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent
from tests.factories import valid_id_number
from tests.routes.helpers import assert_error
from tests.sync.test_push_pull_basics import op, pull_all, push

PATHS = {"household": "households", "child": "children", "visit": "visits", "venue": "venues",
         "inspection": "inspections", "joint_operation": "operations", "plan": "plans",
         "plan_progress": "plan_progress", "staff_check": "staff_checks", "clue": "clues"}
ROLE_ENTITIES = {
    "worker_a": {"household", "child", "visit", "plan", "plan_progress"},
    "head_a": {"household", "child", "visit", "plan", "plan_progress", "venue", "inspection",
               "joint_operation", "staff_check"},
    "inspector": {"venue", "inspection", "joint_operation", "staff_check"},
    "police": {"clue", "venue", "inspection", "joint_operation", "staff_check"},
    "admin": set(PATHS),
}


def device(username):
    return f"phone-{username}-pull"


def visit_op(child_id, **extra):
    return op("visit", "create", str(uuid.uuid4()), {
        "child_id": child_id, "visited_at": "2026-11-28T09:00:00+08:00", "lat": 29.1, "lon": 113.2,
        "accuracy_m": 10, "answers": {"guardian_present": True}, **extra})


def seed(town, login):
    """Add records of every kind to the town, in several grids and villages; return their ids."""
    worker_a = login("worker_a", device_id=device("worker_a"))
    worker_b = login("worker_b", device_id=device("worker_b"))
    admin = login("admin", device_id=device("admin"))
    inspector = login("inspector", device_id=device("inspector"))
    a_child, b_child = str(uuid.uuid4()), str(uuid.uuid4())
    plan_id = str(uuid.uuid4())
    results = push(worker_a, [
        op("child", "create", a_child, {"household_id": town.households["a1"], "name": "甲新",
                                        "sex": "M", "categories": ["migrant"]}),
        visit_op(a_child), visit_op(town.children["a1"]),
        op("plan", "create", plan_id, {"child_id": a_child, "helper_id": town.users["worker_a"],
                                       "risk_factors": ["无人照看"], "review_every_days": 30}),
        op("plan_progress", "create", str(uuid.uuid4()), {"plan_id": plan_id,
                                                          "at": "2026-11-28T09:30:00+08:00",
                                                          "note": "已联系"}),
        op("clue", "create", str(uuid.uuid4()), {"child_id": a_child, "description": "可疑",
                                                 "place": "村口"})])["results"]
    assert [r["status"] for r in results] == ["applied"] * 6, results
    results = push(worker_b, [
        op("child", "create", b_child, {"household_id": town.households["b1"], "name": "乙新",
                                        "sex": "F", "categories": ["left_behind"]}),
        visit_op(b_child)])["results"]
    assert [r["status"] for r in results] == ["applied"] * 2, results
    results = push(admin, [
        op("household", "create", str(uuid.uuid4()), {"grid_id": town.grids["a2"],
                                                       "address": "二组3号"}),
        op("joint_operation", "create", str(uuid.uuid4()), {"date": "2026-11-20",
                                                            "lead_unit": "派出所"}),
        op("staff_check", "create", str(uuid.uuid4()), {
            "person_name": "张三", "id_number": valid_id_number("43069919900101001"), "employer_kind": "venue",
            "employer_id": town.venues["a"], "checked_on": "2026-11-01", "result": "clear"})]
    )["results"]
    assert [r["status"] for r in results] == ["applied"] * 3, results
    results = push(inspector, [op("inspection", "create", str(uuid.uuid4()), {
        "venue_id": town.venues["b"], "inspected_at": "2026-11-28T09:00:00+08:00",
        "answers": [{"item": "verify_identity", "result": "fail"}]})])["results"]
    assert [r["status"] for r in results] == ["applied"], results
    return {"a_child": a_child, "b_child": b_child, "plan": plan_id}


def rest_scope(api, entities) -> dict:
    """Return {(entity, id): record} of everything the REST lists show the caller."""
    records = {}
    for entity, path in PATHS.items():
        response = api.get(f"/api/{path}?per_page=500")
        if entity not in entities:
            assert response.status_code == 404, (entity, response.get_json())
            continue
        body = response.get_json()
        assert response.status_code == 200 and body["total"] == len(body["rows"]), body
        records.update({(entity, row["id"]): row for row in body["rows"]})
    return records


@pytest.mark.parametrize("username", sorted(ROLE_ENTITIES))
def test_first_pull_is_exactly_the_scope_once(town, login, username):
    seed(town, login)
    api = login(username, device_id=device(username) + "-2")
    changes, _ = pull_all(api)
    keys = [(c["entity"], c["id"]) for c in changes]
    assert len(keys) == len(set(keys))
    expected = rest_scope(api, ROLE_ENTITIES[username])
    assert {c["entity"] for c in changes} <= ROLE_ENTITIES[username]
    assert {key: (c["action"], c["version"], c["data"]) for key, c in zip(keys, changes)} == {
        key: ("upsert", row["version"], row) for key, row in expected.items()}


def test_paging_with_limit_one_has_no_gaps_or_duplicates(town, login):
    seed(town, login)
    api = login("head_a", device_id=device("head_a"))
    everything, final = pull_all(api)
    assert len(everything) > 5
    pages, cursor = [], None
    while True:
        response = api.get("/api/sync/pull?limit=1" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == {"changes", "cursor", "more"}
        pages.append(body)
        cursor = body["cursor"]
        if not body["more"]:
            break
    assert all(len(p["changes"]) == 1 for p in pages[:-1])
    assert all(p["more"] for p in pages[:-1]) and len(pages[-1]["changes"]) <= 1
    assert [c for p in pages for c in p["changes"]] == everything
    assert cursor == final
    again = api.get(f"/api/sync/pull?cursor={cursor}").get_json()
    assert again == {"changes": [], "cursor": cursor, "more": False}


def test_grid_worker_never_pulls_another_grids_records(town, login):
    ids = seed(town, login)
    worker = login("worker_a", device_id=device("worker_a"))
    changes, cursor = pull_all(worker)
    grids = {c["data"]["grid_id"] for c in changes if c["entity"] != "plan_progress"}
    assert grids == {town.grids["a1"]}
    pulled = {c["id"] for c in changes}
    assert not pulled & {town.households["a2"], town.households["b1"], town.children["a2"],
                         town.children["b1"], ids["b_child"]}
    other = login("worker_b", device_id=device("worker_b"))
    push(other, [visit_op(ids["b_child"]),
                 op("child", "update", town.children["b1"], {"school": "乙小学"}, base_version=1)])
    assert pull_all(worker, cursor)[0] == []


def test_inspector_pulls_venues_but_no_child_records(town, login):
    seed(town, login)
    api = login("inspector", device_id=device("inspector"))
    changes, _ = pull_all(api)
    assert {c["entity"] for c in changes} == {"venue", "inspection", "joint_operation",
                                              "staff_check"}
    assert {c["id"] for c in changes if c["entity"] == "venue"} == set(town.venues.values())


def test_police_pull_clues_and_the_reporter_never_pulls_its_clue_back(town, login):
    worker = login("worker_a", device_id=device("worker_a"))
    _, cursor = pull_all(worker)
    clue_id = str(uuid.uuid4())
    result = push(worker, [op("clue", "create", clue_id, {"child_id": town.children["a1"],
                                                          "description": "夜里有陌生人",
                                                          "place": "村口小卖部"})])
    assert result["results"][0]["status"] == "applied"
    assert pull_all(worker, cursor)[0] == []
    assert all(c["entity"] != "clue" for c in pull_all(worker)[0])
    police = login("police", device_id=device("police"))
    clues = {c["id"]: c for c in pull_all(police)[0] if c["entity"] == "clue"}
    assert set(clues) == {town.clues["a1"], clue_id}
    assert clues[clue_id]["action"] == "upsert"
    assert clues[clue_id]["data"] == police.get(f"/api/clues/{clue_id}").get_json()
    assert clues[clue_id]["data"]["description"] == "夜里有陌生人"


def test_soft_delete_comes_back_as_delete(town, login):
    worker = login("worker_a", device_id=device("worker_a"))
    head = login("head_a", device_id=device("head_a"))
    _, cursor = pull_all(worker)
    _, head_cursor = pull_all(head)
    result = push(worker, [op("child", "delete", town.children["a1"], base_version=1)])
    assert result["results"][0] == {"op_id": result["results"][0]["op_id"], "status": "applied",
                                    "id": town.children["a1"], "version": 2}
    gone = {"entity": "child", "id": town.children["a1"], "version": 2, "action": "delete",
            "data": None}
    assert pull_all(worker, cursor)[0] == [gone]
    assert pull_all(head, head_cursor)[0] == [gone]
    assert worker.get(f"/api/children/{town.children['a1']}").status_code == 404


def test_moving_a_household_evicts_it_from_the_old_grid_and_delivers_it_to_the_new(town, login):
    old = login("worker_a", device_id=device("worker_a"))
    new = login("worker_b", device_id=device("worker_b"))
    _, old_cursor = pull_all(old)
    _, new_cursor = pull_all(new)
    admin = login("admin", device_id=device("admin"))
    moved = push(admin, [op("household", "update", town.households["a1"],
                            {"grid_id": town.grids["b1"]}, base_version=1)])
    assert moved["results"][0]["status"] == "applied"
    household, child = town.households["a1"], town.children["a1"]
    old_changes, _ = pull_all(old, old_cursor)
    assert sorted(old_changes, key=lambda c: c["entity"]) == [
        {"entity": "child", "id": child, "version": 2, "action": "evict", "data": None},
        {"entity": "household", "id": household, "version": 2, "action": "evict", "data": None}]
    new_changes, _ = pull_all(new, new_cursor)
    assert sorted(new_changes, key=lambda c: c["entity"]) == [
        {"entity": "child", "id": child, "version": 2, "action": "upsert",
         "data": new.get(f"/api/children/{child}").get_json()},
        {"entity": "household", "id": household, "version": 2, "action": "upsert",
         "data": new.get(f"/api/households/{household}").get_json()}]
    assert {c["data"]["grid_id"] for c in new_changes} == {town.grids["b1"]}


def _reassign(login, town, username, grid):
    admin = login("admin", device_id=device("admin"))
    response = admin.patch(f"/api/users/{town.users[username]}", json={"grid_ids": [grid]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["scope"]["grid_ids"] == [grid]


def test_reassigning_a_workers_grids_evicts_the_old_and_delivers_the_new(town, login):
    worker = login("worker_a", device_id=device("worker_a"))
    changes, cursor = pull_all(worker)
    assert {c["id"] for c in changes} == {town.households["a1"], town.children["a1"]}
    _reassign(login, town, "worker_a", town.grids["a2"])
    assert worker.get(f"/api/sync/pull?cursor={cursor}").status_code == 401
    worker = login("worker_a", device_id=device("worker_a"))
    later, _ = pull_all(worker, cursor)
    assert [(c["entity"], c["id"], c["action"], c["data"]) for c in later[:2]] == [
        ("household", town.households["a1"], "evict", None),
        ("child", town.children["a1"], "evict", None)]
    assert later[2:] == [
        {"entity": "household", "id": town.households["a2"], "version": 1, "action": "upsert",
         "data": worker.get(f"/api/households/{town.households['a2']}").get_json()},
        {"entity": "child", "id": town.children["a2"], "version": 1, "action": "upsert",
         "data": worker.get(f"/api/children/{town.children['a2']}").get_json()}]


@pytest.mark.parametrize("last_pull", ["before_they_left", "after_they_left"])
def test_a_move_names_nothing_that_left_the_new_scope_before_it(town, login, last_pull):
    """A phone moved to a grid never held what had left that grid, or been deleted there, before it
    came: it is told nothing of those ids, as a first pull is not, whether they left before its last
    pull (the move's own pages) or between that pull and the move (the pages after it)."""
    if last_pull == "before_they_left":
        _, cursor = pull_all(login("worker_a", device_id=device("worker_a")))
    admin = login("admin", device_id=device("admin"))
    gone = str(uuid.uuid4())
    results = push(admin, [
        op("household", "update", town.households["b1"], {"grid_id": town.grids["b2"]}, base_version=1),
        op("household", "create", gone, {"grid_id": town.grids["b1"], "address": "一组9号"})])["results"]
    assert [r["status"] for r in results] == ["applied"] * 2, results
    assert push(admin, [op("household", "delete", gone, {}, base_version=1)])["results"][0]["status"] \
        == "applied"
    if last_pull == "after_they_left":
        _, cursor = pull_all(login("worker_a", device_id=device("worker_a")))
    response = admin.patch(f"/api/users/{town.users['worker_a']}",
                           json={"grid_ids": [town.grids["b1"]], "village_id": town.villages["b"]})
    assert response.status_code == 200, response.get_json()
    worker = login("worker_a", device_id=device("worker_a"))
    later, _ = pull_all(worker, cursor)
    assert {(c["entity"], c["id"], c["action"]) for c in later} == {
        ("household", town.households["a1"], "evict"), ("child", town.children["a1"], "evict")}
    assert worker.get(f"/api/households/{town.households['b1']}").status_code == 404


@pytest.mark.parametrize("limit", [1, 500])
def test_a_move_still_takes_off_what_the_phone_held_where_the_scopes_overlap(town, login, limit):
    """Given a second grid, the phone keeps its first: a record it held there, deleted between its
    last pull and the move, still comes as a tombstone; one of the new grid, made and deleted in
    that time, is never named. Page by page too, where the move's tail spans pages."""
    worker = login("worker_a", device_id=device("worker_a"))
    _, cursor = pull_all(worker)
    admin = login("admin", device_id=device("admin"))
    gone = str(uuid.uuid4())
    results = push(admin, [
        op("household", "create", gone, {"grid_id": town.grids["a2"], "address": "二组9号"}),
        op("child", "delete", town.children["a1"], {}, base_version=1)])["results"]
    assert [r["status"] for r in results] == ["applied"] * 2, results
    assert push(admin, [op("household", "delete", gone, {}, base_version=1)])["results"][0]["status"] \
        == "applied"
    response = admin.patch(f"/api/users/{town.users['worker_a']}",
                           json={"grid_ids": [town.grids["a1"], town.grids["a2"]]})
    assert response.status_code == 200, response.get_json()
    worker = login("worker_a", device_id=device("worker_a"))
    later = []
    while True:
        body = worker.get(f"/api/sync/pull?cursor={cursor}&limit={limit}").get_json()
        later += body["changes"]
        cursor = body["cursor"]
        if not body["more"]:
            break
    assert sorted((c["entity"], c["id"], c["action"]) for c in later) == sorted([
        ("child", town.children["a1"], "delete"), ("household", town.households["a2"], "upsert"),
        ("child", town.children["a2"], "upsert")])
    assert worker.get(f"/api/sync/pull?cursor={cursor}").get_json()["changes"] == []


@pytest.mark.parametrize("limit", [1, 500])
def test_a_record_held_that_moved_into_the_new_grid_and_was_deleted_there_is_taken_off(town, login, limit):
    """Its tombstone lies in the new grid only, before the move, where the phone is told of none; the
    place it left, in the old grid, says it is deleted instead (found by a review)."""
    worker = login("worker_a", device_id=device("worker_a"))
    changes, cursor = pull_all(worker)
    held = _apply({}, changes)
    assert ("child", town.children["a1"]) in held
    admin = login("admin", device_id=device("admin"))
    assert push(admin, [op("household", "update", town.households["a1"], {"grid_id": town.grids["a2"]},
                           base_version=1)])["results"][0]["status"] == "applied"
    assert push(admin, [op("child", "delete", town.children["a1"], {}, base_version=2)]
                )["results"][0]["status"] == "applied"
    response = admin.patch(f"/api/users/{town.users['worker_a']}",
                           json={"grid_ids": [town.grids["a1"], town.grids["a2"]]})
    assert response.status_code == 200, response.get_json()
    worker = login("worker_a", device_id=device("worker_a"))
    pages, _ = _pages(worker, cursor, limit)
    held = _apply(held, [c for page in pages for c in page])
    assert worker.get(f"/api/children/{town.children['a1']}").status_code == 404
    assert set(held) == {("household", town.households["a1"]), ("household", town.households["a2"]),
                         ("child", town.children["a2"])}


def test_reassignment_evicts_records_changed_after_the_cursor(town, login):
    """A record the phone holds and that changed after its cursor must still be evicted."""
    worker = login("worker_a", device_id=device("worker_a"))
    _, cursor = pull_all(worker)
    head = login("head_a", device_id=device("head_a"))
    edited = push(head, [op("child", "update", town.children["a1"], {"school": "甲小学"},
                            base_version=1)])
    assert edited["results"][0]["status"] == "applied"
    _reassign(login, town, "worker_a", town.grids["a2"])
    worker = login("worker_a", device_id=device("worker_a"))
    later, _ = pull_all(worker, cursor)
    evicted = {(c["entity"], c["id"]) for c in later if c["action"] == "evict"}
    assert evicted == {("household", town.households["a1"]), ("child", town.children["a1"])}
    upserted = {(c["entity"], c["id"]) for c in later if c["action"] == "upsert"}
    assert upserted == {("household", town.households["a2"]), ("child", town.children["a2"])}


def test_reassignment_evicts_records_that_left_the_old_grid_after_the_cursor(town, login):
    worker = login("worker_a", device_id=device("worker_a"))
    _, cursor = pull_all(worker)
    admin = login("admin", device_id=device("admin"))
    moved = push(admin, [op("household", "update", town.households["a1"],
                            {"grid_id": town.grids["b1"]}, base_version=1)])
    assert moved["results"][0]["status"] == "applied"
    _reassign(login, town, "worker_a", town.grids["a2"])
    worker = login("worker_a", device_id=device("worker_a"))
    later, _ = pull_all(worker, cursor)
    final = {}
    for change in later:
        final[(change["entity"], change["id"])] = change["action"]
    assert final == {("household", town.households["a1"]): "evict",
                     ("child", town.children["a1"]): "evict",
                     ("household", town.households["a2"]): "upsert",
                     ("child", town.children["a2"]): "upsert"}


# The last: a number too large for an int ({"s":1e400}).
@pytest.mark.parametrize("cursor", ["not-base64!!", "eyJ4IjoxfQ", "eyJzIjotNX0", "e30", "eyJzIjoiYSJ9",
                                    "eyJzIjoxZTQwMH0.AAAA"])
def test_malformed_cursor_is_400(town, login, cursor):
    api = login("worker_a", device_id=device("worker_a"))
    assert_error(api.get(f"/api/sync/pull?cursor={cursor}"), 400, "bad_cursor")


def test_cursor_older_than_the_tombstone_floor_must_resync(app, town, login):
    worker = login("worker_a", device_id=device("worker_a"))
    _, old_cursor = pull_all(worker)
    push(worker, [op("child", "delete", town.children["a1"], base_version=1)])
    _, fresh_cursor = pull_all(worker, old_cursor)
    # `make run` prunes at each start (a server that runs for weeks, from cron): within the
    # retention (SYNC_TOMBSTONE_DAYS, 90) the tombstone stays and the old cursor still reads it.
    runner = app.test_cli_runner()
    assert runner.invoke(args=["prune-tombstones"]).output == "pruned 0 tombstones older than 90 days\n"
    kept = pull_all(worker, old_cursor)[0]
    assert [(c["id"], c["action"]) for c in kept] == [(town.children["a1"], "delete")]
    app.config["SYNC_TOMBSTONE_DAYS"] = 0
    assert runner.invoke(args=["prune-tombstones"]).output == "pruned 1 tombstones older than 0 days\n"
    assert_error(worker.get(f"/api/sync/pull?cursor={old_cursor}"), 410, "resync_required")
    assert pull_all(worker, fresh_cursor) == ([], fresh_cursor)
    changes, _ = pull_all(worker)
    assert {(c["entity"], c["id"], c["action"]) for c in changes} == {
        ("household", town.households["a1"], "upsert")}


@pytest.mark.parametrize("limit", ["0", "501", "-1", "x"])
def test_limit_out_of_range_is_422(town, login, limit):
    api = login("worker_a", device_id=device("worker_a"))
    assert_error(api.get(f"/api/sync/pull?limit={limit}"), 422, "validation_error",
                 field_names={"limit"})


@pytest.mark.parametrize("username", ["head_a", "admin"])
def test_a_household_moved_within_the_callers_scope_is_never_evicted(town, login, username):
    """Moved from grid a1 to a2 of the same village: the village head and the town office see it
    throughout, so a pull sends the new state and never takes it off the phone, even for a page."""
    reader = login(username, device_id=device(username))
    _, cursor = pull_all(reader)
    admin = login("admin", device_id=device("admin") + "-mover")
    moved = push(admin, [op("household", "update", town.households["a1"],
                            {"grid_id": town.grids["a2"]}, base_version=1)])
    assert moved["results"][0]["status"] == "applied"
    pages, _ = _pages(reader, cursor, 1)
    changes = [change for page in pages for change in page]
    assert sorted((c["entity"], c["id"], c["action"]) for c in changes) == [
        ("child", town.children["a1"], "upsert"), ("household", town.households["a1"], "upsert")]
    assert {c["data"]["grid_id"] for c in changes} == {town.grids["a2"]}


def _apply(held: dict, changes: list[dict]) -> dict:
    for change in changes:
        key = (change["entity"], change["id"])
        if change["action"] == "upsert":
            held[key] = change["data"]
        else:
            held.pop(key, None)
    return held


def _pages(api, cursor, limit):
    pages = []
    while True:
        body = api.get(f"/api/sync/pull?limit={limit}&cursor={cursor}").get_json()
        pages.append(body["changes"])
        cursor = body["cursor"]
        if not body["more"]:
            return pages, cursor


@pytest.mark.parametrize("limit", [1, 2, 3, 500])
def test_a_reassignment_is_paged_by_limit_and_ends_with_exactly_the_new_scope(town, login, limit):
    worker = login("worker_a", device_id=device("worker_a"))
    push(worker, [visit_op(town.children["a1"]) for _ in range(4)])
    admin = login("admin", device_id=device("admin"))
    push(admin, [op("household", "create", str(uuid.uuid4()), {"grid_id": town.grids["a2"],
                                                                "address": f"二组{n}号"}) for n in range(5)])
    changes, cursor = pull_all(worker)
    held = _apply({}, changes)
    assert len(held) == 6
    _reassign(login, town, "worker_a", town.grids["a2"])
    worker = login("worker_a", device_id=device("worker_a"))
    pages, _ = _pages(worker, cursor, limit)
    assert all(len(page) <= limit for page in pages)
    changes = [c for page in pages for c in page]
    assert {(c["entity"], c["id"]) for c in changes if c["action"] == "evict"} == set(held)
    expected = {key: row for key, row in rest_scope(worker, ROLE_ENTITIES["worker_a"]).items()}
    assert len(expected) == 7
    assert _apply(held, changes) == expected


def test_a_second_reassignment_in_the_middle_of_a_paged_one_asks_for_a_full_resync(town, login):
    worker = login("worker_a", device_id=device("worker_a"))
    _, cursor = pull_all(worker)
    _reassign(login, town, "worker_a", town.grids["a2"])
    worker = login("worker_a", device_id=device("worker_a"))
    first = worker.get(f"/api/sync/pull?limit=1&cursor={cursor}").get_json()
    assert first["more"] and len(first["changes"]) == 1
    _reassign(login, town, "worker_a", town.grids["a1"])
    worker = login("worker_a", device_id=device("worker_a"))
    assert_error(worker.get(f"/api/sync/pull?cursor={first['cursor']}"), 410, "resync_required")


@pytest.mark.parametrize("state", [{"p": {}, "ph": "sideways", "at": 0}, {"p": [], "ph": "evict", "at": 0},
                                   {"p": {}, "ph": "add", "at": -3}, {"ph": "add", "at": 0}])
def test_malformed_move_state_in_a_cursor_is_400(town, login, state):
    raw = json.dumps({"s": 1, "sc": {"r": "grid_worker"}, "rs": state}).encode()
    token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    api = login("worker_a", device_id=device("worker_a"))
    assert_error(api.get(f"/api/sync/pull?cursor={token}"), 400, "bad_cursor")


def test_a_cursor_made_up_or_issued_to_someone_else_must_resync(town, login):
    worker = login("worker_a", device_id=device("worker_a"))
    _, mine = pull_all(worker)
    # Made up, claiming the town admin's scope: a move from it would list as evictions the ids of
    # records the caller may not see (the other village's children, the clues).
    forged = base64.urlsafe_b64encode(json.dumps({"s": 0, "sc": {"r": "town_admin"}}).encode()).decode()
    forged = forged.rstrip("=")
    other = login("worker_b", device_id=device("worker_b"))
    _, theirs = pull_all(other)
    outside_ascii = f"{mine.split('.')[0]}.%C3%A9"  # a signature part the comparison once choked on (500)
    for cursor in (forged, f"{forged}.{mine.split('.')[1]}", theirs, outside_ascii):
        assert_error(worker.get(f"/api/sync/pull?cursor={cursor}"), 410, "resync_required")
    assert worker.get(f"/api/sync/pull?cursor={mine}").get_json()["changes"] == []


def test_a_venue_moved_to_another_village_takes_its_inspections_along(town, login):
    inspector = login("inspector")
    inspection = inspector.post("/api/inspections", json={
        "venue_id": town.venues["a"], "inspected_at": "2026-11-20T10:00:00+08:00",
        "answers": [{"item": "verify_identity", "result": "fail"}]}).get_json()
    head_a = login("head_a", device_id=device("head_a"))
    head_b = login("head_b", device_id=device("head_b"))
    _, cursor_a = pull_all(head_a)
    _, cursor_b = pull_all(head_b)
    admin = login("admin", device_id=device("admin"))
    moved = push(admin, [op("venue", "update", town.venues["a"], {"village_id": town.villages["b"]},
                            base_version=1)])
    assert [r["status"] for r in moved["results"]] == ["applied"]
    left, _ = pull_all(head_a, cursor_a)
    came, _ = pull_all(head_b, cursor_b)
    assert {(c["entity"], c["id"], c["action"]) for c in left} == {
        ("venue", town.venues["a"], "evict"), ("inspection", inspection["id"], "evict")}
    assert {(c["entity"], c["id"], c["action"]) for c in came} == {
        ("venue", town.venues["a"], "upsert"), ("inspection", inspection["id"], "upsert")}
    assert [i["id"] for i in head_b.get("/api/inspections").get_json()["rows"]] == [inspection["id"]]
    assert head_a.get("/api/inspections").get_json()["rows"] == []


def test_a_first_pull_after_a_move_names_nothing_that_left_the_scope(town, login):
    """A new phone holds nothing to take off: it gets what is in its scope, not the ids and versions
    of records that moved out of it before."""
    admin = login("admin", device_id=device("admin"))
    assert push(admin, [op("household", "update", town.households["a1"], {"grid_id": town.grids["b1"]},
                           base_version=1)])["results"][0]["status"] == "applied"
    head = login("head_a", device_id=device("head_a"))
    changes, _ = pull_all(head)
    assert {c["action"] for c in changes} == {"upsert"}
    assert not {town.households["a1"], town.children["a1"]} & {c["id"] for c in changes}
    # Page by page too: every page of the first pull is a phone that held nothing.
    paged, cursor = [], None
    while True:
        page = head.get("/api/sync/pull?limit=1" + (f"&cursor={cursor}" if cursor else "")).get_json()
        paged += page["changes"]
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert paged == changes
    # After it, a move out is a tombstone the phone needs.
    assert push(login("admin", device_id=device("admin")), [op("household", "update", town.households["a2"], {
        "grid_id": town.grids["b1"]}, base_version=1)])["results"][0]["status"] == "applied"
    assert ("household", town.households["a2"], "evict") in {
        (c["entity"], c["id"], c["action"]) for c in pull_all(head, cursor)[0]}


def test_a_record_that_leaves_the_scope_while_its_page_is_read_is_evicted_not_sent(town, login, monkeypatch):
    """PostgreSQL reads each statement of a pull as committed then: a move that commits between
    reading the log and reading the records must not send the moved record's data to the grid it left.
    Played here by moving the household inside the pull, right after its records are read."""
    from server.extensions import db
    from server.models import Child, Household
    from server.sync import pull as pull_module
    worker = login("worker_a", device_id=device("worker_a"))
    _, cursor = pull_all(worker)
    admin = login("admin", device_id=device("admin"))
    assert push(admin, [op("household", "update", town.households["a1"], {"address": "改过的地址"},
                           base_version=1)])["results"][0]["status"] == "applied"
    read = pull_module.views.read

    def read_then_move(model, ids):
        records = read(model, ids)
        if model is Household:
            moved, home = {"grid_id": town.grids["b1"]}, town.households["a1"]
            db.session.execute(db.update(Household).where(Household.id == home).values(moved))
            db.session.execute(db.update(Child).where(Child.household_id == home).values(moved))
        return records
    monkeypatch.setattr(pull_module.views, "read", read_then_move)
    changes, _ = pull_all(worker, cursor)
    assert [(c["entity"], c["id"], c["action"], c["data"]) for c in changes] == [
        ("household", town.households["a1"], "evict", None)]


def test_a_cursor_ahead_of_the_log_must_resync(app, town, login):
    """A database restored from a backup under the same key: a phone's cursor from after the backup
    would read nothing of what is written anew, and keep what the server no longer has."""
    from server.extensions import db
    from server.models import ChangeLog, Counter
    worker = login("worker_a", device_id=device("worker_a"))
    _, before = pull_all(worker)
    push(worker, [visit_op(town.children["a1"])])
    _, after = pull_all(worker, before)
    with app.app_context():
        seq = db.session.scalar(db.select(db.func.max(ChangeLog.seq)))
        db.session.execute(db.delete(ChangeLog).where(ChangeLog.seq > seq - 2))
        db.session.execute(db.update(Counter).where(Counter.name == "change").values(value=seq - 2))
        db.session.commit()
    assert_error(worker.get(f"/api/sync/pull?cursor={after}"), 410, "resync_required")
    assert pull_all(worker, before)[1]


def test_a_prune_while_a_page_is_read_asks_for_a_resync(app, town, login, monkeypatch):
    """The tombstones a page would send, pruned between reading the floor and reading the rows:
    the page must not answer as if there were none."""
    from server.sync import pull as pull_module
    worker = login("worker_a", device_id=device("worker_a"))
    _, cursor = pull_all(worker)
    push(worker, [op("child", "delete", town.children["a1"], base_version=1)])
    rows = pull_module._log_rows

    def prune_first(*args):
        pull_module.prune_tombstones(-1)
        return rows(*args)
    monkeypatch.setattr(pull_module, "_log_rows", prune_first)
    assert_error(worker.get(f"/api/sync/pull?cursor={cursor}"), 410, "resync_required")


def test_the_cursor_a_push_answers_with_misses_nothing_written_before_it(town, login):
    """API.md gives a push's answer a cursor: a client pulling from it must not skip what others
    wrote before the push (it is where the phone held, or the start)."""
    worker = login("worker_a", device_id=device("worker_a"))
    _, held = pull_all(worker)
    admin = login("admin", device_id=device("admin"))
    assert push(admin, [op("household", "update", town.households["a1"], {"address": "村委会旁"},
                           base_version=1)])["results"][0]["status"] == "applied"
    answered = worker.post("/api/sync/push", json={"device_id": worker.device_id, "cursor": held,
                                                   "ops": [visit_op(town.children["a1"])]}).get_json()
    assert answered["cursor"] == held
    changes, _ = pull_all(worker, answered["cursor"])
    assert ("household", town.households["a1"], "村委会旁") in {
        (c["entity"], c["id"], (c["data"] or {}).get("address")) for c in changes}
    fresh = login("worker_a", device_id="phone-worker_a-pull-2")
    blind = fresh.post("/api/sync/push", json={"device_id": fresh.device_id,
                                               "ops": [visit_op(town.children["a1"])]})
    everything, _ = pull_all(fresh, blind.get_json()["cursor"])
    assert {c["id"] for c in everything} == {c["id"] for c in pull_all(fresh)[0]}
    assert town.households["a1"] in {c["id"] for c in everything}


def test_a_first_pull_paged_past_pruned_tombstones_ends_and_a_push_start_cursor_too(app, town, login):
    """Records unchanged since long ago sit below the newest pruned tombstone: the pages of a first
    pull (and a push's answer to a phone that held nothing) need no tombstones up to where they
    began, so they are not told to start over at page two."""
    from server.sync.pull import prune_tombstones
    head = login("head_a", device_id=device("head_a"))
    deleted = push(head, [op("child", "delete", town.children["a2"], base_version=1)])
    assert deleted["results"][0]["status"] == "applied"
    with app.app_context():
        assert prune_tombstones(-1) == 1
    everything, _ = pull_all(head)
    paged, cursor = [], None
    while True:
        page = head.get("/api/sync/pull?limit=1" + (f"&cursor={cursor}" if cursor else ""))
        assert page.status_code == 200, page.get_json()
        paged += page.get_json()["changes"]
        cursor = page.get_json()["cursor"]
        if not page.get_json()["more"]:
            break
    assert paged == everything and {c["action"] for c in paged} == {"upsert"}
    fresh = login("head_a", device_id="phone-head_a-pull-2")
    answered = fresh.post("/api/sync/push", json={"device_id": fresh.device_id, "ops": [
        visit_op(town.children["a1"])]}).get_json()
    from_push, _ = pull_all(fresh, answered["cursor"])
    assert {c["action"] for c in from_push} == {"upsert"}
    assert {c["id"] for c in from_push} == {c["id"] for c in pull_all(fresh)[0]}


def test_a_push_answers_a_cursor_past_the_pruned_tombstones_with_it_so_the_phone_starts_over(app, town, login):
    """The phone's cursor is older than the pruned tombstones: the push's answer does not swap it for
    a start that would skip the deletes the phone never heard of; pulling from it says start over."""
    from server.sync.pull import prune_tombstones
    worker = login("worker_a", device_id=device("worker_a"))
    _, held = pull_all(worker)
    head = login("head_a", device_id=device("head_a"))
    deleted = push(head, [op("child", "delete", town.children["a1"], base_version=1)])
    assert deleted["results"][0]["status"] == "applied"
    with app.app_context():
        assert prune_tombstones(-1) == 1
    answered = worker.post("/api/sync/push", json={"device_id": worker.device_id, "cursor": held,
                                                   "ops": []}).get_json()
    assert answered["cursor"] == held
    assert_error(worker.get(f"/api/sync/pull?cursor={answered['cursor']}"), 410, "resync_required")


def test_an_account_edit_that_sends_the_scope_unchanged_is_no_move(app, town, login):
    """An edit sent with the account's grids as they were renames the worker and nothing else: the
    phone in the field stays logged in, and no move is recorded for the pulls and pushes to read."""
    worker = login("worker_a", device_id=device("worker_a"))
    changes, cursor = pull_all(worker)
    admin = login("admin", device_id=device("admin"))
    response = admin.patch(f"/api/users/{town.users['worker_a']}",
                           json={"display_name": "王网格", "grid_ids": [town.grids["a1"]]})
    assert response.status_code == 200, response.get_json()
    assert worker.get(f"/api/sync/pull?cursor={cursor}").status_code == 200
    assert pull_all(worker, cursor)[0] == []
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_id == town.users["worker_a"], AuditEvent.action == "user.update")).one()
        assert event.detail == {"fields": ["display_name"]}
    _reassign(login, town, "worker_a", town.grids["a2"])
    assert worker.get(f"/api/sync/pull?cursor={cursor}").status_code == 401  # a real move still ends it
