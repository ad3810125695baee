"""Facts are corrected, never edited: a visit, inspection, plan progress entry or clue is amended by
a new record naming it and a reason; the amended record stops standing, and is corrected once."""
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import Venue
from server.services import filing, periods

from ..services.test_enforcement import inspect
from ..workflow.helpers import TZ
from .test_push_pull_basics import op, push

NOW = datetime.now(UTC).replace(microsecond=0)


def visit_op(child_id, **extra):
    return op("visit", "create", str(uuid.uuid4()), {
        "child_id": child_id, "visited_at": (NOW - timedelta(hours=2)).isoformat(), "lat": 29.1,
        "lon": 113.2, "accuracy_m": 10, "answers": {"guardian_present": True}, **extra})


def statuses(results):
    return [(r["status"], r.get("errors")) for r in results]


@pytest.fixture
def worker(login):
    return login("worker_a", device_id="phone-corrections-worker-a")


def test_a_visit_is_corrected_once_then_through_its_correction(town, worker):
    first = visit_op(town.children["a1"], notes="监护人在家")
    second = visit_op(town.children["a1"], notes="监护人外出", amends=first["id"], amend_reason="记错了")
    again = visit_op(town.children["a1"], notes="再改一次", amends=first["id"], amend_reason="又记错了")
    third = visit_op(town.children["a1"], notes="监护人外出务工", amends=second["id"], amend_reason="补充")
    results = push(worker, [first, second, again, third])["results"]
    assert statuses(results) == [("applied", None), ("applied", None),
                                 ("rejected", {"amends": ["该走访记录已被更正，请更正最新的一条"]}),
                                 ("applied", None)]
    assert worker.get(f"/api/visits/{again['id']}").status_code == 404
    shown = {v["id"]: (v["amends"], v["notes"]) for v in worker.get(
        f"/api/visits?child_id={town.children['a1']}").get_json()["rows"]}
    assert shown == {first["id"]: (None, "监护人在家"), second["id"]: (first["id"], "监护人外出"),
                     third["id"]: (second["id"], "监护人外出务工")}


def _answers(*failed):
    return [{"item": item, "result": "fail" if item in failed else "pass"}
            for item in ("verify_identity", "patrol_visitors", "staff_trained")]


def test_a_corrected_inspection_counts_as_corrected(app, town, login):
    api, head = login("inspector"), login("head_a")
    first = inspect(api, town.venues["a"], _answers("verify_identity"), at=NOW - timedelta(hours=3))
    assert [v["item"] for v in api.get("/api/violations").get_json()["rows"]] == ["verify_identity"]
    fixed = inspect(api, town.venues["a"], _answers(), at=NOW - timedelta(hours=4),
                    amends=first["id"], amend_reason="前台其实已登记，误选不合格")
    assert (fixed["amends"], fixed["amend_reason"], fixed["reinspection_of"]) == (
        first["id"], "前台其实已登记，误选不合格", None)
    assert api.get("/api/violations").get_json()["rows"] == []
    rows = head.get("/api/ledgers/inspections").get_json()["rows"]
    assert [(r["id"], r["failed"], r["rectification"]) for r in rows] == [(fixed["id"], "", "无需整改")]
    with app.app_context():
        # The corrected time moved the venue's last inspection back.
        assert db.session.get(Venue, town.venues["a"]).last_inspected_at == NOW - timedelta(hours=4)
    with app.app_context():
        period = periods.current_period(NOW.astimezone(TZ).date())
    figures = head.get(f"/api/reports/monthly?period={period}").get_json()["figures"]["venues"]
    assert (figures["inspections"], figures["failed_items"], figures["open_violations"]) == (1, 0, 0)

    refused = api.post("/api/inspections", json={
        "venue_id": town.venues["a"], "inspected_at": NOW.isoformat(), "answers": _answers(),
        "amends": first["id"], "amend_reason": "再改"})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == {"amends": ["该检查记录已被更正，请更正最新的一条"]}
    other_venue = api.post("/api/inspections", json={
        "venue_id": town.venues["b"], "inspected_at": NOW.isoformat(), "answers": _answers(),
        "amends": fixed["id"], "amend_reason": "换个场所"})
    assert other_venue.status_code == 422
    assert other_venue.get_json()["error"]["fields"] == {"amend_reason": ["更正须针对同一场所并写明理由"]}
    assert len(api.get("/api/inspections").get_json()["rows"]) == 2


