"""今日待办 and the screens around it: who may record an inspection (venue.js mayInspect), the grid
worker's 逾期走访 and 尚未走访, the village head's 村务待办, and the children list cut at 100."""
import re
from datetime import datetime, timedelta
from itertools import product

from playwright.sync_api import expect

from server.extensions import db
from server.models import Child, Grid, Household, new_id

from .. import factories
from ..workflow.helpers import TZ, today
from . import helpers
from .conftest import PHONE

VERIFY = "前台未查验身份证件"
READ_ONLY = "场所检查由联合执法队员记录。"


def add_children(server, grid_key: str, rows: list[dict]) -> dict[str, str]:
    """Register children in one household of a grid, straight in the database as the town fixture
    does (the change log picks them up for the pull); each row: name, and optionally risk_level,
    next_visit_due, last_visit_at, registered_at. Return their ids by name."""
    with server.app.app_context():
        grid = db.session.get(Grid, server.ids.grids[grid_key])
        household = Household(id=new_id(), grid_id=grid.id, village_id=grid.village_id,
                              family_type="left_behind")
        household.address = f"测试镇{grid_key}组99号"
        household.guardians = [{"name": "监护人王大山", "relation": "祖父", "phone": "13900009999"}]
        db.session.add(household)
        db.session.flush()
        ids = {}
        for row in rows:
            child = Child(id=new_id(), household_id=household.id, grid_id=grid.id, village_id=grid.village_id,
                          sex="M", categories=["left_behind"], birth_year=2016,
                          risk_level=row.get("risk_level", "low"), next_visit_due=row.get("next_visit_due"),
                          last_visit_at=row.get("last_visit_at"))
            if "registered_at" in row:
                child.registered_at = row["registered_at"]
            child.name = row["name"]
            db.session.add(child)
            ids[row["name"]] = child.id
        db.session.commit()
        return ids


def open_today(page) -> None:
    page.locator("#nav").get_by_role("link", name="今日待办").click()
    expect(page.get_by_role("heading", name="今日待办")).to_be_visible()


def section(page, heading_id: str):
    return page.locator(f"section[aria-labelledby={heading_id}]")


def names(locator) -> list[str]:
    return locator.locator("li strong").all_inner_texts()


def go(page, address: str) -> None:
    page.evaluate(f"location.hash = '{address}'")


# --- 1. Only inspectors and the town office record inspections ---------------------------------

def _failed_inspection(server, at: datetime | None = None) -> dict:
    """The inspector's inspection of 测试a宾馆 two days ago (or `at`): identity checks failed, to be fixed."""
    api = factories.ApiClient(server.app.test_client())
    api.login("inspector")
    at = at or datetime.now(TZ) - timedelta(days=2)
    response = api.post("/api/inspections", json={
        "venue_id": server.ids.venues["a"], "inspected_at": at.isoformat(),
        "answers": [{"item": "verify_identity", "result": "fail", "note": VERIFY,
                     "deadline": (at.date() + timedelta(days=30)).isoformat()},
                    {"item": "ask_guardian", "result": "pass"}]})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _venue_reads_only(page, venue_id: str, name: str, inspection_id: str) -> None:
    """The venue's card opens its records; its screen and every inspection address offer no form."""
    page.locator("#nav").get_by_role("link", name="我的场所").click()
    expect(page.get_by_role("heading", name="我的场所")).to_be_visible()
    card = page.locator(f"li.venue[data-venue='{venue_id}']")
    expect(card.get_by_test_id("open-violations")).to_have_text("待整改 1")
    expect(card.locator("a.item")).to_have_attribute("href", f"#/venue/{venue_id}")
    expect(page.locator(".venue-actions")).to_have_count(0)  # no 检查记录 / 复查 buttons on any card
    expect(page.get_by_role("link", name=re.compile("^(复查|检查记录) "))).to_have_count(0)
    card.locator("a.item").click()
    expect(page).to_have_url(re.compile(f"#/venue/{venue_id}$"))
    expect(page.get_by_role("heading", name="检查记录（1）")).to_be_visible()
    expect(page.get_by_test_id("inspection")).to_contain_text("不合格 1 项")
    expect(page.get_by_test_id("open-violations")).to_have_text("待整改 1")
    view = page.locator("#view")
    expect(view.get_by_role("link", name="检查", exact=True)).to_have_count(0)
    expect(view.get_by_role("link", name="复查", exact=True)).to_have_count(0)
    expect(view.locator("a[href^='#/inspect/']")).to_have_count(0)

    for address in (f"#/inspect/{venue_id}", f"#/inspect/{venue_id}/{inspection_id}"):
        go(page, "#/venues")
        expect(page.get_by_role("heading", name="我的场所")).to_be_visible()
        go(page, address)
        expect(page.locator("#view .banner")).to_have_text(READ_ONLY)
        expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
        expect(page.locator(".check-item")).to_have_count(0)
        expect(page.get_by_role("button", name="保存检查")).to_have_count(0)
        link = page.get_by_role("link", name="查看该场所的检查记录")
        expect(link).to_have_attribute("href", f"#/venue/{venue_id}")
    link.click()
    expect(page.get_by_role("heading", name="检查记录（1）")).to_be_visible()


