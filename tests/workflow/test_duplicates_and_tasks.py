"""Duplicate children found and merged with both histories; the to-do's deadlines and reports."""
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, Child, Clue, Plan, PlanProgress, ReportSnapshot, Visit, new_id
from server.services import schedule

from ..routes.helpers import assert_error
from ..sync.test_push_pull_basics import op, push
from . import ledger_town
from .helpers import post_visit, today, visit_body


def _twin(app, town, key: str, id_number: str | None, household: str = "a2") -> str:
    with app.app_context():
        source = db.session.get(Child, town.children[key])
        twin = Child(id=new_id(), household_id=town.households[household], grid_id=town.grids[household],
                     village_id=town.villages[household[0]], sex="F", categories=["migrant"], birth_year=2015)
        twin.name, twin.birth_date, twin.id_number = source.name, source.birth_date, id_number
        db.session.add(twin)
        db.session.commit()
        return twin.id


def test_duplicates_are_found_and_merged_keeping_both_histories(app, town, login):
    same_number = _twin(app, town, "a1", "430699201501010011")
    same_identity = _twin(app, town, "a1", None)
    first_registered = datetime(2026, 10, 1, 9, tzinfo=UTC)
    with app.app_context():
        db.session.get(Child, same_number).registered_at = first_registered
        db.session.commit()
    head, worker = login("head_a"), login("worker_a")
    groups = head.get("/api/children/duplicates").get_json()["groups"]
    assert [(g["match"], sorted(c["id"] for c in g["children"])) for g in groups] == [
        ("id_number", sorted([town.children["a1"], same_number])),
        ("name_birth_village", sorted([town.children["a1"], same_number, same_identity]))]
    assert groups[0]["children"][0]["id_number"] == "430699********0011"
    assert_error(worker.get("/api/children/duplicates"), 403, "merge_not_allowed")
    assert_error(login("inspector").get("/api/children/duplicates"), 404, "not_found")
    visit = post_visit(login("head_a"), same_number, "a2", {"injury_signs": True})
    assert_error(login("head_b").post(f"/api/children/{same_number}/merge", json={"into": town.children["a1"]}),
                 404, "not_found")
    assert_error(head.post(f"/api/children/{town.children['a2']}/merge", json={"into": town.children["a1"]}),
                 422, "validation_error", field_names={"into"})
    merged = head.post(f"/api/children/{same_number}/merge", json={"into": town.children["a1"]}).get_json()
    assert merged["id"] == town.children["a1"]
    assert merged["categories"] == ["left_behind", "migrant"] and merged["risk_level"] == "high"
    assert datetime.fromisoformat(merged["registered_at"]) == first_registered  # the first registration
    assert head.get(f"/api/children/{same_number}").status_code == 404
    assert head.get(f"/api/visits/{visit['id']}").get_json()["child_id"] == town.children["a1"]
    plans = head.get(f"/api/plans?child_id={town.children['a1']}").get_json()["rows"]
    assert len(plans) == 1 and plans[0]["grid_id"] == town.grids["a1"]
    with app.app_context():
        retired = db.session.get(Child, same_number)
        assert (retired.merged_into_id, retired.deleted_at is not None) == (town.children["a1"], True)
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "child.merge"))
        assert event.detail == {"duplicate": same_number, "into": town.children["a1"], "match": "id_number",
                                "visits": 1, "plans": 1, "clues": 0}
        assert db.session.scalar(select(Visit.child_id).where(Visit.id == visit["id"])) == town.children["a1"]
    groups = head.get("/api/children/duplicates").get_json()["groups"]
    assert [(g["match"], len(g["children"])) for g in groups] == [("name_birth_village", 2)]


def test_each_duplicate_is_shown_with_its_place_household_and_history(app, town, login):
    """The head decides which registration to keep from what each holds: where the child lives (in
    words), its household, its visits and whether it has an open plan; the town office sees names
    masked, as everywhere."""
    twin = _twin(app, town, "a1", "430699201501010011")
    head = login("head_a")
    visit = post_visit(head, town.children["a1"], "a1", {"injury_signs": True})
    with app.app_context():
        registered = {c.id: c.created_at for c in db.session.scalars(select(Child))}
    groups = head.get("/api/children/duplicates").get_json()["groups"]
    kept = {"id": town.children["a1"], "name": "欧阳明月", "sex": "F", "birth_date": "2015-01-01",
            "id_number": "430699********0011", "status": "active", "village_id": town.villages["a"],
            "village_name": "测试A村", "grid_id": town.grids["a1"], "grid_name": "第1网格",
            "household_id": town.households["a1"], "address": "测试镇a1组2号槐花巷",
            "created_at": registered[town.children["a1"]].isoformat(), "last_visit_at": visit["visited_at"],
            "visits": 1, "open_plan": True}
    other = {**kept, "id": twin, "grid_id": town.grids["a2"], "grid_name": "第2网格",
             "household_id": town.households["a2"], "address": "测试镇a2组2号槐花巷",
             "created_at": registered[twin].isoformat(), "last_visit_at": None, "visits": 0, "open_plan": False}
    assert groups == [{"match": "id_number", "children": [kept, other]}]
    masked = login("admin").get("/api/children/duplicates").get_json()["groups"]
    assert [[c["name"] for c in g["children"]] for g in masked] == [["欧**月", "欧**月"]]


