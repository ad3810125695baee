"""A household's location proposed from an accurate visit, confirmed or rejected by the village head."""
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from geopy.distance import geodesic
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent
from server.services.audit import verify_chain
from tests.services.test_trust import HOME, make_home, now, offset, push_at, visit
from tests.sync.test_push_pull_basics import op, pull_all

from ..routes.helpers import assert_error

DEVICE = "phone-locations-worker-a"


@pytest.fixture
def worker(town, login):
    return login("worker_a", device_id=DEVICE)


@pytest.fixture
def proposed(worker, town):
    """A household without a location, its child, and the accurate visit that proposed one."""
    household_id, child_id = make_home(worker, town.grids["a1"], point=None)
    fix = offset(HOME, 10)
    body = visit(worker, child_id, fix, accuracy=30)
    proposal = {"lat": round(fix[0], 7), "lon": round(fix[1], 7), "accuracy_m": 30.0,
                "visit_id": body["id"], "worker_id": body["worker_id"],
                "visited_at": datetime.fromisoformat(body["visited_at"]).astimezone(UTC).isoformat()}
    return household_id, child_id, proposal


def _household_events(app, household_id):
    with app.app_context():
        return [(e.action, e.actor_id, e.detail) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.entity_id == household_id).order_by(AuditEvent.seq))]


def _location_tasks(api):
    body = api.get("/api/tasks").get_json()
    return body["counts"].get("location_pending"), [
        (t["title"], t["entity"], t["detail"]) for t in body["tasks"] if t["kind"] == "location_pending"]


def test_the_proposal_waits_for_the_village_head_who_confirms_it(app, town, login, worker, proposed):
    household_id, child_id, proposal = proposed
    head, admin = login("head_a"), login("admin")
    shown = worker.get(f"/api/households/{household_id}").get_json()
    assert (shown["lat"], shown["lon"], shown["version"], shown["location_proposal"]) == (
        None, None, 2, proposal)

    queue = head.get("/api/review/locations").get_json()
    assert (queue["total"], len(queue["rows"])) == (1, 1)
    row = queue["rows"][0]
    assert {k: row[k] for k in ("id", "address", "grid_id", "grid_name", "worker_name", "lat",
                                "location_proposal", "version")} == {
        "id": household_id, "address": "槐花巷1号", "grid_id": town.grids["a1"], "grid_name": "第1网格",
        "worker_name": "测试worker_a", "lat": None, "location_proposal": proposal, "version": 2}
    assert head.get(f"/api/review/locations?grid_id={town.grids['a2']}").get_json()["total"] == 0
    assert login("head_b").get("/api/review/locations").get_json()["total"] == 0
    assert admin.get("/api/review/locations").get_json()["total"] == 1
    assert_error(worker.get("/api/review/locations"), 403, "review_not_allowed")
    assert _location_tasks(head) == (1, [("1 户住址位置待确认", "review_location", {"count": 1})])
    assert _location_tasks(worker) == (None, [])

    url = f"/api/households/{household_id}/location-review"
    confirm = {"decision": "confirm", "visit_id": proposal["visit_id"]}
    assert_error(admin.post(url, json=confirm), 403, "review_not_allowed")
    assert_error(worker.post(url, json=confirm), 403, "review_not_allowed")
    assert_error(login("head_b").post(url, json=confirm), 404, "not_found")
    assert_error(head.post(url, json={**confirm, "decision": "maybe"}), 422, "validation_error",
                 field_names={"decision"})
    assert_error(head.post(url, json={}), 422, "validation_error", field_names={"decision", "visit_id"})
    assert worker.get(f"/api/households/{household_id}").get_json()["version"] == 2

    confirmed = head.post(url, json=confirm).get_json()
    assert (confirmed["lat"], confirmed["lon"], confirmed["location_proposal"], confirmed["version"]) == (
        proposal["lat"], proposal["lon"], None, 3)
    assert head.get("/api/review/locations").get_json()["total"] == 0
    assert _location_tasks(head) == (0, [])
    assert_error(head.post(url, json=confirm), 409, "not_pending")
    assert _household_events(app, household_id) == [
        ("household.create", town.users["worker_a"], {"version": 1, "fields": [
            "address", "family_type", "grid_id", "guardians"]}),
        ("household.update", town.users["worker_a"], {"version": 2, "fields": ["proposed_location"]}),
        ("household.update", town.users["head_a"], {"version": 3, "fields": ["location", "proposed_location"]})]
    with app.app_context():
        assert verify_chain()["ok"]

    changes, _ = pull_all(login("worker_a", device_id="phone-locations-worker-a-2"))
    pulled = [c for c in changes if c["id"] == household_id]
    assert [(c["action"], c["version"], c["data"]["lat"], c["data"]["location_proposal"]) for c in pulled] == [
        ("upsert", 3, proposal["lat"], None)]
    # Visits are now checked against the confirmed location.
    far = visit(worker, child_id, offset(HOME, 2000), accuracy=10, at=now() - timedelta(days=2))
    assert far["flags"] == ["location_mismatch"]
    assert far["distance_m"] == pytest.approx(1990, abs=15)


