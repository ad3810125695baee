"""Push with bad input: per-op rejections that spare the rest, and whole-batch refusals."""
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy.exc import OperationalError

from server.errors import ApiError
from server.extensions import db
from server.models import JointOperation, Plan, new_id
from server.services import filing
from server.sync import entities
from tests.routes.helpers import WRITE_TABLES, assert_error, snapshot
from tests.sync.test_push_pull_basics import op, push

DEVICE = "phone-worker-a-badinput"
TABLES = (*WRITE_TABLES, "visit", "applied_op")
VISITED = "2026-11-28T09:00:00+08:00"


def household_op(town, address="好地址1号", **kwargs):
    return op("household", "create", str(uuid.uuid4()), {"grid_id": town.grids["a1"],
                                                          "address": address}, **kwargs)


def visit_op(child_id, **extra):
    return op("visit", "create", str(uuid.uuid4()), {
        "child_id": child_id, "visited_at": VISITED, "lat": 29.1, "lon": 113.2, "accuracy_m": 10,
        "answers": {"guardian_present": True}, **extra})


@pytest.fixture
def worker(town, login):
    return login("worker_a", device_id=DEVICE)


def _households(api):
    return sorted(row["address"] for row in api.get("/api/households").get_json()["rows"])


def test_each_bad_op_is_rejected_naming_the_field_and_the_rest_apply(town, worker):
    shared = str(uuid.uuid4())
    no_op_id = household_op(town, "无编号")
    del no_op_id["op_id"]
    good_visit = visit_op(town.children["a1"])
    ops = [household_op(town, "第一户"),
           op("spaceship", "create", str(uuid.uuid4())),
           op("household", "upsert", str(uuid.uuid4()), {"grid_id": town.grids["a1"],
                                                         "address": "动作错"}),
           no_op_id,
           {**household_op(town, "编号错"), "op_id": "not-a-uuid"},
           household_op(town, "第二户", op_id=shared),
           household_op(town, "重复编号", op_id=shared),
           visit_op(town.children["b1"]),
           visit_op(town.children["a2"]),
           good_visit,
           op("visit", "update", good_visit["id"], {"notes": "改一下"}, base_version=1),
           op("visit", "delete", good_visit["id"], base_version=1),
           "not an op",
           None,
           household_op(town, "第三户")]
    results = push(worker, ops)["results"]
    assert [r["status"] for r in results] == [
        "applied", "rejected", "rejected", "rejected", "rejected", "applied", "rejected",
        "rejected", "rejected", "applied", "rejected", "rejected", "rejected", "rejected", "applied"]
    assert [r["op_id"] for r in results] == [
        o.get("op_id") if isinstance(o, dict) else None for o in ops]
    rejected = {i: r for i, r in enumerate(results) if r["status"] == "rejected"}
    assert all((r["id"], r["version"]) == (None, None) for r in rejected.values())
    assert {i: set(r["errors"]) for i, r in rejected.items()} == {
        1: {"entity"}, 2: {"action"}, 3: {"op_id"}, 4: {"op_id"}, 6: {"op_id"}, 7: {"child_id"},
        8: {"child_id"}, 10: {"action"}, 11: {"action"},
        12: {"op_id", "entity", "action", "id"}, 13: {"op_id", "entity", "action", "id"}}
    assert rejected[6]["errors"] == {"op_id": ["同一批次中重复的操作编号"]}
    assert rejected[7]["errors"] == rejected[8]["errors"] == {
        "child_id": ["儿童不存在或不在您的管辖范围内"]}
    assert rejected[10]["errors"] == rejected[11]["errors"] == {
        "action": ["此类记录只能新增；更正请新建一条并注明理由"]}
    assert _households(worker) == sorted(["第一户", "第二户", "第三户", "测试镇a1组2号槐花巷"])
    visits = worker.get("/api/visits").get_json()
    assert [row["id"] for row in visits["rows"]] == [good_visit["id"]]
    assert visits["rows"][0]["notes"] is None


def test_a_retried_rejected_op_answers_as_it_did(town, worker):
    bad = household_op(town, "")
    first = push(worker, [bad])["results"][0]
    assert (first["status"], first["errors"]) == ("rejected", {"address": ["1 到 200 个字符"]})
    assert push(worker, [bad])["results"] == [first]
    assert _households(worker) == ["测试镇a1组2号槐花巷"]