def test_a_village_head_and_the_police_read_venues_but_record_no_inspection(browser, live_server):
    inspection = _failed_inspection(live_server)
    venue_a = live_server.ids.venues["a"]

    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    helpers.login(page, live_server.url, "head_a")
    open_today(page)
    # The screen is drawn (its children's lists are there) and lists no venue to inspect.
    expect(section(page, "never-h").get_by_role("heading")).to_have_text("尚未走访（2）")
    expect(page.get_by_role("heading", name="待检查场所")).to_have_count(0)
    expect(page.locator("#view a[href^='#/inspect/']")).to_have_count(0)
    _venue_reads_only(page, venue_a, "测试a宾馆", inspection["id"])
    go(page, f"#/inspect/{venue_a}")
    expect(page.locator("#view .banner")).to_have_text(READ_ONLY)
    problems += helpers.check_screen(page, "todo-01-head-inspect-read-only")
    context.close()

    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "police")
    open_today(page)
    expect(page.get_by_test_id("clues-waiting").get_by_role("link")).to_have_text("1 条线索待受理")
    expect(page.get_by_role("heading", name="待检查场所")).to_have_count(0)
    expect(page.locator("#view a[href^='#/inspect/']")).to_have_count(0)
    page.locator("#nav").get_by_role("link", name="我的场所").click()
    expect(page.locator("li.venue a.item")).to_have_count(2)
    hrefs = page.locator("li.venue a.item").evaluate_all("(els) => els.map((a) => a.getAttribute('href'))")
    assert sorted(hrefs) == sorted(f"#/venue/{v}" for v in live_server.ids.venues.values())
    _venue_reads_only(page, venue_a, "测试a宾馆", inspection["id"])
    context.close()
    assert problems == []


def test_an_inspector_still_opens_the_inspection_form(browser, live_server):
    inspection = _failed_inspection(live_server)
    venue_a, venue_b = live_server.ids.venues["a"], live_server.ids.venues["b"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "inspector")
    open_today(page)
    # Never inspected first, then the oldest inspection.
    expect(section(page, "venue-h").locator("a.item")).to_have_count(2)
    assert names(section(page, "venue-h")) == ["测试b宾馆", "测试a宾馆"]
    assert section(page, "venue-h").locator("a.item").evaluate_all(
        "(els) => els.map((a) => a.getAttribute('href'))") == [f"#/inspect/{venue_b}", f"#/inspect/{venue_a}"]

    page.locator("#nav").get_by_role("link", name="我的场所").click()
    card = page.locator(f"li.venue[data-venue='{venue_a}']")
    expect(card.locator("a.item")).to_have_attribute("href", f"#/inspect/{venue_a}")
    expect(card.get_by_role("link", name="复查 测试a宾馆")).to_have_attribute(
        "href", f"#/inspect/{venue_a}/{inspection['id']}")
    card.get_by_role("link", name="检查记录 测试a宾馆").click()
    expect(page.get_by_role("heading", name="检查记录（1）")).to_be_visible()
    view = page.locator("#view")
    expect(view.get_by_role("link", name="复查", exact=True)).to_have_attribute(
        "href", f"#/inspect/{venue_a}/{inspection['id']}")
    view.get_by_role("link", name="检查", exact=True).click()
    expect(page.get_by_role("heading", name="检查 测试a宾馆")).to_be_visible()
    expect(page.locator(".check-item").first).to_be_visible()
    expect(page.get_by_role("button", name="保存检查")).to_be_visible()
    expect(page.get_by_text(READ_ONLY)).to_have_count(0)
    context.close()

    # The town office records inspections too.
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "admin")
    open_today(page)
    expect(section(page, "venue-h").locator("a.item")).to_have_count(2)
    page.locator("#nav").get_by_role("link", name="我的场所").click()
    card = page.locator(f"li.venue[data-venue='{venue_a}']")
    expect(card.locator("a.item")).to_have_attribute("href", f"#/inspect/{venue_a}")
    card.get_by_role("link", name="复查 测试a宾馆").click()
    expect(page.get_by_role("heading", name="复查 测试a宾馆")).to_be_visible()
    expect(page.locator(".check-item").first).to_be_visible()
    expect(page.get_by_text(READ_ONLY)).to_have_count(0)
    context.close()


