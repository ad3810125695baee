"""The village head's screens on a phone and a desk: ledgers, export, review queue, plans, child page."""
import io
import re
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import expect

from server.extensions import db
from server.models import Child

from .. import factories
from ..workflow.helpers import TZ, today
from . import helpers
from .conftest import PHONE

DESK = {**PHONE, "viewport": {"width": 1280, "height": 800}, "is_mobile": False, "has_touch": False}
QUESTION = "没有定位，请说明当天是否入户"


def _visit(api, child_id: str, hours_ago: float, notes: str, answers=None, located=True) -> dict:
    body = {"child_id": child_id, "visited_at": (datetime.now(TZ) - timedelta(hours=hours_ago)).isoformat(),
            "answers": answers or {}, "notes": notes}
    if located:
        body.update(lat=29.1, lon=113.2, accuracy_m=10)
    response = api.post("/api/visits", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _casework(server) -> dict:
    """worker_a finds injuries at 欧阳明月's home (a draft plan follows), then files two visits without GPS."""
    worker = factories.ApiClient(server.app.test_client())
    worker.login("worker_a")
    child = server.ids.children["a1"]
    _visit(worker, child, 3, "发现手臂有淤青", {"injury_signs": True})
    first = _visit(worker, child, 2, "第一次补录走访", located=False)
    second = _visit(worker, child, 1, "第二次补录走访", located=False)
    assert first["flags"] == second["flags"] == ["no_location"]
    plans = worker.get(f"/api/plans?child_id={child}").get_json()["rows"]
    assert [(p["status"], p["helper_id"]) for p in plans] == [("draft", server.ids.users["worker_a"])]
    return {"worker": worker, "first": first, "second": second, "plan": plans[0]}


def _names(page, testid: str) -> list[str]:
    return page.get_by_test_id(testid).locator("strong").all_inner_texts()


def test_ledger_cards_filters_search_export_and_offline_on_a_phone(browser, live_server):
    _casework(live_server)
    context = browser.new_context(**PHONE, accept_downloads=True)
    page = context.new_page()
    problems = []
    helpers.login(page, live_server.url, "head_a")
    nav = page.locator("#nav")
    expect(nav.get_by_role("link")).to_have_text(["今日待办", "我的儿童", "我的场所", "登记", "村务", "同步"])
    # Six tabs: whole labels, one line each.
    assert [lines for _, _, lines in helpers.nav_labels(page)] == [1] * 6
    nav.get_by_role("link", name="村务").click()
    expect(page.get_by_role("heading", name="村务")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("待审核走访"))).to_contain_text("2 条走访等待审核")
    problems += helpers.check_screen(page, "head-01-hub")

    page.get_by_role("link", name=re.compile("^台账")).click()
    expect(page.get_by_role("heading", name="台账")).to_be_visible()
    expect(page.get_by_test_id("ledger-cards").locator("li")).to_have_count(2)
    assert _names(page, "ledger-cards") == ["欧阳明月", "司马小雨"]
    assert page.get_by_test_id("ledger-cards").locator(".tag").all_inner_texts() == ["高风险", "低风险"]
    expect(page.get_by_test_id("ledger-table")).to_have_count(0)
    expect(page.get_by_text("导出未脱敏台账")).to_have_count(0)
    problems += helpers.check_screen(page, "head-02-ledger-cards")

    page.get_by_text("筛选", exact=True).click()
    page.get_by_label("风险等级").select_option(label="高风险")
    expect(page.get_by_test_id("ledger-cards").locator("li")).to_have_count(1)
    expect(page.get_by_test_id("ledger-cards")).to_contain_text("欧阳明月")
    page.get_by_label("风险等级").select_option(label="全部")
    page.get_by_label("网格").select_option(label="第2网格")
    expect(page.get_by_test_id("ledger-cards").locator("li")).to_have_count(1)
    expect(page.get_by_test_id("ledger-cards")).to_contain_text("司马小雨")
    page.get_by_label("网格").select_option(label="全部")
    page.get_by_label("搜索姓名或拼音首字母").fill("oymy")
    expect(page.get_by_test_id("ledger-cards").locator("li")).to_have_count(1)
    expect(page.get_by_test_id("ledger-cards")).to_contain_text("欧阳明月")
    page.get_by_label("搜索姓名或拼音首字母").fill("smx")
    expect(page.get_by_test_id("ledger-cards")).to_contain_text("司马小雨")
    expect(page.get_by_test_id("ledger-cards").locator("li")).to_have_count(1)
    page.get_by_label("搜索姓名或拼音首字母").fill("")
    expect(page.get_by_test_id("ledger-cards").locator("li")).to_have_count(2)

    with page.expect_download() as info:
        page.get_by_role("button", name="导出 Excel").click()
    download = info.value
    title = f"测试A村重点未成年人台账（截至 {today().isoformat()}）"
    assert download.suggested_filename == f"{title}.xlsx"
    sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == title
    assert [(r[0], r[1], r[7], r[8]) for r in rows[2:4]] == [
        (1, "欧**月", "第1网格", "高"), (2, "司**雨", "第2网格", "低")]
    assert "欧阳明月" not in str(rows)

    page.get_by_label("台账", exact=True).select_option(label="一对一帮扶台账")
    expect(page.get_by_test_id("ledger-cards").locator("li")).to_have_count(1)
    expect(page.get_by_test_id("ledger-cards")).to_contain_text("待审批")
    if not page.get_by_label("类别").is_visible():
        page.get_by_text("筛选", exact=True).click()
    page.get_by_label("类别").select_option(label="流动")  # plans filter by their child's category
    expect(page.get_by_test_id("ledger-cards").locator("li")).to_have_count(0)
    page.get_by_label("类别").select_option(label="留守")
    expect(page.get_by_test_id("ledger-cards").locator("li")).to_have_count(1)

    helpers.go_offline(context)
    page.evaluate("location.hash = '#/review'")
    expect(page.get_by_test_id("offline")).to_have_text("此页面需要联网。当前离线，请到有信号的地方再打开。")
    page.evaluate("location.hash = '#/ledgers'")
    expect(page.get_by_test_id("offline")).to_be_visible()
    context.close()
    assert problems == []


