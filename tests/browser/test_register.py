"""Register a household and child offline; a record the server rejects stays in 'needs attention'."""
import re
from datetime import datetime

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import AppliedOp, Child, Household, Visit, utcnow

from . import helpers
from .conftest import PHONE
from .test_offline import record_visit


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


def test_register_offline_then_sync_and_rejections_stay_visible(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    assert helpers.nav_labels(page) == [("今日待办", None, 1), ("我的儿童", None, 1), ("登记", None, 1),
                                        ("同步", None, 1)]
    helpers.go_offline(context)
    register(page, "王小花")
    register(page, "王小草", id_number="123456")  # not a valid ID number: the server will refuse it
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 4")
    page.get_by_label("搜索姓名或拼音首字母").fill("王小")
    expect(page.locator(".list .item")).to_have_count(2)
    registered = {op["data"]["name"]: datetime.fromisoformat(op["data"]["registered_at"])
                  for op in helpers.pending_ops(page) if op["entity"] == "child"}

    helpers.go_online(context)
    helpers.sync_now(page)
    attention = page.get_by_test_id("attention")
    expect(attention).to_contain_text("被退回：儿童", timeout=helpers.TIMEOUT)
    expect(attention).to_contain_text("id_number")
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
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    helpers.go_offline(context)
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
