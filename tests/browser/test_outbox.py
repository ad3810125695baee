"""What the server refuses for good is given up by hand, a push too large for the server goes in
halves, and edits of a record that left the phone still show and can be given up."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Child, Visit

from . import helpers
from .conftest import PHONE
from .test_conflict import (
    MINE,
    NAME,
    NEWEST,
    conflicted,
    edit_notes,
    head_edit,
    head_phone,
    open_conflict,
    server_notes,
    stored_child,
    sync_pulling,
)
from .test_inspection_flow import png
from .test_offline import record_visit
from .test_register import register

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


def test_giving_up_a_refused_edit_takes_the_server_record_back(browser, live_server):
    context, page = phone(browser, live_server)
    child_id = live_server.ids.children["a1"]
    before = stored_child(page, child_id)
    refused_edit(page, child_id, "网格员：孩子转学了")
    item = page.get_by_test_id("rejected-op")
    expect(item).to_contain_text("修改内容：备注：网格员：孩子转学了")
    expect(item).to_contain_text("school：")  # the server's reason
    assert stored_child(page, child_id)["notes"] == "网格员：孩子转学了"

    # Offline the server's copy cannot be had: nothing is given up, the edit still shows as unsynced.
    helpers.go_offline(context)
    message = give_up(page, NAME)
    assert "备注：网格员：孩子转学了" in message and "无法恢复；本机恢复为服务器上的记录" in message, message
    expect(page.locator("#toast")).to_contain_text("放弃修改需要联网")
    expect(item).to_have_count(1)
    assert stored_child(page, child_id)["_pending"] == 1

    helpers.go_online(context)
    give_up(page, NAME)
    expect_all_settled(page, "已放弃此修改，本机已恢复为服务器上的记录")
    child = stored_child(page, child_id)
    assert (child["notes"], child["school"], child["_version"], child["_pending"]) == \
        (before["notes"], before["school"], before["_version"], 0)

    edit_notes(page, "网格员：核实后再改")  # a new edit rests on the server's version again
    helpers.sync_now(page)
    helpers.wait_synced(page)
    assert server_notes(live_server) == "网格员：核实后再改"
    context.close()


def test_giving_up_a_refused_edit_offline_keeps_a_later_edit_on_the_pulled_record(browser, live_server):
    context, page = phone(browser, live_server)
    child_id = live_server.ids.children["a1"]
    refused_edit(page, child_id, "网格员：第一次修改")
    head = head_phone(live_server)
    newest = head_edit(head, child_id, NEWEST)
    sync_pulling(page)  # the record is busy with the refused edit: the head's copy is kept aside
    assert stored_child(page, child_id)["notes"] == "网格员：第一次修改"

    helpers.go_offline(context)
    latest = "网格员：孩子已返校"
    edit_notes(page, latest)
    page.locator("#nav").get_by_role("link", name="同步").click()
    message = give_up(page, "网格员：第一次修改")
    assert "网格员：第一次修改" in message, message
    expect(page.locator("#toast")).to_have_text("已放弃此修改，本机已恢复为服务器上的记录")
    expect(page.get_by_text("没有需要处理的记录。")).to_be_visible()
    child = stored_child(page, child_id)
    assert (child["notes"], child["school"], child["_version"], child["_pending"]) == \
        (latest, NEWEST["school"], newest["version"], 1)
    assert [op["data"] for op in helpers.pending_ops(page)] == [{"notes": latest}]
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")

    helpers.go_online(context)
    with page.expect_response(re.compile(r"/api/sync/push")) as pushed:
        helpers.sync_now(page)
    assert pushed.value.request.post_data_json["ops"][0]["base_version"] == newest["version"]
    assert pushed.value.json()["results"][0]["status"] == "applied"
    helpers.wait_synced(page)
    record = head.get(f"/api/children/{child_id}").get_json()
    assert (record["notes"], record["school"]) == (latest, NEWEST["school"])
    context.close()


def test_giving_up_a_refused_new_record_removes_it_from_the_phone(browser, live_server):
    context, page = phone(browser, live_server)
    register(page, "王小草", id_number="123456")  # not a valid ID number: the server refuses the child
    helpers.sync_now(page)
    item = page.get_by_test_id("rejected-op")
    expect(item).to_contain_text("被退回：儿童「王小草」", timeout=helpers.TIMEOUT)
    message = give_up(page, "王小草")
    assert "儿童「王小草」只保存在本机" in message and "无法恢复" in message, message
    expect_all_settled(page, "已放弃，这条记录已不在本机")
    households = page.evaluate("import('/js/store.js').then((s) => s.all('household').map((h) => h.address))")
    assert "测试镇新建组8号" in households  # the household the server took stays
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    expect(page.get_by_role("link", name=re.compile(NAME))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("王小草"))).to_have_count(0)
    context.close()


def test_a_push_too_large_goes_in_halves_and_an_op_too_large_alone_is_set_aside(browser, live_server):
    context, page = phone(browser, live_server)
    helpers.go_offline(context)
    notes = ["第一次走访", "第二次走访", "第三次走访", "长" * 3000]
    for note in notes:
        record_visit(page, NAME, note)
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 4")
    # The big visit alone is over the body limit; any two ops are over the count limit.
    live_server.app.config.update(MAX_CONTENT_LENGTH=8000, SYNC_MAX_OPS=1)
    pushes = []

    def seen(response):
        if "/api/sync/push" in response.url:
            code = response.json()["error"]["code"] if response.status == 413 else None
            pushes.append((len(response.request.post_data_json["ops"]), response.status, code))
    page.on("response", seen)
    helpers.go_online(context)
    helpers.sync_now(page)
    item = page.get_by_test_id("rejected-op")
    expect(item).to_contain_text(f"被退回：走访「{NAME}", timeout=helpers.TIMEOUT)
    expect(item).to_contain_text("内容过大，服务器无法接收")
    helpers.wait_synced(page, unsynced=1)
    assert pushes == [(4, 413, "payload_too_large"), (2, 413, "too_many_ops"), (1, 200, None),
                      (1, 200, None), (1, 200, None), (1, 413, "payload_too_large")]
    with live_server.app.app_context():
        assert sorted(v.notes for v in db.session.scalars(select(Visit))) == sorted(notes[:3])
        db.session.remove()

    message = give_up(page, NAME)
    assert f"走访「{NAME}，" in message and "只保存在本机" in message, message
    expect(page.get_by_text("没有需要处理的记录。")).to_be_visible()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 0")
    visits = page.evaluate("import('/js/store.js').then((s) => s.all('visit').map((v) => v.notes))")
    assert sorted(visits) == sorted(notes[:3])
    context.close()


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


def test_an_edit_of_a_child_moved_out_of_reach_shows_and_can_be_given_up(browser, live_server):
    context, page, child_id, item = edited_then_moved_out(browser, live_server)
    expect(item).to_contain_text("修改内容：备注：网格员：母亲已返乡")
    expect(item).to_contain_text("这条记录已不在本机（可能已移出您的管辖范围）")
    expect(item).to_contain_text("记录不存在")
    assert helpers.check_screen(page, "sync-refused-gone") == []

    message = give_up(page, "网格员：母亲已返乡")
    assert "网格员：母亲已返乡" in message and "这条记录已不在本机" in message, message
    expect_all_settled(page, "已放弃，这条记录已不在本机")
    assert stored_child(page, child_id) is None
    context.close()


def test_a_conflict_on_a_child_moved_out_of_reach_since_offers_only_removal(browser, live_server):
    context, page, head, child_id, first = conflicted(browser, live_server)
    move_child(live_server, "b1", "b")
    sync_pulling(page)
    assert stored_child(page, child_id) is None
    open_conflict(page)
    expect(page.get_by_text("在服务器上已被删除或已不在您的管辖范围内")).to_be_visible()
    page.get_by_role("button", name="知道了，从本机移除").click()
    helpers.wait_synced(page)
    assert page.evaluate(OUTBOX) == {"pending": 0, "rejected": 0, "conflict": 0}
    assert stored_child(page, child_id) is None
    context.close()


def test_a_child_moved_out_and_back_comes_back_busy_with_its_refused_edit(browser, live_server):
    context, page, child_id, _ = edited_then_moved_out(browser, live_server)

    move_child(live_server, "a1", "a")  # back in worker_a's grid
    sync_pulling(page)
    back = stored_child(page, child_id)
    assert back is not None and back["_pending"] == 1
    # Busy: a later pull keeps the head's edit aside instead of taking it as this phone's base.
    newest = head_edit(head_phone(live_server), child_id, NEWEST)
    sync_pulling(page)
    child = stored_child(page, child_id)
    assert (child["notes"], child["_version"], child["_pending"]) == (back["notes"], back["_version"], 1)
    kept = page.evaluate("(id) => import('/js/db.js').then((d) => d.keptCopy('child', id))", child_id)
    assert (kept["version"], kept["data"]["notes"]) == (newest["version"], NEWEST["notes"])

    helpers.go_offline(context)  # the kept copy is enough to give the edit up
    give_up(page, "网格员：母亲已返乡")
    expect(page.locator("#toast")).to_have_text("已放弃此修改，本机已恢复为服务器上的记录")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 0")
    assert page.evaluate(OUTBOX) == {"pending": 0, "rejected": 0, "conflict": 0}
    child = stored_child(page, child_id)
    assert (child["notes"], child["_version"], child["_pending"]) == (NEWEST["notes"], newest["version"], 0)
    context.close()


KEPT = "(id) => import('/js/db.js').then((d) => d.keptCopy('child', id))"
# What an online action answered with (a received clue), taken as the server's copy.
KEEP_ANSWER = """(id) => Promise.all([import('/js/api.js'), import('/js/store.js')])
  .then(async ([api, s]) => s.keepServer('child', await api.get(`/api/children/${id}`)))"""


def expect_back_with_edit(page, live_server, child_id: str) -> None:
    """The child is on the phone again, busy with its refused edit, which shows on top of the
    server's copy; that copy is kept aside."""
    server = head_phone(live_server).get(f"/api/children/{child_id}").get_json()
    assert server["notes"] != MINE
    child = stored_child(page, child_id)
    assert (child["name"], child["notes"], child["_version"], child["_pending"]) == \
        (NAME, MINE, server["version"], 1)
    kept = page.evaluate(KEPT, child_id)
    assert (kept["version"], kept["data"]["name"], kept["data"]["notes"]) == \
        (server["version"], NAME, server["notes"])
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    link = page.get_by_role("link", name=re.compile(NAME))
    expect(link).to_contain_text("待同步")
    link.click()
    expect(page.get_by_label("备注")).to_have_value(MINE)
    expect(page.get_by_text("有未同步的修改")).to_be_visible()


