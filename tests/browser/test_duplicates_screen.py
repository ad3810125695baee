"""The village head's 疑似重复登记: a child registered twice is seen as a pair, merged into the one the
head keeps (the server then holds one child with both visits, and the grid worker's phone one child),
and a merge the server refuses says why and changes nothing. A phone that edited the merged
registration meanwhile is told why its edit cannot be saved, and holds one child once it gives it up."""
import re

from playwright.sync_api import expect

from .. import factories
from ..workflow.helpers import post_visit
from . import helpers
from .conftest import PHONE
from .outbox import expect_all_settled, give_up, phone

ID_NUMBER = factories.valid_id_number("43069920160304002")
MASKED = f"{ID_NUMBER[:6]}********{ID_NUMBER[-4:]}"
REFUSED = "两名儿童都有未结案的帮扶计划，请先将其中一份结案后再合并"


def _api(server, username: str) -> factories.ApiClient:
    api = factories.ApiClient(server.app.test_client())
    api.login(username)
    return api


def _register(api, household_id: str, name: str, birth_date: str, id_number: str | None = None) -> str:
    body = {"household_id": household_id, "name": name, "sex": "F", "birth_date": birth_date,
            "categories": ["left_behind"], **({"id_number": id_number} if id_number else {})}
    response = api.post("/api/children", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _twice_registered(server) -> dict:
    """worker_a registers 林小雨 twice in grid a1 (same ID number) and visits each once, finding injuries
    (a draft plan each); the head registers 张小花 (no ID number) once in grid a1 and once in grid a2."""
    worker, head = _api(server, "worker_a"), _api(server, "head_a")
    homes = server.ids.households
    first = _register(worker, homes["a1"], "林小雨", "2016-03-04", ID_NUMBER)
    second = _register(worker, homes["a1"], "林小雨", "2016-03-04", ID_NUMBER)
    visits = [post_visit(worker, child, "a1", {"injury_signs": True})["id"] for child in (first, second)]
    plans = {c: worker.get(f"/api/plans?child_id={c}").get_json()["rows"] for c in (first, second)}
    assert [[p["status"] for p in plans[c]] for c in (first, second)] == [["draft"], ["draft"]]
    flowers = [_register(head, homes[key], "张小花", "2017-05-06") for key in ("a1", "a2")]
    return {"first": first, "second": second, "visits": visits, "plan": plans[first][0]["id"],
            "flowers": flowers, "head": head}


def _hub_link(page):
    """Open 村务 and return its link to 疑似重复登记."""
    page.locator("#nav").get_by_role("link", name="村务").click()
    return page.get_by_role("link", name=re.compile("^疑似重复登记")).locator("strong")


def _merge(page, group, toast: str, count: str) -> None:
    """Press 合并 in `group`, confirm, and wait for the toast and the list's count."""
    group.get_by_role("button", name="合并").click()
    page.get_by_role("dialog", name="合并重复登记").get_by_role("button", name="合并").click()
    expect(page.locator("#toast")).to_have_text(toast)
    expect(page.get_by_test_id("duplicates-count")).to_have_text(count)


def _phone_children(page) -> list[str]:
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    expect(page.get_by_role("heading", name="我的儿童")).to_be_visible()
    return page.locator("#view a.item strong").all_inner_texts()


def test_a_head_merges_a_child_registered_twice_and_the_workers_phone_holds_one(browser, live_server):
    made = _twice_registered(live_server)
    first, second, head_api = made["first"], made["second"], made["head"]
    problems = []

    worker_context = browser.new_context(**PHONE)
    worker = worker_context.new_page()
    helpers.login(worker, live_server.url, "worker_a")
    assert _phone_children(worker) == ["林小雨", "林小雨", "欧阳明月", "张小花"]

    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "head_a")
    link = _hub_link(page)
    expect(link).to_have_text("疑似重复登记（2）")
    link.click()
    expect(page.get_by_role("heading", name="疑似重复登记")).to_be_visible()
    expect(page.get_by_test_id("duplicates-count")).to_have_text("共 2 组疑似重复登记。")
    groups = page.get_by_test_id("duplicate-group")
    expect(groups).to_have_count(2)
    pair = groups.nth(0)
    expect(pair.locator(".tag")).to_have_text("身份证号相同")
    expect(pair.get_by_test_id("duplicate-child")).to_have_count(2)
    assert pair.get_by_test_id("duplicate-child").evaluate_all(
        "(els) => els.map((e) => e.dataset.child)") == [first, second]
    facts = pair.get_by_test_id("duplicate-child").nth(1).locator("dl")
    expect(facts.locator("dt")).to_have_text(["身份证号", "出生日期", "性别", "所在网格", "家庭住址", "走访",
                                              "帮扶计划", "登记时间"])
    expect(facts.locator("dd").nth(0)).to_have_text(MASKED)
    expect(facts.locator("dd").nth(1)).to_have_text("2016-03-04")
    expect(facts.locator("dd").nth(2)).to_have_text("女")
    expect(facts.locator("dd").nth(3)).to_have_text("测试A村 第1网格")
    expect(facts.locator("dd").nth(4)).to_have_text(live_server.ids.secrets["a1"]["address"])
    expect(facts.locator("dd").nth(5)).to_have_text(re.compile(r"^1 次，最近 \d{4}-\d\d-\d\d$"))
    expect(facts.locator("dd").nth(6)).to_have_text("有未结案的计划")
    flowers = groups.nth(1)
    expect(flowers.locator(".tag")).to_have_text("姓名、出生日期相同，同一村/社区")
    expect(flowers.get_by_test_id("duplicate-child").locator("dd").filter(has_text="网格")).to_have_text(
        ["测试A村 第1网格", "测试A村 第2网格"])
    problems += helpers.check_screen(page, "duplicates-01-list")

    # Nothing chosen: the head is asked which registration stays.
    pair.get_by_role("button", name="合并").click()
    expect(pair.get_by_role("alert")).to_have_text("请先选择保留哪一条登记")

    # Each has an open plan: the server refuses, says why, and nothing changes.
    keep = "保留第 2 条：林小雨（测试A村 第1网格）"
    pair.get_by_label(keep).check()
    pair.get_by_role("button", name="合并").click()
    dialog = page.get_by_role("dialog", name="合并重复登记")
    expect(dialog.locator("p")).to_have_text(
        "将把第 1 条“林小雨（测试A村 第1网格）”并入保留的第 2 条“林小雨（测试A村 第1网格）”："
        "它的走访记录、帮扶计划和线索都转到保留的一条名下，类别合并，保留的一条未填的身份证号、出生日期、学校由它补上；"
        "它标记为已合并，不再出现在名单和网格员的手机上。合并后不能撤销。")
    problems += helpers.check_screen(page, "duplicates-02-confirm")
    dialog.get_by_role("button", name="合并").click()
    expect(pair.get_by_role("alert")).to_have_text(REFUSED)
    expect(pair.get_by_role("button", name="合并")).to_be_enabled()
    expect(groups).to_have_count(2)
    assert [head_api.get(f"/api/children/{c}").status_code for c in (first, second)] == [200, 200]
    # A head of another village cannot merge them (nor learn they exist).
    other = _api(live_server, "head_b").post(f"/api/children/{first}/merge", json={"into": second})
    assert (other.status_code, other.get_json()["error"]["code"]) == (404, "not_found")
    problems += helpers.check_screen(page, "duplicates-03-refused")

    # One plan closed, the merge goes through and the list no longer holds the pair.
    closed = head_api.post(f"/api/plans/{made['plan']}/close", json={"outcome": "重复登记，以另一份计划为准"})
    assert closed.status_code == 200, closed.get_json()
    _merge(page, pair, "已合并，保留 林小雨（测试A村 第1网格）", "共 1 组疑似重复登记。")
    expect(groups).to_have_count(1)
    expect(groups.nth(0).locator(".tag")).to_have_text("姓名、出生日期相同，同一村/社区")

    assert head_api.get(f"/api/children/{first}").status_code == 404
    kept = head_api.get(f"/api/children/{second}").get_json()
    assert (kept["name"], kept["status"], kept["id_number"]) == ("林小雨", "active", MASKED)
    visits = head_api.get(f"/api/visits?child_id={second}").get_json()["rows"]
    assert sorted(v["id"] for v in visits) == sorted(made["visits"])
    named = head_api.get("/api/children?per_page=100").get_json()["rows"]
    assert sorted(c["id"] for c in named if c["name"] == "林小雨") == [second]

    # Merged meanwhile by the town office: the head's merge finds it gone and the list is redrawn.
    zhang = groups.nth(0)
    zhang.get_by_label(re.compile("^保留第 1 条")).check()
    by_admin = _api(live_server, "admin").post(f"/api/children/{made['flowers'][1]}/merge",
                                               json={"into": made["flowers"][0]})
    assert by_admin.status_code == 200, by_admin.get_json()
    # The server says which was merged (404 merged), so the phone says so, not 记录不存在.
    _merge(page, zhang, "这组登记已被他人合并，已刷新名单", "没有疑似重复登记。")
    expect(groups).to_have_count(0)
    problems += helpers.check_screen(page, "duplicates-04-none")
    expect(_hub_link(page)).to_have_text("疑似重复登记（0）")
    # Offline the server cannot be asked: no count it did not give, and the screen says it needs the network.
    helpers.go_offline(context)
    page.locator("#nav").get_by_role("link", name="同步").click()
    expect(_hub_link(page)).to_have_text("疑似重复登记")
    link.click()
    expect(page.get_by_test_id("offline")).to_have_text("此页面需要联网。当前离线，请到有信号的地方再打开。")
    expect(page.get_by_test_id("duplicate-group")).to_have_count(0)
    context.close()

    # The grid worker's phone, on its next sync, holds the kept child with both visits.
    helpers.sync_now(worker)
    helpers.wait_synced(worker)
    assert _phone_children(worker) == ["林小雨", "欧阳明月", "张小花"]
    worker.get_by_role("link", name=re.compile("^林小雨")).click()
    expect(worker.get_by_role("heading", name="走访记录（2）")).to_be_visible()
    assert sorted(worker.get_by_test_id("visit").evaluate_all("(els) => els.map((e) => e.dataset.visit)")) == \
        sorted(made["visits"])
    assert worker.url.endswith(f"#/child/{second}")
    worker_context.close()
    assert problems == []


