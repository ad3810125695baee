"""The town admin's 设备管理: every device with its last login, push and pull; a lost phone stopped."""
import re
import uuid
from datetime import timedelta

from playwright.sync_api import expect

from server.extensions import db
from server.models import Device, utcnow

from .. import factories
from ..sync.test_push_pull_basics import op, pull_all, push
from . import helpers
from .conftest import PHONE
from .outbox import refused_edit
from .test_wipe import revoke

LOST, QUIET = "phone-worker-a-lost", "phone-worker-b-quiet"


def _phones(server):
    worker = factories.ApiClient(server.app.test_client())
    worker.login("worker_a", device_id=LOST)
    push(worker, [op("household", "create", str(uuid.uuid4()), {"grid_id": server.ids.grids["a1"],
                                                                "address": "新户1号"})])
    pull_all(worker)
    quiet = factories.ApiClient(server.app.test_client())
    quiet.login("worker_b", device_id=QUIET)
    with server.app.app_context():
        device = db.session.get(Device, QUIET)
        device.last_login_at = device.created_at = utcnow() - timedelta(days=9)
        db.session.commit()
    return worker


def test_the_town_admin_sees_each_device_and_stops_a_lost_one(browser, live_server):
    worker = _phones(live_server)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "admin")
    page.locator("#nav").get_by_role("link", name="村务").click()
    page.get_by_role("link", name=re.compile("^设备管理")).click()
    expect(page.get_by_role("heading", name="设备管理")).to_be_visible()
    expect(page.get_by_test_id("devices-count")).to_have_text(
        "共 3 台设备，使用中 3 台，其中 1 台超过 7 天未上传。")
    lost = page.locator(f"[data-device='{LOST}']")
    quiet = page.locator(f"[data-device='{QUIET}']")
    expect(lost.locator("h2")).to_contain_text("测试worker_a")
    expect(lost.locator("h2 .meta")).to_have_text("worker_a · 网格员")
    texts = lost.locator("dd").all_inner_texts()
    assert texts[0] == LOST and "从未" not in texts[1:5], texts
    expect(lost.get_by_test_id("device-status")).to_have_text("使用中")
    expect(lost.get_by_test_id("device-stale")).to_have_count(0)
    expect(quiet.get_by_test_id("device-stale")).to_have_text("超过 7 天未上传")
    assert quiet.locator("dd").all_inner_texts()[3:5] == ["从未", "从未"]
    problems = helpers.check_screen(page, "devices-01-list")

    lost.get_by_role("button", name="停用此设备").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("尚未上传的记录将无法找回")
    dialog.get_by_role("button", name="取消").click()
    assert worker.get("/api/sync/pull").status_code == 200
    lost.get_by_role("button", name="停用此设备").click()
    page.get_by_role("dialog").get_by_role("button", name="停用").click()
    expect(page.locator("#toast")).to_have_text("设备已停用")
    lost = page.locator(f"[data-device='{LOST}']")
    expect(lost.get_by_test_id("device-status")).to_have_text("已停用")
    expect(lost.get_by_role("button", name="停用此设备")).to_have_count(0)
    # The count above the list follows: the stopped phone is no longer in use.
    expect(page.get_by_test_id("devices-count")).to_have_text(
        "共 3 台设备，使用中 2 台，其中 1 台超过 7 天未上传。")
    problems += helpers.check_screen(page, "devices-02-stopped")
    assert worker.get("/api/sync/pull").get_json()["error"]["code"] == "device_revoked"
    with live_server.app.app_context():
        assert db.session.get(Device, LOST).revoked_at is not None
        assert db.session.get(Device, QUIET).revoked_at is None
    assert problems == []
    context.close()


def test_only_the_town_admin_has_the_device_screen(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "head_a")
    page.locator("#nav").get_by_role("link", name="村务").click()
    expect(page.get_by_role("link", name=re.compile("^待审核走访"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^设备管理"))).to_have_count(0)
    page.evaluate("location.hash = '#/devices'")
    expect(page.get_by_role("heading", name="设备管理")).to_be_visible()
    expect(page.locator("#view .banner")).to_have_text("只有镇平安办可以管理设备。")
    context.close()


def test_a_stopped_phone_shows_none_of_the_wiped_data(browser, live_server):
    """The wipe a sync finds reloads the page: a confirm open at that moment (giving up a refused edit,
    which names the child and quotes the edit) does not stay on top of the login screen."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    refused_edit(page, live_server.ids.children["a1"], "母亲在外务工，由祖母照料")
    page.get_by_test_id("rejected-op").get_by_role("button", name="放弃此修改").click()
    dialog = page.get_by_role("dialog", name="放弃此修改")
    expect(dialog).to_contain_text("欧阳明月")
    revoke(live_server, page)
    page.evaluate("() => { import('/js/sync.js').then((s) => s.sync()); }")  # the background sync
    expect(page.get_by_role("alert").filter(has_text="已被管理员停用")).to_be_attached(timeout=helpers.TIMEOUT)
    shown = page.evaluate("() => [...document.querySelectorAll('dialog[open]')].map((d) => d.innerText)")
    context.close()
    assert shown == []  # the dialog that named 欧阳明月 and quoted the notes went with the page