def test_ledger_is_a_table_on_a_desk_and_the_admin_may_export_unmasked(browser, live_server):
    _casework(live_server)
    context = browser.new_context(**DESK)
    page = context.new_page()
    helpers.login(page, live_server.url, "head_a")
    page.evaluate("location.hash = '#/ledgers/children'")
    table = page.get_by_test_id("ledger-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    headers = table.locator("thead th").all_inner_texts()
    assert headers[:3] == ["序号", "姓名", "性别"] and headers[-1] == "状态"
    assert table.locator("tbody th").all_inner_texts() == ["欧阳明月", "司马小雨"]
    expect(page.get_by_test_id("ledger-cards")).to_have_count(0)
    problems = helpers.check_screen(page, "head-03-ledger-table")
    context.close()

    context = browser.new_context(**DESK)
    page = context.new_page()
    helpers.login(page, live_server.url, "admin")
    nav = page.locator("#nav")
    nav.get_by_role("link", name="村务").click()
    page.get_by_role("link", name=re.compile("^台账")).click()
    table = page.get_by_test_id("ledger-table")
    expect(table.locator("tbody tr")).to_have_count(3)
    assert table.locator("tbody th").all_inner_texts() == ["欧**月", "司**雨", "诸**东"]
    page.get_by_label("村/社区").select_option(label="测试B村")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_label("网格").locator("option")).to_have_text(
        ["全部", "测试B村第1网格", "测试B村第2网格"])
    page.get_by_text("导出未脱敏台账（须写明理由）").click()
    page.get_by_role("button", name="导出未脱敏 Excel").click()
    expect(page.locator(".card [role=alert]")).to_have_text("请写明导出理由（至少 4 个字）")
    page.get_by_label("导出理由（必填，至少 4 个字）").fill("区检察院调阅B村名单")
    with page.expect_download() as info:
        page.get_by_role("button", name="导出未脱敏 Excel").click()
    sheet = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes())).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == f"测试B村重点未成年人台账（截至 {today().isoformat()}）"
    assert [(r[1], r[6]) for r in rows[2:-1]] == [("诸葛晓东", "13900000002")]
    assert "未脱敏" in rows[-1][0]
    problems += helpers.check_screen(page, "head-04-admin-ledger")
    page.evaluate(f"location.hash = '#/child/{live_server.ids.children['a1']}'")
    expect(page.get_by_test_id("risk")).to_contain_text("高风险")
    expect(page.get_by_role("button", name="保存调整")).to_have_count(0)
    problems += helpers.check_screen(page, "head-04b-admin-child")
    context.close()
    assert problems == []


