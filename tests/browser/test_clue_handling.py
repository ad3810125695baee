"""The police station receives a clue on the phone and closes it; the town office reads it back."""
import uuid
from datetime import datetime, timedelta

from playwright.sync_api import expect

from .. import factories
from ..workflow.helpers import TZ
from . import helpers
from .conftest import PHONE

FILED = {"description": "发现陌生成年人多次在校门口接触孩子", "place": "村小学门口"}
CORRECTION = {"description": "发现可疑成年人多次接触，地点在村口小卖部", "place": "村口小卖部",
              "amend_reason": "补充地点"}
NOTE = "经走访核实系亲属探望，不予立案"


def _shown(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(TZ).strftime("%Y-%m-%d %H:%M")


def _file(server) -> tuple[str, str, str]:
    """worker_a files a clue, corrects the test town's own clue (also hers), and files another; all new."""
    worker = factories.ApiClient(server.app.test_client())
    worker.login("worker_a")
    filed, corrected, later = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    happened = (datetime.now(TZ) - timedelta(hours=3)).isoformat()
    for body in ({"id": filed, "child_id": server.ids.children["a1"], "happened_at": happened, **FILED},
                 {"id": corrected, "child_id": server.ids.children["a1"], "amends": server.ids.clues["a1"],
                  **CORRECTION},
                 {"id": later, "description": "网吧有未成年人深夜上网", "place": "镇上网吧"}):
        answer = worker.post("/api/clues", json=body)
        assert answer.status_code == 201, answer.get_json()
    return filed, corrected, later


def _api(server, username: str) -> factories.ApiClient:
    api = factories.ApiClient(server.app.test_client())
    api.login(username)
    return api


def _clues_screen(page):
    page.locator("#nav").get_by_role("link", name="线索").click()
    expect(page.get_by_role("heading", name="线索", exact=True)).to_be_visible()


def _facts(card) -> list[str]:
    return card.locator("dt").all_inner_texts() + card.locator("dd").all_inner_texts()


def test_the_police_receive_and_close_a_clue_and_the_town_office_reads_it(browser, live_server):
    filed, corrected, later = _file(live_server)
    original = live_server.ids.clues["a1"]
    police = _api(live_server, "police")
    tasks = police.get("/api/tasks").get_json()
    assert tasks["counts"]["clue_new"] == 3
    assert [t["title"] for t in tasks["tasks"] if t["kind"] == "clue_new"] == ["3 条线索待受理"]
    clue = police.get(f"/api/clues/{filed}").get_json()
    assert (clue["status"], clue["place"], clue["received_at"], clue["outcome"]) == (
        "new", "村小学门口", None, None)

    context = browser.new_context(**PHONE)
    page = context.new_page()
    closes = []
    page.on("request", lambda r: closes.append(r.url) if r.url.endswith("/close") else None)
    problems = []
    helpers.login(page, live_server.url, "police")
    expect(page.locator("#nav").get_by_role("link")).to_have_text(["今日待办", "我的场所", "线索", "同步"])
    todo = page.get_by_test_id("clues-waiting")
    expect(todo.get_by_role("link")).to_have_text("3 条线索待受理")
    problems += helpers.check_screen(page, "clues-01-police-today")
    todo.get_by_role("link").click()
    expect(page.get_by_role("heading", name="线索", exact=True)).to_be_visible()
    expect(page.get_by_text("由派出所受理和办结")).to_have_count(0)

    waiting = page.get_by_test_id("clues-new")
    expect(waiting.locator("h2")).to_have_text("待受理（3）")
    expect(page.get_by_test_id("clues-received")).to_have_count(0)
    expect(page.get_by_test_id("clues-closed")).to_have_count(0)
    cards = waiting.get_by_test_id("clue")
    assert [cards.nth(i).get_attribute("data-clue") for i in range(3)] == [later, corrected, filed]
    card = page.locator(f"[data-clue='{filed}']")
    expect(card.get_by_test_id("clue-status")).to_have_text("待受理")
    expect(card.locator("h3")).to_have_text(f"{_shown(clue['created_at'])} 报告")
    # The police hold no child records: the clue says whom it is about, as the register had the child.
    assert _facts(card) == ["发生时间", "地点", "涉及儿童", "情况", _shown(clue["happened_at"]), "村小学门口",
                            "欧阳明月，女，2015-01-01 出生，测试A村，测试镇a1组2号槐花巷", FILED["description"]]
    expect(card.get_by_role("button")).to_have_text(["受理"])
    fix = page.locator(f"[data-clue='{corrected}']")
    expect(fix.get_by_test_id("clue-amend")).to_have_text("更正：补充地点")
    expect(fix.get_by_test_id("clue-replaced")).to_have_count(0)
    old = page.get_by_test_id("clues-replaced").locator(f"[data-clue='{original}']")
    expect(page.get_by_test_id("clues-replaced").locator("h2")).to_have_text("已被更正（1）")
    expect(old.get_by_test_id("clue-replaced")).to_have_text("已被更正")
    expect(old).to_have_class("card superseded")
    expect(old.get_by_role("button")).to_have_count(0)
    expect(old.get_by_test_id("clue-place")).to_have_text("未填写")
    problems += helpers.check_screen(page, "clues-02-police-new")

    card.get_by_role("button", name="受理").click()
    expect(page.locator("#toast")).to_have_text("已受理")
    card = page.get_by_test_id("clues-received").locator(f"[data-clue='{filed}']")
    expect(card.get_by_test_id("clue-status")).to_have_text("已受理")
    expect(waiting.locator("h2")).to_have_text("待受理（2）")
    received = police.get(f"/api/clues/{filed}").get_json()
    assert (received["status"], received["received_by"], received["version"]) == (
        "received", live_server.ids.users["police"], 2)
    assert _facts(card)[-1] == _shown(received["received_at"])
    expect(card.get_by_role("group", name="办理结果").get_by_role("radio")).to_have_count(4)
    expect(card.locator("fieldset label")).to_have_text(["立案侦查", "不予立案", "移交其他部门", "其他"])
    problems += helpers.check_screen(page, "clues-03-police-received")

    close = card.get_by_role("button", name="办结")
    close.click()
    expect(card.get_by_role("alert")).to_have_text("请选择办理结果")
    card.get_by_label("不予立案").check()
    close.click()
    expect(card.get_by_role("alert")).to_have_text("请写明处理情况")
    card.get_by_label("处理情况（必填）").fill("   ")
    close.click()
    expect(card.get_by_role("alert")).to_have_text("请写明处理情况")
    assert closes == []
    assert police.get(f"/api/clues/{filed}").get_json()["status"] == "received"

    card.get_by_label("处理情况（必填）").fill(NOTE)
    close.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("办理结果：不予立案。办结后不能再修改，确定办结？")
    dialog.get_by_role("button", name="办结").click()
    expect(page.locator("#toast")).to_have_text("线索已办结")
    card = page.get_by_test_id("clues-closed").locator(f"[data-clue='{filed}']")
    expect(card.get_by_test_id("clue-status")).to_have_text("已办结")
    expect(card.get_by_test_id("clue-outcome")).to_have_text("不予立案")
    expect(card.get_by_test_id("clue-note")).to_have_text(NOTE)
    expect(card.get_by_role("button")).to_have_count(0)
    assert len(closes) == 1
    closed = police.get(f"/api/clues/{filed}").get_json()
    assert (closed["status"], closed["outcome"], closed["outcome_note"], closed["version"]) == (
        "closed", "no_case", NOTE, 3)
    assert _facts(card)[-4:] == [_shown(received["received_at"]), _shown(closed["closed_at"]), "不予立案", NOTE]
    problems += helpers.check_screen(page, "clues-04-police-closed")

    # Someone at the station received it meanwhile: the server's words, and the card catches up.
    assert police.post(f"/api/clues/{corrected}/receive").status_code == 200
    fix = page.locator(f"[data-clue='{corrected}']")
    fix.get_by_role("button", name="受理").click()
    expect(page.locator("#toast")).to_have_text("该线索已受理，请刷新")
    fix = page.get_by_test_id("clues-received").locator(f"[data-clue='{corrected}']")
    expect(fix.get_by_test_id("clue-status")).to_have_text("已受理")
    expect(page.get_by_test_id("clues-new").locator("h2")).to_have_text("待受理（1）")

    # Offline the list and the to-do still open from the phone; the action needs the network.
    helpers.go_offline(context)
    page.locator("#nav").get_by_role("link", name="今日待办").click()
    expect(page.get_by_test_id("clues-waiting").get_by_role("link")).to_have_text("1 条线索待受理")
    _clues_screen(page)
    last = page.locator(f"[data-clue='{later}']")
    last.get_by_role("button", name="受理").click()
    expect(last.get_by_role("alert")).to_have_text("此页面需要联网。当前离线，请到有信号的地方再打开。")
    expect(last.get_by_test_id("clue-status")).to_have_text("待受理")
    expect(last.get_by_role("button", name="受理")).to_be_enabled()
    context.close()

    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "admin")
    expect(page.get_by_test_id("clues-waiting")).to_have_count(0)
    _clues_screen(page)
    expect(page.get_by_text("由派出所受理和办结")).to_be_visible()
    expect(page.locator("#view button")).to_have_count(0)
    expect(page.locator("#view form")).to_have_count(0)
    expect(page.get_by_test_id("clues-new").locator("h2")).to_have_text("待受理（1）")
    expect(page.get_by_test_id("clues-received").locator("h2")).to_have_text("已受理（1）")
    card = page.get_by_test_id("clues-closed").locator(f"[data-clue='{filed}']")
    expect(card.get_by_test_id("clue-status")).to_have_text("已办结")
    labels = ["发生时间", "地点", "涉及儿童", "情况", "受理时间", "办结时间", "办理结果", "处理情况"]
    values = [_shown(clue["happened_at"]), "村小学门口", "欧**月", FILED["description"],
              _shown(received["received_at"]), _shown(closed["closed_at"]), "不予立案", NOTE]
    assert _facts(card) == labels + values
    fix, old = page.locator(f"[data-clue='{corrected}']"), page.locator(f"[data-clue='{original}']")
    expect(fix.get_by_test_id("clue-amend")).to_have_text("更正：补充地点")
    expect(old.get_by_test_id("clue-replaced")).to_have_text("已被更正")
    expect(old.get_by_test_id("clue-status")).to_have_text("待受理")
    problems += helpers.check_screen(page, "clues-05-admin")
    context.close()
    assert problems == []
