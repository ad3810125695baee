"""A grid worker records an assistance plan's progress on the phone, offline, and it syncs as a fact."""
from datetime import datetime

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, PlanProgress

from .. import factories
from ..workflow.helpers import TZ
from . import helpers

NOTE = "陪同到卫生院复查，伤情已好转"


def _active_plan(server) -> tuple[factories.ApiClient, dict]:
    """worker_a finds injuries at 欧阳明月's home; head_a approves the plan and records a review."""
    worker, head = factories.ApiClient(server.app.test_client()), factories.ApiClient(server.app.test_client())
    worker.login("worker_a")
    head.login("head_a")
    child = server.ids.children["a1"]
    visit = worker.post("/api/visits", json={"child_id": child, "visited_at": datetime.now(TZ).isoformat(),
                                             "answers": {"injury_signs": True}, "notes": "手臂有淤青",
                                             "lat": 29.1, "lon": 113.2, "accuracy_m": 10})
    assert visit.status_code == 201, visit.get_json()
    plan = worker.get(f"/api/plans?child_id={child}").get_json()["rows"][0]
    assert head.post(f"/api/plans/{plan['id']}/approve").status_code == 200
    assert head.post(f"/api/plans/{plan['id']}/review", json={"note": "措施落实中"}).status_code == 200
    return head, plan


def _stored_plan(page):
    page.locator("#nav").get_by_role("link", name="我的儿童").click()
    page.get_by_role("link", name="欧阳明月").click()
    return page.get_by_test_id("stored-plan")


def test_progress_recorded_offline_syncs_and_a_closed_plan_takes_none(browser, live_server):
    head, plan = _active_plan(live_server)
    context, page = helpers.phone(browser, live_server.url, "worker_a")
    helpers.go_offline(context)

    stored = _stored_plan(page)
    expect(stored).to_contain_text("状态：执行中")
    expect(stored.get_by_role("heading")).to_have_text("进展与评估（1）")
    review = stored.get_by_test_id("progress").locator("li")
    expect(review).to_have_count(1)
    expect(review.locator(".tag")).to_have_text(["评估"])
    expect(review.locator(".meta")).to_have_text(["措施落实中"])

    problems = helpers.check_screen(page, "worker-plan-progress")
    before = datetime.now(TZ)
    stored.get_by_label("帮扶进展（必填）").fill(NOTE)
    stored.get_by_role("button", name="保存进展").click()
    expect(page.get_by_text("进展已保存在本机，待同步")).to_be_visible()
    stored = page.get_by_test_id("stored-plan")
    expect(stored.get_by_role("heading")).to_have_text("进展与评估（2）")
    entries = stored.get_by_test_id("progress").locator("li")
    expect(entries.nth(0)).to_contain_text(NOTE)
    expect(entries.nth(0)).to_contain_text("待同步")
    expect(entries.nth(1)).to_contain_text("措施落实中")
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    assert [(op["entity"], op["action"]) for op in helpers.pending_ops(page)] == [("plan_progress", "create")]

    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page)
    with live_server.app.app_context():
        rows = db.session.scalars(select(PlanProgress).where(PlanProgress.plan_id == plan["id"])
                                  .order_by(PlanProgress.at)).all()
        assert [(r.note, r.kind, r.author_id, r.amends_id) for r in rows] == [
            ("措施落实中", "review", live_server.ids.users["head_a"], None),
            (NOTE, "progress", live_server.ids.users["worker_a"], None)]
        assert before.timestamp() - 1 <= rows[1].at.timestamp() <= datetime.now(TZ).timestamp()
        audit = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_id == rows[1].id)).all()
        worker_id = live_server.ids.users["worker_a"]
        assert [(a.action, a.actor_id) for a in audit] == [("plan_progress.create", worker_id)]

    # The head closes the plan: the phone, synced, shows it closed and offers no entry.
    assert head.post(f"/api/plans/{plan['id']}/close", json={"outcome": "风险解除"}).status_code == 200
    helpers.sync_now(page)
    helpers.wait_synced(page)
    stored = _stored_plan(page)
    expect(stored).to_contain_text("状态：已结案")
    expect(stored.get_by_role("heading")).to_have_text("进展与评估（2）")
    expect(stored.get_by_test_id("progress")).not_to_contain_text("待同步")
    expect(stored.get_by_role("button", name="保存进展")).to_have_count(0)
    context.close()
    assert problems == []
