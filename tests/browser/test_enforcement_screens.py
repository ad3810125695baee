"""The joint-enforcement screens as an inspector reads them: a venue's inspections named by its own
checklist, and the rectifications falling due on 今日待办."""
from datetime import datetime

from playwright.sync_api import expect

from .. import factories
from ..workflow.helpers import TZ
from . import helpers
from .conftest import PHONE


def inspect_over_rest(server, venue_id: str, answers: list[dict], at: datetime | None = None) -> dict:
    """The inspector records an inspection over REST; return its JSON."""
    api = factories.ApiClient(server.app.test_client())
    api.login("inspector")
    response = api.post("/api/inspections", json={
        "venue_id": venue_id, "inspected_at": (at or datetime.now(TZ)).isoformat(), "answers": answers})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def add_venue(server, village: str, kind: str, name: str) -> str:
    """The town office registers a venue; return its id."""
    api = factories.ApiClient(server.app.test_client())
    api.login("admin")
    response = api.post("/api/venues", json={"village_id": server.ids.villages[village], "type": kind,
                                             "name": name})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_a_ktvs_failures_read_as_the_ktv_checklist_words_them(browser, live_server):
    """Keys shared by several checklists (no_minors_admitted, minor_sign) are worded by each list its
    own way: a KTV's venue page said 未接纳未成年人进入 and 悬挂 (the internet cafe's words) for the
    items its inspector had answered as 未允许未成年人进入 and 设置."""
    ktv = add_venue(live_server, "a", "ktv", "星光KTV")
    inspect_over_rest(live_server, ktv, [{"item": "no_minors_admitted", "result": "fail"},
                                         {"item": "minor_sign", "result": "fail"},
                                         {"item": "no_paid_companionship", "result": "pass"}])
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "inspector")
    page.evaluate(f"location.hash = '#/venue/{ktv}'")
    expect(page.get_by_test_id("inspection").locator(".meta").first).to_have_text(
        "不合格 2 项：未允许未成年人进入、显著位置设置未成年人禁入标志")
    context.close()
