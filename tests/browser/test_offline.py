"""The offline round trip and the lost push response."""
import re
import threading

from playwright.sync_api import expect
from sqlalchemy import func, select

from server.extensions import db
from server.models import AppliedOp, Inspection, Visit

from . import helpers
from .conftest import PHONE, persistent

NAMES = ("欧阳明月", "司马小雨", "诸葛晓东")
# The town admin, who can reach every child and venue here, sees names (and their pinyin initials)
# masked, a worker whole: both find a child by the characters a masked name keeps.
SHOWN = {"欧阳明月": ("欧", "欧**月"), "司马小雨": ("司", "司**雨"), "诸葛晓东": ("诸", "诸**东")}


def shown(name: str) -> re.Pattern:
    return re.compile(f"^({re.escape(name)}|{re.escape(SHOWN[name][1])})")


def open_visit_form(page, name: str) -> None:
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("searchbox").fill(SHOWN[name][0])  # the town office searches names as shown
    page.get_by_role("link", name=shown(name)).click()
    page.get_by_role("link", name="记录走访").click()
    expect(page.get_by_test_id("gps")).to_contain_text("精度")


def record_visit(page, name: str, note: str) -> None:
    open_visit_form(page, name)
    page.get_by_role("group", name="在校就读").get_by_label("是").check()
    page.get_by_label("走访情况").fill(note)
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_role("heading", name=shown(name))).to_be_visible()


def record_inspection(page, venue: str) -> None:
    page.locator("#nav").get_by_role("link", name="我的场所").click()
    page.get_by_role("link", name=re.compile(f"^{venue}")).click()
    expect(page.get_by_role("heading", name="“五必须”")).to_be_visible()
    items = page.locator(".check-item")
    for i in range(items.count()):
        items.nth(i).get_by_label("合格", exact=True).check()
    items.nth(0).get_by_label("不合格").check()
    expect(items.nth(0).get_by_label("整改期限")).to_be_visible()
    page.get_by_label("检查情况").fill("前台登记不全")
    page.get_by_role("button", name="保存检查").click()
    expect(page.get_by_role("heading", name="我的场所")).to_be_visible()


def test_offline_round_trip(pw, live_server, tmp_path):
    profile = tmp_path / "phone"
    context = persistent(pw, profile)
    page = context.pages[0] if context.pages else context.new_page()
    helpers.login(page, live_server.url, "admin")
    helpers.wait_installed(page)

    helpers.go_offline(context)
    page.reload()
    helpers.unlock(page)
    expect(page.get_by_test_id("net")).to_have_text("离线")
    for name in NAMES:
        record_visit(page, name, f"{name}在家，情况良好")
    record_inspection(page, "测试a宾馆")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 4")
    context.close()

    context = persistent(pw, profile, offline=True)
    helpers.go_offline(context)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(live_server.url + "/")
    helpers.unlock(page)
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 4")
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("link", name=shown(NAMES[0])).click()
    expect(page.get_by_text(f"{NAMES[0]}在家，情况良好")).to_be_visible()

    raw = str(helpers.raw_indexeddb(page))
    assert "hulei/records" in raw and "hulei/outbox" in raw
    for name in NAMES:
        assert name not in raw
    assert "情况良好" not in raw and "前台登记不全" not in raw

    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page)
    context.close()

    with live_server.app.app_context():
        visits = db.session.scalars(select(Visit)).all()
        assert sorted(v.notes for v in visits) == sorted(f"{n}在家，情况良好" for n in NAMES)
        assert db.session.scalar(select(func.count()).select_from(Inspection)) == 1
        assert db.session.scalar(select(func.count()).select_from(AppliedOp)) == 4


def test_lost_push_response_is_retried_without_duplicates(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.go_offline(context)
    record_visit(page, NAMES[0], "第一次走访")
    record_visit(page, NAMES[0], "第二次走访")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 2")

    pushes = []

    def lose_first_answer(route):
        pushes.append(route.request.post_data_json)
        response = route.fetch()  # the server commits the batch...
        if len(pushes) == 1:
            assert response.status == 200
            route.abort("connectionreset")  # ...but the phone never hears back
        else:
            route.fulfill(response=response)

    context.route("**/api/sync/push", lose_first_answer)
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page)
    assert len(pushes) >= 2
    assert [op["op_id"] for op in pushes[1]["ops"]] == [op["op_id"] for op in pushes[0]["ops"]]
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("link", name=shown(NAMES[0])).click()
    expect(page.locator(".list .item")).to_have_count(2)
    expect(page.locator(".list .tag", has_text="待同步")).to_have_count(0)  # both shown as synced
    context.close()

    with live_server.app.app_context():
        notes = [v.notes for v in db.session.scalars(select(Visit))]
        assert sorted(notes) == ["第一次走访", "第二次走访"]
        assert db.session.scalar(select(func.count()).select_from(AppliedOp)) == 2


def test_a_push_that_hangs_is_given_up_and_the_next_sync_sends_it(browser, live_server):
    """On a weak signal a request can hang without failing; the sync holding its lock meanwhile
    would send nothing until the app was closed."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    page.evaluate("import('/js/api.js').then((api) => { api.TIMEOUTS.json = 1500; })")
    hung = []
    context.route("**/api/sync/push", lambda route: hung.append(route))  # never answered
    record_visit(page, "欧阳明月", "信号很弱时记录的走访")
    helpers.sync_now(page)
    expect(page.get_by_text(re.compile("^同步失败")).first).to_be_visible(timeout=helpers.TIMEOUT)
    assert len(hung) >= 1
    context.unroute("**/api/sync/push")
    # The signal is back: the next sync is not held to the short limit, which a loaded server can overrun.
    page.evaluate("import('/js/api.js').then((api) => { api.TIMEOUTS.json = 300000; })")
    helpers.sync_now(page)
    helpers.wait_synced(page)
    context.close()
    with live_server.app.app_context():
        notes = [v.notes for v in db.session.scalars(select(Visit))]
    assert notes.count("信号很弱时记录的走访") == 1


def test_a_sync_asked_for_while_one_runs_waits_for_it(browser, live_server, monkeypatch):
    """The sync button, a retried op or a settled conflict asks for a sync while one may be running:
    the caller waits for the one running, instead of being answered at once."""
    from server.routes import sync as sync_routes

    arrived, go_on, real = threading.Event(), threading.Event(), sync_routes.push_batch

    def held_push(*args, **kwargs):  # the server takes the push, then waits for the test
        arrived.set()
        go_on.wait(30)
        return real(*args, **kwargs)
    monkeypatch.setattr(sync_routes, "push_batch", held_push)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    record_visit(page, "欧阳明月", "同步进行中时记录的走访")
    page.evaluate("() => { import('/js/sync.js').then((s) => { s.sync(); }); }")
    assert arrived.wait(30)
    # Not awaited here: the page's promise settles only once the running sync has.
    page.evaluate("() => { import('/js/sync.js').then((s) => s.sync())"
                  ".then(() => { window.secondDone = true; }); }")
    page.wait_for_timeout(500)
    assert page.evaluate("Boolean(window.secondDone)") is False  # still waiting for the running sync
    go_on.set()
    page.wait_for_function("() => window.secondDone === true", timeout=helpers.TIMEOUT)
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 0")
    context.close()
    with live_server.app.app_context():
        notes = [v.notes for v in db.session.scalars(select(Visit))]
    assert notes.count("同步进行中时记录的走访") == 1
