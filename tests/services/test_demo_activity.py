"""The demo town's month of field work: recorded through the services, at the moments it happened,
so each role's screens and to-do list have something real on them after `make run`."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import (
    AuditEvent,
    Child,
    Clue,
    Household,
    Inspection,
    JointOperation,
    Plan,
    PlanProgress,
    User,
    Visit,
    replaying_at,
    utcnow,
)
from server.services import schedule
from server.services.audit import verify_chain
from server.services.demo.load import REGISTERED_DAYS_AGO, load_demo_town


def test_the_demo_town_has_a_month_of_field_work(app):
    """One load (it takes seconds), every part of it checked."""
    with app.app_context():
        started = utcnow()
        logins = load_demo_town(seed=1, scale=1)
        demo = {"logins": {login["username"]: login for login in logins}, "started": started,
                "ended": utcnow()}
        check_visits(demo)
        check_location_proposals()
        check_plans(demo)
        check_inspections(demo)
        check_clue()
        check_chain(demo)
    check_tasks(app, demo)


def check_visits(demo):
    """A month of honest visits, a few for the village heads to review."""
    visits = db.session.scalars(select(Visit)).all()
    assert len(visits) >= 800
    month_ago = demo["started"] - timedelta(days=31)
    assert all(month_ago < v.visited_at < v.received_at <= demo["ended"] for v in visits)
    # Phones sync within days: no visit is late, skewed, from the future or an impossible journey.
    assert all(v.received_at - v.visited_at < timedelta(days=4) for v in visits)
    flagged = {v.id: v.flags for v in visits if v.flags}
    assert sorted(f for flags in flagged.values() for f in flags) == \
        ["location_mismatch"] * 3 + ["no_location"] * 2
    assert {v.review_status for v in visits if v.flags} == {"pending"}
    assert {v.review_status for v in visits if not v.flags} == {"none"}
    workers = {u.id: u for u in db.session.scalars(select(User).where(User.role == "grid_worker"))}
    children = {c.id: c for c in db.session.scalars(select(Child))}
    for visit in visits:
        assert visit.worker_id in workers
        assert children[visit.child_id].grid_id in {g.id for g in workers[visit.worker_id].grids}
    # Each visited child's schedule follows from its latest visit.
    latest = {}
    for visit in visits:
        if visit.child_id not in latest or visit.visited_at > latest[visit.child_id].visited_at:
            latest[visit.child_id] = visit
    assert all(children[cid].last_visit_at == v.visited_at and children[cid].next_visit_due is not None
               for cid, v in latest.items())
    assert {c.status for c in children.values() if c.id in latest} == {"active"}


def check_location_proposals():
    """Homes without a location get one proposed, for the village head to confirm."""
    homes = db.session.scalars(select(Household).where(Household.location_ct.is_(None))).all()
    proposed = [h for h in homes if h.proposed_location]
    assert proposed
    visits = {v.id: v for v in db.session.scalars(select(Visit))}
    for home in proposed:
        visit = visits[home.proposed_location["visit_id"]]
        assert visit.household_id == home.id and visit.location["accuracy_m"] <= 50


def check_plans(demo):
    """Drafted by the rules, most approved by the village head, followed up by the helper."""
    plans = db.session.scalars(select(Plan)).all()
    by_status = {}
    for plan in plans:
        by_status.setdefault(plan.status, []).append(plan)
    assert set(by_status) == {"draft", "active"} and len(by_status["active"]) > len(by_status["draft"])
    heads = {u.village_id: u.id for u in db.session.scalars(select(User).where(User.role == "village_head"))}
    for plan in by_status["active"]:
        assert plan.approved_by == heads[plan.village_id]
        assert plan.created_at + timedelta(days=2) <= plan.approved_at < demo["ended"]
        assert plan.measures and plan.helper_id
    progress = db.session.scalars(select(PlanProgress)).all()
    active = {p.id: p for p in by_status["active"]}
    assert progress and all(p.plan_id in active and p.author_id == active[p.plan_id].helper_id
                            and p.at > active[p.plan_id].approved_at for p in progress)
    planned = {p.child_id for p in plans}
    children = {c.id: c for c in db.session.scalars(select(Child).where(Child.id.in_(planned)))}
    assert {children[p.child_id].risk_level for p in plans} == {"high"}


def check_inspections(demo):
    """Inspections find violations, some already past their deadline."""
    inspections = db.session.scalars(select(Inspection)).all()
    assert len(inspections) >= 20
    # Each month's inspections belong to that month's joint action, dated its first day.
    operations = {o.id: o for o in db.session.scalars(select(JointOperation))}
    assert len(operations) in (1, 2) and {i.operation_id for i in inspections} == set(operations)
    for inspection in inspections:
        operation = operations[inspection.operation_id]
        day = schedule.local_date(inspection.inspected_at)
        assert (day.year, day.month) == (operation.date.year, operation.date.month) and day >= operation.date
        assert inspection.inspector_id in operation.member_ids
    assert all(not i.flags for i in inspections)
    failed = [r for i in inspections for r in i.results if r["result"] == "fail"]
    assert failed and all(r["deadline"] for r in failed)
    today = schedule.local_today().isoformat()
    assert any(r["deadline"] < today for r in failed) and any(r["deadline"] >= today for r in failed)


def check_clue():
    """One clue, filed from a visit that found injuries."""
    clues = db.session.scalars(select(Clue)).all()
    assert len(clues) == 1
    clue = clues[0]
    source = db.session.get(Visit, clue.source_visit_id)
    assert (clue.status, clue.reporter_id, clue.child_id) == ("new", source.worker_id, source.child_id)
    assert source.answers["injury_signs"] is True and clue.description


def check_chain(demo):
    """The record of it all is one chain, in time order, from the town's registration."""
    assert verify_chain()["ok"]
    times = db.session.scalars(select(AuditEvent.at).order_by(AuditEvent.seq)).all()
    assert times == sorted(times)
    registered = db.session.scalar(select(func.min(Child.created_at)))
    assert abs(registered - (demo["started"] - timedelta(days=REGISTERED_DAYS_AGO))) < timedelta(minutes=5)


def check_tasks(app, demo):
    """Every role finds work waiting."""
    def tasks(username):
        client = app.test_client()
        login = demo["logins"][username]
        assert client.post("/api/auth/login", json={"username": username,
                                                    "password": login["password"]}).status_code == 200
        return client.get("/api/tasks").get_json()["counts"]

    heads = [name for name, login in demo["logins"].items() if login["role"] == "village_head"]
    waiting = [tasks(name) for name in heads]
    for kind in ("review_pending", "location_pending", "plan_approval"):
        assert sum(counts.get(kind, 0) for counts in waiting) > 0, kind
    assert tasks("police01")["clue_new"] == 1
    inspectors = [name for name, login in demo["logins"].items() if login["role"] == "inspector"]
    assert sum(tasks(name).get("rectification", 0) for name in inspectors) > 0


def test_a_replayed_moment_is_held_in_utc_and_must_be_aware():
    moment = datetime(2026, 3, 1, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    with replaying_at(moment):
        assert (utcnow(), utcnow().tzinfo) == (moment, UTC)
        assert utcnow().isoformat() == "2026-03-01T00:30:00+00:00"
    assert utcnow() - datetime.now(UTC) < timedelta(seconds=5)
    with pytest.raises(ValueError), replaying_at(datetime(2026, 3, 1, 8, 30)):
        pass
