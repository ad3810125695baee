"""A new release: '有新版本' is offered, taken on request, and no unsynced entry is lost."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Visit

from . import helpers
from .conftest import PHONE
from .shell import PWA
from .test_offline import record_visit


def test_new_version_keeps_unsynced_entries(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.wait_installed(page)
    context.route("**/api/sync/**", lambda route: route.abort("internetdisconnected"))
    record_visit(page, "欧阳明月", "更新前保存的走访")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")

    shipped = (PWA / "sw.js").read_text(encoding="utf-8")
    version = int(re.search(r"const VERSION = 'v(\d+)';", shipped).group(1))
    sw = shipped.replace(f"const VERSION = 'v{version}';", f"const VERSION = 'v{version + 1}';")
    live_server.overrides["/sw.js"] = sw.encode()
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update()).then(() => true)")
    banner = page.get_by_role("alert").filter(has_text="有新版本")
    expect(banner).to_be_visible(timeout=helpers.TIMEOUT)
    with page.expect_navigation():
        banner.get_by_role("button", name="更新").click()
    helpers.unlock(page)
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    assert page.evaluate("caches.keys()") == [f"hulei-shell-v{version + 1}"]

    context.unroute("**/api/sync/**")
    helpers.sync_now(page)
    helpers.wait_synced(page)
    context.close()
    with live_server.app.app_context():
        assert [v.notes for v in db.session.scalars(select(Visit))] == ["更新前保存的走访"]
