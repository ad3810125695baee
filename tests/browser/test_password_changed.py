"""The password changed on another device while the phone holds an unsynced visit: the phone's data
key is wrapped under the new password as soon as the phone learns it, never lost to wrong tries."""
import json

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Visit

from .. import factories
from . import helpers
from .conftest import PHONE
from .test_offline import record_visit
from .test_wipe import wait_sync_over

NEW_PASSWORD = "Neues-pass-2025-ok"
AUTH = "() => import('/js/db.js').then((d) => d.getAuth())"
SYNCS = "**/api/sync/**"


def visit_notes(live_server) -> list[str]:
    with live_server.app.app_context():
        notes = [v.notes for v in db.session.scalars(select(Visit))]
        db.session.remove()
        return notes


def change_password_elsewhere(live_server) -> None:
    """The worker changes her password on another client; the server ends every session of hers."""
    other = factories.ApiClient(live_server.app.test_client())
    other.login("worker_a")
    answer = other.post("/api/auth/password",
                        json={"old_password": factories.PASSWORD, "new_password": NEW_PASSWORD})
    assert answer.status_code == 204, answer.get_json()


def phone_with_unsynced_visit(browser, live_server, note: str):
    """Worker A's phone, logged in, holding a visit it has not synced: (context, page)."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    with_unsynced_visit(page, note)
    return context, page


def with_unsynced_visit(page, note: str) -> None:
    """Record a visit the server does not get yet: the phone's syncs fail until SYNCS is unrouted."""
    page.context.route(SYNCS, lambda route: route.abort("internetdisconnected"))
    record_visit(page, "欧阳明月", note)
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")


def try_password(page, password: str) -> None:
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="解锁").click()


def refused_as_wrong(page, password: str, left: int) -> None:
    try_password(page, password)
    expect(page.get_by_test_id("login-error")).to_contain_text(f"还可尝试 {left} 次", timeout=helpers.TIMEOUT)


def found_logged_out(page) -> None:
    """A sync finds the session over (the push is refused, not applied); syncs fail again after."""
    page.context.unroute(SYNCS)
    helpers.sync_now(page)
    expect(page.get_by_role("link", name="去登录")).to_be_visible(timeout=helpers.TIMEOUT)
    wait_sync_over(page)
    page.context.route(SYNCS, lambda route: route.abort("internetdisconnected"))


def reconnect(page, password: str):
    """Type `password` into the sync screen's reconnect form; return the login's answer."""
    page.locator("#nav").get_by_role("link", name="同步").click()
    form = page.locator("form.card").filter(has_text="重新连接服务器")
    form.get_by_label("密码").fill(password)
    with page.expect_response("**/api/auth/login") as answer:
        form.get_by_role("button", name="登录").click()
    return answer.value


def synced_in_the_end(page, live_server, note: str) -> None:
    """Coverage for syncs again: the visit recorded before the change reaches the server."""
    page.context.unroute(SYNCS)
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    helpers.sync_now(page)
    helpers.wait_synced(page)
    assert note in visit_notes(live_server)


def reconnected_with_the_new_password_then_reopened(page, live_server) -> None:
    """The password is changed elsewhere; the phone, unlocked, reconnects with the new one; the tab
    is killed: the old password no longer opens the phone (a wrong try), the new one does."""
    change_password_elsewhere(live_server)
    found_logged_out(page)
    assert reconnect(page, NEW_PASSWORD).status == 200
    expect(page.get_by_role("link", name="去登录")).to_be_hidden(timeout=helpers.TIMEOUT)
    nothing_in_clear(page)
    page.reload()
    expect(page.get_by_role("button", name="解锁")).to_be_visible()
    refused_as_wrong(page, factories.PASSWORD, 4)
    helpers.unlock(page, NEW_PASSWORD)


def nothing_in_clear(page) -> None:
    dump = json.dumps(helpers.raw_indexeddb(page))
    assert factories.PASSWORD not in dump and NEW_PASSWORD not in dump


def test_reconnecting_with_a_password_changed_elsewhere_makes_it_the_one_that_unlocks(browser, live_server):
    note = "改密码前未同步的走访"
    context, page = phone_with_unsynced_visit(browser, live_server, note)
    reconnected_with_the_new_password_then_reopened(page, live_server)
    assert page.evaluate(AUTH)["failures"] == 0
    synced_in_the_end(page, live_server, note)
    context.close()


