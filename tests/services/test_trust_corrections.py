"""Trust flags and location proposals of corrected and flagged visits: a correction is checked as a
record of what happened then, where it happened."""
import uuid
from datetime import timedelta

import pytest

from server.extensions import db
from server.models import Household, Visit
from tests.services.test_trust import FAR, HOME, iso, make_home, now, offset, push_at, visit
from tests.sync.test_push_pull_basics import op


@pytest.fixture
def worker(town, login):
    return login("worker_a", device_id="phone-trust-corrections-worker-a")


def correct(api, original, reason="补记", **data):
    """Push a correction of `original` (as GET answers it) and return the correction as GET answers it."""
    correction_id = str(uuid.uuid4())
    body = {"child_id": original["child_id"], "visited_at": original["visited_at"],
            "answers": {"guardian_present": True}, "lat": original["lat"], "lon": original["lon"],
            "accuracy_m": original["accuracy_m"], "amends": original["id"], "amend_reason": reason, **data}
    push_at(api, [op("visit", "create", correction_id, body)])
    return api.get(f"/api/visits/{correction_id}").get_json()


def _received(app, visit_id, moment):
    """Say the visit reached the server at `moment` (as a phone that synced then would have)."""
    with app.app_context():
        db.session.get(Visit, visit_id).received_at = moment
        db.session.commit()


def test_a_correction_of_a_visit_made_before_the_child_moved_is_checked_at_the_home_visited(app, worker, town):
    old_home, child_id = make_home(worker, town.grids["a1"], HOME)
    new_home, _ = make_home(worker, town.grids["a1"], point=None)
    original = visit(worker, child_id, offset(HOME, 20), at=now() - timedelta(hours=5))
    assert (original["household_id"], original["flags"]) == (old_home, [])
    child = worker.get(f"/api/children/{child_id}").get_json()
    push_at(worker, [op("child", "update", child_id, {"household_id": new_home},
                        base_version=child["version"])])
    fixed = correct(worker, original, notes="监护人外出")
    assert (fixed["household_id"], fixed["flags"], fixed["distance_m"]) == (
        old_home, [], original["distance_m"])
    # The fix was taken at the old home: it is no proposal for the new one.
    with app.app_context():
        assert db.session.get(Household, new_home).proposed_location is None


def test_a_correction_made_a_week_after_a_visit_entered_on_time_is_no_late_entry(app, worker, town):
    _, child_id = make_home(worker, town.grids["a1"], HOME)
    visited = now() - timedelta(days=9)
    original = visit(worker, child_id, HOME, at=visited)
    _received(app, original["id"], visited + timedelta(hours=2))
    assert correct(worker, original)["flags"] == []
    # Moved more than a week before it was first received, the corrected visit is a late entry.
    again = visit(worker, child_id, HOME, at=now() - timedelta(hours=3))
    _received(app, again["id"], now() - timedelta(days=2))
    earlier = correct(worker, again, visited_at=iso(now() - timedelta(days=10)))
    assert earlier["flags"] == ["late_entry"]


def test_a_correction_dated_after_its_visit_was_first_received_is_in_the_future(app, worker, town):
    _, child_id = make_home(worker, town.grids["a1"], HOME)
    original = visit(worker, child_id, HOME, at=now() - timedelta(days=3))
    _received(app, original["id"], now() - timedelta(days=3) + timedelta(minutes=5))
    moved = correct(worker, original, visited_at=iso(now() - timedelta(days=1)))
    assert moved["flags"] == ["future_time"]


def test_a_visit_flagged_impossible_travel_proposes_no_household_location(app, worker, town):
    _, near_child = make_home(worker, town.grids["a1"], HOME)
    far_home, far_child = make_home(worker, town.grids["a1"], point=None)
    start = now() - timedelta(hours=6)
    assert visit(worker, near_child, HOME, at=start)["flags"] == []
    assert visit(worker, far_child, FAR, at=start + timedelta(minutes=10))["flags"] == [
        "impossible_travel"]
    with app.app_context():
        assert db.session.get(Household, far_home).proposed_location is None
    clean = visit(worker, far_child, FAR, at=start + timedelta(hours=3))
    assert clean["flags"] == []
    with app.app_context():
        assert db.session.get(Household, far_home).proposed_location["visit_id"] == clean["id"]


def test_a_flagged_correction_withdraws_the_proposal_of_the_visit_it_corrects(app, worker, town):
    _, near_child = make_home(worker, town.grids["a1"], HOME)
    far_home, far_child = make_home(worker, town.grids["a1"], point=None)
    start = now() - timedelta(hours=6)
    proposing = visit(worker, far_child, FAR, at=start)
    with app.app_context():
        assert db.session.get(Household, far_home).proposed_location["visit_id"] == proposing["id"]
    assert visit(worker, near_child, HOME, at=start + timedelta(hours=2))["flags"] == []
    moved = correct(worker, proposing, visited_at=iso(start + timedelta(hours=2, minutes=10)))
    assert moved["flags"] == ["impossible_travel"]
    with app.app_context():
        assert db.session.get(Household, far_home).proposed_location is None
