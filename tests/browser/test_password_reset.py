"""A worker forgot her password while her phone held an unsynced visit: the town admin sets a new one
(设备管理), and the new one opens the phone's data through the device's recovery key, which the server
erases when the device is revoked."""
import base64
import re

from playwright.sync_api import expect

from server.extensions import db
from server.models import Device

from .. import factories
from . import helpers
from .conftest import PHONE
from .test_password_changed import (
    AUTH,
    found_logged_out,
    phone_with_unsynced_visit,
    reconnect,
    refused_as_wrong,
    synced_in_the_end,
    try_password,
)

NEW_PASSWORD = "Vergessen-neu-2026"
RECOVERABLE = "() => import('/js/db.js').then((d) => d.getAuth()).then((a) => Boolean(a && a.recovery))"
DESK = {"viewport": {"width": 1280, "height": 800}}


def recovery_key(live_server, device_id: str) -> bytes | None:
    with live_server.app.app_context():
        key = db.session.get(Device, device_id).recovery_key
        db.session.remove()
        return key


def reset_by_admin(live_server, password: str = NEW_PASSWORD) -> None:
    admin = factories.ApiClient(live_server.app.test_client())
    admin.login("admin")
    answer = admin.post(f"/api/users/{live_server.ids.users['worker_a']}/password",
                        json={"new_password": password})
    assert answer.status_code == 204, answer.get_json()


def locked_offline(page) -> None:
    helpers.wait_installed(page)
    helpers.go_offline(page.context)
    page.reload()
    expect(page.get_by_role("button", name="解锁")).to_be_visible()


def reset_then_opened_with_the_new_password(page, live_server) -> None:
    """The phone locked offline holds one unsynced visit; the admin resets the password; online, the
    new one opens the phone at once (no previous password asked), the visit still there."""
    reset_by_admin(live_server)
    helpers.go_online(page.context)
    try_password(page, NEW_PASSWORD)
    expect(page.locator("#nav")).to_be_visible(timeout=helpers.TIMEOUT)
    expect(page.get_by_test_id("password-changed")).to_have_count(0)
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")


def test_a_password_reset_by_the_admin_opens_the_unsynced_visit_on_the_phone(browser, live_server):
    note = "忘记密码前未同步的走访"
    context, page = phone_with_unsynced_visit(browser, live_server, note)
    helpers.wait_until(page, RECOVERABLE)
    auth = page.evaluate(AUTH)
    key = recovery_key(live_server, auth["device_id"])
    assert len(key) == 32
    dump = str(helpers.raw_indexeddb(page))  # the phone keeps a wrapping under the key, never the key
    assert key.hex() not in dump and base64.urlsafe_b64encode(key).rstrip(b"=").decode() not in dump

    locked_offline(page)
    refused_as_wrong(page, "Nicht-mehr-gewusst-1", 4)  # offline, a guess counts
    reset_then_opened_with_the_new_password(page, live_server)
    assert page.evaluate(AUTH)["failures"] == 0

    page.reload()  # from now on the new password unlocks, offline too; the forgotten one no more
    refused_as_wrong(page, factories.PASSWORD, 4)
    helpers.go_offline(context)
    page.reload()
    helpers.unlock(page, NEW_PASSWORD)
    helpers.go_online(context)
    synced_in_the_end(page, live_server, note)
    assert recovery_key(live_server, auth["device_id"]) == key
    context.close()


def test_the_town_admin_resets_a_workers_password_from_the_devices_screen(browser, live_server):
    phone = browser.new_context(**PHONE)
    worker = phone.new_page()
    helpers.login(worker, live_server.url, "worker_a")
    worker_device = worker.evaluate(AUTH)["device_id"]
    helpers.wait_until(worker, RECOVERABLE)

    desk = browser.new_context(**DESK)
    page = desk.new_page()
    helpers.login(page, live_server.url, "admin")
    page.locator("#nav").get_by_role("link", name="村务").click()
    page.get_by_role("link", name=re.compile("^设备管理")).click()
    card = page.locator(f"[data-device='{worker_device}']")
    mine = page.locator('[data-testid="device-item"]').filter(has=page.get_by_test_id("device-mine"))
    expect(mine).to_have_count(1)
    expect(mine.get_by_test_id("password-reset")).to_have_count(0)  # one's own is changed with the old one

    card.get_by_role("button", name="重置该用户的密码").click()
    card.get_by_label("新密码").fill("12345678")
    card.get_by_role("button", name="设置新密码").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("测试worker_a 的账号将在所有设备上退出")
    expect(dialog).to_contain_text("这台设备联网后用新密码解锁，未同步的记录仍在")
    dialog.get_by_role("button", name="重置").click()
    expect(card.get_by_role("alert")).to_contain_text("该密码过于常见，请换一个", timeout=helpers.TIMEOUT)
    client = factories.ApiClient(live_server.app.test_client())
    client.login("worker_a")  # unchanged so far

    card.get_by_label("新密码").fill(NEW_PASSWORD)
    card.get_by_role("button", name="设置新密码").click()
    page.get_by_role("dialog").get_by_role("button", name="取消").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert client.get("/api/auth/me").status_code == 200  # cancelled: nothing changed
    card.get_by_role("button", name="设置新密码").click()
    page.get_by_role("dialog").get_by_role("button", name="重置").click()
    expect(page.locator("#toast")).to_contain_text("已为 测试worker_a 设置新密码", timeout=helpers.TIMEOUT)
    expect(card.get_by_label("新密码")).to_be_hidden()
    assert client.get("/api/auth/me").status_code == 401  # every session of hers ended
    client.login("worker_a", NEW_PASSWORD)
    phone.close()
    desk.close()


