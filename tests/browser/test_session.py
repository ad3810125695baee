"""The server session follows the phone's lock: a locked app has none, unlocking logs in again, and a
login in a second tab keeps the key the phone's data is sealed with."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Child, Device, User, Visit

from .. import factories
from . import helpers
from .conftest import PHONE
from .test_conflict import head_edit, head_phone
from .test_offline import record_visit


def visit_notes(live_server) -> list[str]:
    with live_server.app.app_context():
        notes = [v.notes for v in db.session.scalars(select(Visit))]
        db.session.remove()
        return notes


def test_a_locked_app_leaves_no_live_server_session_and_unlocking_logs_in_again(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    assert context.request.get(live_server.url + "/api/children").status == 200
    with page.expect_response("**/api/auth/logout") as ended:
        page.reload()
    assert ended.value.status == 204
    expect(page.get_by_role("button", name="解锁")).to_be_visible()
    children = context.request.get(live_server.url + "/api/children")
    assert children.status == 401 and "欧阳明月" not in children.text()

    with page.expect_response("**/api/auth/login") as answer:
        helpers.unlock(page)
    assert answer.value.status == 200
    record_visit(page, "欧阳明月", "解锁后记录的走访")
    helpers.sync_now(page)
    helpers.wait_synced(page)
    expect(page.get_by_role("link", name="去登录")).to_have_count(0)
    assert context.request.get(live_server.url + "/api/children").status == 200
    context.close()
    assert "解锁后记录的走访" in visit_notes(live_server)


def test_unlocking_offline_still_works_and_logs_in_once_back_online(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    with page.expect_response("**/api/auth/logout"):
        page.reload()
    helpers.go_offline(context)
    helpers.unlock(page)
    record_visit(page, "欧阳明月", "离线解锁后记录的走访")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    with page.expect_response("**/api/auth/login") as answer:
        helpers.go_online(context)
    assert answer.value.status == 200
    helpers.wait_synced(page)
    expect(page.get_by_role("link", name="去登录")).to_have_count(0)
    context.close()
    assert "离线解锁后记录的走访" in visit_notes(live_server)


def test_a_phone_locked_without_coverage_ends_its_server_session_once_coverage_returns(browser, live_server):
    """Locked offline, the start cannot end the session; the locked app tries again when the network
    returns, so the locked phone does not hold the worker's session meanwhile."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.wait_installed(page)
    helpers.go_offline(context)
    page.reload()  # locked, with no coverage: the start's logout cannot reach the server
    expect(page.get_by_role("button", name="解锁")).to_be_visible()
    helpers.go_online(context)  # coverage returns while the phone sits locked
    status, body = helpers.server_session_end(context, live_server.url)
    context.close()
    assert (status, "欧阳明月" in body) == (401, False), (status, body[:200])


def test_a_login_in_a_second_tab_keeps_the_unsynced_visit_readable(browser, live_server):
    context = browser.new_context(**PHONE)
    tab_a, tab_b = context.new_page(), context.new_page()
    tab_b.goto(live_server.url + "/")
    expect(tab_b.get_by_label("用户名")).to_be_visible()
    helpers.login(tab_a, live_server.url, "worker_a")
    context.route("**/api/sync/push", lambda route: route.abort("internetdisconnected"))
    record_visit(tab_a, "欧阳明月", "第二个标签页登录前的走访")
    expect(tab_a.get_by_test_id("unsynced")).to_have_text("待同步 1")

    tab_b.get_by_label("用户名").fill("worker_a")
    tab_b.get_by_label("密码").fill("wrong-password")
    tab_b.get_by_role("button", name="登录").click()
    expect(tab_b.get_by_test_id("login-error")).to_contain_text("还可尝试 4 次")
    tab_b.get_by_label("密码").fill(factories.PASSWORD)
    tab_b.get_by_role("button", name="登录").click()
    expect(tab_b.locator("#nav")).to_be_visible(timeout=helpers.TIMEOUT)
    expect(tab_b.get_by_test_id("unsynced")).to_have_text("待同步 1")
    tab_a.close()
    context.unroute("**/api/sync/push")

    tab_b.reload()
    helpers.unlock(tab_b)
    helpers.sync_now(tab_b)
    helpers.wait_synced(tab_b)
    context.close()
    assert "第二个标签页登录前的走访" in visit_notes(live_server)


