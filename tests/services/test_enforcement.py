"""Joint enforcement: violations to closure, overdue and stale to-dos, month view, venue→clue→child."""
import base64
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest

from server.extensions import db
from server.models import AuditEvent, Child, Clue, User, Venue
from server.services import enforcement, periods, schedule
from server.sync import cursor

from ..factories import valid_id_number
from ..images import png
from ..routes.helpers import assert_error
from ..sync.test_push_pull_basics import op, push
from ..workflow.helpers import TZ
from .test_checklists import release

NOW = datetime.now(UTC).replace(microsecond=0)


def inspect(api, venue_id, answers, at=NOW, **extra):
    """Record an inspection over REST; return its JSON."""
    body = {"venue_id": venue_id, "inspected_at": at.isoformat(), "answers": answers, **extra}
    response = api.post("/api/inspections", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_failed_items_get_deadlines_and_reinspections_close_them(town, login):
    api = login("inspector")
    first = inspect(api, town.venues["a"], [
        {"item": "verify_identity", "result": "fail", "note": "未登记身份证"},
        {"item": "patrol_visitors", "result": "fail"},
        {"item": "staff_trained", "result": "pass"}])
    assert first["template_key"] == "lodging" and first["template_version"] == 1
    today = NOW.astimezone(TZ).date()
    assert [(a["item"], a["result"], a["deadline"], a["note"]) for a in first["answers"]] == [
        ("verify_identity", "fail", (today + timedelta(days=7)).isoformat(), "未登记身份证"),
        ("patrol_visitors", "fail", (today + timedelta(days=15)).isoformat(), None),
        ("staff_trained", "pass", None, None)]
    open_items = api.get("/api/violations").get_json()["rows"]
    assert sorted((v["item"], v["deadline"], v["overdue"]) for v in open_items) == [
        ("patrol_visitors", (today + timedelta(days=15)).isoformat(), False),
        ("verify_identity", (today + timedelta(days=7)).isoformat(), False)]
    # Retyped, the hotel's re-inspection would be checked against a KTV's list: its failures never close.
    venue_url = f"/api/venues/{town.venues['a']}"
    assert_error(api.edit(venue_url, {"type": "ktv"}), 409, "has_open_violations")
    assert api.get(venue_url).get_json()["type"] == "hotel"
    second = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "pass"},
                                             {"item": "patrol_visitors", "result": "fail"}],
                     reinspection_of=first["id"])
    # Failed again: one problem, carried forward with the re-inspection's own deadline.
    rows = api.get("/api/violations").get_json()["rows"]
    assert [(v["item"], v["inspection_id"], v["deadline"]) for v in rows] == [
        ("patrol_visitors", second["id"], second["answers"][1]["deadline"])]
    inspect(api, town.venues["a"], [{"item": "patrol_visitors", "result": "pass"}],
            reinspection_of=second["id"])
    assert api.get("/api/violations").get_json()["rows"] == []
    assert api.edit(venue_url, {"type": "ktv"}).status_code == 200
    assert api.get(venue_url).get_json()["type"] == "ktv"


def test_a_reinspection_dated_before_its_failure_by_a_slow_phone_still_closes_it(town, login):
    """The re-inspection's phone ran two days slow: it is dated before the inspection it re-checks,
    yet it comes after it in the chain, and what it passes is closed; what it fails again stays
    open with its own deadline."""
    api = login("inspector")
    first = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "fail"},
                                            {"item": "patrol_visitors", "result": "fail"}])
    slow = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "pass"},
                                           {"item": "patrol_visitors", "result": "fail"}],
                   at=NOW - timedelta(days=2), reinspection_of=first["id"])
    rows = api.get("/api/violations").get_json()["rows"]
    assert [(v["item"], v["inspection_id"], v["deadline"]) for v in rows] == [
        ("patrol_visitors", slow["id"], slow["answers"][1]["deadline"])]
    inspect(api, town.venues["a"], [{"item": "patrol_visitors", "result": "pass"}],
            at=NOW - timedelta(days=3), reinspection_of=slow["id"])
    assert api.get("/api/violations").get_json()["rows"] == []


def test_deadlines_count_from_the_towns_date_of_the_inspection_and_overdue_from_its_today(
        app, town, login, monkeypatch):
    # 23:30 UTC on 2 November is 07:30 on 3 November in the town, whatever offset the phone sent.
    api = login("inspector")
    at = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)
    first = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "fail"}], at=at)
    assert first["answers"][0]["deadline"] == "2026-11-10"
    early = api.post("/api/inspections", json={
        "venue_id": town.venues["b"], "inspected_at": at.isoformat(),
        "answers": [{"item": "verify_identity", "result": "fail", "deadline": "2026-11-02"}]})
    assert early.status_code == 422
    assert early.get_json()["error"]["fields"] == {"answers": ["整改期限不能早于检查日期：verify_identity"]}
    # The list's "overdue" is against the town's today: 00:30 on 11 November there is 10 November in UTC.
    monkeypatch.setattr(schedule, "local_today", lambda: date(2026, 11, 11))
    assert [(v["deadline"], v["overdue"]) for v in api.get("/api/violations").get_json()["rows"]] == [
        ("2026-11-10", True)]
    monkeypatch.setattr(schedule, "local_today", lambda: date(2026, 11, 10))
    assert [v["overdue"] for v in api.get("/api/violations").get_json()["rows"]] == [False]


def test_reinspection_of_another_venue_is_refused(town, login):
    api = login("inspector")
    first = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "fail"}])
    response = api.post("/api/inspections", json={
        "venue_id": town.venues["b"], "inspected_at": NOW.isoformat(), "reinspection_of": first["id"],
        "answers": [{"item": "verify_identity", "result": "pass"}]})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"reinspection_of": ["复查须针对同一场所"]}


