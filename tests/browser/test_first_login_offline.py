"""Out of coverage right after the first login, before the service worker has stored the app."""
from playwright.sync_api import expect

from server.models import Visit

from . import helpers
from .conftest import PHONE
from .shell import precached
from .test_forms import stored
from .test_offline import record_visit

SCRIPTS = [p for p in precached() if p.startswith("/js/")]  # every screen, and what they import
WORKER_TABS = {"我的儿童": "我的儿童", "登记": "登记家庭或儿童", "同步": "同步状态", "今日待办": "今日待办"}


def not_installed(browser):
    """A phone whose service worker has not stored the app yet (it never will here)."""
    context = browser.new_context(**PHONE)
    context.route("**/sw.js", lambda route: route.abort())
    return context


def wait_fetched(page, paths: list[str]) -> None:
    """Wait until the page has fetched every one of `paths`."""
    script = "(paths) => paths.every((p) => performance.getEntriesByType('resource')" \
             ".some((e) => new URL(e.name).pathname === p))"
    page.wait_for_function(script, arg=paths, timeout=helpers.TIMEOUT)


def test_every_screen_opens_offline_after_the_first_login_before_the_app_is_stored(browser, live_server):
    context = not_installed(browser)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    wait_fetched(page, SCRIPTS)
    helpers.go_offline(context, installed=False)
    for tab, heading in WORKER_TABS.items():
        page.locator("#nav").get_by_role("link", name=tab).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    record_visit(page, "欧阳明月", "首次登录后离线走访")
    page.get_by_role("link", name="强制报告").click()
    expect(page.get_by_label("发生了什么（必填）")).to_be_visible()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page)
    context.close()
    assert stored(live_server, Visit, "notes").count("首次登录后离线走访") == 1


def test_a_screen_the_phone_never_fetched_says_so_offline_and_opens_back_in_coverage(browser, live_server):
    context = not_installed(browser)
    context.route("**/js/views/sync.js", lambda route: route.abort("internetdisconnected"))
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    # The blocked screen, and what only it imports.
    wait_fetched(page, [p for p in SCRIPTS if p not in ("/js/views/sync.js", "/js/discard.js")])
    helpers.go_offline(context, installed=False)
    page.locator("#nav").get_by_role("link", name="同步").click()
    expect(page.get_by_role("alert")).to_have_text("这个页面还没有下载到本机，需要联网后才能打开。已保存的记录不受影响。")
    expect(page.get_by_role("heading", level=1)).to_have_text("无法打开")
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的儿童")
    context.unroute("**/js/views/sync.js")
    helpers.go_online(context)
    page.locator("#nav").get_by_role("link", name="同步").click()  # back in coverage it opens
    expect(page.get_by_role("heading", level=1)).to_have_text("同步状态")
    context.close()
