"""A visit that found a child without prevention education puts 安排防性侵教育 on the worker's to-do
and the child's page, offline too, until a visit finds it done (CHECKLISTS: "no → schedule education")."""
from playwright.sync_api import expect

from server.extensions import db
from server.models import Child

from .. import factories
from ..workflow.helpers import post_visit
from . import helpers
from .conftest import PHONE

ASK = "已接受防性侵教育（\"六个一\"）"
WORDS = "安排防性侵教育（\"六个一\"）（学校）"


def _visit_answering(page, education: str) -> None:
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("link", name="欧阳明月").click()
    page.get_by_role("link", name="记录走访").click()
    page.get_by_role("group", name=ASK).get_by_label(education).check()
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_role("heading", name="欧阳明月")).to_be_visible()


def _follow_up_section(page):
    page.locator("#nav").get_by_role("link", name="今日待办").click()
    expect(page.get_by_role("heading", name="今日待办")).to_be_visible()
    return page.get_by_test_id("follow-up")


def test_a_follow_up_shows_until_a_visit_finds_it_done_offline_too(browser, live_server):
    worker = factories.ApiClient(live_server.app.test_client())
    worker.login("worker_a")
    child_id = live_server.ids.children["a1"]
    post_visit(worker, child_id, "a1", {"prevention_education": False})
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.wait_installed(page)

    section = _follow_up_section(page)
    expect(section.get_by_role("heading")).to_have_text("待跟进（1）")
    expect(section.locator(".item")).to_have_count(1)
    expect(section.locator(".item strong")).to_have_text("欧阳明月")
    expect(section.locator(".item .meta")).to_have_text(WORDS)
    problems = helpers.check_screen(page, "follow-up-today")
    section.get_by_role("link").click()
    expect(page.get_by_test_id("follow-ups")).to_have_text(WORDS)

    helpers.go_offline(context)
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