def test_a_duplicates_visits_are_counted_as_they_stand(app, town, login):
    """The head picks which of two registrations to keep by their visits: a visit and its correction
    are one visit, as the report counts it, not two."""
    twin = _twin(app, town, "a1", "430699201501010011")
    head = login("head_a")
    for key, child_id in (("a1", town.children["a1"]), ("a2", twin)):
        original = post_visit(head, child_id, key)
        corrected = head.post("/api/visits", json={**visit_body(child_id, key), "amends": original["id"],
                                                   "amend_reason": "补充走访情况"})
        assert corrected.status_code == 201, corrected.get_json()
    post_visit(head, twin, "a2")
    groups = head.get("/api/children/duplicates").get_json()["groups"]
    assert [(g["match"], sorted((c["id"], c["visits"]) for c in g["children"])) for g in groups] == [
        ("id_number", sorted([(town.children["a1"], 1), (twin, 2)]))]


def test_a_merged_duplicates_history_moves_to_the_survivors_grid_and_village(app, town, login):
    """The twin lived in grid a2: after the merge its visit, plan, plan progress and clue are where
    the survivor is (grid a1), so a1's own worker sees them."""
    twin = _twin(app, town, "a1", "430699201501010011")
    head = login("head_a")
    visit = post_visit(head, twin, "a2", {"injury_signs": True})
    plan = head.get(f"/api/plans?child_id={twin}").get_json()["rows"][0]
    progress = head.post("/api/plan_progress", json={"plan_id": plan["id"], "note": "已联系",
                                                     "at": "2026-11-20T10:00:00+08:00"}).get_json()
    clue = {"id": str(uuid.uuid4())}
    filed = push(login("head_a", device_id="phone-merge-head-a"), [op("clue", "create", clue["id"], {
        "child_id": twin, "description": "疑似被陌生人接触", "place": "村口"})])
    assert filed["results"][0]["status"] == "applied"
    assert head.post(f"/api/children/{twin}/merge", json={"into": town.children["a1"]}).status_code == 200
    with app.app_context():
        places = {model.__name__: (row.grid_id if hasattr(row, "grid_id") else None, row.village_id)
                  for model, row in ((Visit, db.session.get(Visit, visit["id"])),
                                     (Plan, db.session.get(Plan, plan["id"])),
                                     (PlanProgress, db.session.get(PlanProgress, progress["id"])),
                                     (Clue, db.session.get(Clue, clue["id"])))}
    here = (town.grids["a1"], town.villages["a"])
    assert places == {"Visit": here, "Plan": here, "PlanProgress": here, "Clue": (None, town.villages["a"])}
    worker = login("worker_a")  # grid a1 only: before the merge it could see none of these
    assert [r["id"] for r in worker.get(f"/api/visits?child_id={town.children['a1']}").get_json()["rows"]] \
        == [visit["id"]]
    assert [r["id"] for r in worker.get(f"/api/plan_progress?plan_id={plan['id']}").get_json()["rows"]] \
        == [progress["id"]]


def _merge_state(app) -> dict:
    """Every row a merge could touch, as stored, and how many audit events there are."""
    with app.app_context():
        rows = {model.__name__: sorted(
            (r.id, r.child_id, getattr(r, "grid_id", None), r.village_id, r.version, r.deleted_at)
            for r in db.session.scalars(select(model))) for model in (Visit, Plan, Clue)}
        rows["Child"] = sorted((c.id, c.grid_id, c.version, c.categories, c.registered_at, c.merged_into_id,
                                c.deleted_at) for c in db.session.scalars(select(Child)))
        rows["PlanProgress"] = sorted((r.id, r.plan_id, r.grid_id, r.version)
                                      for r in db.session.scalars(select(PlanProgress)))
        rows["audit_events"] = len(db.session.scalars(select(AuditEvent.seq)).all())
        return rows