def test_overdue_rectifications_reach_the_unit_and_the_town_admin(app, town, login):
    inspect(login("inspector"), town.venues["a"], [{"item": "verify_identity", "result": "fail"}],
            at=NOW - timedelta(days=20))
    with app.app_context():
        inspector = db.session.get(User, town.users["inspector"])
        admin = db.session.get(User, town.users["admin"])
        police = db.session.get(User, town.users["police"])
        today = NOW.date()
        assert [(v["item"], v["overdue"]) for v in enforcement.overdue_rectifications(inspector, today)] \
            == [("verify_identity", True)]
        assert len(enforcement.overdue_rectifications(admin, today)) == 1
        assert enforcement.overdue_rectifications(police, today) == []


def test_venues_not_inspected_for_90_days_are_stale(app, town, login):
    inspect(login("inspector"), town.venues["a"], [{"item": "verify_identity", "result": "pass"}])
    with app.app_context():
        admin = db.session.get(User, town.users["admin"])
        assert [v.id for v in enforcement.stale_venues(admin, NOW.date())] == [town.venues["b"]]
        later = NOW.date() + timedelta(days=91)
        assert {v.id for v in enforcement.stale_venues(admin, later)} == set(town.venues.values())


def test_a_venue_is_stale_from_the_towns_date_of_its_last_inspection(app, town, login):
    # 20:00 UTC on 1 August is 04:00 on 2 August in the town: stale 90 days after 2 August.
    inspect(login("inspector"), town.venues["a"], [{"item": "verify_identity", "result": "pass"}],
            at=datetime(2026, 8, 1, 20, 0, tzinfo=UTC))
    with app.app_context():
        admin = db.session.get(User, town.users["admin"])
        assert town.venues["a"] not in {v.id for v in enforcement.stale_venues(admin, date(2026, 10, 30))}
        assert town.venues["a"] in {v.id for v in enforcement.stale_venues(admin, date(2026, 10, 31))}


def test_an_inspection_dated_ahead_by_the_phone_counts_as_made_when_it_arrived(app, town, login):
    """A phone a year ahead: the venue was last inspected when the inspection arrived, so it goes
    stale 90 days after that, and a later re-inspection that fails again is the open one."""
    api = login("inspector")
    ahead = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "fail"}],
                    at=NOW + timedelta(days=365))
    assert ("future_time" in ahead["flags"], ahead["counted_at"]) == (True, ahead["received_at"])
    with app.app_context():
        admin = db.session.get(User, town.users["admin"])
        received = db.session.get(Venue, town.venues["a"]).last_inspected_at
        assert (NOW - timedelta(minutes=5) < received < datetime.now(UTC), received) == (
            True, datetime.fromisoformat(ahead["received_at"]))
        later = schedule.local_date(received) + timedelta(days=91)
        assert town.venues["a"] in {v.id for v in enforcement.stale_venues(admin, later)}
    again = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "fail"}],
                    at=datetime.now(UTC), reinspection_of=ahead["id"])
    assert again["counted_at"] == again["inspected_at"]
    assert [v["inspection_id"] for v in api.get("/api/violations").get_json()["rows"]] == [again["id"]]


def test_a_failure_dated_ahead_by_the_phone_falls_due_from_the_day_the_inspection_arrived(
        app, town, login, monkeypatch):
    """A phone a year ahead dates the inspection next year: its failures are due 7 days after the
    inspection arrived, not 7 days after the phone's date, so they are overdue a week on; and a
    deadline the inspector sets is checked against that day, not refused as before the phone's."""
    api = login("inspector")
    ahead = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "fail"}],
                    at=NOW + timedelta(days=365))
    arrived = datetime.fromisoformat(ahead["counted_at"]).astimezone(TZ).date()
    assert [(a["item"], a["deadline"]) for a in ahead["answers"]] == [
        ("verify_identity", (arrived + timedelta(days=7)).isoformat())]
    set_by_hand = inspect(api, town.venues["b"], [
        {"item": "verify_identity", "result": "fail", "deadline": (arrived + timedelta(days=3)).isoformat()}],
        at=NOW + timedelta(days=365))
    assert set_by_hand["answers"][0]["deadline"] == (arrived + timedelta(days=3)).isoformat()
    monkeypatch.setattr(schedule, "local_today", lambda: arrived + timedelta(days=8))
    assert sorted((v["inspection_id"], v["overdue"]) for v in api.get("/api/violations").get_json()["rows"]) \
        == sorted([(ahead["id"], True), (set_by_hand["id"], True)])


def test_a_correction_from_a_phone_still_ahead_counts_as_made_when_the_inspection_arrived(app, town, login):
    api = login("inspector")
    ahead = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "fail"}],
                    at=NOW + timedelta(days=365))
    response = api.post("/api/inspections", json={
        "venue_id": town.venues["a"], "inspected_at": (NOW + timedelta(days=364)).isoformat(),
        "answers": [{"item": "verify_identity", "result": "pass"}], "amends": ahead["id"],
        "amend_reason": "检查结果填写有误"})
    assert response.status_code == 201, response.get_json()
    corrected = response.get_json()
    assert (corrected["received_at"] > ahead["received_at"], corrected["counted_at"]) == (
        True, ahead["received_at"])
    with app.app_context():
        assert db.session.get(Venue, town.venues["a"]).last_inspected_at == datetime.fromisoformat(
            ahead["received_at"])


