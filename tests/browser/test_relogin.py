"""The server session ended (the account was moved, or it lapsed): the phone asks for the password
on the sync screen. A sync round that ends while it is being typed must not redraw it away."""
from playwright.sync_api import expect

from .. import factories
from . import helpers
from .conftest import PHONE
from .test_wipe import wait_sync_over

SYNC_HERE = "() => import('/js/sync.js').then((s) => s.sync())"


def test_a_password_being_typed_to_reconnect_outlives_a_sync_round(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    admin = factories.ApiClient(live_server.app.test_client())
    admin.login("admin")
    users = admin.get("/api/users?per_page=100").get_json()["rows"]
    worker = next(u["id"] for u in users if u["username"] == "worker_a")
    for active in (False, True):  # a pause of the account ends its sessions
        assert admin.patch(f"/api/users/{worker}", json={"active": active}).status_code == 200

    helpers.sync_now(page)
    expect(page.get_by_role("link", name="去登录")).to_be_visible(timeout=helpers.TIMEOUT)
    wait_sync_over(page)
    relogin = page.locator("form.card").filter(has_text="重新连接服务器")
    relogin.get_by_label("密码").fill(factories.PASSWORD)
    with page.expect_response(lambda r: "/api/" in r.url and r.status == 401):
        page.evaluate(SYNC_HERE)  # as going online, or the minute's timer, starts one
    wait_sync_over(page)
    page.wait_for_timeout(300)  # the redraw that followed the round, if any
    expect(relogin.get_by_label("密码")).to_have_value(factories.PASSWORD)

    with page.expect_response("**/api/auth/login") as answer:
        relogin.get_by_role("button", name="登录").click()
    assert answer.value.status == 200
    expect(page.get_by_role("link", name="去登录")).to_be_hidden(timeout=helpers.TIMEOUT)
    expect(page.locator("form.card").filter(has_text="重新连接服务器")).to_have_count(0)
    context.close()
