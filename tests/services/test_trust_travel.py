"""The travel check reads each fix as the location check does: within its allowance of where it was."""
import uuid
from datetime import timedelta

import pytest

from tests.services.test_trust import FAR, HOME, make_home, now, offset, push_at, visit
from tests.sync.test_push_pull_basics import op


@pytest.fixture
def worker(town, login):
    return login("worker_a", device_id="phone-trust-travel-worker-a")


def test_two_visits_both_at_one_home_are_no_impossible_travel(worker, town):
    """Indoors a phone's fix is often off by most of a kilometre: two children of one home visited a
    minute apart, each fix within its allowance of the home, are not a journey at 180 km/h."""
    household_id, first_child = make_home(worker, town.grids["a1"], HOME)
    second_child = str(uuid.uuid4())
    push_at(worker, [op("child", "create", second_child, {
        "household_id": household_id, "name": "小红", "sex": "F", "categories": ["left_behind"]})])
    start = now() - timedelta(hours=2)
    north = visit(worker, first_child, offset(HOME, 1500, bearing=0), accuracy=800, at=start)
    south = visit(worker, second_child, offset(HOME, 1500, bearing=180), accuracy=800,
                  at=start + timedelta(minutes=1))
    assert (north["flags"], south["flags"]) == ([], [])


def test_a_claimed_accuracy_does_not_excuse_a_journey_beyond_its_cap(worker, town):
    """A claimed accuracy counts up to TRUST_MAX_ACCURACY_M, as in the location check."""
    _, near_child = make_home(worker, town.grids["a1"], HOME)
    _, far_child = make_home(worker, town.grids["a1"], FAR)
    start = now() - timedelta(hours=2)
    assert visit(worker, near_child, HOME, accuracy=100_000, at=start)["flags"] == []
    assert visit(worker, far_child, FAR, accuracy=100_000, at=start + timedelta(minutes=10))["flags"] == [
        "impossible_travel"]


def test_two_precise_fixes_far_apart_at_one_moment_are_impossible_travel(worker, town):
    """The floor of TRUST_MIN_DISTANCE_M is counted once for the pair, not once for each fix: two
    precise fixes 350 m apart at the same minute place the worker in two homes at once."""
    _, first_child = make_home(worker, town.grids["a1"], HOME)
    _, second_child = make_home(worker, town.grids["a1"], offset(HOME, 350, bearing=90))
    start = now() - timedelta(hours=2)
    assert visit(worker, first_child, HOME, accuracy=10, at=start)["flags"] == []
    assert visit(worker, second_child, offset(HOME, 350, bearing=90), accuracy=10, at=start)["flags"] == [
        "impossible_travel"]
