"""Saving forms: a double tap saves once, a refused save keeps what was typed, free text fits the server."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Child, Clue, Visit

from . import helpers
from .conftest import PHONE
from .test_clue_handling import NOTE, _api, _file
from .test_offline import open_visit_form, shown
from .test_register import register


def stored(live_server, model, column: str) -> list[str]:
    with live_server.app.app_context():
        values = [getattr(row, column) for row in db.session.scalars(select(model))]
        db.session.remove()
        return values


def typed(page, label: str) -> int:
    """How many characters the field labelled `label` holds (a long text would flood a failure)."""
    return len(page.get_by_label(label).input_value())


def sync_back_online(context, page) -> None:
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page)


def test_a_double_tap_on_save_visit_saves_one_visit(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.go_offline(context)
    open_visit_form(page, "欧阳明月")
    page.get_by_label("走访情况").fill("一次走访")
    page.get_by_role("button", name="保存走访").dblclick()
    expect(page.get_by_role("heading", name=shown("欧阳明月"))).to_be_visible()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    assert [op["entity"] for op in helpers.pending_ops(page)] == ["visit"]
    sync_back_online(context, page)
    context.close()
    assert stored(live_server, Visit, "notes").count("一次走访") == 1


def test_a_double_tap_on_file_report_files_one_report(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.go_offline(context)
    page.get_by_role("link", name="强制报告").click()
    page.get_by_label("发生了什么（必填）").fill("只报一次的线索")
    page.get_by_role("button", name="提交报告").dblclick()
    expect(page.locator("#toast")).to_have_text("报告已保存在本机，联网后立即报送公安机关")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    sync_back_online(context, page)
    context.close()
    assert stored(live_server, Clue, "description").count("只报一次的线索") == 1


def offline_on_child(browser, live_server):
    """A worker's phone, offline, on a child's screen."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.go_offline(context)
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("link", name=shown("欧阳明月")).click()
    expect(page.get_by_label("备注")).to_be_visible()
    return context, page


def test_a_double_tap_on_save_notes_queues_one_edit(browser, live_server):
    context, page = offline_on_child(browser, live_server)
    page.get_by_label("备注").fill("只存一次的备注")
    page.get_by_role("button", name="保存备注").dblclick()
    expect(page.get_by_text("有未同步的修改")).to_be_visible()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    assert [op["data"] for op in helpers.pending_ops(page)] == [{"notes": "只存一次的备注"}]
    # Redrawn once saved: the note shows, and the form takes the next one.
    expect(page.get_by_label("备注")).to_have_value("只存一次的备注")
    expect(page.get_by_role("button", name="保存备注")).to_be_enabled()
    expect(page.locator("#view form[data-dirty]")).to_have_count(0)
    # A tap that lands on the redrawn form, or any save of the same text, queues nothing.
    page.get_by_role("button", name="保存备注").click()
    expect(page.locator("#toast")).to_have_text("备注已是最新")
    expect(page.get_by_role("button", name="保存备注")).to_be_enabled()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    sync_back_online(context, page)
    context.close()
    assert stored(live_server, Child, "notes").count("只存一次的备注") == 1


def test_saving_empty_notes_on_a_child_without_notes_queues_nothing(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.go_offline(context)
    register(page, "王小禾")  # no notes: the phone holds none for it
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 2")  # the household and the child
    page.get_by_role("link", name=re.compile("王小禾")).click()
    expect(page.get_by_label("备注")).to_have_value("")
    page.get_by_role("button", name="保存备注").click()
    expect(page.locator("#toast")).to_have_text("备注已是最新")
    expect(page.get_by_role("button", name="保存备注")).to_be_enabled()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 2")
    assert [op["entity"] for op in helpers.pending_ops(page)] == ["household", "child"]
    # Typed and put back: still nothing to save, and the form no longer holds back a redraw.
    page.get_by_label("备注").fill("草稿")
    page.get_by_label("备注").fill("")
    page.get_by_role("button", name="保存备注").click()
    expect(page.locator("#toast")).to_have_text("备注已是最新")
    expect(page.locator("#view form[data-dirty]")).to_have_count(0)
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 2")
    context.close()


def test_closing_a_clue_submitted_twice_asks_once_and_stays_unsaved_until_the_server_has_it(
        browser, live_server):
    filed = _file(live_server)[0]
    assert _api(live_server, "police").post(f"/api/clues/{filed}/receive").status_code == 200
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "police")
    held = []
    context.route("**/api/clues/*/close", lambda route: held.append(route))
    page.locator("#nav").get_by_role("link", name="线索").click()
    card = page.get_by_test_id("clues-received").locator(f"[data-clue='{filed}']")
    card.get_by_label("不予立案").check()
    card.get_by_label("处理情况（必填）").fill(NOTE)
    form = card.get_by_test_id("close-form")
    form.evaluate("(f) => { f.requestSubmit(); f.requestSubmit(); }")  # a double tap
    expect(page.locator("dialog")).to_have_count(1)
    page.get_by_role("dialog").get_by_role("button", name="办结").click()
    for _ in range(200):  # until the close is sent (and held, unanswered)
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1
    # Sent but not answered: a sync redrawing the page now would lose the note.
    expect(form).to_have_attribute("data-dirty", "")
    expect(form.get_by_role("button", name="办结")).to_be_disabled()
    held[0].continue_()
    expect(page.locator("#toast")).to_have_text("线索已办结")
    card = page.get_by_test_id("clues-closed").locator(f"[data-clue='{filed}']")
    expect(card.get_by_test_id("clue-note")).to_have_text(NOTE)
    page.wait_for_timeout(300)
    assert len(held) == 1
    context.close()


