"""A new release: '有新版本' is offered, taken on request, and no unsynced entry is lost."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.js_comments import without_comments
from server.models import Visit

from .. import factories
from . import helpers
from .conftest import PHONE
from .shell import PWA
from .test_offline import record_visit


def deploy_next_version(live_server) -> int:
    """Serve a release one version newer than the installed one; return its number."""
    sw = (PWA / "sw.js").read_text(encoding="utf-8")
    current = int(re.search(r"const VERSION = 'v(\d+)';", sw).group(1))
    live_server.overrides["/sw.js"] = sw.replace(f"const VERSION = 'v{current}';",
                                                 f"const VERSION = 'v{current + 1}';").encode()
    return current + 1


def update_from_another_tab(other, working) -> None:
    """Take the offered update in `other`; return once the new version has taken over `working`
    too, after the app's own handler there has reloaded it or held it back for a form."""
    working.evaluate("navigator.serviceWorker.addEventListener('controllerchange', "
                     "() => { window.tookOver = true; })")
    with other.expect_navigation():
        offered_update(other).get_by_role("button", name="更新").click()
    working.wait_for_function("window.tookOver === true")


def offered_update(page):
    """Have the page look for a new release; return the 有新版本 banner it shows."""
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update()).then(() => true)")
    banner = page.get_by_role("alert").filter(has_text="有新版本")
    expect(banner).to_be_visible(timeout=helpers.TIMEOUT)
    return banner


def half_fill_visit(page, note: str) -> None:
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("link", name=re.compile("欧阳明月")).click()
    page.get_by_role("link", name="记录走访").click()
    page.get_by_label("走访情况").fill(note)


def test_new_version_keeps_unsynced_entries(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.wait_installed(page)
    context.route("**/api/sync/**", lambda route: route.abort("internetdisconnected"))
    record_visit(page, "欧阳明月", "更新前保存的走访")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")

    newer = deploy_next_version(live_server)
    banner = offered_update(page)
    with page.expect_navigation():
        banner.get_by_role("button", name="更新").click()
    helpers.unlock(page)
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    assert page.evaluate("caches.keys()") == [f"hulei-shell-v{newer}"]

    context.unroute("**/api/sync/**")
    helpers.sync_now(page)
    helpers.wait_synced(page)
    context.close()
    with live_server.app.app_context():
        assert [v.notes for v in db.session.scalars(select(Visit))] == ["更新前保存的走访"]


def test_unlocking_does_not_mix_an_unaccepted_release_into_the_installed_version(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.wait_installed(page)
    installed = without_comments((PWA / "js" / "ui.js").read_text(encoding="utf-8"))  # as served
    newer = installed + "\n// a newer release's ui.js\n"
    live_server.overrides["/js/ui.js"] = newer.encode()  # deployed; this phone has not taken it
    page.reload()
    helpers.unlock(page)  # asks the worker to fill in missing shell files
    cached = """async () => {
      const cache = await caches.open((await caches.keys())[0]);
      await new Promise((done) => setTimeout(done, 1000));
      return (await cache.match('/js/ui.js')).text();
    }"""
    assert page.evaluate(cached) == installed
    page.evaluate("""async () => {
      const cache = await caches.open((await caches.keys())[0]);
      await cache.delete('/css/app.css');
    }""")
    page.reload()
    helpers.unlock(page)
    filled = """async () => {
      const cache = await caches.open((await caches.keys())[0]);
      for (let i = 0; i < 50 && !(await cache.match('/css/app.css')); i++) {
        await new Promise((done) => setTimeout(done, 100));
      }
      return Boolean(await cache.match('/css/app.css'));
    }"""
    assert page.evaluate(filled) is True  # what was missing is fetched again
    context.close()


def test_updating_with_a_form_half_filled_asks_first(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.wait_installed(page)
    newer = deploy_next_version(live_server)
    half_fill_visit(page, "写了一半")
    banner = offered_update(page)
    banner.get_by_role("button", name="更新").click()
    page.get_by_role("dialog").get_by_role("button", name="取消").click()
    expect(page.get_by_label("走访情况")).to_have_value("写了一半")
    with page.expect_navigation():
        banner.get_by_role("button", name="更新").click()
        page.get_by_role("dialog").get_by_role("button", name="仍然更新").click()
    helpers.unlock(page)
    assert page.evaluate("caches.keys()") == [f"hulei-shell-v{newer}"]
    # The typing was kept through the reload that took the new version, for the worker to go on.
    expect(page.get_by_test_id("draft-restored")).to_contain_text("未保存的填写内容")
    expect(page.get_by_label("走访情况")).to_have_value("写了一半")
    context.close()


def test_an_update_taken_in_another_tab_waits_for_this_tabs_half_filled_form(browser, live_server):
    context = browser.new_context(**PHONE)
    working = context.new_page()
    helpers.login(working, live_server.url, "worker_a")
    helpers.wait_installed(working)
    working.reload()  # now loaded under the installed version, as every later start is
    helpers.unlock(working)
    other = context.new_page()
    other.goto(live_server.url + "/")
    helpers.unlock(other)
    newer = deploy_next_version(live_server)
    half_fill_visit(working, "写了一半的走访记录")

    update_from_another_tab(other, working)
    expect(working.get_by_label("走访情况")).to_have_value("写了一半的走访记录")

    # Saved, the form is no longer at stake: the tab takes the new version then.
    with working.expect_event("load"):
        working.get_by_role("button", name="保存走访").click()
    helpers.unlock(working)
    assert working.evaluate("caches.keys()") == [f"hulei-shell-v{newer}"]
    helpers.sync_now(working)
    helpers.wait_synced(working)
    context.close()
    with live_server.app.app_context():
        assert [v.notes for v in db.session.scalars(select(Visit))] == ["写了一半的走访记录"]


def test_an_update_over_a_staff_check_with_its_id_number_typed_says_it_is_not_kept(browser, live_server):
    """The ID number of a staff check is never kept in a draft: the prompt must not promise it."""
    context, page = helpers.phone(browser, live_server.url, "inspector")
    deploy_next_version(live_server)
    page.evaluate(f"location.hash = '#/staff/{live_server.ids.venues['b']}'")
    page.get_by_label("姓名", exact=True).fill("王小二")
    banner = offered_update(page)
    banner.get_by_role("button", name="更新").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("正在填写的内容会暂存在本机")  # a name alone is kept
    dialog.get_by_role("button", name="取消").click()
    page.get_by_label("身份证号").fill(factories.valid_id_number("43069919850315123"))
    banner.get_by_role("button", name="更新").click()
    expect(page.get_by_role("dialog")).to_contain_text("正在填写的内容还没有保存，现在更新会丢失这些内容")
    context.close()
