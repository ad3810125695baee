"""A child's last visit and a venue's last inspection stored before migration 0016 (a visit dated a year
ahead by a wrong phone clock counted as latest) are set again from the facts that stand, as audited
edits of the system's that phones pull."""
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from server.extensions import db
from server.models import AuditEvent, Child, Counter, Venue
from server.services import plans, recount, risk, risk_rules, schedule
from server.services.audit import verify_chain

from ..sync.test_push_pull_basics import pull_all
from ..workflow.helpers import post_visit
from .test_enforcement import inspect
from .test_trust import DEVICE, HOME, visit

AHEAD = timedelta(days=365)


def _last_event(entity_id: str, action: str) -> AuditEvent:
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_id == entity_id, AuditEvent.action == action)
        .order_by(AuditEvent.seq.desc()).limit(1)).one()


def test_a_child_frozen_by_a_visit_dated_ahead_gets_its_schedule_back(app, town, login):
    worker = login("worker_a", device_id=DEVICE)
    child_id = town.children["a1"]
    ahead = visit(worker, child_id, HOME, at=datetime.now(UTC) + AHEAD)
    on_time = visit(worker, child_id, HOME)
    latest = max(datetime.fromisoformat(ahead["counted_at"]), datetime.fromisoformat(on_time["counted_at"]))
    with app.app_context():
        child = db.session.get(Child, child_id)
        right = (child.last_visit_at, child.next_visit_due)
        assert right == (latest, schedule.local_date(latest) + timedelta(
            days=schedule.interval_days(child.risk_level)))
        # What the code before 0016 stored: the visit a year ahead was the latest.
        frozen = datetime.fromisoformat(ahead["visited_at"])
        child.last_visit_at, child.next_visit_due = frozen, schedule.local_date(frozen) + timedelta(days=30)
        db.session.commit()
        version = child.version
    _, cursor = pull_all(worker)

    with app.app_context():
        assert recount.recount_last_visits() == 1
        child = db.session.get(Child, child_id)
        assert ((child.last_visit_at, child.next_visit_due), child.version) == (right, version + 1)
        event = _last_event(child_id, "child.update")
        assert (event.actor_id, event.detail) == (
            None, {"version": version + 1, "fields": ["last_visit_at", "next_visit_due"]})
        assert verify_chain()["ok"]
        assert recount.recount_last_visits() == 0  # every other child of the town already agrees
    changes, _ = pull_all(worker, cursor)
    assert [(c["entity"], c["id"], c["version"], c["data"]["next_visit_due"]) for c in changes] == [
        ("child", child_id, version + 1, right[1].isoformat())]


def test_a_venue_inspected_ahead_goes_stale_from_when_the_inspection_arrived(app, town, login):
    inspector = login("inspector")
    venue_id = town.venues["a"]
    ahead = inspect(inspector, venue_id, [{"item": "verify_identity", "result": "pass"}],
                    at=datetime.now(UTC) + AHEAD)
    with app.app_context():
        venue = db.session.get(Venue, venue_id)
        assert venue.last_inspected_at == datetime.fromisoformat(ahead["received_at"])
        venue.last_inspected_at = datetime.fromisoformat(ahead["inspected_at"])
        db.session.commit()
        version = venue.version

    with app.app_context():
        assert recount.recount_last_inspections() == 1
        venue = db.session.get(Venue, venue_id)
        assert (venue.last_inspected_at, venue.version) == (
            datetime.fromisoformat(ahead["received_at"]), version + 1)
        event = _last_event(venue_id, "venue.update")
        assert (event.actor_id, event.detail) == (
            None, {"version": version + 1, "fields": ["last_inspected_at"]})
        assert recount.recount_last_inspections() == 0


def test_the_recount_command_says_how_many_records_it_set(app, town, login):
    inspector = login("inspector")
    inspect(inspector, town.venues["a"], [{"item": "verify_identity", "result": "pass"}])
    with app.app_context():
        db.session.get(Venue, town.venues["a"]).last_inspected_at = None
        db.session.commit()
    runner = app.test_cli_runner()
    said = "venues recounted; follow-ups worked out for 0 children;"
    rules = "0 children changed under new risk rules\n"
    assert runner.invoke(args=["recount"]).output == f"0 children and 1 {said} {rules}"
    assert runner.invoke(args=["recount"]).output == f"0 children and 0 {said} {rules}"


def test_a_plan_the_system_proposes_names_no_helper(app, town):
    """A recount may raise a child's level: the draft plan it proposes has no helper to name, unlike one a
    grid worker's visit proposes, and is audited as the system's."""
    with app.app_context():
        child = db.session.get(Child, town.children["a1"])
        child.risk_level, child.risk_reasons = "high", ["injury_signs"]
        plan = plans.propose_plan(None, child, {"injury_signs": True})
        db.session.commit()
        assert (plan.status, plan.helper_id, plan.child_id, plan.risk_factors) == (
            "draft", None, child.id, ["injury_signs"])
        assert _last_event(plan.id, "plan.proposed").actor_id is None


