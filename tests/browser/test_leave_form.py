"""Leaving a half-filled form: a tab or the back button asks first; a save does not; the report
button sets the form aside, typing and all, for the worker to come back to."""
import re

from playwright.sync_api import expect

from . import helpers
from .conftest import PHONE
from .test_conflict import conflicted, open_conflict
from .test_offline import open_visit_form, shown
from .test_update import deploy_next_version, offered_update, update_from_another_tab

NAME = "欧阳明月"
TYPED = "母亲外出务工，祖母照料，写了一半"

# From now on, each screen drawn into #view, by its heading.
WATCH_DRAWS = """() => {
  window.drawnScreens = [];
  new MutationObserver((changes) => changes.forEach((c) => c.addedNodes.forEach((n) => {
    const title = n.querySelector && n.querySelector('h1');
    window.drawnScreens.push(title ? title.textContent : n.textContent);
  }))).observe(document.getElementById('view'), { childList: true });
}"""


def half_filled_visit(browser, live_server):
    """A worker's phone, offline, half-way through a visit: (context, page, the form's address)."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.go_offline(context)
    open_visit_form(page, NAME)
    page.get_by_role("group", name="在校就读").get_by_label("是").check()
    page.get_by_label("走访情况").fill(TYPED)
    page.get_by_label("走访情况").evaluate("(notes) => { notes.dataset.old = ''; }")
    return context, page, page.evaluate("location.hash")


def at_address(page, hash_: str) -> None:
    expect(page).to_have_url(re.compile(re.escape(hash_) + "$"))


def asked_to_leave(page):
    """The question the app asks before leaving unsaved typing."""
    dialog = page.get_by_role("dialog", name="离开此页？")
    expect(dialog).to_contain_text("填写的内容还没有保存，离开后将丢失。")
    return dialog


def still_filling(page, at: str) -> None:
    """Back on the visit form at its address, the same form with what was typed in it."""
    expect(page.get_by_role("dialog")).to_have_count(0)
    at_address(page, at)
    expect(page.get_by_label("走访情况")).to_have_value(TYPED)
    expect(page.get_by_role("group", name="在校就读").get_by_label("是")).to_be_checked()
    expect(page.locator("#view textarea[data-old]")).to_have_count(1)  # not drawn anew


def test_a_tab_on_a_half_filled_visit_asks_first(browser, live_server):
    context, page, at = half_filled_visit(browser, live_server)
    page.evaluate(WATCH_DRAWS)
    page.locator("#nav").get_by_role("link", name="今日待办").click()
    asked_to_leave(page).get_by_role("button", name="继续填写").click()
    still_filling(page, at)

    page.locator("#nav").get_by_role("link", name="今日待办").click()
    asked_to_leave(page).get_by_role("button", name="离开", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("今日待办")
    at_address(page, "#/today")
    assert page.evaluate("window.drawnScreens") == ["今日待办"]  # the form was never drawn again
    context.close()


def test_the_report_button_sets_a_half_filled_visit_aside_until_the_worker_is_back(browser, live_server):
    context, page, at = half_filled_visit(browser, live_server)
    page.get_by_role("link", name="强制报告").click()  # one tap, no question: the report comes first
    expect(page.get_by_role("heading", level=1)).to_have_text("强制报告")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.get_by_label("发生了什么（必填）").fill("孩子说晚上有陌生人来家里")
    page.get_by_role("button", name="提交报告").click()
    expect(page.locator("#toast")).to_have_text("报告已保存在本机，联网后立即报送公安机关")
    still_filling(page, at)

    page.get_by_role("link", name="强制报告").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("强制报告")
    page.go_back()  # an untouched report left: nothing to ask about, and the visit is as it was
    still_filling(page, at)

    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    ops = helpers.pending_ops(page)
    assert [(op["entity"], op["action"]) for op in ops] == [("clue", "create"), ("visit", "create")]
    assert ops[0]["data"]["description"] == "孩子说晚上有陌生人来家里"
    assert (ops[1]["data"]["notes"], ops[1]["data"]["answers"]["in_school"]) == (TYPED, True)
    context.close()


def test_leaving_the_report_anywhere_but_back_asks_for_the_work_set_aside(browser, live_server):
    context, page, at = half_filled_visit(browser, live_server)
    page.get_by_role("link", name="强制报告").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("强制报告")
    page.locator("#nav").get_by_role("link", name="登记").click()  # the report untouched, the visit not
    asked_to_leave(page).get_by_role("button", name="继续填写").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("强制报告")
    at_address(page, "#/clue")
    page.go_back()
    still_filling(page, at)

    page.get_by_role("link", name="强制报告").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("强制报告")
    page.locator("#nav").get_by_role("link", name="登记").click()
    asked_to_leave(page).get_by_role("button", name="离开", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登记家庭或儿童")
    page.evaluate(f"location.hash = '{at}'")  # the worker agreed to let the visit go: a fresh form
    expect(page.get_by_label("走访情况")).to_have_value("")
    expect(page.locator("#view textarea[data-old]")).to_have_count(0)
    context.close()


def test_updating_from_the_report_asks_for_the_work_set_aside(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.wait_installed(page)
    deploy_next_version(live_server)
    open_visit_form(page, NAME)
    page.get_by_label("走访情况").fill(TYPED)
    page.get_by_role("link", name="强制报告").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("强制报告")
    offered_update(page).get_by_role("button", name="更新").click()
    question = page.get_by_role("dialog", name="更新应用")
    expect(question).to_contain_text("正在填写的内容会暂存在本机，更新后回到原页面即可继续填写。建议先保存，再点“更新”。")
    question.get_by_role("button", name="取消").click()
    page.go_back()
    expect(page.get_by_label("走访情况")).to_have_value(TYPED)
    context.close()


def test_the_report_button_opens_the_report_while_the_form_holds_an_update_back(browser, live_server):
    """Another tab took a new version while this tab's visit was half-filled, so this tab waits
    for the visit; the report button opens the report, and the visit comes back after it."""
    context = browser.new_context(**PHONE)
    working = context.new_page()
    helpers.login(working, live_server.url, "worker_a")
    helpers.wait_installed(working)
    working.reload()  # now under the installed version, as every later start is
    helpers.unlock(working)
    other = context.new_page()
    other.goto(live_server.url + "/")
    helpers.unlock(other)
    deploy_next_version(live_server)
    open_visit_form(working, NAME)
    working.get_by_label("走访情况").fill(TYPED)
    update_from_another_tab(other, working)  # held back here for the visit
    working.evaluate("window.stillHere = true")
    working.get_by_role("link", name="强制报告").click()
    expect(working.get_by_role("heading", level=1)).to_have_text("强制报告")
    working.get_by_label("发生了什么（必填）").fill("孩子说晚上有陌生人来家里")
    working.get_by_role("button", name="提交报告").click()
    expect(working.get_by_label("走访情况")).to_have_value(TYPED)
    assert working.evaluate("window.stillHere === true")  # never reloaded under the worker
    context.close()


def test_the_back_button_on_a_half_filled_visit_asks_first(browser, live_server):
    context, page, at = half_filled_visit(browser, live_server)
    page.go_back()
    asked_to_leave(page).get_by_role("button", name="继续填写").click()
    still_filling(page, at)

    page.go_back()  # the child's screen is still the one behind the form
    asked_to_leave(page).get_by_role("button", name="离开", exact=True).click()
    expect(page.get_by_role("heading", name=shown(NAME))).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/child/[^/]+$"))
    page.go_forward()  # and the form's address the one after it, opening a new form
    at_address(page, at)
    expect(page.get_by_label("走访情况")).to_have_value("")
    expect(page.locator("#view textarea[data-old]")).to_have_count(0)
    context.close()


def test_a_saved_visit_and_a_filed_report_move_on_without_asking(browser, live_server):
    context, page, _ = half_filled_visit(browser, live_server)
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_role("heading", name=shown(NAME))).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)

    page.get_by_role("link", name="强制报告").click()
    page.get_by_label("发生了什么（必填）").fill("走访时发现的情况")
    page.get_by_role("button", name="提交报告").click()  # goes back in the history once saved
    expect(page.locator("#toast")).to_have_text("报告已保存在本机，联网后立即报送公安机关")
    expect(page.get_by_role("heading", name=shown(NAME))).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 2")
    context.close()


def test_a_conflict_settled_with_picks_made_moves_on_without_asking(browser, live_server):
    context, page, _, _, first = conflicted(browser, live_server)
    open_conflict(page)
    page.get_by_label(first["notes"]).check()
    expect(page.locator("#view form[data-dirty]")).to_have_count(1)
    page.get_by_role("button", name="按所选合并保存").click()
    expect(page.locator("#toast")).to_have_text("已采用服务器的记录")
    expect(page.get_by_role("heading", level=1)).to_have_text("同步状态")
    expect(page.get_by_role("dialog")).to_have_count(0)
    at_address(page, "#/sync")
    context.close()


def test_an_untouched_form_is_left_without_asking(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    open_visit_form(page, NAME)
    page.locator("#nav").get_by_role("link", name="今日待办").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("今日待办")
    expect(page.get_by_role("dialog")).to_have_count(0)

    page.get_by_role("link", name="强制报告").click()
    expect(page.get_by_label("发生了什么（必填）")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("今日待办")
    expect(page.get_by_role("dialog")).to_have_count(0)
    context.close()


def test_a_ledger_search_typed_is_left_without_asking(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "head_a")
    page.evaluate("location.hash = '#/ledgers/children'")
    page.get_by_role("searchbox").fill("欧阳")
    expect(page.locator("#view form[data-dirty]")).to_have_count(1)  # held from a sync's redraw
    page.locator("#nav").get_by_role("link", name="今日待办").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("今日待办")
    expect(page.get_by_role("dialog")).to_have_count(0)
    context.close()


def test_the_skip_link_moves_the_focus_and_leaves_the_form_where_it_is(browser, live_server):
    context, page, at = half_filled_visit(browser, live_server)
    page.get_by_role("link", name="跳到正文").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#view")).to_be_focused()
    expect(page.get_by_role("dialog")).to_have_count(0)
    still_filling(page, at)
    context.close()
