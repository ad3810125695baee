"""The inspector corrects an inspection on the phone, offline: a new inspection naming the original."""
import re
from datetime import datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import JointOperation, Venue, new_id

from .. import factories
from ..workflow.helpers import TZ
from . import helpers
from .conftest import PHONE

VERIFY = "查验入住未成年人身份，并如实登记、报送信息"
NOTE = "前台未查验身份证件"
NOTES = "夜查复查，身份查验仍未落实"
REASON = "前台其实已查验并登记，当时误选不合格"
FIX = {"lat": 29.111, "lon": 113.2, "accuracy_m": 15.0}

def _violations(api) -> list[tuple]:
    response = api.get("/api/violations")
    assert response.status_code == 200, response.get_json()
    return [(v["inspection_id"], v["item"]) for v in response.get_json()["rows"]]


def _inspect(api, venue_id: str, at: datetime, answers: list[dict], **extra) -> dict:
    response = api.post("/api/inspections", json={"venue_id": venue_id, "inspected_at": at.isoformat(),
                                                  "answers": answers, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _expect_open_on_the_phone(browser, server, venue_id: str, text: str) -> None:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, server.url, "inspector")
    page.locator("#nav").get_by_role("link", name="我的场所").click()
    venue = page.locator(f"li.venue[data-venue='{venue_id}']")
    expect(venue.get_by_test_id("open-violations")).to_have_text(text)
    context.close()


def _recorded(server) -> tuple[factories.ApiClient, dict, dict, str]:
    """测试b宾馆 next to the phone and today's operation; the inspector's first inspection two days ago
    failed identity checks, and the re-inspection three hours ago (in the operation) failed it again."""
    with server.app.app_context():
        venue = db.session.scalars(select(Venue).where(Venue.name == "测试b宾馆")).one()
        venue.lat, venue.lon = FIX["lat"], FIX["lon"]
        operation = JointOperation(id=new_id(), date=datetime.now(TZ).date(), lead_unit="测试派出所",
                                   units=["测试派出所"], member_ids=[])
        db.session.add(operation)
        db.session.commit()
        operation_id = operation.id
    api = factories.ApiClient(server.app.test_client())
    api.login("inspector")
    venue_id = server.ids.venues["b"]
    first = _inspect(api, venue_id, datetime.now(TZ) - timedelta(days=2), [
        {"item": "verify_identity", "result": "fail"}, {"item": "ask_guardian", "result": "pass"}])
    at = (datetime.now(TZ) - timedelta(hours=3)).replace(second=7, microsecond=123456)
    deadline = (at.date() + timedelta(days=5)).isoformat()
    original = _inspect(api, venue_id, at, [
        {"item": "verify_identity", "result": "fail", "note": NOTE, "deadline": deadline},
        {"item": "ask_guardian", "result": "pass"}, {"item": "staff_trained", "result": "na"}],
        notes=NOTES, operation_id=operation_id, reinspection_of=first["id"], **FIX)
    assert (original["amends"], original["amend_reason"], original["flags"]) == (None, None, [])
    assert _violations(api) == [(original["id"], "verify_identity")]
    return api, first, {**original, "at": at, "deadline": deadline}, operation_id


def test_an_inspection_is_corrected_offline_and_its_violation_closes(browser, live_server):
    api, first, original, operation_id = _recorded(live_server)
    venue_id = live_server.ids.venues["b"]
    when = original["at"].strftime("%Y-%m-%d %H:%M")
    failed = f"不合格 1 项：{VERIFY}（{NOTE}）"
    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    helpers.login(page, live_server.url, "inspector")

    # 我的场所 → the venue's inspections: the re-inspection on top, with a 更正 action.
    page.locator("#nav").get_by_role("link", name="我的场所").click()
    venue = page.locator(f"li.venue[data-venue='{venue_id}']")
    expect(venue.get_by_test_id("open-violations")).to_have_text("待整改 1")
    venue.get_by_role("link", name="检查记录 测试b宾馆").click()
    expect(page.get_by_role("heading", name="测试b宾馆")).to_be_visible()
    expect(page.get_by_role("heading", name="检查记录（2）")).to_be_visible()
    rows = page.get_by_test_id("inspection")
    assert rows.evaluate_all("(els) => els.map((e) => e.dataset.inspection)") == [original["id"], first["id"]]
    row = page.locator(f"[data-inspection='{original['id']}']")
    assert row.locator("strong, .tag, .meta").all_inner_texts() == [when, failed, NOTES, "复查"]
    expect(row).not_to_have_class(re.compile("superseded"))
    problems += helpers.check_screen(page, "inspection-amend-01-venue")
    row.get_by_role("link", name=f"更正 {when} 的检查").click()

    # The correction form, prefilled from the original, keeping its time, operation and GPS fix.
    expect(page.get_by_role("heading", name="更正检查 测试b宾馆")).to_be_visible()
    expect(page.get_by_test_id("amend")).to_contain_text(f"更正 {when} 的复查记录。")
    expect(page.get_by_test_id("gps")).to_have_text("沿用原记录的定位：29.11100, 113.20000，精度 ±15 米")
    expect(page.get_by_label("检查时间")).to_have_value(original["at"].strftime("%Y-%m-%dT%H:%M:%S"))
    today = datetime.now(TZ).date().isoformat()
    expect(page.get_by_label(f"计入 {today} 的联合执法行动（牵头：测试派出所）")).to_be_checked()
    verify = page.locator(".check-item", has=page.get_by_role("group", name=re.compile(VERIFY)))
    expect(verify.get_by_label("不合格")).to_be_checked()
    expect(verify.get_by_label("问题说明")).to_have_value(NOTE)
    expect(verify.get_by_label("整改期限")).to_have_value(original["deadline"])
    guardian = page.get_by_role("group", name=re.compile("询问监护人联系方式"))
    expect(guardian.get_by_label("合格", exact=True)).to_be_checked()
    expect(page.get_by_role("group", name=re.compile("前台人员知晓")).get_by_label("不适用")).to_be_checked()
    expect(page.locator(".check-item input[type=radio]:checked")).to_have_count(3)
    expect(page.get_by_label("检查情况")).to_have_value(NOTES)
    expect(page.get_by_label("更正原因（必填）")).to_have_value("")
    problems += helpers.check_screen(page, "inspection-amend-02-form")

    # No reason: refused on the phone, nothing queued.
    page.get_by_role("button", name="保存更正").click()
    expect(page.get_by_test_id("amend").get_by_role("alert")).to_have_text("请写明更正原因")
    expect(page.get_by_label("更正原因（必填）")).to_be_focused()
    assert helpers.pending_ops(page) == []
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 0")

    # Saved offline with the item now passing: queued as an inspection create naming the original.
    helpers.go_offline(context)
    verify.get_by_label("合格", exact=True).check()
    expect(verify.get_by_label("整改期限")).to_be_hidden()
    ops = helpers.save_correction(page, REASON, "测试b宾馆")
    fixed_id = ops[0]["id"]
    answers = [{"item": "verify_identity", "result": "pass", "note": None},
               {"item": "ask_guardian", "result": "pass", "note": None},
               {"item": "staff_trained", "result": "na", "note": None}]
    assert ops == [{"entity": "inspection", "action": "create", "id": fixed_id, "base_version": None, "data": {
        "venue_id": venue_id, "inspected_at": original["inspected_at"], "template_version": 1,
        "answers": answers, "notes": NOTES, "amends": original["id"], "amend_reason": REASON,
        "operation_id": operation_id, "reinspection_of": first["id"], **FIX}}]
    expect(page.get_by_role("heading", name="检查记录（3）")).to_be_visible()
    assert rows.evaluate_all("(els) => els.map((e) => e.dataset.inspection)") == [
        fixed_id, original["id"], first["id"]]
    fresh = page.locator(f"[data-inspection='{fixed_id}']")
    assert fresh.locator("strong, .tag, .meta").all_inner_texts() == [
        when, "无不合格项", NOTES, "复查", "更正", "待同步", f"更正原因：{REASON}"]
    expect(fresh.get_by_role("link", name=re.compile("^更正"))).to_have_count(0)
    assert row.locator("strong, .tag, .meta").all_inner_texts() == [when, failed, NOTES, "已更正", "复查"]
    expect(row).to_have_class(re.compile("superseded"))
    expect(row.get_by_role("link", name=re.compile("^更正"))).to_have_count(0)
    expect(page.get_by_test_id("open-violations")).to_have_count(0)
    problems += helpers.check_screen(page, "inspection-amend-03-venue-pending")
    page.locator("#nav").get_by_role("link", name="我的场所").click()
    expect(venue).to_contain_text("上次检查")
    expect(venue.get_by_test_id("open-violations")).to_have_count(0)

    # Back online: the server has the correction, and the violation is closed.
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page)
    listed = {i["id"]: i for i in api.get(f"/api/inspections?venue_id={venue_id}").get_json()["rows"]}
    assert set(listed) == {first["id"], original["id"], fixed_id}
    fixed = listed[fixed_id]
    assert fixed["inspected_at"] == original["inspected_at"]
    assert datetime.fromisoformat(fixed["inspected_at"]) == original["at"]
    assert {k: fixed[k] for k in ("venue_id", "amends", "amend_reason", "reinspection_of", "operation_id",
                                  "notes", "lat", "lon", "accuracy_m", "template_version", "inspector_id")} == {
        "venue_id": venue_id, "amends": original["id"], "amend_reason": REASON, "reinspection_of": first["id"],
        "operation_id": operation_id, "notes": NOTES, **FIX, "template_version": 1,
        "inspector_id": live_server.ids.users["inspector"]}
    assert [(a["item"], a["result"], a["deadline"], a["note"]) for a in fixed["answers"]] == [
        ("verify_identity", "pass", None, None), ("ask_guardian", "pass", None, None),
        ("staff_trained", "na", None, None)]
    assert (listed[original["id"]]["amends"], listed[original["id"]]["answers"][0]["result"]) == (None, "fail")
    assert _violations(api) == []

    # The phone: the original stays, muted, 已更正 and with no 更正; the synced correction can be corrected.
    page.locator("#nav").get_by_role("link", name="我的场所").click()
    venue.get_by_role("link", name="检查记录 测试b宾馆").click()
    expect(page.get_by_role("heading", name="检查记录（3）")).to_be_visible()
    assert fresh.locator("strong, .tag, .meta").all_inner_texts() == [
        when, "无不合格项", NOTES, "复查", "更正", f"更正原因：{REASON}"]
    expect(fresh.get_by_role("link", name=f"更正 {when} 的检查")).to_have_count(1)
    assert row.locator("strong, .tag, .meta").all_inner_texts() == [when, failed, NOTES, "已更正", "复查"]
    expect(row).to_have_class(re.compile("superseded"))
    expect(row.get_by_role("link", name=re.compile("^更正"))).to_have_count(0)
    problems += helpers.check_screen(page, "inspection-amend-04-venue-synced")

    # The corrected original, opened by its address, is not offered again.
    page.evaluate(f"location.hash = '#/inspect/{venue_id}/amend/{original['id']}'")
    expect(page.get_by_role("heading", name="更正检查 测试b宾馆")).to_be_visible()
    expect(page.locator("#view .banner.warn")).to_have_text("这条检查记录已更正，请在更正后的记录上再更正。")
    expect(page.get_by_role("button", name="保存更正")).to_have_count(0)
    context.close()
    assert problems == []


