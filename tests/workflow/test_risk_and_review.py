"""Risk re-assessed on every visit, the schedule it sets, the village head's override and review."""
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import select

from server.crypto import get_cipher
from server.extensions import db
from server.models import AuditEvent, Child, Plan, Visit
from server.services.audit import verify_chain

from ..routes.helpers import assert_error
from ..sync.test_push_pull_basics import op, push
from .helpers import TZ, post_visit, visit_body


def _local_day(iso: str) -> date:
    return datetime.fromisoformat(iso).astimezone(TZ).date()


def test_visit_reassesses_schedules_and_proposes_a_plan(app, town, login):
    worker = login("worker_a")
    visit = post_visit(worker, town.children["a1"], "a1", {"injury_signs": True, "needs": ["legal"]})
    assert visit["flags"] == [] and visit["review_status"] == "none"
    child = worker.get(f"/api/children/{town.children['a1']}").get_json()
    assert child["risk_level"] == "high" and child["risk_reasons"] == ["injury_signs"]
    assert child["next_visit_due"] == (_local_day(visit["visited_at"]) + timedelta(days=30)).isoformat()
    plans = worker.get(f"/api/plans?child_id={town.children['a1']}").get_json()["rows"]
    assert len(plans) == 1
    plan = plans[0]
    assert (plan["status"], plan["helper_id"], plan["risk_factors"]) == (
        "draft", town.users["worker_a"], ["injury_signs"])
    assert [m["detail"].split("（")[0] for m in plan["measures"]] == [
        "强制报告", "心理干预", "法律援助", "司法救助", "一站式取证"]
    post_visit(worker, town.children["a1"], "a1", {"injury_signs": True}, hours_ago=0.5)
    assert len(worker.get(f"/api/plans?child_id={town.children['a1']}").get_json()["rows"]) == 1
    calm = post_visit(worker, town.children["a1"], "a1", {"injury_signs": False}, hours_ago=0.2)
    child = worker.get(f"/api/children/{town.children['a1']}").get_json()
    assert (child["risk_level"], child["risk_reasons"]) == ("low", [])
    assert child["next_visit_due"] == (_local_day(calm["visited_at"]) + timedelta(days=182)).isoformat()


def test_override_is_the_heads_with_a_reason_audited_and_cleared(app, town, login):
    worker, head, other = login("worker_a"), login("head_a"), login("head_b")
    visit = post_visit(worker, town.children["a1"], "a1", {"emotional_change": True})
    url = f"/api/children/{town.children['a1']}/risk-override"
    assert_error(worker.post(url, json={"level": "high", "reason": "家访发现异常"}), 403,
                 "override_not_allowed")
    assert_error(other.post(url, json={"level": "high", "reason": "家访发现异常"}), 404, "not_found")
    assert_error(head.post(url, json={"level": "high", "reason": "短"}), 422, "validation_error",
                 field_names={"reason"})
    body = head.post(url, json={"level": "high", "reason": "学校反映近期多次缺课"}).get_json()
    due = _local_day(visit["visited_at"])
    assert {k: body[k] for k in ("risk_level", "risk_assessed", "risk_override", "risk_reasons",
                                 "risk_reason_labels", "risk_override_reason", "next_visit_due")} == {
        "risk_level": "high", "risk_assessed": "medium", "risk_override": "high",
        "risk_reasons": ["emotional_change"], "risk_reason_labels": ["情绪、行为明显异常"],
        "risk_override_reason": "学校反映近期多次缺课",
        "next_visit_due": (due + timedelta(days=30)).isoformat()}
    post_visit(worker, town.children["a1"], "a1", {}, hours_ago=0.5)
    assert worker.get(f"/api/children/{town.children['a1']}").get_json()["risk_level"] == "high"
    cleared = head.post(url, json={"level": None, "reason": "已核实情况好转"}).get_json()
    assert (cleared["risk_level"], cleared["risk_override"], cleared["risk_assessed"]) == ("low", None, "low")
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action.like("child.risk_override%")).order_by(AuditEvent.seq)).all()
        assert [(e.action, e.actor_id, e.detail["to"]) for e in events] == [
            ("child.risk_override", town.users["head_a"], "high"),
            ("child.risk_override_cleared", town.users["head_a"], None)]
        reason = get_cipher().decrypt(bytes(events[0].reason_ct), "audit_event", "reason", events[0].id)
        assert reason.decode() == "学校反映近期多次缺课"
        assert verify_chain()["ok"]


