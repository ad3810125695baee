"""Giving up a new record the server refused: it leaves the phone with the edits queued after it
and an inspection's photos, all at once, even if the app dies meanwhile; an edit of it waits."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Child

from ..images import png
from . import helpers
from .outbox import OUTBOX, expect_all_settled, give_up, phone
from .test_conflict import NAME, stored_child
from .test_register import register_unchecked, visit


def test_giving_up_a_refused_new_record_removes_it_from_the_phone(browser, live_server):
    context, page = phone(browser, live_server)
    register_unchecked(page, "王小草", id_number="123456")  # an older release queued it: the server refuses it
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


def test_an_edit_of_a_refused_new_record_waits_for_the_record_to_be_handled_first(browser, live_server):
    context, page = phone(browser, live_server)
    register_unchecked(page, "王小草", id_number="123456")  # an older release queued it: the server refuses it
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
    register_unchecked(page, NEW_CHILD, id_number="123456")  # an older release queued it: the server refuses it
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


def ask_to_give_up(page, drop, later: int):
    """Press the create's 放弃此修改; the confirm names the `later` edits that go with it."""
    drop.click()
    dialog = page.get_by_role("dialog", name="放弃此修改")
    expect(dialog).to_contain_text(f"放弃这条新建记录，也会放弃之后对它的 {later} 条修改。确定放弃吗？")
    return dialog


def test_giving_up_a_refused_new_record_gives_up_the_edits_queued_after_it(browser, live_server):
    context, page, child_id, drop = refused_new_child_edited_twice(browser, live_server)
    dialog = ask_to_give_up(page, drop, 2)  # offline: a record the server never took needs nothing from it
    expect(dialog).to_contain_text(f"儿童「{NEW_CHILD}」只保存在本机")
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


def test_an_edit_queued_while_a_give_up_is_confirmed_stops_it_until_asked_again(browser, live_server):
    context, page, child_id, drop = refused_new_child_edited_twice(browser, live_server)
    dialog = ask_to_give_up(page, drop, 2)
    page.evaluate(QUEUE_EDIT, ["child", child_id, "网格员：另一页补记"])  # as another tab would
    dialog.get_by_role("button", name="放弃并删除").click()
    expect(page.locator("#toast")).to_have_text("这条记录刚有新的修改，未放弃。请重新确认")
    assert page.evaluate(OUTBOX) == {"pending": 2, "rejected": 2, "conflict": 0}
    child = stored_child(page, child_id)
    assert (child["notes"], child["_pending"]) == ("网格员：另一页补记", 4)

    ask_to_give_up(page, drop, 3).get_by_role("button", name="放弃并删除").click()
    expect_all_settled(page, "已放弃，这条记录及之后对它的修改已不在本机")
    assert stored_child(page, child_id) is None
    context.close()


def test_cancelling_the_give_up_of_a_refused_new_record_keeps_it_and_its_edits(browser, live_server):
    context, page, child_id, drop = refused_new_child_edited_twice(browser, live_server)
    ask_to_give_up(page, drop, 2).get_by_role("button", name="取消").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_test_id("rejected-op")).to_have_count(2)
    expect(page.get_by_test_id("sync-unsynced")).to_have_text("3")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 3")
    assert page.evaluate(OUTBOX) == {"pending": 1, "rejected": 2, "conflict": 0}
    assert [op["data"] for op in helpers.pending_ops(page)] == [{"notes": "网格员：已联系监护人"}]
    child = stored_child(page, child_id)
    assert (child["name"], child["notes"], child["_pending"]) == (NEW_CHILD, "网格员：已联系监护人", 3)
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


def refused_inspection_with_photo(browser, live_server):
    """An inspector saves an inspection with a photo; every push of it is refused. Return
    (context, page, the 需要处理 entries)."""
    context, page = phone(browser, live_server, "inspector")

    def refuse(route):
        route.fulfill(json={"results": [{"op_id": op["op_id"], "status": "rejected",
                                         "errors": {"answers": ["检查项不完整"]}}
                                        for op in route.request.post_data_json["ops"]]})
    context.route("**/api/sync/push", refuse)
    page.locator("#nav").get_by_role("link", name="我的场所").click()
    page.get_by_role("link", name=re.compile("^测试a宾馆")).click()
    page.locator(".check-item").nth(0).get_by_label("合格", exact=True).check()
    page.get_by_test_id("photo-input").set_input_files(
        [{"name": "door.png", "mimeType": "image/png", "buffer": png(24, 16, seed=7)}])
    expect(page.locator(".thumbs img")).to_have_count(1)
    page.get_by_role("button", name="保存检查").click()
    expect(page.get_by_role("heading", name="我的场所")).to_be_visible()  # saved: the sync below sends it
    helpers.sync_now(page)
    item = page.get_by_test_id("rejected-op")
    expect(item).to_contain_text("被退回：检查「测试a宾馆", timeout=helpers.TIMEOUT)
    return context, page, item


