"""Register a household and child offline; a record the server rejects stays in 'needs attention'."""
import re
import uuid
from datetime import datetime

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import AppliedOp, Child, Clue, Grid, Household, User, Visit, utcnow

from . import helpers
from .conftest import PHONE
from .test_offline import record_visit
from .test_register_checks import GOOD, wrong_check


def register(page, name: str, id_number: str = "") -> None:
    page.locator("#nav").get_by_role("link", name="登记").click()
    page.get_by_label("家庭住址").fill("测试镇新建组8号")
    page.get_by_label("监护人姓名").fill("王大山")
    page.get_by_label("与儿童关系").fill("父亲")
    page.get_by_label("儿童姓名").fill(name)
    page.get_by_label("身份证号（可不填）").fill(id_number)
    page.get_by_label("留守").check()
    page.get_by_role("button", name="保存登记").click()
    expect(page.get_by_role("heading", name="我的儿童")).to_be_visible()


# An older release of the app checked nothing: it queued a registration as typed. The phone's own
# modules queue one so here, as its form did, which the form now would not.
UNCHECKED = """async ([name, idNumber, phone, householdId]) => {
  const store = await import('/js/store.js');
  const { newId } = await import('/js/crypto.js');
  const child = { household_id: householdId, name, id_number: idNumber, birth_date: null, sex: null,
    school: null, categories: ['left_behind'], registered_at: new Date().toISOString() };
  const childId = newId();
  if (householdId) {
    await store.create('child', { id: childId, ...child });
    return { child: childId };
  }
  const places = await store.reference('places');
  const household = newId();
  await store.create('household', { id: household, grid_id: places[0].grids[0].id, address: '测试镇新建组8号',
    guardians: [{ name: '王大山', relation: '父亲', phone }] },
    [{ entity: 'child', id: childId, data: { ...child, household_id: household } }]);
  return { household, child: childId };
}"""


def register_unchecked(page, name: str, id_number: str | None = None, phone: str | None = None,
                       household_id: str | None = None) -> dict:
    """Queue a registration as an older release did, unchecked: a child in `household_id`, or in a
    new household with one guardian of `phone`; return their ids."""
    ids = page.evaluate(UNCHECKED, [name, id_number, phone, household_id])
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    return ids


