"""What the server refuses for good is given up by hand, and a push too large for the server goes
in halves."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Visit

from . import helpers
from .outbox import expect_all_settled, give_up, phone, refused_edit
from .test_conflict import (
    NAME,
    NEWEST,
    edit_notes,
    head_edit,
    head_phone,
    server_notes,
    stored_child,
    sync_pulling,
)
from .test_offline import record_visit


def test_giving_up_a_refused_edit_takes_the_server_record_back(browser, live_server):
    context, page = phone(browser, live_server)
    child_id = live_server.ids.children["a1"]
    before = stored_child(page, child_id)
    refused_edit(page, child_id, "网格员：孩子转学了")
    item = page.get_by_test_id("rejected-op")
    expect(item).to_contain_text("修改内容：备注：网格员：孩子转学了")
    expect(item).to_contain_text("学校：")  # the server's reason, by the field's name
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

    # Back online the app syncs at once: the push may be its, before 立即同步 is pressed.
    with page.expect_response(re.compile(r"/api/sync/push")) as pushed:
        helpers.go_online(context)
        helpers.sync_now(page)
    assert pushed.value.request.post_data_json["ops"][0]["base_version"] == newest["version"]
    assert pushed.value.json()["results"][0]["status"] == "applied"
    helpers.wait_synced(page)
    record = head.get(f"/api/children/{child_id}").get_json()
    assert (record["notes"], record["school"]) == (latest, NEWEST["school"])
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


def test_a_refused_edit_says_what_sending_it_again_would_overwrite(browser, live_server):
    """An edit turned back once (a cause fixed elsewhere), then a later edit of the same field
    applied: the refused one says the phone now holds the later value, which 重新提交 would replace
    (the server takes the phone's own later edit as seen, no conflict)."""
    context, page = phone(browser, live_server)

    def refuse(route):
        route.fulfill(json={"results": [{"op_id": op["op_id"], "status": "rejected",
                                         "errors": {"_op": ["请稍后重新提交"]}}
                                        for op in route.request.post_data_json["ops"]]})
    context.route("**/api/sync/push", refuse)
    edit_notes(page, "网格员：先记的情况")
    helpers.sync_now(page)
    item = page.get_by_test_id("rejected-op")
    expect(item).to_contain_text("请稍后重新提交", timeout=helpers.TIMEOUT)
    expect(item.get_by_test_id("overwrites")).to_have_count(0)
    context.unroute("**/api/sync/push", refuse)

    edit_notes(page, "网格员：后来核实的情况")
    helpers.sync_now(page)
    helpers.wait_synced(page, unsynced=1)
    assert server_notes(live_server) == "网格员：后来核实的情况"
    expect(item.get_by_test_id("overwrites")).to_have_text(
        "本机现为：备注：网格员：后来核实的情况。重新提交会改回上面的修改内容。")
    context.close()
