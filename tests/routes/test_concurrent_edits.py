"""Two editors who read the same version of a record at once: one wins, the other gets 409, and
neither edit is lost silently (PostgreSQL, where two requests really overlap)."""
import threading
import time

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, Child, Clue, Plan, User
from server.routes import records
from server.services import changes, plans, scope

from .. import factories
from ..workflow.helpers import post_visit
from .helpers import assert_error


@pytest.fixture
def pg_engine(engine_name):
    """SQLite has one writer at a time: its requests never overlap like this."""
    if engine_name != "postgresql":
        pytest.skip("overlapping writers run on PostgreSQL only (SQLite serializes every writer)")
    return engine_name


def _both(first, second) -> dict:
    answers = {}
    threads = [threading.Thread(name=name, target=lambda n=name, f=f: answers.__setitem__(n, f()))
               for name, f in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def test_two_edits_checked_against_the_same_version_cannot_both_apply(pg_engine, app, town, login,
                                                                      monkeypatch):
    worker, head = login("worker_a"), login("head_a")
    url = f"/api/children/{town.children['a1']}"
    barrier, read = threading.Barrier(2), records.json_body

    def after_both_checked(schema, partial=False):
        data = read(schema, partial)
        barrier.wait(timeout=20)
        return data
    monkeypatch.setattr(records, "json_body", after_both_checked)
    answers = _both(
        ("worker", lambda: worker.patch(url, json={"notes": "网格员的备注"}, headers={"If-Match": "1"})),
        ("head", lambda: head.patch(url, json={"notes": "村负责人的备注"}, headers={"If-Match": "1"})))
    codes = sorted(answer.status_code for answer in answers.values())
    assert codes == [200, 409]
    loser = next(a for a in answers.values() if a.status_code == 409)
    assert loser.get_json()["error"]["code"] == "version_conflict"
    winner = next(a for a in answers.values() if a.status_code == 200).get_json()
    with app.app_context():
        child = db.session.get(Child, town.children["a1"])
        events = list(db.session.scalars(select(AuditEvent.detail).where(
            AuditEvent.action == "child.update", AuditEvent.entity_id == town.children["a1"])))
        assert (child.version, child.notes) == (2, winner["notes"])
    assert events == [{"version": 2, "fields": ["notes"]}]


def test_approving_a_plan_while_it_is_closed_does_not_reopen_it(pg_engine, app, town, login, monkeypatch):
    worker = login("worker_a")
    post_visit(worker, town.children["a1"], "a1", {"unknown_adult_contact": True})
    plan = worker.get(f"/api/plans?child_id={town.children['a1']}").get_json()["rows"][0]
    url = f"/api/plans/{plan['id']}"
    approver, closer = login("head_a"), login("head_a")
    barrier, read = threading.Barrier(2), plans._plan_for_approver

    def after_both_read(actor, plan_id):
        found = read(actor, plan_id)
        barrier.wait(timeout=20)
        if threading.current_thread().name == "approve":
            time.sleep(0.5)  # the close commits first
        return found
    monkeypatch.setattr(plans, "_plan_for_approver", after_both_read)
    answers = _both(("approve", lambda: approver.post(f"{url}/approve")),
                    ("close", lambda: closer.post(f"{url}/close", json={"outcome": "误报，结案"})))
    assert (answers["approve"].status_code, answers["close"].status_code) == (409, 200)
    with app.app_context():
        stored = db.session.get(Plan, plan["id"])
        assert (stored.status, stored.outcome, stored.approved_at) == ("closed", "误报，结案", None)



CLOSINGS = {"close": {"outcome": "case_filed", "note": "已立案侦查"}, "close otherwise": {"outcome": "no_case",
                                                                                   "note": "查无实据"}}
RECEIVED_FIELDS = ["received_at", "received_by", "status"]
CLOSED_FIELDS = ["closed_at", "outcome", "outcome_note", "status"]


def _take_step(api, clue_id: str, step: str):
    """POST one step of the station's clue work, as its buttons do."""
    if step == "receive":
        return api.post(f"/api/clues/{clue_id}/receive")
    return api.post(f"/api/clues/{clue_id}/close", json=CLOSINGS[step])


def _second_officer(app, town) -> None:
    """Add a second officer of the test town's police station."""
    with app.app_context():
        police = db.session.get(User, town.users["police"])
        factories.add_user(town, "police_2", "police", police.town_id, unit_id=police.unit_id)
        db.session.commit()


@pytest.mark.parametrize("steps, refused_code", [
    (("receive", "receive"), "version_conflict"),
    (("close", "close otherwise"), "version_conflict"),
    # Both read the clue new: the close is refused on what it read, whichever commits first.
    (("receive", "close"), "clue_state"),
], ids=["both receive", "both close", "one receives, one closes"])
def test_two_officers_taking_a_step_on_one_clue_at_once_take_it_once(pg_engine, app, town, login, monkeypatch,
                                                                      steps, refused_code):
    _second_officer(app, town)
    clue_id, took = town.clues["a1"], dict(zip(("police", "police_2"), steps, strict=True))
    closing = steps == ("close", "close otherwise")
    if closing:
        assert login("police").post(f"/api/clues/{clue_id}/receive").status_code == 200
    barrier, read = threading.Barrier(2), scope.get_scoped

    def after_both_read(user, model, record_id, include_deleted=False):
        found = read(user, model, record_id, include_deleted)
        if model is Clue:
            barrier.wait(timeout=20)
        return found
    monkeypatch.setattr(scope, "get_scoped", after_both_read)
    answers = _both(*[(name, lambda api=login(name), step=step: _take_step(api, clue_id, step))
                      for name, step in took.items()])

    codes = {name: answer.status_code for name, answer in answers.items()}
    assert sorted(codes.values()) == [200, 409], {name: a.get_json() for name, a in answers.items()}
    winner, loser = sorted(codes, key=codes.get)
    assert_error(answers[loser], 409, refused_code)
    with app.app_context():
        clue = db.session.get(Clue, clue_id)
        stored = (clue.status, clue.version, clue.received_by, clue.outcome, clue.outcome_note)
        events = list(db.session.execute(select(AuditEvent.actor_id, AuditEvent.detail).where(
            AuditEvent.action == "clue.update", AuditEvent.entity_id == clue_id).order_by(AuditEvent.seq)))
    shown = answers[winner].get_json()
    assert stored == (shown["status"], shown["version"], shown["received_by"], shown["outcome"],
                      shown["outcome_note"])
    receiving = [(town.users["police"], {"version": 2, "fields": RECEIVED_FIELDS})]
    if closing:
        closed = CLOSINGS[took[winner]]
        assert stored == ("closed", 3, town.users["police"], closed["outcome"], closed["note"])
        assert events == receiving + [(town.users[winner], {"version": 3, "fields": CLOSED_FIELDS})]
    else:
        assert took[winner] == "receive"
        assert stored == ("received", 2, town.users[winner], None, None)
        assert events == [(town.users[winner], {"version": 2, "fields": RECEIVED_FIELDS})]


@pytest.mark.parametrize("first", ["correction", "receipt"])
def test_a_correction_and_the_receipt_of_the_clue_it_corrects_at_once_do_not_both_stand(
        pg_engine, app, town, login, monkeypatch, first):
    """The reporter corrects a clue as the station receives it: either the correction comes first
    and the receipt is refused (the station handles the correction), or the receipt does and the
    correction is refused (the station has it). Never both, which left the receipt on a clue that
    no longer stands."""
    clue_id = town.clues["a1"]
    worker, police = login("worker_a"), login("police")
    started, lock = threading.Event(), changes.lock_writers

    def held_a_while():
        lock()
        if threading.current_thread().name == first:
            started.set()
            time.sleep(1)  # the other request arrives meanwhile and waits here, or reads before
    monkeypatch.setattr(changes, "lock_writers", held_a_while)
    correct = ("correction", lambda: worker.post("/api/clues", json={
        "amends": clue_id, "amend_reason": "补充情况说明", "description": "更正：孩子说是邻居"}))
    receive = ("receipt", lambda: police.post(f"/api/clues/{clue_id}/receive"))
    leader, follower = (correct, receive) if first == "correction" else (receive, correct)
    answers = _both(leader, (follower[0], lambda: (started.wait(10), follower[1]())[1]))
    codes = {name: answer.status_code for name, answer in answers.items()}
    assert codes == ({"correction": 201, "receipt": 409} if first == "correction"
                     else {"correction": 422, "receipt": 200}), {n: a.get_json() for n, a in answers.items()}
    with app.app_context():
        standing = db.session.scalars(select(Clue).where(Clue.deleted_at.is_(None), ~Clue.id.in_(
            select(Clue.amends_id).where(Clue.amends_id.is_not(None))))).all()
        assert [(c.status, c.amends_id) for c in standing if c.id == clue_id or c.amends_id == clue_id] == (
            [("new", clue_id)] if first == "correction" else [("received", None)])
