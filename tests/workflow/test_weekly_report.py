"""The police station's weekly report (周报) of clues: counted from the records, submitted once,
frozen with the audit chain's head."""
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, update

from server.extensions import db
from server.models import AuditEvent, ReportSnapshot, Unit, User, new_id, replaying_at
from server.services import periods, schedule, weekly_reports
from server.services.audit import verify_chain
from tests.sync.test_push_pull_basics import op, push

from .. import factories
from ..routes.helpers import assert_error, snapshot
from ..services.test_enforcement import inspect


def _week(app, back: int = 0) -> str:
    with app.app_context():
        today = schedule.local_today()
        return periods.last_week(today) if back else periods.week_name(today)


def test_the_weekly_report_counts_the_weeks_clues_and_is_submitted_once(app, town, login, monkeypatch):
    worker = login("worker_a", device_id="phone-weekly-worker-a")
    police, admin = login("police"), login("admin")
    filed, corrected = str(uuid.uuid4()), str(uuid.uuid4())
    results = push(worker, [
        op("clue", "create", filed, {"description": "发现陌生人接触", "place": "村口"}),
        op("clue", "create", corrected, {"description": "发现陌生成年男子多次接触", "place": "村口",
                                         "amends": filed, "amend_reason": "补充"})])["results"]
    assert [r["status"] for r in results] == ["applied"] * 2
    inspector = login("inspector")
    inspection = inspect(inspector, town.venues["a"], [{"item": "verify_identity", "result": "pass"}])
    found = inspector.post(f"/api/inspections/{inspection['id']}/minor-found",
                           json={"description": "发现未成年人入住", "name": "某某"}).get_json()["clue_id"]
    # Filed plainly, then corrected to name the inspection it came from: a minor found, counted once.
    plain, named = str(uuid.uuid4()), str(uuid.uuid4())
    assert inspector.post("/api/clues", json={"id": plain, "description": "网吧有未成年人"}).status_code == 201
    assert inspector.post("/api/clues", json={"id": named, "description": "网吧有未成年人",
                                              "source_inspection_id": inspection["id"], "amends": plain,
                                              "amend_reason": "补记来源"}).status_code == 201
    for clue_id in (corrected, town.clues["a1"]):
        assert police.post(f"/api/clues/{clue_id}/receive").status_code == 200
    assert police.post(f"/api/clues/{corrected}/close", json={"outcome": "case_filed", "note": "已立案"}) \
        .status_code == 200

    week = _week(app)
    report = police.get(f"/api/reports/weekly?week={week}").get_json()
    expected = {"filed": 4, "minors_found": 2, "received": 2, "closed": 1,
                "outcomes": {"case_filed": 1, "no_case": 0, "referred": 0, "other": 0}, "waiting": 2, "open": 1}
    with app.app_context():
        station = db.session.get(User, town.users["police"]).unit_id
    assert (report["period"], report["submitted"], report["figures"], report["unit_id"]) == (
        week, False, expected, station)
    start, end = periods.week_window(week)
    assert (report["window_start"], report["window_end"], report["due"]) == (
        start.isoformat(), (end - (end - start) / 7).isoformat(), end.isoformat())
    assert admin.get(f"/api/reports/weekly?week={week}").get_json()["figures"] == expected
    for who in ("worker_a", "head_a", "inspector"):
        assert_error(login(who).get("/api/reports/weekly"), 404, "not_found")
    assert_error(admin.post("/api/reports/weekly/submit", json={"week": week}), 403, "report_not_allowed")
    # `$` alone would take the newline: a second report of a week (last week's, over, submittable).
    for malformed in ("2026-48", f"{_week(app, back=1)}\n"):
        assert_error(police.post("/api/reports/weekly/submit", json={"week": malformed}), 422,
                     "validation_error", field_names={"week"})
    assert_error(police.post("/api/reports/weekly/submit", json={"week": "0000-W01"}), 422, "validation_error",
                 fields={"week": ["周次无效"]})
    assert_error(police.post("/api/reports/weekly/submit", json={"week": "2025-W53"}), 422, "validation_error",
                 fields={"week": ["周次无效"]})
    # This week and the same week a year on (52 weeks: next year may have no week 53).
    for unfinished in (week, periods.week_name(start + timedelta(weeks=52))):
        assert_error(police.post("/api/reports/weekly/submit", json={"week": unfinished}), 422,
                     "validation_error", fields={"week": ["该周尚未结束，周一起可提交"]})
    with app.app_context():
        monday = periods.week_window(week)[1]
    monkeypatch.setattr(schedule, "local_today", lambda: monday)  # the week is over

    submitted = police.post("/api/reports/weekly/submit", json={"week": week})
    assert submitted.status_code == 201
    body = submitted.get_json()
    assert (body["submitted"], body["figures"], body["submitted_by"], body["late"]) == (
        True, expected, town.users["police"], False)
    assert_error(police.post("/api/reports/weekly/submit", json={"week": week}), 409, "report_submitted")
    police.post(f"/api/clues/{found}/receive")
    frozen = admin.get(f"/api/reports/weekly?week={week}").get_json()
    assert (frozen["id"], frozen["figures"], frozen["audit_head"]) == (body["id"], expected, body["audit_head"])
    assert police.get(f"/api/reports/weekly?week={week}").get_json()["figures"] == expected
    with app.app_context():
        assert verify_chain()["ok"]
        db.session.remove()


