"""A phone told to start its pull over (410 resync_required) keeps the register it has until the
full pull has come: a signal lost midway leaves the worker the children they had, not none."""
import uuid

from playwright.sync_api import expect

from server.sync.pull import prune_tombstones

from .. import factories
from ..sync.test_push_pull_basics import op, push
from . import helpers
from .conftest import PHONE
from .test_conflict import stored_child

ROWS = """async () => {
  const idb = await new Promise((ok) => {
    const r = indexedDB.open('hulei'); r.onsuccess = () => ok(r.result); });
  const rows = await new Promise((ok) => {
    const r = idb.transaction('records').objectStore('records').getAll(); r.onsuccess = () => ok(r.result); });
  idb.close();
  return rows.filter((row) => row.entity === 'child').map((row) => [row.id, Boolean(row.stale)]);
}"""


def test_a_resync_cut_off_midway_keeps_the_register_and_ends_with_the_servers(browser, live_server):
    ids = live_server.ids
    head = factories.ApiClient(live_server.app.test_client())
    head.login("head_a", device_id="phone-resync-head")
    sibling = str(uuid.uuid4())
    assert push(head, [op("child", "create", sibling, {"household_id": ids.households["a1"], "name": "欧阳明星",
                                                        "sex": "M", "categories": ["left_behind"]})]
                )["results"][0]["status"] == "applied"
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    assert stored_child(page, sibling)["name"] == "欧阳明星"

    # Deleted on the server, its tombstone pruned: the phone's cursor is past saving.
    assert push(head, [op("child", "delete", sibling, base_version=1)])["results"][0]["status"] == "applied"
    with live_server.app.app_context():
        assert prune_tombstones(-1) >= 1
    full_pulls = []

    def cut_off(route):
        if "cursor=" in route.request.url:
            route.continue_()
        else:
            full_pulls.append(route.request.url)
            route.abort("connectionreset")
    context.route("**/api/sync/pull*", cut_off)
    helpers.sync_now(page)
    expect(page.locator("#status .busy")).to_have_count(0, timeout=helpers.TIMEOUT)
    page.wait_for_function("() => !document.querySelector('[data-testid=sync-now]:disabled')",
                           timeout=helpers.TIMEOUT)
    assert len(full_pulls) == 1
    # Nothing taken yet: the register the worker had stays until the full pull has come.
    assert sorted(page.evaluate(ROWS)) == sorted([[ids.children["a1"], True], [sibling, True]])
    assert stored_child(page, sibling)["name"] == "欧阳明星"
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    expect(page.get_by_role("link", name="欧阳明月")).to_be_visible()

    context.unroute("**/api/sync/pull*", cut_off)
    helpers.sync_now(page)
    helpers.wait_synced(page)
    assert page.evaluate(ROWS) == [[ids.children["a1"], False]]
    assert stored_child(page, sibling) is None
    context.close()