def test_flagged_visit_waits_for_review_and_holds_the_level(app, town, login):
    worker, head = login("worker_a"), login("head_a")
    post_visit(worker, town.children["a1"], "a1", {"injury_signs": True}, hours_ago=3)
    flagged = post_visit(worker, town.children["a1"], "a1", {"injury_signs": False}, located=False)
    assert flagged["flags"] == ["no_location"] and flagged["review_status"] == "pending"
    child = worker.get(f"/api/children/{town.children['a1']}").get_json()
    assert (child["risk_level"], child["risk_reasons"]) == ("high", ["unverified_visit"])
    queue = head.get("/api/review/visits").get_json()
    assert queue["total"] == 1
    assert {k: queue["rows"][0][k] for k in ("id", "child_name", "worker_name", "flags", "review_status")} == {
        "id": flagged["id"], "child_name": "欧阳明月", "worker_name": "测试worker_a", "flags": ["no_location"],
        "review_status": "pending"}
    assert_error(worker.get("/api/review/visits"), 403, "review_not_allowed")
    assert_error(login("head_b").post(f"/api/visits/{flagged['id']}/review", json={"decision": "accept"}),
                 404, "not_found")
    accepted = head.post(f"/api/visits/{flagged['id']}/review", json={"decision": "accept"}).get_json()
    assert (accepted["review_status"], accepted["reviewed_by"]) == ("accepted", town.users["head_a"])
    assert worker.get(f"/api/children/{town.children['a1']}").get_json()["risk_level"] == "low"
    assert head.get("/api/review/visits").get_json()["total"] == 0
    assert_error(head.post(f"/api/visits/{flagged['id']}/review", json={"decision": "question", "note": "x"}),
                 409, "not_reviewable")


def test_questioned_visit_goes_back_to_the_workers_to_do_until_amended(app, town, login):
    worker, head = login("worker_a"), login("head_a")
    flagged = post_visit(worker, town.children["a1"], "a1", {}, located=False)
    url = f"/api/visits/{flagged['id']}/review"
    assert_error(head.post(url, json={"decision": "question"}), 422, "validation_error", field_names={"note"})
    assert_error(worker.post(url, json={"decision": "accept"}), 403, "review_not_allowed")
    body = head.post(url, json={"decision": "question", "note": "未定位，请说明当时情况"}).get_json()
    assert (body["review_status"], body["review_note"]) == ("questioned", "未定位，请说明当时情况")
    todo = [t for t in worker.get("/api/tasks").get_json()["tasks"] if t["kind"] == "visit_questioned"]
    assert [(t["entity_id"], t["detail"]["note"], t["title"]) for t in todo] == [
        (flagged["id"], "未定位，请说明当时情况", "欧阳明月 走访记录存疑")]
    amend = post_visit(worker, town.children["a1"], "a1", {}, hours_ago=0.5) | {}
    response = worker.post("/api/visits", json={
        "child_id": town.children["a1"], "visited_at": amend["visited_at"], "lat": 29.1, "lon": 113.2,
        "accuracy_m": 10, "amends": flagged["id"], "amend_reason": "补充定位"})
    assert response.status_code == 201, response.get_json()
    counts = worker.get("/api/tasks").get_json()["counts"]
    assert counts["visit_questioned"] == 0
    # Located now, the correction is not flagged, but the head's question was not answered by the
    # worker's word alone: the correction waits for the head.
    correction = response.get_json()
    assert (correction["flags"], correction["review_status"]) == ([], "pending")
    assert [r["id"] for r in head.get("/api/review/visits").get_json()["rows"]] == [correction["id"]]
    accepted = head.post(f"/api/visits/{correction['id']}/review", json={"decision": "accept"})
    assert accepted.get_json()["review_status"] == "accepted"
    with app.app_context():
        assert db.session.scalar(select(Plan.id)) is None
        assert db.session.get(Child, town.children["a1"]).risk_level == "low"


