"""Two editors who read the same version of a record at once: one wins, the other gets 409, and
neither edit is lost silently (PostgreSQL, where two requests really overlap)."""
import threading
import time

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, Child, Plan
from server.routes import records
from server.services import plans

from ..workflow.helpers import post_visit


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