def test_first_logins_in_two_tabs_at_once_share_one_device_and_both_work(browser, live_server):
    context = browser.new_context(**PHONE)
    tabs = [context.new_page(), context.new_page()]
    for tab in tabs:
        tab.goto(live_server.url + "/")
        tab.get_by_label("用户名").fill("worker_a")
        tab.get_by_label("密码").fill(factories.PASSWORD)
    for tab in tabs:  # the second starts while the first is still at the server or deriving its key
        tab.get_by_role("button", name="登录").click(no_wait_after=True)
    for tab in tabs:
        expect(tab.locator("#nav")).to_be_visible(timeout=helpers.TIMEOUT)
    device = "() => import('/js/db.js').then((d) => d.getAuth()).then((a) => a.device_id)"
    ids = {tab.evaluate(device) for tab in tabs}
    with live_server.app.app_context():
        user = db.session.scalar(select(User).where(User.username == "worker_a"))
        registered = set(db.session.scalars(select(Device.id).where(Device.user_id == user.id)))
        db.session.remove()
    assert len(ids) == 1 and registered == ids
    for n, tab in enumerate(tabs):
        helpers.sync_now(tab)  # a tab whose first sync found the other's running has not pulled yet
        helpers.wait_synced(tab)
        record_visit(tab, "欧阳明月", f"同时登录的第{n + 1}个标签页的走访")
        helpers.sync_now(tab)
        helpers.wait_synced(tab)
    context.close()
    assert {"同时登录的第1个标签页的走访", "同时登录的第2个标签页的走访"} <= set(visit_notes(live_server))