def test_op_id_of_another_user_is_rejected(town, worker, login):
    other = login("head_a", device_id="phone-head-a-badinput")
    shared = str(uuid.uuid4())
    assert push(worker, [household_op(town, "甲户", op_id=shared)])["results"][0]["status"] == \
        "applied"
    result = push(other, [household_op(town, "乙户", op_id=shared)])["results"][0]
    assert result == {"op_id": shared, "status": "rejected", "id": None, "version": None,
                      "errors": {"op_id": ["操作编号已被使用"]}}


def test_create_with_an_id_already_used_is_rejected(town, worker):
    first = household_op(town, "原户")
    assert push(worker, [first])["results"][0]["status"] == "applied"
    clash = op("household", "create", first["id"], {"grid_id": town.grids["a1"],
                                                   "address": "冒名户"})
    result = push(worker, [clash])["results"][0]
    assert (result["status"], result["errors"]) == ("rejected", {"_op": ["该编号的记录已存在"]})
    mismatch = op("household", "create", str(uuid.uuid4()), {"id": str(uuid.uuid4()),
                                                            "grid_id": town.grids["a1"],
                                                            "address": "编号不一"})
    result = push(worker, [mismatch])["results"][0]
    assert (result["status"], result["errors"]) == ("rejected", {"id": ["与操作中的编号不一致"]})
    assert _households(worker) == sorted(["原户", "测试镇a1组2号槐花巷"])


def test_too_many_ops_is_413_and_nothing_applies(app, town, worker):
    before = snapshot(app, TABLES)
    response = worker.post("/api/sync/push", json={
        "device_id": DEVICE, "ops": [household_op(town, f"户{i}") for i in range(501)]})
    assert_error(response, 413, "too_many_ops")
    assert snapshot(app, TABLES) == before
    ok = push(worker, [household_op(town, f"户{i}") for i in range(500)])
    assert [r["status"] for r in ok["results"]] == ["applied"] * 500


def test_body_over_5_mb_is_413_and_nothing_applies(app, town, worker):
    before = snapshot(app, TABLES)
    notes = "很" * 2000
    ops = [visit_op(town.children["a1"], notes=notes) for _ in range(1000)]
    body = json.dumps({"device_id": DEVICE, "ops": ops}, ensure_ascii=False).encode()
    assert len(body) > 6 * 1024 * 1024
    response = worker.post("/api/sync/push", data=body, content_type="application/json")
    assert_error(response, 413, "payload_too_large")
    assert snapshot(app, TABLES) == before


@pytest.mark.parametrize("ops", [{"op_id": "x"}, "ops", 5, None])
def test_ops_not_a_list_is_422(app, town, worker, ops):
    before = snapshot(app, TABLES)
    response = worker.post("/api/sync/push", json={"device_id": DEVICE, "ops": ops})
    assert_error(response, 422, "validation_error", field_names={"ops"})
    assert snapshot(app, TABLES) == before


def test_missing_ops_or_device_is_422(town, worker):
    assert_error(worker.post("/api/sync/push", json={"device_id": DEVICE}), 422,
                 "validation_error", field_names={"ops"})
    assert_error(worker.post("/api/sync/push", json={"ops": []}), 422, "validation_error",
                 field_names={"device_id"})


def test_amendment_with_a_reason_applies_and_without_is_rejected(town, worker):
    original = visit_op(town.children["a1"], notes="监护人在家")
    assert push(worker, [original])["results"][0]["status"] == "applied"
    amendment = visit_op(town.children["a1"], notes="监护人其实外出", amends=original["id"],
                         amend_reason="记错了")
    no_reason = visit_op(town.children["a1"], notes="再改", amends=original["id"])
    blank_reason = visit_op(town.children["a1"], notes="再改", amends=original["id"],
                            amend_reason="")
    wrong_child = op("visit", "create", str(uuid.uuid4()), {
        "child_id": worker_child(town, worker), "visited_at": VISITED,
        "amends": original["id"], "amend_reason": "换个孩子"})
    unknown = visit_op(town.children["a1"], amends=str(uuid.uuid4()), amend_reason="不存在")
    results = push(worker, [amendment, no_reason, blank_reason, wrong_child, unknown])["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected", "rejected",
                                             "rejected"]
    assert results[1]["errors"] == results[2]["errors"] == results[3]["errors"] == {
        "amend_reason": ["更正须针对同一儿童并写明理由"]}
    assert results[4]["errors"] == {"amends": ["被更正的走访记录不存在"]}
    body = worker.get(f"/api/visits/{amendment['id']}").get_json()
    assert (body["amends"], body["amend_reason"], body["notes"]) == (
        original["id"], "记错了", "监护人其实外出")
    first = worker.get(f"/api/visits/{original['id']}").get_json()
    assert (first["notes"], first["version"], first["amends"]) == ("监护人在家", 1, None)
    assert worker.get("/api/visits").get_json()["total"] == 2