def test_an_amendment_that_corrects_a_future_visit_time_moves_the_schedule_back(app, town, login):
    worker = login("worker_a")
    child_url = f"/api/children/{town.children['a1']}"
    wrong = post_visit(worker, town.children["a1"], "a1", {}, hours_ago=-24 * 30)  # the clock a month ahead
    assert "future_time" in wrong["flags"]
    # Until corrected, the visit counts as made when it arrived: no visit is made after that.
    child = worker.get(child_url).get_json()
    assert child["last_visit_at"] == wrong["received_at"]
    assert child["next_visit_due"] == (_local_day(wrong["received_at"]) + timedelta(days=182)).isoformat()
    right = datetime.now(TZ) - timedelta(hours=1)
    response = worker.post("/api/visits", json={
        "child_id": town.children["a1"], "visited_at": right.isoformat(), "lat": 29.1, "lon": 113.2,
        "accuracy_m": 10, "amends": wrong["id"], "amend_reason": "手机时间错误，更正走访时间"})
    assert response.status_code == 201, response.get_json()
    child = worker.get(child_url).get_json()
    assert (_local_day(child["last_visit_at"]), child["next_visit_due"]) == (
        right.date(), (right.date() + timedelta(days=182)).isoformat())


def test_a_correction_from_a_phone_still_ahead_counts_as_made_when_the_first_record_arrived(app, town, login):
    """The clock still a month ahead, the worker corrects the visit twice: each correction dated
    ahead counts as made when the visit first arrived, not when the correction did, so the child's
    schedule does not slide later with every correction."""
    worker = login("worker_a")
    child_url = f"/api/children/{town.children['a1']}"
    wrong = post_visit(worker, town.children["a1"], "a1", {}, hours_ago=-24 * 30)
    amends = wrong
    for reason in ("走访时间填写有误", "再次更正走访时间"):
        body = {**visit_body(town.children["a1"], "a1", {}, hours_ago=-24 * 29), "amends": amends["id"],
                "amend_reason": reason}
        response = worker.post("/api/visits", json=body)
        assert response.status_code == 201, response.get_json()
        amends = response.get_json()
        assert (amends["received_at"] > wrong["received_at"], amends["counted_at"]) == (
            True, wrong["received_at"])
    child = worker.get(child_url).get_json()
    assert (child["last_visit_at"], child["next_visit_due"]) == (
        wrong["received_at"], (_local_day(wrong["received_at"]) + timedelta(days=182)).isoformat())


def test_a_visit_dated_ahead_by_the_phone_does_not_hide_the_visits_after_it(app, town, login):
    """A phone whose clock ran a year ahead recorded a visit; the real visits, dated
    before that wrong time, are still the child's latest, and its schedule runs from them."""
    worker = login("worker_a")
    child_url = f"/api/children/{town.children['a1']}"
    ahead = post_visit(worker, town.children["a1"], "a1", {}, hours_ago=-24 * 365)
    assert ("future_time" in ahead["flags"], ahead["visited_at"] > ahead["received_at"]) == (True, True)
    later = post_visit(worker, town.children["a1"], "a1", {}, hours_ago=0)
    # The answers say when each counts as made, so a phone can order them as the server does.
    assert (ahead["counted_at"], later["counted_at"]) == (ahead["received_at"], later["visited_at"])
    child = worker.get(child_url).get_json()
    assert (child["last_visit_at"], child["next_visit_due"]) == (
        later["visited_at"], (_local_day(later["visited_at"]) + timedelta(days=182)).isoformat())
    with app.app_context():
        assert db.session.get(Child, town.children["a1"]).last_visit_at.isoformat() == later["visited_at"]
        db.session.remove()


def test_categories_set_the_level_at_registration_and_when_edited(app, town, login):
    worker = login("worker_a", device_id="phone-risk-categories")
    child_id = str(uuid.uuid4())
    created = worker.post("/api/children", json={"id": child_id, "household_id": town.households["a1"],
                                                 "name": "新登记儿童", "sex": "M", "categories": ["disabled"]})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["risk_level"], body["risk_reasons"], body["version"]) == ("medium", ["disabled"], 1)
    result = push(worker, [op("child", "update", child_id, {"categories": ["left_behind"]}, base_version=1)])
    assert [(r["status"], r["version"]) for r in result["results"]] == [("applied", 2)]
    child = worker.get(f"/api/children/{child_id}").get_json()
    assert (child["risk_level"], child["risk_reasons"]) == ("low", [])
    with app.app_context():
        events = db.session.execute(select(AuditEvent.action, AuditEvent.detail).where(
            AuditEvent.entity_id == child_id).order_by(AuditEvent.seq)).all()
        assert [(action, detail["version"]) for action, detail in events] == [
            ("child.create", 1), ("child.update", 2)]
        assert events[1][1]["fields"] == [
            "categories", "risk_assessed", "risk_changed_at", "risk_level", "risk_reasons"]
        db.session.remove()


