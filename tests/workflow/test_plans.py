"""The plan lifecycle: automatic draft, approval, progress, review, closing; the 7-day to-do."""
import uuid
from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, Child, Plan, PlanProgress, utcnow
from server.services import plans
from server.services.audit import verify_chain

from ..routes.helpers import assert_error
from ..sync.test_push_pull_basics import op, push
from .helpers import post_visit, today


def _draft(worker, child_id: str) -> dict:
    post_visit(worker, child_id, "a1", {"unknown_adult_contact": True})
    rows = worker.get(f"/api/plans?child_id={child_id}").get_json()["rows"]
    assert [r["status"] for r in rows] == ["draft"]
    return rows[0]


def test_plan_goes_draft_active_reviewed_closed(app, town, login):
    worker, head = login("worker_a"), login("head_a")
    plan = _draft(worker, town.children["a1"])
    url = f"/api/plans/{plan['id']}"
    assert_error(worker.post(f"{url}/approve"), 403, "plan_not_allowed")
    assert_error(login("head_b").post(f"{url}/approve"), 404, "not_found")
    assert_error(head.post(f"{url}/review", json={"note": "按期评估"}), 409, "plan_not_active")
    approved = head.post(f"{url}/approve").get_json()
    assert (approved["status"], approved["approved_by"]) == ("active", town.users["head_a"])
    assert approved["next_review_due"] == (today() + timedelta(days=30)).isoformat()
    assert approved["approved_at"] is not None
    assert_error(head.post(f"{url}/approve"), 409, "plan_not_draft")
    progress = worker.post("/api/plan_progress", json={
        "plan_id": plan["id"], "at": "2026-11-20T10:00:00+08:00", "note": "已联系派出所"})
    assert progress.status_code == 201, progress.get_json()
    reviewed = head.post(f"{url}/review", json={"note": "措施落实中，继续跟进"}).get_json()
    assert reviewed["next_review_due"] == (today() + timedelta(days=30)).isoformat()
    entries = head.get(f"/api/plan_progress?plan_id={plan['id']}").get_json()
    assert sorted((r["note"], r["kind"], r["author_id"]) for r in entries["rows"]) == [
        ("已联系派出所", "progress", town.users["worker_a"]),
        ("措施落实中，继续跟进", "review", town.users["head_a"])]
    assert_error(head.post(f"{url}/close", json={}), 422, "validation_error", field_names={"outcome"})
    closed = head.post(f"{url}/close", json={"outcome": "风险解除，转入常规走访"}).get_json()
    assert (closed["status"], closed["outcome"], closed["next_review_due"]) == (
        "closed", "风险解除，转入常规走访", None)
    assert_error(head.post(f"{url}/close", json={"outcome": "再次结案"}), 409, "plan_closed")
    assert_error(head.post(f"{url}/approve"), 409, "plan_not_draft")


def test_a_plan_changed_since_the_head_read_it_is_not_approved_unseen(app, town, login):
    """The head read the draft at one version; the worker then cut its measures. An approval sent
    with the version the head read (If-Match) is refused, the plan stays a draft; sent with the
    version now stored, it is approved."""
    worker, head = login("worker_a"), login("head_a")
    plan = _draft(worker, town.children["a1"])
    url = f"/api/plans/{plan['id']}"
    seen = head.get(url).get_json()
    cut = worker.edit(url, {"measures": seen["measures"][:1]}).get_json()
    stale = head.post(f"{url}/approve", headers={"If-Match": str(seen["version"])})
    assert_error(stale, 409, "version_conflict")
    assert head.get(url).get_json() == cut
    approved = head.post(f"{url}/approve", headers={"If-Match": str(cut["version"])}).get_json()
    assert (approved["status"], approved["measures"], approved["version"]) == (
        "active", seen["measures"][:1], cut["version"] + 1)


