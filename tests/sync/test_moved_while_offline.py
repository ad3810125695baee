"""A fact recorded on a phone about a record that moved out of the phone's reach meanwhile (the head
moved the household to another grid while the phone was offline) is still the worker's record. The
phone says what it held by sending its pull cursor with the push: a record in its scope at that
position, moved away since, takes the fact; the fact is kept under the record's place now, and the
phone that filed it is told to let it go. So with a worker moved to other grids: what the phone
recorded on the old grids' children is kept, and nothing of a child that came there later."""
import base64
import threading
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import Clue, Grid, PlaceLeft, PlanProgress, User, Village, new_id, replaying_at
from server.services import audit, users

from .test_push_pull_basics import op, pull_all, push

OUT_OF_REACH = {"child_id": ["儿童不存在或不在您的管辖范围内"]}
WORKER_PHONE = "phone-worker-a-0001"
PHONES = {"worker_a": WORKER_PHONE, "worker_b": "phone-worker-b-0001"}


def push_holding(api, cursor: str | None, ops: list) -> list[tuple]:
    """Push as a phone whose pulls reached `cursor`; return each op's (status, errors)."""
    response = api.post("/api/sync/push", json={"device_id": api.device_id, "cursor": cursor, "ops": ops,
                                                "device_time": datetime.now(UTC).isoformat()})
    assert response.status_code == 200, response.get_json()
    return [(r["status"], r.get("errors")) for r in response.get_json()["results"]]


def _visit(child_id: str, visited_at: datetime | None = None, notes: str = "监护人在家") -> dict:
    visited_at = visited_at or datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    return op("visit", "create", str(uuid.uuid4()), {
        "child_id": child_id, "visited_at": visited_at.isoformat(), "lat": 29.1, "lon": 113.2,
        "accuracy_m": 10, "answers": {"guardian_present": True}, "notes": notes})


def _move_household(town, login, household: str, grid: str) -> None:
    admin = login("admin", device_id="phone-admin-0001")
    shown = admin.get(f"/api/households/{town.households[household]}").get_json()
    moved = push(admin, [op("household", "update", town.households[household], {"grid_id": town.grids[grid]},
                           base_version=shown["version"])])
    assert moved["results"][0]["status"] == "applied", moved


def _new_child(api, grid: str) -> str:
    household, child = str(uuid.uuid4()), str(uuid.uuid4())
    made = push(api, [op("household", "create", household, {"grid_id": grid, "address": "新村9号"}),
                      op("child", "create", child, {"household_id": household, "name": "后来",
                                                    "sex": "M", "categories": ["left_behind"]})])
    assert [r["status"] for r in made["results"]] == ["applied"] * 2, made
    return child


def _give_worker_grid(login, town, worker: str, grid: str):
    """Move `worker` to `grid` alone; return the worker's phone logged in again (the move ended its session)."""
    admin = login("admin", device_id="phone-admin-0001")
    response = admin.patch(f"/api/users/{town.users[worker]}", json={"grid_ids": [town.grids[grid]]})
    assert response.status_code == 200, response.get_json()
    return login(worker, device_id=PHONES[worker])


def test_a_visit_made_before_the_phone_heard_of_the_move_is_kept_under_the_new_grid(town, login):
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    visited = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    _move_household(town, login, "a1", "a2")

    visit = _visit(town.children["a1"], visited)
    earlier = _visit(town.children["a1"], visited - timedelta(days=2))
    # One run of creates, as a phone's outbox sends them; again, as a phone retries.
    assert push_holding(worker, cursor, [visit, earlier]) == [("applied", None)] * 2
    assert [r["status"] for r in push(worker, [visit, earlier])["results"]] == ["duplicate"] * 2

    head = login("head_a")
    stored = head.get(f"/api/visits/{visit['id']}").get_json()
    assert (stored["child_id"], stored["grid_id"], stored["worker_id"], stored["notes"]) == (
        town.children["a1"], town.grids["a2"], town.users["worker_a"], "监护人在家")
    child = head.get(f"/api/children/{town.children['a1']}").get_json()
    assert datetime.fromisoformat(child["last_visit_at"]) == visited
    # The filing phone lets go of the visits with the child it no longer holds.
    later, _ = pull_all(worker, cursor)
    assert {(c["entity"], c["id"], c["action"]) for c in later} == {
        ("household", town.households["a1"], "evict"), ("child", town.children["a1"], "evict"),
        ("visit", visit["id"], "evict"), ("visit", earlier["id"], "evict")}
    assert worker.get(f"/api/visits/{visit['id']}").status_code == 404
    # The head of the village, who sees both grids, is sent the visit and no evict for it.
    changes, _ = pull_all(login("head_a", device_id="phone-head-a-0002"))
    assert [(c["action"], c["data"]["grid_id"]) for c in changes if c["id"] == visit["id"]] == [
        ("upsert", town.grids["a2"])]


