"""A visit that found a child without prevention education puts 安排防性侵教育 on the worker's to-do
and the child's page, offline too, until a visit finds it done (CHECKLISTS: "no → schedule education")."""
from datetime import datetime, timedelta

from playwright.sync_api import expect

from server.extensions import db
from server.models import Child, replaying_at

from .. import factories
from ..workflow.helpers import TZ, post_visit
from . import helpers

ASK = "已接受防性侵教育（\"六个一\"）"
WORDS = "安排防性侵教育（\"六个一\"）（学校）"


def _open_child(page) -> None:
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    expect(page.get_by_role("heading", name="我的儿童")).to_be_visible()
    page.get_by_role("link", name="欧阳明月").click()


def _visit_answering(page, education: str | None, marked: bool = False) -> None:
    """Record a visit on the phone, answering the education item (None: leaving it unanswered), and
    ticking 需要跟进 if `marked`."""
    _open_child(page)
    page.get_by_role("link", name="记录走访").click()
    if education is None:
        page.get_by_role("group", name="在校就读").get_by_label("是").check()
    else:
        page.get_by_role("group", name=ASK).get_by_label(education).check()
    if marked:
        page.get_by_label("需要跟进").check()
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_role("heading", name="欧阳明月")).to_be_visible()


def _follow_up_section(page):
    page.locator("#nav").get_by_role("link", name="今日待办").click()
    expect(page.get_by_role("heading", name="今日待办")).to_be_visible()
    return page.get_by_test_id("follow-up")


def _worker_with_a_follow_up(server) -> tuple[factories.ApiClient, dict]:
    worker = factories.ApiClient(server.app.test_client())
    worker.login("worker_a")
    return worker, post_visit(worker, server.ids.children["a1"], "a1", {"prevention_education": False})


def test_a_follow_up_shows_until_a_visit_finds_it_done_offline_too(browser, live_server):
    _worker_with_a_follow_up(live_server)
    child_id = live_server.ids.children["a1"]
    context, page = helpers.phone(browser, live_server.url, "worker_a")

    section = _follow_up_section(page)
    expect(section.get_by_role("heading")).to_have_text("待落实事项（1）")
    expect(section.locator(".item")).to_have_count(1)
    expect(section.locator(".item strong")).to_have_text("欧阳明月")
    expect(section.locator(".item .meta")).to_have_text(WORDS)
    problems = helpers.check_screen(page, "follow-up-today")
    section.get_by_role("link").click()
    expect(page.get_by_test_id("follow-ups")).to_have_text(WORDS)

    helpers.go_offline(context)
    _visit_answering(page, None)  # a visit that did not ask finds nothing done
    expect(page.get_by_test_id("follow-ups")).to_have_text(WORDS)
    _visit_answering(page, "是")  # done: the visit saved on the phone decides before the server has it
    expect(page.get_by_test_id("follow-ups")).to_have_text("无")
    expect(_follow_up_section(page)).to_have_count(0)

    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page)
    with live_server.app.app_context():
        assert db.session.get(Child, child_id).follow_ups == []
    expect(_follow_up_section(page)).to_have_count(0)

    helpers.go_offline(context)
    _visit_answering(page, "否")
    expect(page.get_by_test_id("follow-ups")).to_have_text(WORDS)
    expect(_follow_up_section(page).locator(".item .meta")).to_have_text(WORDS)
    context.close()
    assert problems == []


def test_a_correction_saved_offline_that_finds_it_done_clears_it(browser, live_server):
    _, found = _worker_with_a_follow_up(live_server)
    context, page = helpers.phone(browser, live_server.url, "worker_a")
    helpers.go_offline(context)
    _open_child(page)
    expect(page.get_by_test_id("follow-ups")).to_have_text(WORDS)
    page.locator(f"[data-visit='{found['id']}']").get_by_role("link", name="更正").click()
    page.get_by_role("group", name=ASK).get_by_label("是").check()
    helpers.save_correction(page, "误选，孩子已在学校接受过教育", "欧阳明月")
    expect(page.get_by_test_id("follow-ups")).to_have_text("无")
    expect(_follow_up_section(page)).to_have_count(0)
    context.close()


def test_the_head_finds_the_children_with_a_follow_up_in_the_ledger(browser, live_server):
    _worker_with_a_follow_up(live_server)
    context, page = helpers.phone(browser, live_server.url, "head_a", installed=False)
    page.evaluate("location.hash = '#/ledgers/children'")
    cards = page.get_by_test_id("ledger-cards")
    expect(cards.locator("li")).to_have_count(2)
    page.get_by_text("筛选", exact=True).click()
    page.get_by_label("只看有待落实事项的").check()
    expect(cards.locator("li")).to_have_count(1)
    expect(cards.locator("strong")).to_have_text(["欧阳明月"])
    context.close()


def test_a_visit_marked_to_follow_up_stays_on_the_to_do_until_the_next_visit(browser, live_server):
    context, page = helpers.phone(browser, live_server.url, "worker_a")
    helpers.go_offline(context)
    expect(_follow_up_section(page)).to_have_count(0)
    _visit_answering(page, "是", marked=True)
    expect(page.get_by_test_id("follow-ups")).to_have_text("走访时标记需要跟进")
    expect(_follow_up_section(page).locator(".item .meta")).to_have_text("走访时标记需要跟进")
    page.wait_for_timeout(1100)  # a visit is timed to the second it began: the next is a later one
    _visit_answering(page, "否")
    expect(page.get_by_test_id("follow-ups")).to_have_text(WORDS)
    context.close()


def test_a_visit_from_a_phone_whose_clock_ran_fast_is_not_taken_for_the_latest(browser, live_server):
    """The phone took a child's latest visit by the time each visit's phone said; the server by the time
    it counts at, never after the server received it. A visit from a phone running two hours fast then
    decided the phone's to-do, 安排防性侵教育 there and not on the server's. The phone orders as the server."""
    worker = factories.ApiClient(live_server.app.test_client())
    worker.login("worker_a")
    child_id, now = live_server.ids.children["a1"], datetime.now(TZ)
    with replaying_at(now - timedelta(hours=3)):  # that phone said an hour ago
        post_visit(worker, child_id, "a1", {"prevention_education": False}, hours_ago=1)
    with replaying_at(now - timedelta(hours=2)):
        post_visit(worker, child_id, "a1", {"prevention_education": True}, hours_ago=2)
    with live_server.app.app_context():
        assert db.session.get(Child, child_id).follow_ups == []
    context, page = helpers.phone(browser, live_server.url, "worker_a")
    expect(_follow_up_section(page)).to_have_count(0)
    _open_child(page)
    expect(page.get_by_test_id("follow-ups")).to_have_text("无")
    context.close()