def test_a_night_inspection_shows_the_day_it_was_made_in_the_town(browser, live_server):
    """Bars and KTVs are inspected at night: one made at 01:30 Beijing time is 17:30 the day before in UTC,
    as the server gives it; every screen dates it by the town's day."""
    day = today() - timedelta(days=2)
    night = datetime.combine(day, datetime.min.time(), TZ).replace(hour=1, minute=30)
    inspection = _failed_inspection(live_server, night)
    venue_a = live_server.ids.venues["a"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "inspector")
    open_today(page)
    expect(section(page, "venue-h").locator("li", has_text="测试a宾馆").locator(".meta")).to_have_text(
        f"上次检查 {day}")

    page.locator("#nav").get_by_role("link", name="我的场所").click()
    expect(page.locator(f"li.venue[data-venue='{venue_a}'] a.item .meta")).to_have_text(f"上次检查 {day}")

    go(page, f"#/inspect/{venue_a}/{inspection['id']}")
    expect(page.locator("#view .banner.info")).to_have_text(
        f"复查 {day} 的检查：1 项待整改，先逐项复查；合格的问题将销项。")
    context.close()


def test_an_inspection_saved_offline_moves_its_venue_down_the_inspectors_to_do(browser, live_server):
    """The to-do's 待检查场所 counts the phone's unsynced inspection as the venue's last, as 我的场所 does:
    a venue just inspected with no signal is not left at the top as never inspected."""
    _failed_inspection(live_server)
    venue_b = live_server.ids.venues["b"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "inspector")
    helpers.go_offline(context)
    go(page, f"#/inspect/{venue_b}")
    expect(page.get_by_role("heading", name="检查 测试b宾馆")).to_be_visible()
    page.locator(".check-item").first.get_by_label("合格", exact=True).check()
    page.get_by_role("button", name="保存检查").click()
    expect(page.get_by_role("heading", name="我的场所")).to_be_visible()
    card = page.locator(f"li.venue[data-venue='{venue_b}'] .meta")
    expect(card).to_contain_text(f"上次检查 {today()}（待同步）")

    open_today(page)
    venues = section(page, "venue-h")
    expect(venues.locator("a.item")).to_have_count(2)
    assert names(venues) == ["测试a宾馆", "测试b宾馆"]
    assert venues.locator(".meta").all_inner_texts() == [
        f"上次检查 {today() - timedelta(days=2)}", f"上次检查 {today()}（待同步）"]
    context.close()


# --- 2. The grid worker's 逾期走访 and 尚未走访 ------------------------------------------------

def _visit_offline(page, child_id: str, name: str, note: str) -> None:
    go(page, f"#/child/{child_id}")
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    page.get_by_role("link", name="记录走访").click()
    expect(page.get_by_test_id("gps")).to_contain_text("精度")
    page.get_by_role("group", name="在校就读").get_by_label("是").check()
    page.get_by_label("走访情况").fill(note)
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()


def _overdue_on_the_server(server, ids: dict[str, str]) -> set[str]:
    """The names of the children the server's to-do calls overdue for worker_a."""
    worker = factories.ApiClient(server.app.test_client())
    worker.login("worker_a")
    names_by_id = {child_id: name for name, child_id in ids.items()}
    tasks = worker.get("/api/tasks").get_json()["tasks"]
    return {names_by_id.get(t["entity_id"], t["entity_id"]) for t in tasks if t["kind"] == "overdue_visit"}