def retry_until_settled(page, live_server, child_id: str) -> None:
    """Put the refused edit back in the queue: it reaches the server once and all settles."""
    answers = []

    def pushed(response):
        if "/api/sync/push" in response.url and response.ok:
            ops, results = response.request.post_data_json["ops"], response.json()["results"]
            answers.extend(a["status"] for op, a in zip(ops, results) if op["id"] == child_id)
    page.on("response", pushed)
    page.locator("#nav").get_by_role("link", name="同步").click()
    page.get_by_test_id("rejected-op").get_by_role("button", name="重新提交").click()
    helpers.wait_synced(page)
    expect_all_settled(page, "已放回待同步队列")
    assert answers == ["applied"]
    assert server_notes(live_server) == MINE
    child = stored_child(page, child_id)
    assert (child["notes"], child["_pending"]) == (MINE, 0)
    assert page.evaluate(KEPT, child_id) is None


def test_a_child_moved_out_and_back_shows_its_refused_edit_over_the_servers_copy(browser, live_server):
    context, page, child_id, _ = edited_then_moved_out(browser, live_server)
    move_child(live_server, "a1", "a")
    sync_pulling(page)
    expect_back_with_edit(page, live_server, child_id)
    retry_until_settled(page, live_server, child_id)
    context.close()


