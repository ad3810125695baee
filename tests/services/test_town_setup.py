"""flask setup-town: a real town's villages, grids and units from a town file, added to and never changed."""
import json

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import AuditEvent, Grid, Town, Unit, User, Village

from .. import factories

TOWN = {
    "town": "青石镇",
    "villages": [
        {"name": "东坪村", "grids": ["第一网格", "第二网格"]},
        {"name": "河湾社区", "kind": "community", "grids": ["一网格"]},
    ],
    "units": [{"name": "青石派出所", "kind": "police"}, {"name": "青石市场监管所", "kind": "market"}],
}


@pytest.fixture
def setup(app, tmp_path):
    """Run `setup-town` on a file holding `content` (a dict as JSON, or bytes as they are)."""
    def run(content):
        path = tmp_path / "town.json"
        path.write_bytes(content if isinstance(content, bytes)
                         else json.dumps(content, ensure_ascii=False).encode())
        return app.test_cli_runner().invoke(args=["setup-town", str(path)])
    return run


def places(app) -> dict:
    """Everything set up, by name: the towns, each village's kind and grids, each unit's kind."""
    with app.app_context():
        answer = {
            "towns": db.session.scalars(select(Town.name)).all(),
            "villages": {v.name: (v.kind, sorted(g.name for g in v.grids))
                         for v in db.session.scalars(select(Village))},
            "units": {u.name: u.kind for u in db.session.scalars(select(Unit))},
            "ids": sorted([*db.session.scalars(select(Grid.id)), *db.session.scalars(select(Village.id))]),
            "events": [(e.action, e.detail) for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "town.setup").order_by(AuditEvent.seq))],
        }
        db.session.remove()
        return answer


def test_a_town_set_up_from_its_file_takes_its_accounts_and_no_demo(app, setup):
    done = setup(TOWN)
    assert (done.exit_code, done.output) == (
        0, "青石镇：新增村（社区）2 个、网格 3 个、单位 2 个；现有村（社区）2 个、网格 3 个、单位 2 个\n")
    now = places(app)
    assert (now["towns"], now["villages"], now["units"]) == (
        ["青石镇"], {"东坪村": ("village", ["第一网格", "第二网格"]), "河湾社区": ("community", ["一网格"])},
        {"青石派出所": "police", "青石市场监管所": "market"})
    assert now["events"] == [("town.setup", {"added": {"town": 1, "villages": 2, "grids": 3, "units": 2}})]
    runner = app.test_cli_runner()
    made = runner.invoke(args=["create-user", "dongping.w1", "--role", "grid_worker", "--village", "东坪村",
                               "--grid", "第二网格", "--password-stdin"], input=factories.PASSWORD + "\n")
    assert (made.exit_code, made.output) == (0, "created dongping.w1 (grid_worker)\n")
    worker = factories.ApiClient(app.test_client())
    worker.login("dongping.w1", device_id="phone-dongping-w1")
    assert worker.get("/api/places").get_json() == {"villages": [{
        "id": next(iter(_ids(app, Village, "东坪村"))), "name": "东坪村", "kind": "village",
        "grids": [{"id": next(iter(_ids(app, Grid, "第二网格"))), "name": "第二网格"}]}]}
    skipped = runner.invoke(args=["demo-data", "--if-empty"])
    assert (skipped.exit_code, skipped.output) == (0, "a town is already set up; no demo loaded\n")
    refused = runner.invoke(args=["demo-data", "--no-activity"])  # its town admin would read the real town
    assert (refused.exit_code, refused.output) == (1, "Error: 已有镇的数据，演示数据只能载入空的数据库\n")
    assert places(app)["towns"] == ["青石镇"]
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 1


def _ids(app, model, name: str) -> set[str]:
    with app.app_context():
        ids = set(db.session.scalars(select(model.id).where(model.name == name)))
        db.session.remove()
        return ids


def test_running_it_again_adds_only_what_is_new_and_keeps_what_is_there(app, setup):
    assert setup(TOWN).exit_code == 0
    first = places(app)
    again = setup(TOWN)
    assert (again.exit_code, again.output) == (
        0, "青石镇：新增村（社区）0 个、网格 0 个、单位 0 个；现有村（社区）2 个、网格 3 个、单位 2 个\n")
    assert places(app) == first  # nothing changed, and no event for nothing
    longer = json.loads(json.dumps(TOWN))
    longer["villages"][0]["grids"].append("第3网格")
    longer["villages"].append({"name": "石桥村", "grids": ["第一网格"]})
    longer["units"].append({"name": "青石镇中心学校", "kind": "school"})
    grown = setup(longer)
    assert (grown.exit_code, grown.output) == (
        0, "青石镇：新增村（社区）1 个、网格 2 个、单位 1 个；现有村（社区）3 个、网格 5 个、单位 3 个\n")
    now = places(app)
    assert set(first["ids"]) < set(now["ids"])  # the villages and grids set up before keep their ids
    assert now["villages"] == {"东坪村": ("village", ["第3网格", "第一网格", "第二网格"]),
                               "河湾社区": ("community", ["一网格"]), "石桥村": ("village", ["第一网格"])}
    assert now["events"][-1] == ("town.setup", {"added": {"town": 0, "villages": 1, "grids": 2, "units": 1}})
    typed_otherwise = {"town": "青石镇", "villages": [{"name": "东坪村", "grids": ["第３网格"]}],
                       "units": [{"name": "青石镇中心学校", "kind": "school"}]}
    bom = b"\xef\xbb\xbf" + json.dumps(typed_otherwise, ensure_ascii=False).encode()
    assert setup(bom).exit_code == 0  # saved by Notepad, the digit typed full-width: the same grid
    assert places(app) == now
    shorter = {"town": "青石镇", "villages": [{"name": "石桥村", "grids": ["第一网格"]}]}
    assert setup(shorter).exit_code == 0
    assert places(app)["villages"] == now["villages"]  # a file that leaves things out removes nothing


