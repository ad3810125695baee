"""The village head confirms or rejects the household locations that grid workers' visits proposed."""
import re
from datetime import datetime, timedelta

from playwright.sync_api import expect

from .. import factories
from ..workflow.helpers import TZ
from . import helpers
from .conftest import PHONE

FIXES = {"east": (29.123456, 113.234567, 12), "west": (29.104321, 113.187654, 35.4),
         "late": (29.111111, 113.222222, 20)}


def _proposal(worker, key: str, hours_ago: float) -> dict:
    """A household registered without a location, a child in it, and a visit whose GPS fix proposes one."""
    household = worker.post("/api/households", json={
        "grid_id": worker.grid_id, "address": f"测试镇{key}路{len(key)}号", "family_type": "left_behind",
        "guardians": [{"name": "监护人王大山", "relation": "祖父", "phone": "13900001234"}]})
    assert household.status_code == 201, household.get_json()
    household = household.get_json()
    assert (household["lat"], household["lon"], household["location_proposal"]) == (None, None, None)
    child = worker.post("/api/children", json={"household_id": household["id"], "name": f"王{key}",
                                              "sex": "M", "categories": ["left_behind"]})
    assert child.status_code == 201, child.get_json()
    lat, lon, accuracy = FIXES[key]
    visited_at = datetime.now(TZ) - timedelta(hours=hours_ago)
    visit = worker.post("/api/visits", json={
        "child_id": child.get_json()["id"], "visited_at": visited_at.isoformat(), "answers": {},
        "notes": "入户走访", "lat": lat, "lon": lon, "accuracy_m": accuracy})
    assert visit.status_code == 201, visit.get_json()
    visit = visit.get_json()
    after = worker.get(f"/api/households/{household['id']}").get_json()
    proposal = after["location_proposal"]
    assert (after["lat"], after["lon"]) == (None, None)
    assert {k: proposal[k] for k in ("lat", "lon", "accuracy_m", "visit_id", "worker_id")} == {
        "lat": lat, "lon": lon, "accuracy_m": accuracy, "visit_id": visit["id"], "worker_id": worker.user_id}
    assert abs(datetime.fromisoformat(proposal["visited_at"]) - visited_at) < timedelta(seconds=1)
    return {**after, "child_id": child.get_json()["id"]}


def _town(server) -> tuple[factories.ApiClient, dict]:
    """worker_a proposes two locations in 第1网格 of 测试A村: east, then west."""
    worker = factories.ApiClient(server.app.test_client())
    worker.login("worker_a")
    worker.grid_id = server.ids.grids["a1"]
    worker.user_id = server.ids.users["worker_a"]
    homes = {"east": _proposal(worker, "east", 5), "west": _proposal(worker, "west", 4)}
    return worker, homes


def _tasks(api) -> tuple[int, list[dict]]:
    body = api.get("/api/tasks").get_json()
    items = [t for t in body["tasks"] if t["kind"] == "location_pending"]
    return body["counts"].get("location_pending", 0), items


def _hub_entry(page):
    page.locator("#nav").get_by_role("link", name="村务").click()
    expect(page.get_by_role("heading", name="村务")).to_be_visible()
    return page.get_by_role("link", name=re.compile("^待确认位置"))