def test_a_pull_cut_off_before_the_move_reached_the_phone_still_takes_the_visit(town, login):
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    head = login("head_a", device_id="phone-head-a-0001")
    made = push(head, [op("household", "create", str(uuid.uuid4()), {"grid_id": town.grids["a1"],
                                                                      "address": "新村1号"})])
    assert made["results"][0]["status"] == "applied"
    _move_household(town, login, "a1", "a2")
    first = worker.get(f"/api/sync/pull?cursor={cursor}&limit=1").get_json()
    assert first["more"] and [c["action"] for c in first["changes"]] == ["upsert"]  # not told yet
    assert push_holding(worker, first["cursor"], [_visit(town.children["a1"])]) == [("applied", None)]


def test_a_phone_told_of_the_move_or_saying_nothing_is_refused(town, login):
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, before = pull_all(worker)
    _move_household(town, login, "a1", "a2")
    _, after = pull_all(worker, before)
    refused = [("rejected", OUT_OF_REACH)]
    assert push_holding(worker, after, [_visit(town.children["a1"])]) == refused
    assert push_holding(worker, None, [_visit(town.children["a1"])]) == refused
    assert push_holding(worker, before + "x", [_visit(town.children["a1"])]) == refused  # not signed so
    # Another user's cursor says nothing of what this phone held.
    other = login("head_a", device_id="phone-head-a-0003")
    _, heads = pull_all(other)
    assert push_holding(worker, heads, [_visit(town.children["a1"])]) == refused


def test_a_record_the_phone_never_held_stays_out_of_reach(town, login):
    """Another grid's child; a child that left a grid before its new worker got it; a child that
    came into the worker's old grid after the worker left it."""
    stranger = login("worker_b", device_id="phone-worker-b-0001")
    _, strangers = pull_all(stranger)
    _move_household(town, login, "a1", "a2")
    assert push_holding(stranger, strangers, [_visit(town.children["a1"]), _visit(town.children["a2"])]) \
        == [("rejected", OUT_OF_REACH)] * 2

    stranger = _give_worker_grid(login, town, "worker_b", "a1")  # after child a1 left it
    _, now_a1 = pull_all(stranger, strangers)
    assert push_holding(stranger, now_a1, [_visit(town.children["a1"])]) == [("rejected", OUT_OF_REACH)]

    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    worker = _give_worker_grid(login, town, "worker_a", "a2")
    _move_household(town, login, "b1", "a1")  # into worker_a's old grid, after worker_a left it
    assert push_holding(worker, cursor, [_visit(town.children["b1"])]) == [("rejected", OUT_OF_REACH)]


def test_a_deleted_child_takes_no_late_visit(town, login):
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    _move_household(town, login, "a1", "a2")
    head = login("head_a", device_id="phone-head-a-0001")
    child = head.get(f"/api/children/{town.children['a1']}").get_json()
    gone = push(head, [op("child", "delete", town.children["a1"], base_version=child["version"])])
    assert gone["results"][0]["status"] == "applied"
    assert push_holding(worker, cursor, [_visit(town.children["a1"])]) == [("rejected", OUT_OF_REACH)]