def test_a_grid_worker_sees_overdue_visits_apart_from_children_never_visited(browser, live_server):
    day = today()

    def due(name: str, risk: str, in_days: int, visited_days_ago: int) -> dict:
        return {"name": name, "risk_level": risk, "next_visit_due": day + timedelta(days=in_days),
                "last_visit_at": datetime.now(TZ) - timedelta(days=visited_days_ago)}

    # Named so that neither the name order nor the order they were added is the order expected.
    ids = add_children(live_server, "a1", [
        due("钱多多", "low", 0, 182), due("孙悦", "high", -20, 50), due("吴晓丽", "high", -3, 33),
        due("周大伟", "medium", -10, 100), due("李明", "high", 5, 25),
        {"name": "何静", "risk_level": "low"}, {"name": "马超", "risk_level": "medium"},
        {"name": "杨帆", "risk_level": "high"},
        {"name": "赵小兰", "risk_level": "high", "registered_at": datetime.now(TZ) - timedelta(days=45)},
    ])
    # and 欧阳明月 of the town fixture: low risk, never visited.
    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    helpers.login(page, live_server.url, "worker_a")
    open_today(page)
    overdue, due_today = section(page, "overdue-h"), section(page, "due-today-h")
    never, near = section(page, "never-h"), section(page, "near-h")
    expect(overdue.get_by_role("heading")).to_have_text("逾期走访（4）")
    # Overdue is due before today, and a child never visited is due a full interval (high risk:
    # 30 days) after registration, as the server's to-do counts them.
    assert names(overdue) == ["孙悦", "赵小兰", "周大伟", "吴晓丽"]
    assert overdue.locator(".meta").all_inner_texts() == [
        f"应于 {day - timedelta(days=20)} 走访", f"登记后尚未走访，应于 {day - timedelta(days=15)} 走访",
        f"应于 {day - timedelta(days=10)} 走访", f"应于 {day - timedelta(days=3)} 走访"]
    assert set(names(overdue)) == _overdue_on_the_server(live_server, ids)
    expect(due_today.get_by_role("heading")).to_have_text("今天应走访（1）")
    assert (names(due_today), due_today.locator(".meta").all_inner_texts()) == (["钱多多"], ["今天应走访"])
    expect(never.get_by_role("heading")).to_have_text("尚未走访（4）")
    assert names(never) == ["杨帆", "马超", "何静", "欧阳明月"]
    assert never.locator(".meta").all_inner_texts() == [
        f"登记后尚未走访，应于 {day + timedelta(days=d)} 前走访" for d in (30, 90, 182, 182)]
    assert names(near) == ["李明"]
    expect(page.get_by_role("heading", name="村务待办")).to_have_count(0)
    expect(page.get_by_test_id("head-todo")).to_have_count(0)
    problems += helpers.check_screen(page, "todo-02-worker-today")

    # Out of coverage, the most overdue child and the highest-risk child never visited are visited:
    # the visits wait on the phone, and both children leave their lists.
    helpers.go_offline(context)
    _visit_offline(page, ids["孙悦"], "孙悦", "孙悦在家，情况良好")
    _visit_offline(page, ids["杨帆"], "杨帆", "杨帆在家，情况良好")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 2")
    open_today(page)
    expect(overdue.get_by_role("heading")).to_have_text("逾期走访（3）")
    assert names(overdue) == ["赵小兰", "周大伟", "吴晓丽"]
    assert names(due_today) == ["钱多多"]
    expect(never.get_by_role("heading")).to_have_text("尚未走访（3）")
    assert names(never) == ["马超", "何静", "欧阳明月"]
    assert names(near) == ["李明", "孙悦", "杨帆"]
    assert [op["entity"] for op in helpers.pending_ops(page)] == ["visit", "visit"]

    # Back in coverage, the server refuses 孙悦's visit (the phone sends it for a child the server
    # does not know): a refused visit is not a visit, so 孙悦 is overdue again, on the phone as on the
    # server, and says why; 杨帆's visit is applied and takes her off the lists for good.
    helpers.refuse_in_push(page, "visit", "child_id", ids["孙悦"])
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page, unsynced=1)
    expect(page.get_by_test_id("rejected-op")).to_have_count(1)
    open_today(page)
    expect(overdue.get_by_role("heading")).to_have_text("逾期走访（4）")
    assert names(overdue) == ["孙悦", "赵小兰", "周大伟", "吴晓丽"]
    assert overdue.locator(".meta").first.inner_text() == \
        f"应于 {day - timedelta(days=20)} 走访；本机记录的走访被退回，请到“同步”处理"
    assert set(names(overdue)) == _overdue_on_the_server(live_server, ids)
    expect(never.get_by_role("heading")).to_have_text("尚未走访（3）")
    assert names(never) == ["马超", "何静", "欧阳明月"]
    assert names(near) == ["李明", "杨帆"]
    go(page, f"#/child/{ids['孙悦']}")
    expect(page.get_by_test_id("visit")).to_have_count(1)
    expect(page.get_by_test_id("visit").get_by_test_id("refused-tag")).to_have_text("被退回，待处理")
    expect(page.get_by_test_id("visit")).not_to_contain_text("待同步")
    context.close()
    assert problems == []


