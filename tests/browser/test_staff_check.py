"""Staff record checks (从业人员查询) on a venue's page: recorded offline by an inspector, checked on
the phone as the server checks them, kept masked on the phone, synced once, sealed on the server;
a record found reaches the police's to-do; a check the server refuses is marked so."""
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from sqlalchemy import select, text

from server.extensions import db
from server.models import AuditEvent, StaffCheck

from .. import factories
from . import helpers
from .conftest import PHONE

SHANGHAI = ZoneInfo("Asia/Shanghai")
ID_NUMBER = factories.valid_id_number("43069919850315123")
MASKED = ID_NUMBER[:6] + "*" * 8 + ID_NUMBER[-4:]
NAME = "王小二"
DRAFT = """async () => (await import('/js/db.js')).draftGet(location.hash + '|staff-check')"""
# Everything the phone holds, opened with its key: its records and every op in its outbox.
OPENED = """async () => { const db = await import('/js/db.js');
  const states = ['pending', 'rejected', 'conflict'];
  const ops = await Promise.all(states.map((s) => db.outboxByState(s)));
  return JSON.stringify([await db.allRecords(), ops]); }"""
LOCAL = """async () => (await import('/js/db.js')).allRecords()
  .then((rows) => rows.filter((r) => r.entity === 'staff_check').map((r) => ({ ...r.data, id: r.id })))"""


def open_venue_page(page, name: str) -> None:
    """From 我的场所, the venue's own page (the inspector's card opens the inspection form)."""
    page.locator("#nav").get_by_role("link", name="我的场所").click()
    expect(page.get_by_role("heading", name="我的场所")).to_be_visible()
    page.get_by_role("link", name=f"场所详情 {name}").click()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()


def open_form(page, venue: str) -> None:
    page.get_by_role("link", name="记录从业人员查询").click()
    expect(page.get_by_role("heading", name=f"从业人员查询 {venue}")).to_be_visible()


def fill_check(page, name: str, id_number: str, result: str) -> None:
    page.get_by_label("姓名", exact=True).fill(name)
    page.get_by_label("身份证号").fill(id_number)
    page.get_by_label(result, exact=True).check()