def _with(**changes) -> dict:
    town = json.loads(json.dumps(TOWN))
    town.update(changes)
    return town


@pytest.mark.parametrize(("content", "message"), [
    (_with(town="另一个镇"), "Error: town: 本系统已有镇“青石镇”，一个系统只管一个镇"),
    (_with(villages=[{"name": "东坪村", "kind": "community", "grids": ["第九网格"]}]),
     "Error: villages: “东坪村”已登记为村，不改动"),
    (_with(units=[{"name": "青石派出所", "kind": "school"}, {"name": "新单位", "kind": "health"}]),
     "Error: units: “青石派出所”已登记为另一类单位（police），不改动"),
    (_with(villages=[{"name": "新村", "grids": ["一组", "二组", "一组"]}]),
     "Error: villages.0.grids: 重复的名称：一组"),
    (_with(villages=[{"name": "新村", "grids": ["一组"]}, {"name": "新村", "grids": ["二组"]}]),
     "Error: villages: 重复的名称：新村"),
    (_with(villages=[{"name": "新村 ", "grids": ["一组"]}]), "Error: villages.0.name: 名称前后不能有空白"),
    (_with(villages=[{"name": "新村", "grids": []}]), "Error: villages.0.grids: 至少一个网格"),
    (_with(villages=[{"name": "新村", "grids": ["一组"], "lat": 30.1}]), "Error: villages.0.lat: 不允许的字段"),
    (_with(units=[{"name": "新单位", "kind": "hospital"}]),
     "Error: units.0.kind: 取值无效，可选：police, market, civil_affairs, school, health, justice, "
     "womens_federation, town_office"),
    (_with(villages=[]), "Error: villages: 至少一个村或社区"),
    (b'{"town": "\xe9\x9d\x92', "Error: 镇的设置文件不是有效的 JSON：第 1 行第 10 列"),
    (b"{}\n\xff\xfe", "Error: 镇的设置文件应为 UTF-8 编码：第 4 个字节无法读取"),
])
def test_a_file_that_cannot_be_set_up_changes_nothing(app, setup, content, message):
    assert setup(TOWN).exit_code == 0
    before = places(app)
    refused = setup(content)
    assert (refused.exit_code, refused.output.strip()) == (1, message)
    assert places(app) == before


def test_names_stored_before_they_were_matched_as_nfkc_are_matched_so_too(app, setup):
    """A grid stored as typed (full-width digits, from an earlier tool or by hand) is the grid the town
    file and create-user name in plain digits, and the other way round."""
    assert setup(TOWN).exit_code == 0
    with app.app_context():
        village = db.session.scalar(select(Village).where(Village.name == "东坪村"))
        db.session.add(Grid(village_id=village.id, name="第３网格"))
        db.session.add(Unit(town_id=village.town_id, name="青石司法所１", kind="justice"))
        db.session.commit()
    before = places(app)
    again = {"town": "青石镇", "villages": [{"name": "东坪村", "grids": ["第3网格"]}],
             "units": [{"name": "青石司法所1", "kind": "justice"}]}
    done = setup(again)
    assert (done.exit_code, done.output) == (
        0, "青石镇：新增村（社区）0 个、网格 0 个、单位 0 个；现有村（社区）2 个、网格 4 个、单位 3 个\n")
    assert places(app) == before
    runner = app.test_cli_runner()
    for login, role, where in (("dongping.w3", "grid_worker", ["--village", "东坪村", "--grid", "第3网格"]),
                               ("sifa.1", "inspector", ["--unit", "青石司法所1"])):
        made = runner.invoke(args=["create-user", login, "--role", role, *where, "--password-stdin"],
                             input=factories.PASSWORD + "\n")
        assert (made.exit_code, made.output) == (0, f"created {login} ({role})\n")
    with app.app_context():
        worker = db.session.scalar(select(User).where(User.username == "dongping.w3"))
        staff = db.session.scalar(select(User).where(User.username == "sifa.1"))
        assert ([g.name for g in worker.grids], db.session.get(Unit, staff.unit_id).name) == (
            ["第３网格"], "青石司法所１")
