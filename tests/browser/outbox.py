"""Shared steps of the outbox tests: a phone, an edit the server refuses, giving it up, a child
moved out of the worker's grid on the server."""
from playwright.sync_api import expect

from server.extensions import db
from server.models import Child

from . import helpers
from .conftest import PHONE
from .test_conflict import NAME, edit_notes, stored_child

# A school name over the server's 100 characters: an edit no retry will get through.
REFUSED_EDIT = """([id, notes]) => import('/js/store.js')
  .then((s) => s.update('child', id, { notes, school: '很'.repeat(120) }))"""


OUTBOX = """async () => (await import('/js/db.js')).outboxCounts()"""


def phone(browser, live_server, username: str = "worker_a"):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, username)
    return context, page


def refused_edit(page, child_id: str, notes: str) -> None:
    """Queue an edit of the child the server will refuse, sync, and see it under 需要处理."""
    page.evaluate(REFUSED_EDIT, [child_id, notes])
    helpers.sync_now(page)
    expect(page.get_by_test_id("rejected-op")).to_contain_text(f"被退回：儿童「{NAME}」的修改",
                                                              timeout=helpers.TIMEOUT)


def give_up(page, has_text: str) -> str:
    """Press 放弃此修改 on the refused entry, confirm, and return what the confirm said."""
    item = page.get_by_test_id("rejected-op").filter(has_text=has_text)
    item.get_by_role("button", name="放弃此修改").click()
    dialog = page.get_by_role("dialog", name="放弃此修改")
    message = dialog.inner_text()
    dialog.get_by_role("button", name="放弃并删除").click()
    return message


def expect_all_settled(page, toast: str) -> None:
    """After a give-up: its toast, nothing left to handle, nothing queued."""
    expect(page.locator("#toast")).to_have_text(toast)
    expect(page.get_by_text("没有需要处理的记录。")).to_be_visible()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 0")
    assert page.evaluate(OUTBOX) == {"pending": 0, "rejected": 0, "conflict": 0}


def move_child(live_server, grid: str, village: str) -> None:
    """Move child a1 to another grid on the server (out of worker_a's scope, or back)."""
    ids = live_server.ids
    with live_server.app.app_context():
        child = db.session.get(Child, ids.children["a1"])
        child.grid_id, child.village_id = ids.grids[grid], ids.villages[village]
        db.session.commit()
        db.session.remove()


def edited_then_moved_out(browser, live_server):
    """A phone edits a child offline; the child moves out of its grid meanwhile; the sync that
    follows has the edit refused and the child evicted. Return (context, page, child id, item)."""
    context, page = phone(browser, live_server)
    child_id = live_server.ids.children["a1"]
    helpers.go_offline(context)
    edit_notes(page, "网格员：母亲已返乡")
    move_child(live_server, "b1", "b")  # out of worker_a's grid while the phone was offline
    helpers.go_online(context)
    helpers.sync_now(page)
    item = page.get_by_test_id("rejected-op")
    expect(item).to_contain_text("被退回：儿童的修改", timeout=helpers.TIMEOUT)
    helpers.wait_synced(page, unsynced=1)
    assert stored_child(page, child_id) is None  # evicted though its refused edit is queued
    return context, page, child_id, item
