"""Retried refusals keep their answer; a phone's queued edits do not conflict with each other."""
import uuid

from sqlalchemy import event

from server.extensions import db

from .test_push_pull_basics import op, push

WORKER, HEAD = "phone-worker-a-0001", "phone-head-a-0001"


def test_retried_conflict_and_rejection_answer_as_the_first_time(town, login):
    worker, head = login("worker_a", device_id=WORKER), login("head_a", device_id=HEAD)
    child = town.children["a1"]
    assert push(worker, [op("child", "update", child, {"school": "甲小学"}, base_version=1)]
                )["results"][0]["status"] == "applied"
    batch = [op("child", "update", child, {"school": "乙小学"}, base_version=1),
             op("visit", "create", str(uuid.uuid4()), {"child_id": town.children["b1"],
                                                        "visited_at": "2026-11-28T10:00:00+08:00"})]
    first = push(head, batch)["results"]
    assert [r["status"] for r in first] == ["conflict", "rejected"]
    again = push(head, batch)["results"]
    assert again == first
    assert head.get(f"/api/children/{child}").get_json()["school"] == "甲小学"


def test_a_phone_may_queue_two_edits_of_a_field_on_one_base(town, login):
    worker, head = login("worker_a", device_id=WORKER), login("head_a", device_id=HEAD)
    child = town.children["a1"]
    results = push(worker, [op("child", "update", child, {"school": "甲小学"}, base_version=1),
                            op("child", "update", child, {"school": "丙小学"}, base_version=1)])["results"]
    assert [(r["status"], r["version"]) for r in results] == [("applied", 2), ("applied", 3)]
    clash = push(head, [op("child", "update", child, {"school": "乙小学"}, base_version=1)])["results"][0]
    assert clash["status"] == "conflict" and clash["current"]["school"] == "丙小学"
    second = login("worker_a", device_id="phone-worker-a-0002")
    other = push(second, [op("child", "update", child, {"school": "丁小学"}, base_version=2)])["results"][0]
    assert other["status"] == "conflict", "another device of the same user has not seen version 3"


def test_a_batch_commits_its_changes_with_their_ledger_rows_at_once(app, town, login):
    """A batch is one transaction. Were the ledger rows committed apart from the changes they record
    (before them, after them, or op by op), a crash in between would leave an op applied with no
    ledger row, applied again when retried, or a ledger row with no change, answered as a duplicate
    and never applied (the kill test rarely lands in so short a window)."""
    worker = login("worker_a", device_id=WORKER)
    kid, home = town.children["a1"], str(uuid.uuid4())
    batch = [op("household", "create", home, {"grid_id": town.grids["a1"], "address": "一次巷1号"}),
             op("child", "update", kid, {"school": "甲小学"}, base_version=1),
             *(op("visit", "create", str(uuid.uuid4()), {"child_id": kid, "notes": f"第{n}次",
                                                         "visited_at": f"2026-11-2{n}T10:00:00+08:00"})
               for n in (1, 2))]
    with app.app_context():
        engine = db.engine
    commits = []

    def committed(connection):
        commits.append(connection)
    event.listen(engine, "commit", committed)
    try:
        results = push(worker, batch)["results"]
    finally:
        event.remove(engine, "commit", committed)
    assert [r["status"] for r in results] == ["applied"] * 4
    assert len(commits) == 1