def test_a_reinspection_rechecks_the_correction_of_what_it_reinspected(town, login):
    api = login("inspector")
    first = inspect(api, town.venues["a"], _answers("verify_identity"), at=NOW - timedelta(days=3))
    again = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "pass"}],
                    at=NOW - timedelta(days=1), reinspection_of=first["id"])
    assert api.get("/api/violations").get_json()["rows"] == []
    # The first inspection also failed staff training: corrected, that item opens; the one the
    # re-inspection passed stays closed, because the re-inspection re-checked what was corrected.
    fixed = inspect(api, town.venues["a"], _answers("verify_identity", "staff_trained"),
                    at=NOW - timedelta(days=3), amends=first["id"], amend_reason="漏记一项不合格")
    rows = api.get("/api/violations").get_json()["rows"]
    assert [(v["item"], v["inspection_id"]) for v in rows] == [("staff_trained", fixed["id"])]
    # A correction of the re-inspection re-checks what the re-inspection did, unless it says otherwise.
    fixed_again = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "fail"}],
                          at=NOW - timedelta(days=1), amends=again["id"], amend_reason="复查其实未通过")
    assert fixed_again["reinspection_of"] == first["id"]
    rows = api.get("/api/violations").get_json()["rows"]
    assert sorted((v["item"], v["inspection_id"]) for v in rows) == [
        ("staff_trained", fixed["id"]), ("verify_identity", fixed_again["id"])]


def test_a_progress_entry_is_corrected_on_its_own_plan(town, login, worker):
    plan_id, other_plan, sibling = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    entry = op("plan_progress", "create", str(uuid.uuid4()), {
        "plan_id": plan_id, "at": NOW.isoformat(), "note": "已联系学校"})
    results = push(worker, [
        op("plan", "create", plan_id, {"child_id": town.children["a1"], "helper_id": town.users["worker_a"],
                                       "risk_factors": ["无人照看"], "review_every_days": 30}),
        op("child", "create", sibling, {"household_id": town.households["a1"], "name": "欧阳明星", "sex": "M",
                                        "categories": ["left_behind"]}),
        op("plan", "create", other_plan, {"child_id": sibling, "helper_id": town.users["worker_a"],
                                          "risk_factors": ["无人照看"], "review_every_days": 30}),
        entry,
        op("plan_progress", "create", str(uuid.uuid4()), {
            "plan_id": plan_id, "at": NOW.isoformat(), "note": "已联系学校和村委",
            "amends": entry["id"], "amend_reason": "漏写村委"}),
        op("plan_progress", "create", str(uuid.uuid4()), {
            "plan_id": other_plan, "at": NOW.isoformat(), "note": "别的计划",
            "amends": entry["id"], "amend_reason": "挂错计划"}),
        op("plan_progress", "create", str(uuid.uuid4()), {
            "plan_id": plan_id, "at": NOW.isoformat(), "note": "没有理由", "amends": entry["id"]})])["results"]
    assert statuses(results) == [("applied", None)] * 5 + [
        ("rejected", {"amend_reason": ["更正须针对同一帮扶计划并写明理由"]}),
        ("rejected", {"amend_reason": ["更正须针对同一帮扶计划并写明理由"]})]
    shown = worker.get(f"/api/plan_progress/{results[4]['id']}").get_json()
    assert (shown["amends"], shown["amend_reason"], shown["note"]) == (
        entry["id"], "漏写村委", "已联系学校和村委")
    rows = login("head_a").get("/api/ledgers/plans").get_json()["rows"]
    assert {r["id"]: r["progress"] for r in rows if r["id"] in (plan_id, other_plan)} == {
        plan_id: 1, other_plan: 0}