# A store listener added after the app's runs right after the app's own: the app has found no form
# holding typing and started to redraw the screen, which it has not yet drawn.
TYPE_AS_A_RELOAD_REDRAWS = """async (text) => {
  const store = await import('/js/store.js');
  const off = store.onChange(() => {
    off();
    const notes = document.querySelector('#view textarea[name="notes"]');
    notes.value = text;
    notes.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await store.load();
  await new Promise((r) => setTimeout(r, 300));
}"""


def test_typing_that_starts_as_a_sync_redraws_the_screen_is_kept(browser, live_server):
    context, page = offline_on_child(browser, live_server)
    page.evaluate(TYPE_AS_A_RELOAD_REDRAWS, "刚开始写的备注")
    expect(page.get_by_label("备注")).to_have_value("刚开始写的备注")
    page.get_by_role("button", name="保存备注").click()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    assert [op["data"] for op in helpers.pending_ops(page)] == [{"notes": "刚开始写的备注"}]
    # Saved, the form no longer holds the screen: the next reload draws it anew, with the note.
    page.get_by_label("备注").evaluate("(notes) => { notes.dataset.old = ''; }")
    page.evaluate("import('/js/store.js').then((s) => s.load())")
    expect(page.locator("#view textarea[data-old]")).to_have_count(0)
    expect(page.get_by_text("有未同步的修改")).to_be_visible()
    expect(page.get_by_label("备注")).to_have_value("刚开始写的备注")
    context.close()


