"""Two phones edit the same child offline: the second sees the conflict, nothing is overwritten."""
import json
import re
import uuid

from playwright.sync_api import expect

from server.extensions import db
from server.models import Child

from .. import factories
from . import helpers
from .conftest import PHONE

NAME = "欧阳明月"
HEAD_DEVICE = "phone-head-a-0001"
MINE = "网格员：母亲已返乡"
NEWEST = {"notes": "村主任：已转到镇中心小学", "school": "测试镇中心小学"}


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


def test_a_note_typed_while_a_sync_brings_the_heads_comes_back_as_a_conflict(browser, live_server):
    """A sync does not redraw a form being typed in. Saved, the note rested on the head's copy the
    sync had just brought, and silently replaced the head's note. It rests on what the form showed."""
    context, page = typing_while_a_sync_brings_the_heads(browser, live_server)
    page.get_by_role("button", name="保存备注").click()
    expect(page.get_by_text("有未同步的修改")).to_be_visible()
    helpers.sync_now(page)
    expect(page.get_by_test_id("conflict-link")).to_be_visible(timeout=helpers.TIMEOUT)
    assert server_notes(live_server) == "村主任：由祖母照料"
    open_conflict(page)
    expect(page.get_by_test_id("mine-notes")).to_have_text(MINE)
    expect(page.get_by_test_id("server-notes")).to_have_text("村主任：由祖母照料")
    context.close()


def test_a_second_note_saved_after_one_typed_while_a_sync_brought_the_heads_does_not_overwrite_it(
        browser, live_server):
    """The first note rested on the copy its form showed; the phone kept the head's newer copy as its
    own, so a second note, queued on the first, rested on the head's and overwrote it before the
    worker saw the conflict. The record keeps the version the first rests on, the head's copy aside."""
    context, page = typing_while_a_sync_brings_the_heads(browser, live_server)
    helpers.go_offline(context)
    page.get_by_role("button", name="保存备注").click()
    expect(page.get_by_text("有未同步的修改")).to_be_visible()
    page.get_by_label("备注").fill(MINE + "，再补一句")
    page.get_by_role("button", name="保存备注").click()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 2")
    helpers.go_online(context)
    helpers.sync_now(page)
    expect(page.get_by_test_id("conflict-link")).to_be_visible(timeout=helpers.TIMEOUT)
    expect(page.locator("#status .busy")).to_have_count(0, timeout=helpers.TIMEOUT)
    assert server_notes(live_server) == "村主任：由祖母照料"
    counts = page.evaluate("async () => (await import('/js/db.js')).outboxCounts()")
    assert counts == {"pending": 0, "rejected": 0, "conflict": 2}
    page.get_by_test_id("conflict-link").click()
    page.get_by_role("link", name=re.compile("冲突：儿童")).first.click()
    expect(page.get_by_test_id("mine-notes")).to_have_text(MINE)
    expect(page.get_by_test_id("server-notes")).to_have_text("村主任：由祖母照料")
    context.close()


def typing_while_a_sync_brings_the_heads(browser, live_server):
    """Worker A types a note on the child's screen while a sync brings the head's note: (context, page),
    the note typed and not saved, the head's in the phone's store and the form still showing A's."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    child_id = live_server.ids.children["a1"]
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("link", name=re.compile(NAME)).click()
    page.get_by_label("备注").fill(MINE)
    head_edit(head_phone(live_server), child_id, {"notes": "村主任：由祖母照料"})
    helpers.sync_in_background(page)
    assert stored_child(page, child_id)["notes"] == "村主任：由祖母照料"
    expect(page.get_by_label("备注")).to_have_value(MINE)
    return context, page


def head_phone(live_server) -> factories.ApiClient:
    """The village head's phone, driven through the API."""
    head = factories.ApiClient(live_server.app.test_client())
    head.login("head_a", device_id=HEAD_DEVICE)
    return head


def head_edit(head, child_id: str, changes: dict) -> dict:
    """Edit the child on the head's phone; return the server's record."""
    response = head.edit(f"/api/children/{child_id}", changes)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def open_conflict(page) -> None:
    """From the status bar to the child's conflict screen."""
    page.get_by_test_id("conflict-link").click()
    page.get_by_role("link", name=re.compile("冲突：儿童")).click()


