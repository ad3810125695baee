"""Visits pushed as one run end exactly as the same visits pushed one at a time.

The push applies consecutive visit creates as a run (services/batching.py): one savepoint,
prefetched lookups, one write per table at the end. Two workers in two grids
get identical homes and children; one pushes a scenario in one batch, the other op by op,
and every derived value must match: trust flags, distances, review state, the child's level,
reasons, last visit and next due date, proposed plans and household locations. The audit
chain stays whole.
"""
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from geopy.distance import geodesic

from server.extensions import db
from server.models import Child, Household, Plan, Visit
from server.services import audit, schedule
from server.sync import push as push_module

from .test_push_pull_basics import op, push

HOME = (28.2458, 113.0824)
RISKY = [{}, {"guardian_present": True, "in_school": True}, {"injury_signs": True},
         {"online_risk": True, "ran_away": True}, {"in_school": False},
         {"guardian_present": False, "guardian_away_months": 13}, {"prevention_education": False},
         {"prevention_education": True, "in_school": True}]


def point(rng, near=HOME, km=30.0):
    target = geodesic(kilometers=rng.uniform(0, km)).destination(near, rng.uniform(0, 360))
    return round(target.latitude, 6), round(target.longitude, 6)


def make_homes(api, grid_id, places):
    """Create one household (some without a location) and one child per place; return child ids."""
    ops, children = [], []
    for n, place in enumerate(places):
        household, child = str(uuid.uuid4()), str(uuid.uuid4())
        data = {"grid_id": grid_id, "address": f"{n}号"}
        if place is not None:
            data.update(lat=place[0], lon=place[1])
        ops += [op("household", "create", household, data),
                op("child", "create", child, {"household_id": household, "name": f"儿童{n}", "sex": "F",
                                              "categories": ["left_behind"] if n % 2 else ["disabled"]})]
        children.append(child)
    assert {r["status"] for r in push(api, ops)["results"]} == {"applied"}
    return children


def scenario(seed, places, count):
    """Visits near and far, close together and apart, out of time order, some with no fix."""
    rng, start = random.Random(seed), datetime.now(UTC) - timedelta(hours=30)
    visits = []
    for _ in range(count):
        n = rng.randrange(len(places))
        near = places[n] or HOME
        fix = None if rng.random() < 0.1 else point(rng, near, km=rng.choice([0.05, 0.3, 25]))
        visits.append({"child": n, "at": start + timedelta(minutes=rng.randrange(0, 24 * 60)),
                       "fix": fix, "accuracy": rng.choice([8.0, 30.0, 120.0]),
                       "answers": rng.choice(RISKY)})
    return visits


def with_amendments(visits, chunk, rng):
    """Let some visits after the first chunk amend an earlier chunk's visit of the same child (one
    that still stands: a visit is corrected once, then through its correction)."""
    amended = set()
    for index in range(chunk, len(visits)):
        earlier = [j for j in range(index - index % chunk) if visits[j]["child"] == visits[index]["child"]
                   and "amends" not in visits[j] and j not in amended]
        if earlier and rng.random() < 0.25:
            visits[index]["amends"] = rng.choice(earlier)
            amended.add(visits[index]["amends"])
    return visits


def visit_op(children, visit, record_id=None, ids=()):
    data = {"child_id": children[visit["child"]], "visited_at": visit["at"].isoformat(),
            "answers": visit["answers"], "notes": "例行走访"}
    if visit["fix"]:
        data.update(lat=visit["fix"][0], lon=visit["fix"][1], accuracy_m=visit["accuracy"])
    if "amends" in visit:
        data.update(amends=ids[visit["amends"]], amend_reason="补录更正")
    return op("visit", "create", record_id or str(uuid.uuid4()), data)


def visit_ops(children, visits):
    ids = [str(uuid.uuid4()) for _ in visits]
    return [visit_op(children, v, record_id, ids) for v, record_id in zip(visits, ids)]


def outcome(app, children, visit_ids):
    """Everything a visit derives, by position, free of ids and server times."""
    with app.app_context():
        visits = [db.session.get(Visit, v) if v else None for v in visit_ids]
        kids = [db.session.get(Child, c) for c in children]
        return {
            "visits": [None if v is None else (v.flags, v.distance_m, v.review_status) for v in visits],
            "children": [(c.risk_level, c.risk_assessed, c.risk_reasons, c.follow_ups, c.last_visit_at,
                          c.next_visit_due) for c in kids],
            "plans": [sorted((p.status, str(p.measures)) for p in db.session.scalars(
                db.select(Plan).where(Plan.child_id == c.id))) for c in kids],
            "homes": [_by_position(db.session.get(Household, c.household_id).proposed_location, visit_ids)
                      for c in kids],
        }


def _by_position(proposal, visit_ids):
    # A proposal names its visit and worker; compared by the visit's place in the push instead.
    if proposal is None:
        return None
    return {**proposal, "visit_id": visit_ids.index(proposal["visit_id"]), "worker_id": None}


@pytest.fixture
def pair(town, login):
    """Two workers with identical homes in their own grids."""
    rng = random.Random(7)
    places = [None if n % 5 == 4 else point(rng) for n in range(12)]
    run_api = login("worker_a", device_id="phone-runs-worker-a")
    single_api = login("worker_b", device_id="phone-runs-worker-b")
    return {"places": places, "run": (run_api, make_homes(run_api, town.grids["a1"], places)),
            "single": (single_api, make_homes(single_api, town.grids["b1"], places))}


def no_fallback(monkeypatch):
    """Every run applies as a run; only amendments (and a lone visit between them) go alone."""
    as_run = push_module._apply_run

    def refuse(*args):
        answers = as_run(*args)
        if answers is None:
            raise AssertionError("the run fell back to op-by-op")
        return answers
    monkeypatch.setattr(push_module, "_apply_run", refuse)