def test_a_progress_entry_and_a_clue_filed_offline_follow_the_moved_child(app, town, login):
    worker = login("worker_a", device_id=WORKER_PHONE)
    plan_id = str(uuid.uuid4())
    made = push(worker, [op("plan", "create", plan_id, {
        "child_id": town.children["a1"], "helper_id": town.users["worker_a"],
        "risk_factors": ["无人照看"], "review_every_days": 30})])
    assert made["results"][0]["status"] == "applied"
    _, cursor = pull_all(worker)
    _move_household(town, login, "a1", "a2")

    entry = op("plan_progress", "create", str(uuid.uuid4()), {
        "plan_id": plan_id, "at": datetime.now(UTC).isoformat(), "note": "已联系学校"})
    clue = op("clue", "create", str(uuid.uuid4()), {"description": "走访时发现异常情况",
                                                    "child_id": town.children["a1"]})
    assert push_holding(worker, cursor, [entry, clue]) == [("applied", None)] * 2
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


def test_a_worker_moved_to_other_grids_keeps_what_the_phone_recorded_on_the_old_one(town, login):
    """The visits are filed where the child is, and the phone's move between scopes takes them off
    it; a child registered in the old grid after the move was never the worker's."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    visited = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
    worker = _give_worker_grid(login, town, "worker_a", "a2")
    newcomer = _new_child(login("head_a", device_id="phone-head-a-0001"), town.grids["a1"])
    visit = _visit(town.children["a1"], visited)
    assert push_holding(worker, cursor, [visit, _visit(newcomer)]) == [
        ("applied", None), ("rejected", OUT_OF_REACH)]

    head = login("head_a")
    stored = head.get(f"/api/visits/{visit['id']}").get_json()
    assert (stored["child_id"], stored["grid_id"], stored["worker_id"]) == (
        town.children["a1"], town.grids["a1"], town.users["worker_a"])
    assert datetime.fromisoformat(head.get(f"/api/children/{town.children['a1']}").get_json()[
        "last_visit_at"]) == visited
    later, after = pull_all(worker, cursor)
    assert ("visit", visit["id"], "evict") in {(c["entity"], c["id"], c["action"]) for c in later}
    assert worker.get(f"/api/visits/{visit['id']}").status_code == 404
    # Once the phone has pulled past the move, its cursor holds the new grid only.
    assert push_holding(worker, after, [_visit(town.children["a1"])]) == [("rejected", OUT_OF_REACH)]


def test_a_phone_that_pulled_the_move_before_pushing_still_files_the_old_grids_visit(town, login):
    """The move between scopes ran first (a push that failed, then a pull): the cursor names the new
    grid over the position before the move, where the phone held the old one."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    worker = _give_worker_grid(login, town, "worker_a", "a2")
    page = worker.get(f"/api/sync/pull?cursor={cursor}&limit=500").get_json()
    assert page["more"]  # the move between scopes is done; the normal pull follows
    assert push_holding(worker, page["cursor"], [_visit(town.children["a1"])]) == [("applied", None)]


def test_a_move_recorded_without_its_position_gives_no_leeway(app, town, login):
    """An account moved by a server from before moves recorded where they fell among the changes:
    whether the phone's position came before it cannot be told, so nothing is taken on its word."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    with app.app_context():
        user = db.session.get(User, town.users["worker_a"])
        user.grids = [db.session.get(Grid, town.grids["a2"])]
        audit.record_event("user.update", actor_id=town.users["admin"], entity="user", entity_id=user.id,
                           detail={"fields": ["grid_ids"]})
        db.session.commit()
    assert push_holding(worker, cursor, [_visit(town.children["a1"])]) == [("rejected", OUT_OF_REACH)]


def test_a_village_head_moved_to_another_village_files_only_what_the_phone_held(town, login):
    head = login("head_a", device_id="phone-head-a-0009")
    _, cursor = pull_all(head)
    admin = login("admin", device_id="phone-admin-0001")
    moved = admin.patch(f"/api/users/{town.users['head_a']}", json={"village_id": town.villages["b"]})
    assert moved.status_code == 200, moved.get_json()
    newcomer = _new_child(admin, town.grids["a2"])
    head = login("head_a", device_id="phone-head-a-0009")
    clue = op("clue", "create", str(uuid.uuid4()), {"description": "走访时发现异常情况", "child_id": newcomer})
    assert push_holding(head, cursor, [_visit(newcomer), clue]) == [("rejected", OUT_OF_REACH)] * 2
    held = op("clue", "create", str(uuid.uuid4()), {"description": "走访时发现异常情况",
                                                    "child_id": town.children["a1"]})
    assert push_holding(head, cursor, [held]) == [("applied", None)]


def test_a_cursor_from_a_move_between_scopes_claims_nothing(town, login):
    """worker_a is given grid b1 after child b1 left it; the phone's pull stops right after the move
    between scopes (the cursor: the new scope over the old position). Child b1 never was on it."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    _move_household(town, login, "b1", "b2")
    worker = _give_worker_grid(login, town, "worker_a", "b1")
    page = worker.get(f"/api/sync/pull?cursor={cursor}&limit=500").get_json()
    assert page["more"]  # the move between scopes is done; the normal pull follows
    assert push_holding(worker, page["cursor"], [_visit(town.children["b1"])]) == [("rejected", OUT_OF_REACH)]


