"""Each ledger's rows against a fixture whose expected values are written out here."""
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from server.extensions import db
from server.models import Child, Plan, new_id

from ..routes.helpers import assert_error
from ..services.test_enforcement import inspect
from . import ledger_town
from .helpers import TZ, today
from .report_town import add_visit


@pytest.fixture
def facts(app, town):
    """The ledger fixture's facts."""
    with app.app_context():
        return ledger_town.build(town)


def _age(born: date) -> int:
    now = today()
    return now.year - born.year - ((now.month, now.day) < (born.month, born.day))


def test_children_ledger_rows_for_the_village_head(facts, town, login):
    body = login("head_a").get("/api/ledgers/children").get_json()
    day = today()
    assert body["title"] == f"测试A村重点未成年人台账（截至 {day.isoformat()}）"
    assert [c["label"] for c in body["columns"]] == [
        "序号", "姓名", "性别", "年龄", "类别", "监护人", "联系电话", "网格", "风险等级", "帮扶责任人",
        "最近走访", "本年走访次数", "下次走访", "状态"]
    assert (body["total"], body["page"], body["per_page"]) == (2, 1, 50)
    assert body["rows"] == [
        {"seq": 1, "id": town.children["a1"], "name": "欧阳明月", "sex": "女", "age": _age(date(2015, 1, 1)),
         "categories": "留守", "guardian": "监护人欧大山（祖父）", "phone": "139****0000", "grid": "第1网格",
         "risk_level": "高", "risk_code": "high", "helper": "测试worker_a",
         "last_visit": facts["last_visit"].isoformat(), "visits_this_year": 2,
         "next_visit": (day - timedelta(days=3)).isoformat(), "status": "在册·走访逾期", "overdue": True},
        {"seq": 2, "id": town.children["a2"], "name": "司马小雨", "sex": "男", "age": _age(date(2015, 1, 1)),
         "categories": "残疾、留守", "guardian": "监护人司大山（祖父）", "phone": "139****0001",
         "grid": "第2网格",
         "risk_level": "低", "risk_code": "low", "helper": "", "last_visit": "", "visits_this_year": 0,
         # never visited: due a full interval (low risk, 182 days) after registration, today
         "next_visit": (day + timedelta(days=182)).isoformat(), "status": "在册", "overdue": False}]


def test_visits_this_year_are_counted_at_their_corrected_time(app, facts, town, login):
    """A visit logged this year and corrected to last December is not this year's; one logged at a
    wrong last-year time and corrected into this year is, once."""
    year = today().year
    with app.app_context():
        wrong = add_visit(town, "a2", datetime(year, 1, 2, 9, tzinfo=TZ))
        add_visit(town, "a2", datetime(year - 1, 12, 30, 9, tzinfo=TZ), amends=wrong)
        stale = add_visit(town, "a1", datetime(year - 1, 6, 1, 9, tzinfo=TZ))
        add_visit(town, "a1", datetime(year, 1, 1, 9, tzinfo=TZ), amends=stale)
        db.session.commit()
    rows = login("head_a").get("/api/ledgers/children").get_json()["rows"]
    assert {r["id"]: r["visits_this_year"] for r in rows} == {town.children["a1"]: 3, town.children["a2"]: 0}


@pytest.mark.parametrize("query, expected", [
    ("grid_id={a2}", ["a2"]), ("village_id={b}", []), ("risk_level=high", ["a1"]), ("overdue=1", ["a1"]),
    ("category=disabled", ["a2"]), ("category=migrant", []), ("q=明月", ["a1"]), ("q=oymy", ["a1"]),
    ("q=OY", ["a1"]), ("q=xy", ["a2"]), ("q=smx", ["a2"]), ("q=张", []), ("q=明月&risk_level=low", []),
    ("per_page=1&page=2", ["a2"]), ("follow_up=1", ["a2"]), ("follow_up=1&grid_id={a2}", ["a2"]),
    ("follow_up=1&risk_level=high", []),
])
def test_children_ledger_filters_and_search(facts, town, login, query, expected):
    url = "/api/ledgers/children?" + query.format(a2=town.grids["a2"], b=town.villages["b"])
    body = login("head_a").get(url).get_json()
    assert [r["id"] for r in body["rows"]] == [town.children[k] for k in expected]
    assert body["total"] == (2 if query.startswith("per_page") else len(expected))


