"""The grid worker sees a visit the village head questioned and corrects it on the phone, offline."""
import re
from datetime import datetime, timedelta

from playwright.sync_api import expect

from .. import factories
from ..workflow.helpers import TZ
from . import helpers
from .conftest import PHONE

QUESTION = "定位离住址三公里，请核实当天是否入户"
REASON = "当天在村委会约见监护人，未入户；已补充说明"
ANSWERS = {"guardian_present": False, "guardian_away_months": 8, "in_school": True,
           "needs": ["living", "schooling"]}
NOTES = "孩子在家，爷爷照看"
FIX = {"lat": 29.13, "lon": 113.2, "accuracy_m": 15.0}

def _questioned_visit(server) -> tuple[factories.ApiClient, dict]:
    """worker_a visits 欧阳明月 3 km from the home (flagged); head_a questions the visit."""
    worker = factories.ApiClient(server.app.test_client())
    worker.login("worker_a")
    child = server.ids.children["a1"]
    visited_at = (datetime.now(TZ) - timedelta(hours=3)).replace(second=7, microsecond=123456)
    visit = worker.post("/api/visits", json={
        "child_id": child, "visited_at": visited_at.isoformat(), "answers": ANSWERS, "notes": NOTES,
        "follow_up": True, **FIX})
    assert visit.status_code == 201, visit.get_json()
    visit = visit.get_json()
    assert (visit["flags"], visit["review_status"], visit["amends"]) == (["location_mismatch"], "pending", None)
    head = factories.ApiClient(server.app.test_client())
    head.login("head_a")
    reviewed = head.post(f"/api/visits/{visit['id']}/review", json={"decision": "question", "note": QUESTION})
    assert reviewed.status_code == 200, reviewed.get_json()
    reviewed = reviewed.get_json()
    assert (reviewed["review_status"], reviewed["review_note"]) == ("questioned", QUESTION)
    assert _questioned_tasks(worker) == (1, [(visit["id"], QUESTION, child, "欧阳明月 走访记录存疑")])
    return worker, {**visit, "visited_at_local": visited_at}


def _questioned_tasks(api) -> tuple[int, list[tuple]]:
    body = api.get("/api/tasks").get_json()
    items = [(t["entity_id"], t["detail"]["note"], t["detail"]["child_id"], t["title"])
             for t in body["tasks"] if t["kind"] == "visit_questioned"]
    return body["counts"]["visit_questioned"], items


def _open_child(page, child_id: str):
    page.evaluate(f"location.hash = '#/child/{child_id}'")
    expect(page.get_by_role("heading", name="欧阳明月")).to_be_visible()