def test_month_view_and_missing_operation_warning(app, town, login):
    api = login("inspector")
    with app.app_context():
        assert enforcement.operation_missing(date(NOW.year, NOW.month, 21)) is True
        assert enforcement.operation_missing(date(NOW.year, NOW.month, 20)) is False
    operation = api.post("/api/operations", json={
        "date": NOW.date().isoformat(), "lead_unit": "测试派出所", "units": ["测试市场监管所"],
        "member_ids": [town.users["inspector"]]}).get_json()
    inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "pass"}],
            operation_id=operation["id"])
    view = api.get(f"/api/operations/month?month={NOW:%Y-%m}").get_json()
    assert [o["id"] for o in view["operations"]] == [operation["id"]]
    assert [v["id"] for v in view["covered"]] == [town.venues["a"]]
    assert [v["id"] for v in view["uncovered"]] == [town.venues["b"]]
    # Filed in the operation, then corrected as made outside it: the correction says what happened.
    linked = inspect(api, town.venues["b"], [{"item": "verify_identity", "result": "pass"}],
                     operation_id=operation["id"])
    inspect(api, town.venues["b"], [{"item": "verify_identity", "result": "pass"}], amends=linked["id"],
            amend_reason="不是联合行动中检查的")
    view = api.get(f"/api/operations/month?month={NOW:%Y-%m}").get_json()
    assert ([v["id"] for v in view["covered"]], [v["id"] for v in view["uncovered"]]) == (
        [town.venues["a"]], [town.venues["b"]])
    for month in ("2026-13", "0000-01", f"{NOW:%Y-%m}%0A"):  # as report periods are read
        assert_error(api.get(f"/api/operations/month?month={month}"), 422, "validation_error",
                     fields={"month": ["月份格式应为 YYYY-MM（1900 至 2100 年）"]})
    with app.app_context():
        assert enforcement.operation_missing(date(NOW.year, NOW.month, 21)) is (NOW.day > 21)


def inspected_with_a_known_minor(app, town, login):
    """Give child a1 an ID number and inspect venue a: (inspector, inspection, the ID number)."""
    id_number = valid_id_number("43069920150101001")
    with app.app_context():
        db.session.get(Child, town.children["a1"]).id_number = id_number
        db.session.commit()
    inspector = login("inspector")
    inspection = inspect(inspector, town.venues["a"], [{"item": "verify_identity", "result": "fail"}])
    return inspector, inspection, id_number


def test_minor_found_files_a_clue_and_links_or_awaits_the_child(app, town, login):
    inspector, inspection, id_number = inspected_with_a_known_minor(app, town, login)
    known = inspector.post(f"/api/inspections/{inspection['id']}/minor-found", json={
        "description": "前台登记未成年人与成年男子同住", "id_number": id_number})
    assert known.status_code == 201 and set(known.get_json()) == {"clue_id"}
    clue = login("police").get(f"/api/clues/{known.get_json()['clue_id']}").get_json()
    assert (clue["child_id"], clue["source_inspection_id"], clue["village_id"]) == (
        town.children["a1"], inspection["id"], town.villages["a"])
    assert clue["place"].startswith("测试a宾馆")
    assert clue["subject"] == {"name": "欧阳明月", "sex": "F", "birth_date": "2015-01-01", "village": "测试A村",
                               "address": "测试镇a1组2号槐花巷", "stated_id_number": id_number}
    unknown = inspector.post(f"/api/inspections/{inspection['id']}/minor-found", json={
        "description": "网吧内发现疑似未成年人", "name": "无名氏"}).get_json()
    assert set(unknown) == {"clue_id"}
    head = login("head_a")
    rows = head.get("/api/minors-found").get_json()["rows"]
    assert [r["clue_id"] for r in rows] == [unknown["clue_id"]] and "description" not in rows[0]
    assert login("head_b").post(f"/api/minors-found/{unknown['clue_id']}/link",
                                json={"child_id": town.children["b1"]}).status_code == 404
    linked = head.post(f"/api/minors-found/{unknown['clue_id']}/link",
                       json={"child_id": town.children["a2"]})
    assert linked.status_code == 204
    assert head.get("/api/minors-found").get_json()["rows"] == []
    with app.app_context():
        assert db.session.get(Clue, unknown["clue_id"]).child_id == town.children["a2"]
    assert login("police").get(f"/api/clues/{unknown['clue_id']}").get_json()["subject"]["address"] == \
        "测试镇a2组2号槐花巷"


def test_the_minor_found_form_tells_no_one_who_is_in_the_child_register(app, town, login):
    """Registered or not, an ID number gets the same answer; an unregistered one is kept for the
    head to check, with nothing refused for want of a name."""
    inspector, inspection, id_number = inspected_with_a_known_minor(app, town, login)
    stranger = valid_id_number("43069920160202002")
    url = f"/api/inspections/{inspection['id']}/minor-found"
    for role in ("inspector", "police", "head_a"):
        api = login(role)
        answers = [api.post(url, json={"description": "前台登记未成年人", "id_number": number})
                   for number in (id_number, stranger)]
        assert [(a.status_code, set(a.get_json())) for a in answers] == [(201, {"clue_id"})] * 2
    clue = login("police").get(f"/api/clues/{answers[1].get_json()['clue_id']}").get_json()
    assert (clue["child_id"], clue["description"], clue["subject"]) == (
        None, "前台登记未成年人", {"stated_id_number": stranger})