def worker_child(town, worker):
    """Register a second child in worker_a's grid and return its id."""
    child_id = str(uuid.uuid4())
    result = push(worker, [op("child", "create", child_id, {
        "household_id": town.households["a1"], "name": "二宝", "sex": "F",
        "categories": ["left_behind"]})])["results"][0]
    assert result["status"] == "applied"
    return child_id


def test_a_delete_needs_what_an_edit_of_the_kind_needs(app, town, login):
    """Seeing a record is not leave to delete it: the role must write the kind, and a closed plan stays."""
    with app.app_context():
        closed = Plan(id=new_id(), child_id=town.children["a1"], grid_id=town.grids["a1"],
                      village_id=town.villages["a"], status="closed", version=1)
        db.session.add(closed)
        db.session.commit()
        closed_id = closed.id
    operation = login("inspector").post("/api/operations", json={
        "date": "2026-11-20", "lead_unit": "测试派出所", "units": ["测试市场监管所"],
        "member_ids": [town.users["inspector"]]}).get_json()
    tables = (*WRITE_TABLES, "plan", "joint_operation", "applied_op")
    refused = [("police", op("venue", "delete", town.venues["a"], base_version=1),
                {"_op": ["您的角色不能删除此类记录"]}),
               ("head_a", op("joint_operation", "delete", operation["id"], base_version=1),
                {"_op": ["您的角色不能删除此类记录"]}),
               ("worker_a", op("plan", "delete", closed_id, base_version=1),
                {"_op": ["帮扶计划已结案，不能修改"]})]
    for username, delete, errors in refused:
        phone = login(username, device_id=f"phone-{username}-0001")
        before = {k: v for k, v in snapshot(app, tables).items() if k != "applied_op"}
        assert push(phone, [delete])["results"] == [
            {"op_id": delete["op_id"], "status": "rejected", "id": None, "version": None, "errors": errors}]
        assert {k: v for k, v in snapshot(app, tables).items() if k != "applied_op"} == before
    # Who may edit the kind may delete it.
    inspector = login("inspector", device_id="phone-inspector-0001")
    delete = op("joint_operation", "delete", operation["id"], base_version=1)
    assert push(inspector, [delete])["results"] == [
        {"op_id": delete["op_id"], "status": "applied", "id": operation["id"], "version": 2}]


def test_a_joint_operation_an_inspection_stands_in_cannot_be_deleted(app, town, login):
    """An inspection made in the month's joint operation would name an operation that is gone, and the
    month would no longer count its action; corrected to name none, the operation may go."""
    inspector = login("inspector", device_id="phone-inspector-0001")
    operation = inspector.post("/api/operations", json={
        "date": "2026-11-20", "lead_unit": "测试派出所", "units": ["测试市场监管所"],
        "member_ids": [town.users["inspector"]]}).get_json()
    made_in_it = {"venue_id": town.venues["a"], "inspected_at": "2026-11-20T10:00:00+08:00",
                  "operation_id": operation["id"], "answers": [{"item": "verify_identity", "result": "pass"}]}
    inspection = inspector.post("/api/inspections", json=made_in_it)
    assert inspection.status_code == 201, inspection.get_json()
    tables = (*WRITE_TABLES, "joint_operation", "inspection")
    before = snapshot(app, tables)
    delete = op("joint_operation", "delete", operation["id"], base_version=1)
    assert push(inspector, [delete])["results"] == [
        {"op_id": delete["op_id"], "status": "rejected", "id": None, "version": None,
         "errors": {"_op": ["这次联合行动已有检查记录，不能删除；信息有误请修改"]}}]
    assert snapshot(app, tables) == before
    corrected = inspector.post("/api/inspections", json={
        **{k: v for k, v in made_in_it.items() if k != "operation_id"},
        "amends": inspection.get_json()["id"], "amend_reason": "不是联合行动中检查的"})
    assert corrected.status_code == 201, corrected.get_json()
    again = op("joint_operation", "delete", operation["id"], base_version=1)
    assert push(inspector, [again])["results"] == [
        {"op_id": again["op_id"], "status": "applied", "id": operation["id"], "version": 2}]