def test_a_visit_made_and_corrected_offline_follows_the_moved_child(town, login):
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    _move_household(town, login, "a1", "a2")
    first = _visit(town.children["a1"], notes="监护人在家")
    fixed = _visit(town.children["a1"], notes="监护人外出")
    fixed["data"].update(amends=first["id"], amend_reason="记错了")
    assert push_holding(worker, cursor, [first, fixed]) == [("applied", None)] * 2
    shown = login("head_a").get(f"/api/visits?child_id={town.children['a1']}").get_json()["rows"]
    assert sorted((v["notes"], v["amends"]) for v in shown) == sorted(
        [("监护人在家", None), ("监护人外出", first["id"])])


def test_a_cursor_that_cannot_be_read_is_no_cursor(town, login):
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    deep = base64.urlsafe_b64encode(("[" * 100_000).encode()).decode().rstrip("=") + ".x"
    for unread in (deep, "x" * 10_000, cursor[:-3] + "abc"):
        assert push_holding(worker, unread, [_visit(town.children["a1"])]) == [("applied", None)]
    for unread in (deep, "x" * 10_000):  # a pull answers it as any malformed cursor
        answer = worker.get(f"/api/sync/pull?cursor={unread}")
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (400, "bad_cursor")


def test_a_child_that_passed_through_the_old_grid_after_the_worker_left_takes_no_visit(town, login):
    """Child b1 is in b1 at the phone's position; after worker_a left a1 it is moved b1 -> a1 -> b1.
    The move back supersedes the `evict` row it left under b1, so its first evict after the
    position is the one under a1. worker_a never had it: a record's move after the user's own
    says nothing of where it was at the position."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    worker = _give_worker_grid(login, town, "worker_a", "a2")
    _move_household(town, login, "b1", "a1")
    _move_household(town, login, "b1", "b1")
    assert push_holding(worker, cursor, [_visit(town.children["b1"])]) == [("rejected", OUT_OF_REACH)]


def test_a_child_moved_away_after_the_worker_was_given_another_grid_takes_its_visit(town, login):
    """worker_a keeps grid a1 and is given a2 as well while the phone is offline; then the child
    the phone held in a1 moves to village b. The phone held it, at its position, in a grid the
    worker never left: the visit is kept, under b1, and the phone lets it go."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    admin = login("admin", device_id="phone-admin-0001")
    widened = admin.patch(f"/api/users/{town.users['worker_a']}",
                          json={"grid_ids": [town.grids["a1"], town.grids["a2"]]})
    assert widened.status_code == 200, widened.get_json()
    worker = login("worker_a", device_id=WORKER_PHONE)
    _move_household(town, login, "a1", "b1")

    visit = _visit(town.children["a1"])
    answer = worker.post("/api/sync/push", json={"device_id": worker.device_id, "cursor": cursor,
                                                 "ops": [visit]}).get_json()["results"]
    assert [(r["status"], r.get("out_of_scope")) for r in answer] == [("applied", True)]
    stored = login("head_b").get(f"/api/visits/{visit['id']}").get_json()
    assert (stored["child_id"], stored["grid_id"]) == (town.children["a1"], town.grids["b1"])


