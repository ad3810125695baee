"""A phone left alone locks itself: no child's record stays on a screen nobody is holding."""
from playwright.sync_api import expect

from . import helpers
from .conftest import PHONE
from .test_conflict import NAME
from .test_drafts import drafts_kept, restored
from .test_leave_form import TYPED
from .test_offline import open_visit_form

IDLE = "闲置超过 10 分钟，已自动锁定，以保护儿童信息。解锁后回到原页面，未保存的填写内容会放回原处。"


def test_a_phone_left_alone_for_ten_minutes_locks_and_gives_the_typing_back_once_unlocked(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.clock.install()
    helpers.login(page, live_server.url, "worker_a")
    open_visit_form(page, NAME)
    form_address = page.url
    page.get_by_label("走访情况").fill(TYPED)
    drafts_kept(page, 1)

    page.clock.fast_forward("09:00")
    page.get_by_label("走访情况").press("End")  # the worker is still there: the ten minutes start again
    page.get_by_label("走访情况").press_sequentially("。")
    page.clock.fast_forward("09:00")
    expect(page.get_by_label("走访情况")).to_have_value(TYPED + "。")
    expect(page.get_by_test_id("idle-locked")).to_have_count(0)

    page.clock.fast_forward("01:30")
    expect(page.get_by_test_id("idle-locked")).to_have_text(IDLE, timeout=helpers.TIMEOUT)
    expect(page.locator("#nav")).to_be_hidden()
    assert NAME not in page.content() and TYPED not in page.content()
    assert helpers.server_session_end(context, live_server.url)[0] == 401

    helpers.unlock(page)
    assert page.url == form_address
    restored(page)
    expect(page.get_by_label("走访情况")).to_have_value(TYPED + "。")
    page.reload()  # the note is said once, for the lock that happened
    expect(page.get_by_label("密码")).to_be_visible()
    expect(page.get_by_test_id("idle-locked")).to_have_count(0)
    context.close()