def test_an_operation_deleted_while_an_inspection_names_it_waits_for_the_inspection(
        app, town, login, engine_name, monkeypatch):
    """The inspection checks its operation under the writers' lock: a delete pushed between that check
    and its commit would leave it naming an operation that is gone."""
    if engine_name != "postgresql":
        pytest.skip("two writers at once need PostgreSQL (SQLite serializes every writer)")
    inspector = login("inspector", device_id="phone-inspector-0001")
    other = login("inspector", device_id="phone-inspector-0002")
    operation = inspector.post("/api/operations", json={
        "date": "2026-11-20", "lead_unit": "测试派出所", "member_ids": [town.users["inspector"]]}).get_json()
    checked, deleted = threading.Event(), threading.Event()
    real_in_scope = filing.in_scope

    def in_scope(actor, model, *args, **kwargs):
        found = real_in_scope(actor, model, *args, **kwargs)
        if model is JointOperation and not checked.is_set():
            checked.set()
            deleted.wait(timeout=3)  # with the lock held, the delete waits for this inspection instead
        return found

    monkeypatch.setattr(filing, "in_scope", in_scope)

    def record():
        return inspector.post("/api/inspections", json={
            "venue_id": town.venues["a"], "inspected_at": "2026-11-20T10:00:00+08:00",
            "operation_id": operation["id"], "answers": [{"item": "verify_identity", "result": "pass"}]})

    def delete():
        checked.wait(timeout=10)
        try:
            return push(other, [op("joint_operation", "delete", operation["id"], base_version=1)])
        finally:
            deleted.set()

    with ThreadPoolExecutor(2) as executor:
        recorded, removed = executor.submit(record), executor.submit(delete)
        recorded, removed = recorded.result(), removed.result()
    assert recorded.status_code == 201, recorded.get_json()
    assert [(r["status"], r.get("errors")) for r in removed["results"]] == [
        ("rejected", {"_op": ["这次联合行动已有检查记录，不能删除；信息有误请修改"]})]
    with app.app_context():
        assert db.session.get(JointOperation, operation["id"]).deleted_at is None


def test_a_clue_names_only_a_source_its_reporter_may_see(app, town, worker, login):
    """A worker cannot tie a clue to an inspection or another grid's visit (it would pass for an
    inspector's finding), and an id that exists answers as one that does not."""
    inspection = login("inspector").post("/api/inspections", json={
        "venue_id": town.venues["a"], "inspected_at": "2026-11-20T10:00:00+08:00",
        "answers": [{"item": "verify_identity", "result": "pass"}]}).get_json()["id"]
    other_visit = push(login("worker_b", device_id="phone-worker-b-0001"),
                       [visit_op(town.children["b1"])])["results"][0]["id"]
    own_visit = push(worker, [visit_op(town.children["a1"])])["results"][0]["id"]
    # Linked only to what the filer sees; the report itself still goes to the police.
    unlinked = push(worker, [
        op("clue", "create", str(uuid.uuid4()), {"description": "来源", "source_inspection_id": inspection}),
        op("clue", "create", str(uuid.uuid4()), {"description": "来源", "source_inspection_id": new_id()}),
        op("clue", "create", str(uuid.uuid4()), {"description": "来源", "source_visit_id": other_visit})])
    assert [r["status"] for r in unlinked["results"]] == ["applied"] * 3
    police = login("police")
    for result in unlinked["results"]:
        clue = police.get(f"/api/clues/{result['id']}").get_json()
        assert (clue["description"], clue["source_visit_id"], clue["source_inspection_id"]) == (
            "来源", None, None)
    filed = push(worker, [op("clue", "create", str(uuid.uuid4()), {"description": "走访中发现",
                                                                   "source_visit_id": own_visit})])
    assert filed["results"][0]["status"] == "applied"