def test_a_questioned_visit_is_corrected_offline_and_leaves_the_to_do(browser, live_server):
    worker, original = _questioned_visit(live_server)
    child_id = live_server.ids.children["a1"]
    when = original["visited_at_local"].strftime("%Y-%m-%d %H:%M")
    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    helpers.login(page, live_server.url, "worker_a")

    # 今日待办: the questioned visit comes first, with the child's name and the head's note.
    page.locator("#nav").get_by_role("link", name="今日待办").click()
    todo = page.get_by_test_id("questioned")
    expect(todo.get_by_role("heading")).to_have_text("走访记录存疑，待更正（1）")
    expect(page.locator("#view .page > section").first).to_have_attribute("data-testid", "questioned")
    item = todo.get_by_role("link")
    expect(item).to_have_count(1)
    expect(item).to_have_attribute("href", f"#/visit/{child_id}/{original['id']}")
    assert [item.locator("strong").inner_text(), *item.locator(".tag, .meta").all_inner_texts()] == [
        "欧阳明月", "存疑", f"{when} 的走访记录存疑，待更正", f"负责人意见：{QUESTION}"]
    problems += helpers.check_screen(page, "amend-01-today")

    # The child's visit history: 存疑 with the note, and a 更正 action on the worker's own visit.
    _open_child(page, child_id)
    visits = page.get_by_test_id("visit")
    expect(visits).to_have_count(1)
    row = page.locator(f"[data-visit='{original['id']}']")
    assert row.locator("strong, .tag, .meta").all_inner_texts() == [
        when, NOTES, "存疑", "需跟进", f"负责人意见：{QUESTION}"]
    expect(row).not_to_have_class(re.compile("superseded"))
    problems += helpers.check_screen(page, "amend-02-child-questioned")
    row.get_by_role("link", name="更正").click()

    # The correction form, prefilled from the original, keeping its GPS fix.
    expect(page.get_by_role("heading", name="更正走访 欧阳明月")).to_be_visible()
    expect(page.get_by_test_id("review-note")).to_have_text(f"负责人意见：{QUESTION}")
    expect(page.get_by_test_id("gps")).to_have_text("沿用原记录的定位：29.13000, 113.20000，精度 ±15 米")
    expect(page.get_by_label("走访时间")).to_have_value(original["visited_at_local"].strftime("%Y-%m-%dT%H:%M:%S"))
    expect(page.get_by_role("group", name="监护人在家").get_by_label("否")).to_be_checked()
    expect(page.get_by_role("group", name="监护人在家").get_by_label("是")).not_to_be_checked()
    expect(page.get_by_role("group", name="在校就读").get_by_label("是")).to_be_checked()
    expect(page.get_by_role("group", name="身体有不明伤痕").locator("input:checked")).to_have_count(0)
    expect(page.get_by_label("父母外出时长（月，数字）")).to_have_value("8")
    needs = page.get_by_role("group", name=re.compile("^需要的帮扶"))
    assert [needs.get_by_label(x).is_checked() for x in ("生活", "医疗", "就学", "临时监护")] == [
        True, False, True, False]
    expect(page.get_by_label("走访情况")).to_have_value(NOTES)
    expect(page.get_by_label("需要跟进")).to_be_checked()
    expect(page.get_by_label("更正原因（必填）")).to_have_value("")
    problems += helpers.check_screen(page, "amend-03-form")

    # No reason: refused on the phone, nothing queued.
    page.get_by_role("button", name="保存更正").click()
    expect(page.get_by_test_id("amend").get_by_role("alert")).to_have_text("请写明更正原因")
    expect(page.get_by_label("更正原因（必填）")).to_be_focused()
    page.get_by_label("更正原因（必填）").fill("   ")
    page.get_by_role("button", name="保存更正").click()
    expect(page.get_by_test_id("amend").get_by_role("alert")).to_have_text("请写明更正原因")
    assert helpers.pending_ops(page) == []
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 0")

    # Saved offline: queued as a visit create naming the original, shown at once as pending.
    helpers.go_offline(context)
    ops = helpers.save_correction(page, REASON, "欧阳明月")
    amendment_id = ops[0]["id"]
    assert ops == [{"entity": "visit", "action": "create", "id": amendment_id, "base_version": None, "data": {
        "child_id": child_id, "visited_at": original["visited_at"], "template_version": 1, "answers": ANSWERS,
        "notes": NOTES, "follow_up": True, "amends": original["id"], "amend_reason": REASON,
        "lat": FIX["lat"], "lon": FIX["lon"], "accuracy_m": FIX["accuracy_m"]}}]
    expect(visits).to_have_count(2)
    expect(page.get_by_role("heading", name="走访记录（2）")).to_be_visible()
    fresh = page.locator(f"[data-visit='{amendment_id}']")
    assert fresh.locator("strong, .tag, .meta").all_inner_texts() == [
        when, NOTES, "更正", "待同步", "需跟进", f"更正原因：{REASON}"]
    expect(fresh.get_by_role("link", name="更正")).to_have_count(0)
    assert row.locator("strong, .tag, .meta").all_inner_texts() == [when, NOTES, "已更正", "需跟进"]
    expect(row).to_have_class(re.compile("superseded"))
    expect(row.get_by_role("link", name="更正")).to_have_count(0)
    assert visits.evaluate_all("(els) => els.map((e) => e.dataset.visit)") == [amendment_id, original["id"]]
    problems += helpers.check_screen(page, "amend-04-child-pending")
    page.locator("#nav").get_by_role("link", name="今日待办").click()
    expect(page.get_by_role("heading", name="今日待办")).to_be_visible()
    expect(page.get_by_test_id("questioned")).to_have_count(0)

    # Back online: the server has the correction and the to-do is done.
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page)
    listed = {v["id"]: v for v in worker.get(f"/api/visits?child_id={child_id}").get_json()["rows"]}
    assert set(listed) == {original["id"], amendment_id}
    amendment = listed[amendment_id]
    assert datetime.fromisoformat(amendment["visited_at"]) == original["visited_at_local"]
    assert {k: amendment[k] for k in ("child_id", "amends", "amend_reason", "answers", "notes", "follow_up",
                                      "lat", "lon", "accuracy_m", "template_version", "worker_id", "flags",
                                      "review_status")} == {
        "child_id": child_id, "amends": original["id"], "amend_reason": REASON, "answers": ANSWERS,
        "notes": NOTES, "follow_up": True, **FIX, "template_version": 1,
        "worker_id": live_server.ids.users["worker_a"], "flags": ["location_mismatch"],
        "review_status": "pending"}
    assert (listed[original["id"]]["review_status"], listed[original["id"]]["amends"]) == ("questioned", None)
    assert _questioned_tasks(worker) == (0, [])

    page.locator("#nav").get_by_role("link", name="今日待办").click()
    expect(page.get_by_role("heading", name="今日待办")).to_be_visible()
    expect(page.get_by_test_id("questioned")).to_have_count(0)
    _open_child(page, child_id)
    assert fresh.locator("strong, .tag, .meta").all_inner_texts() == [
        when, NOTES, "更正", "需跟进", f"更正原因：{REASON}"]
    expect(fresh.get_by_role("link", name="更正")).to_have_count(1)
    assert row.locator("strong, .tag, .meta").all_inner_texts() == [when, NOTES, "已更正", "需跟进"]
    expect(row).to_have_class(re.compile("superseded"))
    problems += helpers.check_screen(page, "amend-05-child-synced")
    context.close()
    assert problems == []


