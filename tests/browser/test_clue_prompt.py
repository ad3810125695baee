"""Signs of abuse found on a visit prompt a clue (强制报告) at once, with the visit linked, offline
too; a prompt put off (稍后) waits in the worker's to-do until the clue is filed."""
from datetime import datetime, timedelta

from playwright.sync_api import expect

from server.extensions import db
from server.models import Clue, utcnow

from ..workflow.helpers import TZ
from . import helpers
from .conftest import PHONE
from .test_clue_handling import _api
from .test_offline import open_visit_form
from .test_todo_screens import open_today

MESSAGE = "本次走访发现疑似侵害迹象。依照强制报告制度，请立即报告线索。"
ADDRESS = "测试镇a1组2号槐花巷"
OFFLINE = "报告已保存在本机，联网后立即报送公安机关"
ONLINE = "报告已保存，正在报送公安机关"


def _missing(server) -> list[str]:
    """The visits worker_a's to-do on the server says wait for a clue."""
    tasks = _api(server, "worker_a").get("/api/tasks").get_json()["tasks"]
    return [t["entity_id"] for t in tasks if t["kind"] == "clue_missing"]


def _prompt(page, found: str):
    dialog = page.get_by_role("dialog", name="强制报告")
    expect(dialog).to_contain_text(f"{MESSAGE}发现：{found}。")
    expect(dialog.get_by_role("button")).to_have_text(["稍后", "立即报告线索"])
    return dialog


def _file_clue(page, visit_id: str, child_id: str, found: str, what: str, said: str) -> None:
    """On the clue form opened from the visit: prefilled and linked; add what was seen and send it."""
    expect(page.get_by_role("heading", name="强制报告", exact=True)).to_be_visible()
    assert page.evaluate("location.hash") == f"#/clue/{child_id}/{visit_id}"
    expect(page.get_by_test_id("clue-source")).to_contain_text("来自 欧阳明月 ")
    expect(page.get_by_label("发生了什么（必填）")).to_have_value(f"入户走访发现：{found}。")
    expect(page.get_by_label("涉及儿童（可选）")).to_have_value(child_id)
    expect(page.get_by_label("地点（可选）")).to_have_value(ADDRESS)
    page.get_by_label("发生了什么（必填）").fill(f"入户走访发现：{found}。{what}")
    page.get_by_role("button", name="提交报告").click()
    expect(page.locator("#toast")).to_have_text(said)


def test_a_visit_with_injuries_recorded_offline_prompts_a_clue_linked_to_it(browser, live_server):
    child_id = live_server.ids.children["a1"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    helpers.login(page, live_server.url, "worker_a")
    helpers.go_offline(context)

    open_visit_form(page, "欧阳明月")
    page.get_by_role("group", name="身体有不明伤痕").get_by_label("是").check()
    page.get_by_label("走访情况").fill("孩子手臂有多处淤青，说不清来由")
    page.get_by_role("button", name="保存走访").click()
    dialog = _prompt(page, "身体有不明伤痕")
    problems += helpers.check_screen(page, "clue-prompt-01-dialog")
    [visit_op] = helpers.pending_ops(page)
    dialog.get_by_role("button", name="立即报告线索").click()
    _file_clue(page, visit_op["id"], child_id, "身体有不明伤痕", "孩子说是邻居打的。", OFFLINE)
    # Back where the prompt found the worker.
    expect(page.get_by_role("heading", name="欧阳明月", exact=True)).to_be_visible()
    ops = helpers.pending_ops(page)
    assert [(o["entity"], o["id"]) for o in ops] == [("visit", visit_op["id"]), ("clue", ops[1]["id"])]
    assert (ops[1]["data"]["source_visit_id"], ops[1]["data"]["child_id"]) == (visit_op["id"], child_id)
    open_today(page)
    expect(page.get_by_test_id("clue-missing")).to_have_count(0)  # the clue waits to be sent with it

    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page)
    police = _api(live_server, "police")
    clue = police.get(f"/api/clues/{ops[1]['id']}").get_json()
    assert (clue["source_visit_id"], clue["child_id"], clue["place"], clue["description"]) == (
        visit_op["id"], child_id, ADDRESS, "入户走访发现：身体有不明伤痕。孩子说是邻居打的。")
    assert _missing(live_server) == []
    context.close()
    assert problems == []