def test_an_online_answer_for_a_child_moved_out_and_back_keeps_its_refused_edit(browser, live_server):
    context, page, child_id, _ = edited_then_moved_out(browser, live_server)
    move_child(live_server, "a1", "a")
    page.evaluate(KEEP_ANSWER, child_id)  # before any pull brings it back
    expect_back_with_edit(page, live_server, child_id)
    sync_pulling(page)  # busy: the pull keeps the same copy aside
    expect_back_with_edit(page, live_server, child_id)
    retry_until_settled(page, live_server, child_id)
    context.close()


# A readonly transaction on the photos that never ends: a write to them waits for it, as for a
# phone too slow to get there before the app is killed.
HOLD_PHOTOS = """() => new Promise((held) => {
  const open = indexedDB.open('hulei');
  open.onsuccess = () => {
    const photos = open.result.transaction('photos').objectStore('photos');
    const spin = () => { photos.count().onsuccess = spin; };
    photos.count().onsuccess = () => { held(); spin(); };
  };
})"""


def test_a_refused_inspection_given_up_takes_its_photo_with_it_even_if_the_app_dies(browser, live_server):
    context, page = phone(browser, live_server, "inspector")

    def refuse(route):
        route.fulfill(json={"results": [{"op_id": op["op_id"], "status": "rejected",
                                         "errors": {"answers": ["检查项不完整"]}}
                                        for op in route.request.post_data_json["ops"]]})
    context.route("**/api/sync/push", refuse)
    page.locator("#nav").get_by_role("link", name="我的场所").click()
    page.get_by_role("link", name=re.compile("测试a宾馆")).click()
    page.locator(".check-item").nth(0).get_by_label("合格", exact=True).check()
    page.get_by_test_id("photo-input").set_input_files(
        [{"name": "door.png", "mimeType": "image/png", "buffer": png(24, 16, seed=7)}])
    expect(page.locator(".thumbs img")).to_have_count(1)
    page.get_by_role("button", name="保存检查").click()
    helpers.sync_now(page)
    item = page.get_by_test_id("rejected-op")
    expect(item).to_contain_text("被退回：检查「测试a宾馆", timeout=helpers.TIMEOUT)

    item.get_by_role("button", name="放弃此修改").click()
    dialog = page.get_by_role("dialog", name="放弃此修改")
    expect(dialog).to_contain_text("和 1 张照片将从本机删除")
    page.evaluate(HOLD_PHOTOS)
    dialog.get_by_role("button", name="放弃并删除").click()
    page.wait_for_timeout(1500)  # time for whatever part of the discard does not wait for the photos
    page.reload()  # the app dies mid-discard
    expect(page.get_by_role("button", name="解锁")).to_be_visible()
    raw = helpers.raw_indexeddb(page)
    assert (len(raw["stores"]["hulei/outbox"]), len(raw["stores"]["hulei/photos"])) == (1, 1)  # all or nothing

    helpers.unlock(page)
    page.locator("#nav").get_by_role("link", name="同步").click()
    give_up(page, "测试a宾馆")
    expect(page.locator("#toast")).to_have_text("已放弃，这条记录已不在本机")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 0")
    raw = helpers.raw_indexeddb(page)
    assert (raw["stores"]["hulei/outbox"], raw["stores"]["hulei/photos"]) == ([], [])
    context.close()