def test_review_queue_plan_approval_and_child_page(browser, live_server):
    work = _casework(live_server)
    ids = live_server.ids
    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    helpers.login(page, live_server.url, "head_a")
    page.locator("#nav").get_by_role("link", name="村务").click()
    page.get_by_role("link", name=re.compile("待审核走访")).click()
    items = page.get_by_test_id("review-item")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("第一次补录走访")
    expect(items.nth(0)).to_contain_text("没有定位")
    expect(items.nth(0)).to_contain_text("走访人测试worker_a")
    # Without a fix the tag says 没有定位; no 位置 row says it again.
    expect(items.nth(0).locator("dt")).to_have_text(["走访人", "走访时间", "上传时间", "走访情况"])
    problems += helpers.check_screen(page, "head-05-review")
    items.nth(0).get_by_role("button", name="通过").click()
    expect(items).to_have_count(1)
    expect(page.get_by_test_id("review-count")).to_have_text("共 1 条走访等待审核。")
    items.nth(0).get_by_role("button", name="存疑，退回核实").click()
    expect(items.nth(0).get_by_role("alert")).to_have_text("请写明存疑的原因，网格员会看到它")
    items.nth(0).get_by_label("审核意见（存疑时必填）").fill(QUESTION)
    items.nth(0).get_by_role("button", name="存疑，退回核实").click()
    expect(items).to_have_count(0)
    expect(page.get_by_test_id("review-count")).to_have_text("没有待审核的走访。")
    worker = work["worker"]
    for visit, status in ((work["first"], "accepted"), (work["second"], "questioned")):
        assert worker.get(f"/api/visits/{visit['id']}").get_json()["review_status"] == status
    questioned = [t for t in worker.get("/api/tasks").get_json()["tasks"] if t["kind"] == "visit_questioned"]
    assert [(t["entity_id"], t["detail"]["note"], t["title"]) for t in questioned] == [
        (work["second"]["id"], QUESTION, "欧阳明月 走访记录存疑")]

    page.locator("#nav").get_by_role("link", name="村务").click()
    page.get_by_role("link", name=re.compile("^帮扶计划")).click()
    expect(page.get_by_test_id("plan_approval").get_by_role("link")).to_have_text(["欧阳明月 帮扶计划待审批"])
    problems += helpers.check_screen(page, "head-06-plans")
    page.get_by_role("link", name="欧阳明月 帮扶计划待审批").click()
    expect(page.get_by_role("heading", name="帮扶计划：欧阳明月")).to_be_visible()
    expect(page.get_by_test_id("plan-status")).to_have_text("待审批")  # as the hub and the plan list call it
    expect(page.locator(".facts")).to_contain_text("测试worker_a")
    expect(page.locator(".facts")).to_contain_text("身体有不明伤痕")
    expect(page.get_by_test_id("measures").locator("li")).to_have_count(len(work["plan"]["measures"]))
    problems += helpers.check_screen(page, "head-07-plan-draft")
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("plan-status")).to_have_text("执行中")
    plan = worker.get(f"/api/plans/{work['plan']['id']}").get_json()
    assert (plan["status"], plan["approved_by"]) == ("active", ids.users["head_a"])
    expect(page.get_by_role("heading", name="记录定期评估")).to_be_visible()
    problems += helpers.check_screen(page, "head-08-plan-active")

    page.evaluate(f"location.hash = '#/child/{ids.children['a1']}'")
    risk = page.get_by_test_id("risk")
    expect(risk).to_contain_text("高风险")
    expect(risk).to_contain_text("最近一次走访存在核验标记")
    expect(page.get_by_role("link", name=re.compile("帮扶计划（执行中）"))).to_be_visible()
    # Online, the panel lists the plans; the page does not list them a second time below.
    expect(page.get_by_role("heading", name="帮扶计划", exact=True)).to_have_count(0)
    problems += helpers.check_screen(page, "head-09-child")
    page.get_by_role("radio", name="中风险").check()
    page.get_by_role("button", name="保存调整").click()
    expect(page.locator(".head-panel [role=alert]")).to_have_text("请写明调整理由（至少 4 个字）")
    page.get_by_label("调整理由（必填，至少 4 个字）").fill("已与学校核实，情况好转")
    page.get_by_role("button", name="保存调整").click()
    expect(risk).to_contain_text("负责人调整")
    expect(page.get_by_test_id("risk")).to_contain_text("中风险：已与学校核实，情况好转")
    head = factories.ApiClient(live_server.app.test_client())
    head.login("head_a")
    child = head.get(f"/api/children/{ids.children['a1']}/risk").get_json()
    assert (child["risk_level"], child["risk_override"], child["risk_override_reason"]) == (
        "medium", "medium", "已与学校核实，情况好转")

    page.get_by_role("link", name=re.compile("帮扶计划（执行中）")).click()
    page.get_by_label("评估情况（必填）").fill("已联系学校和派出所，措施落实中")
    page.get_by_role("button", name="保存评估").click()
    expect(page.get_by_role("heading", name="进展与评估（1）")).to_be_visible()
    entry = page.get_by_test_id("progress").locator("li")
    expect(entry.locator(".tag")).to_have_text(["评估"])
    expect(entry.locator("p")).to_have_text(["已联系学校和派出所，措施落实中"])
    page.get_by_label("帮扶结果（必填）").fill("风险解除，转入常规走访")
    page.locator("form").filter(has_text="帮扶结果").get_by_role("button", name="结案").click()
    page.get_by_role("dialog").get_by_role("button", name="结案").click()
    expect(page.get_by_test_id("plan-status")).to_have_text("已结案")
    expect(page.locator(".facts")).to_contain_text("风险解除，转入常规走访")
    plan = worker.get(f"/api/plans/{work['plan']['id']}").get_json()
    assert (plan["status"], plan["next_review_due"], plan["outcome"]) == (
        "closed", None, "风险解除，转入常规走访")
    context.close()
    assert problems == []