def test_a_plan_without_a_helper_cannot_be_approved(app, town, login):
    head = login("head_a")
    head.post(f"/api/children/{town.children['a2']}/risk-override",
              json={"level": "high", "reason": "村委会掌握情况"})
    plan = head.get(f"/api/plans?child_id={town.children['a2']}").get_json()["rows"][0]
    assert (plan["status"], plan["helper_id"], plan["measures"]) == ("draft", None, [])
    assert_error(head.post(f"/api/plans/{plan['id']}/approve"), 422, "validation_error",
                 field_names={"helper_id"})
    # worker_a works grid a1: a2's plan would be out of their sight until given a2 as well.
    for outsider in ("worker_b", "head_b", "inspector", "police", "admin", "worker_a"):
        assert_error(head.edit(f"/api/plans/{plan['id']}", {"helper_id": town.users[outsider]}),
                     422, "validation_error", fields={"helper_id": [plans.HELPER_RULE]})
    _give_grid_a2(login, town)
    edit = head.edit(f"/api/plans/{plan['id']}", {"helper_id": town.users["worker_a"]})
    assert edit.status_code == 200, edit.get_json()
    assert_error(head.post(f"/api/plans/{plan['id']}/approve"), 422, "validation_error",
                 field_names={"measures"})
    edit = head.edit(f"/api/plans/{plan['id']}", {"measures": [
        {"kind": "living_aid", "detail": "申请临时救助", "due": "2026-12-31"}]})
    assert edit.status_code == 200, edit.get_json()
    assert head.post(f"/api/plans/{plan['id']}/approve").get_json()["status"] == "active"
    assert head.get(f"/api/plans/{plan['id']}").get_json()["helper_id"] == town.users["worker_a"]


def _give_grid_a2(login, town) -> None:
    answer = login("admin").patch(f"/api/users/{town.users['worker_a']}",
                                  json={"grid_ids": [town.grids["a1"], town.grids["a2"]]})
    assert answer.status_code == 200, answer.get_json()


def test_a_helper_who_left_cannot_be_approved_as_one(app, town, login):
    head, admin = login("head_a"), login("admin")
    _give_grid_a2(login, town)
    head.post(f"/api/children/{town.children['a2']}/risk-override",
              json={"level": "high", "reason": "村委会掌握情况"})
    plan = head.get(f"/api/plans?child_id={town.children['a2']}").get_json()["rows"][0]
    assert head.edit(f"/api/plans/{plan['id']}", {
        "helper_id": town.users["worker_a"],
        "measures": [{"kind": "living_aid", "detail": "申请临时救助", "due": None}]}).status_code == 200
    assert admin.patch(f"/api/users/{town.users['worker_a']}", json={"active": False}).status_code == 200
    # Disabling the account released them as the draft's helper (plans.release_helper).
    assert_error(head.post(f"/api/plans/{plan['id']}/approve"), 422, "validation_error",
                 fields={"helper_id": ["请先指定一名帮扶责任人"]})
    after = head.get(f"/api/plans/{plan['id']}").get_json()
    assert (after["status"], after["helper_id"]) == ("draft", None)


def _age_high_risk(app, child_id: str, days: int) -> None:
    with app.app_context():
        child = db.session.get(Child, child_id)
        child.risk_changed_at = utcnow() - timedelta(days=days)
        db.session.commit()


def _missing(api) -> list[str]:
    return [t["entity_id"] for t in api.get("/api/tasks").get_json()["tasks"] if t["kind"] == "plan_missing"]


def test_high_risk_child_without_active_plan_after_7_days_is_a_task(app, town, login):
    worker, head, admin = login("worker_a"), login("head_a"), login("admin")
    plan = _draft(worker, town.children["a1"])
    _age_high_risk(app, town.children["a1"], 6)
    assert _missing(head) == [] and _missing(admin) == []
    _age_high_risk(app, town.children["a1"], 8)
    assert _missing(head) == [town.children["a1"]] and _missing(admin) == [town.children["a1"]]
    assert _missing(login("head_b")) == [] and _missing(worker) == []
    admin_task = [t for t in admin.get("/api/tasks").get_json()["tasks"] if t["kind"] == "plan_missing"][0]
    assert admin_task["title"] == "欧**月 高风险超过7天未落实帮扶计划"
    head.post(f"/api/plans/{plan['id']}/approve")
    assert _missing(head) == [] and _missing(admin) == []
    with app.app_context():
        assert db.session.get(Plan, plan["id"]).status == "active"


