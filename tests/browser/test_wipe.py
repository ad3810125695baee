"""Revoked device, logout, too many wrong passwords: the phone is wiped; a second user sees nothing."""
import re

from playwright.sync_api import expect

from .. import factories
from . import helpers
from .conftest import PHONE
from .test_offline import record_visit

CACHES = "caches.keys()"


def device_id(page) -> str:
    auth = [row for row in helpers.raw_indexeddb(page)["stores"]["hulei/meta"] if '"k":"auth"' in row]
    return re.search(r'"device_id":"([^"]+)"', auth[0]).group(1)


def assert_wiped(page) -> None:
    dump = helpers.raw_indexeddb(page)
    assert all(not rows for name, rows in dump["stores"].items()), dump
    assert page.evaluate(CACHES) == []


def revoke(live_server, page) -> None:
    """The town office stops the phone's device on the server."""
    admin = factories.ApiClient(live_server.app.test_client())
    admin.login("admin")
    assert admin.post(f"/api/devices/{device_id(page)}/revoke").status_code == 204


def wrong_password(page) -> None:
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="解锁").click()


def four_wrong_passwords(page) -> None:
    """Unlock with a wrong password four times: one try is left."""
    for left in (4, 3, 2, 1):
        wrong_password(page)
        expect(page.get_by_test_id("login-error")).to_contain_text(f"还可尝试 {left} 次")


SYNCING = "() => navigator.locks.query().then(({ held }) => held.some((l) => l.name === 'hulei-sync'))"


def wait_sync_over(page) -> None:
    """Wait until no sync holds its lock (the one that found the revoke has finished)."""
    for _ in range(100):
        if not page.evaluate(SYNCING):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the sync never finished")