def test_a_refused_registration_keeps_what_was_typed_through_a_sync(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    page.locator("#nav").get_by_role("link", name="登记").click()
    page.get_by_label("儿童姓名").fill("李未登记")
    page.get_by_label("身份证号（可不填）").fill("430100201501010028")
    page.get_by_label("监护人电话").fill("13800000000")
    page.get_by_role("button", name="保存登记").click()
    expect(page.get_by_role("alert").filter(has_text="请选择网格并填写住址")).to_be_visible()
    with page.expect_response(re.compile(r"/api/sync/pull")):
        page.evaluate("dispatchEvent(new Event('online'))")
    expect(page.locator("#status .busy")).to_have_count(0, timeout=helpers.TIMEOUT)
    page.wait_for_timeout(300)  # the store's reload after the sync would re-render a clean form
    expect(page.get_by_label("儿童姓名")).to_have_value("李未登记")
    expect(page.get_by_label("身份证号（可不填）")).to_have_value("430100201501010028")
    expect(page.get_by_label("监护人电话")).to_have_value("13800000000")

    page.get_by_label("家庭住址").fill("测试镇改正组1号")
    page.get_by_role("button", name="保存登记").click()
    expect(page.get_by_role("heading", name="我的儿童")).to_be_visible()
    helpers.sync_now(page)
    helpers.wait_synced(page)
    context.close()
    assert stored(live_server, Child, "name").count("李未登记") == 1


def test_free_text_is_cut_to_what_the_server_takes(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.go_offline(context)
    open_visit_form(page, "欧阳明月")
    page.get_by_label("走访情况").fill("长" * 5000)
    assert typed(page, "走访情况") == 4000
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_role("heading", name=shown("欧阳明月"))).to_be_visible()
    page.get_by_label("备注").fill("注" * 3000)
    assert typed(page, "备注") == 2000
    page.get_by_role("button", name="保存备注").click()
    expect(page.get_by_text("有未同步的修改")).to_be_visible()
    page.get_by_role("link", name="强制报告").click()
    page.get_by_label("发生了什么（必填）").fill("报" * 4500)
    assert typed(page, "发生了什么（必填）") == 4000
    page.get_by_role("button", name="提交报告").click()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 3")
    sync_back_online(context, page)  # nothing refused: every op fits
    context.close()
    kept = ("长" * 4000 in stored(live_server, Visit, "notes"),
            "注" * 2000 in stored(live_server, Child, "notes"),
            "报" * 4000 in stored(live_server, Clue, "description"))
    assert kept == (True, True, True)


def slow_phone(browser, live_server, offline: bool = True):
    """A worker's phone whose saves wait for `helpers.release_saves` once `save_held` began one."""
    context = browser.new_context(**PHONE)
    context.add_init_script(helpers.HOLD_SAVES)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    if offline:
        helpers.go_offline(context)
    return context, page


def save_held(page, button: str) -> None:
    """Press `button` with the phone's saves held: the save runs, and waits for `helpers.release_saves`."""
    helpers.hold_saves(page)
    page.get_by_role("button", name=button).click()
    expect(page.get_by_role("button", name=button)).to_be_disabled()


def queued_notes(page) -> list[tuple]:
    return [(op["entity"], op["data"].get("notes") or op["data"].get("description"))
            for op in helpers.pending_ops(page)]


def release_and_stay(page, saved: str, at: str, field: str, typed: str, queued: tuple) -> None:
    """Let the held save end: it saves `queued`, and the worker stays at `at`, `typed` kept in `field`."""
    helpers.release_saves(page)
    expect(page.locator("#toast")).to_have_text(saved)
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    assert page.evaluate("location.hash") == at
    expect(page.get_by_label(field)).to_have_value(typed)
    assert queued_notes(page) == [queued]


def test_a_save_that_ends_after_the_worker_moved_on_leaves_the_next_form_alone(browser, live_server):
    context, page = slow_phone(browser, live_server)
    open_visit_form(page, "欧阳明月")
    page.get_by_label("走访情况").fill("慢手机上的走访")
    save_held(page, "保存走访")
    # Not waiting for it, the worker opens the report form and starts writing.
    page.get_by_role("link", name="强制报告").click()
    page.get_by_label("发生了什么（必填）").fill("保存走访时开始写的线索")
    # The save that ended meanwhile took the worker back to the child's screen, losing the report.
    release_and_stay(page, "走访已保存在本机，待同步", "#/clue", "发生了什么（必填）", "保存走访时开始写的线索",
                     ("visit", "慢手机上的走访"))
    context.close()


def test_a_report_that_ends_after_the_worker_moved_on_leaves_the_visit_form_alone(browser, live_server):
    context, page = slow_phone(browser, live_server)
    page.get_by_role("link", name="强制报告").click()
    page.get_by_label("发生了什么（必填）").fill("慢手机上的线索")
    save_held(page, "提交报告")
    open_visit_form(page, "欧阳明月")
    page.get_by_label("走访情况").fill("报告保存时开始写的走访")
    at = page.evaluate("location.hash")
    # The report's save used to go back in the history, from the visit form to the child.
    release_and_stay(page, "报告已保存在本机，联网后立即报送公安机关", at, "走访情况", "报告保存时开始写的走访",
                     ("clue", "慢手机上的线索"))
    context.close()


def test_a_save_that_ends_after_its_screen_was_opened_anew_leaves_the_new_form_alone(browser, live_server):
    context, page = slow_phone(browser, live_server)
    open_visit_form(page, "欧阳明月")
    page.get_by_label("走访情况").fill("第一次走访")
    at = page.evaluate("location.hash")
    save_held(page, "保存走访")
    page.go_back()  # the child's screen, then a new visit form at the same address
    page.get_by_role("link", name="记录走访").click()
    expect(page.get_by_role("button", name="保存走访")).to_be_enabled()
    page.get_by_label("走访情况").fill("又开始写的走访")
    release_and_stay(page, "走访已保存在本机，待同步", at, "走访情况", "又开始写的走访",
                     ("visit", "第一次走访"))
    context.close()


def test_a_save_that_ends_while_the_next_screen_is_drawn_leaves_the_worker_there(browser, live_server):
    context, page = slow_phone(browser, live_server, offline=False)
    open_visit_form(page, "欧阳明月")
    page.get_by_label("走访情况").fill("下一页还在加载时保存完的走访")
    asked = []
    context.route("**/api/tasks", lambda route: asked.append(route))  # the next screen waits on the network
    save_held(page, "保存走访")
    page.evaluate("location.hash = '#/plans'")
    for _ in range(100):  # until that screen is being drawn: its address shown, the form still on the page
        if asked:
            break
        page.wait_for_timeout(100)
    assert len(asked) == 1
    helpers.release_saves(page)
    expect(page.locator("#toast")).to_have_text("走访已保存在本机，待同步")
    asked[0].continue_()
    expect(page.get_by_role("heading", level=1)).to_have_text("帮扶计划")
    assert page.evaluate("location.hash") == "#/plans"
    context.close()


def test_a_sync_while_the_next_screen_is_drawn_takes_the_worker_there_past_the_form_left(
        browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("link", name=shown("欧阳明月")).click()
    expect(page.get_by_label("备注")).to_be_visible()
    holding = [True]
    held = []
    context.route("**/api/tasks", lambda route: held.append(route) if holding[0] else route.continue_())
    with page.expect_request("**/api/tasks"):  # the next screen waits on the network
        page.evaluate("location.hash = '#/plans'")
    with page.expect_request("**/api/tasks"):  # a sync's reload redraws it: the screen it draws waits too
        page.evaluate("dispatchEvent(new Event('online'))")
    # Still on the child's screen meanwhile, the worker types into the form left behind.
    page.get_by_label("备注").fill("离开前写的备注")
    holding[0] = False
    for route in held:
        route.continue_()
    expect(page.get_by_role("heading", level=1)).to_have_text("帮扶计划")
    assert page.evaluate("location.hash") == "#/plans"
    context.close()