def _approved_plan(town, login):
    worker, head = login("worker_a", device_id="phone-plan-worker-a"), login("head_a")
    post_visit(worker, town.children["a1"], "a1", {"unknown_adult_contact": True})
    plan = worker.get(f"/api/plans?child_id={town.children['a1']}").get_json()["rows"][0]
    url = f"/api/plans/{plan['id']}"
    assert head.edit(url, {"helper_id": town.users["worker_a"]}).status_code == 200
    approved = head.post(f"{url}/approve")
    assert approved.status_code == 200, approved.get_json()
    return worker, head, url, approved.get_json()


def test_only_the_approver_changes_an_approved_plan_and_nobody_its_status(app, town, login):
    """An approved plan stands as approved: a worker can neither edit it, set it back to draft,
    nor delete it by sync; the village head may still edit it; a status moves only by approval
    and closing."""
    worker, head, url, approved = _approved_plan(town, login)
    version = approved["version"]
    measures = [{"kind": "other", "detail": "改过的措施", "due": None}]
    edit = worker.patch(url, json={"measures": measures}, headers={"If-Match": str(version)})
    assert_error(edit, 403, "plan_not_allowed")
    for by in (worker, head):
        assert_error(by.edit(url, {"status": "draft"}), 422, "validation_error",
                     fields={"status": ["不允许的字段"]})
    deleted = push(worker, [op("plan", "delete", approved["id"], base_version=version)])["results"][0]
    assert (deleted["status"], deleted["errors"]) == (
        "rejected", {"_op": ["已批准的帮扶计划只能由村/社区负责人修改"]})
    assert worker.get(url).get_json() == approved
    changed = head.patch(url, json={"measures": measures}, headers={"If-Match": str(version)})
    assert changed.status_code == 200
    assert {**changed.get_json(), "version": None, "updated_at": None, "measures": None} == {
        **approved, "version": None, "updated_at": None, "measures": None}
    assert (changed.get_json()["measures"], changed.get_json()["status"]) == (measures, "active")


def test_a_worker_still_edits_and_deletes_a_draft(app, town, login):
    worker = login("worker_a", device_id="phone-plan-worker-a")
    post_visit(worker, town.children["a1"], "a1", {"unknown_adult_contact": True})
    plan = worker.get(f"/api/plans?child_id={town.children['a1']}").get_json()["rows"][0]
    assert plan["status"] == "draft"
    edited = worker.edit(f"/api/plans/{plan['id']}", {"review_every_days": 14})
    assert edited.status_code == 200 and edited.get_json()["review_every_days"] == 14
    deleted = push(worker, [op("plan", "delete", plan["id"], base_version=edited.get_json()["version"])])
    assert deleted["results"][0]["status"] == "applied"


def test_a_new_review_interval_moves_the_next_review_and_a_closed_plan_takes_no_progress(app, town, login):
    worker, head, url, approved = _approved_plan(town, login)
    assert approved["next_review_due"] == (today() + timedelta(days=30)).isoformat()
    edited = head.edit(url, {"review_every_days": 14})
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["next_review_due"] == (today() + timedelta(days=14)).isoformat()
    closed = head.post(f"{url}/close", json={"outcome": "风险解除"})
    assert closed.status_code == 200, closed.get_json()
    entry = {"plan_id": approved["id"], "at": "2026-11-20T10:00:00+08:00", "note": "结案后补记"}
    assert_error(worker.post("/api/plan_progress", json=entry), 409, "plan_closed")
    result = push(worker, [op("plan_progress", "create", str(uuid.uuid4()), entry)])["results"]
    assert [(r["status"], r["errors"]) for r in result] == [
        ("rejected", {"_op": ["帮扶计划已结案，不能再添加进展"]})]
    notes = [r["note"] for r in head.get(f"/api/plan_progress?plan_id={approved['id']}").get_json()["rows"]]
    assert "结案后补记" not in notes