def test_the_village_head_confirms_one_location_and_rejects_another(browser, live_server):
    worker, homes = _town(live_server)
    head = factories.ApiClient(live_server.app.test_client())
    head.login("head_a")
    count, tasks = _tasks(head)
    assert count == 2
    assert [(t["entity"], t["detail"], t["title"]) for t in tasks] == [
        ("review_location", {"count": 2}, "2 户住址位置待确认")]
    listed = head.get(f"/api/review/locations?grid_id={live_server.ids.grids['a1']}").get_json()
    assert (listed["total"], listed["page"]) == (2, 1)
    rows = {r["id"]: (r["worker_name"], r["grid_name"], r["location_proposal"]["lat"]) for r in listed["rows"]}
    assert rows == {
        homes["east"]["id"]: ("测试worker_a", "第1网格", FIXES["east"][0]),
        homes["west"]["id"]: ("测试worker_a", "第1网格", FIXES["west"][0])}
    nearest = {r["id"]: r["nearest"] for r in listed["rows"]}
    # Both proposals lie over a kilometre from 测试A村's two located homes (a1 29.1 N, a2 29.11 N).
    assert {k: (n["household_id"], n["distance_m"] // 100) for k, n in nearest.items()} == {
        homes["east"]["id"]: (live_server.ids.households["a2"], 36),
        homes["west"]["id"]: (live_server.ids.households["a1"], 12)}

    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    helpers.login(page, live_server.url, "head_a")
    page.evaluate(f"location.hash = '#/child/{homes['east']['child_id']}'")
    expect(page.get_by_role("heading", name="王east")).to_be_visible()
    expect(page.get_by_test_id("location-pending")).to_have_text("位置待村负责人确认")
    page.evaluate(f"location.hash = '#/child/{live_server.ids.children['a1']}'")
    expect(page.get_by_role("heading", name="欧阳明月")).to_be_visible()
    expect(page.get_by_test_id("location-pending")).to_have_count(0)

    entry = _hub_entry(page)
    expect(entry.locator(".meta")).to_have_text("2 户住址位置待确认")
    expect(entry.locator(".tag")).to_have_text("2")
    problems += helpers.check_screen(page, "locations-01-hub")
    entry.click()
    expect(page.get_by_role("heading", name="待确认位置")).to_be_visible()
    count_line = page.get_by_test_id("locations-count")
    expect(count_line).to_have_text("共 2 户住址位置待确认。")
    items = page.get_by_test_id("location-item")
    expect(items).to_have_count(2)
    east = page.locator(f"[data-household='{homes['east']['id']}']")
    west = page.locator(f"[data-household='{homes['west']['id']}']")
    visited = datetime.fromisoformat(homes["east"]["location_proposal"]["visited_at"]).astimezone(TZ)
    expect(east.locator("h2")).to_have_text("测试镇east路4号")
    east_nearest = nearest[homes["east"]["id"]]
    assert east.locator("dd").all_inner_texts() == [
        "第1网格", "测试worker_a", visited.strftime("%Y-%m-%d %H:%M"), "29.123456, 113.234567（精度 ±12 米）",
        f"约 {east_nearest['distance_m'] / 1000:.1f} 公里（{east_nearest['address']}）"
        "离本村其他住户较远，请核实"]
    expect(west.locator("dd").nth(3)).to_have_text("29.104321, 113.187654（精度 ±35 米）")
    expect(east.get_by_role("button")).to_have_text(["确认位置", "不采用"])
    problems += helpers.check_screen(page, "locations-02-list")

    east.get_by_role("button", name="确认位置").click()
    expect(page.locator("#toast")).to_have_text("已确认，住址位置已更新")
    expect(east).to_have_count(0)
    expect(items).to_have_count(1)
    expect(count_line).to_have_text("共 1 户住址位置待确认。")
    confirmed = head.get(f"/api/households/{homes['east']['id']}").get_json()
    assert (confirmed["lat"], confirmed["lon"], confirmed["location_proposal"], confirmed["version"]) == (
        FIXES["east"][0], FIXES["east"][1], None, homes["east"]["version"] + 1)

    west.get_by_role("button", name="不采用").click()
    expect(page.locator("#toast")).to_have_text("已不采用该位置")
    expect(items).to_have_count(0)
    expect(count_line).to_have_text("没有待确认的位置。")
    rejected = head.get(f"/api/households/{homes['west']['id']}").get_json()
    assert (rejected["lat"], rejected["lon"], rejected["location_proposal"], rejected["version"]) == (
        None, None, None, homes["west"]["version"] + 1)
    assert _tasks(head) == (0, [])

    entry = _hub_entry(page)
    expect(entry.locator(".meta")).to_have_text("走访定位提出的住址位置")
    expect(entry.locator(".tag")).to_have_count(0)

    # Someone else decides while the card is open: the server's words, and the card goes.
    late = _proposal(worker, "late", 1)
    entry.click()
    expect(items).to_have_count(1)
    review = f"/api/households/{late['id']}/location-review"
    decided = {"visit_id": late["location_proposal"]["visit_id"]}
    assert head.post(review, json={**decided, "decision": "reject"}).status_code == 200
    again = head.post(review, json={**decided, "decision": "confirm"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_pending"
    message = again.get_json()["error"]["message"]
    assert re.search(r"[\u4e00-\u9fff]", message), message
    items.get_by_role("button", name="确认位置").click()
    expect(page.locator("#toast")).to_have_text(message)
    expect(items).to_have_count(0)
    expect(count_line).to_have_text("没有待确认的位置。")
    assert head.get(f"/api/households/{late['id']}").get_json()["lat"] is None

    helpers.sync_now(page)
    helpers.wait_synced(page)
    page.evaluate(f"location.hash = '#/child/{homes['east']['child_id']}'")
    expect(page.get_by_role("heading", name="王east")).to_be_visible()
    expect(page.get_by_test_id("location-pending")).to_have_count(0)

    helpers.go_offline(context)
    page.evaluate("location.hash = '#/locations'")
    expect(page.get_by_test_id("offline")).to_have_text("此页面需要联网。当前离线，请到有信号的地方再打开。")
    context.close()
    assert problems == []


def test_the_town_admin_sees_the_proposals_but_may_not_decide(browser, live_server):
    _, homes = _town(live_server)
    admin = factories.ApiClient(live_server.app.test_client())
    admin.login("admin")
    east = homes["east"]
    refused = admin.post(f"/api/households/{east['id']}/location-review",
                         json={"decision": "confirm", "visit_id": east["location_proposal"]["visit_id"]})
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (403, "review_not_allowed")
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "admin")
    page.evaluate("location.hash = '#/locations'")
    expect(page.get_by_test_id("locations-count")).to_have_text("共 2 户住址位置待确认。")
    expect(page.get_by_test_id("location-item")).to_have_count(2)
    expect(page.get_by_text("由村/社区负责人确认；您可以查看。")).to_be_visible()
    expect(page.locator("#view button")).to_have_count(0)
    problems = helpers.check_screen(page, "locations-03-admin")
    context.close()
    assert problems == []