def test_a_staff_check_recorded_offline_is_synced_sealed_and_alerts_the_police(browser, live_server):
    today = datetime.now(SHANGHAI).date()
    venue_b = live_server.ids.venues["b"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    helpers.login(page, live_server.url, "inspector")
    open_venue_page(page, "测试b宾馆")
    staff = page.get_by_test_id("staff-checks")
    expect(staff.get_by_role("heading")).to_have_text("从业人员查询（0）")
    expect(staff).to_contain_text("暂无从业人员查询记录。")

    helpers.go_offline(context)
    open_form(page, "测试b宾馆")
    expect(page.get_by_label("查询日期", exact=True)).to_have_value(today.isoformat())
    expect(page.get_by_label("下次查询日期")).to_have_value((today + timedelta(days=365)).isoformat())
    # The next check follows the check date.
    page.get_by_label("查询日期", exact=True).fill((today - timedelta(days=3)).isoformat())
    expect(page.get_by_label("下次查询日期")).to_have_value((today + timedelta(days=362)).isoformat())
    problems += helpers.check_screen(page, "staff-01-form")

    # A wrong check digit is refused on the phone, in Chinese, at its field; nothing is queued.
    wrong = ID_NUMBER[:-1] + ("1" if ID_NUMBER[-1] != "1" else "2")
    fill_check(page, NAME, wrong, "有违法犯罪记录")
    page.wait_for_timeout(900)  # the typing is kept as a draft meanwhile: without the ID number
    draft = page.evaluate(DRAFT)
    assert draft and draft["fields"]["person_name"] == NAME and "id_number" not in draft["fields"], draft
    page.get_by_role("button", name="保存查询").click()
    expect(page.get_by_test_id("field-problem")).to_have_text("身份证号码校验位不正确")
    expect(page.locator("#view p.error[role=alert]")).to_have_text("请按标出的提示修改后再保存")
    expect(page.get_by_label("身份证号")).to_have_attribute("aria-invalid", "true")
    assert helpers.pending_ops(page) == []
    problems += helpers.check_screen(page, "staff-02-bad-id")

    page.get_by_label("身份证号").fill(" " + ID_NUMBER.lower() + " ")
    page.get_by_role("button", name="保存查询").click()
    expect(page.locator("#toast")).to_have_text("从业人员查询已保存在本机，待同步")
    expect(page.get_by_role("heading", name="测试b宾馆", exact=True)).to_be_visible()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    checked_on, next_due = today - timedelta(days=3), today + timedelta(days=362)
    ops = helpers.pending_ops(page)
    assert len(ops) == 1 and ops[0]["id"], ops
    check_id = ops[0]["id"]
    assert ops == [{"entity": "staff_check", "action": "create", "id": check_id, "base_version": None, "data": {
        "person_name": NAME, "id_number": ID_NUMBER, "employer_kind": "venue", "employer_id": venue_b,
        "checked_on": checked_on.isoformat(), "result": "record_found", "next_due": next_due.isoformat()}}]
    # The phone's own copy holds the number masked as the server shows it; every row is sealed.
    assert [r["id_number"] for r in page.evaluate(LOCAL)] == [MASKED]
    assert page.evaluate(DRAFT) is None
    assert page.evaluate(OPENED).count(ID_NUMBER) == 1  # in the op it sends, only
    dump = str(helpers.raw_indexeddb(page))
    assert ID_NUMBER not in dump and NAME not in dump
    item = page.get_by_test_id("staff-check")
    expect(item).to_have_count(1)
    expect(item.locator("strong")).to_have_text(NAME)
    expect(item.get_by_test_id("staff-result")).to_have_text("有违法犯罪记录")
    expect(item.get_by_test_id("staff-result")).to_have_class("tag high")
    expect(item).to_contain_text("待同步")
    expect(item).to_contain_text(f"身份证号 {MASKED}")
    expect(item).to_contain_text(f"查询日期 {checked_on} · 下次查询 {next_due}")
    problems += helpers.check_screen(page, "staff-03-venue-pending")

    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page)
    open_venue_page(page, "测试b宾馆")
    expect(item).to_have_count(1)
    expect(item).not_to_contain_text("待同步")
    expect(item.get_by_test_id("staff-result")).to_have_text("有违法犯罪记录")
    expect(item).to_contain_text(f"身份证号 {MASKED}")
    [held] = page.evaluate(LOCAL)
    assert (held["id"], held["id_number"], held["version"], held["village_id"]) == (
        check_id, MASKED, 1, live_server.ids.villages["b"])
    assert ID_NUMBER not in page.evaluate(OPENED)  # sent: the phone holds it whole nowhere
    problems += helpers.check_screen(page, "staff-04-venue-synced")
    context.close()

    with live_server.app.app_context():
        check = db.session.get(StaffCheck, check_id)
        assert (check.person_name, check.id_number, check.employer_kind, check.employer_id, check.village_id,
                check.checked_on, check.result, check.next_due, check.version) == (
            NAME, ID_NUMBER, "venue", venue_b, live_server.ids.villages["b"], checked_on, "record_found",
            next_due, 1)
        sealed = db.session.execute(text(
            "SELECT person_name_ct, id_number_ct, id_number_bidx FROM staff_check")).one()
        assert NAME.encode() not in bytes(sealed[0]) and ID_NUMBER.encode() not in bytes(sealed[1])
        assert sealed[2] and ID_NUMBER not in sealed[2]
        of_check = (AuditEvent.entity == "staff_check", AuditEvent.entity_id == check_id)
        events = db.session.execute(select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.detail)
                                    .where(*of_check).order_by(AuditEvent.seq)).all()
        assert [(e.action, e.actor_id) for e in events] == [
            ("staff_check.create", live_server.ids.users["inspector"]),
            ("alert.staff_record_found", live_server.ids.users["inspector"])]
        assert ID_NUMBER not in str([e.detail for e in events])

    admin = factories.ApiClient(live_server.app.test_client())
    admin.login("admin")
    ledger = admin.get("/api/ledgers/staff_checks").get_json()
    assert [(r["id"], r["id_number"], r["employer"], r["checked_on"], r["result"], r["next_due"])
            for r in ledger["rows"]] == [
        (check_id, MASKED, "测试b宾馆", checked_on.isoformat(), "有记录", next_due.isoformat())]

    # The police see the record found in their to-do, under the venue, and open it there.
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "police")
    page.locator("#nav").get_by_role("link", name="今日待办").click()
    todo = page.get_by_test_id("staff-todo")
    expect(todo.get_by_role("heading")).to_have_text("从业人员查询（1）")
    expect(todo.locator("li")).to_have_count(1)
    expect(todo.locator("strong")).to_have_text(NAME)
    expect(todo.locator(".tag.high")).to_have_text("有违法犯罪记录")
    expect(todo.locator(".meta")).to_have_text("从业查询发现违法犯罪记录，请处置 · 测试b宾馆")
    problems += helpers.check_screen(page, "staff-05-police-todo")
    todo.get_by_role("link").click()
    expect(page.get_by_role("heading", name="测试b宾馆", exact=True)).to_be_visible()
    expect(page.get_by_test_id("staff-check")).to_contain_text(f"身份证号 {MASKED}")
    expect(page.get_by_role("link", name="记录从业人员查询")).to_have_count(0)  # the police do not record them
    context.close()
    assert problems == []