def test_the_police_filing_a_registered_minors_number_learn_nothing_of_the_register(app, town, login):
    """The station reads the clues it files: a link would give it the name and home of whoever the
    number names, a lookup of the child register. Its filing waits, unlinked, for the village head
    (who reads the child) to link, as an unregistered minor does."""
    _, inspection, id_number = inspected_with_a_known_minor(app, town, login)
    police = login("police")
    assert police.get(f"/api/children/{town.children['a1']}").status_code == 404
    filed = police.post(f"/api/inspections/{inspection['id']}/minor-found", json={
        "description": "前台登记未成年人", "name": "欧阳明月", "id_number": id_number})
    assert filed.status_code == 201 and set(filed.get_json()) == {"clue_id"}
    clue_id = filed.get_json()["clue_id"]
    clue = police.get(f"/api/clues/{clue_id}").get_json()
    assert (clue["child_id"], clue["village_id"], clue["subject"]) == (
        None, town.villages["a"], {"stated_name": "欧阳明月", "stated_id_number": id_number})
    head = login("head_a")
    assert [r["clue_id"] for r in head.get("/api/minors-found").get_json()["rows"]] == [clue_id]
    linked = head.post(f"/api/minors-found/{clue_id}/link", json={"child_id": town.children["a1"]})
    assert linked.status_code == 204
    assert police.get(f"/api/clues/{clue_id}").get_json()["subject"] == {
        "name": "欧阳明月", "sex": "F", "birth_date": "2015-01-01", "village": "测试A村",
        "address": "测试镇a1组2号槐花巷", "stated_name": "欧阳明月", "stated_id_number": id_number}


def test_what_a_minor_found_said_is_masked_for_the_town_office_as_the_register_is(app, town, login):
    """The minor's own name and ID number are kept in the clue's subject, not in the reporter's
    words: the police read them whole, the town office masked, before and after the link."""
    inspector, inspection, id_number = inspected_with_a_known_minor(app, town, login)
    filed = [inspector.post(f"/api/inspections/{inspection['id']}/minor-found", json={
        "description": "前台登记未成年人", "name": "司马小雨", "id_number": number}).get_json()["clue_id"]
        for number in (id_number, valid_id_number("43069920160202002"))]
    admin, police = login("admin"), login("police")
    linked, unlinked = (admin.get(f"/api/clues/{clue_id}").get_json() for clue_id in filed)
    assert linked["child_id"] == town.children["a1"] and unlinked["child_id"] is None
    assert linked["subject"] == {"name": "欧**月", "sex": "F", "birth_date": "2015-01-01", "village": "测试A村",
                                 "address": "测试镇a1组2号槐花巷", "stated_name": "司**雨",
                                 "stated_id_number": "430699********" + id_number[-4:]}
    assert unlinked["subject"] == {"stated_name": "司**雨", "stated_id_number": "430699********0021"}
    assert {linked["description"], unlinked["description"]} == {"前台登记未成年人"}
    assert police.get(f"/api/clues/{filed[1]}").get_json()["subject"] == {
        "stated_name": "司马小雨", "stated_id_number": valid_id_number("43069920160202002")}
    linked = admin.post(f"/api/minors-found/{filed[1]}/link", json={"child_id": town.children["a2"]})
    assert linked.status_code == 204
    assert admin.get(f"/api/clues/{filed[1]}").get_json()["subject"]["stated_id_number"] == "430699********0021"


def test_a_moved_venue_takes_its_unlinked_minors_to_the_new_village_head(app, town, login):
    """A minor found in a venue awaits linking by the head of the venue's village, wherever it moves."""
    inspector, inspection, id_number = inspected_with_a_known_minor(app, town, login)
    found = inspector.post(f"/api/inspections/{inspection['id']}/minor-found", json={
        "description": "网吧内发现疑似未成年人", "name": "无名氏"}).get_json()["clue_id"]
    linked = inspector.post(f"/api/inspections/{inspection['id']}/minor-found", json={
        "description": "前台登记未成年人", "id_number": id_number}).get_json()["clue_id"]
    head_a, head_b = login("head_a"), login("head_b")
    assert [r["clue_id"] for r in head_a.get("/api/minors-found").get_json()["rows"]] == [found]
    moved = login("admin").edit(f"/api/venues/{town.venues['a']}", {"village_id": town.villages["b"]})
    assert moved.status_code == 200, moved.get_json()
    assert head_a.get("/api/minors-found").get_json()["rows"] == []
    assert [r["clue_id"] for r in head_b.get("/api/minors-found").get_json()["rows"]] == [found]
    police = login("police")
    assert police.get(f"/api/clues/{found}").get_json()["village_id"] == town.villages["b"]
    assert police.get(f"/api/clues/{linked}").get_json()["village_id"] == town.villages["a"]
    link = head_b.post(f"/api/minors-found/{found}/link", json={"child_id": town.children["b1"]})
    assert link.status_code == 204


def test_record_found_alerts_and_yearly_recheck(app, town, login):
    api = login("inspector")
    id_number = valid_id_number("43069919900101001")
    body = {"person_name": "前台员工", "id_number": id_number, "employer_kind": "venue",
            "employer_id": town.venues["a"], "checked_on": "2026-03-01", "result": "record_found"}
    created = api.post("/api/staff_checks", json=body)
    assert created.status_code == 201, created.get_json()
    check = created.get_json()
    assert check["next_due"] == "2027-03-01"
    assert check["id_number"] == "430699********" + id_number[-4:]
    assert check["village_id"] == town.villages["a"]
    with app.app_context():
        alerts = db.session.query(AuditEvent).filter_by(action="alert.staff_record_found").all()
        assert [(a.entity_id, a.actor_id) for a in alerts] == [(check["id"], town.users["inspector"])]


def test_old_inspections_stay_readable_after_a_template_changes(data_copy, town, login):
    api = login("inspector")
    old = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "fail"}])
    release(data_copy, "lodging.json", lambda d: d.update(
        items=[i for i in d["items"] if i["key"] != "verify_identity"]))
    again = api.get(f"/api/inspections/{old['id']}").get_json()
    assert (again["template_version"], [a["item"] for a in again["answers"]]) == (1, ["verify_identity"])
    newer = inspect(api, town.venues["a"], [{"item": "patrol_visitors", "result": "pass"}])
    assert newer["template_version"] == 2
    refused = api.post("/api/inspections", json={
        "venue_id": town.venues["a"], "inspected_at": NOW.isoformat(), "id": str(uuid.uuid4()),
        "answers": [{"item": "verify_identity", "result": "pass"}]})
    assert refused.status_code == 422