def test_an_edit_of_the_registration_merged_meanwhile_is_refused_saying_so_and_then_given_up(
        browser, live_server):
    worker_api, homes = _api(live_server, "worker_a"), live_server.ids.households
    first, second = (_register(worker_api, homes["a1"], "林小雨", "2016-03-04", ID_NUMBER) for _ in range(2))
    context, page = phone(browser, live_server)
    assert _phone_children(page) == ["林小雨", "林小雨", "欧阳明月"]
    helpers.go_offline(context)
    page.evaluate(f"location.hash = '#/child/{first}'")
    page.get_by_label("备注").fill("网格员：已转学到镇中心小学")
    page.get_by_role("button", name="保存备注").click()
    expect(page.get_by_text("有未同步的修改")).to_be_visible()
    merged = _api(live_server, "head_a").post(f"/api/children/{first}/merge", json={"into": second})
    assert merged.status_code == 200, merged.get_json()

    helpers.go_online(context)
    helpers.sync_now(page)
    item = page.get_by_test_id("rejected-op")
    expect(item.locator("strong")).to_have_text("被退回：儿童「林小雨」的修改", timeout=helpers.TIMEOUT)
    expect(item.locator(".meta")).to_have_text(["修改内容：备注：网格员：已转学到镇中心小学",
        "该儿童是重复登记，已被合并到另一条登记，此修改无法保存：请放弃这条修改，在保留的登记上重新修改"])
    helpers.wait_synced(page, unsynced=1)
    # Until the edit is given up the phone keeps it, on the registration it was made on.
    assert _phone_children(page) == ["林小雨", "林小雨", "欧阳明月"]
    page.locator("#nav").get_by_role("link", name="同步").click()
    give_up(page, "林小雨")
    expect_all_settled(page, "已放弃，这条记录已不在本机")
    assert _phone_children(page) == ["林小雨", "欧阳明月"]
    page.get_by_role("link", name=re.compile("^林小雨")).click()
    assert page.url.endswith(f"#/child/{second}")
    context.close()


def test_keeping_a_registration_marked_moved_out_is_warned_of(browser, live_server):
    head = _api(live_server, "head_a")
    homes = live_server.ids.households
    flowers = [_register(head, homes[key], "张小花", "2017-05-06") for key in ("a1", "a2")]
    moved = head.edit(f"/api/children/{flowers[1]}", {"status": "moved_out"})
    assert moved.status_code == 200, moved.get_json()
    context, page = helpers.phone(browser, live_server.url, "head_a", installed=False)
    _hub_link(page).click()
    group = page.get_by_test_id("duplicate-group")
    expect(group).to_have_count(1)
    group.get_by_label("保留第 2 条：张小花（测试A村 第2网格）").check()
    group.get_by_role("button", name="合并").click()
    dialog = page.get_by_role("dialog", name="合并重复登记")
    expect(dialog.locator("p")).to_contain_text(
        "注意：保留的一条状态为“已迁出”，合并后这名儿童不再在走访名单上；如儿童仍在本村/社区，请保留状态正常的一条。")
    dialog.get_by_role("button", name="取消").click()
    assert [head.get(f"/api/children/{c}").status_code for c in flowers] == [200, 200]  # nothing merged
    context.close()