def test_a_rejected_proposal_is_cleared_and_a_later_visit_proposes_again(app, town, login, worker, proposed):
    household_id, child_id, proposal = proposed
    head = login("head_a")
    rejected = head.post(f"/api/households/{household_id}/location-review",
                         json={"decision": "reject", "visit_id": proposal["visit_id"]}).get_json()
    assert (rejected["lat"], rejected["location_proposal"], rejected["version"]) == (None, None, 3)
    assert _household_events(app, household_id)[-1] == (
        "household.update", town.users["head_a"], {"version": 3, "fields": ["proposed_location"]})
    assert head.get("/api/review/locations").get_json()["total"] == 0

    again = visit(worker, child_id, offset(HOME, 30), accuracy=20, at=now() - timedelta(days=2))
    shown = worker.get(f"/api/households/{household_id}").get_json()
    assert (shown["lat"], shown["version"], shown["location_proposal"]["visit_id"],
            shown["location_proposal"]["accuracy_m"]) == (None, 4, again["id"], 20.0)
    assert head.get("/api/review/locations").get_json()["total"] == 1


def test_a_location_set_by_hand_settles_the_waiting_proposal(app, town, login, worker, proposed):
    household_id, _, proposal = proposed
    hand = offset(HOME, 40)
    # Not by the worker whose visit proposed it: the head's question is not the worker's to settle.
    refused = worker.post("/api/sync/push", json={"device_id": worker.device_id, "ops": [
        op("household", "update", household_id, {"lat": hand[0], "lon": hand[1]}, base_version=1)]})
    assert [(r["status"], r["errors"]) for r in refused.get_json()["results"]] == [
        ("rejected", {"_op": ["住户位置已确定或待负责人确认，网格员不能修改；如需更改请联系村/社区负责人"]})]
    # The head's phone edits the location on version 1, which it had before the proposal: the
    # proposal touched no field the phone changed, so the edit merges, and the proposal is moot.
    head_phone = login("head_a", device_id="phone-locations-head-a")
    push_at(head_phone, [op("household", "update", household_id, {"lat": hand[0], "lon": hand[1]},
                            base_version=1)])
    shown = worker.get(f"/api/households/{household_id}").get_json()
    assert (shown["lat"], shown["lon"], shown["location_proposal"], shown["version"]) == (
        hand[0], hand[1], None, 3)
    assert _household_events(app, household_id)[-1] == (
        "household.update", town.users["head_a"], {"version": 3, "fields": ["location", "proposed_location"]})
    head = login("head_a")
    assert head.get("/api/review/locations").get_json()["total"] == 0
    assert_error(head.post(f"/api/households/{household_id}/location-review",
                           json={"decision": "confirm", "visit_id": proposal["visit_id"]}), 409, "not_pending")


def test_a_vague_fix_proposes_nothing_and_nothing_waits(app, town, login, worker):
    household_id, child_id = make_home(worker, town.grids["a1"], point=None)
    visit(worker, child_id, offset(HOME, 10), accuracy=80)
    shown = worker.get(f"/api/households/{household_id}").get_json()
    assert (shown["location_proposal"], shown["version"]) == (None, 1)
    head = login("head_a")
    assert head.get("/api/review/locations").get_json()["total"] == 0
    assert_error(head.post(f"/api/households/{household_id}/location-review",
                           json={"decision": "reject", "visit_id": str(uuid.uuid4())}), 409, "not_pending")


def test_a_correction_of_the_proposing_visit_takes_the_proposal_with_it(app, town, login, worker, proposed):
    household_id, child_id, proposal = proposed
    moved = offset(HOME, 25)
    at = datetime.fromisoformat(proposal["visited_at"])
    corrected = push_at(worker, [op("visit", "create", str(uuid.uuid4()), {
        "child_id": child_id, "visited_at": at.isoformat(), "lat": moved[0], "lon": moved[1],
        "accuracy_m": 8, "amends": proposal["visit_id"], "amend_reason": "定位记错了"})])[0]
    shown = worker.get(f"/api/households/{household_id}").get_json()
    assert (shown["version"], shown["location_proposal"]) == (3, {
        "lat": round(moved[0], 7), "lon": round(moved[1], 7), "accuracy_m": 8.0, "visit_id": corrected["id"],
        "worker_id": proposal["worker_id"], "visited_at": proposal["visited_at"]})
    # Corrected again, without a fix: nothing is left to propose.
    push_at(worker, [op("visit", "create", str(uuid.uuid4()), {
        "child_id": child_id, "visited_at": at.isoformat(), "amends": corrected["id"],
        "amend_reason": "当时没有定位"})])
    shown = worker.get(f"/api/households/{household_id}").get_json()
    assert (shown["version"], shown["location_proposal"], shown["lat"]) == (4, None, None)
    assert login("head_a").get("/api/review/locations").get_json()["total"] == 0



