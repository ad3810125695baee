"""A record that left the phone's scope with an edit queued on it: the edit still shows and can be
given up, and when the record comes back it shows the edit over the server's copy until it goes."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Visit

from .. import factories
from . import helpers
from .outbox import OUTBOX, edited_then_moved_out, expect_all_settled, give_up, move_child, phone
from .test_conflict import (
    MINE,
    NAME,
    NEWEST,
    conflicted,
    head_edit,
    head_phone,
    open_conflict,
    server_notes,
    stored_child,
    sync_pulling,
)
from .test_offline import open_visit_form, record_visit
from .test_wipe import wait_sync_over


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


def conflicted_and_moved_out(browser, live_server):
    """A conflict on a child the head then moves out of the worker's reach: the pull evicts it."""
    context, page, head, child_id, first = conflicted(browser, live_server)
    move_child(live_server, "b1", "b")
    sync_pulling(page)
    assert stored_child(page, child_id) is None
    open_conflict(page)
    return context, page, child_id


def test_a_conflict_on_a_child_moved_out_of_reach_since_offers_only_removal(browser, live_server):
    context, page, child_id = conflicted_and_moved_out(browser, live_server)
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
    # A sync round still running must not bring it back by a pull first.
    context.route("**/api/sync/pull**", lambda route: route.abort())
    move_child(live_server, "a1", "a")
    assert stored_child(page, child_id) is None
    page.evaluate(KEEP_ANSWER, child_id)
    expect_back_with_edit(page, live_server, child_id)
    context.unroute("**/api/sync/pull**")
    sync_pulling(page)  # busy: the pull keeps the same copy aside
    expect_back_with_edit(page, live_server, child_id)
    retry_until_settled(page, live_server, child_id)
    context.close()


SYNC_HERE = "() => import('/js/sync.js').then((s) => s.sync())"


def test_notes_typed_for_a_child_moved_out_meanwhile_stay_in_the_form_and_nothing_is_queued(
        browser, live_server):
    context, page = phone(browser, live_server)
    child_id = live_server.ids.children["a1"]
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("link", name=re.compile(NAME)).click()
    page.get_by_label("备注").fill("网格员：移出前写下的备注")
    move_child(live_server, "b1", "b")
    page.evaluate(SYNC_HERE)  # the typed form holds the screen back from a redraw
    assert stored_child(page, child_id) is None
    page.get_by_role("button", name="保存备注").click()
    expect(page.locator("#toast")).to_have_text("这个儿童已不在本机（可能已移出您的管辖范围），备注未保存")
    expect(page.get_by_label("备注")).to_have_value("网格员：移出前写下的备注")
    expect(page.get_by_role("button", name="保存备注")).to_be_enabled()
    assert page.evaluate(OUTBOX) == {"pending": 0, "rejected": 0, "conflict": 0}
    context.close()


# The records as the phone's database holds them (not the store's copy in memory, read at a sync's end).
HELD_IDS = """(entity) => import('/js/db.js')
  .then(async (d) => (await d.allRecords()).filter((r) => r.entity === entity).map((r) => r.id))"""


