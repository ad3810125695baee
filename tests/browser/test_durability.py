"""What the phone keeps of what a user entered when things go wrong (storage, updates,
wrong passwords, refusals), and whether the user is told where it stands."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Child, Visit

from ..images import png
from . import helpers
from .conftest import PHONE
from .outbox import phone
from .test_offline import open_visit_form, record_visit
from .test_update import deploy_next_version

CHILD = "欧阳明月"

def storage_full(store: str, method: str) -> str:
    """Script making every `method` write to `store` abort as Chrome aborts one over quota (the
    requests issued, then the whole transaction rolled back with QuotaExceededError)."""
    return f"""() => {{
  const write = IDBObjectStore.prototype.{method};
  IDBObjectStore.prototype.{method} = function (...args) {{
    const req = write.apply(this, args);
    if (this.name === '{store}') {{
      const t = this.transaction;
      const err = new DOMException('Quota exceeded.', 'QuotaExceededError');
      Object.defineProperty(t, 'error', {{ get: () => err }});
      req.addEventListener('success', () => t.abort());
    }}
    return req;
  }};
}}"""


COUNTS = "import('/js/db.js').then((d) => d.outboxCounts())"
VISIT_NOTES = ("import('/js/db.js').then((d) => d.allRecords())"
               ".then((rows) => rows.filter((r) => r.entity === 'visit').map((r) => r.data.notes))")


def test_a_visit_the_phone_cannot_store_says_in_chinese_it_was_not_saved_and_keeps_the_form(
        browser, live_server):
    """Storage full while saving a visit: nothing half-written, the typing kept, and the user told in
    Chinese that the visit was NOT saved (not an English DOMException message that vanishes)."""
    context, page = phone(browser, live_server)
    helpers.go_offline(context)
    open_visit_form(page, CHILD)
    note = "存储已满时填写的走访"
    page.get_by_label("走访情况").fill(note)
    page.evaluate(storage_full('outbox', 'add'))  # the op of a new record
    page.get_by_role("button", name="保存走访").click()

    # The save has ended (its button is back) with the form and its text still there.
    expect(page.get_by_role("button", name="保存走访")).to_be_enabled(timeout=helpers.TIMEOUT)
    expect(page.get_by_label("走访情况")).to_have_value(note)
    # Nothing half-written: neither the record nor its op.
    assert page.evaluate(COUNTS) == {"pending": 0, "rejected": 0, "conflict": 0}
    assert note not in page.evaluate(VISIT_NOTES)
    # The user is told, in Chinese, that the visit was not saved, and what to do, until dismissed.
    alert = page.locator("#view [role=alert]")
    expect(alert).to_have_text("未保存：手机存储空间已满，这条记录没有保存到本机。填写的内容仍在本页，请不要关闭本页；"
                               "清理手机存储空间（删除不用的照片、视频或应用）后回到本页，再点保存。知道了")
    alert.get_by_role("button", name="知道了").click()
    expect(alert).to_have_count(0)
    context.close()


def test_a_sync_the_phone_cannot_store_says_so_in_chinese(browser, live_server):
    """Storage full while a sync writes what it brought: the sync banner says so in Chinese."""
    context, page = phone(browser, live_server)
    page.evaluate(storage_full('meta', 'put'))  # what a sync keeps: its reference data, its time
    helpers.sync_now(page)
    banner = page.locator("#banners").get_by_text(re.compile("^同步失败"))
    expect(banner).to_contain_text("存储空间已满", timeout=helpers.TIMEOUT)
    assert not re.search(r"[A-Za-z]{4,}", banner.inner_text()), banner.inner_text()
    context.close()


@pytest.mark.parametrize("error, said", [
    ("new DOMException('full', 'QuotaExceededError')", "出错了：手机存储空间已满"),
    ("new DOMException('aborted', 'AbortError')", "出错了：本机存储读写出错"),
    ("new TypeError('x is undefined')", "出错了：操作未完成，请重试或刷新页面"),
])
def test_an_error_no_screen_caught_is_said_in_chinese(browser, live_server, error, said):
    context, page = phone(browser, live_server)
    page.evaluate(f"() => {{ Promise.reject({error}); }}")
    expect(page.locator("#toast")).to_have_text(said)
    context.close()


def test_a_server_asking_for_a_newer_app_offers_the_update_and_the_kept_visit_goes_after_it(
        browser, live_server):
    """The server refuses pushes from this app version (400 client_outdated) while a new release is
    deployed: the outbox is kept, the user is told to update, and the app offers the update it asks for
    (the browser itself looks for a new service worker only on a navigation or once a day)."""
    context, page = phone(browser, live_server)
    helpers.wait_installed(page)
    helpers.go_offline(context)
    record_visit(page, CHILD, "需更新版本时保存的走访")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")

    deploy_next_version(live_server)
    live_server.app.config.update(SYNC_MIN_CLIENT_SCHEMA=2)
    helpers.go_online(context)
    helpers.sync_now(page)
    expect(page.get_by_text("应用版本过旧，请先更新应用").first).to_be_visible(timeout=helpers.TIMEOUT)
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    # The user was told to update: the app must offer it (no manual registration.update() here).
    banner = page.get_by_role("alert").filter(has_text="有新版本")
    expect(banner).to_be_visible(timeout=helpers.TIMEOUT)

    live_server.app.config.update(SYNC_MIN_CLIENT_SCHEMA=1)  # the new release is new enough
    with page.expect_navigation():
        banner.get_by_role("button", name="更新").click()
    helpers.unlock(page)
    helpers.wait_synced(page)
    context.close()
    with live_server.app.app_context():
        assert [v.notes for v in db.session.scalars(select(Visit))] == ["需更新版本时保存的走访"]
        db.session.remove()


def test_the_wipe_after_wrong_passwords_says_how_many_unsynced_records_were_lost(browser, live_server):
    """Five wrong passwords wipe the phone, unsynced visits with it. As after a revoke
    (test_wipe.py), the worker must be told how many entries were lost, to report them."""
    context, page = phone(browser, live_server)
    helpers.wait_installed(page)
    helpers.go_offline(context)
    record_visit(page, CHILD, "输错密码前未同步的走访")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    page.reload()
    for left in (4, 3, 2, 1):
        page.get_by_label("密码").fill("wrong-password")
        page.get_by_role("button", name="解锁").click()
        expect(page.get_by_test_id("login-error")).to_contain_text(f"还可尝试 {left} 次")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="解锁").click()
    alert = page.get_by_role("alert").filter(has_text="密码错误次数过多")
    expect(alert).to_be_visible(timeout=helpers.TIMEOUT)
    expect(alert).to_contain_text("1 条未同步", timeout=2000)
    context.close()



# What a release with one more IndexedDB store does at its first start: open the database at the
# next version (db/idb.js UPGRADES, "never drops the outbox"); resolve how it went.
OPEN_NEXT_DB_VERSION = """() => new Promise((resolve) => {
  const req = indexedDB.open('hulei', 3);
  req.onupgradeneeded = () => { req.result.createObjectStore('next_release'); };
  req.onblocked = () => resolve('blocked');
  req.onsuccess = () => { req.result.close(); resolve('opened'); };
  req.onerror = () => resolve('error');
  setTimeout(() => resolve('waiting'), 3000);
})"""


def test_a_release_that_upgrades_the_database_in_another_tab_waits_for_this_tabs_half_filled_form(
        browser, live_server):
    """test_update.py makes a new version taken in another tab wait for a half-filled form; a new
    version that also upgrades IndexedDB reloads this tab at once (versionchange), form and all."""
    context = browser.new_context(**PHONE)
    working = context.new_page()
    helpers.login(working, live_server.url, "worker_a")
    half_note = "写了一半的走访记录，另一页面升级数据库"
    open_visit_form(working, CHILD)
    working.get_by_label("走访情况").fill(half_note)

    other = context.new_page()
    other.goto(live_server.url + "/api/auth/me")  # same origin, a page the app does not run in
    # Blocked: this tab was told of the upgrade and kept its connection open for the form.
    assert other.evaluate(OPEN_NEXT_DB_VERSION) == "blocked"
    assert working.get_by_label("走访情况").count() == 1
    expect(working.get_by_label("走访情况")).to_have_value(half_note)
    context.close()


# The next release's app as it starts: the same code, its database one version up.
NEXT_DB_VERSION = """(() => {
  const open = IDBFactory.prototype.open;
  IDBFactory.prototype.open = function (name, version) {
    return open.call(this, name, name === 'hulei' && version === 2 ? 3 : version);
  };
})()"""


def test_a_release_held_up_by_a_half_filled_form_says_so_and_starts_once_it_is_saved(browser, live_server):
    """The tab of the new release waits for the other tab's form, says why meanwhile, and starts
    once that form is saved (its tab then reloads, letting go of the database)."""
    context = browser.new_context(**PHONE)
    working = context.new_page()
    helpers.login(working, live_server.url, "worker_a")
    helpers.wait_installed(working)
    helpers.go_offline(context)  # the saved visit stays queued: the new release's tab counts it
    open_visit_form(working, CHILD)
    working.get_by_label("走访情况").fill("升级等待时写完的走访")

    newer = context.new_page()
    newer.add_init_script(NEXT_DB_VERSION)
    newer.goto(live_server.url + "/")
    expect(newer.get_by_role("alert")).to_contain_text("另一个打开的护蕾页面里有正在填写的内容",
                                                       timeout=helpers.TIMEOUT)
    expect(working.get_by_label("走访情况")).to_have_value("升级等待时写完的走访")

    working.get_by_role("button", name="保存走访").click()
    expect(newer.get_by_role("button", name="解锁")).to_be_visible(timeout=helpers.TIMEOUT)
    assert newer.evaluate(COUNTS)["pending"] == 1  # the visit saved before the upgrade went with it
    context.close()


NGINX_413 = ("<html><head><title>413 Request Entity Too Large</title></head><body>"
             "<center><h1>413 Request Entity Too Large</h1></center><hr><center>nginx</center></body></html>")


def test_a_photo_a_proxy_refuses_as_too_large_is_explained_in_chinese(browser, live_server):
    """A reverse proxy in front of the server (nginx's default client_max_body_size is 1 MB, the
    phone sends photos up to 2 MB) answers 413 in HTML: the photo is set aside for the user, who
    must read why in Chinese, not a code such as 'http_413'."""
    from .test_inspection_flow import open_venues

    context, page = phone(browser, live_server, "inspector")
    open_venues(page)
    page.get_by_role("link", name=re.compile("^测试a宾馆")).click()
    page.locator(".check-item").nth(0).get_by_label("合格", exact=True).check()
    page.get_by_test_id("photo-input").set_input_files(
        [{"name": "door.png", "mimeType": "image/png", "buffer": png(300, 300, seed=7)}])
    expect(page.locator(".thumbs img")).to_have_count(1)
    context.route("**/api/inspections/*/photos",
                  lambda route: route.fulfill(status=413, body=NGINX_413, content_type="text/html"))
    page.get_by_role("button", name="保存检查").click()
    expect(page.get_by_role("heading", name="我的场所")).to_be_visible()  # saved: the sync below sends it
    helpers.sync_now(page)
    helpers.wait_synced(page, unsynced=1)
    item = page.get_by_test_id("attention").locator("li", has_text="照片未能上传：测试a宾馆")
    expect(item).to_contain_text("照片仍保存在本机")
    text = item.inner_text()
    assert not re.search(r"http_\d+|[a-z]+_[a-z]+", text), text
    assert re.search("过大|太大|超过", text), text
    context.close()


def test_an_edit_given_up_after_an_applied_one_goes_back_to_the_server_record_with_that_one(
        browser, live_server):
    """A record busy during a pull keeps that server copy aside; once its edit is applied the copy is
    older than the server's record. If the pull after that push fails (the signal drops), a later
    edit refused and given up must not take the record back to that copy, without the applied edit."""
    from .outbox import REFUSED_EDIT, give_up
    from .test_conflict import MINE, edit_notes, head_edit, head_phone, server_notes, stored_child

    context, page = phone(browser, live_server)
    head = head_phone(live_server)
    child_id = live_server.ids.children["a1"]
    helpers.go_offline(context)
    edit_notes(page, MINE)
    school = "测试镇中心小学"
    head_edit(head, child_id, {"school": school})

    # The edit is turned back once (a cause fixed elsewhere); the pull brings the head's copy meanwhile.
    def refuse(route):
        route.fulfill(json={"results": [{"op_id": op["op_id"], "status": "rejected",
                                         "errors": {"_op": ["请稍后重新提交"]}}
                                        for op in route.request.post_data_json["ops"]]})
    context.route("**/api/sync/push", refuse)
    helpers.go_online(context)
    helpers.sync_now(page)
    item = page.get_by_test_id("rejected-op")
    expect(item).to_contain_text("请稍后重新提交", timeout=helpers.TIMEOUT)
    helpers.wait_synced(page, unsynced=1)
    context.unroute("**/api/sync/push", refuse)

    # Sent again and applied, but every pull fails from now on.
    context.route(re.compile(r"/api/sync/pull"), lambda route: route.abort("internetdisconnected"))
    with page.expect_response("**/api/sync/push"):
        item.get_by_role("button", name="重新提交").click()
    helpers.wait_synced(page)
    assert server_notes(live_server) == MINE

    # A later edit is refused, and given up: the phone takes the server's record, with MINE in it.
    page.evaluate(REFUSED_EDIT, [child_id, "网格员：第二次修改"])
    helpers.sync_now(page)
    expect(page.get_by_test_id("rejected-op")).to_contain_text("第二次修改", timeout=helpers.TIMEOUT)
    expect(page.locator("#status .busy")).to_have_count(0, timeout=helpers.TIMEOUT)
    give_up(page, "第二次修改")
    expect(page.locator("#toast")).to_have_text("已放弃此修改，本机已恢复为服务器上的记录")
    with live_server.app.app_context():
        version = db.session.get(Child, child_id).version
        db.session.remove()
    child = stored_child(page, child_id)
    assert (child["notes"], child["school"], child["_pending"]) == (MINE, school, 0), child
    assert child["_version"] == version, (child["_version"], version)
    context.close()


def test_a_visit_stored_when_reading_back_fails_is_saved_once_and_not_said_lost(browser, live_server):
    """The visit and its op are committed, then reading the store back fails once: the save went
    through, so the form must not say it did not, which would have the user save it twice."""
    context, page = phone(browser, live_server)
    helpers.go_offline(context)
    open_visit_form(page, CHILD)
    page.get_by_label("走访情况").fill("已保存的走访")
    page.evaluate("""() => {
      const getAll = IDBObjectStore.prototype.getAll;
      const add = IDBObjectStore.prototype.add;
      let armed = false;
      IDBObjectStore.prototype.add = function (...args) {
        if (this.name === 'outbox') armed = true;
        return add.apply(this, args);
      };
      IDBObjectStore.prototype.getAll = function (...args) {
        if (armed && this.name === 'records') {
          armed = false;
          throw new DOMException('read failed', 'UnknownError');
        }
        return getAll.apply(this, args);
      };
    }""")
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_role("button", name="保存走访")).to_have_count(0, timeout=helpers.TIMEOUT)
    expect(page.locator("#view [role=alert]")).to_have_count(0)
    assert page.evaluate(COUNTS) == {"pending": 1, "rejected": 0, "conflict": 0}
    assert page.evaluate(VISIT_NOTES).count("已保存的走访") == 1
    context.close()