def test_an_edit_of_a_refused_new_record_waits_for_the_record_to_be_handled_first(browser, live_server):
    context, page = phone(browser, live_server)
    register(page, "王小草", id_number="123456")  # not a valid ID number: the server refuses the child
    helpers.sync_now(page)
    expect(page.get_by_test_id("rejected-op")).to_contain_text("被退回：儿童「王小草」",
                                                              timeout=helpers.TIMEOUT)
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("link", name=re.compile("王小草")).click()
    page.get_by_label("备注").fill("网格员：补记")
    page.get_by_role("button", name="保存备注").click()
    expect(page.get_by_text("有未同步的修改")).to_be_visible()
    helpers.sync_now(page)
    edit = page.get_by_test_id("rejected-op").filter(has_text="的修改")
    expect(edit).to_have_count(1, timeout=helpers.TIMEOUT)

    # Given up first, the edit would take the child off the phone while its registration waits.
    edit.get_by_role("button", name="放弃此修改").click()
    expect(page.locator("#toast")).to_have_text("这条记录还有更早的一条未同步（被退回或冲突），请先处理那一条")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert page.evaluate(OUTBOX) == {"pending": 0, "rejected": 2, "conflict": 0}
    names = page.evaluate("import('/js/store.js').then((s) => s.all('child').map((c) => c.name))")
    assert "王小草" in names
    context.close()