# --- 3. The village head's 村务待办 ----------------------------------------------------------

def _flagged_visits_and_a_draft_plan(server) -> None:
    """worker_a finds injuries at 欧阳明月's home (a draft plan follows), then files two visits without GPS."""
    worker = factories.ApiClient(server.app.test_client())
    worker.login("worker_a")
    child = server.ids.children["a1"]
    for hours, answers, located in ((3, {"injury_signs": True}, True), (2, {}, False), (1, {}, False)):
        body = {"child_id": child, "visited_at": (datetime.now(TZ) - timedelta(hours=hours)).isoformat(),
                "answers": answers, "notes": "补录走访"}
        if located:
            body.update(lat=29.1, lon=113.2, accuracy_m=10)
        response = worker.post("/api/visits", json=body)
        assert response.status_code == 201, response.get_json()


def _report_entries(server) -> list[tuple[str, str, bool]]:
    """The monthly reports the head still owes, as the server lists them: (words, note, overdue)."""
    head = factories.ApiClient(server.app.test_client())
    head.login("head_a")
    todo = head.get("/api/tasks").get_json()
    counts = todo["counts"]
    waiting = [counts[k] for k in ("review_pending", "plan_approval", "location_pending", "plan_missing")]
    assert waiting == [2, 1, 0, 0], counts
    entries = []
    for t in todo["tasks"]:
        if t["kind"] == "report_due":
            year, month = t["entity_id"].split("-")
            entries.append((f"{year}年{int(month)}月月报待提交", f"应于 {t['due']} 前提交", t["overdue"]))
    assert entries  # last month's report is always owed until submitted
    return entries


def test_a_village_head_online_sees_what_waits_in_village_affairs(browser, live_server):
    _flagged_visits_and_a_draft_plan(live_server)
    reports = _report_entries(live_server)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    helpers.login(page, live_server.url, "head_a")
    open_today(page)
    todo = page.get_by_test_id("head-todo")
    expect(todo.get_by_role("heading")).to_have_text("村务待办")
    entries = todo.locator("a.item")
    expect(entries.locator("strong")).to_have_text(
        ["2 条走访记录待审核", "1 份帮扶计划待审批"] + [words for words, _, _ in reports])
    assert entries.evaluate_all("(els) => els.map((a) => a.getAttribute('href'))") == [
        "#/review", "#/plans"] + ["#/head"] * len(reports)
    for i, (_, note, late) in enumerate(reports, start=2):
        expect(entries.nth(i).locator(".meta")).to_have_text(note)
        expect(entries.nth(i).locator(".tag.high")).to_have_text(["逾期"] if late else [])
    problems += helpers.check_screen(page, "todo-03-head-today")

    entries.filter(has_text="2 条走访记录待审核").click()
    items = page.get_by_test_id("review-item")
    expect(items).to_have_count(2)
    items.nth(0).get_by_role("button", name="通过").click()
    expect(items).to_have_count(1)
    open_today(page)
    expect(entries.locator("strong")).to_have_text(
        ["1 条走访记录待审核", "1 份帮扶计划待审批"] + [words for words, _, _ in reports])
    entries.filter(has_text="1 份帮扶计划待审批").click()
    expect(page.get_by_test_id("plan_approval").get_by_role("link")).to_have_text(["欧阳明月 帮扶计划待审批"])

    # A server that does not answer within 3 s leaves the section out; the rest opens meanwhile.
    held = []
    page.route("**/api/tasks", lambda route: held.append(route))
    page.locator("#nav").get_by_role("link", name="今日待办").click()
    never = section(page, "never-h").get_by_role("heading")
    expect(never).to_have_text("尚未走访（1）", timeout=helpers.TIMEOUT)
    assert len(held) == 1  # asked, and still unanswered when the screen was drawn
    expect(page.get_by_test_id("head-todo")).to_have_count(0)
    held[0].continue_()
    page.unroute("**/api/tasks")

    # Offline the server's counts are out of reach: the section is left out, the rest still opens.
    helpers.go_offline(context)
    open_today(page)
    expect(section(page, "never-h").get_by_role("heading")).to_have_text("尚未走访（1）")
    expect(page.get_by_test_id("head-todo")).to_have_count(0)
    context.close()

    # A grid worker has no 村务: no such section, online, even were the server to count a head's queues
    # for them (a worker's own to-do has none of these counts, so the screen must not show them).
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    report = {"kind": "report_due", "title": "月报", "due": str(today()), "overdue": False,
              "entity": "report", "entity_id": f"{today():%Y-%m}", "village_id": None, "detail": {}}
    head_like = {"tasks": [report], "today": str(today()),
                 "counts": {"review_pending": 3, "location_pending": 1, "plan_approval": 1, "plan_missing": 1,
                            "report_due": 1}}
    context.route("**/api/tasks", lambda route: route.fulfill(json=head_like))
    open_today(page)
    expect(section(page, "overdue-h").get_by_role("heading")).to_have_text("逾期走访（0）")
    expect(page.get_by_test_id("head-todo")).to_have_count(0)
    expect(page.get_by_role("heading", name="村务待办")).to_have_count(0)
    context.close()
    assert problems == []


