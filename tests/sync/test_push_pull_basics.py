"""Push and pull round trips: applied, duplicate, conflict, merge, rejected, evict."""
import uuid

from tests.factories import valid_id_number

DEVICE = "phone-worker-a-0001"


def op(entity, action, record_id, data=None, base_version=None, op_id=None):
    """Build one sync op."""
    return {"op_id": op_id or str(uuid.uuid4()), "entity": entity, "action": action,
            "id": record_id, "base_version": base_version, "data": data or {}}


def push(api, ops):
    """Push a batch from the client's device and return the JSON answer."""
    response = api.post("/api/sync/push", json={"device_id": api.device_id, "ops": ops,
                                                "device_time": "2026-11-28T10:00:00+08:00"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def pull_all(api, cursor=None):
    """Pull until no more; return (changes, cursor)."""
    changes = []
    while True:
        url = "/api/sync/pull" + (f"?cursor={cursor}" if cursor else "")
        body = api.get(url).get_json()
        changes += body["changes"]
        cursor = body["cursor"]
        if not body["more"]:
            return changes, cursor


def test_create_child_then_visit_in_one_batch_and_retry_is_duplicate(town, login):
    api = login("worker_a", device_id=DEVICE)
    child_id, visit_id = str(uuid.uuid4()), str(uuid.uuid4())
    ops = [op("child", "create", child_id, {"household_id": town.households["a1"], "name": "新登记",
                                            "sex": "M", "categories": ["migrant"]}),
           op("visit", "create", visit_id, {"child_id": child_id,
                                            "visited_at": "2026-11-28T10:00:00+08:00",
                                            "lat": 29.1, "lon": 113.2, "accuracy_m": 10,
                                            "answers": {"guardian_present": True}})]
    first = push(api, ops)
    assert [r["status"] for r in first["results"]] == ["applied", "applied"]
    assert [r["id"] for r in first["results"]] == [child_id, visit_id]
    again = push(api, ops)
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert [(r["id"], r["version"]) for r in again["results"]] == [
        (r["id"], r["version"]) for r in first["results"]]
    assert api.get(f"/api/children/{child_id}").get_json()["name"] == "新登记"


def test_stale_same_field_edit_conflicts_and_other_field_merges(town, login):
    phone_a = login("worker_a", device_id=DEVICE)
    phone_b = login("head_a", device_id="phone-head-a-0001")
    child = town.children["a1"]
    first = push(phone_a, [op("child", "update", child, {"school": "甲小学"}, base_version=1)])
    assert first["results"][0]["status"] == "applied" and first["results"][0]["version"] == 2
    clash = push(phone_b, [op("child", "update", child, {"school": "乙小学"}, base_version=1)])
    result = clash["results"][0]
    assert result["status"] == "conflict" and result["current"]["school"] == "甲小学"
    merged = push(phone_b, [op("child", "update", child, {"notes": "换了备注"}, base_version=1)])
    assert merged["results"][0]["status"] == "applied" and merged["results"][0]["version"] == 3
    body = phone_a.get(f"/api/children/{child}").get_json()
    assert (body["school"], body["notes"], body["version"]) == ("甲小学", "换了备注", 3)


def test_a_conflict_is_stored_without_the_record_and_a_retry_reads_it_again(app, town, login):
    """The op ledger holds no record in the clear; a retried conflict answers with the record as
    it is now, or none once the caller may no longer see it."""
    from sqlalchemy import select

    from server.extensions import db
    from server.models import AppliedOp

    phone_a = login("worker_a", device_id=DEVICE)
    head = login("head_a", device_id="phone-head-a-0001")
    child = town.children["a1"]
    push(head, [op("child", "update", child, {"school": "甲小学"}, base_version=1)])
    clash = op("child", "update", child, {"school": "乙小学"}, base_version=1)
    first = push(phone_a, [clash])["results"][0]
    assert (first["status"], first["version"], first["current"]["school"]) == ("conflict", 2, "甲小学")
    with app.app_context():
        stored = db.session.scalar(select(AppliedOp.result).where(AppliedOp.op_id == clash["op_id"]))
    assert stored == {key: value for key, value in first.items() if key != "current"}
    push(head, [op("child", "update", child, {"notes": "村主任的备注"}, base_version=2)])
    again = push(phone_a, [clash])["results"][0]
    assert {**again, "current": None} == {**first, "current": None}
    assert (again["current"]["school"], again["current"]["notes"], again["current"]["version"]) == (
        "甲小学", "村主任的备注", 3)
    moved = push(head, [op("household", "update", town.households["a1"], {"grid_id": town.grids["a2"]},
                          base_version=1)])
    assert moved["results"][0]["status"] == "applied"
    assert push(phone_a, [clash])["results"][0] == {**first, "current": None}


def test_a_venue_moved_on_two_phones_conflicts(town, login):
    # Venues keep lat and lon as columns, households one encrypted location: both must clash.
    inspector = login("inspector", device_id="phone-inspector-0001")
    admin = login("admin", device_id="phone-admin-0001")
    venue = town.venues["a"]
    first = push(inspector, [op("venue", "update", venue, {"lat": 29.2, "lon": 113.3}, base_version=1)])
    assert [(r["status"], r["version"]) for r in first["results"]] == [("applied", 2)]
    clash = push(admin, [op("venue", "update", venue, {"lat": 29.3, "lon": 113.4}, base_version=1)])
    assert [(r["status"], r["current"]["lat"], r["current"]["lon"]) for r in clash["results"]] == [
        ("conflict", 29.2, 113.3)]
    household = town.households["a1"]  # located: moved by those who may move it (registry.LOCATION_MOVERS)
    mine = push(login("head_a", device_id="phone-head-a-0001"),
                [op("household", "update", household, {"lat": 29.2, "lon": 113.3}, base_version=1)])
    assert [r["status"] for r in mine["results"]] == ["applied"]
    theirs = push(admin, [op("household", "update", household, {"lat": 29.3, "lon": 113.4}, base_version=1)])
    assert [r["status"] for r in theirs["results"]] == ["conflict"]


def test_a_stale_check_date_conflicts_with_a_next_due_date_set_meanwhile(town, login):
    """An edit of a staff check's date also sets its next due date: a stale one must not silently
    replace the date the admin set on another device."""
    inspector = login("inspector", device_id="phone-inspector-0001")
    admin = login("admin", device_id="phone-admin-0001")
    check = str(uuid.uuid4())
    made = push(inspector, [op("staff_check", "create", check, {
        "person_name": "张三", "id_number": valid_id_number("43069919900101001"), "employer_kind": "venue",
        "employer_id": town.venues["a"], "checked_on": "2026-01-10", "result": "clear"})])
    assert made["results"][0]["status"] == "applied", made
    set_due = push(admin, [op("staff_check", "update", check, {"next_due": "2026-06-30"}, base_version=1)])
    assert set_due["results"][0]["status"] == "applied", set_due
    stale = push(inspector, [op("staff_check", "update", check, {"checked_on": "2026-01-12"}, base_version=1)])
    assert [(r["status"], r["current"]["next_due"], r["current"]["checked_on"]) for r in stale["results"]] == [
        ("conflict", "2026-06-30", "2026-01-10")]
    other = push(inspector, [op("staff_check", "update", check, {"result": "record_found"}, base_version=1)])
    assert [(r["status"], r["version"]) for r in other["results"]] == [("applied", 3)]
    shown = admin.get(f"/api/staff_checks/{check}").get_json()
    assert (shown["checked_on"], shown["next_due"], shown["result"]) == (
        "2026-01-10", "2026-06-30", "record_found")


def test_bad_ops_are_rejected_one_by_one(town, login):
    api = login("worker_a", device_id=DEVICE)
    shared = str(uuid.uuid4())
    ops = [{"entity": "child", "action": "create", "id": str(uuid.uuid4()), "data": {}},
           op("spaceship", "create", str(uuid.uuid4())),
           op("visit", "create", str(uuid.uuid4()), {"child_id": town.children["b1"],
                                                      "visited_at": "2026-11-28T10:00:00+08:00"}),
           op("household", "create", str(uuid.uuid4()), {"grid_id": town.grids["a1"],
                                                          "address": "好地址1号"}, op_id=shared),
           op("household", "create", str(uuid.uuid4()), {"grid_id": town.grids["a1"],
                                                          "address": "重复2号"}, op_id=shared),
           op("visit", "update", str(uuid.uuid4()), {"notes": "x"})]
    results = push(api, ops)["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "rejected", "applied",
                                             "rejected", "rejected"]
    assert "op_id" in results[0]["errors"]
    assert "entity" in results[1]["errors"]
    assert "child_id" in results[2]["errors"]
    assert results[4]["errors"] == {"op_id": ["同一批次中重复的操作编号"]}
    assert "action" in results[5]["errors"]
    assert api.get("/api/households").get_json()["total"] == 2


def test_pull_sees_changes_in_scope_and_evicts_moved_child(town, login):
    worker = login("worker_a", device_id=DEVICE)
    changes, cursor = pull_all(worker)
    assert {(c["entity"], c["id"]) for c in changes} == {
        ("household", town.households["a1"]), ("child", town.children["a1"])}
    admin = login("head_a", device_id="phone-head-a-0001")
    moved = push(admin, [op("household", "update", town.households["a1"],
                            {"grid_id": town.grids["a2"]}, base_version=1)])
    assert moved["results"][0]["status"] == "applied"
    later, _ = pull_all(worker, cursor)
    assert {(c["entity"], c["id"], c["action"]) for c in later} == {
        ("household", town.households["a1"], "evict"), ("child", town.children["a1"], "evict")}


def test_moving_a_household_takes_the_childs_visits_along(app, town, login):
    worker = login("worker_a", device_id=DEVICE)
    visit_id = str(uuid.uuid4())
    recorded = push(worker, [op("visit", "create", visit_id, {
        "child_id": town.children["a1"], "visited_at": "2026-11-28T10:00:00+08:00",
        "lat": 29.1, "lon": 113.2, "accuracy_m": 10})])
    assert recorded["results"][0]["status"] == "applied"
    _, cursor = pull_all(worker)
    head = login("head_a", device_id="phone-head-a-0001")
    moved = push(head, [op("household", "update", town.households["a1"],
                           {"grid_id": town.grids["a2"]}, base_version=1)])
    assert moved["results"][0]["status"] == "applied"
    later, _ = pull_all(worker, cursor)
    assert {(c["entity"], c["id"], c["action"]) for c in later} == {
        ("household", town.households["a1"], "evict"), ("child", town.children["a1"], "evict"),
        ("visit", visit_id, "evict")}
    visit = head.get(f"/api/visits/{visit_id}").get_json()
    assert (visit["grid_id"], visit["village_id"], visit["version"]) == (
        town.grids["a2"], town.villages["a"], 1)
    assert worker.get(f"/api/visits/{visit_id}").status_code == 404