def test_a_child_moved_away_after_the_worker_left_its_grid_takes_the_visit_the_phone_held_it_for(
        town, login):
    """The phone held child a1 in a1; worker_a was moved to a2, and only then was the child moved to
    village b. A visit recorded on it before the phone heard of either is kept, as it is when the
    child stays in a1."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    worker = _give_worker_grid(login, town, "worker_a", "a2")
    _move_household(town, login, "a1", "b1")
    assert push_holding(worker, cursor, [_visit(town.children["a1"])]) == [("applied", None)]


def test_a_child_moved_away_back_and_away_again_while_the_phone_was_offline_takes_its_visit(town, login):
    """Child a1 is in a1 at the phone's position, then moved a1 -> b1 -> a1 -> a2. The change log
    keeps one row a record and place, so the first move's `evict` under a1 is gone (superseded
    by its return); the places a record left are kept apart, every one, so the place the phone
    knew is still a1 and the visit recorded there offline is kept, under a2."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    stranger = login("worker_b", device_id="phone-worker-b-0001")
    _, strangers = pull_all(stranger)
    for grid in ("b1", "a1", "a2"):
        _move_household(town, login, "a1", grid)
    visit = _visit(town.children["a1"])
    body = {"device_id": worker.device_id, "cursor": cursor, "ops": [visit],
            "device_time": datetime.now(UTC).isoformat()}
    answer = worker.post("/api/sync/push", json=body).get_json()["results"]
    assert [(r["status"], r.get("out_of_scope")) for r in answer] == [("applied", True)]
    stored = login("head_a").get(f"/api/visits/{visit['id']}").get_json()
    assert (stored["grid_id"], stored["worker_id"]) == (town.grids["a2"], town.users["worker_a"])
    # worker_b's grid had the child only between the moves, after its phone's position: no visit.
    assert push_holding(stranger, strangers, [_visit(town.children["a1"])]) == [("rejected", OUT_OF_REACH)]


def test_places_left_are_pruned_with_the_tombstones_of_their_time(app, town, login, monkeypatch):
    """A cursor older than the pruned tombstones tells nothing of what the phone held: the places
    left up to there go with them, the later ones stay."""
    _move_household(town, login, "a1", "a2")

    def left() -> list[tuple[str, str]]:
        with app.app_context():
            return sorted(db.session.execute(select(PlaceLeft.entity, PlaceLeft.grid_id)).all())
    moved = [("child", town.grids["a1"]), ("household", town.grids["a1"])]
    assert [row for row in left() if row[0] != "visit"] == moved
    runner = app.test_cli_runner()
    runner.invoke(args=["prune-tombstones"])
    assert [row for row in left() if row[0] != "visit"] == moved
    monkeypatch.setitem(app.config, "SYNC_TOMBSTONE_DAYS", 0)
    runner.invoke(args=["prune-tombstones"])
    assert left() == []
    _move_household(town, login, "a1", "a1")
    assert [row for row in left() if row[0] != "visit"] == [
        ("child", town.grids["a2"]), ("household", town.grids["a2"])]


def test_a_phone_that_pulled_past_the_move_files_nothing_on_the_old_grid(town, login):
    """No write between the move and the phone's full pull: the move took a position of its own,
    so the cursor after it is not read as before it. The phone was told to evict grid a1."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    worker = _give_worker_grid(login, town, "worker_a", "a2")
    evicted, after = pull_all(worker, cursor)
    assert ("child", town.children["a1"], "evict") in {(c["entity"], c["id"], c["action"]) for c in evicted}
    visit = _visit(town.children["a1"])
    assert push_holding(worker, after, [visit]) == [("rejected", OUT_OF_REACH)]


def test_two_moves_at_one_position_keep_the_visits_of_the_grid_between(town, login):
    """worker_a: a1 -> a2, the phone pulls it all, visits child a2 offline; then a2 -> b1 with no
    write in between. The scope at the phone's position is a2, the one between the moves."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    worker = _give_worker_grid(login, town, "worker_a", "a2")
    changes, held = pull_all(worker, cursor)
    assert ("child", town.children["a2"], "upsert") in {(c["entity"], c["id"], c["action"]) for c in changes}
    worker = _give_worker_grid(login, town, "worker_a", "b1")
    assert push_holding(worker, held, [_visit(town.children["a2"])]) == [("applied", None)]