@pytest.mark.parametrize(("seed", "batches"), [(1, 1), (2, 1), (3, 1), (4, 3), (5, 3)])
def test_a_run_ends_as_the_same_visits_one_by_one(app, pair, monkeypatch, seed, batches):
    """With batches > 1 each later run meets visits already stored on both sides of its span and
    amends some of them, so the prefetched track and latest visits are read from the database."""
    chunk = 60 // batches
    visits = scenario(seed, pair["places"], 60)
    if batches > 1:
        visits = with_amendments(visits, chunk, random.Random(seed))
        assert sum("amends" in v for v in visits) >= 5
    run_api, run_children = pair["run"]
    single_api, single_children = pair["single"]
    run_ops = visit_ops(run_children, visits)
    answers = []
    with monkeypatch.context() as patch:
        no_fallback(patch)
        for start in range(0, 60, chunk):
            answers += push(run_api, run_ops[start:start + chunk])["results"]
    assert [(a["status"], a["id"], a["version"]) for a in answers] == [
        ("applied", o["id"], 1) for o in run_ops]
    single_ops = visit_ops(single_children, visits)
    for one in single_ops:
        assert push(single_api, [one])["results"][0]["status"] == "applied"
    expected = outcome(app, single_children, [o["id"] for o in single_ops])
    assert outcome(app, run_children, [o["id"] for o in run_ops]) == expected
    flags = {f for v in expected["visits"] for f in v[0]}
    assert {"impossible_travel", "location_mismatch", "no_location"} <= flags
    assert any(level == "high" for level, *_ in expected["children"])
    with app.app_context():
        assert audit.verify_chain()["ok"]


def test_a_run_with_refused_ops_answers_each_as_alone(app, pair, town):
    visits = scenario(9, pair["places"], 8)
    run_api, run_children = pair["run"]
    single_api, single_children = pair["single"]

    def batch(children, foreign_child):
        ops = [visit_op(children, v) for v in visits]
        ops[3]["data"]["child_id"] = foreign_child
        ops[5]["id"] = ops[4]["id"]
        ops[6]["data"]["answers"] = {"no_such_item": True}
        return ops

    run_ops = batch(run_children, town.children["b1"])
    run_answers = push(run_api, run_ops)["results"]
    single_ops = batch(single_children, town.children["a1"])
    single_answers = [push(single_api, [one])["results"][0] for one in single_ops]
    shape = [(a["status"], sorted(a.get("errors") or {})) for a in single_answers]
    assert [(a["status"], sorted(a.get("errors") or {})) for a in run_answers] == shape
    assert [s for s, _ in shape] == ["applied"] * 3 + ["rejected", "applied", "rejected", "rejected",
                                                         "applied"]
    ids = [o["id"] if a["status"] == "applied" else None for o, a in zip(run_ops, run_answers)]
    single_ids = [o["id"] if a["status"] == "applied" else None
                  for o, a in zip(single_ops, single_answers)]
    assert outcome(app, run_children, ids) == outcome(app, single_children, single_ids)
    again = push(run_api, run_ops)["results"]
    assert [a["status"] for a in again] == [
        "duplicate" if a["status"] == "applied" else a["status"] for a in run_answers]
    with app.app_context():
        assert audit.verify_chain()["ok"]


def test_a_run_counts_a_visit_dated_ahead_by_the_phone_as_made_when_it_arrived(app, pair, monkeypatch):
    """A phone a year ahead dated a visit next year. The visits after it, in a later run, are the
    child's latest: the run's prefetch and its own visits order them by when each counts as made."""
    api, children = pair["run"]
    ahead = {"child": 0, "at": datetime.now(UTC) + timedelta(days=365), "fix": pair["places"][0],
             "accuracy": 8.0, "answers": {}}
    first = visit_op(children, ahead)
    assert push(api, [first])["results"][0]["status"] == "applied"
    time.sleep(0.05)
    now = datetime.now(UTC)  # after the first visit arrived, before the next two do
    later = [visit_op(children, {**ahead, "at": now - timedelta(milliseconds=n)}) for n in (20, 10)]
    with monkeypatch.context() as patch:
        no_fallback(patch)
        assert [r["status"] for r in push(api, later)["results"]] == ["applied", "applied"]
    with app.app_context():
        child, last = db.session.get(Child, children[0]), now - timedelta(milliseconds=10)
        assert (child.last_visit_at, child.next_visit_due) == (
            last, schedule.local_date(last) + timedelta(days=schedule.interval_days(child.risk_level)))


def test_a_run_reassesses_a_child_whose_later_arrival_at_the_same_moment_is_its_latest(app, pair, monkeypatch):
    """Two visits of one child at the same moment: the one that arrived last is its latest visit
    and decides its assessment, though its last visit time does not move (a run refreshes a child
    again only when something it reads changed)."""
    api, children = pair["run"]
    moment = datetime.now(UTC) - timedelta(hours=2)
    calm, hurt = ({"child": 0, "at": moment, "fix": pair["places"][0], "accuracy": 8.0, "answers": answers}
                  for answers in ({"guardian_present": True}, {"injury_signs": True}))
    with monkeypatch.context() as patch:
        no_fallback(patch)
        results = push(api, [visit_op(children, calm), visit_op(children, hurt)])["results"]
    assert [r["status"] for r in results] == ["applied", "applied"]
    with app.app_context():
        child = db.session.get(Child, children[0])
        assert (child.risk_level, "injury_signs" in child.risk_reasons, child.last_visit_at) == (
            "high", True, moment)
        plans = db.session.scalars(db.select(Plan).where(Plan.child_id == child.id))
        assert [p.status for p in plans] == ["draft"]