def test_notes_saved_while_a_sync_is_taking_the_child_away_bring_it_back_to_nobody(browser, live_server):
    """The pull has written that the child left the worker's grid, the sync still runs (a second
    page on a slow line), the store's copy in memory still holds the child: saving its notes then
    queued an edit and wrote the child back on the phone, unversioned, as if registered here (its
    edit refused, 'waiting for its registration'). Nothing is queued; the typing stays."""
    context, page = phone(browser, live_server)
    child_id = live_server.ids.children["a1"]
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("link", name=re.compile(NAME)).click()
    page.get_by_label("备注").fill("网格员：移出时写下的备注")
    move_child(live_server, "b1", "b")
    held = []

    def second_page_waits(route):
        if held or not route.request.url.split("?")[0].endswith("/api/sync/pull"):
            held.append(route)
            return
        answer = route.fetch().json()
        held.append(None)
        route.fulfill(json={**answer, "more": True})
    page.route("**/api/sync/pull*", second_page_waits)
    page.evaluate("() => { import('/js/sync.js').then((s) => s.sync()); }")
    helpers.wait_until(page, f"(id) => ({HELD_IDS})('child').then((ids) => !ids.includes(id))", child_id)
    assert stored_child(page, child_id) is not None  # the store in memory is read again at the sync's end
    page.get_by_role("button", name="保存备注").click()
    expect(page.locator("#toast")).to_have_text("这个儿童已不在本机（可能已移出您的管辖范围），备注未保存")
    expect(page.get_by_label("备注")).to_have_value("网格员：移出时写下的备注")
    assert page.evaluate(OUTBOX) == {"pending": 0, "rejected": 0, "conflict": 0}
    assert child_id not in page.evaluate(HELD_IDS, "child")

    held[1].fulfill(json={"changes": [], "cursor": page.evaluate(
        "import('/js/db.js').then((d) => d.kvGet('cursor'))"), "more": False})
    helpers.wait_synced(page)
    assert stored_child(page, child_id) is None
    context.close()


# Hold the next settling of a queued op (its readonly look-up by op id, which only resolveConflict
# makes) until `releaseSettle()`: the op has been read, its transaction not begun.
HOLD_SETTLE = """() => {
  window.settleHeld = false;
  const gate = new Promise((open) => { window.releaseSettle = open; });
  const getKey = IDBIndex.prototype.getKey;
  IDBIndex.prototype.getKey = function (query) {
    const req = getKey.call(this, query);
    if (this.name !== 'op_id' || this.objectStore.transaction.mode !== 'readonly') return req;
    IDBIndex.prototype.getKey = getKey;
    window.settleHeld = true;
    Object.defineProperty(req, 'onsuccess', {
      set(fn) { req.addEventListener('success', (e) => gate.then(() => fn.call(req, e))); },
    });
    return req;
  };
}"""


def settle_while_a_pull_brings_it_back(page, live_server, child_id: str, press) -> None:
    """Press what settles the op on the evicted child (`press()`), and while it is on its way to
    its transaction let a sync pull the child back, busy with the op."""
    page.evaluate(HOLD_SETTLE)
    press()
    page.wait_for_function("() => window.settleHeld === true")
    move_child(live_server, "a1", "a")  # back in worker_a's grid
    page.evaluate(SYNC_HERE)
    assert stored_child(page, child_id)["_pending"] == 1
    page.evaluate("window.releaseSettle()")


def expect_servers_copy(page, live_server, child_id: str) -> None:
    """The child is on the phone as the server has it: no queued op, none of mine on it."""
    server = head_phone(live_server).get(f"/api/children/{child_id}").get_json()
    assert server["notes"] != MINE
    assert page.evaluate(OUTBOX) == {"pending": 0, "rejected": 0, "conflict": 0}
    child = stored_child(page, child_id)
    assert child is not None, "the pulled child was deleted by the give-up"
    assert (child["name"], child["notes"], child["_version"], child["_pending"]) == \
        (NAME, server["notes"], server["version"], 0)
    assert page.evaluate(KEPT, child_id) is None
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    expect(page.get_by_role("link", name=re.compile(NAME))).not_to_contain_text("待同步")


def test_giving_up_an_edit_of_a_child_pulled_back_meanwhile_keeps_the_servers_copy(browser, live_server):
    context, page, child_id, item = edited_then_moved_out(browser, live_server)

    def press():
        item.get_by_role("button", name="放弃此修改").click()
        page.get_by_role("dialog", name="放弃此修改").get_by_role("button", name="放弃并删除").click()
    settle_while_a_pull_brings_it_back(page, live_server, child_id, press)
    expect_all_settled(page, "已放弃此修改，本机已恢复为服务器上的记录")
    expect_servers_copy(page, live_server, child_id)
    context.close()