def test_a_replaced_visit_leaves_the_review_queue_and_the_to_do_and_is_not_reviewed(app, town, login):
    """A replaced visit no longer says what happened: the head reviews the amendment that replaced it."""
    worker, head = login("worker_a"), login("head_a")
    flagged = post_visit(worker, town.children["a1"], "a1", located=False, hours_ago=2)
    assert (flagged["flags"], flagged["review_status"]) == (["no_location"], "pending")

    def queued() -> list:
        return [row["id"] for row in head.get("/api/review/visits").get_json()["rows"]]

    def to_do() -> tuple:
        tasks = head.get("/api/tasks").get_json()
        return (tasks["counts"].get("review_pending", 0),
                [t["kind"] for t in tasks["tasks"] if t["kind"] == "review_pending"])
    assert (queued(), to_do()) == ([flagged["id"]], (1, ["review_pending"]))
    body = {**visit_body(town.children["a1"], "a1", hours_ago=2), "visited_at": flagged["visited_at"],
            "amends": flagged["id"], "amend_reason": "补充定位"}
    amended = worker.post("/api/visits", json=body)
    assert amended.status_code == 201, amended.get_json()
    # Located now, the correction is not flagged; it waits for the head all the same, or the
    # worker would have settled their own flag.
    assert (amended.get_json()["flags"], amended.get_json()["review_status"]) == ([], "pending")
    assert (queued(), to_do()) == ([amended.get_json()["id"]], (1, ["review_pending"]))
    decision = head.post(f"/api/visits/{flagged['id']}/review", json={"decision": "accept", "note": "可以"})
    assert_error(decision, 409, "not_reviewable")
    with app.app_context():
        assert db.session.get(Visit, flagged["id"]).review_status == "pending"


def test_a_village_heads_own_flagged_visit_is_reviewed_by_the_town_office(app, town, login):
    """The review is the second person's check on the one who recorded the visit: a head's own
    flagged visit is neither in the head's to-do nor decided by the head, but by the town office."""
    head, worker, admin = login("head_a"), login("worker_a"), login("admin")
    own = post_visit(head, town.children["a1"], "a1", located=False)
    theirs = post_visit(worker, town.children["a1"], "a1", located=False, hours_ago=2)
    assert own["flags"] == theirs["flags"] == ["no_location"]

    def queue(api):
        return {row["id"]: row["may_decide"] for row in api.get("/api/review/visits").get_json()["rows"]}

    def pending(api):
        return api.get("/api/tasks").get_json()["counts"].get("review_pending", 0)
    assert (queue(head), pending(head)) == ({own["id"]: False, theirs["id"]: True}, 1)
    assert (queue(admin), pending(admin)) == ({own["id"]: True, theirs["id"]: False}, 1)
    for decision in ("accept", "question"):
        answer = head.post(f"/api/visits/{own['id']}/review", json={"decision": decision, "note": "已核实"})
        assert_error(answer, 403, "own_record")
    assert_error(admin.post(f"/api/visits/{theirs['id']}/review", json={"decision": "accept"}),
                 403, "review_not_allowed")
    accepted = admin.post(f"/api/visits/{own['id']}/review", json={"decision": "accept", "note": "已核实"})
    assert accepted.status_code == 200, accepted.get_json()
    assert (accepted.get_json()["review_status"], accepted.get_json()["reviewed_by"]) == (
        "accepted", town.users["admin"])
    assert (pending(head), pending(admin)) == (1, 0)


def test_a_village_heads_own_visit_questioned_by_the_town_office_is_in_the_heads_to_do(app, town, login):
    """The town office questions a head's own flagged visit: it waits in the head's to-do, as a
    worker's questioned visit waits in theirs, until the head corrects it."""
    head, admin = login("head_a"), login("admin")
    own = post_visit(head, town.children["a1"], "a1", located=False)
    questioned = admin.post(f"/api/visits/{own['id']}/review",
                            json={"decision": "question", "note": "请补位置"})
    assert questioned.status_code == 200, questioned.get_json()
    body = head.get("/api/tasks").get_json()
    assert body["counts"]["visit_questioned"] == 1
    items = [(t["entity_id"], t["detail"]["note"]) for t in body["tasks"] if t["kind"] == "visit_questioned"]
    assert items == [(own["id"], "请补位置")]