def offline_worker(browser, live_server):
    """worker_a's phone, logged in, then out of coverage."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.go_offline(context)
    return context, page


def problem_at(page, label: str):
    """What the form says is wrong under the field `label` names."""
    field = page.locator(".field").filter(has=page.get_by_label(label, exact=True))
    return field.get_by_test_id("field-problem")


def test_register_offline_then_sync_and_rejections_stay_visible(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    assert helpers.nav_labels(page) == [("今日待办", None, 1), ("我的儿童", None, 1), ("登记", None, 1),
                                        ("同步", None, 1)]
    helpers.go_offline(context)
    register(page, "王小花")
    register_unchecked(page, "王小草", id_number="123456")  # not a valid ID number: the server will refuse it
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 4")
    page.get_by_label("搜索姓名或拼音首字母").fill("王小")
    expect(page.locator(".list .item")).to_have_count(2)
    registered = {op["data"]["name"]: datetime.fromisoformat(op["data"]["registered_at"])
                  for op in helpers.pending_ops(page) if op["entity"] == "child"}

    helpers.go_online(context)
    helpers.sync_now(page)
    attention = page.get_by_test_id("attention")
    expect(attention).to_contain_text("被退回：儿童", timeout=helpers.TIMEOUT)
    expect(attention).to_contain_text("身份证号：")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    page.reload()
    helpers.unlock(page)
    page.locator("#nav").get_by_role("link", name="同步").click()
    expect(page.get_by_test_id("attention")).to_contain_text("被退回：儿童")  # never dropped
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    expect(page.get_by_role("link", name=re.compile("王小花"))).to_be_visible()
    context.close()

    with live_server.app.app_context():
        children = {c.name: c for c in db.session.scalars(select(Child))}
        assert "王小花" in children and "王小草" not in children
        # Registered when the phone registered it: its first visit falls due from then.
        assert children["王小花"].registered_at == registered["王小花"] < children["王小花"].created_at
        addresses = [h.address for h in db.session.scalars(select(Household))]
        assert addresses.count("测试镇新建组8号") == 2  # both households; only the bad child refused


def test_a_rejected_visit_goes_again_under_a_new_op_id_once_its_cause_is_fixed(browser, live_server):
    ids = live_server.ids
    context, page = offline_worker(browser, live_server)
    record_visit(page, "欧阳明月", "孩子在家")
    # A record's screen does not put the child's name in the title the browser keeps in its history.
    assert page.title() == "儿童详情 · 护蕾"

    def delete_child(deleted: bool) -> None:
        with live_server.app.app_context():
            child = db.session.get(Child, ids.children["a1"])
            child.deleted_at = utcnow() if deleted else None
            db.session.commit()
    # Deleted by mistake while the phone was offline. (A child moved away meanwhile would take
    # the visit: the phone still held it when the visit was made.)
    delete_child(True)
    helpers.go_online(context)
    helpers.sync_now(page)
    attention = page.get_by_test_id("attention")
    expect(attention).to_contain_text("被退回：走访", timeout=helpers.TIMEOUT)
    delete_child(False)  # the mistake is put right
    attention.get_by_role("button", name="重新提交").click()
    helpers.wait_synced(page)
    expect(page.get_by_text("没有需要处理的记录。")).to_be_visible()
    context.close()

    with live_server.app.app_context():
        visits = db.session.scalars(select(Visit).where(Visit.child_id == ids.children["a1"])).all()
        assert [v.notes for v in visits] == ["孩子在家"]
        answers = db.session.scalars(select(AppliedOp).where(AppliedOp.entity_id == visits[0].id)
                                     .order_by(AppliedOp.applied_at)).all()
        assert [a.result["status"] for a in answers] == ["rejected", "applied"]
        assert answers[0].op_id != answers[1].op_id


def test_the_form_refuses_what_the_server_would_at_its_field_and_queues_nothing(browser, live_server):
    context, page = offline_worker(browser, live_server)
    page.locator("#nav").get_by_role("link", name="登记").click()
    page.get_by_label("家庭住址").fill("测试镇新建组9号")
    page.get_by_label("监护人姓名").fill("王大山")
    page.get_by_label("监护人电话").fill("1380000000")  # one digit short
    page.get_by_label("儿童姓名").fill("王小石")
    page.get_by_label("身份证号（可不填）").fill(wrong_check(GOOD[0]))
    page.get_by_role("button", name="保存登记").click()
    expect(problem_at(page, "身份证号（可不填）")).to_have_text("身份证号码校验位不正确")
    expect(problem_at(page, "监护人电话")).to_have_text("电话号码格式不正确")
    expect(page.get_by_label("身份证号（可不填）")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("监护人电话")).to_be_focused()  # the first field to correct
    expect(page.get_by_role("alert").filter(has_text="请按标出的提示修改后再保存")).to_be_visible()
    page.get_by_label("身份证号（可不填）").fill("２０１５０１０１")  # a date is not an ID number either
    page.get_by_role("button", name="保存登记").click()
    expect(problem_at(page, "身份证号（可不填）")).to_have_text(
        "身份证号码应为 18 位（末位可为 X）")
    expect(page.get_by_role("heading", name="登记家庭或儿童")).to_be_visible()
    assert helpers.pending_ops(page) == []
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 0")

    # Corrected, as a Chinese keyboard may type it (full-width, a small x): saved plain.
    page.get_by_label("监护人电话").fill("１３８ ０００００ ０００")
    page.get_by_label("身份证号（可不填）").fill(" " + GOOD[1].lower())
    expect(page.get_by_test_id("field-problem")).to_have_count(0)  # typing takes the complaint away
    page.get_by_role("button", name="保存登记").click()
    expect(page.get_by_role("heading", name="我的儿童")).to_be_visible()
    ops = {op["entity"]: op["data"] for op in helpers.pending_ops(page)}
    assert ops["child"]["id_number"] == GOOD[1]
    assert ops["household"]["guardians"][0]["phone"] == "138 00000 000"
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page)
    expect(page.get_by_text("没有需要处理的记录。")).to_be_visible()
    context.close()
    with live_server.app.app_context():
        assert [c.id_number for c in db.session.scalars(select(Child)) if c.name == "王小石"] == [GOOD[1]]


def visit(page, name: str, note: str) -> None:
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("searchbox").fill(name)
    page.get_by_role("link", name=re.compile(f"^{name}")).click()
    page.get_by_role("link", name="记录走访").click()
    expect(page.get_by_test_id("gps")).to_contain_text("精度")
    page.get_by_role("group", name="在校就读").get_by_label("是").check()
    page.get_by_label("走访情况").fill(note)
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def test_a_refused_child_is_corrected_and_goes_again_with_the_visits_filed_on_it(browser, live_server):
    ids = live_server.ids
    context, page = offline_worker(browser, live_server)
    bad = wrong_check(GOOD[0])
    child_id = register_unchecked(page, "王小草", id_number=bad, household_id=ids.households["a1"])["child"]
    visit(page, "王小草", "第一次走访")
    visit(page, "王小草", "第二次走访，孩子在家")
    # An edit of the new child, queued on its registration (chained): it goes on the version the
    # registration gets, once corrected. It lost that link when refused, and was refused for good.
    page.get_by_label("备注").fill("网格员：补记住址")
    page.get_by_role("button", name="保存备注").click()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 4")

    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page, 4)
    items = page.get_by_test_id("rejected-op")
    expect(items).to_have_count(4)
    child_item = items.filter(has_text="被退回：儿童").filter(has_not_text="的修改")
    expect(child_item).to_contain_text("身份证号码校验位不正确")
    expect(items.filter(has_text="被退回：儿童「王小草」的修改").get_by_test_id("waits-on")).to_have_count(1)
    visits = items.filter(has_text="被退回：走访")
    expect(visits).to_have_count(2)
    expect(visits.get_by_test_id("waits-on")).to_have_count(2)
    expect(visits.first).to_contain_text("儿童不存在或不在您的管辖范围内")

    child_item.get_by_role("link", name="修改后重新提交").click()
    expect(page.get_by_role("heading", name="修改儿童登记")).to_be_visible()
    expect(page.get_by_label("儿童姓名")).to_have_value("王小草")
    expect(page.get_by_label("留守")).to_be_checked()
    expect(page.get_by_label("身份证号（可不填）")).to_have_value(bad)
    expect(problem_at(page, "身份证号（可不填）")).to_have_text("身份证号码校验位不正确")
    assert not helpers.check_screen(page, "register-correction")
    page.get_by_role("button", name="保存并重新提交").click()  # unchanged: the phone knows it is wrong
    expect(page.locator("#view form .error[role=alert]")).to_have_text("请按标出的提示修改后再保存")
    expect(page.get_by_role("button", name="保存并重新提交")).to_be_enabled()
    expect(problem_at(page, "身份证号（可不填）")).to_have_text("身份证号码校验位不正确")
    page.get_by_label("身份证号（可不填）").fill(GOOD[0])
    page.get_by_role("button", name="保存并重新提交").click()
    expect(page.get_by_role("heading", name="同步状态")).to_be_visible()
    helpers.wait_synced(page)
    expect(page.get_by_text("没有需要处理的记录。")).to_be_visible()
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("searchbox").fill("王小草")
    page.get_by_role("link", name=re.compile("^王小草")).click()
    expect(page.get_by_test_id("visit")).to_have_count(2)
    expect(page.get_by_test_id("refused-tag")).to_have_count(0)
    context.close()

    with live_server.app.app_context():
        child = db.session.get(Child, child_id)
        assert (child.name, child.id_number, child.household_id, child.notes) == (
            "王小草", GOOD[0], ids.households["a1"], "网格员：补记住址")
        notes = sorted(v.notes for v in db.session.scalars(select(Visit).where(Visit.child_id == child_id)))
        assert notes == ["第一次走访", "第二次走访，孩子在家"]
        answers = db.session.scalars(select(AppliedOp).where(AppliedOp.entity_id == child_id)
                                     .order_by(AppliedOp.applied_at)).all()
        # Taken on the version its registration got, its visits filed after (each updates the child).
        assert [(a.result["status"], a.result["version"]) for a in answers] == [
            ("rejected", None), ("rejected", None), ("applied", 1), ("applied", child.version)]


REFUSED = "import('/js/db.js').then((d) => d.outboxByState('rejected'))"


def test_a_report_on_a_child_whose_registration_was_refused_can_go_to_the_police_without_it(
        browser, live_server):
    """A clue filed on a child registered offline waits, refused, for the child's registration,
    which the server refused: until the worker corrects that, or for good once they give it up,
    the mandatory report never reached the police, and only giving it up was offered. It can go
    now without naming the child (its words kept); the registration stays to be handled."""
    context, page = offline_worker(browser, live_server)
    register_unchecked(page, "王小草", id_number="123456")  # the server refuses the ID number
    page.get_by_role("link", name="强制报告").click()
    page.get_by_label("发生了什么（必填）").fill("王小草家中有陌生成年人留宿")
    page.get_by_label("涉及儿童（可选）").select_option(label="王小草")
    page.get_by_role("button", name="提交报告").click()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 3")
    helpers.go_online(context)
    helpers.sync_now(page)
    clue = page.get_by_test_id("rejected-op").filter(has_text="线索")
    expect(clue.get_by_test_id("waits-on")).to_be_visible(timeout=helpers.TIMEOUT)
    helpers.wait_synced(page, unsynced=2)

    reported = [op["id"] for op in page.evaluate(REFUSED) if op["entity"] == "clue"]
    clue.get_by_role("button", name="不关联儿童，立即报送").click()
    expect(page.locator("#toast")).to_have_text("报告已放回待同步队列，将不关联儿童报送")
    helpers.wait_synced(page, unsynced=1)
    expect(page.get_by_test_id("rejected-op")).to_have_count(1)
    expect(page.get_by_test_id("rejected-op")).to_contain_text("被退回：儿童「王小草」")
    context.close()
    with live_server.app.app_context():
        rows = db.session.scalars(select(Clue).where(Clue.id.in_(reported)))
        clues = [(c.description, c.child_id) for c in rows]
        db.session.remove()
    assert clues == [("王小草家中有陌生成年人留宿", None)]


def test_a_refused_household_corrected_takes_its_child_and_the_childs_visit_along(browser, live_server):
    context, page = offline_worker(browser, live_server)
    made = register_unchecked(page, "王小木", phone="1234")
    visit(page, "王小木", "家中无人，邻居说在外婆家")
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page, 3)
    items = page.get_by_test_id("rejected-op")
    expect(items).to_have_count(3)
    expect(items.filter(has_text="被退回：儿童").get_by_test_id("waits-on")).to_contain_text("家庭登记还没有被服务器接收")
    expect(items.filter(has_text="被退回：走访").get_by_test_id("waits-on")).to_contain_text("儿童登记还没有被服务器接收")

    items.filter(has_text="被退回：家庭").get_by_role("link", name="修改后重新提交").click()
    expect(page.get_by_role("heading", name="修改家庭登记")).to_be_visible()
    expect(page.get_by_label("家庭住址")).to_have_value("测试镇新建组8号")
    expect(problem_at(page, "监护人电话")).to_have_text("电话号码格式不正确")
    page.get_by_label("监护人电话").fill("0731-84567890")
    page.get_by_role("button", name="保存并重新提交").click()
    expect(page.get_by_role("heading", name="同步状态")).to_be_visible()
    helpers.wait_synced(page)
    expect(page.get_by_text("没有需要处理的记录。")).to_be_visible()
    context.close()

    with live_server.app.app_context():
        household = db.session.get(Household, made["household"])
        assert [g["phone"] for g in household.guardians] == ["0731-84567890"]
        assert db.session.get(Child, made["child"]).household_id == household.id
        assert [v.notes for v in db.session.scalars(select(Visit).where(Visit.child_id == made["child"]))] == [
            "家中无人，邻居说在外婆家"]


def test_a_household_refused_for_a_grid_taken_from_the_worker_names_no_grid_by_its_id(browser, live_server):
    """Registered offline in grid a1, which the town office moved worker_a out of meanwhile: the
    correction form says the grid is the one registered before, not its id, and offers the grid now held."""
    ids = live_server.ids
    context, page = offline_worker(browser, live_server)
    register(page, "王小花")
    with live_server.app.app_context():
        db.session.get(User, ids.users["worker_a"]).grids = [db.session.get(Grid, ids.grids["a2"])]
        db.session.commit()
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page, 2)
    item = page.get_by_test_id("rejected-op").filter(has_text="被退回：家庭")
    item.get_by_role("link", name="修改后重新提交").click()
    expect(page.get_by_role("heading", name="修改家庭登记")).to_be_visible()
    grid = page.get_by_label("所属网格")
    expect(problem_at(page, "所属网格")).to_have_text("网格不存在或不在您的管辖范围内")
    before = "原登记的网格（已不在您的管辖范围内）"
    assert grid.locator("option").all_inner_texts() == [before, "测试A村 第2网格"]
    assert grid.evaluate("(s) => s.selectedOptions[0].textContent") == before
    context.close()


def test_a_household_already_held_is_listed_in_address_order_with_a_guardian(browser, live_server):
    """已有家庭 lists the households by address, numbers as numbers (2组 before 10组), each with its first
    guardian, whom the worker knows the family by: not in the store's order, which is its random ids'."""
    ids = live_server.ids
    with live_server.app.app_context():
        grid = db.session.get(Grid, ids.grids["a1"])
        rows = (("测试镇10组1号", "王大山"), ("测试镇2组12号", "李三妹"), ("测试镇2组1号", ""))
        for address, guardian in rows:
            household = Household(id=str(uuid.uuid4()), grid_id=grid.id, village_id=grid.village_id,
                                  family_type="left_behind")
            household.address = address
            household.guardians = [{"name": guardian, "relation": "母亲", "phone": None}] if guardian else []
            db.session.add(household)
        db.session.commit()
    context, page = offline_worker(browser, live_server)
    page.locator("#nav").get_by_role("link", name="登记").click()
    page.get_by_label("登记方式").select_option(label="已有家庭")
    assert page.get_by_label("选择家庭").locator("option").all_inner_texts() == [
        "测试镇2组1号", "测试镇2组12号（李三妹）", "测试镇10组1号（王大山）",
        "测试镇a1组2号槐花巷（监护人欧大山）"]
    context.close()