def test_input_the_services_once_crashed_on_is_refused_per_op_and_over_rest(app, town, worker, login):
    """Each of these reached a service unchecked: sync stored a generic refusal, REST answered 500."""
    inspector = login("inspector", device_id="phone-inspector-badinput")
    unknown_operation = op("inspection", "create", str(uuid.uuid4()), {
        "venue_id": town.venues["a"], "inspected_at": VISITED, "operation_id": str(uuid.uuid4()),
        "answers": [{"item": "verify_identity", "result": "pass"}]})
    year_one = visit_op(town.children["a1"], visited_at="0001-01-01T00:00:00+08:00")
    objects_as_options = visit_op(town.children["a1"], answers={"needs": [{"x": 1}]})
    before = snapshot(app, TABLES)
    answers = push(inspector, [unknown_operation])["results"]
    answers += push(worker, [year_one, objects_as_options])["results"]
    assert [(r["status"], r["errors"]) for r in answers] == [
        ("rejected", {"operation_id": ["联合行动不存在"]}),
        ("rejected", {"visited_at": ["时间超出范围（1900 至 2100 年）"]}),
        ("rejected", {"answers.needs": ["选项无效"]})]
    rest = [inspector.post("/api/inspections", json=unknown_operation["data"]),
            worker.post("/api/visits", json=year_one["data"]),
            worker.post("/api/visits", json=objects_as_options["data"])]
    assert [(r.status_code, r.get_json()["error"]["code"]) for r in rest] == [(422, "validation_error")] * 3
    # Nothing but the three refusals in the op ledger.
    after = snapshot(app, TABLES)
    assert {name: rows for name, rows in after.items() if name != "applied_op"} == {
        name: rows for name, rows in before.items() if name != "applied_op"}
    assert len(after["applied_op"]) == len(before["applied_op"]) + 3


def test_a_device_id_unfit_for_a_url_is_refused_on_push_as_on_login(app, town, login):
    session = login("worker_a")  # opened without a device: its first push would bind one
    before = snapshot(app, (*TABLES, "device"))
    response = session.post("/api/sync/push", json={"device_id": "lost/phone 1", "ops": [household_op(town)]})
    assert_error(response, 422, "validation_error", fields={"device_id": ["设备编号格式不正确"]})
    assert snapshot(app, (*TABLES, "device")) == before


class _Deadlock(Exception):
    sqlstate = "40P01"  # as psycopg reports a deadlock


def test_a_database_failure_in_an_op_fails_the_batch_unrecorded(app, town, worker, monkeypatch):
    """A deadlock or a lost connection says nothing about the op: the batch answers 503 with nothing
    written, not a refusal the op ledger would keep for good, and the same batch applies later."""
    ops = [household_op(town, "先到的户"), visit_op(town.children["a1"]), household_op(town, "后到的户")]
    before = snapshot(app, TABLES)

    def deadlocked(*args, **kwargs):
        raise OperationalError("INSERT INTO visit", {}, _Deadlock("deadlock detected"))
    visit = entities.ENTITIES["visit"]
    monkeypatch.setitem(entities.ENTITIES, "visit", replace(visit, create=entities._timed(deadlocked)))
    response = worker.post("/api/sync/push", json={"device_id": DEVICE, "ops": ops})
    assert_error(response, 503, "busy")
    assert response.headers["Retry-After"] == "5"
    assert snapshot(app, TABLES) == before
    monkeypatch.setitem(entities.ENTITIES, "visit", visit)
    assert [r["status"] for r in push(worker, ops)["results"]] == ["applied"] * 3


def test_a_delete_that_would_leave_live_records_orphaned_is_refused(app, town, worker):
    home, kid = str(uuid.uuid4()), str(uuid.uuid4())
    created = push(worker, [
        op("household", "create", home, {"grid_id": town.grids["a1"], "address": "待删户1号"}),
        op("child", "create", kid, {"household_id": home, "name": "待删儿童", "sex": "F"})])
    assert [r["status"] for r in created["results"]] == ["applied", "applied"]
    refused = push(worker, [op("household", "delete", home, base_version=1)])["results"]
    assert [(r["status"], r["errors"]) for r in refused] == [
        ("rejected", {"_op": ["该户还有登记的儿童，请先将儿童迁到其他户或删除"]})]
    assert worker.get(f"/api/households/{home}").status_code == 200
    # Once its child is removed, the household may go too.
    gone = push(worker, [op("child", "delete", kid, base_version=1),
                         op("household", "delete", home, base_version=1)])
    assert [r["status"] for r in gone["results"]] == ["applied", "applied"]
    paths = (f"households/{home}", f"children/{kid}")
    assert [worker.get(f"/api/{path}").status_code for path in paths] == [404] * 2

    # A child whose visit calls for a plan has a draft: it is not removed from under its helper.
    injured = push(worker, [visit_op(town.children["a1"], answers={"injury_signs": True})])["results"]
    assert [r["status"] for r in injured] == ["applied"]
    version = worker.get(f"/api/children/{town.children['a1']}").get_json()["version"]
    kept = push(worker, [op("child", "delete", town.children["a1"], base_version=version)])["results"]
    assert [(r["status"], r["errors"]) for r in kept] == [
        ("rejected", {"_op": ["该儿童有未结案的帮扶计划，请先结案"]})]
    assert worker.get(f"/api/children/{town.children['a1']}").status_code == 200