def test_a_staff_check_the_server_refuses_is_marked_on_the_venue(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "inspector")
    open_venue_page(page, "测试a宾馆")
    helpers.go_offline(context)
    open_form(page, "测试a宾馆")
    fill_check(page, "李四", ID_NUMBER, "无记录")
    page.get_by_role("button", name="保存查询").click()
    expect(page.get_by_role("heading", name="测试a宾馆", exact=True)).to_be_visible()
    item = page.get_by_test_id("staff-check")
    expect(item.get_by_test_id("staff-result")).to_have_text("无记录")
    expect(item.get_by_test_id("staff-result")).to_have_class("tag")

    # Sent for a venue the server does not know.
    rejected = helpers.sync_refused(page, context, "staff_check", "employer_id")
    expect(rejected).to_contain_text("场所不存在或不在您的管辖范围内")
    expect(rejected.locator("strong")).to_contain_text("从业人员查询「李四，测试a宾馆」")  # whom, and where
    expect(rejected).not_to_contain_text(ID_NUMBER)
    with live_server.app.app_context():
        assert db.session.scalars(select(StaffCheck)).all() == []
    open_venue_page(page, "测试a宾馆")
    expect(item).to_have_count(1)
    expect(item.get_by_test_id("refused-tag")).to_have_text("被退回，待处理")
    expect(item).not_to_contain_text("待同步")
    context.close()