def test_the_head_confirms_the_proposal_seen_not_one_a_correction_put_in_its_place(app, town, login, worker,
                                                                                   proposed):
    """The head opens the queue; meanwhile the worker corrects the proposing visit with a fix 3 km
    off. Confirming what the head saw must not make the unseen fix the household's location."""
    household_id, child_id, proposal = proposed
    head = login("head_a")
    seen = head.get("/api/review/locations").get_json()["rows"][0]["location_proposal"]
    assert seen == proposal
    elsewhere = offset(HOME, 3000)
    corrected = push_at(worker, [op("visit", "create", str(uuid.uuid4()), {
        "child_id": child_id, "visited_at": proposal["visited_at"], "lat": elsewhere[0], "lon": elsewhere[1],
        "accuracy_m": 10, "amends": proposal["visit_id"], "amend_reason": "定位记错了"})])[0]
    url = f"/api/households/{household_id}/location-review"
    for decision in ("confirm", "reject"):
        assert_error(head.post(url, json={"decision": decision, "visit_id": seen["visit_id"]}),
                     409, "proposal_changed")
    shown = worker.get(f"/api/households/{household_id}").get_json()
    assert (shown["lat"], shown["location_proposal"]["visit_id"]) == (None, corrected["id"])
    confirmed = head.post(url, json={"decision": "confirm", "visit_id": corrected["id"]}).get_json()
    assert (confirmed["lat"], confirmed["lon"], confirmed["location_proposal"]) == (
        round(elsewhere[0], 7), round(elsewhere[1], 7), None)


def test_the_worker_whose_visits_it_checks_does_not_move_a_households_location(app, town, login, worker):
    """A household's location is what its visits are measured against: the worker may give one it has
    not got, not move it to where their visits are made. The village head may."""
    household_id, child_id = make_home(worker, town.grids["a1"])
    elsewhere = offset(HOME, 2000)
    refused = worker.edit(f"/api/households/{household_id}", {"lat": elsewhere[0], "lon": elsewhere[1]})
    locked = "住户位置已确定或待负责人确认，网格员不能修改；如需更改请联系村/社区负责人"
    assert_error(refused, 403, "location_locked")
    assert refused.get_json()["error"]["message"] == locked
    pushed = worker.post("/api/sync/push", json={"device_id": worker.device_id, "ops": [
        op("household", "update", household_id, {"lat": elsewhere[0], "lon": elsewhere[1], "address": "新地址"},
           base_version=1),
        op("household", "update", household_id, {"lat": None, "lon": None}, base_version=1)]}).get_json()
    assert [(r["status"], r["errors"]) for r in pushed["results"]] == [
        ("rejected", {"_op": [locked]})] * 2
    shown = worker.get(f"/api/households/{household_id}").get_json()
    assert (shown["lat"], shown["lon"], shown["address"], shown["version"]) == (*HOME, "槐花巷1号", 1)
    # An edit that leaves the location as it is goes through.
    same = worker.edit(f"/api/households/{household_id}", {"lat": HOME[0], "lon": HOME[1],
                                                           "address": "槐花巷2号"})
    assert (same.status_code, same.get_json()["address"]) == (200, "槐花巷2号")
    moved = login("head_a").edit(f"/api/households/{household_id}", {"lat": elsewhere[0], "lon": elsewhere[1]})
    assert (moved.status_code, moved.get_json()["lat"]) == (200, elsewhere[0])
    assert visit(worker, child_id, elsewhere)["flags"] == []


def test_the_queue_names_the_nearest_located_home_of_the_village(app, town, login, worker, proposed):
    """Bare coordinates say nothing to a head: the queue says how far the proposal lies from the
    village's nearest household with a location, and which; a home of another village is no neighbour."""
    household_id, _, proposal = proposed
    head = login("head_a")
    point = (proposal["lat"], proposal["lon"])
    far = head.get("/api/review/locations").get_json()["rows"][0]["nearest"]
    expected = round(geodesic(point, (29.1, 113.2)).meters)  # the test town's a1 home, ~95 km away
    assert (far["household_id"], far["address"]) == (town.households["a1"], "测试镇a1组2号槐花巷")
    assert abs(far["distance_m"] - expected) <= 1 and far["distance_m"] > 90_000

    neighbour, _ = make_home(login("head_a", device_id="phone-locations-head-a"), town.grids["a2"],
                             point=offset(point, 40, bearing=90))
    make_home(login("head_b", device_id="phone-locations-head-b"), town.grids["b1"],
              point=offset(point, 5, bearing=90))  # village b
    near = head.get("/api/review/locations").get_json()["rows"][0]
    assert (near["id"], near["nearest"]["household_id"], near["nearest"]["address"]) == (
        household_id, neighbour, "槐花巷1号")
    assert abs(near["nearest"]["distance_m"] - 40) <= 1