NEW_CHILD = "王小草"
CHILD_ID_BY_NAME = """(name) => import('/js/store.js')
  .then((s) => (s.all('child').find((c) => c.name === name) || {}).id)"""


def edit_new_child(page, notes: str, unsynced: int) -> None:
    """Save a note on the phone's new child (online or not), `unsynced` entries queued after."""
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("link", name=re.compile(NEW_CHILD)).click()
    page.get_by_label("备注").fill(notes)
    page.get_by_role("button", name="保存备注").click()
    expect(page.get_by_test_id("unsynced")).to_have_text(f"待同步 {unsynced}")


def refused_new_child_edited_twice(browser, live_server):
    """The server refuses a new child; an edit of it synced since is refused too (no such child),
    and another waits offline. Return (context, page, child id, the create's 放弃此修改 button)."""
    context, page = phone(browser, live_server)
    register(page, NEW_CHILD, id_number="123456")  # not a valid ID number: the server refuses the child
    helpers.sync_now(page)
    refused = page.get_by_test_id("rejected-op")
    expect(refused).to_contain_text(f"被退回：儿童「{NEW_CHILD}」", timeout=helpers.TIMEOUT)
    child_id = page.evaluate(CHILD_ID_BY_NAME, NEW_CHILD)
    edit_new_child(page, "网格员：补记住址", 2)
    helpers.sync_now(page)
    expect(refused.filter(has_text="的修改")).to_contain_text("记录不存在", timeout=helpers.TIMEOUT)
    helpers.go_offline(context)
    edit_new_child(page, "网格员：已联系监护人", 3)
    page.locator("#nav").get_by_role("link", name="同步").click()
    expect(page.get_by_test_id("sync-unsynced")).to_have_text("3")
    assert page.evaluate(OUTBOX) == {"pending": 1, "rejected": 2, "conflict": 0}
    create = refused.filter(has_not_text="的修改")
    expect(create).to_have_count(1)
    return context, page, child_id, create.get_by_role("button", name="放弃此修改")


def test_giving_up_a_refused_new_record_gives_up_the_edits_queued_after_it(browser, live_server):
    context, page, child_id, drop = refused_new_child_edited_twice(browser, live_server)
    drop.click()  # offline: a record the server never took needs nothing from it
    dialog = page.get_by_role("dialog", name="放弃此修改")
    expect(dialog).to_contain_text(f"儿童「{NEW_CHILD}」只保存在本机")
    expect(dialog).to_contain_text("放弃这条新建记录，也会放弃之后对它的 2 条修改。确定放弃吗？")
    dialog.get_by_role("button", name="放弃并删除").click()
    expect_all_settled(page, "已放弃，这条记录及之后对它的修改已不在本机")
    expect(page.get_by_test_id("sync-unsynced")).to_have_text("0")
    assert helpers.pending_ops(page) == []
    assert helpers.raw_indexeddb(page)["stores"]["hulei/outbox"] == []
    assert stored_child(page, child_id) is None
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    expect(page.get_by_role("link", name=re.compile(NAME))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(NEW_CHILD))).to_have_count(0)

    pushed = []
    page.on("request", lambda r: pushed.append(r.post_data) if "/api/sync/push" in r.url else None)
    helpers.go_online(context)
    with page.expect_response(re.compile(r"/api/sync/pull")):
        helpers.sync_now(page)
    helpers.wait_synced(page)
    assert not [body for body in pushed if child_id in (body or "")], pushed
    assert stored_child(page, child_id) is None
    with live_server.app.app_context():
        assert db.session.get(Child, child_id) is None
        assert NEW_CHILD not in [c.name for c in db.session.scalars(select(Child))]
        db.session.remove()
    context.close()


