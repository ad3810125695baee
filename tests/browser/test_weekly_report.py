"""The police station's 周报: the week's clue figures as the server counts them, a week picker, the
submission frozen with the audit head; the town office reads it."""
import re
import uuid
from datetime import date, datetime, timedelta

from playwright.sync_api import expect

from .. import factories
from ..workflow.helpers import TZ
from . import helpers
from .conftest import PHONE

OUTCOMES = [("case_filed", "立案侦查"), ("no_case", "不予立案"), ("referred", "移交其他部门"),
            ("other", "其他")]


def _api(server, username: str) -> factories.ApiClient:
    api = factories.ApiClient(server.app.test_client())
    api.login(username)
    return api


def _week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def _md(value: str) -> str:
    day = date.fromisoformat(value)
    return f"{day.month}月{day.day}日"


def _lines(figures: dict) -> list[str]:
    """The screen's figure lines, label and value, as the report's figures say they should read."""
    pairs = [("本周新报线索", figures["filed"]), ("其中场所发现未成年人", figures["minors_found"]),
             ("本周受理", figures["received"]), ("本周办结", figures["closed"])]
    pairs += [(label, figures["outcomes"][key]) for key, label in OUTCOMES]
    pairs += [("周末待受理", figures["waiting"]), ("周末办理中", figures["open"])]
    return [f"{label} {value}" for label, value in pairs]


def _shown_lines(page) -> list[str]:
    report = page.get_by_test_id("weekly-report")
    labels, values = report.locator("dt").all_inner_texts(), report.locator("dd").all_inner_texts()
    assert len(labels) == len(values)
    return [f"{label} {value}" for label, value in zip(labels, values)]


def _window(report: dict) -> str:
    year, week = report["period"].split("-W")
    return (f"{year}年第{int(week)}周：{_md(report['window_start'])} 至 {_md(report['window_end'])}，"
            f"应于 {_md(report['due'])} 前提交")


def _seed(server) -> None:
    """worker_a files a clue; the station receives it and closes it, referred; the town's own clue waits."""
    worker = _api(server, "worker_a")
    filed = str(uuid.uuid4())
    answer = worker.post("/api/clues", json={"id": filed, "description": "发现陌生成年人在村口徘徊",
                                             "place": "村口"})
    assert answer.status_code == 201, answer.get_json()
    police = _api(server, "police")
    assert police.post(f"/api/clues/{filed}/receive").status_code == 200
    closed = police.post(f"/api/clues/{filed}/close", json={"outcome": "referred", "note": "移交民政"})
    assert closed.status_code == 200


