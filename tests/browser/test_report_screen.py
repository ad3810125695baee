"""The 月报 on the 村务 hub: the village head submits the period's report, the town admin sees who has."""
import io
import re
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import expect

from . import helpers
from .conftest import PHONE


def test_the_village_head_submits_the_monthly_report_and_the_town_admin_sees_it(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "head_a")
    page.locator("#nav").get_by_role("link", name="村务").click()
    report = page.get_by_test_id("monthly-report")
    expect(report).to_contain_text("在册重点儿童")
    expect(report).to_contain_text("应于")
    problems = helpers.check_screen(page, "report-01-head")
    page.get_by_role("button", name="提交月报").click()
    page.get_by_role("dialog").get_by_role("button", name="提交").click()
    expect(page.get_by_test_id("report-submitted")).to_contain_text("审计链头")
    expect(page.get_by_role("button", name="提交月报")).to_have_count(0)
    problems += helpers.check_screen(page, "report-02-submitted")
    rows = exported(page)
    assert re.fullmatch(r"测试A村未成年人保护工作月报（\d{4}-\d{2}）", rows[0][0])
    assert ["审计链头（提交时）"] == [r[0] for r in rows if r[0] == "审计链头（提交时）"]
    context.close()

    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "admin")
    page.locator("#nav").get_by_role("link", name="村务").click()
    rows = page.get_by_test_id("report-status").locator("li")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("测试A村")
    expect(rows.nth(0)).to_contain_text("已提交")
    expect(rows.nth(1)).to_contain_text("测试B村")
    expect(rows.nth(1)).to_contain_text("未提交")
    problems += helpers.check_screen(page, "report-03-town")
    rows = exported(page)
    assert re.fullmatch(r".+未成年人保护工作月报（\d{4}-\d{2}）", rows[0][0])
    assert rows[1][:4] == ["指标", "全镇合计", "测试A村", "测试B村"]
    context.close()
    assert problems == []


def exported(page) -> list[list]:
    """Press the report's export button and read the XLSX it saves."""
    with page.expect_download() as info:
        page.get_by_test_id("report-export").click()
    sheet = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes())).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]