def test_a_reporter_corrects_a_clue_they_cannot_read_back(app, town, login, worker):
    clue = op("clue", "create", str(uuid.uuid4()), {"child_id": town.children["a1"],
                                                   "description": "邻居反映有陌生人接触", "place": "村口"})
    fixed = op("clue", "create", str(uuid.uuid4()), {
        "child_id": town.children["a1"], "description": "邻居反映有陌生成年男子多次接触", "place": "村口小卖部",
        "amends": clue["id"], "amend_reason": "补充细节"})
    results = push(worker, [clue, fixed])["results"]
    assert statuses(results) == [("applied", None), ("applied", None)]
    assert worker.get(f"/api/clues/{clue['id']}").status_code == 404
    police = {c["id"]: (c["amends"], c["amend_reason"], c["description"])
              for c in login("police").get("/api/clues").get_json()["rows"] if c["id"] != town.clues["a1"]}
    assert police == {clue["id"]: (None, None, "邻居反映有陌生人接触"),
                      fixed["id"]: (clue["id"], "补充细节", "邻居反映有陌生成年男子多次接触")}
    # Someone else's clue cannot be corrected, nor told apart from one that does not exist.
    head = login("head_a", device_id="phone-corrections-head-a")
    results = push(head, [
        op("clue", "create", str(uuid.uuid4()), {"description": "冒名更正", "amends": fixed["id"],
                                                 "amend_reason": "试试"}),
        op("clue", "create", str(uuid.uuid4()), {"description": "不存在", "amends": str(uuid.uuid4()),
                                                 "amend_reason": "试试"})])["results"]
    assert statuses(results) == [("rejected", {"amends": ["被更正的线索不存在"]})] * 2
    again = push(worker, [op("clue", "create", str(uuid.uuid4()), {
        "description": "再次更正原线索", "amends": clue["id"], "amend_reason": "再补充"})])["results"]
    assert statuses(again) == [("rejected", {"amends": ["该线索已被更正，请更正最新的一条"]})]
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(db.metadata.tables["clue"])) == 3


def test_two_corrections_of_one_record_at_once_leave_one(app, town, login, engine_name, monkeypatch):
    if engine_name != "postgresql":
        pytest.skip("two writers at once need PostgreSQL (SQLite serializes every writer)")
    first, second = login("worker_a"), login("worker_a")  # two phones of the entry's author
    plan = first.post("/api/plans", json={"child_id": town.children["a1"], "helper_id": town.users["worker_a"],
                                          "risk_factors": ["无人照看"], "review_every_days": 30}).get_json()
    entry = first.post("/api/plan_progress", json={"plan_id": plan["id"], "at": NOW.isoformat(),
                                                   "note": "已联系学校"}).get_json()
    # Each correction waits, once checked, for the other to be checked too (or 2 s): without the
    # writers' lock both checks pass before either writes.
    checked = threading.Barrier(2, timeout=2)
    real = filing.correction_of

    def meet(*args, **kwargs):
        original = real(*args, **kwargs)
        try:
            checked.wait()
        except threading.BrokenBarrierError:
            pass
        return original
    monkeypatch.setattr(filing, "correction_of", meet)

    def correct(api):
        return api.post("/api/plan_progress", json={"plan_id": plan["id"], "at": NOW.isoformat(),
                                                    "note": "已联系学校和村委", "amends": entry["id"],
                                                    "amend_reason": "补充"})
    with ThreadPoolExecutor(2) as executor:
        answers = list(executor.map(correct, (first, second)))
    assert sorted(a.status_code for a in answers) == [201, 422]
    refused = next(a for a in answers if a.status_code == 422)
    assert refused.get_json()["error"]["fields"] == {"amends": ["该进展记录已被更正，请更正最新的一条"]}
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(db.metadata.tables["plan_progress"])
                                 .where(db.text("amends_id = :e")), {"e": entry["id"]}) == 1