def test_a_first_login_never_replaces_the_key_of_data_already_on_the_phone(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    auth = "() => import('/js/db.js').then((d) => d.getAuth()).then((a) => JSON.stringify(a))"
    before = page.evaluate(auth)
    # Another tab's first login racing this one's: its auth row is refused, not written over this.
    create = "() => import('/js/db.js').then((d) => d.createAuth({ username: 'worker_a' }))"
    assert page.evaluate(create) is False
    assert page.evaluate(auth) == before
    context.close()


def test_opening_a_second_tab_leaves_the_first_tabs_session_alone(browser, live_server):
    """A tab that starts locked ends the server session only when no other tab is working in it."""
    context = browser.new_context(**PHONE)
    first = context.new_page()
    helpers.login(first, live_server.url, "worker_a")
    second = context.new_page()
    second.goto(live_server.url + "/")
    expect(second.get_by_role("button", name="解锁")).to_be_visible()
    # Its start asked for the login lock before drawing 解锁 and decides inside it: a request for
    # the same lock is granted once that decision (and a logout, had there been one) is done.
    assert second.evaluate("navigator.locks.request('hulei-login', () => true)") is True
    assert context.request.get(live_server.url + "/api/children").status == 200
    record_visit(first, "欧阳明月", "第二个标签页打开后记录的走访")
    helpers.sync_now(first)
    helpers.wait_synced(first)
    expect(first.get_by_role("link", name="去登录")).to_have_count(0)
    context.close()
    assert "第二个标签页打开后记录的走访" in visit_notes(live_server)


MOVED_IN = "诸葛晓东"  # child b1 of the factories' town, in worker_b's grid
SYNC_IN_BACKGROUND = "() => { import('/js/sync.js').then((s) => s.sync()); }"
STORED = "([entity, id]) => import('/js/store.js').then((s) => s.one(entity, id))"


def move_into_grid_a1(live_server, key: str) -> None:
    """Move a child of another grid into worker_a's grid a1 on the server."""
    ids = live_server.ids
    with live_server.app.app_context():
        child = db.session.get(Child, ids.children[key])
        child.grid_id, child.village_id = ids.grids["a1"], ids.villages["a"]
        db.session.commit()
        db.session.remove()


def second_tab_while_the_first_syncs(browser, live_server):
    """Tab A is logged in; a child moves into its grid on the server; A's next sync is held at its
    pull while tab B unlocks, so B's first sync finds A's running and skips. Return (context, A,
    B, a function that lets A's pull through, the /api/sync/ requests B makes)."""
    context = browser.new_context(**PHONE)
    tab_a = context.new_page()
    helpers.login(tab_a, live_server.url, "worker_a")
    tab_b = context.new_page()
    synced_by_b = []
    tab_b.on("request", lambda r: synced_by_b.append(r.url) if "/api/sync/" in r.url else None)
    tab_b.goto(live_server.url + "/")
    move_into_grid_a1(live_server, "b1")
    held = []
    tab_a.route("**/api/sync/pull**", lambda route: held.append(route))
    tab_a.evaluate(SYNC_IN_BACKGROUND)
    for _ in range(200):
        if held:
            break
        tab_a.wait_for_timeout(50)
    assert held, "tab A's sync never reached its pull"
    helpers.unlock(tab_b)
    expect(tab_b.get_by_role("heading", name="今日待办")).to_be_visible()  # B's sync was tried since

    def release():
        held[0].continue_()
        tab_a.unroute("**/api/sync/pull**")
        helpers.wait_synced(tab_a)
    return context, tab_a, tab_b, release, synced_by_b


def test_a_visit_a_tab_asks_to_send_while_another_tab_syncs_goes_once_that_sync_ends(browser, live_server):
    """Tab B saves a visit and asks for a sync while tab A's runs, past its push: B's ask was
    dropped, the visit waited for the next round of the schedule (minutes; a worker who pressed
    立即同步 in coverage walks on out of it). It goes as soon as A's sync lets go, from B."""
    context, tab_a, tab_b, release, synced_by_b = second_tab_while_the_first_syncs(browser, live_server)
    record_visit(tab_b, "欧阳明月", "另一个标签页同步时记录的走访")
    expect(tab_b.get_by_test_id("unsynced")).to_have_text("待同步 1")
    helpers.sync_now(tab_b)
    tab_b.wait_for_timeout(300)
    assert "另一个标签页同步时记录的走访" not in visit_notes(live_server)  # A's pull is still held

    release()
    helpers.wait_synced(tab_b)
    assert visit_notes(live_server).count("另一个标签页同步时记录的走访") == 1
    assert any("/api/sync/push" in url for url in synced_by_b)
    context.close()


def wait_stored(page, entity: str, record_id: str, **expected) -> dict:
    """Wait until the page's store holds the record, with the `expected` values; return it."""
    for _ in range(100):
        record = page.evaluate(STORED, [entity, record_id])
        if record and all(record.get(key) == value for key, value in expected.items()):
            return record
        page.wait_for_timeout(100)
    raise AssertionError(f"{entity} {record_id} never reached this tab's store with {expected}")


def test_a_tab_whose_first_sync_found_anothers_running_shows_what_that_one_pulled(browser, live_server):
    context, tab_a, tab_b, release, synced_by_b = second_tab_while_the_first_syncs(browser, live_server)
    tab_b.locator("#nav").get_by_role("link", name="我的儿童").click()
    expect(tab_b.get_by_role("link", name=re.compile("欧阳明月"))).to_be_visible()
    expect(tab_b.get_by_role("link", name=re.compile(MOVED_IN))).to_have_count(0)

    release()
    expect(tab_b.get_by_role("link", name=re.compile(MOVED_IN))).to_be_visible(timeout=helpers.TIMEOUT)
    expect(tab_b.get_by_test_id("last-sync")).to_have_text(tab_a.get_by_test_id("last-sync").inner_text())
    assert synced_by_b == []  # shown from IndexedDB: B did not sync again
    context.close()


def test_another_tabs_sync_leaves_a_form_being_typed_in_alone(browser, live_server):
    child_id = live_server.ids.children["a1"]
    school = "测试镇第二小学"
    context, tab_a, tab_b, release, synced_by_b = second_tab_while_the_first_syncs(browser, live_server)
    head_edit(head_phone(live_server), child_id, {"school": school})  # A's pull, held, has not asked yet
    tab_b.locator("#nav").get_by_role("link", name="我的儿童").click()
    tab_b.get_by_role("link", name=re.compile("欧阳明月")).click()
    typed = "网格员：另一个标签页同步时正在写的备注"
    tab_b.get_by_label("备注").fill(typed)

    release()
    wait_stored(tab_b, "child", child_id, school=school)  # the tab held it before: wait for the new copy
    wait_stored(tab_b, "child", live_server.ids.children["b1"])
    expect(tab_b.get_by_label("备注")).to_have_value(typed)  # the form was not drawn again
    expect(tab_b.locator("dd", has_text=school)).to_have_count(0)
    assert synced_by_b == []

    tab_b.get_by_role("button", name="保存备注").click()
    expect(tab_b.locator("#toast")).to_have_text("备注已保存，待同步")
    expect(tab_b.locator("dd", has_text=school)).to_be_visible()
    expect(tab_b.get_by_label("备注")).to_have_value(typed)
    tab_b.locator("#nav").get_by_role("link", name="我的儿童").click()
    expect(tab_b.get_by_role("link", name=re.compile(MOVED_IN))).to_be_visible()
    context.close()
