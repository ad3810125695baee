"""Monthly reports: figures from the records in the window, who may see and submit, the frozen snapshot
with the audit head, who is late, the XLSX export and bad input."""
import hashlib
import io
import json
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, event, func, select, update

from server.extensions import db
from server.models import AuditEvent, ReportSnapshot, StaffCheck, User, Village, new_id
from server.services import audit, reports, schedule

from ..routes.helpers import NOT_FOUND, assert_error, snapshot
from . import report_town
from .helpers import TZ
from .report_town import PERIOD, add_visit, at

URL = "/api/reports/monthly"
# Logins are audited too; report events are checked by action instead.
TABLES = ("report_snapshot", "visit", "child", "plan", "inspection")
ZERO_CATEGORIES = dict.fromkeys(("left_behind", "migrant", "disadvantaged", "disabled", "single_parent",
                                 "reconstituted", "troubled_family"), 0)

# Worked out by hand from report_town: the window is [2026-10-17, 2026-11-17) Beijing time.
FIGURES_A = {
    # a1 (high) and a2 (medium, registered 10-20); a_moved registered 10-18 but moved out;
    # a_after registered on the cut-off day; a_deleted deleted.
    "children": {"active": 2, "by_category": {**ZERO_CATEGORIES, "left_behind": 2, "disabled": 1},
                 "by_risk": {"low": 0, "medium": 1, "high": 1}, "registered": 2},
    # In: a1 at 10-17 00:00 (flagged, accepted), a2 at 11-16 23:59 (flagged, questioned) as its
    # correction of 23:59:30 says (unflagged, accepted): one visit, as corrected. Out: 10-16 23:59 and
    # 11-17 00:00. a1 (every 30 days) was last seen 10-17, due 11-16, so overdue on the cut-off day.
    "visits": {"total": 2, "children_visited": 2, "flagged": 1, "accepted": 2, "questioned": 0,
               "overdue_children": 1},
    # a1's plan approved 10-20 and active; a2's drafted 10-25, approved 10-26, closed 11-10;
    # the draft of 11-20 is after the window.
    "plans": {"active": 1, "drafted": 1, "approved": 2, "closed": 1, "missing": 0},
    # Two open venues (a bar is closed). In the window: the hotel's re-inspection 10-18 (passes
    # verify_identity, fails staff_trained due 11-30) and the KTV's 10-11 (no_minors due 11-15,
    # sign_displayed due 11-20). The KTV re-inspection of 11-17 that passes no_minors is after it.
    "venues": {"total": 2, "inspected": 2, "inspections": 2, "failed_items": 3, "open_violations": 3,
               "overdue_rectifications": 1},
    "staff_checks": {"total": 1, "record_found": 1},
    "operations": {"total": 1},
}
FIGURES_B = {
    "children": {"active": 1, "by_category": {**ZERO_CATEGORIES, "left_behind": 1},
                 "by_risk": {"low": 0, "medium": 0, "high": 1}, "registered": 0},
    "visits": {"total": 1, "children_visited": 1, "flagged": 0, "accepted": 0, "questioned": 0,
               "overdue_children": 0},
    # b1 high risk since 11-05, no plan: past the 7 days by 11-17.
    "plans": {"active": 0, "drafted": 0, "approved": 0, "closed": 0, "missing": 1},
    "venues": {"total": 1, "inspected": 0, "inspections": 0, "failed_items": 0, "open_violations": 0,
               "overdue_rectifications": 0},
    "staff_checks": {"total": 1, "record_found": 0},
    "operations": {"total": 1},
}
FIGURES_TOWN = {
    "children": {"active": 3, "by_category": {**ZERO_CATEGORIES, "left_behind": 3, "disabled": 1},
                 "by_risk": {"low": 0, "medium": 1, "high": 2}, "registered": 2},
    "visits": {"total": 3, "children_visited": 3, "flagged": 1, "accepted": 2, "questioned": 0,
               "overdue_children": 1},
    "plans": {"active": 1, "drafted": 1, "approved": 2, "closed": 1, "missing": 1},
    "venues": {"total": 3, "inspected": 2, "inspections": 2, "failed_items": 3, "open_violations": 3,
               "overdue_rectifications": 1},
    "staff_checks": {"total": 2, "record_found": 1},
    "unit_staff_checks": {"total": 0, "record_found": 0},  # town-wide, also in staff_checks
    "operations": {"total": 1},  # town-wide, counted once
}
WINDOW = {"period": PERIOD, "window_start": "2026-10-17", "window_end": "2026-11-16", "due": "2026-11-17",
          "as_of": "2026-11-17T00:00:00+08:00"}