SECRET_MARK = b"PHOTO-SECRET-MARK-123"


def test_photos_are_images_size_limited_encrypted_and_scoped(app, town, login):
    api = login("inspector")
    inspection = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "fail"}])
    url = f"/api/inspections/{inspection['id']}/photos"
    photo_id = str(uuid.uuid4())
    content, picture = png(text=SECRET_MARK), png()  # the picture, and it with a text chunk, which is dropped
    first = api.post(url, data=content, headers={"Content-Type": "image/png", "X-Photo-Id": photo_id})
    assert first.status_code == 201, first.get_json()
    assert {k: first.get_json()[k] for k in ("id", "inspection_id", "mime", "size")} == {
        "id": photo_id, "inspection_id": inspection["id"], "mime": "image/png", "size": len(picture)}
    again = api.post(url, data=content, headers={"Content-Type": "image/png", "X-Photo-Id": photo_id})
    assert again.status_code == 201 and again.get_json()["id"] == photo_id
    assert [p["id"] for p in api.get(url).get_json()["rows"]] == [photo_id]
    back = api.get(f"/api/photos/{photo_id}")
    assert back.status_code == 200 and back.data == picture and back.mimetype == "image/png"
    assert login("head_b").get(f"/api/photos/{photo_id}").status_code == 404
    assert login("worker_a").get(f"/api/photos/{photo_id}").status_code == 404
    not_image = api.post(url, data=b"%PDF-1.4 not an image", headers={"Content-Type": "image/png"})
    assert not_image.status_code == 415 and not_image.get_json()["error"]["code"] == "not_an_image"
    too_big = api.post(url, data=png(1000, 800), headers={"Content-Type": "image/png"})
    assert too_big.status_code == 413 and too_big.get_json()["error"]["code"] == "photo_too_large"
    with app.app_context():
        stored = db.session.execute(db.text("SELECT content_ct FROM attachment")).scalars().all()
        assert len(stored) == 1 and SECRET_MARK not in bytes(stored[0]) and picture[33:] not in bytes(stored[0])


def test_enforcement_items_reach_the_right_to_do_lists(app, town, login, monkeypatch):
    from server.services import schedule

    inspector = login("inspector")
    inspection = inspect(inspector, town.venues["a"], [{"item": "verify_identity", "result": "fail"}],
                         at=NOW - timedelta(days=20))
    check = inspector.post("/api/staff_checks", json={
        "person_name": "服务员", "id_number": valid_id_number("43069919900101002"),
        "employer_kind": "venue", "employer_id": town.venues["b"], "checked_on": "2025-12-20",
        "result": "record_found"}).get_json()
    unlinked = inspector.post(f"/api/inspections/{inspection['id']}/minor-found",
                              json={"description": "发现未成年人", "name": "某某"}).get_json()
    monkeypatch.setattr(schedule, "local_today", lambda: date(NOW.year, NOW.month, 1) + timedelta(days=21))
    today = schedule.local_today()

    def kinds(username):
        tasks = login(username).get("/api/tasks").get_json()
        return sorted((t["kind"], t["entity_id"]) for t in tasks["tasks"]
                      if t["kind"] not in ("report_due", "overdue_visit", "plan_missing"))

    stale_b = ("venue_stale", town.venues["b"])
    rect = ("rectification", inspection["id"])
    recheck = ("staff_recheck_due", check["id"])
    found = ("staff_record_found", check["id"])
    minor = ("minor_unregistered", unlinked["clue_id"])
    waiting = ("clue_new", None)  # the town's clue and the minor found, not yet received by the station
    admin_expected = sorted([rect, stale_b, recheck, found, minor, waiting] + (
        [("operation_missing", None)] if today.month == NOW.month else []))
    assert kinds("inspector") == sorted([rect, stale_b, recheck])
    assert kinds("admin") == admin_expected
    assert kinds("police") == sorted([found, waiting, ("weekly_report_due", periods.last_week(today))])
    assert kinds("head_a") == sorted([rect, minor])
    assert kinds("head_b") == [recheck]
    assert kinds("worker_a") == []
    titles = {t["entity_id"]: t["title"] for t in login("inspector").get("/api/tasks").get_json()["tasks"]
              if t["kind"] == "venue_stale"}
    assert titles == {town.venues["b"]: "测试b宾馆 尚未检查"}  # never inspected, not "over 90 days"