def test_only_the_approver_corrects_a_plan_review_and_the_correction_stays_a_review(app, town, login):
    """A worker's 'correction' of the head's review would replace it with a plain progress note."""
    worker, head, url, approved = _approved_plan(town, login)
    assert head.post(f"{url}/review", json={"note": "措施落实到位"}).status_code == 200
    with app.app_context():
        review_id = db.session.scalar(select(PlanProgress.id).where(
            PlanProgress.plan_id == approved["id"], PlanProgress.kind == "review"))
    body = {"plan_id": approved["id"], "at": utcnow().isoformat(), "note": "评估改写",
            "amends": review_id, "amend_reason": "写错了"}
    assert_error(worker.post("/api/plan_progress", json=body), 403, "not_allowed")
    corrected = head.post("/api/plan_progress", json={**body, "note": "措施基本落实"})
    assert corrected.status_code == 201, corrected.get_json()
    with app.app_context():
        assert db.session.get(PlanProgress, corrected.get_json()["id"]).kind == "review"


def test_moving_a_household_saves_its_childs_plan_as_an_edit(app, town, login):
    """A plan is mutable: carried to the new grid, it takes a new version and an audit event; its
    helper, who works the new grid as well, stays."""
    _give_grid_a2(login, town)
    worker, head, url, approved = _approved_plan(town, login)
    moved = head.edit(f"/api/households/{town.households['a1']}", {"grid_id": town.grids["a2"]})
    assert moved.status_code == 200, moved.get_json()
    after = head.get(url).get_json()
    assert (after["grid_id"], after["version"], after["helper_id"]) == (
        town.grids["a2"], approved["version"] + 1, town.users["worker_a"])
    with app.app_context():
        events = db.session.execute(select(AuditEvent.actor_id, AuditEvent.detail).where(
            AuditEvent.entity_id == approved["id"], AuditEvent.action == "plan.update")
            .order_by(AuditEvent.seq.desc()).limit(1)).all()
        assert events == [(town.users["head_a"], {"version": after["version"], "fields": ["grid_id"]})]
        assert verify_chain()["ok"]


def test_a_child_with_an_open_plan_gets_no_second_one(app, town, login):
    """A visit drafted a plan for a child now high-risk; a plan created by hand for the same child is
    refused (two open plans: two approvals, two helpers, counted twice), and nothing is written."""
    head = login("head_a")
    head.post(f"/api/children/{town.children['a1']}/risk-override",
              json={"level": "high", "reason": "掌握情况"})
    drafted = head.get(f"/api/plans?child_id={town.children['a1']}").get_json()["rows"]
    assert [p["status"] for p in drafted] == ["draft"]
    assert_error(head.post("/api/plans", json={"child_id": town.children["a1"], "measures": []}), 409,
                 "plan_exists")
    assert head.get(f"/api/plans?child_id={town.children['a1']}").get_json()["rows"] == drafted


def _tasks(api, kind: str) -> tuple[int | None, list[dict]]:
    body = api.get("/api/tasks").get_json()
    return body["counts"].get(kind), [t for t in body["tasks"] if t["kind"] == kind]


def _last_plan_edit(plan_id: str) -> tuple:
    return db.session.execute(select(AuditEvent.actor_id, AuditEvent.detail).where(
        AuditEvent.entity_id == plan_id, AuditEvent.action == "plan.update")
        .order_by(AuditEvent.seq.desc()).limit(1)).one()


