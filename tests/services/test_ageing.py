"""Children leave the active register at 18: on their birthday, in the town's time zone, audited,
and pulled by the phones."""
import uuid
from datetime import date

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, Child, new_id
from server.services import ageing, schedule
from server.services.audit import verify_chain

from .. import factories
from ..routes.helpers import assert_error
from ..sync.test_push_pull_basics import op, pull_all, push


def _born(app, town, births: dict) -> None:
    """Give the town's children these birth dates (or years, for a child with no date)."""
    with app.app_context():
        for key, born in births.items():
            child = db.session.get(Child, town.children[key])
            if isinstance(born, date):
                child.birth_date, child.birth_year = born, born.year
            else:  # a year alone, or None: no birth registered
                child.birth_date, child.birth_year = None, born
        db.session.commit()


def _statuses(app, town) -> dict:
    with app.app_context():
        return {key: db.session.get(Child, child_id).status for key, child_id in town.children.items()}


@pytest.mark.parametrize("today, aged", [
    (date(2026, 5, 9), set()),
    (date(2026, 5, 10), {"a1"}),
    (date(2026, 12, 30), {"a1"}),
    (date(2026, 12, 31), {"a1", "b1"}),
])
def test_a_child_ages_out_on_the_day_they_turn_18(app, town, today, aged):
    _born(app, town, {"a1": date(2008, 5, 10), "a2": date(2009, 1, 1),
                      "b1": 2008})
    with app.app_context():
        assert ageing.age_out(today) == len(aged)
    assert {k for k, status in _statuses(app, town).items() if status == "aged_out"} == aged


def test_a_child_born_on_29_february_turns_18_on_1_march():
    assert [ageing.eighteenth_birthday(date(2008, 2, 29)), ageing.eighteenth_birthday(date(2008, 3, 1))] == [
        date(2026, 3, 1), date(2026, 3, 1)]


def test_ageing_out_is_an_audited_edit_the_phones_pull_and_leaves_the_overdue_list(
        app, town, login, monkeypatch):
    _born(app, town, {"a1": date(2008, 5, 10), "a2": date(2008, 1, 1)})
    with app.app_context():
        db.session.get(Child, town.children["a2"]).status = "moved_out"
        db.session.commit()
        before = db.session.get(Child, town.children["a2"]).version
    worker = login("worker_a", device_id="phone-ageing-worker-a")
    _, cursor = pull_all(worker)

    def overdue() -> set:
        with monkeypatch.context() as later:
            later.setattr(schedule, "local_today", lambda: date(2030, 1, 1))  # every visit long overdue
            return {t["entity_id"] for t in worker.get("/api/tasks").get_json()["tasks"]
                    if t["kind"] == "overdue_visit"}
    assert town.children["a1"] in overdue()
    with app.app_context():
        assert ageing.age_out(date(2026, 6, 1)) == 1  # a child already gone is left as it is
        child = db.session.get(Child, town.children["a1"])
        assert (child.status, db.session.get(Child, town.children["a2"]).status) == ("aged_out", "moved_out")
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_id == child.id, AuditEvent.action == "child.update")
            .order_by(AuditEvent.seq.desc()).limit(1)).one()
        assert (event.actor_id, event.detail) == (None, {"version": child.version, "fields": ["status"]})
        assert db.session.get(Child, town.children["a2"]).version == before
        assert verify_chain()["ok"]
    changes, _ = pull_all(worker, cursor)
    assert [(c["entity"], c["id"], c["data"]["status"]) for c in changes] == [
        ("child", town.children["a1"], "aged_out")]
    assert town.children["a1"] not in overdue()


def test_the_age_out_command_says_how_many_children_turned_18(app, town, monkeypatch):
    _born(app, town, {"a1": date(2008, 5, 10)})
    monkeypatch.setattr(schedule, "local_today", lambda: date(2026, 6, 1))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["age-out"]).output == "1 children aged out at 18\n"
    assert runner.invoke(args=["age-out"]).output == "0 children aged out at 18\n"


def test_only_a_child_who_has_turned_18_is_marked_aged_out(app, town, login, monkeypatch):
    """已满18周岁 takes a child off the visit schedule, the plans and the report's active children: the
    server refuses it, by REST and by sync alike, for a child whose birth says they are under 18 or
    who has no birth registered; a child who has turned 18 may be marked so by hand."""
    _born(app, town, {"a1": date(2008, 6, 2), "a2": None})
    monkeypatch.setattr(schedule, "local_today", lambda: date(2026, 6, 1))
    head = login("head_a", device_id="phone-ageing-head-a")
    message = {"status": ["未满18周岁或未登记出生日期，不能标记为已满18周岁"]}
    a1, a2 = (f"/api/children/{town.children[k]}" for k in ("a1", "a2"))
    assert_error(head.edit(a1, {"status": "aged_out"}), 422, "validation_error", message)
    version = head.get(a2).get_json()["version"]
    aged = op("child", "update", town.children["a2"], {"status": "aged_out"}, version)
    results = push(head, [aged])["results"]
    assert [(r["status"], r.get("errors")) for r in results] == [("rejected", message)]
    assert _statuses(app, town) == {"a1": "active", "a2": "active", "b1": "active"}
    monkeypatch.setattr(schedule, "local_today", lambda: date(2026, 6, 2))
    assert head.edit(a1, {"status": "aged_out"}).get_json()["status"] == "aged_out"
    assert _statuses(app, town) == {"a1": "aged_out", "a2": "active", "b1": "active"}


