"""When a child's visit falls due, one definition everywhere: the child's own answer (what the phone
lists from), the to-do's overdue visits and the ledger's overdue filter name the same children."""
import base64
import json
from datetime import date, datetime, timedelta

from server.extensions import db
from server.models import Child, Household, new_id
from server.services import schedule
from server.sync import cursor

from ..routes.helpers import assert_error
from ..sync.test_push_pull_basics import DEVICE, op, push
from .helpers import TZ

TODAY = date(2026, 6, 15)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, tzinfo=TZ)


def _children(app, town) -> dict[str, str]:
    """Children of grid a1 at every edge of the schedule (high risk: 30 days; low: 182)."""
    rows = {
        # name: (risk, registered days before TODAY, last visit days before TODAY or None, next due)
        "两周前到期": ("high", 400, 44, TODAY - timedelta(days=14)),
        "到期前一天": ("high", 300, 29, TODAY + timedelta(days=1)),
        "今天到期": ("high", 300, 30, TODAY),
        "昨天到期": ("high", 300, 31, TODAY - timedelta(days=1)),
        "新登记": ("high", 3, None, None),
        "登记满一月今天": ("high", 30, None, None),
        "登记满一月昨天": ("high", 31, None, None),
        "低风险半年未访": ("low", 183, None, None),
        "低风险刚满半年": ("low", 182, None, None),
    }
    # Registered at 00:30 in the town, 30 days before: the day before in UTC, due today in the town.
    early = datetime(TODAY.year, TODAY.month, TODAY.day, 0, 30, tzinfo=TZ) - timedelta(days=30)
    with app.app_context():
        household = Household(id=new_id(), grid_id=town.grids["a1"], village_id=town.villages["a"],
                              family_type="left_behind")
        household.address = "测试镇a1组88号"
        db.session.add(household)
        db.session.flush()
        ids = {}
        for name, (risk, registered, visited, due) in rows.items():
            child = Child(id=new_id(), household_id=household.id, grid_id=town.grids["a1"],
                          village_id=town.villages["a"], sex="F", categories=["left_behind"], birth_year=2016,
                          risk_level=risk, registered_at=_at(TODAY - timedelta(days=registered)),
                          last_visit_at=None if visited is None else _at(TODAY - timedelta(days=visited)),
                          next_visit_due=due)
            child.name = name
            db.session.add(child)
            ids[name] = child.id
        child = Child(id=new_id(), household_id=household.id, grid_id=town.grids["a1"],
                      village_id=town.villages["a"], sex="M", categories=["left_behind"], birth_year=2016,
                      risk_level="high", registered_at=early)
        child.name = "凌晨登记"
        db.session.add(child)
        ids[child.name] = child.id
        # The town's own child a1 was registered today in real time: leave it out of the count.
        db.session.get(Child, town.children["a1"]).status = "moved_out"
        db.session.commit()
    return ids


def test_the_childs_answer_the_to_do_and_the_ledger_agree_on_who_is_overdue(app, town, login, monkeypatch):
    ids = _children(app, town)
    monkeypatch.setattr(schedule, "local_today", lambda: TODAY)
    worker = login("worker_a")
    answers = {c["name"]: c for c in worker.get("/api/children?grid_id=" + town.grids["a1"] + "&per_page=500")
               .get_json()["rows"] if c["id"] in ids.values()}
    assert {name: (c["next_visit_due"], c["first_visit_due"]) for name, c in answers.items()} == {
        "两周前到期": ("2026-06-01", None), "到期前一天": ("2026-06-16", None),
        "今天到期": ("2026-06-15", None), "昨天到期": ("2026-06-14", None),
        "新登记": (None, "2026-07-12"), "登记满一月今天": (None, "2026-06-15"),
        "登记满一月昨天": (None, "2026-06-14"), "低风险半年未访": (None, "2026-06-14"),
        "低风险刚满半年": (None, "2026-06-15"), "凌晨登记": (None, "2026-06-15")}
    # Due today is not late yet.
    overdue = {ids[n] for n in ("两周前到期", "昨天到期", "登记满一月昨天", "低风险半年未访")}
    from_answers = {c["id"] for c in answers.values()
                    if (c["next_visit_due"] or c["first_visit_due"]) < TODAY.isoformat()}
    tasks = [t for t in worker.get("/api/tasks").get_json()["tasks"] if t["kind"] == "overdue_visit"]
    to_do = {t["entity_id"] for t in tasks}
    # The longest overdue first, visited or not, each with the day it fell due; on one day, the
    # longest registered first.
    assert [(t["entity_id"], t["due"]) for t in tasks] == [(ids["两周前到期"], "2026-06-01")] + [
        (ids[name], "2026-06-14") for name in ("昨天到期", "低风险半年未访", "登记满一月昨天")]
    ledger = login("head_a").get("/api/ledgers/children?overdue=1&per_page=500").get_json()["rows"]
    assert (from_answers, to_do, {r["id"] for r in ledger}) == (overdue, overdue, overdue)
    # The ledger's 下次走访 is that same day, for a child never visited too.
    rows = {r["id"]: r["next_visit"] for r in login("head_a").get("/api/ledgers/children?per_page=500")
            .get_json()["rows"]}
    assert {name: rows[ids[name]] for name in answers} == {
        name: c["next_visit_due"] or c["first_visit_due"] for name, c in answers.items()}