# A phone set up before devices had recovery keys, not connected since: its data key is wrapped under
# the password only (the field app wraps it under the device's recovery key at its next connection).
WITHOUT_RECOVERY = """async () => {
  const d = await import('/js/db.js');
  const made = async () => (await d.getAuth()).recovery;
  for (let i = 0; i < 200 && !(await made()); i += 1) await new Promise((r) => setTimeout(r, 50));
  const auth = await d.getAuth();
  return Boolean(auth.recovery && await d.updateAuth(auth, { recovery: null }));
}"""


def test_a_password_changed_elsewhere_typed_at_the_lock_asks_once_for_the_previous_one(browser, live_server):
    """Without a recovery wrapping (test_password_reset has the phone with one), the previous
    password opens the data and the new one is wrapped in its place."""
    note = "锁屏时改密码前的走访"
    context, page = phone_with_unsynced_visit(browser, live_server, note)
    assert page.evaluate(WITHOUT_RECOVERY)
    helpers.wait_installed(page)
    helpers.go_offline(context)
    page.reload()  # locked, out of coverage
    expect(page.get_by_role("button", name="解锁")).to_be_visible()
    change_password_elsewhere(live_server)
    helpers.go_online(context)

    # Clearing the phone says what it would destroy.
    page.get_by_role("button", name="切换账号（清除本机数据）").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("其中 1 条未同步的记录将永久丢失")
    dialog.get_by_role("button", name="取消").click()

    try_password(page, NEW_PASSWORD)
    expect(page.get_by_test_id("password-changed")).to_contain_text(
        "密码已在其他设备修改。请输入修改前的旧密码", timeout=helpers.TIMEOUT)
    assert page.evaluate(AUTH)["failures"] == 0  # the new password is no wrong try
    previous = page.get_by_label("修改前的旧密码")
    previous.fill("not-the-previous-one")
    page.get_by_role("button", name="解锁").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("旧密码不正确", timeout=helpers.TIMEOUT)
    assert page.evaluate(AUTH)["failures"] == 0
    previous.fill(factories.PASSWORD)
    page.get_by_role("button", name="解锁").click()
    expect(page.locator("#nav")).to_be_visible(timeout=helpers.TIMEOUT)
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    nothing_in_clear(page)

    page.reload()
    refused_as_wrong(page, factories.PASSWORD, 4)
    helpers.unlock(page, NEW_PASSWORD)
    expect(page.get_by_role("link", name="去登录")).to_have_count(0)
    synced_in_the_end(page, live_server, note)
    context.close()