def test_a_database_failure_that_would_recur_refuses_the_op_and_not_the_batch(app, town, worker, monkeypatch):
    """Not every OperationalError passes on a retry ("too many SQL variables" fails the same way each
    time): as a 503 it would hold the phone's whole outbox back for good."""
    def too_many(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("too many SQL variables"))
    monkeypatch.setitem(entities.ENTITIES, "visit",
                        replace(entities.ENTITIES["visit"], create=entities._timed(too_many)))
    results = push(worker, [household_op(town, "先到的户"), visit_op(town.children["a1"])])["results"]
    assert [(r["status"], r.get("errors")) for r in results] == [
        ("applied", None), ("rejected", {"_op": ["服务器无法处理此操作，已记录，请联系管理员"]})]


def test_an_op_refused_after_it_wrote_leaves_nothing_behind(app, town, worker, monkeypatch):
    """Each op runs in its own savepoint: one refused, or failing, after the service has written
    (an edit saved, a visit flushed) is undone whole, and the ops around it stand."""
    child, real = entities.ENTITIES["child"], entities.ENTITIES["child"].update
    visit, real_visit = entities.ENTITIES["visit"], entities.ENTITIES["visit"].create

    def refused_late(*args, **kwargs):
        real(*args, **kwargs)
        raise ApiError(409, "late", "写入后才拒绝")

    def crashed_late(actor, data, ctx):
        real_visit(actor, data, ctx)
        raise RuntimeError("after the visit was flushed")
    monkeypatch.setitem(entities.ENTITIES, "child", replace(child, update=refused_late))
    monkeypatch.setitem(entities.ENTITIES, "visit", replace(visit, create=crashed_late))
    kid = town.children["a1"]
    before = snapshot(app, TABLES[:-1])
    results = push(worker, [op("child", "update", kid, {"school": "半途小学"}, base_version=1),
                            visit_op(kid), visit_op(kid)])["results"]
    assert [r["status"] for r in results] == ["rejected"] * 3
    assert snapshot(app, TABLES[:-1]) == before
    monkeypatch.setitem(entities.ENTITIES, "child", child)
    monkeypatch.setitem(entities.ENTITIES, "visit", visit)
    results = push(worker, [household_op(town, "前一户"), op("child", "update", kid, {"school": "甲小学"},
                                                            base_version=1), household_op(town, "后一户")])
    assert [r["status"] for r in results["results"]] == ["applied"] * 3
    assert worker.get(f"/api/children/{kid}").get_json()["version"] == 2


@pytest.mark.parametrize("base_version, refusal", [
    (-1, "应不小于 1 且不大于 2147483647"), (0, "应不小于 1 且不大于 2147483647"), ("1", "应为整数")])
def test_a_base_version_that_is_no_version_is_refused_and_nothing_changes(app, town, worker, base_version,
                                                                          refusal):
    """Versions start at 1: a base of -1 once went through as a merge of an edit on no version."""
    before = snapshot(app, TABLES)
    answer = push(worker, [op("household", "update", town.households["a1"], {"address": "改过的地址"},
                              base_version=base_version)])["results"]
    assert [(r["status"], r["errors"]) for r in answer] == [("rejected", {"base_version": [refusal]})]
    after = snapshot(app, TABLES)
    assert {name: rows for name, rows in after.items() if name != "applied_op"} == {
        name: rows for name, rows in before.items() if name != "applied_op"}


def test_a_rectification_deadline_past_2100_is_refused(town, login):
    inspector = login("inspector", device_id="phone-inspector-badinput")
    late = op("inspection", "create", str(uuid.uuid4()), {
        "venue_id": town.venues["a"], "inspected_at": VISITED,
        "answers": [{"item": "verify_identity", "result": "fail", "deadline": "9999-12-31"}]})
    answer = push(inspector, [late])["results"]
    assert [(r["status"], r["errors"]) for r in answer] == [
        ("rejected", {"answers.0.deadline": ["日期应在 1900 至 2100 年之间"]})]
    assert inspector.post("/api/inspections", json=late["data"]).status_code == 422
