"""Two phones edit the same child offline: the second sees the conflict, nothing is overwritten."""
import re

from playwright.sync_api import expect

from server.extensions import db
from server.models import Child

from . import helpers
from .conftest import PHONE

NAME = "欧阳明月"


def edit_notes(page, text: str) -> None:
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("link", name=re.compile(NAME)).click()
    page.get_by_label("备注").fill(text)
    page.get_by_role("button", name="保存备注").click()
    expect(page.get_by_text("有未同步的修改")).to_be_visible()


def server_notes(live_server) -> str:
    with live_server.app.app_context():
        notes = db.session.get(Child, live_server.ids.children["a1"]).notes
        db.session.remove()
        return notes


def test_second_phone_sees_the_conflict(browser, live_server):
    phones = []
    for username in ("worker_a", "head_a"):
        context = browser.new_context(**PHONE)
        page = context.new_page()
        helpers.login(page, live_server.url, username)
        phones.append((context, page))
    (ctx_a, page_a), (ctx_b, page_b) = phones
    for context, _ in phones:
        helpers.go_offline(context)
    edit_notes(page_a, "网格员：母亲已返乡")
    edit_notes(page_b, "村主任：由祖母照料")

    helpers.go_online(ctx_a)
    helpers.sync_now(page_a)
    helpers.wait_synced(page_a)
    assert server_notes(live_server) == "网格员：母亲已返乡"

    helpers.go_online(ctx_b)
    helpers.sync_now(page_b)
    expect(page_b.get_by_test_id("conflict-link")).to_be_visible(timeout=helpers.TIMEOUT)
    assert server_notes(live_server) == "网格员：母亲已返乡"  # B did not silently overwrite A
    page_b.get_by_test_id("conflict-link").click()
    page_b.get_by_role("link", name=re.compile("冲突：儿童")).click()
    expect(page_b.get_by_test_id("mine-notes")).to_have_text("村主任：由祖母照料")
    expect(page_b.get_by_test_id("server-notes")).to_have_text("网格员：母亲已返乡")
    helpers.screenshot(page_b, "conflict")

    # B deliberately keeps both: merge by hand, then take "mine" for the merged text.
    page_b.get_by_role("button", name="全部采用我的").click()
    helpers.sync_now(page_b)
    helpers.wait_synced(page_b)
    assert server_notes(live_server) == "村主任：由祖母照料"
    ctx_a.close()
    ctx_b.close()