def test_removing_a_conflicted_child_pulled_back_meanwhile_keeps_the_servers_copy(browser, live_server):
    context, page, child_id = conflicted_and_moved_out(browser, live_server)
    remove = page.get_by_role("button", name="知道了，从本机移除")
    settle_while_a_pull_brings_it_back(page, live_server, child_id, remove.click)
    expect(page.locator("#toast")).to_have_text("已采用服务器的记录")
    helpers.wait_synced(page)
    expect_servers_copy(page, live_server, child_id)
    context.close()


def test_a_visit_recorded_offline_before_its_child_moved_away_is_kept_and_leaves_the_phone(browser,
                                                                                          live_server):
    context, page = phone(browser, live_server)
    child_id = live_server.ids.children["a1"]
    helpers.go_offline(context)
    record_visit(page, "欧阳明月", "搬走前的走访：孩子在家")
    move_child(live_server, "b1", "b")  # out of worker_a's grid while the phone was offline
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page)
    expect(page.get_by_text("没有需要处理的记录。")).to_be_visible()
    assert page.evaluate(OUTBOX) == {"pending": 0, "rejected": 0, "conflict": 0}
    with live_server.app.app_context():
        visits = [(v.notes, v.grid_id, v.worker_id) for v in db.session.scalars(
            select(Visit).where(Visit.child_id == child_id))]
        db.session.remove()
    ids = live_server.ids
    assert visits == [("搬走前的走访：孩子在家", ids.grids["b1"], ids.users["worker_a"])]
    # The child and the visit filed for it both leave the phone (the next pull evicts the visit).
    helpers.sync_now(page)
    helpers.wait_synced(page)
    assert stored_child(page, child_id) is None
    held = page.evaluate("() => import('/js/store.js').then((s) => s.all('visit'))")
    assert [v for v in held if v.get("child_id") == child_id] == []
    context.close()


QUEUED = """() => import('/js/db.js').then((d) => d.outboxByState('pending')).then((ops) => ops.map(
  ({ op_id, entity, action, id, data, cursor }) =>
    ({ op_id, entity, action, id, child_id: data.child_id, cursor })))"""


def offline_visit(browser, live_server, notes: str):
    """worker_a's phone, synced, then offline with a visit to child a1 recorded: (context, page, its op),
    the op keeping the pull cursor the phone had as it was recorded."""
    context, page = phone(browser, live_server)
    helpers.go_offline(context)
    record_visit(page, "欧阳明月", notes)
    [queued] = page.evaluate(QUEUED)
    assert (queued["entity"], queued["action"], queued["child_id"], queued["cursor"] is not None) == (
        "visit", "create", live_server.ids.children["a1"], True)
    return context, page, queued


def move_worker(live_server, username: str, grid: str) -> None:
    """The town admin gives the worker another grid instead of theirs (which ends their sessions)."""
    ids = live_server.ids
    admin = factories.ApiClient(live_server.app.test_client())
    admin.login("admin")
    response = admin.patch(f"/api/users/{ids.users[username]}", json={"grid_ids": [ids.grids[grid]]})
    assert response.status_code == 200, response.get_json()