def test_children_ledger_scope_per_role(facts, town, login):
    worker = login("worker_a").get("/api/ledgers/children").get_json()
    assert [r["id"] for r in worker["rows"]] == [town.children["a1"]]
    admin = login("admin").get("/api/ledgers/children").get_json()
    assert admin["title"].startswith("测试镇重点未成年人台账")
    assert [(r["name"], r["grid"]) for r in admin["rows"]] == [
        ("欧**月", "第1网格"), ("司**雨", "第2网格"), ("诸**东", "第1网格")]
    assert [r["name"] for r in login("head_b").get("/api/ledgers/children").get_json()["rows"]] == ["诸葛晓东"]
    for role in ("inspector", "police"):
        assert_error(login(role).get("/api/ledgers/children"), 404, "not_found")
        assert_error(login(role).get("/api/ledgers/plans"), 404, "not_found")
    assert_error(login("worker_a").get("/api/ledgers/venues"), 404, "not_found")
    assert_error(login("head_a").get("/api/ledgers/venues?risk_level=high"), 422, "validation_error",
                 field_names={"risk_level"})
    assert_error(login("head_a").get("/api/ledgers/plans?follow_up=1"), 422, "validation_error",
                 field_names={"follow_up"})


def test_venue_and_inspection_ledgers(facts, town, login):
    day = today()
    venues = login("head_a").get("/api/ledgers/venues").get_json()
    assert venues["rows"] == [{
        "seq": 1, "id": town.venues["a"], "name": "测试a宾馆", "type": "旅馆酒店", "village": "测试A村",
        "address": "",
        "licence_no": "", "contact": "老*a", "phone": "138****0001", "status": "营业", "last_inspected": "",
        "open_items": 1, "overdue_items": 0}]
    assert len(login("inspector").get("/api/ledgers/venues").get_json()["rows"]) == 2
    rows = login("head_a").get("/api/ledgers/inspections").get_json()["rows"]
    assert [(r["id"], r["inspector"], r["items"], r["failed"], r["deadline"], r["rectification"])
            for r in rows] == [
        (facts["again"], "测试inspector", 1, "", "", "无需整改"),
        (facts["inspection"], "测试inspector", 3,
         "查验入住未成年人身份，并如实登记、报送信息；前台人员知晓\"五必须\"要求",
         (day - timedelta(days=2)).isoformat(), "整改中（1项）")]
    assert login("head_b").get("/api/ledgers/inspections").get_json()["rows"] == []


def test_an_item_failed_again_at_reinspection_is_not_shown_as_rectified_on_the_first_inspection(
        town, login):
    """A re-inspection that fails an item again carries it forward: the first inspection's item is
    not rectified until a later check passes it, on the screen and in the export alike."""
    inspector, head = login("inspector"), login("head_a")
    now = datetime.now(UTC).replace(microsecond=0)
    first = inspect(inspector, town.venues["a"], [{"item": "verify_identity", "result": "fail"},
                                                  {"item": "patrol_visitors", "result": "fail"}],
                    at=now - timedelta(days=3))
    again = inspect(inspector, town.venues["a"], [{"item": "verify_identity", "result": "fail"},
                                                  {"item": "patrol_visitors", "result": "pass"}],
                    at=now - timedelta(days=2), reinspection_of=first["id"])

    def states():
        rows = head.get("/api/ledgers/inspections").get_json()["rows"]
        return [(r["id"], r["rectification"]) for r in rows]
    assert states() == [(again["id"], "整改中（1项）"), (first["id"], "复查未通过，整改中")]
    sheet = load_workbook(io.BytesIO(head.get("/api/ledgers/inspections?format=xlsx").data)).active
    exported = list(sheet.iter_rows(values_only=True))[2:4]
    assert [r[9] for r in exported] == ["整改中（1项）", "复查未通过，整改中"]
    last = inspect(inspector, town.venues["a"], [{"item": "verify_identity", "result": "pass"}],
                   at=now - timedelta(days=1), reinspection_of=again["id"])
    assert states() == [(last["id"], "无需整改"), (again["id"], "已整改"), (first["id"], "已整改")]