def test_revoked_device_is_wiped_at_next_sync(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    device = device_id(page)
    admin = factories.ApiClient(live_server.app.test_client())
    admin.login("admin")
    assert admin.post(f"/api/devices/{device}/revoke").status_code == 204

    helpers.sync_now(page)
    expect(page.get_by_role("alert").filter(has_text="已被管理员停用")).to_be_visible(timeout=helpers.TIMEOUT)
    expect(page.get_by_label("用户名")).to_be_visible()
    assert_wiped(page)
    context.close()


def test_the_next_user_after_a_revoke_sees_nothing_the_last_one_typed(browser, live_server):
    """A wipe found by a sync reloads the page as logout does: nothing the worker typed (her search
    on 我的儿童) is left in memory for whoever logs in next on the same screen."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_label("搜索姓名或拼音首字母").fill("欧阳")
    expect(page.get_by_role("link", name=re.compile("欧阳明月"))).to_be_visible()
    revoke(live_server, page)
    helpers.sync_now(page)
    expect(page.get_by_role("alert").filter(has_text="已被管理员停用")).to_be_visible(timeout=helpers.TIMEOUT)
    wait_sync_over(page)

    page.get_by_label("用户名").fill("worker_b")  # the next person, on the screen as it is
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.get_by_role("button", name="登录").click()
    helpers.wait_synced(page)
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    search = page.get_by_label("搜索姓名或拼音首字母")
    expect(search).to_be_visible()
    left = search.input_value()
    context.close()
    assert left == "", f"worker_b finds worker_a's search for {left!r} on the phone"


def revoked_with_an_unsynced_visit(browser, live_server):
    """A phone with one visit it could not send, whose device the town office then revoked."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    context.route("**/api/sync/**", lambda route: route.abort("internetdisconnected"))
    record_visit(page, "欧阳明月", "停用前未同步的走访")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    admin = factories.ApiClient(live_server.app.test_client())
    admin.login("admin")
    assert admin.post(f"/api/devices/{device_id(page)}/revoke").status_code == 204
    context.unroute("**/api/sync/**")
    return context, page


def test_a_revoked_phone_says_how_many_unsynced_entries_it_could_not_send(browser, live_server):
    context, page = revoked_with_an_unsynced_visit(browser, live_server)
    helpers.sync_now(page)
    expect(page.get_by_role("alert").filter(has_text="已被管理员停用")).to_contain_text(
        "其中 1 条未同步的记录无法再上传", timeout=helpers.TIMEOUT)
    assert_wiped(page)
    context.close()


def test_a_revoked_phone_found_out_as_it_is_reopened_still_says_how_many_it_could_not_send(
        browser, live_server):
    """Reopened, the locked app ends its server session, and the answer is that the device was
    revoked: the wipe comes before any unlock, and the count of what was lost is read without the key."""
    context, page = revoked_with_an_unsynced_visit(browser, live_server)
    page.reload()
    expect(page.get_by_role("alert").filter(has_text="已被管理员停用")).to_contain_text(
        "其中 1 条未同步的记录无法再上传", timeout=helpers.TIMEOUT)
    assert_wiped(page)
    context.close()


def test_a_revoked_phone_reopened_counts_a_refused_entry_without_the_key(browser, live_server):
    """Which records were refused is sealed with their ops; how many entries are lost is not, and
    is said before any unlock."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.refuse_in_push(page, "visit", "child_id")
    record_visit(page, "欧阳明月", "被退回的走访")
    helpers.sync_now(page)
    helpers.wait_synced(page, unsynced=1)
    expect(page.get_by_test_id("rejected-op")).to_have_count(1)
    admin = factories.ApiClient(live_server.app.test_client())
    admin.login("admin")
    assert admin.post(f"/api/devices/{device_id(page)}/revoke").status_code == 204
    page.reload()
    expect(page.get_by_role("alert").filter(has_text="已被管理员停用")).to_contain_text(
        "其中 1 条未同步的记录无法再上传", timeout=helpers.TIMEOUT)
    assert_wiped(page)
    context.close()


def test_logout_warns_then_wipes_and_the_next_user_sees_nothing(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    context.route("**/api/sync/**", lambda route: route.abort("internetdisconnected"))  # no coverage for sync
    record_visit(page, "欧阳明月", "退出前未同步的走访")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")

    page.locator("#nav").get_by_role("link", name="同步").click()
    page.get_by_role("button", name="退出登录").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("还有 1 条记录未同步")
    dialog.get_by_role("button", name="取消").click()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")  # cancel keeps everything
    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("dialog").get_by_role("button", name="仍然退出并删除").click()
    expect(page.get_by_label("用户名")).to_be_visible(timeout=helpers.TIMEOUT)
    context.unroute("**/api/sync/**")
    assert_wiped(page)

    helpers.login(page, live_server.url, "worker_b")
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    expect(page.get_by_role("link", name=re.compile("诸葛晓东"))).to_be_visible()
    for other in ("欧阳明月", "司马小雨"):
        expect(page.get_by_text(other)).to_have_count(0)
    page.get_by_label("搜索姓名或拼音首字母").fill("oymy")
    expect(page.get_by_text("没有找到匹配的儿童")).to_be_visible()
    assert page.evaluate("document.body.innerText").count("退出前未同步的走访") == 0
    context.close()


def test_logging_out_without_coverage_ends_the_server_session_once_the_app_is_opened_in_coverage(
        browser, live_server):
    """The logout's own request fails without coverage; the next start of the app, with nothing
    stored on the phone, ends the session the cookie still holds."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    context.route("**/api/**", lambda route: route.abort("internetdisconnected"))
    page.locator("#nav").get_by_role("link", name="同步").click()
    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("dialog").get_by_role("button", name="退出").click()
    expect(page.get_by_label("用户名")).to_be_visible(timeout=helpers.TIMEOUT)
    context.unroute("**/api/**")
    opened_in_coverage_the_session_is_over(context, page, live_server)  # by the next person


def opened_in_coverage_the_session_is_over(context, page, live_server) -> None:
    """Open the app again, in coverage: the cookie the phone still holds opens nothing."""
    page.reload()
    expect(page.get_by_label("用户名")).to_be_visible(timeout=helpers.TIMEOUT)
    status, body = helpers.server_session_end(context, live_server.url)
    context.close()
    assert (status, "欧阳明月" in body) == (401, False), (status, body[:200])


def wiped_by_wrong_passwords_offline(browser, live_server):
    """Log in, go offline and type five wrong passwords: the phone wipes itself."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.wait_installed(page)
    helpers.go_offline(context)
    page.reload()
    four_wrong_passwords(page)
    wrong_password(page)
    expect(page.get_by_role("alert").filter(has_text="密码错误次数过多")).to_be_visible(timeout=helpers.TIMEOUT)
    return context, page


def test_wrong_passwords_then_wipe(browser, live_server):
    context, page = wiped_by_wrong_passwords_offline(browser, live_server)
    assert_wiped(page)
    context.close()


def test_the_wipe_after_wrong_passwords_offline_ends_the_server_session_once_in_coverage(browser, live_server):
    """The wipe is meant for someone guessing at a found phone: offline, its logout fails, and the
    app ends the session when next opened in coverage, so the guesser cannot read the API with it."""
    context, page = wiped_by_wrong_passwords_offline(browser, live_server)
    helpers.go_online(context)
    opened_in_coverage_the_session_is_over(context, page, live_server)  # by the guesser


def revoked_with_lapsed_cookie(browser, live_server):
    """Worker A's phone, revoked by the admin while its session cookie has lapsed: (context, page)."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    admin = factories.ApiClient(live_server.app.test_client())
    admin.login("admin")
    assert admin.post(f"/api/devices/{device_id(page)}/revoke").status_code == 204
    context.clear_cookies()
    return context, page


def assert_wiped_as_revoked(page) -> None:
    expect(page.get_by_role("alert").filter(has_text="已被管理员停用")).to_be_visible(timeout=helpers.TIMEOUT)
    expect(page.get_by_label("用户名")).to_be_visible()
    assert_wiped(page)


def test_a_revoked_phone_whose_session_lapsed_is_wiped_when_it_logs_in_again(browser, live_server):
    context, page = revoked_with_lapsed_cookie(browser, live_server)
    helpers.sync_now(page)
    expect(page.get_by_role("link", name="去登录")).to_be_visible(timeout=helpers.TIMEOUT)
    relogin = page.locator("form.card").filter(has_text="重新连接服务器")
    with page.expect_response("**/api/auth/login") as answer:
        relogin.get_by_label("密码").fill(factories.PASSWORD)
        relogin.get_by_role("button", name="登录").click()
    assert answer.value.status == 410
    assert_wiped_as_revoked(page)
    context.close()


def test_a_revoked_phone_whose_session_lapsed_is_wiped_when_it_is_unlocked(browser, live_server):
    context, page = revoked_with_lapsed_cookie(browser, live_server)
    page.reload()
    with page.expect_response("**/api/auth/login") as answer:
        page.get_by_label("密码").fill(factories.PASSWORD)
        page.get_by_role("button", name="解锁").click()
    assert answer.value.status == 410
    assert_wiped_as_revoked(page)
    context.close()


def test_the_wipe_after_wrong_passwords_ends_the_server_session(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    context.route("**/api/**", lambda route: route.abort("internetdisconnected"))
    page.reload()  # locked without coverage: the server session is still alive
    expect(page.get_by_role("button", name="解锁")).to_be_visible()
    four_wrong_passwords(page)
    # Coverage returns just before the last try: the session the start could not end is still alive.
    context.unroute("**/api/**")
    assert context.request.get(live_server.url + "/api/children").status == 200
    with page.expect_response("**/api/auth/logout") as ended:
        wrong_password(page)
    assert ended.value.status == 204
    expect(page.get_by_role("alert").filter(has_text="密码错误次数过多")).to_be_visible(timeout=helpers.TIMEOUT)
    assert_wiped(page)
    children = context.request.get(live_server.url + "/api/children")
    assert children.status == 401 and "欧阳明月" not in children.text()
    context.close()


def test_wrong_passwords_in_two_tabs_count_together(browser, live_server):
    context = browser.new_context(**PHONE)
    first = context.new_page()
    helpers.login(first, live_server.url, "worker_a")
    helpers.wait_installed(first)
    second = context.new_page()
    second.goto(live_server.url + "/")
    first.reload()
    tabs = (first, second)
    for tab in tabs:
        expect(tab.get_by_role("button", name="解锁")).to_be_visible()

    def wrong(tab) -> None:
        tab.get_by_label("密码").fill("wrong-password")
        tab.get_by_role("button", name="解锁").click()

    for lefts in ([3, 4], [1, 2]):
        for tab in tabs:  # the second tab's try starts while the first's is still being checked
            wrong(tab)
        for tab in tabs:
            expect(tab.get_by_test_id("login-error")).to_contain_text("还可尝试", timeout=helpers.TIMEOUT)
        said = [tab.get_by_test_id("login-error").inner_text() for tab in tabs]
        assert sorted(int(re.search(r"还可尝试 (\d) 次", text).group(1)) for text in said) == lefts, said
    wrong(first)  # the fifth wrong password in all
    expect(first.get_by_role("alert").filter(has_text="密码错误次数过多")).to_be_visible(timeout=helpers.TIMEOUT)
    assert_wiped(first)
    expect(second.get_by_label("用户名")).to_be_visible(timeout=helpers.TIMEOUT)
    context.close()