def test_the_previous_password_the_server_refused_is_not_sent_again_unasked(browser, live_server):
    """Unlocked with the password the data opens with, the phone logs in with it once; refused (it
    was changed elsewhere), it does not send it again on its own at the next unlock. Typed by the
    worker in the reconnect form, it is sent (and refused), and the new one then works."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    with page.expect_response("**/api/auth/logout"):
        page.reload()
    change_password_elsewhere(live_server)
    with page.expect_response("**/api/auth/login") as answer:
        helpers.unlock(page)
    assert answer.value.status == 401
    expect(page.locator("#banners")).to_contain_text("服务器不再接受本机的密码", timeout=helpers.TIMEOUT)

    logins = []
    page.on("request", lambda r: logins.append(r.url) if "/api/auth/login" in r.url else None)
    page.reload()
    helpers.unlock(page)
    expect(page.locator("#banners")).to_contain_text("服务器不再接受本机的密码", timeout=helpers.TIMEOUT)
    assert logins == []
    page.locator("#nav").get_by_role("link", name="同步").click()
    form = page.locator("form.card").filter(has_text="重新连接服务器")
    expect(form).to_contain_text("请输入现在的密码")
    assert reconnect(page, factories.PASSWORD).status == 401
    assert len(logins) == 1

    assert reconnect(page, NEW_PASSWORD).status == 200
    expect(page.get_by_role("link", name="去登录")).to_be_hidden(timeout=helpers.TIMEOUT)
    page.reload()
    helpers.unlock(page, NEW_PASSWORD)
    context.close()


def test_a_phone_whose_account_was_paused_and_resumed_reconnects_with_the_same_password(browser, live_server):
    """Paused, the account's password is refused like a changed one; resumed with the same password,
    the worker types it in the reconnect form and the phone is back, its unsynced visit synced."""
    context, page = phone_with_unsynced_visit(browser, live_server, "停用期间记录的走访")
    admin = factories.ApiClient(live_server.app.test_client())
    admin.login("admin")
    user_url = f"/api/users/{live_server.ids.users['worker_a']}"
    assert admin.patch(user_url, json={"active": False}).status_code == 200
    found_logged_out(page)
    assert reconnect(page, factories.PASSWORD).status == 401
    assert admin.patch(user_url, json={"active": True}).status_code == 200
    assert reconnect(page, factories.PASSWORD).status == 200
    expect(page.get_by_role("link", name="去登录")).to_be_hidden(timeout=helpers.TIMEOUT)
    synced_in_the_end(page, live_server, "停用期间记录的走访")
    with page.expect_response("**/api/auth/login") as answer:  # and it reconnects on its own again
        page.reload()
        helpers.unlock(page)
    assert answer.value.status == 200
    context.close()


# How a phone set up its local key before data keys were wrapped: the key derived from the password
# sealed everything itself.
LEGACY_FIRST_LOGIN = """async ([username, password]) => {
  const api = await import('/js/api.js');
  const db = await import('/js/db.js');
  const c = await import('/js/crypto.js');
  const deviceId = `pwa-${c.newId()}`;
  const answer = await api.post('/api/auth/login', { username, password, device_id: deviceId });
  api.setCsrf(answer.csrf_token);
  const salt = c.randomBytes(16);
  const key = await c.deriveKey(password, salt, c.ITERATIONS);
  const check = await c.seal(key, { ok: true, user_id: answer.user.id }, 'meta:auth:check');
  await db.createAuth({ username, user_id: answer.user.id, device_id: deviceId, salt,
    iterations: c.ITERATIONS, check, failures: 0 });
  db.setKey(key);
  await db.kvSet('user', answer.user);
  await (await import('/js/sync.js')).sync();
}"""


def test_a_phone_set_up_before_keys_were_wrapped_opens_and_takes_a_password_changed_elsewhere(
        browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(live_server.url + "/")
    expect(page.get_by_label("用户名")).to_be_visible()
    page.evaluate(LEGACY_FIRST_LOGIN, ["worker_a", factories.PASSWORD])
    assert "wrapped" not in page.evaluate(AUTH)

    page.reload()
    helpers.unlock(page)  # the records pulled under the old scheme are read with the same key
    assert "wrapped" in page.evaluate(AUTH)
    note = "旧版本机上未同步的走访"
    with_unsynced_visit(page, note)
    page.reload()
    helpers.unlock(page)  # wrapped now, the same password opens
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")

    reconnected_with_the_new_password_then_reopened(page, live_server)
    synced_in_the_end(page, live_server, note)
    context.close()


# A phone that wrapped its data key under the PBKDF2 count of before (310,000).
WRAPPED_UNDER_FEWER = """async (password) => {
  const db = await import('/js/db.js');
  const c = await import('/js/crypto.js');
  const auth = await db.getAuth();
  const { raw } = await c.openDataKey(auth, password);
  const { fields } = await c.wrapDataKey(password, raw, 310000);
  return (await db.updateAuth(auth, fields)).iterations;
}"""


def test_a_phone_wrapped_under_fewer_iterations_is_wrapped_anew_at_its_next_unlock(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    assert page.evaluate(AUTH)["iterations"] == 600000
    note = "旧迭代次数下未同步的走访"
    with_unsynced_visit(page, note)
    assert page.evaluate(WRAPPED_UNDER_FEWER, factories.PASSWORD) == 310000
    before = page.evaluate(AUTH)

    page.reload()
    helpers.unlock(page)
    after = page.evaluate(AUTH)
    assert after["iterations"] == 600000
    assert (after["salt"], after["wrapped"]) != (before["salt"], before["wrapped"])
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")  # the same key: nothing sealed again
    page.reload()
    try_password(page, "not-the-password-1")
    expect(page.get_by_test_id("login-error")).not_to_be_empty()
    helpers.unlock(page)
    assert page.evaluate(AUTH)["salt"] == after["salt"]  # wrapped once, not at every unlock
    synced_in_the_end(page, live_server, note)
    context.close()