def test_plan_and_staff_check_ledgers(facts, town, login):
    day = today()
    plans = login("head_a").get("/api/ledgers/plans").get_json()["rows"]
    assert plans == [{
        "seq": 1, "id": facts["plan"], "child_id": town.children["a1"], "child": "欧阳明月",
        "village": "测试A村",
        "grid": "第1网格", "risk_level": "高", "helper": "测试worker_a", "measures": "强制报告（派出所）",
        "status": "执行中", "approved_by": "测试head_a", "approved_on": day.isoformat(),
        "next_review": (day + timedelta(days=30)).isoformat(), "progress": 0, "closed_on": ""}]
    assert login("head_a").get("/api/ledgers/plans?overdue=1").get_json()["rows"] == []
    assert login("head_b").get("/api/ledgers/plans").get_json()["rows"] == []
    checks = login("head_a").get("/api/ledgers/staff_checks").get_json()["rows"]
    assert checks == [{
        "seq": 1, "id": facts["check"], "person": "王*二", "id_number": "430699********0018",
        "employer": "测试a宾馆", "checked_on": (day - timedelta(days=400)).isoformat(), "result": "无犯罪记录",
        "next_due": (day - timedelta(days=35)).isoformat(), "status": "逾期未查"}]
    assert login("head_a").get("/api/ledgers/staff_checks?q=wxe").get_json()["total"] == 1


def test_plans_ledger_lists_drafts_first_then_active_then_closed(app, facts, town, login):
    with app.app_context():
        child = db.session.get(Child, town.children["a2"])
        made = {}
        for status in ("closed", "draft"):
            plan = Plan(id=new_id(), child_id=child.id, grid_id=child.grid_id, village_id=child.village_id,
                        status=status, review_every_days=30, risk_factors=[])
            plan.measures = []
            db.session.add(plan)
            made[status] = plan.id
        db.session.commit()
    rows = login("head_a").get("/api/ledgers/plans").get_json()["rows"]
    assert [(r["seq"], r["id"], r["status"]) for r in rows] == [
        (1, made["draft"], "待审批"), (2, facts["plan"], "执行中"), (3, made["closed"], "已结案")]


def test_a_failed_item_is_named_by_the_checklist_of_its_venue_type(town, login):
    """Item keys shared by several checklists (no_minors_admitted, minor_sign) carry each list's own
    words: a KTV's failures read as the entertainment checklist says them, not the internet cafe's."""
    admin = login("admin")
    created = admin.post("/api/venues", json={"village_id": town.villages["a"], "type": "ktv",
                                              "name": "星光KTV"})
    assert created.status_code == 201, created.get_json()
    inspect(login("inspector"), created.get_json()["id"], [
        {"item": "no_minors_admitted", "result": "fail"}, {"item": "minor_sign", "result": "fail"},
        {"item": "no_paid_companionship", "result": "pass"}])
    head = login("head_a")
    rows = head.get("/api/ledgers/inspections").get_json()["rows"]
    assert [(r["venue"], r["failed"]) for r in rows] == [
        ("星光KTV", "未允许未成年人进入；显著位置设置未成年人禁入标志")]
    sheet = load_workbook(io.BytesIO(head.get("/api/ledgers/inspections?format=xlsx").data)).active
    assert list(sheet.iter_rows(values_only=True))[2][7] == "未允许未成年人进入；显著位置设置未成年人禁入标志"


def test_the_venue_ledger_lists_venues_by_kind_as_the_campaign_names_them_then_village_and_name(town, login):
    """The ledger ordered venues by their kind's English key (酒吧 before 旅馆酒店, KTV after 网吧) and
    names by code point (10号 before 2号). Now by kind in the campaign's order (旅馆酒店, 电竞酒店,
    点播影院, 网吧, 酒吧, KTV, 其他), then village, then name as people count (2号 before 10号)."""
    admin = login("admin")
    for village, kind, name in (("b", "ktv", "星光KTV"), ("a", "bar", "夜色酒吧"),
                                ("a", "internet_cafe", "10号网吧"), ("a", "internet_cafe", "2号网吧"),
                                ("b", "hotel", "测试b2宾馆"), ("a", "esports_hotel", "电竞之家"),
                                ("a", "other", "棋牌室")):
        made = admin.post("/api/venues", json={"village_id": town.villages[village], "type": kind,
                                               "name": name})
        assert made.status_code == 201, made.get_json()
    rows = admin.get("/api/ledgers/venues").get_json()["rows"]
    assert [(r["type"], r["village"], r["name"]) for r in rows] == [
        ("旅馆酒店", "测试A村", "测试a宾馆"), ("旅馆酒店", "测试B村", "测试b2宾馆"),
        ("旅馆酒店", "测试B村", "测试b宾馆"), ("电竞酒店", "测试A村", "电竞之家"),
        ("网吧", "测试A村", "2号网吧"), ("网吧", "测试A村", "10号网吧"), ("酒吧", "测试A村", "夜色酒吧"),
        ("KTV", "测试B村", "星光KTV"), ("其他", "测试A村", "棋牌室")]
    assert [r["seq"] for r in rows] == list(range(1, 10))