def test_a_reason_without_the_record_it_corrects_is_refused(town, login, worker):
    response = worker.post("/api/visits", json={"child_id": town.children["a1"], "visited_at": NOW.isoformat(),
                                                "amend_reason": "无中生有"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {
        "amend_reason": ["更正理由须与被更正的记录（amends）一同提供"]}
    assert worker.get("/api/visits").get_json()["total"] == 0


def test_a_corrected_clue_waits_once_and_only_its_correction_is_handled(town, login, worker):
    clue, fixed = str(uuid.uuid4()), str(uuid.uuid4())
    push(worker, [op("clue", "create", clue, {"description": "发现可疑情况", "place": "村口"}),
                  op("clue", "create", fixed, {"description": "发现可疑成年人", "place": "村口小卖部",
                                               "amends": clue, "amend_reason": "补充"})])
    police = login("police")
    assert police.get("/api/tasks").get_json()["counts"]["clue_new"] == 2  # the town's clue and the correction
    refused = police.post(f"/api/clues/{clue}/receive")
    assert (refused.status_code, refused.get_json()["error"]["message"]) == (
        409, "该线索已被报告人更正，请处理更正后的线索")
    assert police.post(f"/api/clues/{fixed}/receive").get_json()["status"] == "received"


def test_a_clue_the_station_has_received_is_not_corrected_by_its_reporter(town, login, worker):
    clue = str(uuid.uuid4())
    push(worker, [op("clue", "create", clue, {"description": "发现可疑情况", "place": "村口"})])
    assert login("police").post(f"/api/clues/{clue}/receive").status_code == 200
    results = push(worker, [op("clue", "create", str(uuid.uuid4()), {
        "description": "补充情况", "place": "村口", "amends": clue, "amend_reason": "补充"})])["results"]
    assert statuses(results) == [("rejected", {"amends": ["派出所已受理该线索，请直接联系派出所补充情况"]})]


def test_only_the_one_who_recorded_a_fact_corrects_it(town, login, worker):
    """A correction takes its original's place, so it is the author's word or nothing: the village
    head (or the town office) who can read a worker's visit, inspection or progress note cannot
    replace it. A plan's review is the head's, whoever reviewed it."""
    plan_id, visit = str(uuid.uuid4()), visit_op(town.children["a1"], notes="监护人在家")
    entry = op("plan_progress", "create", str(uuid.uuid4()), {"plan_id": plan_id, "at": NOW.isoformat(),
                                                              "note": "已联系学校"})
    plan = op("plan", "create", plan_id, {"child_id": town.children["a1"], "helper_id": town.users["worker_a"],
                                          "risk_factors": ["无人照看"], "review_every_days": 30})
    assert statuses(push(worker, [visit, plan, entry])["results"]) == [("applied", None)] * 3
    head = login("head_a", device_id="phone-corrections-head-a")
    results = push(head, [
        visit_op(town.children["a1"], notes="监护人外出", amends=visit["id"], amend_reason="我来改"),
        op("plan_progress", "create", str(uuid.uuid4()), {
            "plan_id": plan_id, "at": NOW.isoformat(), "note": "未联系", "amends": entry["id"],
            "amend_reason": "我来改"})])["results"]
    assert statuses(results) == [("rejected", {"amends": ["只能更正本人记录的走访记录"]}),
                                 ("rejected", {"amends": ["只能更正本人记录的进展记录"]})]
    visits = head.get(f"/api/visits?child_id={town.children['a1']}").get_json()["rows"]
    assert {v["id"]: v["notes"] for v in visits} == {visit["id"]: "监护人在家"}
    progress = head.get(f"/api/plan_progress?plan_id={plan_id}").get_json()["rows"]
    assert [p["id"] for p in progress] == [entry["id"]]

    inspector, admin = login("inspector"), login("admin")
    first = inspect(inspector, town.venues["a"], _answers("verify_identity"), at=NOW - timedelta(hours=3))
    refused = admin.post("/api/inspections", json={
        "venue_id": town.venues["a"], "inspected_at": first["inspected_at"], "answers": _answers(),
        "amends": first["id"], "amend_reason": "全部合格"})
    assert (refused.status_code, refused.get_json()["error"]["fields"]) == (
        422, {"amends": ["只能更正本人记录的检查记录"]})
    assert [v["item"] for v in inspector.get("/api/violations").get_json()["rows"]] == ["verify_identity"]
    assert statuses(push(worker, [visit_op(town.children["a1"], notes="监护人外出", amends=visit["id"],
                                           amend_reason="记错了")])["results"]) == [("applied", None)]