def test_children_stored_before_follow_ups_were_kept_get_them_from_their_latest_visit(app, town, login):
    worker = login("worker_a", device_id=DEVICE)
    visited, never = town.children["a1"], town.children["a2"]
    post_visit(worker, visited, "a1", {"prevention_education": False}, hours_ago=2)
    post_visit(worker, visited, "a1", {"guardian_present": True})  # asked nothing of it: it stands
    with app.app_context():
        versions = {}
        for child_id in (visited, never):
            child = db.session.get(Child, child_id)
            child.follow_ups = child.follow_up_basis = None  # as migration 0020 left every child
            versions[child_id] = child.version
        db.session.commit()
    _, cursor = pull_all(worker)

    with app.app_context():
        events = db.session.scalar(select(func.count()).select_from(AuditEvent))
        assert recount.work_out_follow_ups() == 1
        child = db.session.get(Child, visited)
        assert (child.follow_ups, child.version) == (["schedule_education"], versions[visited] + 1)
        event = _last_event(visited, "child.update")
        assert (event.actor_id, event.detail) == (
            None, {"version": versions[visited] + 1, "fields": ["follow_ups"]})
        # None to follow up says what NULL said: filled in, no edit to audit or pull.
        child = db.session.get(Child, never)
        assert (child.follow_ups, child.version) == ([], versions[never])
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events + 1
        assert verify_chain()["ok"]
        assert recount.work_out_follow_ups() == 0
    changes, _ = pull_all(worker, cursor)
    assert [(c["entity"], c["id"], c["data"]["follow_ups"]) for c in changes] == [
        ("child", visited, ["schedule_education"])]  # a2 is not in worker_a's grid


def test_new_risk_rules_reach_every_child_at_the_next_start_not_at_its_next_visit(app, town, login,
                                                                                 monkeypatch):
    """A new version of the risk rules changed nothing for a child until a visit: one the old rules asked
    to follow up kept the follow-up (and the level) into the ledgers and to-do lists for up to a quarter.
    Now `flask recount` (every `make run`) assesses every child again once, as audited edits of the system's."""
    worker = login("worker_a", device_id=DEVICE)
    child_id = town.children["a1"]
    post_visit(worker, child_id, "a1", {"prevention_education": False})
    with app.app_context():
        # Migration 0021 says the stored children were assessed under version 1, the rules in force.
        assert db.session.get(Counter, recount.RULES_APPLIED).value == risk.rules_version() == 1
        assert recount.assess_under_new_rules() == 0
        child = db.session.get(Child, child_id)
        version, level = child.version, child.risk_level
        assert child.follow_ups == ["schedule_education"]
        assert recount.assess_under_new_rules() == 0  # the same rules: nothing to do
    _, cursor = pull_all(worker)

    newer = risk_rules.load_rules()
    newer["version"] += 1
    newer["follow_ups"] = []  # the town stopped asking for it
    monkeypatch.setattr(risk_rules, "rules", lambda: newer)
    with app.app_context():
        assert recount.assess_under_new_rules() == 3
        # The test town's two other children were stored unassessed: assessed now, their level kept.
        others = {c.id: (c.risk_assessed, c.risk_level) for c in db.session.scalars(select(Child))
                  if c.id != child_id}
        assert sorted(others.values()) == [("low", "low"), ("low", "low")], others
        child = db.session.get(Child, child_id)
        assert (child.follow_ups, child.version, child.risk_level) == ([], version + 1, level)
        event = _last_event(child_id, "child.update")
        assert (event.actor_id, event.detail) == (None, {"version": version + 1, "fields": ["follow_ups"]})
        assert verify_chain()["ok"]
        assert recount.assess_under_new_rules() == 0
    changes, _ = pull_all(worker, cursor)
    assert [(c["entity"], c["id"], c["data"]["follow_ups"]) for c in changes] == [("child", child_id, [])]


def test_a_child_merged_while_new_rules_are_applied_is_left_as_it_was(app, town, monkeypatch):
    """The ids are read first; a merge (or delete) committed before the child's chunk is taken under the
    writers' lock retires it: it gets no edit, and no plan is proposed for it."""
    from server.services import changes

    newer = risk_rules.load_rules()
    with app.app_context():
        assert recount.assess_under_new_rules() == 0  # the version in force (migration 0021)
    newer["version"] += 1
    monkeypatch.setattr(risk_rules, "rules", lambda: newer)
    take_lock = changes.lock_writers

    def merged_meanwhile():
        child = db.session.get(Child, town.children["a2"])
        child.deleted_at, child.risk_assessed = datetime.now(UTC), None
        db.session.commit()
        take_lock()

    monkeypatch.setattr(changes, "lock_writers", merged_meanwhile)
    with app.app_context():
        events = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity_id == town.children["a2"]))
        recount.assess_under_new_rules()
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity_id == town.children["a2"])) == events
        assert db.session.get(Child, town.children["a2"]).risk_assessed is None
        assert db.session.get(Child, town.children["a1"]).risk_assessed is not None