def test_a_deleted_venues_rectifications_are_no_longer_open_anywhere(app, town, login):
    """A deleted venue can no longer be re-inspected: its failures leave the to-do lists, the
    violations, the monthly report's open figures, and the ledger says why they were never closed.
    So only the town office deletes a venue with failures open: a village head's delete would take
    overdue rectifications out of the village's own report."""
    inspector, head = login("inspector"), login("head_a", device_id="phone-head-a")
    failed = inspect(inspector, town.venues["a"], [{"item": "verify_identity", "result": "fail"}],
                     at=NOW - timedelta(days=10))
    with app.app_context():
        period = periods.current_period(schedule.local_today())

    def still_open():
        venues = head.get(f"/api/reports/monthly?period={period}").get_json()["figures"]["venues"]
        return ([t["kind"] for who in (head, inspector) for t in who.get("/api/tasks").get_json()["tasks"]
                 if t["kind"] == "rectification"],
                [v["inspection_id"] for v in inspector.get("/api/violations").get_json()["rows"]],
                (venues["open_violations"], venues["overdue_rectifications"]))
    assert still_open() == (["rectification"] * 2, [failed["id"]], (1, 1))
    version = head.get(f"/api/venues/{town.venues['a']}").get_json()["version"]
    refused = push(head, [op("venue", "delete", town.venues["a"], base_version=version)])["results"]
    assert [(r["status"], r["errors"]) for r in refused] == [
        ("rejected", {"_op": ["该场所还有未整改的问题，不能删除；停业请改为停业状态"]})]
    assert still_open() == (["rectification"] * 2, [failed["id"]], (1, 1))
    admin = login("admin", device_id="phone-admin")
    deleted = push(admin, [op("venue", "delete", town.venues["a"], base_version=version)])
    assert deleted["results"][0]["status"] == "applied", deleted
    assert still_open() == ([], [], (0, 0))
    rows = head.get("/api/ledgers/inspections").get_json()["rows"]
    assert [(r["id"], r["rectification"]) for r in rows] == [(failed["id"], "场所已删除，未整改")]


def test_the_same_photo_uploaded_twice_at_once_is_stored_once(app, town, login, engine_name):
    if engine_name != "postgresql":
        pytest.skip("two writers at once need PostgreSQL (SQLite serializes every writer)")
    phones = [login("inspector", device_id=f"phone-inspector-{n}") for n in range(2)]
    inspection = inspect(phones[0], town.venues["a"], [{"item": "verify_identity", "result": "fail"}])
    url, photo_id = f"/api/inspections/{inspection['id']}/photos", str(uuid.uuid4())
    start = threading.Barrier(2)

    def upload(api):
        start.wait()
        return api.post(url, data=png(), headers={"Content-Type": "image/png", "X-Photo-Id": photo_id})

    with ThreadPoolExecutor(2) as executor:
        answers = list(executor.map(upload, phones))
    assert [(a.status_code, a.get_json()["id"]) for a in answers] == [(201, photo_id)] * 2
    with app.app_context():
        assert db.session.scalar(db.text("SELECT count(*) FROM attachment")) == 1


@pytest.mark.parametrize(("answers", "message"), [
    ([{"item": "verify_identity", "result": "fail", "deadline": "2020-01-01"}],
     "整改期限不能早于检查日期：verify_identity"),
    ([{"item": "verify_identity", "result": "fail"}, {"item": "verify_identity", "result": "pass"}],
     "检查项重复：verify_identity"),
])
def test_a_deadline_before_the_inspection_or_a_repeated_item_is_refused(app, town, login, answers, message):
    api = login("inspector")
    response = api.post("/api/inspections", json={
        "venue_id": town.venues["a"], "inspected_at": NOW.isoformat(), "id": str(uuid.uuid4()),
        "answers": answers})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["fields"] == {"answers": [message]}
    with app.app_context():
        assert db.session.scalar(db.text("SELECT count(*) FROM inspection")) == 0


def test_staff_checks_and_operations_name_only_live_records(app, town, login):
    api = login("inspector")
    body = {"person_name": "前台员工", "id_number": valid_id_number("43069919900101002"),
            "employer_kind": "venue", "employer_id": town.venues["a"], "checked_on": "2026-03-01",
            "result": "clear"}
    check = api.post("/api/staff_checks", json=body).get_json()
    assert check["next_due"] == "2027-03-01"
    # A check redone on a later day falls due a year from that day.
    redone = api.edit(f"/api/staff_checks/{check['id']}", {"checked_on": "2026-11-02"})
    assert (redone.status_code, redone.get_json()["next_due"]) == (200, "2027-11-02")
    with app.app_context():
        db.session.get(Venue, town.venues["b"]).deleted_at = datetime.now(UTC)
        db.session.commit()
    assert_error(api.post("/api/staff_checks", json={**body, "employer_id": town.venues["b"]}), 422,
                 "validation_error", fields={"employer_id": ["场所不存在或不在您的管辖范围内"]})
    operation = {"date": NOW.date().isoformat(), "lead_unit": "测试派出所", "member_ids": [str(uuid.uuid4())]}
    assert_error(api.post("/api/operations", json=operation), 422, "validation_error",
                 fields={"member_ids": ["成员不存在或已停用"]})
    made = api.post("/api/operations", json={**operation, "member_ids": [town.users["inspector"]]})
    assert made.status_code == 201, made.get_json()
    assert_error(api.edit(f"/api/operations/{made.get_json()['id']}", {"member_ids": ["no-such-user"]}), 422,
                 "validation_error", fields={"member_ids": ["成员不存在或已停用"]})


def test_a_head_filing_a_minor_registered_in_another_village_sees_it_as_any_unregistered_one(
        app, town, login):
    """The list of minors awaiting registration must not tell the head who filed them which ID
    number is in another village's register (out of the head's scope): a registered number and a
    stranger's both wait in it. The town office, which reads the whole register, links the first,
    and the clue goes to the child's village."""
    registered = valid_id_number("43069920170303003")
    stranger = valid_id_number("43069920160202002")
    with app.app_context():
        db.session.get(Child, town.children["b1"]).id_number = registered
        db.session.commit()
    inspection = inspect(login("inspector"), town.venues["a"], [{"item": "verify_identity", "result": "pass"}])
    head = login("head_a")
    assert head.get(f"/api/children/{town.children['b1']}").status_code == 404
    filed = [head.post(f"/api/inspections/{inspection['id']}/minor-found",
                       json={"description": "前台登记未成年人", "id_number": number}).get_json()["clue_id"]
             for number in (registered, stranger)]
    assert sorted(r["clue_id"] for r in head.get("/api/minors-found").get_json()["rows"]) == sorted(filed)
    admin = login("admin")
    linked = admin.post(f"/api/minors-found/{filed[0]}/link", json={"child_id": town.children["b1"]})
    assert linked.status_code == 204
    assert [r["clue_id"] for r in head.get("/api/minors-found").get_json()["rows"]] == [filed[1]]
    clue = login("police").get(f"/api/clues/{filed[0]}").get_json()
    assert (clue["child_id"], clue["village_id"]) == (town.children["b1"], town.villages["b"])