def test_a_visit_filed_from_the_middle_of_a_move_is_let_go_by_the_phone(town, login):
    """The phone's pull ran the move between scopes first (cursor: the new grid over the old
    position); the old grid's visit is then filed under a1, which no pull of the new scope reaches:
    the push's answer tells the phone to let it go, again on a retry."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    worker = _give_worker_grid(login, town, "worker_a", "a2")
    page = worker.get(f"/api/sync/pull?cursor={cursor}&limit=500").get_json()
    visit = _visit(town.children["a1"])
    body = {"device_id": worker.device_id, "cursor": page["cursor"], "ops": [visit],
            "device_time": datetime.now(UTC).isoformat()}
    first = worker.post("/api/sync/push", json=body).get_json()["results"]
    again = worker.post("/api/sync/push", json=body).get_json()["results"]
    assert [(r["status"], r.get("out_of_scope")) for r in first + again] == [
        ("applied", True), ("duplicate", True)]
    # Filed within the phone's reach, an answer says nothing of it.
    mine = _visit(town.children["a2"])
    answer = worker.post("/api/sync/push", json={**body, "ops": [mine]}).get_json()["results"]
    assert [(r["status"], "out_of_scope" in r) for r in answer] == [("applied", False)]


def test_a_retried_visit_whose_child_came_back_is_not_let_go(town, login):
    """The answer that told the phone to let a visit go was lost; the child came back to the grid
    and the phone pulled it back with the visit before retrying: the retry keeps the phone's copy."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    _move_household(town, login, "a1", "a2")
    visit = _visit(town.children["a1"])
    body = {"device_id": worker.device_id, "cursor": cursor, "ops": [visit],
            "device_time": datetime.now(UTC).isoformat()}
    first = worker.post("/api/sync/push", json=body).get_json()["results"]
    assert [(r["status"], r.get("out_of_scope")) for r in first] == [("applied", True)]
    _move_household(town, login, "a1", "a1")
    changes, _ = pull_all(worker, cursor)
    assert ("visit", visit["id"], "upsert") in {(c["entity"], c["id"], c["action"]) for c in changes}
    again = worker.post("/api/sync/push", json=body).get_json()["results"]
    assert again == [{"op_id": visit["op_id"], "status": "duplicate", "id": visit["id"], "version": 1}]


def test_a_worker_moved_to_other_grids_keeps_a_correction_made_offline(town, login):
    """A visit and its correction, both recorded offline on the old grid: the visit is filed after
    the move, and is the worker's own, so its correction is taken too."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    worker = _give_worker_grid(login, town, "worker_a", "a2")
    first = _visit(town.children["a1"], notes="监护人在家")
    fixed = _visit(town.children["a1"], notes="监护人外出")
    fixed["data"].update(amends=first["id"], amend_reason="记错了")
    assert push_holding(worker, cursor, [first, fixed]) == [("applied", None)] * 2


def test_two_edits_of_one_account_at_once_record_where_the_second_moved_it_from(app, town, login):
    """Two admins (or a double submit) edit one account: the second edit reads the account under
    the writers' lock, as the first committed it, so the `from` its move records is village b, not
    a. Simulated (SQLite serializes whole transactions) by holding the account as read before the
    first edit committed. head_a: a -> b -> c; a child registered in village a after head_a left
    it takes nothing on the phone's word, and the village b child the phone held takes its visit."""
    head = login("head_a", device_id="phone-head-a-0009")
    with app.app_context():
        village_c = Village(id=new_id(), town_id=db.session.get(Village, town.villages["a"]).town_id,
                            name="测试C村")
        db.session.add(village_c)
        db.session.commit()
        village_c = village_c.id

    def first_edit():
        with app.app_context():
            users.update_user(db.session.get(User, town.users["admin"]), town.users["head_a"],
                              {"village_id": town.villages["b"]})
            db.session.remove()

    with app.app_context():
        db.session().expire_on_commit = False
        admin = db.session.get(User, town.users["admin"])
        account = db.session.get(User, town.users["head_a"])
        assert account.village_id == town.villages["a"]
        db.session.commit()  # the read ends; the objects stay as read
        edit = threading.Thread(target=first_edit)
        edit.start()
        edit.join()
        # Meanwhile: a child registered in village a, and head_a's phone pulls village b.
        newcomer = _new_child(login("admin", device_id="phone-admin-0001"), town.grids["a2"])
        head = login("head_a", device_id="phone-head-a-0009")
        _, held = pull_all(head)
        users.update_user(admin, account.id, {"village_id": village_c})
        db.session.remove()
    head = login("head_a", device_id="phone-head-a-0009")
    assert push_holding(head, held, [_visit(newcomer), _visit(town.children["b1"])]) == [
        ("rejected", OUT_OF_REACH), ("applied", None)]