def test_without_the_recovery_key_the_phone_asks_for_the_previous_password_and_loses_nothing(
        browser, live_server):
    """The server cannot give the key (here its answer is lost): the phone falls back to asking for
    the password before the reset, counting no wrong try, and its data stays sealed for later."""
    context, page = phone_with_unsynced_visit(browser, live_server, "取不到找回密钥时的走访")
    helpers.wait_until(page, RECOVERABLE)
    locked_offline(page)
    reset_by_admin(live_server)
    helpers.go_online(context)
    context.route("**/api/auth/recovery-key", lambda route: route.abort("connectionreset"))
    try_password(page, NEW_PASSWORD)
    expect(page.get_by_test_id("password-changed")).to_be_visible(timeout=helpers.TIMEOUT)
    assert page.evaluate(AUTH)["failures"] == 0
    assert page.evaluate(RECOVERABLE)

    context.unroute("**/api/auth/recovery-key")
    page.get_by_role("button", name="想不起旧密码").click()
    try_password(page, NEW_PASSWORD)  # the key to be had now, the same password opens the phone
    expect(page.locator("#nav")).to_be_visible(timeout=helpers.TIMEOUT)
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    context.close()


def test_the_worker_changes_the_password_the_admin_set_in_the_app(browser, live_server):
    """Reset while her phone is open, she reconnects with the admin's password; the app asks her to
    choose her own and takes it there: the phone unlocks with hers alone, her visit syncs."""
    note = "管理员重置密码后的走访"
    own = "Nur-ich-weiss-es-7"
    context, page = phone_with_unsynced_visit(browser, live_server, note)
    reset_by_admin(live_server)
    found_logged_out(page)
    assert reconnect(page, NEW_PASSWORD).status == 200
    expect(page.get_by_test_id("must-change-password")).to_contain_text("您的密码由镇平安办重置",
                                                                        timeout=helpers.TIMEOUT)
    page.get_by_test_id("must-change-password").get_by_role("link", name="去修改").click()
    form = page.get_by_test_id("password-form")
    expect(form).to_contain_text("请改为只有您自己知道的密码")
    form.get_by_label("现在的密码").fill("Nicht-das-jetzige-1")
    form.get_by_label("新密码", exact=True).fill(own)
    form.get_by_label("再次输入新密码").fill(own)
    form.get_by_role("button", name="修改密码").click()
    expect(form.get_by_role("alert")).to_have_text("原密码不正确", timeout=helpers.TIMEOUT)
    form.get_by_label("现在的密码").fill(NEW_PASSWORD)
    form.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)  # the admin's, kept: not hers alone
    form.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    form.get_by_role("button", name="修改密码").click()
    expect(form.get_by_role("alert")).to_have_text("新密码不能与原密码相同", timeout=helpers.TIMEOUT)
    form.get_by_label("新密码", exact=True).fill(own)
    form.get_by_label("再次输入新密码").fill(own + "x")
    form.get_by_role("button", name="修改密码").click()
    expect(form.get_by_role("alert")).to_have_text("两次输入的新密码不一致")
    form.get_by_label("再次输入新密码").fill(own)
    with page.expect_response("**/api/auth/password") as changed:
        form.get_by_role("button", name="修改密码").click()
    assert changed.value.status == 204
    expect(page.locator("#toast")).to_contain_text("密码已修改", timeout=helpers.TIMEOUT)
    expect(page.get_by_test_id("must-change-password")).to_have_count(0)
    expect(page.get_by_role("link", name="去登录")).to_have_count(0)

    page.reload()
    refused_as_wrong(page, NEW_PASSWORD, 4)
    helpers.unlock(page, own)
    synced_in_the_end(page, live_server, note)
    client = factories.ApiClient(live_server.app.test_client())
    client.login("worker_a", own)
    assert client.get("/api/auth/me").get_json()["user"]["must_change_password"] is False
    context.close()


def test_a_phone_wraps_its_data_key_anew_when_the_server_names_another_recovery_key(browser, live_server):
    """The server's key is gone (a database restored from before the phone asked): at its next
    connection the phone sees the key id change and wraps under the new key, so a reset still opens it."""
    context, page = phone_with_unsynced_visit(browser, live_server, "服务器恢复备份前的走访")
    helpers.wait_until(page, RECOVERABLE)
    auth = page.evaluate(AUTH)
    before = auth["recoveryId"]
    assert before and len(before) == 16
    with live_server.app.app_context():
        db.session.get(Device, auth["device_id"]).recovery_key = None
        db.session.commit()
        db.session.remove()
    with page.expect_response("**/api/auth/recovery-key") as fetched:
        page.reload()
        helpers.unlock(page)
    assert fetched.value.status == 200
    helpers.wait_until(page, "(before) => import('/js/db.js').then((d) => d.getAuth())"
                             ".then((a) => a.recoveryId !== before)", before)

    locked_offline(page)
    reset_then_opened_with_the_new_password(page, live_server)
    context.close()