def test_the_police_submit_the_weekly_report_and_the_town_office_reads_it(browser, live_server):
    _seed(live_server)
    police = _api(live_server, "police")
    today = datetime.now(TZ).date()
    week, last = _week(today), _week(today - timedelta(days=7))
    current = police.get(f"/api/reports/weekly?week={week}").get_json()
    previous = police.get(f"/api/reports/weekly?week={last}").get_json()
    assert current["submitted"] is False and previous["submitted"] is False
    assert (current["figures"]["filed"], current["figures"]["closed"]) == (2, 1)
    assert current["figures"]["outcomes"]["referred"] == 1

    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    helpers.login(page, live_server.url, "police")
    due = page.get_by_test_id("weekly-due").get_by_role("link")
    sunday = today - timedelta(days=today.weekday() + 1)
    monday = sunday - timedelta(days=6)
    expect(due).to_contain_text(f"上周（{monday.month}月{monday.day}日至{sunday.month}月{sunday.day}日）周报待提交")
    problems += helpers.check_screen(page, "weekly-01-police-today")

    # The to-do opens last week's report; the picker goes on to this week and no further.
    due.click()
    expect(page.get_by_role("heading", name="周报", exact=True)).to_be_visible()
    expect(page.get_by_test_id("weekly-window")).to_have_text(_window(previous))
    assert _shown_lines(page) == _lines(previous["figures"])
    nxt = page.get_by_role("button", name="下一周 ›")
    expect(nxt).to_be_enabled()
    nxt.click()
    expect(page.get_by_test_id("weekly-window")).to_have_text(_window(current))
    assert page.evaluate("location.hash") == f"#/weekly/{week}"
    assert _shown_lines(page) == _lines(current["figures"])
    expect(nxt).to_be_disabled()
    expect(page.get_by_test_id("weekly-unsubmitted")).to_have_text("未提交")
    # This week is not over: nothing to submit yet.
    expect(page.get_by_role("button", name="提交周报")).to_have_count(0)
    expect(page.get_by_test_id("weekly-not-yet")).to_have_text("本周结束后（下周一起）可提交")
    problems += helpers.check_screen(page, "weekly-02-police-current")
    page.get_by_role("button", name="‹ 上一周").click()
    expect(page.get_by_test_id("weekly-window")).to_have_text(_window(previous))

    # Cancelling the confirmation sends nothing; confirming freezes last week.
    submit = page.get_by_role("button", name="提交周报")
    submit.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("提交后该周数据将被固定，不能修改。确定提交？")
    dialog.get_by_role("button", name="取消").click()
    assert police.get(f"/api/reports/weekly?week={last}").get_json()["submitted"] is False
    submit.click()
    page.get_by_role("dialog").get_by_role("button", name="提交").click()
    expect(page.locator("#toast")).to_have_text("周报已提交")
    frozen = police.get(f"/api/reports/weekly?week={last}").get_json()
    assert (frozen["submitted"], frozen["figures"]) == (True, previous["figures"])
    submitted_on = datetime.fromisoformat(frozen["submitted_at"]).astimezone(TZ).strftime("%Y-%m-%d")
    late = "（逾期）" if frozen["late"] else ""
    line = f"已于 {submitted_on} 提交{late}，审计链头 {frozen['audit_head'][:12]}…"
    expect(page.get_by_test_id("weekly-submitted")).to_have_text(line)
    expect(page.get_by_role("button", name="提交周报")).to_have_count(0)
    assert _shown_lines(page) == _lines(frozen["figures"])
    expect(page.get_by_test_id("weekly-stations")).to_have_count(0)
    problems += helpers.check_screen(page, "weekly-03-police-submitted")

    # Offline the 周报 needs the network; the to-do still opens without it.
    helpers.go_offline(context)
    page.locator("#nav").get_by_role("link", name="线索").click()
    page.get_by_test_id("weekly-link").click()
    expect(page.get_by_test_id("offline")).to_have_text("此页面需要联网。当前离线，请到有信号的地方再打开。")
    page.locator("#nav").get_by_role("link", name="今日待办").click()
    expect(page.get_by_role("heading", name="今日待办")).to_be_visible()
    expect(page.get_by_test_id("weekly-due")).to_have_count(0)
    context.close()

    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "admin")
    page.locator("#nav").get_by_role("link", name="村务").click()
    page.get_by_role("link", name=re.compile("派出所周报")).click()
    expect(page.get_by_test_id("weekly-window")).to_have_text(_window(previous))
    expect(page.get_by_test_id("weekly-submitted")).to_have_text(line)
    assert _shown_lines(page) == _lines(frozen["figures"])
    expect(page.get_by_role("button", name="提交周报")).to_have_count(0)
    stations = page.get_by_test_id("weekly-stations").locator("li")
    overdue = "逾期" if frozen["late"] else ""
    status = rf"^测试派出所\s*已提交 {submitted_on}（测试police）\s*{overdue}$"
    expect(stations).to_have_text([re.compile(status)])
    page.get_by_role("button", name="下一周 ›").click()
    expect(page.get_by_test_id("weekly-unsubmitted")).to_have_text("未提交")
    expect(stations).to_have_text([re.compile(r"^测试派出所\s*未提交\s*$")])
    expect(page.get_by_test_id("weekly-not-yet")).to_have_count(0)
    expect(page.get_by_role("button", name="提交周报")).to_have_count(0)
    expect(page.get_by_role("button", name="下一周 ›")).to_be_disabled()
    problems += helpers.check_screen(page, "weekly-04-admin")
    context.close()
    assert problems == []
