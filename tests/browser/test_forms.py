"""Saving forms: a double tap saves once, a refused save keeps what was typed, free text fits the server."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Child, Clue, Visit

from . import helpers
from .conftest import PHONE
from .test_offline import SHOWN, shown


def open_visit_form(page, name: str) -> None:
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_label("搜索姓名或拼音首字母").fill(SHOWN[name][0])
    page.get_by_role("link", name=shown(name)).click()
    page.get_by_role("link", name="记录走访").click()
    expect(page.get_by_test_id("gps")).to_contain_text("精度")


def stored(live_server, model, column: str) -> list[str]:
    with live_server.app.app_context():
        values = [getattr(row, column) for row in db.session.scalars(select(model))]
        db.session.remove()
        return values


def typed(page, label: str) -> int:
    """How many characters the field labelled `label` holds (a long text would flood a failure)."""
    return len(page.get_by_label(label).input_value())


def sync_back_online(context, page) -> None:
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page)


def test_a_double_tap_on_save_visit_saves_one_visit(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.go_offline(context)
    open_visit_form(page, "欧阳明月")
    page.get_by_label("走访情况").fill("一次走访")
    page.get_by_role("button", name="保存走访").dblclick()
    expect(page.get_by_role("heading", name=shown("欧阳明月"))).to_be_visible()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    assert [op["entity"] for op in helpers.pending_ops(page)] == ["visit"]
    sync_back_online(context, page)
    context.close()
    assert stored(live_server, Visit, "notes").count("一次走访") == 1


def test_a_double_tap_on_file_report_files_one_report(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.go_offline(context)
    page.get_by_role("link", name="强制报告").click()
    page.get_by_label("发生了什么（必填）").fill("只报一次的线索")
    page.get_by_role("button", name="提交报告").dblclick()
    expect(page.locator("#toast")).to_have_text("报告已保存在本机，联网后立即报送公安机关")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    sync_back_online(context, page)
    context.close()
    assert stored(live_server, Clue, "description").count("只报一次的线索") == 1


def test_a_refused_registration_keeps_what_was_typed_through_a_sync(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    page.locator("#nav").get_by_role("link", name="登记").click()
    page.get_by_label("儿童姓名").fill("李未登记")
    page.get_by_label("身份证号（可不填）").fill("430100201501010028")
    page.get_by_label("监护人电话").fill("13800000000")
    page.get_by_role("button", name="保存登记").click()
    expect(page.get_by_role("alert").filter(has_text="请选择网格并填写住址")).to_be_visible()
    with page.expect_response(re.compile(r"/api/sync/pull")):
        page.evaluate("dispatchEvent(new Event('online'))")
    expect(page.locator("#status .busy")).to_have_count(0, timeout=helpers.TIMEOUT)
    page.wait_for_timeout(300)  # the store's reload after the sync would re-render a clean form
    expect(page.get_by_label("儿童姓名")).to_have_value("李未登记")
    expect(page.get_by_label("身份证号（可不填）")).to_have_value("430100201501010028")
    expect(page.get_by_label("监护人电话")).to_have_value("13800000000")

    page.get_by_label("家庭住址").fill("测试镇改正组1号")
    page.get_by_role("button", name="保存登记").click()
    expect(page.get_by_role("heading", name="我的儿童")).to_be_visible()
    helpers.sync_now(page)
    helpers.wait_synced(page)
    context.close()
    assert stored(live_server, Child, "name").count("李未登记") == 1


def test_free_text_is_cut_to_what_the_server_takes(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.go_offline(context)
    open_visit_form(page, "欧阳明月")
    page.get_by_label("走访情况").fill("长" * 5000)
    assert typed(page, "走访情况") == 4000
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_role("heading", name=shown("欧阳明月"))).to_be_visible()
    page.get_by_label("备注").fill("注" * 3000)
    assert typed(page, "备注") == 2000
    page.get_by_role("button", name="保存备注").click()
    expect(page.get_by_text("有未同步的修改")).to_be_visible()
    page.get_by_role("link", name="强制报告").click()
    page.get_by_label("发生了什么（必填）").fill("报" * 4500)
    assert typed(page, "发生了什么（必填）") == 4000
    page.get_by_role("button", name="提交报告").click()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 3")
    sync_back_online(context, page)  # nothing refused: every op fits
    context.close()
    kept = ("长" * 4000 in stored(live_server, Visit, "notes"),
            "注" * 2000 in stored(live_server, Child, "notes"),
            "报" * 4000 in stored(live_server, Clue, "description"))
    assert kept == (True, True, True)