# --- 4. The children list past 100 -----------------------------------------------------------

SURNAME = "安"  # an: before 欧阳 (ou) of the town fixture
FIRST = "白蔡邓方高韩金康林马宁"  # bai cai deng fang gao han jin kang lin ma ning
SECOND = "宝春东芳刚辉杰丽明平"  # bao chun dong fang gang hui jie li ming ping


def test_the_children_list_shows_the_first_100_and_search_finds_the_rest(browser, live_server):
    # 110 children whose pinyin order is their order here (安白宝 … 安宁平), and 欧阳明月 after them.
    seeded = [SURNAME + a + b for a, b in product(FIRST, SECOND)]
    add_children(live_server, "a1", [{"name": n} for n in reversed(seeded)])
    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    helpers.login(page, live_server.url, "worker_a")
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    expect(page.get_by_role("heading", name="我的儿童")).to_be_visible()
    more = page.get_by_test_id("children-more")
    items = page.locator("#view .list li")
    expect(more).to_have_text("共 111 名，只列出前 100 名；请输入姓名或拼音首字母查找。")
    expect(items).to_have_count(100)
    assert items.locator("strong").all_inner_texts() == seeded[:100]
    problems += helpers.check_screen(page, "todo-04-children-100")

    search = page.get_by_role("searchbox")
    search.fill("anp")  # 安宁平: the 110th
    expect(items.locator("strong")).to_have_text(["安宁平"])
    expect(more).to_have_count(0)
    search.fill("oymy")  # 欧阳明月: the 111th
    expect(items.locator("strong")).to_have_text(["欧阳明月"])
    page.get_by_role("link", name=re.compile("^欧阳明月")).click()
    expect(page.get_by_role("heading", name="欧阳明月", exact=True)).to_be_visible()
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    search = page.get_by_role("searchbox")
    search.fill(SURNAME)  # still past 100: still cut, and says so
    expect(more).to_have_text("共 110 名，只列出前 100 名；请输入姓名或拼音首字母查找。")
    expect(items).to_have_count(100)
    search.fill("安宁")
    expect(items.locator("strong")).to_have_text(seeded[100:])
    expect(more).to_have_count(0)
    search.fill("")
    expect(more).to_have_text("共 111 名，只列出前 100 名；请输入姓名或拼音首字母查找。")
    context.close()
    assert problems == []


def test_a_phone_holding_venues_with_nothing_to_do_does_not_ask_for_a_sync(browser, live_server):
    """The police read venues but inspect none: with every clue received and no weekly report to
    ask about (offline), the to-do is empty, which is not the same as a phone holding no data."""
    police = factories.ApiClient(live_server.app.test_client())
    police.login("police")
    clues = police.get("/api/clues?status=new").get_json()["rows"]
    assert clues, "the seeded town files a clue for the police"
    for clue in clues:
        assert police.post(f"/api/clues/{clue['id']}/receive").status_code == 200
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "police")
    page.locator("#nav").get_by_role("link", name="我的场所").click()
    expect(page.locator("li.venue a.item")).to_have_count(2)
    helpers.go_offline(context)
    open_today(page)
    expect(page.locator("#view p").filter(has_text="今天没有待办事项。")).to_have_count(1)
    expect(page.get_by_text("暂无数据", exact=False)).to_have_count(0)
    context.close()