def give_up_as_the_app_dies(page, item, *says: str) -> tuple[int, int]:
    """Give up the refused entry, its confirm saying `says`, while its photos cannot be written
    yet, and reload (the app dies); return how many ops and photos are left on the phone. The
    1.5 s wait lets any write that does not wait for the photos land first: a give-up split over
    several transactions would show here as a partial removal."""
    item.get_by_role("button", name="放弃此修改").click()
    dialog = page.get_by_role("dialog", name="放弃此修改")
    for text in says:
        expect(dialog).to_contain_text(text)
    page.evaluate(HOLD_PHOTOS)
    dialog.get_by_role("button", name="放弃并删除").click()
    page.wait_for_timeout(1500)  # time for whatever part of the discard does not wait for the photos
    page.reload()
    expect(page.get_by_role("button", name="解锁")).to_be_visible()
    raw = helpers.raw_indexeddb(page)
    return len(raw["stores"]["hulei/outbox"]), len(raw["stores"]["hulei/photos"])


def test_a_refused_inspection_given_up_takes_its_photo_with_it_even_if_the_app_dies(browser, live_server):
    context, page, item = refused_inspection_with_photo(browser, live_server)

    assert give_up_as_the_app_dies(page, item, "和 1 张照片将从本机删除") == (1, 1)  # all or nothing

    helpers.unlock(page)
    page.locator("#nav").get_by_role("link", name="同步").click()
    give_up(page, "测试a宾馆")
    expect(page.locator("#toast")).to_have_text("已放弃，这条记录已不在本机")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 0")
    raw = helpers.raw_indexeddb(page)
    assert (raw["stores"]["hulei/outbox"], raw["stores"]["hulei/photos"]) == ([], [])
    context.close()


NEW_INSPECTION = "import('/js/store.js').then((s) => s.all('inspection').find((i) => i._pending).id)"
STORED_INSPECTION = "(id) => import('/js/store.js').then((s) => s.one('inspection', id))"
QUEUE_EDIT = """([entity, id, notes]) => import('/js/store.js').then((s) => s.update(entity, id, { notes }))"""


def test_a_refused_inspection_given_up_takes_its_photo_and_later_edit_at_once_even_if_the_app_dies(
        browser, live_server):
    context, page, item = refused_inspection_with_photo(browser, live_server)
    inspection_id = page.evaluate(NEW_INSPECTION)
    page.evaluate(QUEUE_EDIT, ["inspection", inspection_id, "补记：消防通道已清理"])
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 3")  # the create, its edit, the photo

    assert give_up_as_the_app_dies(page, item, "和 1 张照片将从本机删除",
                                   "也会放弃之后对它的 1 条修改") == (2, 1)  # all or nothing

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


def test_giving_up_a_refused_registration_says_what_waits_on_it_and_what_becomes_of_it(browser, live_server):
    """A registration refused with the visits and the report filed on it: giving it up does not take
    them, and they can no longer go; the worker is told how many wait and that each stays to be
    handled, before agreeing, not only once they find them left in the list."""
    context, page = phone(browser, live_server)
    helpers.go_offline(context)
    register_unchecked(page, NEW_CHILD, phone="1234")  # the server refuses the guardian's phone
    visit(page, NEW_CHILD, "第一次走访")
    visit(page, NEW_CHILD, "第二次走访")
    page.get_by_role("link", name="强制报告").click()
    page.get_by_label("发生了什么（必填）").fill("家中有陌生成年人留宿")
    page.get_by_label("涉及儿童（可选）").select_option(label=NEW_CHILD)
    page.get_by_role("button", name="提交报告").click()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 5")
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page, unsynced=5)
    items = page.get_by_test_id("rejected-op")
    expect(items).to_have_count(5)

    items.filter(has_text="被退回：家庭").get_by_role("button", name="放弃此修改").click()
    dialog = page.get_by_role("dialog", name="放弃此修改")
    expect(dialog).to_contain_text(
        "另有 1 名儿童的登记、2 条走访记录、1 条强制报告在等待这条登记：它们不会随之删除，"
        "但放弃后再也无法提交，将留在本页需逐条处理（强制报告可选择“不关联儿童，立即报送”）。")
    dialog.get_by_role("button", name="取消").click()

    message = give_up(page, f"被退回：儿童「{NEW_CHILD}」")
    assert "另有 2 条走访记录、1 条强制报告在等待这条登记：它们不会随之删除" in message, message
    expect(page.locator("#toast")).to_have_text("已放弃，这条记录已不在本机")
    expect(items).to_have_count(4)  # the household, the visits and the report, as the worker was told
    expect(items.filter(has_text="被退回：走访")).to_have_count(2)
    context.close()