def test_the_log_left_row_names_no_record_to_a_scope_that_never_held_it(town, login):
    """A moved worker's visit on a child still in the old grid leaves no evict row under any other
    place; a clue on a child the worker never had is refused."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    worker = _give_worker_grid(login, town, "worker_a", "a2")
    visit = _visit(town.children["a1"])
    assert push_holding(worker, cursor, [visit]) == [("applied", None)]
    others, _ = pull_all(login("worker_b", device_id="phone-worker-b-0001"))
    assert not [c for c in others if c["id"] == visit["id"]]
    clue = op("clue", "create", str(uuid.uuid4()), {"description": "走访时发现异常情况",
                                                    "child_id": town.children["b1"]})
    assert push_holding(worker, cursor, [clue]) == [("rejected", OUT_OF_REACH)]


def test_a_child_registered_after_the_move_on_a_host_with_a_slower_clock_takes_no_visit(town, login):
    """Which came first is read from positions (the audit chain's order), not from the clocks of
    the app hosts that wrote them: the admin's host 10 minutes fast and a child registered in a1
    after the move must not look older than the move."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, cursor = pull_all(worker)
    with replaying_at(datetime.now(UTC) + timedelta(minutes=10)):
        worker = _give_worker_grid(login, town, "worker_a", "a2")
    newcomer = _new_child(login("head_a", device_id="phone-head-a-0001"), town.grids["a1"])
    assert push_holding(worker, cursor, [_visit(newcomer)]) == [("rejected", OUT_OF_REACH)]


def test_an_op_says_what_the_phone_held_when_it_was_recorded(town, login):
    """The visit was recorded before a pull took the child off the phone (set aside, then retried;
    or saved while a sync ran): its op carries the cursor of then, the push the phone's cursor of
    now. An op's cursor that cannot be read leaves the push's."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    _, then = pull_all(worker)
    _move_household(town, login, "a1", "a2")
    _, now = pull_all(worker, then)
    late = _visit(town.children["a1"])
    assert push_holding(worker, now, [late]) == [("rejected", OUT_OF_REACH)]
    held = [{**_visit(town.children["a1"]), "cursor": then}, {**_visit(town.children["a1"]), "cursor": "x"}]
    assert push_holding(worker, now, held) == [("applied", None), ("rejected", OUT_OF_REACH)]
    assert push_holding(worker, then, [{**_visit(town.children["a1"]), "cursor": "x"}]) == [("applied", None)]
    stored = login("head_a").get(f"/api/visits/{held[0]['id']}").get_json()
    assert (stored["child_id"], stored["grid_id"]) == (town.children["a1"], town.grids["a2"])


def test_a_cursor_that_says_nothing_of_what_the_phone_held_vouches_for_nothing(town, login):
    """A push's answer to a phone that sent no cursor is a start, and a first pull's page stands
    where the pages reached, not where the phone held: the records are sent as they stand at the
    pull. Neither lets a phone that never held the moved child file a visit on it."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    _new_child(worker, town.grids["a1"])  # the first pull's first page, from before the move
    _move_household(town, login, "a1", "a2")
    assert push_holding(worker, None, [_visit(town.children["a1"])]) == [("rejected", OUT_OF_REACH)]
    start = worker.post("/api/sync/push", json={"device_id": worker.device_id, "ops": []}).get_json()["cursor"]
    page = worker.get("/api/sync/pull?limit=1").get_json()
    assert page["more"] is True
    for cursor in (start, page["cursor"]):
        assert push_holding(worker, cursor, [_visit(town.children["a1"])]) == [("rejected", OUT_OF_REACH)]
        assert push_holding(worker, cursor, [{**_visit(town.children["a1"]), "cursor": cursor}]) == [
            ("rejected", OUT_OF_REACH)]
    # Through with its first pull, the phone held what it was sent: the moved child was not.
    _, through = pull_all(worker)
    assert town.children["a1"] not in {c["id"] for c in pull_all(worker)[0]}
    assert push_holding(worker, through, [_visit(town.children["a1"])]) == [("rejected", OUT_OF_REACH)]
