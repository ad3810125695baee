"""Every main screen at 360×740: a screenshot each, and no serious axe-core violations."""
import re

from playwright.sync_api import expect

from .. import factories
from . import helpers
from .conftest import PHONE


def test_screens_screenshots_and_accessibility(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    page.goto(live_server.url + "/")
    expect(page.get_by_label("用户名")).to_be_visible()
    problems += helpers.check_screen(page, "01-login")
    helpers.login(page, live_server.url, "admin")
    helpers.wait_installed(page)
    nav = page.locator("#nav")
    # Seven tabs: the longer labels are shortened to fit one line, keeping the whole label as the name.
    assert helpers.nav_labels(page) == [
        ("待办", "今日待办", 1), ("儿童", "我的儿童", 1), ("场所", "我的场所", 1), ("线索", None, 1),
        ("登记", None, 1), ("村务", None, 1), ("同步", None, 1)]
    current = nav.locator("[aria-current=page]")
    expect(current).to_have_text("待办")  # the first screen after login has no address of its own
    problems += helpers.check_screen(page, "02-today")

    nav.get_by_role("link", name="我的儿童").click()
    expect(page.get_by_role("heading", name="我的儿童")).to_be_visible()
    problems += helpers.check_screen(page, "03-children")
    page.get_by_label("搜索显示的姓名（已脱敏）").fill("欧")  # the town office searches names as shown
    expect(page.locator(".list .item")).to_have_count(1)
    page.get_by_role("link", name=re.compile(r"欧\*\*月")).click()  # the town office sees names masked
    expect(page.get_by_role("heading", name="欧**月")).to_be_visible()
    expect(current).to_have_text("儿童")  # a screen inside a tab lights its tab
    problems += helpers.check_screen(page, "04-child")
    page.get_by_role("link", name="记录走访").click()
    expect(page.get_by_test_id("gps")).to_contain_text("精度 ±12 米")
    expect(current).to_have_text("儿童")
    # Scrolled to the end, the report button floats above the save button, not on it.
    assert helpers.clear_of_fixed_bars(page, page.get_by_role("button", name="保存走访"))
    page.evaluate("window.scrollTo(0, 0)")
    problems += helpers.check_screen(page, "05-visit")

    nav.get_by_role("link", name="登记").click()
    expect(page.get_by_role("heading", name="登记家庭或儿童")).to_be_visible()
    assert helpers.clear_of_fixed_bars(page, page.get_by_role("button", name="保存登记"))
    page.evaluate("window.scrollTo(0, 0)")
    problems += helpers.check_screen(page, "06-register")

    nav.get_by_role("link", name="我的场所").click()
    expect(page.get_by_role("heading", name="我的场所")).to_be_visible()
    problems += helpers.check_screen(page, "07-venues")
    page.get_by_role("link", name=re.compile("^测试a宾馆")).click()
    expect(page.get_by_role("heading", name="“五必须”")).to_be_visible()
    page.locator(".check-item").nth(0).get_by_label("不合格").check()
    expect(current).to_have_text("场所")
    problems += helpers.check_screen(page, "08-inspection")

    page.get_by_role("link", name="强制报告").click()  # tap 1 from any screen
    expect(page.get_by_role("heading", name="强制报告")).to_be_visible()
    expect(page.locator("#clue-fab")).to_be_hidden()  # the button would only open this form again
    expect(current).to_have_count(0)
    problems += helpers.check_screen(page, "09-clue")
    page.get_by_label("发生了什么（必填）").fill("孩子说晚上有陌生人来家里")
    page.get_by_role("button", name="提交报告").click()  # tap 2: filed, and sent at once while online
    expect(page.locator("#toast")).to_have_text("报告已保存，正在报送公安机关")
    expect(page.locator("#clue-fab")).to_be_visible()
    helpers.wait_synced(page)
    police = factories.ApiClient(live_server.app.test_client())
    police.login("police")
    described = [c["description"] for c in police.get("/api/clues").get_json()["rows"]]
    assert described.count("孩子说晚上有陌生人来家里") == 1
    # Back at the inspection the report interrupted, its 不合格 still ticked; leaving it now asks.
    expect(page.get_by_role("heading", level=1)).to_have_text("检查 测试a宾馆")
    expect(page.locator(".check-item").nth(0).get_by_label("不合格")).to_be_checked()

    nav.get_by_role("link", name="同步").click()
    page.get_by_role("dialog", name="离开此页？").get_by_role("button", name="离开", exact=True).click()
    expect(page.get_by_role("heading", name="同步状态")).to_be_visible()
    expect(page.get_by_test_id("quota")).to_contain_text("MB")
    problems += helpers.check_screen(page, "10-sync")
    page.get_by_test_id("sync-now").click()
    helpers.wait_synced(page)

    helpers.go_offline(context)
    page.reload()
    expect(page.get_by_role("button", name="解锁")).to_be_visible()
    problems += helpers.check_screen(page, "11-unlock-offline")
    context.close()
    assert problems == []