def test_a_prompt_put_off_waits_in_the_to_do_and_a_correction_that_finds_signs_prompts(browser, live_server):
    child_id = live_server.ids.children["a1"]
    # The test town's clue about a1, filed a month ago, reports none of these visits.
    with live_server.app.app_context():
        db.session.get(Clue, live_server.ids.clues["a1"]).created_at = utcnow() - timedelta(days=30)
        db.session.commit()
    at = (datetime.now(TZ) - timedelta(hours=2)).isoformat()
    plain = _api(live_server, "worker_a").post("/api/visits", json={
        "child_id": child_id, "visited_at": at, "answers": {"in_school": True}, "lat": 29.1, "lon": 113.2,
        "accuracy_m": 10}).get_json()
    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    helpers.login(page, live_server.url, "worker_a")
    helpers.go_offline(context)

    # A correction that newly shows signs asks at once; 稍后 leaves the worker on the child's page.
    page.evaluate(f"location.hash = '#/visit/{child_id}/{plain['id']}'")
    page.get_by_role("group", name="有陌生成年人频繁接触或给予财物").get_by_label("是").check()
    helpers.save_correction(page, "补记：孩子说有陌生人常给零花钱", "欧阳明月")
    _prompt(page, "有陌生成年人频繁接触或给予财物").get_by_role("button", name="稍后").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("heading", name="欧阳明月", exact=True)).to_be_visible()
    [correction] = helpers.pending_ops(page)

    # Offline, the phone knows the correction it has not synced.
    open_today(page)
    todo = page.get_by_test_id("clue-missing")
    expect(todo.get_by_role("heading")).to_have_text("走访发现侵害迹象，尚未报告线索（1）")
    expect(todo.get_by_role("link")).to_have_attribute("href", f"#/clue/{child_id}/{correction['id']}")
    expect(todo.locator(".meta")).to_contain_text("走访发现：有陌生成年人频繁接触或给予财物")
    problems += helpers.check_screen(page, "clue-prompt-02-today")

    # Synced, the server's to-do says so; the worker files the clue from there.
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page)
    assert _missing(live_server) == [correction["id"]]
    open_today(page)
    expect(todo.get_by_role("link")).to_have_attribute("href", f"#/clue/{child_id}/{correction['id']}")
    todo.get_by_role("link").click()
    _file_clue(page, correction["id"], child_id, "有陌生成年人频繁接触或给予财物", "", ONLINE)
    # Back on the to-do: sent or still on its way, the clue takes the visit off it.
    expect(page.get_by_role("heading", name="今日待办")).to_be_visible()
    expect(page.get_by_test_id("clue-missing")).to_have_count(0)
    helpers.wait_synced(page)
    assert _missing(live_server) == []
    open_today(page)
    expect(page.get_by_test_id("clue-missing")).to_have_count(0)
    context.close()
    assert problems == []


def test_a_prompt_put_off_stays_in_the_to_do_after_the_child_moved_away(browser, live_server):
    """The worker put off the report; the head moved the child out of her grid and her phone let the
    child and the visit go. The server's to-do still lists the visit: the phone shows it by the
    server's title (the child she visited), opens the clue form linked to it, and the clue filed from
    there takes it off."""
    ids = live_server.ids
    child_id = ids.children["a1"]
    with live_server.app.app_context():
        db.session.get(Clue, ids.clues["a1"]).created_at = utcnow() - timedelta(days=30)
        db.session.commit()
    at = datetime.now(TZ) - timedelta(hours=2)
    hurt = _api(live_server, "worker_a").post("/api/visits", json={
        "child_id": child_id, "visited_at": at.isoformat(), "answers": {"injury_signs": True},
        "lat": 29.1, "lon": 113.2, "accuracy_m": 10}).get_json()
    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    helpers.login(page, live_server.url, "worker_a")
    helpers.wait_synced(page)
    moved = _api(live_server, "head_a").edit(f"/api/households/{ids.households['a1']}",
                                             {"grid_id": ids.grids["a2"]})
    assert moved.status_code == 200, moved.get_json()
    helpers.sync_now(page)
    helpers.wait_synced(page)
    held = "([c, v]) => import('./js/store.js').then((s) => [s.one('child', c), s.one('visit', v)])"
    assert page.evaluate(held, [child_id, hurt["id"]]) == [None, None]

    open_today(page)
    todo = page.get_by_test_id("clue-missing")
    expect(todo.get_by_role("heading")).to_have_text("走访发现侵害迹象，尚未报告线索（1）")
    expect(todo.locator("strong")).to_have_text("欧阳明月 走访发现侵害迹象，尚未报告线索")
    expect(todo.locator(".meta")).to_have_text(f"{at.strftime('%Y-%m-%d %H:%M')} 走访发现：身体有不明伤痕")
    expect(todo.get_by_role("link")).to_have_attribute("href", f"#/clue/{child_id}/{hurt['id']}")
    problems += helpers.check_screen(page, "clue-prompt-03-moved-away")
    todo.get_by_role("link").click()
    expect(page.get_by_role("heading", name="强制报告", exact=True)).to_be_visible()
    expect(page.get_by_test_id("clue-source")).to_have_text("来自您此前的走访记录，报告将与该走访关联。")
    expect(page.get_by_label("涉及儿童（可选）")).to_have_value("")
    page.get_by_label("发生了什么（必填）").fill("入户走访发现：身体有不明伤痕。")
    page.get_by_role("button", name="提交报告").click()
    expect(page.locator("#toast")).to_have_text(ONLINE)
    helpers.wait_synced(page)
    [clue] = [c for c in _api(live_server, "police").get("/api/clues").get_json()["rows"]
              if c["reporter_id"] == ids.users["worker_a"] and c["id"] != ids.clues["a1"]]
    assert (clue["source_visit_id"], clue["child_id"], clue["description"]) == (
        hurt["id"], None, "入户走访发现：身体有不明伤痕。")
    assert _missing(live_server) == []
    open_today(page)
    expect(page.get_by_test_id("clue-missing")).to_have_count(0)
    context.close()
    assert problems == []