def test_a_heads_own_draft_gets_a_helper_and_a_measure_before_approval(browser, live_server):
    ids = live_server.ids
    head, admin = (factories.ApiClient(live_server.app.test_client()) for _ in range(2))
    head.login("head_a")
    admin.login("admin")
    # A helper works the child's grid (a2): worker_a is given it beside a1.
    assert admin.patch(f"/api/users/{ids.users['worker_a']}",
                       json={"grid_ids": [ids.grids["a1"], ids.grids["a2"]]}).status_code == 200
    head.post(f"/api/children/{ids.children['a2']}/risk-override",
              json={"level": "high", "reason": "村委会掌握情况"})
    plan = head.get(f"/api/plans?child_id={ids.children['a2']}").get_json()["rows"][0]
    assert (plan["status"], plan["helper_id"], plan["measures"]) == ("draft", None, [])
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "head_a")
    page.evaluate(f"location.hash = '#/plan/{plan['id']}'")
    expect(page.get_by_role("heading", name="帮扶计划：司马小雨")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("未指定")
    page.get_by_test_id("approve").click()
    expect(page.locator("#toast")).to_have_text("请先指定一名帮扶责任人")
    expect(page.get_by_label("指定一名帮扶责任人").locator("option")).to_have_text(
        ["请选择", "测试worker_a", "测试head_a"])
    page.get_by_label("指定一名帮扶责任人").select_option(label="测试worker_a")
    page.get_by_role("button", name="保存责任人").click()
    expect(page.locator(".facts")).to_contain_text("测试worker_a")
    page.get_by_label("措施类别").select_option(label="生活救助")
    page.get_by_label("具体内容").fill("申请临时救助")
    page.get_by_role("button", name="添加措施").click()
    expect(page.get_by_test_id("measures").locator("li")).to_have_count(1)
    problems = helpers.check_screen(page, "head-10-plan-own-draft")
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("plan-status")).to_have_text("执行中")
    body = head.get(f"/api/plans/{plan['id']}").get_json()
    assert (body["status"], body["helper_id"], body["measures"]) == (
        "active", ids.users["worker_a"], [{"kind": "living_aid", "detail": "申请临时救助", "due": None}])
    context.close()
    assert problems == []


