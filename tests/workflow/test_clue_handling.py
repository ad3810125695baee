"""The police station receives a clue and closes it with an outcome; the reporter never sees it again."""
import uuid

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent
from tests.sync.test_push_pull_basics import op, pull_all, push

from ..routes.helpers import assert_error


def _waiting(api):
    body = api.get("/api/tasks").get_json()
    return body["counts"].get("clue_new"), [(t["title"], t["entity"], t["detail"]) for t in body["tasks"]
                                            if t["kind"] == "clue_new"]


def test_the_station_receives_a_clue_and_closes_it_with_an_outcome(app, town, login):
    worker = login("worker_a", device_id="phone-clues-worker-a")
    police, admin, head = login("police", device_id="pc-clues-police"), login("admin"), login("head_a")
    clue_id = str(uuid.uuid4())
    assert push(worker, [op("clue", "create", clue_id, {"child_id": town.children["a1"],
                                                        "description": "发现陌生成年人多次接触",
                                                        "place": "村口"})])["results"][0]["status"] == "applied"
    # The test town holds one clue already, also new.
    assert _waiting(police) == (2, [("2 条线索待受理", "clue", {"count": 2})])
    assert _waiting(admin)[0] == 2
    assert _waiting(worker) == (None, [])

    receive, close = f"/api/clues/{clue_id}/receive", f"/api/clues/{clue_id}/close"
    assert_error(worker.post(receive), 404, "not_found")
    assert_error(head.post(receive), 404, "not_found")
    assert_error(admin.post(receive), 403, "clue_not_allowed")
    assert_error(police.post(close, json={"outcome": "case_filed", "note": "已立案"}), 409, "clue_state")
    received = police.post(receive).get_json()
    assert (received["status"], received["received_by"], received["version"], received["closed_at"]) == (
        "received", town.users["police"], 2, None)
    assert received["received_at"] is not None
    assert_error(police.post(receive), 409, "clue_state")
    assert _waiting(police)[0] == 1

    assert_error(police.post(close, json={"outcome": "arrested", "note": "x"}), 422, "validation_error",
                 field_names={"outcome"})
    assert_error(police.post(close, json={"outcome": "case_filed", "note": ""}), 422, "validation_error",
                 field_names={"note"})
    assert_error(police.post(close, json={"outcome": "case_filed", "note": "   "}), 422, "validation_error",
                 fields={"note": ["不能只有空白"]})
    closed = police.post(close, json={"outcome": "case_filed", "note": "已立案侦查，联系监护人"}).get_json()
    assert (closed["status"], closed["outcome"], closed["outcome_note"], closed["version"]) == (
        "closed", "case_filed", "已立案侦查，联系监护人", 3)
    assert_error(police.post(close, json={"outcome": "no_case", "note": "再关一次"}), 409, "clue_state")

    changes, _ = pull_all(police)
    pulled = next(c for c in changes if c["id"] == clue_id)
    assert (pulled["version"], pulled["data"]["status"], pulled["data"]["outcome_note"]) == (
        3, "closed", "已立案侦查，联系监护人")
    assert clue_id not in {c["id"] for c in pull_all(worker)[0]}
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_id == clue_id)
                                    .order_by(AuditEvent.seq)).all()
        assert [(e.action, e.actor_id, e.detail) for e in events] == [
            ("clue.create", town.users["worker_a"], {"version": 1, "fields": [
                "description", "place", "subject"]}),
            ("clue.update", town.users["police"], {"version": 2, "fields": [
                "received_at", "received_by", "status"]}),
            ("clue.update", town.users["police"], {"version": 3, "fields": [
                "closed_at", "outcome", "outcome_note", "status"]})]
