"""An account edit that leaves a plan's helper unfit clears the helper of the open plans it helped."""
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent
from server.services.audit import verify_chain

from ..routes.helpers import assert_error
from ..sync.test_push_pull_basics import pull_all
from .test_plans import _approved_plan, _last_plan_edit, _tasks

ADMIN_DESK = "desk-admin-0001"


def _closed_and_active(town, login):
    """Return the head, the closed plan worker_a helped, and the active one they help, both a1's."""
    _, head, url, _ = _approved_plan(town, login)
    assert head.post(f"{url}/close", json={"outcome": "风险解除"}).status_code == 200
    created = head.post("/api/plans", json={
        "child_id": town.children["a1"], "helper_id": town.users["worker_a"],
        "measures": [{"kind": "psychological", "detail": "心理疏导", "due": None}]})
    assert created.status_code == 201, created.get_json()
    active = head.post(f"/api/plans/{created.get_json()['id']}/approve")
    assert active.status_code == 200, active.get_json()
    return head, head.get(url).get_json(), active.get_json()


def _edit_worker_a(login, town, changes: dict) -> None:
    admin = login("admin", device_id=ADMIN_DESK)
    answer = admin.patch(f"/api/users/{town.users['worker_a']}", json=changes)
    assert answer.status_code == 200, answer.get_json()


def _assert_released(app, town, login, head, closed: dict, active: dict, cursor: str) -> None:
    """The active plan lost its helper in the admin's audited edit, which the head's phone pulls
    and whose to-do lists the plan; the closed plan is as it was."""
    after = head.get(f"/api/plans/{active['id']}").get_json()
    assert {**after, "updated_at": None} == {**active, "helper_id": None, "version": active["version"] + 1,
                                             "updated_at": None}
    assert head.get(f"/api/plans/{closed['id']}").get_json() == closed
    with app.app_context():
        assert _last_plan_edit(active["id"]) == (
            town.users["admin"], {"version": after["version"], "fields": ["helper_id"]})
        assert db.session.scalars(select(AuditEvent.device_id).where(
            AuditEvent.entity_id == active["id"], AuditEvent.action == "plan.update")
            .order_by(AuditEvent.seq.desc()).limit(1)).one() == ADMIN_DESK
        assert verify_chain()["ok"]
    pulled, _ = pull_all(head, cursor)
    assert [(c["id"], c["version"], c["data"]["helper_id"]) for c in pulled if c["entity"] == "plan"] == [
        (active["id"], after["version"], None)]
    item = {"kind": "plan_helper_missing", "title": "欧阳明月 帮扶计划待指定帮扶责任人",
            "due": active["next_review_due"], "overdue": False, "entity": "plan", "entity_id": active["id"],
            "village_id": town.villages["a"], "detail": {"child_id": town.children["a1"], "status": "active"}}
    assert _tasks(head, "plan_helper_missing") == (1, [item])
    assert _tasks(login("admin"), "plan_helper_missing") == (
        1, [{**item, "title": "欧**月 帮扶计划待指定帮扶责任人"}])


def test_a_worker_taken_off_the_childs_grid_no_longer_helps_its_open_plan(app, town, login):
    """worker_a's grid a1 is given over to a2 only: they could no longer see a1's active plan, so the
    admin's edit clears them as its helper; a1's closed plan keeps them."""
    head, closed, active = _closed_and_active(town, login)
    head = login("head_a", device_id="phone-head-a-0001")
    _, cursor = pull_all(head)
    assert _tasks(head, "plan_helper_missing") == (0, [])
    _edit_worker_a(login, town, {"grid_ids": [town.grids["a2"]]})
    _assert_released(app, town, login, head, closed, active, cursor)
    assert_error(login("worker_a").get(f"/api/plans/{active['id']}"), 404, "not_found")


def test_a_deactivated_worker_no_longer_helps_its_open_plan(app, town, login):
    """worker_a is disabled: the active plan they helped waits for the head to name another."""
    head, closed, active = _closed_and_active(town, login)
    head = login("head_a", device_id="phone-head-a-0001")
    _, cursor = pull_all(head)
    _edit_worker_a(login, town, {"active": False})
    _assert_released(app, town, login, head, closed, active, cursor)


def test_a_helper_who_still_fits_after_an_edit_keeps_the_plan(app, town, login):
    """worker_a is given grid a2 as well, and renamed: they still work a1, and the plan is unchanged."""
    _, head, url, approved = _approved_plan(town, login)
    _edit_worker_a(login, town, {"grid_ids": [town.grids["a1"], town.grids["a2"]]})
    _edit_worker_a(login, town, {"display_name": "网格员甲"})
    assert head.get(url).get_json() == approved
    assert _tasks(head, "plan_helper_missing") == (0, [])


def test_a_head_moved_to_another_village_no_longer_helps_its_draft(app, town, login):
    """head_a helps a1's draft and moves to village b: the draft loses them, in the admin's edit, and
    waits in approvals for a helper."""
    head = login("head_a")
    _, _, url, _ = _approved_plan(town, login)
    assert head.post(f"{url}/close", json={"outcome": "风险解除"}).status_code == 200
    created = head.post("/api/plans", json={"child_id": town.children["a1"], "helper_id": town.users["head_a"],
                                            "measures": []})
    assert created.status_code == 201, created.get_json()
    draft = created.get_json()
    moved = login("admin").patch(f"/api/users/{town.users['head_a']}", json={"village_id": town.villages["b"]})
    assert moved.status_code == 200, moved.get_json()
    with app.app_context():
        assert _last_plan_edit(draft["id"]) == (
            town.users["admin"], {"version": draft["version"] + 1, "fields": ["helper_id"]})
    after = login("worker_a").get(f"/api/plans/{draft['id']}").get_json()
    assert (after["status"], after["helper_id"]) == ("draft", None)