def test_the_next_check_may_not_come_before_this_one(browser, live_server):
    """Checked on the phone as the server checks it (StaffCheckCreateSchema._due_after_check)."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "head_b")  # a village head records them too (scope.WRITE_ROLES)
    page.locator("#nav").get_by_role("link", name="我的场所").click()
    page.locator(f"li.venue[data-venue='{live_server.ids.venues['b']}'] a.item").click()
    open_form(page, "测试b宾馆")
    fill_check(page, "赵五", ID_NUMBER, "无记录")
    page.get_by_label("下次查询日期").fill((date.today() - timedelta(days=30)).isoformat())
    page.get_by_role("button", name="保存查询").click()
    expect(page.get_by_test_id("field-problem")).to_have_text("下次查询日期不能早于本次查询日期")
    assert helpers.pending_ops(page) == []
    page.get_by_label("下次查询日期").fill("")  # none: the server sets it a year on
    page.get_by_role("button", name="保存查询").click()
    expect(page.get_by_role("heading", name="测试b宾馆", exact=True)).to_be_visible()
    helpers.sync_now(page)
    helpers.wait_synced(page)
    with live_server.app.app_context():
        check = db.session.scalars(select(StaffCheck)).one()
        assert (check.person_name, check.next_due) == ("赵五", check.checked_on + timedelta(days=365))
    context.close()


def test_a_recheck_recorded_on_the_phone_takes_the_place_of_the_check_that_fell_due(browser, live_server):
    inspector = factories.ApiClient(live_server.app.test_client())
    inspector.login("inspector")
    last_year = (datetime.now(SHANGHAI).date() - timedelta(days=400)).isoformat()
    old = inspector.post("/api/staff_checks", json={
        "person_name": NAME, "id_number": ID_NUMBER, "employer_kind": "venue",
        "employer_id": live_server.ids.venues["b"], "checked_on": last_year, "result": "clear"})
    assert old.status_code == 201, old.get_json()
    context, page = helpers.phone(browser, live_server.url, "inspector")
    helpers.go_offline(context)
    open_venue_page(page, "测试b宾馆")
    first = page.locator(f"[data-staff-check='{old.get_json()['id']}']")
    expect(first.locator(".tag")).to_have_text(["无记录", "应再次查询"])
    open_form(page, "测试b宾馆")
    fill_check(page, NAME, ID_NUMBER, "无记录")
    page.get_by_role("button", name="保存查询").click()
    expect(page.get_by_role("heading", name="测试b宾馆", exact=True)).to_be_visible()
    checks = page.get_by_test_id("staff-check")
    expect(checks).to_have_count(2)
    expect(checks.nth(0).locator(".tag")).to_have_text(["无记录", "待同步"])
    expect(first.locator(".tag")).to_have_text(["无记录", "已复查"])
    context.close()


def test_an_inspector_checks_their_own_units_staff_offline(browser, live_server):
    """Staff of units in close contact with minors (a school's, a clinic's) are checked as venues' are,
    but the phone had no screen for them: only the API took a unit's check. Now an inspector records
    their own unit's from 我的场所 › 本单位从业人员查询, offline too; another unit's are not listed."""
    with live_server.app.app_context():
        from server.models import User

        unit_id = db.session.get(User, live_server.ids.users["inspector"]).unit_id
        police_unit = db.session.get(User, live_server.ids.users["police"]).unit_id
    inspector = factories.ApiClient(live_server.app.test_client())
    inspector.login("inspector")
    today = datetime.now(SHANGHAI).date().isoformat()

    def unit_check(unit: str, name: str, digits: str, checked_on: str = today):
        return inspector.post("/api/staff_checks", json={
            "person_name": name, "id_number": factories.valid_id_number(digits), "employer_kind": "unit",
            "employer_id": unit, "checked_on": checked_on, "result": "clear"})

    theirs = unit_check(police_unit, "李老师", "43069919800101002")
    last_year = (datetime.now(SHANGHAI).date() - timedelta(days=400)).isoformat()
    ours = unit_check(unit_id, "张医生", "43069919700101003", last_year)  # due again
    assert theirs.status_code == 201, theirs.get_json()
    assert ours.status_code == 201, ours.get_json()
    context, page = helpers.phone(browser, live_server.url, "inspector")
    # 今日待办 lists the unit's check due again and opens the unit's checks.
    page.locator("#nav").get_by_role("link", name="今日待办").click()
    due = page.get_by_test_id("staff-todo").get_by_role("link", name=re.compile("^张医生"))
    expect(due).to_have_attribute("href", "#/staff/unit")
    expect(due.locator(".meta")).to_contain_text("本单位")
    helpers.go_offline(context)
    page.locator("#nav").get_by_role("link", name="我的场所").click()
    page.get_by_role("link", name="本单位从业人员查询").click()
    expect(page.get_by_role("heading", name="本单位从业人员查询", exact=True)).to_be_visible()
    expect(page.get_by_test_id("unit-name")).to_have_text("测试市场监管所与未成年人密切接触的从业人员（如教职工、医护人员）的查询记录。")
    expect(page.get_by_test_id("staff-check").locator("strong")).to_have_text(["张医生"])  # not 李老师
    page.get_by_role("link", name="记录从业人员查询").click()
    expect(page.get_by_role("heading", name="记录本单位从业人员查询")).to_be_visible()
    fill_check(page, NAME, ID_NUMBER, "有违法犯罪记录")
    problems = helpers.check_screen(page, "staff-unit-form")
    page.get_by_role("button", name="保存查询").click()
    expect(page.locator("#toast")).to_have_text("从业人员查询已保存在本机，待同步")
    expect(page.get_by_role("heading", name="本单位从业人员查询", exact=True)).to_be_visible()
    check = page.get_by_test_id("staff-check").first
    expect(page.get_by_test_id("staff-check").locator("strong")).to_have_text([NAME, "张医生"])
    expect(check.locator(".tag")).to_have_text(["有违法犯罪记录", "待同步"])
    expect(check.get_by_text(f"身份证号 {MASKED}")).to_be_visible()
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page)
    with live_server.app.app_context():
        stored = db.session.scalars(select(StaffCheck).where(StaffCheck.employer_id == unit_id,
                                                             StaffCheck.id != ours.get_json()["id"])).one()
        assert (stored.person_name, stored.id_number, stored.employer_kind, stored.result) == (
            NAME, ID_NUMBER, "unit", "record_found")
    context.close()
    assert problems == []