def test_a_moved_childs_open_plan_loses_a_helper_who_may_not_follow_it(app, town, login):
    """worker_a works grid a1 only: once a1's household moves to grid a2 they could no longer see the
    child's active plan, so the move's edit clears the helper and the head finds the plan in the
    to-do as needing one; the child's closed plan keeps the helper it had."""
    worker, head, url, first = _approved_plan(town, login)
    assert head.post(f"{url}/close", json={"outcome": "风险解除"}).status_code == 200
    closed = head.get(url).get_json()
    created = head.post("/api/plans", json={
        "child_id": town.children["a1"], "helper_id": town.users["worker_a"],
        "measures": [{"kind": "psychological", "detail": "心理疏导", "due": None}]})
    assert created.status_code == 201, created.get_json()
    second = f"/api/plans/{created.get_json()['id']}"
    active = head.post(f"{second}/approve").get_json()
    assert (active["status"], active["helper_id"]) == ("active", town.users["worker_a"])
    assert _tasks(head, "plan_helper_missing") == (0, [])

    moved = head.edit(f"/api/households/{town.households['a1']}", {"grid_id": town.grids["a2"]})
    assert moved.status_code == 200, moved.get_json()
    after = head.get(second).get_json()
    assert {**after, "updated_at": None} == {**active, "grid_id": town.grids["a2"], "helper_id": None,
                                             "version": active["version"] + 1, "updated_at": None}
    assert {**head.get(url).get_json(), "updated_at": None} == {
        **closed, "grid_id": town.grids["a2"], "version": closed["version"] + 1, "updated_at": None}
    with app.app_context():
        assert _last_plan_edit(active["id"]) == (
            town.users["head_a"], {"version": after["version"], "fields": ["grid_id", "helper_id"]})
        assert _last_plan_edit(closed["id"]) == (
            town.users["head_a"], {"version": closed["version"] + 1, "fields": ["grid_id"]})
        assert verify_chain()["ok"]
    assert_error(worker.get(second), 404, "not_found")
    item = {"kind": "plan_helper_missing", "title": "欧阳明月 帮扶计划待指定帮扶责任人",
            "due": active["next_review_due"], "overdue": False, "entity": "plan", "entity_id": active["id"],
            "village_id": town.villages["a"], "detail": {"child_id": town.children["a1"], "status": "active"}}
    assert _tasks(head, "plan_helper_missing") == (1, [item])
    masked = {**item, "title": "欧**月 帮扶计划待指定帮扶责任人"}
    assert _tasks(login("admin"), "plan_helper_missing") == (1, [masked])
    assert _tasks(login("head_b"), "plan_helper_missing") == (0, [])
    assert _tasks(worker, "plan_helper_missing") == (None, [])

    named = head.edit(second, {"helper_id": town.users["head_a"]})
    assert named.status_code == 200, named.get_json()
    assert (named.get_json()["status"], named.get_json()["helper_id"]) == ("active", town.users["head_a"])
    assert _tasks(head, "plan_helper_missing") == (0, [])


def test_a_draft_moved_to_another_village_waits_for_its_new_head_to_name_a_helper(app, town, login):
    """head_a helps a1's draft; the town office moves the household to village b: head_a may not help
    there, so the draft loses its helper and waits in head_b's approvals, which ask for one."""
    head = login("head_a")
    plan = _draft(login("worker_a"), town.children["a1"])
    url = f"/api/plans/{plan['id']}"
    assert head.edit(url, {"helper_id": town.users["head_a"]}).status_code == 200
    moved = login("admin").edit(f"/api/households/{town.households['a1']}", {"grid_id": town.grids["b1"]})
    assert moved.status_code == 200, moved.get_json()
    head_b = login("head_b")
    after = head_b.get(url).get_json()
    assert (after["status"], after["helper_id"], after["grid_id"], after["village_id"]) == (
        "draft", None, town.grids["b1"], town.villages["b"])
    with app.app_context():
        assert _last_plan_edit(plan["id"]) == (
            town.users["admin"], {"version": after["version"],
                                  "fields": ["grid_id", "helper_id", "village_id"]})
    assert [t["entity_id"] for t in _tasks(head_b, "plan_approval")[1]] == [plan["id"]]
    assert _tasks(head_b, "plan_helper_missing") == (0, [])
    assert _tasks(head, "plan_approval") == (0, [])
    assert_error(head_b.post(f"{url}/approve"), 422, "validation_error",
                 fields={"helper_id": ["请先指定一名帮扶责任人"]})
    assert head_b.edit(url, {"helper_id": town.users["worker_b"]}).status_code == 200
    approved = head_b.post(f"{url}/approve").get_json()
    assert (approved["status"], approved["helper_id"]) == ("active", town.users["worker_b"])