def test_a_weekly_submission_that_loses_a_race_is_refused_by_the_unique_index(app, town, login, monkeypatch):
    police = login("police")
    week = _week(app, back=1)
    assert police.post("/api/reports/weekly/submit", json={"week": week}).status_code == 201
    before = snapshot(app, ("report_snapshot", "audit_event"))
    monkeypatch.setattr(weekly_reports, "find_weekly", lambda *args, **kwargs: None)  # as if it checked first
    assert_error(police.post("/api/reports/weekly/submit", json={"week": week}), 409, "report_submitted")
    assert snapshot(app, ("report_snapshot", "audit_event")) == before
    with app.app_context():
        assert verify_chain()["ok"]
        db.session.remove()


@pytest.mark.parametrize("tamper", ["figures rewritten", "deleted and submitted again"])
def test_verify_finds_a_weekly_report_rewritten_or_submitted_again(app, town, login, tamper):
    police = login("police")
    week = _week(app, back=1)
    frozen = police.post("/api/reports/weekly/submit", json={"week": week}).get_json()
    with app.app_context():
        assert verify_chain()["ok"]
        if tamper == "figures rewritten":
            forged = {**frozen["figures"], "closed": frozen["figures"]["closed"] + 9}
            db.session.execute(update(ReportSnapshot).where(ReportSnapshot.id == frozen["id"])
                               .values(figures=forged))
        else:
            db.session.execute(delete(ReportSnapshot))
        db.session.commit()
    if tamper != "figures rewritten":
        assert police.post("/api/reports/weekly/submit", json={"week": week}).status_code == 201
    with app.app_context():
        first = db.session.execute(select(AuditEvent.seq, AuditEvent.id).where(
            AuditEvent.action == "report.submit").order_by(AuditEvent.seq).limit(1)).one()
        result = verify_chain()
        db.session.remove()
    if tamper == "figures rewritten":
        broken = {"seq": None, "id": frozen["id"], "problem": f"the {week} report differs from what its "
                                                                "submission recorded"}
    else:
        broken = {"seq": first.seq, "id": first.id, "problem": f"the {week} report submitted here is missing"}
    assert (result["ok"], result["broken_at"]) == (False, broken)


def test_the_station_is_reminded_of_last_weeks_report_until_it_is_submitted(app, town, login):
    police = login("police")
    last = _week(app, back=1)
    due = periods.week_window(last)[1].isoformat()
    tasks = [t for t in police.get("/api/tasks").get_json()["tasks"] if t["kind"] == "weekly_report_due"]
    monday, sunday = periods.week_window(last)[0], periods.week_window(last)[1] - timedelta(days=1)
    title = f"上周（{monday.month}月{monday.day}日至{sunday.month}月{sunday.day}日）周报待提交"
    assert [(t["title"], t["due"], t["entity_id"]) for t in tasks] == [(title, due, last)]
    assert police.post("/api/reports/weekly/submit", json={"week": last}).status_code == 201
    assert [t for t in police.get("/api/tasks").get_json()["tasks"] if t["kind"] == "weekly_report_due"] == []
    assert police.get("/api/reports/weekly").get_json()["period"] == last


def test_the_town_office_sees_which_stations_have_submitted_the_week(app, town, login, monkeypatch):
    with app.app_context():
        town_id = db.session.get(User, town.users["police"]).town_id
        second = Unit(id=new_id(), town_id=town_id, name="测试第二派出所", kind="police")
        db.session.add(second)
        db.session.flush()
        factories.add_user(town, "police_2", "police", town_id, unit_id=second.id)
        db.session.commit()
        first = db.session.get(User, town.users["police"]).unit_id
        second_id = second.id
    police, admin = login("police"), login("admin")
    last = _week(app, back=1)
    due = periods.week_window(last)[1]
    monkeypatch.setattr(schedule, "local_today", lambda: due)  # the Monday after: nothing is late yet
    # Submitted on that Monday, whenever the test runs (after 16:00 UTC it is Tuesday in the town); at
    # its first moment, never after now: on a Monday morning, noon would find the session idle.
    with replaying_at(datetime.combine(due, time(), tzinfo=ZoneInfo("Asia/Shanghai"))):
        submitted = police.post("/api/reports/weekly/submit", json={"week": last}).get_json()

    def statuses(who):
        return [(s["unit_id"], s["name"], s["submitted"], s["submitted_at"], s["submitted_by_name"], s["late"])
                for s in who.get(f"/api/reports/weekly?week={last}").get_json()["stations"]]
    expected = [(first, "测试派出所", True, submitted["submitted_at"], "测试police", False),
                (second_id, "测试第二派出所", False, None, None, False)]
    assert statuses(admin) == expected
    assert statuses(police) == expected[:1]  # a station sees its own row only
    theirs = login("police_2").get(f"/api/reports/weekly?week={last}").get_json()["stations"]
    assert [(s["name"], s["submitted"]) for s in theirs] == [("测试第二派出所", False)]
    # A station that has not submitted by the day after the Monday is late; one that has, is not.
    monkeypatch.setattr(schedule, "local_today", lambda: due + timedelta(days=1))
    later = admin.get(f"/api/reports/weekly?week={last}").get_json()["stations"]
    assert [(s["name"], s["late"]) for s in later] == [("测试派出所", False), ("测试第二派出所", True)]