def test_a_merge_of_two_children_each_with_an_open_plan_is_refused_until_one_is_closed(app, town, login):
    """One child cannot have two open plans (creating a second is 409 plan_exists): merging two
    records that each have one is refused the same way, with nothing merged, until the head closes
    one; the plan left open is then the child's one open plan."""
    twin = _twin(app, town, "a1", "430699201501010011")
    head = login("head_a")
    post_visit(head, town.children["a1"], "a1", {"unknown_adult_contact": True})
    post_visit(head, twin, "a2", {"injury_signs": True})
    kept = head.get(f"/api/plans?child_id={town.children['a1']}").get_json()["rows"]
    doubled = head.get(f"/api/plans?child_id={twin}").get_json()["rows"]
    assert [p["status"] for p in kept + doubled] == ["draft", "draft"]
    before = _merge_state(app)
    reads = [head.get(f"/api/children/{c}").get_json() for c in (twin, town.children["a1"])]

    refused = head.post(f"/api/children/{twin}/merge", json={"into": town.children["a1"]})
    assert_error(refused, 409, "plan_exists")
    assert refused.get_json()["error"]["message"] == "两名儿童都有未结案的帮扶计划，请先将其中一份结案后再合并"
    assert _merge_state(app) == before
    assert [head.get(f"/api/children/{c}").get_json() for c in (twin, town.children["a1"])] == reads
    assert head.get(f"/api/plans?child_id={twin}").get_json()["rows"] == doubled

    closed = head.post(f"/api/plans/{doubled[0]['id']}/close", json={"outcome": "重复登记，以另一份计划为准"})
    assert closed.status_code == 200, closed.get_json()
    merged = head.post(f"/api/children/{twin}/merge", json={"into": town.children["a1"]})
    assert merged.status_code == 200, merged.get_json()
    plans = head.get(f"/api/plans?child_id={town.children['a1']}").get_json()["rows"]
    assert sorted((p["id"], p["status"]) for p in plans) == sorted(
        [(kept[0]["id"], "draft"), (doubled[0]["id"], "closed")])


def test_tasks_list_rectifications_and_reports_due(app, town, login, monkeypatch):
    with app.app_context():
        ledger_town.build(town)
        db.session.add(ReportSnapshot(id=new_id(), kind="monthly", period="2026-02",
                                      village_id=town.villages["a"], figures={}, audit_head="0" * 64,
                                      submitted_by=town.users["head_a"], window_start=date(2026, 1, 17),
                                      window_end=date(2026, 2, 16), due_on=date(2026, 2, 17)))
        db.session.commit()
    real_today = today()
    monkeypatch.setattr(schedule, "local_today", lambda: date(2026, 3, 12))
    head = login("head_a").get("/api/tasks").get_json()
    assert head["today"] == "2026-03-12"
    reports = [(t["entity_id"], t["due"], t["overdue"]) for t in head["tasks"] if t["kind"] == "report_due"]
    assert reports == [("2026-03", "2026-03-17", False)]
    head_b = login("head_b").get("/api/tasks").get_json()
    assert [(t["entity_id"], t["overdue"]) for t in head_b["tasks"] if t["kind"] == "report_due"] == [
        ("2026-02", True), ("2026-03", False)]
    admin = login("admin").get("/api/tasks").get_json()
    assert [(t["entity_id"], t["detail"]["missing"]) for t in admin["tasks"] if t["kind"] == "report_due"] == [
        ("2026-02", ["测试B村"]), ("2026-03", ["测试A村", "测试B村"])]
    monkeypatch.setattr(schedule, "local_today", lambda: real_today)
    head = login("head_a").get("/api/tasks").get_json()
    assert [(t["entity_id"], t["title"]) for t in head["tasks"] if t["kind"] == "overdue_visit"] == [
        (town.children["a1"], "欧阳明月 走访逾期")]
    assert head["counts"]["review_pending"] == 0 and head["counts"]["plan_review_due"] == 0
    rect = [t for t in login("inspector").get("/api/tasks").get_json()["tasks"] if t["kind"] == "rectification"]
    assert rect == []
    monkeypatch.setattr(schedule, "local_today", lambda: real_today + timedelta(days=15))
    rect = [t for t in login("inspector").get("/api/tasks").get_json()["tasks"] if t["kind"] == "rectification"]
    assert [(t["title"], t["detail"]["item"], t["due"]) for t in rect] == [
        ("测试a宾馆 整改期限", "staff_trained", (real_today + timedelta(days=20)).isoformat())]
    assert [t["kind"] for t in login("head_b").get("/api/tasks").get_json()["tasks"]
            if t["kind"] == "rectification"] == []
    police = login("police").get("/api/tasks").get_json()
    assert set(police["counts"]) == {"rectification", "report_due", "clue_new", "weekly_report_due"}
    # Units submit no monthly report, so they are never reminded of one they could not clear.
    for unit_user in ("police", "inspector"):
        tasks = login(unit_user).get("/api/tasks").get_json()["tasks"]
        assert [t for t in tasks if t["kind"] == "report_due"] == []