def test_a_visit_recorded_offline_before_the_worker_was_moved_to_another_grid_is_kept_and_leaves_the_phone(
        browser, live_server):
    context, page, queued = offline_visit(browser, live_server, "调走前的走访：孩子在家")
    ids = live_server.ids
    child_id = ids.children["a1"]
    move_worker(live_server, "worker_a", "a2")  # worker_a leaves grid a1 while the phone is offline

    answers = []

    def pushed(response):
        if "/api/sync/push" in response.url and response.ok:
            ops, results = response.request.post_data_json["ops"], response.json()["results"]
            answers.extend((op["id"], a["status"], a.get("out_of_scope")) for op, a in zip(ops, results))
    page.on("response", pushed)
    # Back in coverage the phone syncs by itself; the move ended its server session, so it must
    # log in again. (Waiting for that sync to end first: a later round would redraw the form.)
    with page.expect_response("**/api/sync/push", timeout=helpers.TIMEOUT) as refused:
        helpers.go_online(context)
    assert refused.value.status == 401
    expect(page.get_by_role("link", name="去登录")).to_be_visible(timeout=helpers.TIMEOUT)
    expect(page.locator("#status .busy")).to_have_count(0, timeout=helpers.TIMEOUT)
    assert answers == []
    page.locator("#nav").get_by_role("link", name="同步").click()
    relogin = page.locator("form.card").filter(has_text="重新连接服务器")
    relogin.get_by_label("密码").fill(factories.PASSWORD)
    with page.expect_response("**/api/sync/push", timeout=helpers.TIMEOUT) as taken:
        relogin.get_by_role("button", name="登录").click()
    assert [(a["status"], a.get("out_of_scope")) for a in taken.value.json()["results"]] == [("applied", True)]
    helpers.wait_synced(page)
    expect(page.get_by_role("link", name="去登录")).to_have_count(0)
    expect(page.get_by_text("没有需要处理的记录。")).to_be_visible()
    assert answers == [(queued["id"], "applied", True)]
    assert page.evaluate(OUTBOX) == {"pending": 0, "rejected": 0, "conflict": 0}
    with live_server.app.app_context():
        visits = [(v.id, v.notes, v.grid_id, v.worker_id) for v in db.session.scalars(
            select(Visit).where(Visit.child_id == child_id))]
        db.session.remove()
    assert visits == [(queued["id"], "调走前的走访：孩子在家", ids.grids["a1"], ids.users["worker_a"])]

    # The old grid's child and the visit filed for it have left the phone; the new grid's came.
    assert stored_child(page, child_id) is None
    assert stored_child(page, ids.children["a2"]) is not None
    held = page.evaluate("() => import('/js/store.js').then((s) => s.all('visit'))")
    assert [v for v in held if v.get("child_id") == child_id or v.get("id") == queued["id"]] == []
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("searchbox").fill("")  # record_visit searched for the child
    expect(page.get_by_role("link", name=re.compile("司马小雨"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(NAME))).to_have_count(0)
    context.close()


def move_household(live_server, household: str, grid: str) -> None:
    """The village head moves a household (and so its children) to another grid of the village."""
    response = head_phone(live_server).edit(f"/api/households/{live_server.ids.households[household]}",
                                            {"grid_id": live_server.ids.grids[grid]})
    assert response.status_code == 200, response.get_json()


def test_a_visit_set_aside_before_its_child_moved_away_is_kept_when_retried_after_the_move(
        browser, live_server):
    context, page, queued = offline_visit(browser, live_server, "搬走前的走访：监护人在家")
    ids = live_server.ids
    child_id = ids.children["a1"]
    move_household(live_server, "a1", "a2")  # out of worker_a's grid while the phone is offline

    # The first push is turned back (a passing fault); the pull that follows takes the child away.
    first = []

    def refuse(route):
        first.append(route.request.post_data_json)
        route.fulfill(json={"results": [{"op_id": op["op_id"], "status": "rejected", "id": None,
                                         "version": None, "errors": {"_op": ["服务器暂时无法处理"]}}
                                        for op in route.request.post_data_json["ops"]],
                            "cursor": route.request.post_data_json["cursor"]})
    context.route("**/api/sync/push", refuse)
    helpers.go_online(context)
    helpers.sync_now(page)
    item = page.get_by_test_id("rejected-op").filter(has_text="服务器暂时无法处理")
    expect(item).to_contain_text("被退回：走访", timeout=helpers.TIMEOUT)
    helpers.wait_synced(page, unsynced=1)
    context.unroute("**/api/sync/push", refuse)
    assert [[op["op_id"] for op in body["ops"]] for body in first] == [[queued["op_id"]]]
    assert "cursor" not in first[0]["ops"][0]  # the phone's cursor then was the op's own
    assert page.evaluate(OUTBOX) == {"pending": 0, "rejected": 1, "conflict": 0}
    assert stored_child(page, child_id) is None  # evicted by the pull, its visit still queued
    assert page.evaluate("(id) => import('/js/store.js').then((s) => s.one('visit', id))",
                         queued["id"]) is not None

    # Retried: the push says what the phone held when it recorded the visit, not what it holds now.
    pushes = []
    page.on("request", lambda request: pushes.append(request.post_data_json)
            if "/api/sync/push" in request.url else None)
    with page.expect_response("**/api/sync/push", timeout=helpers.TIMEOUT) as retried:
        item.get_by_role("button", name="重新提交").click()
    [body] = pushes
    [sent] = body["ops"]
    assert (sent["id"], sent.get("cursor")) == (queued["id"], queued["cursor"])
    assert body["cursor"] and sent["cursor"] != body["cursor"]  # the phone's has moved past the move
    assert retried.value.status == 200
    [result] = retried.value.json()["results"]
    assert (result["op_id"], result["status"], result["id"], result.get("out_of_scope")) == \
        (sent["op_id"], "applied", queued["id"], True), result
    helpers.wait_synced(page)
    expect_all_settled(page, "已放回待同步队列")
    assert len(pushes) == 1
    with live_server.app.app_context():
        visits = [(v.id, v.notes, v.grid_id, v.worker_id) for v in db.session.scalars(
            select(Visit).where(Visit.child_id == child_id))]
        db.session.remove()
    assert visits == [(queued["id"], "搬走前的走访：监护人在家", ids.grids["a2"], ids.users["worker_a"])]

    # Neither the child nor the visit filed for it is on the phone.
    assert stored_child(page, child_id) is None
    held = page.evaluate("() => import('/js/store.js').then((s) => s.all('visit'))")
    assert [v for v in held if v.get("child_id") == child_id or v.get("id") == queued["id"]] == []
    context.close()


def test_a_visit_being_typed_while_a_sync_took_its_child_away_is_kept(browser, live_server):
    """The visit form is being filled in when a background sync pulls the household's move: the form
    holds its typing, so the screen still shows the child. Saved, the visit says what the phone held
    as it showed the child (not the cursor the pull left), and is kept."""
    context, page = phone(browser, live_server)
    ids = live_server.ids
    child_id = ids.children["a1"]
    open_visit_form(page, "欧阳明月")
    page.get_by_role("group", name="在校就读").get_by_label("是").check()
    page.get_by_label("走访情况").fill("表单打开时孩子已搬走")
    move_household(live_server, "a1", "a2")
    page.evaluate(SYNC_HERE)  # the background round, while the form is being filled in
    wait_sync_over(page)
    assert stored_child(page, child_id) is None  # the pull took the child off the phone
    expect(page.get_by_label("走访情况")).to_have_value("表单打开时孩子已搬走")

    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_role("heading", name="未找到")).to_be_visible()  # saved, back on the child that left
    helpers.sync_now(page)
    helpers.wait_synced(page)
    assert page.evaluate(OUTBOX) == {"pending": 0, "rejected": 0, "conflict": 0}
    with live_server.app.app_context():
        visits = [(v.notes, v.grid_id, v.worker_id) for v in db.session.scalars(
            select(Visit).where(Visit.child_id == child_id)) if v.notes == "表单打开时孩子已搬走"]
        db.session.remove()
    assert visits == [("表单打开时孩子已搬走", ids.grids["a2"], ids.users["worker_a"])]
    held = page.evaluate("() => import('/js/store.js').then((s) => s.all('visit'))")
    assert [v for v in held if v.get("child_id") == child_id] == []
    context.close()