def stored_child(page, child_id: str) -> dict | None:
    """The child as the phone's own store holds it (decrypted), with `_version` and `_pending`."""
    return page.evaluate("(id) => import('/js/store.js').then((s) => s.one('child', id))", child_id)


def sync_pulling(page) -> None:
    """Sync and wait until the pull has been written (no push: the only op is in conflict)."""
    with page.expect_response(re.compile(r"/api/sync/pull")):
        helpers.sync_now(page)
    expect(page.locator("#status .busy")).to_have_count(0, timeout=helpers.TIMEOUT)


def conflicted(browser, live_server):
    """Worker A's offline note conflicts with the head's: (context, page, head, child id, head's edit)."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    head = head_phone(live_server)
    child_id = live_server.ids.children["a1"]
    helpers.go_offline(context)
    edit_notes(page, MINE)
    first = head_edit(head, child_id, {"notes": "村主任：由祖母照料"})
    helpers.go_online(context)
    helpers.sync_now(page)
    expect(page.get_by_test_id("conflict-link")).to_be_visible(timeout=helpers.TIMEOUT)
    return context, page, head, child_id, first


def conflict_then_newer_edit(browser, live_server):
    """The head edits again before A settles the conflict, and A syncs meanwhile, pulling that
    newer copy while the record is busy."""
    context, page, head, child_id, first = conflicted(browser, live_server)
    newest = head_edit(head, child_id, NEWEST)
    assert newest["version"] > first["version"]
    sync_pulling(page)
    raw = json.dumps(helpers.raw_indexeddb(page), ensure_ascii=False)
    assert NEWEST["notes"] not in raw and NEWEST["school"] not in raw  # kept aside, but sealed
    open_conflict(page)
    expect(page.get_by_test_id("mine-notes")).to_have_text(MINE)
    expect(page.get_by_test_id("server-notes")).to_have_text(NEWEST["notes"])
    return context, page, head, newest


def test_taking_the_server_copy_takes_the_newest_pulled_meanwhile(browser, live_server):
    context, page, head, newest = conflict_then_newer_edit(browser, live_server)
    child_id = live_server.ids.children["a1"]
    page.get_by_role("button", name="全部采用服务器的").click()
    helpers.wait_synced(page)
    child = stored_child(page, child_id)
    assert (child["notes"], child["school"], child["_version"], child["_pending"]) == \
        (NEWEST["notes"], NEWEST["school"], newest["version"], 0)
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("link", name=re.compile(NAME)).click()
    expect(page.get_by_label("备注")).to_have_value(NEWEST["notes"])
    expect(page.locator("dd", has_text=NEWEST["school"])).to_be_visible()

    edit_notes(page, "网格员：已和学校核实")
    with page.expect_response(re.compile(r"/api/sync/push")) as pushed:
        helpers.sync_now(page)
    assert pushed.value.request.post_data_json["ops"][0]["base_version"] == newest["version"]
    assert pushed.value.json()["results"][0]["status"] == "applied"
    helpers.wait_synced(page)
    assert server_notes(live_server) == "网格员：已和学校核实"
    context.close()


def test_keeping_mine_rests_on_the_newest_server_version(browser, live_server):
    context, page, head, newest = conflict_then_newer_edit(browser, live_server)
    with page.expect_response(re.compile(r"/api/sync/push")) as pushed:
        page.get_by_role("button", name="全部采用我的").click()
    assert pushed.value.request.post_data_json["ops"][0]["base_version"] == newest["version"]
    assert pushed.value.json()["results"][0]["status"] == "applied"
    helpers.wait_synced(page)
    record = head.get(f"/api/children/{live_server.ids.children['a1']}").get_json()
    assert (record["notes"], record["school"]) == (MINE, NEWEST["school"])
    child = stored_child(page, live_server.ids.children["a1"])
    assert (child["notes"], child["school"], child["_version"]) == (MINE, NEWEST["school"], record["version"])
    context.close()


def test_a_record_deleted_on_the_server_meanwhile_leaves_the_phone(browser, live_server):
    context, page, head, child_id, first = conflicted(browser, live_server)
    deleted = head.post("/api/sync/push", json={
        "device_id": HEAD_DEVICE, "device_time": "2026-11-28T10:00:00+08:00", "schema_version": 1,
        "ops": [{"op_id": str(uuid.uuid4()), "entity": "child", "action": "delete", "id": child_id,
                 "base_version": first["version"], "data": {}}]}).get_json()
    assert deleted["results"][0]["status"] == "applied"
    sync_pulling(page)
    open_conflict(page)
    expect(page.get_by_text("在服务器上已被删除或已不在您的管辖范围内")).to_be_visible()
    page.get_by_role("button", name="知道了，从本机移除").click()
    helpers.wait_synced(page)
    assert stored_child(page, child_id) is None
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    expect(page.get_by_role("link", name=re.compile(NAME))).to_have_count(0)
    context.close()


def test_settling_a_conflict_keeps_a_later_edit_after_it(browser, live_server):
    context, page, head, child_id, first = conflicted(browser, live_server)
    helpers.go_offline(context)
    latest = "网格员：最新情况，母亲又外出"
    edit_notes(page, latest)
    open_conflict(page)
    expect(page.get_by_test_id("mine-notes")).to_have_text(MINE)
    page.get_by_role("button", name="全部采用我的").click()
    expect(page.locator("#toast")).to_have_text("已按您的选择保存，待同步")
    assert [op["data"]["notes"] for op in helpers.pending_ops(page)] == [MINE, latest]
    child = stored_child(page, child_id)
    assert (child["notes"], child["_version"], child["_pending"]) == (latest, first["version"], 2)

    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page)
    assert server_notes(live_server) == latest
    assert stored_child(page, child_id)["notes"] == latest
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("link", name=re.compile(NAME)).click()
    expect(page.get_by_label("备注")).to_have_value(latest)
    context.close()


def test_a_double_tap_settles_the_conflict_once(browser, live_server):
    context, page, head, child_id, first = conflicted(browser, live_server)
    open_conflict(page)
    page.evaluate(helpers.HOLD_SAVES)
    helpers.hold_saves(page)
    page.get_by_role("button", name="全部采用我的").dblclick()
    # Both taps have landed while the first one's settling waits to seal the op it queues: the
    # second began none (the outbox alone would take one op still, but the screen settle twice).
    assert helpers.sealed_ops(page) == 1
    with page.expect_response(re.compile(r"/api/sync/push")) as pushed:
        helpers.release_saves(page)
    ops = pushed.value.request.post_data_json["ops"]
    assert [(op["data"], op["base_version"]) for op in ops] == [({"notes": MINE}, first["version"])]
    assert [result["status"] for result in pushed.value.json()["results"]] == ["applied"]
    expect(page.locator("#toast")).to_have_text("已按您的选择保存，待同步")
    helpers.wait_synced(page)
    record = head.get(f"/api/children/{child_id}").get_json()
    assert (record["notes"], record["version"]) == (MINE, first["version"] + 1)
    context.close()


def test_a_merge_pick_is_kept_through_a_sync(browser, live_server):
    context, page, head, child_id, first = conflicted(browser, live_server)
    open_conflict(page)
    theirs = page.get_by_label(first["notes"])
    theirs.check()  # the head's note picked, not yet saved
    page.locator("#view form").evaluate("(form) => { form.dataset.old = ''; }")
    helpers.sync_in_background(page)
    expect(page.locator("#view form[data-old]")).to_have_count(1)  # not drawn again
    expect(theirs).to_be_checked()
    page.get_by_role("button", name="按所选合并保存").click()
    expect(page.locator("#toast")).to_have_text("已采用服务器的记录")
    helpers.wait_synced(page)
    child = stored_child(page, child_id)
    assert (child["notes"], child["_version"], child["_pending"]) == (first["notes"], first["version"], 0)
    assert server_notes(live_server) == first["notes"]
    context.close()