def test_a_minor_found_clue_corrected_by_its_reporter_leaves_the_list_to_register(app, town, login):
    """A replaced clue no longer says what happened: the head links the correction, which keeps
    where the minor was found (the reporter restated only the description)."""
    inspector, inspection, _ = inspected_with_a_known_minor(app, town, login)
    found = inspector.post(f"/api/inspections/{inspection['id']}/minor-found", json={
        "description": "网吧内发现疑似未成年人", "name": "无名氏"}).get_json()["clue_id"]
    head = login("head_a")
    assert [r["clue_id"] for r in head.get("/api/minors-found").get_json()["rows"]] == [found]
    corrected = inspector.post("/api/clues", json={
        "description": "网吧内发现疑似未成年人（已离开）", "amends": found, "amend_reason": "补充情况"})
    assert corrected.status_code == 201, corrected.get_json()
    correction, child = corrected.get_json()["id"], {"child_id": town.children["a2"]}
    assert [r["clue_id"] for r in head.get("/api/minors-found").get_json()["rows"]] == [correction]
    assert head.post(f"/api/minors-found/{found}/link", json=child).status_code == 404
    assert head.post(f"/api/minors-found/{correction}/link", json=child).status_code == 204
    police = login("police")
    clue = police.get(f"/api/clues/{correction}").get_json()
    assert (clue["place"], clue["village_id"], clue["child_id"], clue["source_inspection_id"]) == (
        police.get(f"/api/clues/{found}").get_json()["place"], town.villages["a"],
        town.children["a2"], inspection["id"])


def test_correcting_a_minor_found_clue_does_not_tell_its_filer_who_the_id_number_found(app, town, login):
    """The filer of a minor-found clue must not learn from it who is in the town's register: its
    correction carries the matched child and village over, for the police, and answers the filer
    with what they filed only, the same for a registered ID number as for a stranger's."""
    inspector, inspection, id_number = inspected_with_a_known_minor(app, town, login)
    stranger = valid_id_number("43069920160202002")
    answers = []
    for number in (id_number, stranger):
        found = inspector.post(f"/api/inspections/{inspection['id']}/minor-found", json={
            "description": "前台登记未成年人", "id_number": number}).get_json()["clue_id"]
        corrected = inspector.post("/api/clues", json={"description": "前台登记未成年人（已离开）",
                                                       "amends": found, "amend_reason": "补充情况"})
        assert corrected.status_code == 201, corrected.get_json()
        answers.append((found, corrected.get_json()))
    shapes = [{k: v for k, v in answer.items() if k not in ("id", "created_at", "updated_at", "amends")}
              for _, answer in answers]
    assert shapes[0] == shapes[1] == {
        "version": 1, "description": "前台登记未成年人（已离开）", "amend_reason": "补充情况", "status": "new",
        "place": shapes[0]["place"], "happened_at": shapes[0]["happened_at"], "source_visit_id": None,
        "source_inspection_id": inspection["id"]}
    assert [answer["amends"] for _, answer in answers] == [found for found, _ in answers]
    police = login("police")
    kept = [police.get(f"/api/clues/{answer['id']}").get_json() for _, answer in answers]
    assert [(c["child_id"], c["village_id"]) for c in kept] == [
        (town.children["a1"], town.villages["a"]), (None, town.villages["a"])]


def test_a_phone_that_pulled_inspections_before_they_carried_counted_at_is_sent_them_again(app, town, login):
    """The phone orders a venue's inspections by counted_at: a cursor of the shape before it (2)
    brings every record in scope again, inspections with the field."""
    api = login("inspector")
    made = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "fail"}])
    issued = api.get("/api/sync/pull?limit=500").get_json()["cursor"]
    raw = issued.partition(".")[0]
    body = {**json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))), "v": 2}
    old_raw = cursor._b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    with app.app_context():
        old = f"{old_raw}.{cursor._mac(town.users['inspector'], old_raw)}"
    assert api.get(f"/api/sync/pull?limit=500&cursor={issued}").get_json()["changes"] == []
    again = api.get(f"/api/sync/pull?limit=500&cursor={old}").get_json()["changes"]
    assert [(c["id"], c["data"]["counted_at"]) for c in again if c["entity"] == "inspection"] == [
        (made["id"], made["counted_at"])]


VENUE_LOCKED = "场所位置已确定，检查人员不能修改；如需更改请联系村/社区负责人或镇平安办"