def test_a_correction_the_server_refuses_corrects_nothing(browser, live_server):
    """Until the worker fixes or gives up a refused correction, the questioned visit stands, on the
    child's page and in the to-do, and can be corrected again."""
    _, original = _questioned_visit(live_server)
    child_id = live_server.ids.children["a1"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.go_offline(context)
    _open_child(page, child_id)
    page.locator(f"[data-visit='{original['id']}']").get_by_role("link", name="更正").click()
    [op] = helpers.save_correction(page, REASON, "欧阳明月")
    row = page.locator(f"[data-visit='{original['id']}']")
    expect(row).to_have_class(re.compile("superseded"))  # corrected, as far as the phone knows yet

    helpers.refuse_in_push(page, "visit", "child_id")  # sent for a child the server does not know
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page, unsynced=1)
    _open_child(page, child_id)
    expect(page.locator(f"[data-visit='{op['id']}']").get_by_test_id("refused-tag")).to_have_text("被退回，待处理")
    expect(row).not_to_have_class(re.compile("superseded"))
    expect(row.locator(".tag")).to_have_text(["存疑", "需跟进"])
    expect(row.get_by_role("link", name="更正")).to_have_count(1)
    page.locator("#nav").get_by_role("link", name="今日待办").click()
    expect(page.get_by_test_id("questioned").get_by_role("heading")).to_have_text("走访记录存疑，待更正（1）")
    context.close()


def test_a_correction_takes_a_new_fix_only_when_asked(browser, live_server):
    worker = factories.ApiClient(live_server.app.test_client())
    worker.login("worker_a")
    child_id = live_server.ids.children["a1"]
    visited_at = datetime.now(TZ) - timedelta(hours=2)
    original = worker.post("/api/visits", json={"child_id": child_id, "visited_at": visited_at.isoformat(),
                                                "answers": {"in_school": True}, "notes": "补录走访"}).get_json()
    assert original["flags"] == ["no_location"]
    head = factories.ApiClient(live_server.app.test_client())
    head.login("head_a")
    assert head.post(f"/api/visits/{original['id']}/review",
                     json={"decision": "question", "note": "没有定位"}).status_code == 200
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    page.get_by_test_id("questioned").get_by_role("link", name=re.compile("^欧阳明月")).click()
    expect(page.get_by_role("heading", name="更正走访 欧阳明月")).to_be_visible()
    gps = page.get_by_test_id("gps")
    page.wait_for_timeout(500)
    expect(gps).to_have_text("原记录没有定位，更正也不带定位。")
    page.get_by_role("button", name="重新定位").click()
    expect(gps).to_have_text("已定位：29.11000, 113.20000，精度 ±12 米")
    page.get_by_label("更正原因（必填）").fill("当天忘记定位，今天在孩子家补定位")
    page.get_by_role("button", name="保存更正").click()
    # Exact: the correction form's own heading, 更正走访 欧阳明月, holds the name until the save ends.
    expect(page.get_by_role("heading", name="欧阳明月", exact=True)).to_be_visible()
    helpers.sync_now(page)
    helpers.wait_synced(page)
    rows = worker.get(f"/api/visits?child_id={child_id}").get_json()["rows"]
    amendment = next(v for v in rows if v["amends"] == original["id"])
    assert {k: amendment[k] for k in ("lat", "lon", "accuracy_m", "answers", "notes", "amend_reason")} == {
        "lat": 29.11, "lon": 113.2, "accuracy_m": 12, "answers": {"in_school": True}, "notes": "补录走访",
        "amend_reason": "当天忘记定位，今天在孩子家补定位"}
    assert datetime.fromisoformat(amendment["visited_at"]) == visited_at
    assert _questioned_tasks(worker) == (0, [])
    context.close()

    # The correction answers the head's question; the head, not the worker's correction, settles it.
    assert (amendment["flags"], amendment["review_status"]) == (["location_mismatch"], "pending")
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "head_a")
    page.locator("#nav").get_by_role("link", name="村务").click()
    page.get_by_role("link", name=re.compile("待审核走访")).click()
    expect(page.get_by_test_id("review-count")).to_have_text("共 1 条走访等待审核。")
    item = page.get_by_test_id("review-item")
    expect(item).to_have_attribute("data-visit", amendment["id"])
    expect(item.locator(".tag")).to_have_text(["更正", "定位与住址不符"])
    expect(item.get_by_test_id("review-amend")).to_have_text("当天忘记定位，今天在孩子家补定位")
    item.get_by_role("button", name="通过").click()
    expect(page.get_by_test_id("review-count")).to_have_text("没有待审核的走访。")
    assert head.get(f"/api/visits/{amendment['id']}").get_json()["review_status"] == "accepted"
    context.close()