def test_a_phone_holding_children_without_first_visit_due_is_sent_them_again(app, town, login):
    """Cursors issued before children carried first_visit_due are of an older shape: the phone's next
    pull sends everything in its scope again, with the field, without the phone wiping what it holds."""
    worker = login("worker_a")
    issued = worker.get("/api/sync/pull?limit=500").get_json()["cursor"]
    raw = issued.partition(".")[0]
    body = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    assert body["v"] == cursor.SHAPE == 3
    del body["v"]
    with app.app_context():
        old_raw = cursor._b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
        old = f"{old_raw}.{cursor._mac(town.users['worker_a'], old_raw)}"
    assert worker.get(f"/api/sync/pull?limit=500&cursor={issued}").get_json()["changes"] == []
    # Nothing changed since, yet everything in the phone's scope comes again, over what it holds.
    again = worker.get(f"/api/sync/pull?limit=500&cursor={old}").get_json()
    children = [c["data"] for c in again["changes"] if c["entity"] == "child"]
    assert [c["id"] for c in children] == [town.children["a1"]]
    assert all(c["first_visit_due"] for c in children)
    assert worker.get(f"/api/sync/pull?limit=500&cursor={again['cursor']}").get_json()["changes"] == []
    # A cursor of the older shape taken under another scope (mid-move) still starts afresh.
    with app.app_context():
        body["sc"] = {"g": ["elsewhere"], "r": "grid_worker", "v": town.villages["a"]}
        moved_raw = cursor._b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
        moved = f"{moved_raw}.{cursor._mac(town.users['worker_a'], moved_raw)}"
    assert_error(worker.get(f"/api/sync/pull?limit=500&cursor={moved}"), 410, "resync_required")


def test_a_child_registered_out_of_coverage_is_due_from_the_day_the_phone_registered_it(
        app, town, login, monkeypatch):
    """The phone says when it registered a child; the server believes it within the last 30 days
    (REGISTRATION_MAX_AGE), which can only bring a first visit forward. A time ahead of the server's
    or older than that, or from a phone whose clock is off, is not believed: the child counts as
    registered when it arrives."""
    monkeypatch.setitem(app.config, "VISIT_INTERVAL_DAYS", {"low": 7, "medium": 7, "high": 7})
    worker = login("worker_a", device_id=DEVICE)
    now = datetime.now(TZ).replace(microsecond=0)
    claims = {"十天前离线登记": now - timedelta(days=10), "三天前离线登记": now - timedelta(days=3),
              "手机时钟超前": now + timedelta(days=1), "离线过久": now - timedelta(days=31), "未注明": None,
              "手机时钟慢一天": now - timedelta(days=10)}
    ids = {name: new_id() for name in claims}

    def register(names, device_time: datetime) -> None:
        response = worker.post("/api/sync/push", json={
            "device_id": DEVICE, "device_time": device_time.isoformat(), "ops": [
                op("child", "create", ids[name], {
                    "household_id": town.households["a1"], "name": name, "categories": ["left_behind"],
                    **({} if claims[name] is None else {"registered_at": claims[name].isoformat()})})
                for name in names]})
        assert [r["status"] for r in response.get_json()["results"]] == ["applied"] * len(names)
    register([name for name in claims if name != "手机时钟慢一天"], datetime.now(TZ))
    # A clock a day slow says 十天前 of a time nine days ago: the phone's word on time is not taken.
    register(["手机时钟慢一天"], datetime.now(TZ) - timedelta(days=1))
    children = {c["name"]: c for c in worker.get(f"/api/children?grid_id={town.grids['a1']}&per_page=500")
                .get_json()["rows"]}
    registered = {name: datetime.fromisoformat(children[name]["registered_at"]) for name in claims}
    for name in ("十天前离线登记", "三天前离线登记"):
        assert registered[name] == claims[name]
    for name in ("手机时钟超前", "离线过久", "未注明", "手机时钟慢一天"):
        assert now - timedelta(seconds=5) <= registered[name] <= datetime.now(TZ)
    due = {name: children[name]["first_visit_due"] for name in claims}
    today = datetime.now(TZ).date()
    assert due == {"十天前离线登记": str((now - timedelta(days=10)).date() + timedelta(days=7)),
                   "三天前离线登记": str((now - timedelta(days=3)).date() + timedelta(days=7)),
                   **{name: str(today + timedelta(days=7))
                      for name in ("手机时钟超前", "离线过久", "未注明", "手机时钟慢一天")}}
    # Overdue on arrival, on the worker's to-do and the head's ledger alike.
    tasks = {t["entity_id"] for t in worker.get("/api/tasks").get_json()["tasks"]
             if t["kind"] == "overdue_visit"}
    ledger = {r["id"] for r in login("head_a").get("/api/ledgers/children?overdue=1&per_page=500")
              .get_json()["rows"]}
    assert ids["十天前离线登记"] in tasks & ledger
    assert not {ids[name] for name in claims if name != "十天前离线登记"} & (tasks | ledger)
    # When a child was registered is not edited afterwards.
    child = children["三天前离线登记"]
    refused = push(worker, [op("child", "update", child["id"], {"registered_at": now.isoformat()},
                               base_version=child["version"])])["results"][0]
    assert (refused["status"], refused["errors"]) == ("rejected", {"registered_at": ["不允许的字段"]})