def test_the_inspector_whose_inspections_it_checks_does_not_move_a_venues_location(app, town, login):
    """A venue's location is what inspections there are measured against (location_mismatch): the
    inspector may give a venue one it has not got, not move it to where inspections are made, nor
    take it away. The village head and the town office may; an edit leaving it as it is goes through."""
    inspector, url = login("inspector", device_id="phone-venue-inspector"), f"/api/venues/{town.venues['a']}"
    placed = inspector.edit(url, {"lat": 29.1, "lon": 113.2})
    assert (placed.status_code, placed.get_json()["lat"], placed.get_json()["version"]) == (200, 29.1, 2)
    for moved in ({"lat": 29.2, "lon": 113.2}, {"lat": 29.1, "lon": 113.3}, {"lat": None, "lon": None}):
        refused = inspector.edit(url, moved)
        assert_error(refused, 403, "location_locked")
        assert refused.get_json()["error"]["message"] == VENUE_LOCKED
    pushed = push(inspector, [op("venue", "update", town.venues["a"],
                                 {"lat": 29.3, "lon": 113.2, "name": "新名"}, base_version=2)])
    assert [(r["status"], r["errors"]) for r in pushed["results"]] == [("rejected", {"_op": [VENUE_LOCKED]})]
    same = inspector.edit(url, {"lat": 29.1, "lon": 113.2, "name": "测试a宾馆（新）"})
    assert (same.status_code, same.get_json()["name"], same.get_json()["lat"]) == (200, "测试a宾馆（新）", 29.1)
    moved = login("head_a").edit(url, {"lat": 29.2, "lon": 113.25})
    assert (moved.status_code, moved.get_json()["lat"], moved.get_json()["lon"]) == (200, 29.2, 113.25)
    admin = login("admin").edit(url, {"lat": 29.21, "lon": 113.25})
    assert (admin.status_code, admin.get_json()["lat"]) == (200, 29.21)
    with app.app_context():
        venue = db.session.get(Venue, town.venues["a"])
        assert (venue.lat, venue.lon, venue.name) == (29.21, 113.25, "测试a宾馆（新）")


def test_a_recheck_of_the_same_person_at_the_same_employer_takes_the_place_of_the_earlier_check(
        app, town, login, monkeypatch):
    """A staff check falls due again a year on; the re-check is a new check of the person at the
    employer (the field app records one so). The earlier check is no longer due, nor its record found
    still to be dealt with: the latest check of a person at an employer is what stands. A check of the
    same person at another employer stands on its own."""
    from server.services import schedule

    inspector, person = login("inspector"), valid_id_number("43069919900101002")

    def check(checked_on, result, employer="a"):
        answer = inspector.post("/api/staff_checks", json={
            "person_name": "服务员", "id_number": person, "employer_kind": "venue",
            "employer_id": town.venues[employer], "checked_on": checked_on, "result": result})
        assert answer.status_code == 201, answer.get_json()
        return answer.get_json()["id"]

    first = check("2025-01-10", "record_found")
    elsewhere = check("2025-01-12", "clear", employer="b")
    monkeypatch.setattr(schedule, "local_today", lambda: date(2026, 1, 20))

    def staff_items(username):
        return sorted((t["kind"], t["entity_id"]) for t in login(username).get("/api/tasks").get_json()["tasks"]
                      if t["kind"].startswith("staff_"))

    def overdue_rows():
        rows = login("admin").get("/api/ledgers/staff_checks?overdue=1").get_json()["rows"]
        return sorted(r["id"] for r in rows)

    assert staff_items("admin") == sorted([("staff_recheck_due", first), ("staff_recheck_due", elsewhere),
                                           ("staff_record_found", first)])
    assert overdue_rows() == sorted([first, elsewhere])
    again = check("2026-01-15", "clear")
    assert staff_items("admin") == [("staff_recheck_due", elsewhere)]
    assert staff_items("police") == []
    assert overdue_rows() == [elsewhere]
    rows = login("admin").get("/api/ledgers/staff_checks").get_json()["rows"]
    statuses = {r["id"]: r["status"] for r in rows}
    assert statuses == {first: "已复查", elsewhere: "逾期未查", again: "正常"}


def test_the_dates_in_enforcement_to_dos_are_iso_8601(town, login):
    """A to-do's detail gives its dates as the API gives every date (ISO 8601, with the offset for a
    moment): a stale venue's last inspection came as 'Mon, 24 Aug 2026 05:50:46 GMT' and a record
    found's check day as 'Sat, 20 Dec 2025 00:00:00 GMT', which no client reads as the town's day."""
    inspector = login("inspector")
    at = NOW - timedelta(days=100)
    inspect(inspector, town.venues["a"], [{"item": "verify_identity", "result": "pass"}], at=at)
    check = inspector.post("/api/staff_checks", json={
        "person_name": "服务员", "id_number": valid_id_number("43069919900101002"),
        "employer_kind": "venue", "employer_id": town.venues["b"], "checked_on": "2025-12-20",
        "result": "record_found"}).get_json()
    tasks = login("admin").get("/api/tasks").get_json()["tasks"]
    details = {(t["kind"], t["entity_id"]): t["detail"] for t in tasks
               if t["kind"] in ("venue_stale", "staff_record_found")}
    assert details == {("venue_stale", town.venues["a"]): {"last_inspected_at": at.isoformat()},
                       ("venue_stale", town.venues["b"]): {"last_inspected_at": None},
                       ("staff_record_found", check["id"]): {"checked_on": "2025-12-20"}}


def test_an_inspector_with_no_unit_follows_up_their_own_findings(app, town, login):
    """Rectifications go to the unit that found them; an inspector's account with no unit had none at
    all on its to-do, though the phone listed its own findings. Their own findings are theirs."""
    with app.app_context():
        from ..factories import add_user

        add_user(town, "inspector_x", "inspector", db.session.get(User, town.users["inspector"]).town_id)
        db.session.commit()
    lone = login("inspector_x")
    found = inspect(lone, town.venues["a"], [{"item": "verify_identity", "result": "fail"}],
                    at=NOW - timedelta(days=20))
    inspect(login("inspector"), town.venues["b"], [{"item": "verify_identity", "result": "fail"}],
            at=NOW - timedelta(days=20))
    tasks = lone.get("/api/tasks").get_json()["tasks"]
    assert [(t["entity_id"], t["detail"]["item"]) for t in tasks if t["kind"] == "rectification"] == [
        (found["id"], "verify_identity")]
    assert lone.get("/api/auth/me").get_json()["user"]["unit_member_ids"] == []