def test_a_moved_childs_active_plan_waits_for_a_helper_and_the_head_names_one(browser, live_server):
    """The child's household moves to grid a2, which worker_a does not work: the active plan loses its
    helper, the head finds it under 待指定帮扶责任人 and names one on the plan's page."""
    ids, work = live_server.ids, _casework(live_server)
    head = factories.ApiClient(live_server.app.test_client())
    head.login("head_a")
    url = f"/api/plans/{work['plan']['id']}"
    assert head.post(f"{url}/approve").get_json()["status"] == "active"
    moved = head.edit(f"/api/households/{ids.households['a1']}", {"grid_id": ids.grids["a2"]})
    assert moved.status_code == 200, moved.get_json()
    assert head.get(url).get_json()["helper_id"] is None
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "head_a")
    page.evaluate("location.hash = '#/plans'")
    waiting = page.get_by_test_id("plan_helper_missing").get_by_role("link")
    expect(waiting.locator("strong")).to_have_text(["欧阳明月 帮扶计划待指定帮扶责任人"])
    waiting.click()
    expect(page.get_by_test_id("plan-status")).to_have_text("执行中")
    expect(page.locator(".facts")).to_contain_text("未指定")
    expect(page.get_by_label("指定一名帮扶责任人").locator("option")).to_have_text(["请选择", "测试head_a"])
    page.get_by_label("指定一名帮扶责任人").select_option(label="测试head_a")
    page.get_by_role("button", name="保存责任人").click()
    expect(page.locator(".facts")).to_contain_text("测试head_a")
    problems = helpers.check_screen(page, "head-11-plan-helper-named")
    body = head.get(url).get_json()
    assert (body["status"], body["helper_id"], body["grid_id"]) == (
        "active", ids.users["head_a"], ids.grids["a2"])
    assert [t for t in head.get("/api/tasks").get_json()["tasks"] if t["kind"] == "plan_helper_missing"] == []
    context.close()
    assert problems == []


def test_a_category_has_one_name_on_the_child_page_the_filter_and_the_ledger(browser, live_server):
    """The phone names the seven categories as the ledger (and its export) does: a head filtering by
    one finds cards that call it by the same name."""
    every = ["left_behind", "migrant", "disadvantaged", "disabled", "single_parent", "reconstituted",
             "troubled_family"]
    with live_server.app.app_context():
        db.session.get(Child, live_server.ids.children["a1"]).categories = every
        db.session.commit()
    words = "留守、流动、困境、残疾、单亲、重组、关系异常"
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "head_a")
    page.evaluate(f"location.hash = '#/child/{live_server.ids.children['a1']}'")
    facts = page.locator("dl.facts").first
    expect(facts.locator("dt:text-is('类别') + dd")).to_have_text(words)

    page.evaluate("location.hash = '#/ledgers/children'")
    page.get_by_text("筛选", exact=True).click()
    assert page.get_by_label("类别").locator("option").all_inner_texts() == ["全部", *words.split("、")]
    page.get_by_label("类别").select_option(label="关系异常")
    cards = page.get_by_test_id("ledger-cards")
    expect(cards.locator("li")).to_have_count(1)
    expect(cards.locator("dt:text-is('类别') + dd")).to_have_text(words)
    context.close()


def test_village_affairs_without_the_server_claims_no_counts(browser, live_server):
    """Offline, 村务 cannot know what waits: its entries say what each holds, not 待审批 0, which the
    server (one draft plan waiting here) would not say."""
    _casework(live_server)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "head_a")
    page.locator("#nav").get_by_role("link", name="村务").click()
    plans = page.get_by_role("link", name=re.compile("^帮扶计划"))
    expect(plans.locator(".meta")).to_have_text("待审批 1 · 待定责任人 0 · 待评估 0 · 高风险未落实 0")
    expect(plans.locator(".tag")).to_have_text("1")

    helpers.go_offline(context)
    page.locator("#nav").get_by_role("link", name="今日待办").click()
    page.locator("#nav").get_by_role("link", name="村务").click()
    expect(page.get_by_test_id("offline")).to_be_visible()
    expect(plans.locator(".meta")).to_have_text("审批计划、指定帮扶责任人、定期评估；高风险儿童的计划落实")
    expect(page.locator("#view .list .tag")).to_have_count(0)
    context.close()


def test_a_screen_the_server_refuses_for_an_ended_session_offers_the_login_again(browser, live_server):
    """The server session ended (12 hours, or idle) before the next sync noticed: a head opening 村务 is
    told the login expired and gets the 去登录 banner at once, not 出错了：请先登录 with nothing to press."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "head_a")
    context.clear_cookies()
    page.locator("#nav").get_by_role("link", name="村务").click()
    expect(page.locator("#view .banner.warn")).to_have_text(
        "登录已过期，请输入密码重新连接服务器。点上方“去登录”。", timeout=helpers.TIMEOUT)
    banner = page.locator("#banners .banner.warn")
    expect(banner).to_contain_text("登录已过期，请输入密码重新连接服务器", timeout=helpers.TIMEOUT)
    banner.get_by_role("link", name="去登录").click()
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator("#banners .banner.warn")).to_have_count(0, timeout=helpers.TIMEOUT)
    page.locator("#nav").get_by_role("link", name="村务").click()
    expect(page.get_by_test_id("monthly-report")).to_be_visible()
    context.close()