def test_a_reinspection_dated_early_by_a_slow_phone_closes_on_the_phone_as_on_the_server(browser, live_server):
    """The re-inspection's phone ran three days slow: dated before the failure it re-checks, it still
    closes what it passes, on the inspector's phone as on the server; what it fails again stays open."""
    api = factories.ApiClient(live_server.app.test_client())
    api.login("inspector")
    venue_id = live_server.ids.venues["b"]
    first = _inspect(api, venue_id, datetime.now(TZ) - timedelta(days=2), [
        {"item": "verify_identity", "result": "fail"}, {"item": "ask_guardian", "result": "fail"}])
    again = _inspect(api, venue_id, datetime.now(TZ) - timedelta(days=5), [
        {"item": "verify_identity", "result": "pass"}, {"item": "ask_guardian", "result": "fail"}],
        reinspection_of=first["id"])
    assert _violations(api) == [(again["id"], "ask_guardian")]
    _expect_open_on_the_phone(browser, live_server, venue_id, "待整改 1")


def test_a_reinspection_dated_ahead_by_a_fast_phone_does_not_outlast_a_later_one(browser, live_server):
    """Two re-inspections of one failure: the first from a phone a month ahead fails the item again,
    the second, made after it arrived, passes it. The first counts as made when it arrived, so the
    second decides: the violation is closed on the inspector's phone as on the server."""
    api = factories.ApiClient(live_server.app.test_client())
    api.login("inspector")
    venue_id = live_server.ids.venues["b"]
    first = _inspect(api, venue_id, datetime.now(TZ) - timedelta(days=2), [
        {"item": "verify_identity", "result": "fail"}, {"item": "ask_guardian", "result": "fail"}])
    ahead = _inspect(api, venue_id, datetime.now(TZ) + timedelta(days=30), [
        {"item": "verify_identity", "result": "fail"}, {"item": "ask_guardian", "result": "fail"}],
        reinspection_of=first["id"])
    later = _inspect(api, venue_id, datetime.now(TZ), [
        {"item": "verify_identity", "result": "pass"}, {"item": "ask_guardian", "result": "fail"}],
        reinspection_of=first["id"])
    assert ("future_time" in ahead["flags"], ahead["counted_at"] < later["counted_at"]) == (True, True)
    assert _violations(api) == [(later["id"], "ask_guardian")]
    _expect_open_on_the_phone(browser, live_server, venue_id, "待整改 1")