@pytest.fixture
def records(app, town):
    """The report fixture on the small town."""
    with app.app_context():
        report_town.build(town)
    return town


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action.like(action))
                                       .order_by(AuditEvent.seq)))


def _frozen_digest(stored: ReportSnapshot) -> str:
    """The digest a submission records, worked out here: submissions already in the chain keep it."""
    frozen = {"id": stored.id, "kind": stored.kind, "period": stored.period, "village_id": stored.village_id,
              "unit_id": stored.unit_id, "figures": stored.figures, "audit_head": stored.audit_head,
              "submitted_by": stored.submitted_by, "submitted_at": stored.submitted_at.isoformat(),
              "window_start": str(stored.window_start), "window_end": str(stored.window_end),
              "due_on": str(stored.due_on)}
    canonical = json.dumps(frozen, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def test_figures_of_each_village_and_the_town_total(app, records, login):
    town = records
    head_a = login("head_a").get(f"{URL}?period={PERIOD}")
    assert head_a.status_code == 200
    assert head_a.get_json() == {**WINDOW, "village_id": town.villages["a"], "village_name": "测试A村",
                                 "submitted": False, "figures": FIGURES_A}
    by_b = login("head_b").get(f"{URL}?period={PERIOD}&village_id={town.villages['b']}").get_json()
    assert by_b["figures"] == FIGURES_B
    admin = login("admin")
    one = admin.get(f"{URL}?period={PERIOD}&village_id={town.villages['a']}").get_json()
    assert one["figures"] == FIGURES_A
    whole = admin.get(f"{URL}?period={PERIOD}").get_json()
    assert whole == {**WINDOW, "village_id": None, "village_name": "测试镇", "submitted": False,
                     "figures": FIGURES_TOWN, "villages": [
                         {"village_id": town.villages["a"], "name": "测试A村", "submitted": False,
                          "figures": FIGURES_A},
                         {"village_id": town.villages["b"], "name": "测试B村", "submitted": False,
                          "figures": FIGURES_B}]}
    text = str(whole)
    assert "clue" not in text and "欧阳明月" not in text


def test_a_visit_time_corrected_back_does_not_keep_the_child_off_the_overdue_count(app, records, login):
    """a1 (every 30 days, last seen 10-17) stays overdue on the cut-off day when a visit logged at a
    wrong 11-10 is corrected to 10-16: its last visit is its latest standing one, as on the schedule.
    The window counts the visit at its corrected time, before the window: not at all."""
    town = records
    with app.app_context():
        wrong = add_visit(town, "a1", at(2026, 11, 10, 9))
        add_visit(town, "a1", at(2026, 10, 16, 9), amends=wrong)
        db.session.commit()
    figures = login("head_a").get(f"{URL}?period={PERIOD}").get_json()["figures"]
    assert figures == FIGURES_A


def test_a_child_registered_in_error_brings_no_visit_into_the_figures(app, records, login):
    """a_deleted was registered in error and deleted: the visit made to it in the window is no visit
    of a child on the register, and children visited must not outnumber the children there."""
    town = records
    town.households["a_deleted"], town.grids["a_deleted"] = town.households["a1"], town.grids["a1"]
    with app.app_context():
        add_visit(town, "a_deleted", at(2026, 10, 19, 10), flags=("location_mismatch",), review="accepted")
        db.session.commit()
    assert login("head_a").get(f"{URL}?period={PERIOD}").get_json()["figures"] == FIGURES_A
    assert login("admin").get(f"{URL}?period={PERIOD}").get_json()["figures"] == FIGURES_TOWN


def test_a_visit_dated_ahead_by_the_phone_counts_when_it_arrived(app, records, login):
    """A phone a year ahead dated a1's visit 2027-11-10; the server received it on 2026-11-10. It
    counts in this window, as made when it arrived, and a1 (last seen 11-10) is not overdue."""
    town = records
    with app.app_context():
        add_visit(town, "a1", at(2027, 11, 10, 9), flags=["future_time"], received=at(2026, 11, 10, 9))
        db.session.commit()
    figures = login("head_a").get(f"{URL}?period={PERIOD}").get_json()["figures"]
    assert figures == {**FIGURES_A, "visits": {"total": 3, "children_visited": 2, "flagged": 2, "accepted": 2,
                                               "questioned": 0, "overdue_children": 0}}


def test_the_town_total_counts_the_staff_checks_of_units_as_well_as_of_venues(app, records, login):
    """A check of a unit's staff (a school, a health centre) has no village: the town total counts it
    once, beside the villages' own figures, which stay as they are; the town's xlsx names it."""
    town = records
    with app.app_context():
        unit = db.session.get(User, town.users["inspector"]).unit_id
        for checked_on, result in ((date(2026, 10, 17), "record_found"), (date(2026, 11, 16), "clear"),
                                   (date(2026, 11, 17), "clear")):  # the last is after the window
            check = StaffCheck(id=new_id(), employer_kind="unit", employer_id=unit, village_id=None,
                               checked_on=checked_on, result=result)
            check.person_name = "王小二"
            db.session.add(check)
        db.session.commit()
    admin = login("admin")
    whole = admin.get(f"{URL}?period={PERIOD}").get_json()
    assert whole["figures"] == {**FIGURES_TOWN, "staff_checks": {"total": 4, "record_found": 2},
                                "unit_staff_checks": {"total": 2, "record_found": 1}}
    assert [v["figures"] for v in whole["villages"]] == [FIGURES_A, FIGURES_B]
    label = "  其中：单位（学校、卫生院等）人员查询人次"
    sheet = load_workbook(io.BytesIO(admin.get(f"{URL}?period={PERIOD}&format=xlsx").data)).active
    rows = {r[0]: list(r[1:]) for r in sheet.iter_rows(values_only=True)}
    assert (rows["本期从业人员查询人次"], rows[label]) == ([4, 1, 1], [2, None, None])
    village = load_workbook(io.BytesIO(login("head_a").get(f"{URL}?period={PERIOD}&format=xlsx").data)).active
    assert label not in [r[0] for r in village.iter_rows(values_only=True)]


def test_who_may_see_and_submit(app, records, login):
    town = records
    a, b = town.villages["a"], town.villages["b"]
    before = snapshot(app, TABLES)
    head_a = login("head_a")
    assert head_a.get(f"{URL}?period={PERIOD}&village_id={b}").get_json() == NOT_FOUND
    assert_error(head_a.post(f"{URL}/submit", json={"period": PERIOD, "village_id": b}), 404, "not_found")
    for username in ("worker_a", "inspector", "police"):
        api = login(username)
        assert_error(api.get(f"{URL}?period={PERIOD}&village_id={a}"), 404, "not_found")
        assert_error(api.get(f"{URL}?period={PERIOD}"), 404, "not_found")
        assert_error(api.get(f"{URL}?period={PERIOD}&format=xlsx"), 404, "not_found")
        assert_error(api.get(f"{URL}/status?period={PERIOD}"), 404, "not_found")
        assert_error(api.post(f"{URL}/submit", json={"period": PERIOD, "village_id": a}), 404, "not_found")
    admin = login("admin")
    assert_error(admin.post(f"{URL}/submit", json={"period": PERIOD, "village_id": a}),
                 403, "report_not_allowed")
    assert [v["name"] for v in admin.get(f"{URL}/status?period={PERIOD}").get_json()["villages"]] == [
        "测试A村", "测试B村"]
    own = head_a.get(f"{URL}/status?period={PERIOD}").get_json()["villages"]
    assert [v["name"] for v in own] == ["测试A村"]
    assert snapshot(app, TABLES) == before
    assert _events(app, "report.%") == []


def test_submit_freezes_the_figures_with_the_audit_head(app, records, login):
    town = records
    head = login("head_a")
    with app.app_context():
        head_before = audit.chain_head()
    response = head.post(f"{URL}/submit", json={"period": PERIOD, "village_id": town.villages["a"]})
    assert response.status_code == 201, response.get_json()
    frozen = response.get_json()
    with app.app_context():
        stored = db.session.get(ReportSnapshot, frozen["id"])
        assert (stored.kind, stored.period, stored.village_id, stored.figures, stored.submitted_by) == (
            "monthly", PERIOD, town.villages["a"], FIGURES_A, town.users["head_a"])
        chain = audit.verify_chain()
    submitted_at = frozen.pop("submitted_at")
    assert frozen.pop("as_of") == submitted_at
    assert frozen == {**{k: v for k, v in WINDOW.items() if k != "as_of"}, "id": stored.id,
                      "village_id": town.villages["a"], "village_name": "测试A村", "submitted": True,
                      "figures": FIGURES_A, "audit_head": head_before, "submitted_by": town.users["head_a"],
                      "submitted_by_name": "测试head_a", "late": True}  # 2026-11 was due on 11-17
    events = _events(app, "report.submit")
    assert [(e.actor_id, e.entity, e.entity_id, e.prev_hash, e.detail) for e in events] == [
        (town.users["head_a"], "report", stored.id, head_before,
         {"period": PERIOD, "village_id": town.villages["a"], "audit_head": head_before, "late": True,
          "digest": _frozen_digest(stored)})]
    assert chain["ok"] and chain["head"] == events[0].hash
    # A visit recorded later, inside the window, does not move the submitted report.
    with app.app_context():
        add_visit(town, "a1", at(2026, 11, 1, 9))
        db.session.commit()
    again = head.get(f"{URL}?period={PERIOD}").get_json()
    assert (again["submitted"], again["figures"], again["audit_head"], again["id"]) == (
        True, FIGURES_A, head_before, stored.id)
    town_view = login("admin").get(f"{URL}?period={PERIOD}").get_json()
    assert [(v["submitted"], v["figures"]) for v in town_view["villages"]] == [
        (True, FIGURES_A), (False, FIGURES_B)]
    # Submitting twice: 409, nothing written.
    before = snapshot(app, TABLES)
    error = assert_error(head.post(f"{URL}/submit", json={"period": PERIOD, "village_id": town.villages["a"]}),
                         409, "report_submitted")
    assert error["message"] == "测试A村2026-11 月报已提交，不能重复提交"
    assert snapshot(app, TABLES) == before
    assert len(_events(app, "report.submit")) == 1


@pytest.mark.parametrize("cut", ["from the frozen head", "the submission only"])
def test_verify_finds_a_chain_cut_back_past_a_submitted_report(app, records, login, cut):
    """Deleting the chain's last events leaves it linked; the printed report head gives it away."""
    town = records
    frozen = login("head_a").post(f"{URL}/submit", json={"period": PERIOD,
                                                        "village_id": town.villages["a"]}).get_json()
    with app.app_context():
        table = AuditEvent.__table__
        first = db.session.scalar(select(table.c.seq).where(
            table.c.hash == frozen["audit_head"] if cut == "from the frozen head"
            else table.c.action == "report.submit"))
        db.session.execute(table.delete().where(table.c.seq >= first))
        db.session.commit()
        result = audit.verify_chain()
    assert result == {"ok": False, "events": result["events"], "head": result["head"], "broken_at": {
        "seq": None, "id": frozen["id"], "problem": f"the chain lacks events up to the {PERIOD} report "
                                                     "submitted on it"}}


def _forged_figures(figures: dict) -> dict:
    return {**figures, "visits": {**figures["visits"], "total": figures["visits"]["total"] + 250}}


FORGERIES = {
    "figures": lambda s: {"figures": _forged_figures(s.figures)},
    "window": lambda s: {"window_end": s.window_end - timedelta(days=1)},
    "due date": lambda s: {"due_on": s.due_on + timedelta(days=3)},
    "submitted at": lambda s: {"submitted_at": s.submitted_at - timedelta(days=2)},
    "audit head": lambda s: {"audit_head": audit.GENESIS},
}


@pytest.mark.parametrize("column", FORGERIES)
def test_verify_finds_a_submitted_report_rewritten_in_the_database(app, records, login, column):
    """The submission's digest covers what the report froze: a column rewritten since gives it away."""
    town = records
    frozen = login("head_a").post(f"{URL}/submit", json={"period": PERIOD,
                                                        "village_id": town.villages["a"]}).get_json()
    with app.app_context():
        assert audit.verify_chain()["ok"]
        stored = db.session.get(ReportSnapshot, frozen["id"])
        db.session.execute(update(ReportSnapshot).where(ReportSnapshot.id == stored.id)
                           .values(**FORGERIES[column](stored)))
        db.session.commit()
        result = audit.verify_chain(batch=7)
        head = audit.chain_head()
    assert result == {"ok": False, "events": result["events"], "head": head, "broken_at": {
        "seq": None, "id": frozen["id"], "problem": f"the {PERIOD} report differs from what its submission "
                                                     "recorded"}}


def test_verify_finds_a_submitted_report_deleted_and_submitted_again(app, records, login):
    """Every submission in the chain must still have its report: a second one for the period shows."""
    town = records
    head = login("head_a")
    body = {"period": PERIOD, "village_id": town.villages["a"]}
    assert head.post(f"{URL}/submit", json=body).status_code == 201
    with app.app_context():
        db.session.execute(delete(ReportSnapshot))
        db.session.commit()
    again = head.post(f"{URL}/submit", json=body)
    assert again.status_code == 201, again.get_json()
    first, second = _events(app, "report.submit")
    assert second.entity_id == again.get_json()["id"] != first.entity_id
    with app.app_context():
        result = audit.verify_chain(batch=7)
        chain_head = audit.chain_head()
    assert result == {"ok": False, "events": result["events"], "head": chain_head, "broken_at": {
        "seq": first.seq, "id": first.id, "problem": f"the {PERIOD} report submitted here is missing"}}


def test_verify_reads_a_submission_recorded_before_digests_by_its_report_alone(app, records, login):
    """A submission made before digests were recorded names no digest; its report must still be there."""
    town = records
    with app.app_context():
        stored = ReportSnapshot(id=new_id(), kind="monthly", period=PERIOD, village_id=town.villages["a"],
                                figures=FIGURES_A, audit_head=audit.locked_head(),
                                submitted_by=town.users["head_a"], submitted_at=at(2026, 11, 16, 17, 30),
                                window_start=date(2026, 10, 17), window_end=date(2026, 11, 16),
                                due_on=date(2026, 11, 17))
        db.session.add(stored)
        audit.record_event("report.submit", actor_id=town.users["head_a"], entity="report",
                           entity_id=stored.id, detail={"period": PERIOD, "village_id": town.villages["a"],
                                                        "audit_head": stored.audit_head, "late": False})
        db.session.commit()
        assert audit.verify_chain()["ok"]
        db.session.execute(delete(ReportSnapshot))
        db.session.commit()
        result = audit.verify_chain()
    [submission] = _events(app, "report.submit")
    assert result["broken_at"] == {"seq": submission.seq, "id": submission.id,
                                   "problem": f"the {PERIOD} report submitted here is missing"}


def test_a_submission_that_loses_a_race_is_refused_by_the_unique_index(app, records, login, monkeypatch):
    head = login("head_a")
    body = {"period": PERIOD, "village_id": records.villages["a"]}
    assert head.post(f"{URL}/submit", json=body).status_code == 201
    before = snapshot(app, TABLES)
    monkeypatch.setattr(reports, "find_snapshot", lambda *args, **kwargs: None)  # as if it checked first
    assert_error(head.post(f"{URL}/submit", json=body), 409, "report_submitted")
    assert snapshot(app, TABLES) == before
    assert len(_events(app, "report.submit")) == 1
    with app.app_context():
        assert audit.verify_chain()["ok"]


def test_status_names_who_submitted_on_time_and_who_is_late(app, records, login, monkeypatch):
    town = records
    with app.app_context():
        db.session.add(ReportSnapshot(id=new_id(), kind="monthly", period=PERIOD, village_id=town.villages["a"],
                                      figures=FIGURES_A, audit_head=audit.chain_head(),
                                      submitted_by=town.users["head_a"], submitted_at=at(2026, 11, 16, 17, 30),
                                      window_start=date(2026, 10, 17), window_end=date(2026, 11, 16),
                                      due_on=date(2026, 11, 17)))
        db.session.commit()
    admin = login("admin")
    monkeypatch.setattr(schedule, "local_today", lambda: date(2026, 11, 17))
    on_due_day = admin.get(f"{URL}/status?period={PERIOD}").get_json()
    assert [(v["name"], v["late"]) for v in on_due_day["villages"]] == [("测试A村", False), ("测试B村", False)]
    monkeypatch.setattr(schedule, "local_today", lambda: date(2026, 11, 18))
    assert admin.get(f"{URL}/status?period={PERIOD}").get_json() == {
        "period": PERIOD, "due": "2026-11-17", "villages": [
            {"village_id": town.villages["a"], "name": "测试A村", "submitted": True,
             "submitted_at": "2026-11-16T09:30:00+00:00", "submitted_by": town.users["head_a"],
             "submitted_by_name": "测试head_a", "late": False},
            {"village_id": town.villages["b"], "name": "测试B村", "submitted": False, "submitted_at": None,
             "submitted_by": None, "submitted_by_name": None, "late": True}]}
    # With no period, the status is of the period due next (the 18th: next month's).
    assert admin.get(f"{URL}/status").get_json()["period"] == "2026-12"
    # B submits a day late; the status says so.
    head_b = login("head_b")
    late = head_b.post(f"{URL}/submit", json={"period": PERIOD, "village_id": town.villages["b"]}).get_json()
    assert late["late"] is True
    rows = head_b.get(f"{URL}/status?period={PERIOD}").get_json()["villages"]
    assert [(v["name"], v["submitted"], v["late"]) for v in rows] == [("测试B村", True, True)]


def _statements(app, read) -> int:
    """Return how many SQL statements `read()` sends."""
    sent = []

    def count(*_):
        sent.append(1)
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            read()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    return len(sent)


def test_status_and_town_report_read_the_same_statements_however_many_villages(app, records, login):
    town = records
    admin = login("admin")

    def submitted(village_id, name=None):
        with app.app_context():
            if name:
                town_id = db.session.get(Village, town.villages["a"]).town_id
                db.session.add(Village(id=village_id, town_id=town_id, name=name))
            db.session.add(ReportSnapshot(id=new_id(), kind="monthly", period=PERIOD, village_id=village_id,
                                          figures=FIGURES_A, audit_head="0" * 64,
                                          submitted_by=town.users["head_a"],
                                          window_start=date(2026, 10, 17), window_end=date(2026, 11, 16),
                                          due_on=date(2026, 11, 17)))
            db.session.commit()

    def reads():
        return [_statements(app, lambda: admin.get(f"{URL}/status?period={PERIOD}")),
                _statements(app, lambda: admin.get(f"{URL}?period={PERIOD}"))]
    submitted(town.villages["a"])
    submitted(town.villages["b"])
    two = reads()
    for n in range(3):
        submitted(new_id(), f"测试新{n}村")
    rows = admin.get(f"{URL}/status?period={PERIOD}").get_json()["villages"]
    assert [(v["submitted"], v["submitted_by_name"]) for v in rows] == [(True, "测试head_a")] * 5
    assert reads() == two


def test_a_submitted_report_leaves_the_tasks(app, records, login, monkeypatch):
    town = records
    monkeypatch.setattr(schedule, "local_today", lambda: date(2026, 11, 12))
    head = login("head_a")

    def owed():
        return [(t["entity_id"], t["overdue"]) for t in head.get("/api/tasks").get_json()["tasks"]
                if t["kind"] == "report_due"]
    assert owed() == [("2026-10", True), ("2026-11", False)]
    for period, left in (("2026-10", [("2026-11", False)]), (PERIOD, [])):
        body = {"period": period, "village_id": town.villages["a"]}
        assert head.post(f"{URL}/submit", json=body).status_code == 201
        assert owed() == left
    admin = login("admin").get("/api/tasks").get_json()["tasks"]
    assert [(t["entity_id"], t["detail"]["missing"]) for t in admin if t["kind"] == "report_due"] == [
        ("2026-10", ["测试B村"]), ("2026-11", ["测试B村"])]


def test_xlsx_reads_back_with_title_rows_window_audit_head_and_watermark(app, records, login):
    town = records
    head = login("head_a")
    unsubmitted = load_workbook(io.BytesIO(head.get(f"{URL}?period={PERIOD}&format=xlsx").data)).active
    rows = [list(r) for r in unsubmitted.iter_rows(values_only=True)]
    assert rows[0][0] == "测试A村未成年人保护工作月报（2026-11）"
    assert rows[1] == ["指标", "数值"]
    assert rows[2:5] == [["统计区间", "2026-10-17 至 2026-11-16"], ["应报日期", "2026-11-17"],
                         ["状态", "未提交（按当前记录统计）"]]
    frozen = head.post(f"{URL}/submit", json={"period": PERIOD, "village_id": town.villages["a"]}).get_json()
    response = head.get(f"{URL}?period={PERIOD}&format=xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.freeze_panes == "A3"
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "测试A村未成年人保护工作月报（2026-11）"
    assert rows[2:6] == [["统计区间", "2026-10-17 至 2026-11-16"], ["应报日期", "2026-11-17"],
                         ["提交时间", f"{_local_day(frozen['submitted_at'])}（逾期）"],
                         ["审计链头（提交时）", frozen["audit_head"]]]
    values = {label.strip(): value for label, value in rows[6:-1]}
    assert (values["在册重点儿童总数"], values["其中：留守儿童"], values["本期走访次数"],
            values["期末走访逾期儿童"], values["本期发现问题项"], values["其中：发现违法犯罪记录"],
            values["本期联合执法行动次数（全镇）"]) == (2, 2, 2, 1, 3, 1, 1)
    assert len(rows[6:-1]) == 32  # 1 + 7 categories + 3 levels + 1, 6 visits, 5 plans, 6 venues, 2 + 1
    assert rows[-1][0].startswith("导出人：测试head_a（head_a）  导出时间：")
    assert rows[-1][0].endswith("内部资料，严禁外传")
    town_sheet = load_workbook(io.BytesIO(login("admin").get(f"{URL}?period={PERIOD}&format=xlsx").data)).active
    town_rows = [list(r) for r in town_sheet.iter_rows(values_only=True)]
    assert town_rows[0][0] == "测试镇未成年人保护工作月报（2026-11）"
    assert town_rows[1] == ["指标", "全镇合计", "测试A村", "测试B村"]
    assert [r for r in town_rows if r[0] == "在册重点儿童总数"] == [["在册重点儿童总数", 3, 2, 1]]
    events = _events(app, "report.export")
    assert [(e.actor_id, e.entity_id, e.detail) for e in events] == [
        (town.users["head_a"], PERIOD, {"format": "xlsx", "period": PERIOD, "village_id": town.villages["a"],
                                        "submitted": False, "rows": 35}),
        (town.users["head_a"], frozen["id"], {"format": "xlsx", "period": PERIOD,
                                              "village_id": town.villages["a"], "submitted": True, "rows": 36}),
        (town.users["admin"], PERIOD, {"format": "xlsx", "period": PERIOD, "village_id": None,
                                       "submitted": False, "rows": 36})]
    with app.app_context():
        assert audit.verify_chain()["ok"]


def _local_day(moment: str) -> str:
    return datetime.fromisoformat(moment).astimezone(TZ).date().isoformat()


@pytest.mark.parametrize("body, fields", [
    ({"period": "2026-13", "village_id": "V"}, {"period"}),
    ({"period": "2026-1", "village_id": "V"}, {"period"}),
    ({"period": 202611, "village_id": "V"}, {"period"}),
    ({"period": "2026-11", "village_id": 7}, {"village_id"}),
    ({"period": "2026-11"}, {"village_id"}),
    ({"period": "2026-11", "village_id": "V", "figures": {"children": 99}}, {"figures"}),
    ({"period": "2099-01", "village_id": "V"}, {"period"}),
    ({"period": "P\n", "village_id": "V"}, {"period"}),  # `$` alone takes the newline: a second report
    ({"period": "0000-05", "village_id": "V"}, {"period"}),  # year 0 has no calendar
    ({"period": "0001-01", "village_id": "V"}, {"period"}),  # its window would start in year 0
])
def test_bad_submissions_answer_the_envelope_and_write_nothing(app, records, login, body, fields):
    body = {k: (records.villages["a"] if v == "V" else v.replace("P", PERIOD) if isinstance(v, str) else v)
            for k, v in body.items()}
    head = login("head_a")
    before = snapshot(app, TABLES)
    assert_error(head.post(f"{URL}/submit", json=body), 422, "validation_error", field_names=fields)
    assert snapshot(app, TABLES) == before
    assert _events(app, "report.%") == []


def test_bad_queries_and_unknown_villages(app, records, login):
    head, admin = login("head_a"), login("admin")
    before = snapshot(app, TABLES)
    for url, fields in ((f"{URL}?period=2026-00", {"period"}), (f"{URL}?period=26-11", {"period"}),
                        (f"{URL}?period={PERIOD}%0A", {"period"}), (f"{URL}?period=0000-05", {"period"}),
                        (f"{URL}/status?period=0001-01", {"period"}),
                        (f"{URL}?period={PERIOD}&format=pdf", {"format"}),
                        (f"{URL}?period={PERIOD}&x=1", {"x"}), (f"{URL}/status?period=2026/11", {"period"}),
                        (f"{URL}/status?village_id=1", {"village_id"})):
        assert_error(admin.get(url), 422, "validation_error", field_names=fields)
    assert_error(admin.get(f"{URL}?period={PERIOD}&village_id=no-such-village"), 404, "not_found")
    assert_error(admin.get(f"{URL}?period={PERIOD}&village_id=no-such-village&format=xlsx"), 404, "not_found")
    assert_error(head.post(f"{URL}/submit", json={"period": PERIOD, "village_id": "no-such-village"}),
                 404, "not_found")
    assert_error(head.post(f"{URL}/submit", data="period=2026-11"), 415, "unsupported_media_type")
    assert_error(head.post(f"{URL}/submit", json=[PERIOD]), 422, "validation_error")
    assert snapshot(app, TABLES) == before
    with app.app_context():
        assert db.session.scalar(select(func.count(ReportSnapshot.id))) == 0
    assert _events(app, "report.%") == []


def test_the_cut_off_day_is_a_setting(app, records, login):
    app.config["REPORT_DUE_DAY"] = 10
    try:
        answer = login("head_a").get(f"{URL}?period={PERIOD}").get_json()
    finally:
        app.config["REPORT_DUE_DAY"] = 17
    assert (answer["window_start"], answer["window_end"], answer["due"]) == (
        "2026-10-10", "2026-11-09", "2026-11-10")
    # [10-10, 11-10): the 11-16 visit and the 10-16/10-17 visits swap places.
    assert answer["figures"]["visits"]["total"] == 2 and answer["figures"]["operations"] == {"total": 2}
    assert date.fromisoformat(answer["due"]) - date.fromisoformat(answer["window_end"]) == timedelta(days=1)


def test_a_submitted_report_keeps_its_window_when_the_cut_off_day_changes(app, records, login):
    head = login("head_a")
    frozen = head.post(f"{URL}/submit", json={"period": PERIOD, "village_id": records.villages["a"]})
    assert frozen.status_code == 201, frozen.get_json()
    with app.app_context():
        stored = db.session.get(ReportSnapshot, frozen.get_json()["id"])
        assert (stored.window_start, stored.window_end, stored.due_on) == (
            date(2026, 10, 17), date(2026, 11, 16), date(2026, 11, 17))
    app.config["REPORT_DUE_DAY"] = 10
    try:
        mine = head.get(f"{URL}?period={PERIOD}").get_json()
        town = login("admin").get(f"{URL}?period={PERIOD}").get_json()
        other = login("head_b").get(f"{URL}?period={PERIOD}").get_json()
        status = login("admin").get(f"{URL}/status?period={PERIOD}").get_json()
    finally:
        app.config["REPORT_DUE_DAY"] = 17
    window = ("2026-10-17", "2026-11-16", "2026-11-17")
    assert (mine["window_start"], mine["window_end"], mine["due"], mine["figures"]) == (*window, FIGURES_A)
    assert mine["late"] is True
    # Unsubmitted reports follow the new cut-off day.
    assert (other["window_start"], other["window_end"], other["due"], other["submitted"]) == (
        "2026-10-10", "2026-11-09", "2026-11-10", False)
    assert (town["window_start"], town["due"]) == ("2026-10-10", "2026-11-10")
    assert [(v["name"], v["submitted"], v["late"]) for v in status["villages"]] == [
        ("测试A村", True, True), ("测试B村", False, True)]


@pytest.mark.parametrize("period, window", [("1900-01", ("1899-12-17", "1900-01-16")),
                                            ("2100-12", ("2100-11-17", "2100-12-16"))])
def test_the_first_and_last_periods_there_are_have_their_windows(app, town, login, period, window):
    """The years a period may have are 1900 to 2100; the window of 1900-01 starts in the December
    before it, which is no period of its own."""
    answer = login("admin").get(f"/api/reports/monthly?period={period}")
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["window_start"], answer.get_json()["window_end"]) == window
    submitted = login("head_a").post("/api/reports/monthly/submit",
                                     json={"period": period, "village_id": town.villages["a"]})
    assert submitted.status_code == (201 if period == "1900-01" else 422), submitted.get_json()