def test_a_child_who_takes_the_birth_date_of_its_duplicate_in_a_merge_ages_out_on_it(app, town, login):
    """a1 was registered without a birth date; its duplicate, with the same ID number, with one. The
    merge gives a1 that date, and a1 leaves the active register when it turns 18 on it."""
    _born(app, town, {"a1": None})
    with app.app_context():
        twin = Child(id=new_id(), household_id=town.households["a2"], grid_id=town.grids["a2"],
                     village_id=town.villages["a"], sex="F", categories=["left_behind"], birth_year=2008)
        twin.name, twin.birth_date, twin.id_number = "欧阳明月", date(2008, 5, 10), "430699201501010011"
        db.session.add(twin)
        db.session.commit()
        twin_id = twin.id
    merged = login("head_a").post(f"/api/children/{twin_id}/merge", json={"into": town.children["a1"]})
    assert merged.get_json()["birth_date"] == "2008-05-10"
    with app.app_context():
        assert ageing.age_out(date(2026, 5, 10)) == 1
    assert _statuses(app, town) == {"a1": "aged_out", "a2": "active", "b1": "active"}


def test_a_birth_date_corrected_to_under_18_brings_an_aged_out_child_back(app, town, login, monkeypatch):
    """The job aged a1 out on a birth date typed wrong; the worker's correction (the app's form sends
    no status) puts the child back on the register, as an edit phones pull."""
    _born(app, town, {"a1": date(2008, 6, 2)})
    monkeypatch.setattr(schedule, "local_today", lambda: date(2026, 6, 2))
    with app.app_context():
        assert ageing.age_out(date(2026, 6, 2)) == 1
    worker = login("worker_a")
    url = f"/api/children/{town.children['a1']}"
    answer = worker.edit(url, {"birth_date": "2012-06-02"})
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["status"], answer.get_json()["birth_date"]) == ("active", "2012-06-02")
    assert _statuses(app, town) == {"a1": "active", "a2": "active", "b1": "active"}
    still = worker.edit(url, {"birth_date": "2008-01-02"})  # a correction that keeps them adult
    assert (still.status_code, still.get_json()["status"]) == (200, "active")


def test_a_birth_date_the_id_number_contradicts_is_refused_by_rest_and_sync(app, town, login):
    """The ID number holds the birth date; the two disagreeing, one was typed wrong, and the birth date
    decides when the child ages out. Refused on the birth date when either is given; a child stored
    so before is left as it is until then."""
    worker = login("worker_a", device_id="phone-birth-check")
    message = {"birth_date": ["出生日期与身份证号码中的出生日期不一致"]}
    number = factories.valid_id_number("43069920150101001")
    a1, a2 = (f"/api/children/{town.children[k]}" for k in ("a1", "a2"))
    assert worker.edit(a1, {"id_number": number, "birth_date": "2015-01-01"}).status_code == 200
    assert_error(worker.edit(a1, {"birth_date": "2015-01-02"}), 422, "validation_error", message)
    new = {"household_id": town.households["a1"], "name": "欧阳小星", "id_number": number,
           "birth_date": "2016-01-01"}
    assert_error(worker.post("/api/children", json=new), 422, "validation_error", message)
    results = push(worker, [op("child", "create", str(uuid.uuid4()), new)])["results"]
    assert [(r["status"], r["errors"]) for r in results] == [("rejected", message)]
    with app.app_context():
        assert db.session.get(Child, town.children["a1"]).birth_date == date(2015, 1, 1)
    assert worker.edit(a1, {"school": "测试镇中心小学"}).status_code == 200
    # a2 stored with a number born 2016-02-02 and a birth date of 2015-01-01: an edit of another field
    # stands, one of the birth date must agree with the number.
    with app.app_context():
        db.session.get(Child, town.children["a2"]).id_number = factories.valid_id_number("43069920160202002")
        db.session.commit()
    head = login("head_a")
    assert head.edit(a2, {"school": "测试镇中心小学"}).status_code == 200
    assert_error(head.edit(a2, {"birth_date": "2015-01-03"}), 422, "validation_error", message)
    fixed = head.edit(a2, {"birth_date": "2016-02-02"})
    assert (fixed.status_code, fixed.get_json()["birth_date"]) == (200, "2016-02-02")