def test_cancelling_the_give_up_of_a_refused_new_record_keeps_it_and_its_edits(browser, live_server):
    context, page, child_id, drop = refused_new_child_edited_twice(browser, live_server)
    drop.click()
    dialog = page.get_by_role("dialog", name="放弃此修改")
    expect(dialog).to_contain_text("放弃这条新建记录，也会放弃之后对它的 2 条修改。确定放弃吗？")
    dialog.get_by_role("button", name="取消").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_test_id("rejected-op")).to_have_count(2)
    expect(page.get_by_test_id("sync-unsynced")).to_have_text("3")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 3")
    assert page.evaluate(OUTBOX) == {"pending": 1, "rejected": 2, "conflict": 0}
    assert [op["data"] for op in helpers.pending_ops(page)] == [{"notes": "网格员：已联系监护人"}]
    child = stored_child(page, child_id)
    assert (child["name"], child["notes"], child["_pending"]) == (NEW_CHILD, "网格员：已联系监护人", 3)
    context.close()


NEW_INSPECTION = "import('/js/store.js').then((s) => s.all('inspection').find((i) => i._pending).id)"
STORED_INSPECTION = "(id) => import('/js/store.js').then((s) => s.one('inspection', id))"
QUEUE_EDIT = """([entity, id, notes]) => import('/js/store.js').then((s) => s.update(entity, id, { notes }))"""


def test_a_refused_inspection_given_up_takes_its_photo_and_later_edit_at_once_even_if_the_app_dies(
        browser, live_server):
    context, page = phone(browser, live_server, "inspector")

    def refuse(route):
        route.fulfill(json={"results": [{"op_id": op["op_id"], "status": "rejected",
                                         "errors": {"answers": ["检查项不完整"]}}
                                        for op in route.request.post_data_json["ops"]]})
    context.route("**/api/sync/push", refuse)
    page.locator("#nav").get_by_role("link", name="我的场所").click()
    page.get_by_role("link", name=re.compile("测试a宾馆")).click()
    page.locator(".check-item").nth(0).get_by_label("合格", exact=True).check()
    page.get_by_test_id("photo-input").set_input_files(
        [{"name": "door.png", "mimeType": "image/png", "buffer": png(24, 16, seed=7)}])
    expect(page.locator(".thumbs img")).to_have_count(1)
    page.get_by_role("button", name="保存检查").click()
    helpers.sync_now(page)
    item = page.get_by_test_id("rejected-op")
    expect(item).to_contain_text("被退回：检查「测试a宾馆", timeout=helpers.TIMEOUT)
    inspection_id = page.evaluate(NEW_INSPECTION)
    page.evaluate(QUEUE_EDIT, ["inspection", inspection_id, "补记：消防通道已清理"])
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 3")  # the create, its edit, the photo

    item.get_by_role("button", name="放弃此修改").click()
    dialog = page.get_by_role("dialog", name="放弃此修改")
    expect(dialog).to_contain_text("和 1 张照片将从本机删除")
    expect(dialog).to_contain_text("也会放弃之后对它的 1 条修改")
    page.evaluate(HOLD_PHOTOS)
    dialog.get_by_role("button", name="放弃并删除").click()
    page.wait_for_timeout(1500)  # time for whatever part of the discard does not wait for the photos
    page.reload()  # the app dies mid-discard
    expect(page.get_by_role("button", name="解锁")).to_be_visible()
    raw = helpers.raw_indexeddb(page)
    assert (len(raw["stores"]["hulei/outbox"]), len(raw["stores"]["hulei/photos"])) == (2, 1)  # all or nothing

    helpers.unlock(page)
    page.locator("#nav").get_by_role("link", name="同步").click()
    # Unlocking synced: the edit was pushed since, and refused too.
    expect(item.filter(has_text="的修改")).to_have_count(1, timeout=helpers.TIMEOUT)
    item.filter(has_not_text="的修改").get_by_role("button", name="放弃此修改").click()
    dialog = page.get_by_role("dialog", name="放弃此修改")
    expect(dialog).to_contain_text("也会放弃之后对它的 1 条修改")
    dialog.get_by_role("button", name="放弃并删除").click()
    expect(page.locator("#toast")).to_have_text("已放弃，这条记录及之后对它的修改已不在本机")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 0")
    raw = helpers.raw_indexeddb(page)
    assert (raw["stores"]["hulei/outbox"], raw["stores"]["hulei/photos"]) == ([], [])
    assert page.evaluate(STORED_INSPECTION, inspection_id) is None
    context.close()
