"""The town office reveals a masked field of a child with a reason: shown in the dialog only, audited."""
import json

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, Child

from . import helpers
from .conftest import PHONE

REASON = "区检察院调阅，核实身份"

# What the phone keeps, decrypted: its records and the outbox, and the web storage.
KEPT = """async () => {
  const db = await import('/js/db.js');
  const ops = await Promise.all(['pending', 'rejected', 'conflict'].map((s) => db.outboxByState(s)));
  return JSON.stringify([await db.allRecords(), ops, { ...localStorage }, { ...sessionStorage }]);
}"""


def _open_child(page, child_id: str) -> None:
    page.evaluate(f"location.hash = '#/child/{child_id}'")
    expect(page.locator("#view h1")).to_be_visible()
    expect(page.get_by_text("下次走访")).to_be_visible()


def test_town_admin_reveals_an_id_number_with_a_reason(browser, live_server):
    child = live_server.ids.children["a1"]
    secret = live_server.ids.secrets["a1"]["id_number"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    asked = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/reveal") else None)
    helpers.login(page, live_server.url, "admin")
    _open_child(page, child)
    expect(page.locator("#view h1")).to_have_text("欧**月")
    assert secret not in page.locator("#view").inner_text()

    page.get_by_test_id("reveal").click()
    dialog = page.get_by_test_id("reveal-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("radio")).to_have_count(3)
    dialog.get_by_label("身份证号").check()
    dialog.get_by_role("button", name="查看").click()
    expect(dialog.get_by_role("alert")).to_have_text("请写明查看原因")
    expect(dialog.get_by_test_id("revealed")).to_be_empty()
    assert asked == []

    # The server's own words for a reason too short.
    dialog.get_by_label("原因（必填）").fill("看看")
    dialog.get_by_role("button", name="查看").click()
    expect(dialog.get_by_role("alert")).to_have_text("请写明查看理由（4 到 500 个字符）")
    assert len(asked) == 1

    dialog.get_by_label("原因（必填）").fill(REASON)
    dialog.get_by_role("button", name="查看").click()
    expect(dialog.get_by_test_id("revealed")).to_have_text(f"身份证号：{secret}")
    expect(dialog.locator("[role=alert]")).to_be_empty()
    assert len(asked) == 2
    assert helpers.check_screen(page, "reveal-01-dialog") == []

    with live_server.app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal")).all()
        assert [(e.actor_id, e.entity, e.entity_id, e.detail, e.reason) for e in events] == [
            (live_server.ids.users["admin"], "child", child, {"field": "id_number"}, REASON)]

    # Nowhere but the dialog: not the title, the toast, the stored records (decrypted) or raw IndexedDB.
    assert secret not in page.title()
    assert secret not in (page.locator("#toast").text_content() or "")
    assert secret not in page.evaluate(KEPT)
    assert secret not in json.dumps(helpers.raw_indexeddb(page), ensure_ascii=False)
    assert secret not in page.locator("#view").inner_text()

    dialog.get_by_role("button", name="关闭").click()
    expect(dialog).to_have_count(0)
    assert secret not in page.content()

    # Offline: said, and nothing asked.
    helpers.go_offline(context, installed=False)
    page.get_by_test_id("reveal").click()
    dialog.get_by_label("原因（必填）").fill(REASON)
    dialog.get_by_role("button", name="查看").click()
    expect(dialog.get_by_role("alert")).to_have_text("此页面需要联网。当前离线，请到有信号的地方再打开。")
    expect(dialog.get_by_test_id("revealed")).to_be_empty()
    assert len(asked) == 2
    context.close()


def test_a_grid_worker_has_no_reveal(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "worker_a")
    _open_child(page, live_server.ids.children["a1"])
    expect(page.locator("#view h1")).to_have_text("欧阳明月")
    expect(page.locator("#view dd", has_text="********")).to_have_count(1)  # the ID number shows masked
    expect(page.get_by_test_id("reveal")).to_have_count(0)
    expect(page.get_by_role("button", name="查看完整信息")).to_have_count(0)
    context.close()


def test_a_village_head_reveals_the_guardian_phones_of_a_child_without_an_id_number(browser, live_server):
    """Guardian phones are masked for a head too, who may reveal them: the one masked field offered."""
    child = live_server.ids.children["a1"]
    with live_server.app.app_context():
        db.session.get(Child, child).id_number = None
        db.session.commit()
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "head_a")
    _open_child(page, child)
    expect(page.locator("#view h1")).to_have_text("欧阳明月")
    expect(page.locator("#view")).to_contain_text("139****0000")
    page.get_by_test_id("reveal").click()
    dialog = page.get_by_test_id("reveal-dialog")
    expect(dialog.get_by_role("radio")).to_have_count(1)
    expect(dialog.get_by_label("监护人电话")).to_be_checked()
    dialog.get_by_label("原因（必填）").fill(REASON)
    dialog.get_by_role("button", name="查看").click()
    expect(dialog.get_by_test_id("revealed")).to_have_text("监护人电话：13900000000")
    with live_server.app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal")).all()
        assert [(e.actor_id, e.entity_id, e.detail, e.reason) for e in events] == [
            (live_server.ids.users["head_a"], child, {"field": "guardian_phones"}, REASON)]
    # The phone put away (locked, another app): the value goes with the dialog.
    page.evaluate("""() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    }""")
    expect(dialog).to_have_count(0)
    assert "13900000000" not in page.content()
    context.close()
