"""A visit that finds a child has had no prevention education (CHECKLISTS: "no → schedule
education") puts a follow-up on the to-do of those who look after the child, until a visit finds
it done; the phone learns the follow-ups and their conditions from GET /api/checklists."""
from server.extensions import db
from server.models import Child
from server.services import recount

from .helpers import post_visit, visit_body

EDUCATION = {"key": "schedule_education", "detail": "安排防性侵教育（\"六个一\"）", "unit": "学校"}


def _follow_up_items(api) -> tuple[int, list[tuple]]:
    answer = api.get("/api/tasks").get_json()
    return answer["counts"].get("follow_up_due"), [
        (t["title"], t["entity"], t["entity_id"], t["overdue"], t["detail"])
        for t in answer["tasks"] if t["kind"] == "follow_up_due"]


def test_no_prevention_education_is_followed_up_until_a_visit_finds_it_done(app, town, login):
    worker, head, other = login("worker_a"), login("head_a"), login("worker_b")
    child_id = town.children["a1"]
    assert _follow_up_items(worker) == (0, [])
    post_visit(worker, child_id, "a1", {"prevention_education": False, "in_school": True})
    child = worker.get(f"/api/children/{child_id}").get_json()
    assert (child["follow_ups"], child["risk_reasons"]) == (["schedule_education"], [])
    item = ("欧阳明月 安排防性侵教育（\"六个一\"）", "child", child_id, False,
            {"grid_id": town.grids["a1"], "follow_ups": [EDUCATION]})
    assert _follow_up_items(worker) == (1, [item])
    head_items = _follow_up_items(head)
    assert (head_items[0], [i[1:] for i in head_items[1]]) == (1, [item[1:]])
    assert _follow_up_items(other) == (0, [])  # another village's worker
    assert _follow_up_items(login("inspector")) == (None, [])

    # A visit that leaves the item unanswered (it is optional; a phone without the checklist records
    # notes only) finds nothing done: the follow-up stays. One that finds it done clears it.
    post_visit(worker, child_id, "a1", {"guardian_present": True}, hours_ago=0.75)
    post_visit(worker, child_id, "a1", {}, hours_ago=0.6)
    assert worker.get(f"/api/children/{child_id}").get_json()["follow_ups"] == ["schedule_education"]
    assert _follow_up_items(worker) == (1, [item])
    post_visit(worker, child_id, "a1", {"prevention_education": True}, hours_ago=0.5)
    assert worker.get(f"/api/children/{child_id}").get_json()["follow_ups"] == []
    assert _follow_up_items(worker) == (0, [])
    post_visit(worker, child_id, "a1", {"in_school": True}, hours_ago=0.25)
    assert _follow_up_items(worker) == (0, [])  # and a later unanswered one does not bring it back


def test_a_correction_that_finds_it_done_clears_it(app, town, login):
    worker = login("worker_a")
    child_id = town.children["a1"]
    found = post_visit(worker, child_id, "a1", {"prevention_education": False})
    assert _follow_up_items(worker)[0] == 1
    corrected = worker.post("/api/visits", json={**visit_body(child_id, "a1", {"prevention_education": True}),
                                                 "visited_at": found["visited_at"], "amends": found["id"],
                                                 "amend_reason": "误选，已接受过教育"})
    assert corrected.status_code == 201, corrected.get_json()
    assert worker.get(f"/api/children/{child_id}").get_json()["follow_ups"] == []
    assert _follow_up_items(worker) == (0, [])


def test_a_child_no_longer_active_is_not_followed_up(app, town, login):
    worker = login("worker_a")
    child_id = town.children["a1"]
    post_visit(worker, child_id, "a1", {"prevention_education": False})
    assert _follow_up_items(worker)[0] == 1
    with app.app_context():
        db.session.get(Child, child_id).status = "moved_out"
        db.session.commit()
    assert _follow_up_items(worker) == (0, [])


def test_the_phone_gets_the_follow_ups_with_their_conditions(app, town, login):
    answer = login("worker_a").get("/api/checklists").get_json()
    assert answer["follow_ups"] == [{**EDUCATION, "when": {"answer": "prevention_education", "op": "eq",
                                                           "value": False}}]


# Whatever order visits reach the server in, the latest standing visit that answered decides.
def test_an_older_visit_synced_late_that_finds_no_education_is_kept(app, town, login):
    worker, head = login("worker_a"), login("head_a")
    child_id = town.children["a1"]
    # The head's visit at 10:00 records notes only; the worker's at 09:00 (offline phone) found no
    # prevention education and reaches the server after it.
    post_visit(head, child_id, "a1", {}, hours_ago=1)
    post_visit(worker, child_id, "a1", {"prevention_education": False}, hours_ago=2)
    live = _follow_ups(worker, child_id)
    # What recount works out from the same visits, in time order:
    with app.app_context():
        child = db.session.get(Child, child_id)
        child.follow_ups = child.follow_up_basis = None
        db.session.commit()
        recount.work_out_follow_ups()
    assert (live, _follow_ups(worker, child_id)) == (["schedule_education"], ["schedule_education"])


def test_a_correction_of_the_visit_that_cleared_it_leaving_it_unanswered(app, town, login):
    worker = login("worker_a")
    child_id = town.children["a1"]
    post_visit(worker, child_id, "a1", {"prevention_education": False}, hours_ago=3)
    cleared = post_visit(worker, child_id, "a1", {"prevention_education": True}, hours_ago=2)
    assert _follow_ups(worker, child_id) == []
    r = worker.post("/api/visits", json={**visit_body(child_id, "a1", {}), "visited_at": cleared["visited_at"],
                                         "amends": cleared["id"], "amend_reason": "误选，未确认是否接受过教育"})
    assert r.status_code == 201, r.get_json()
    # The only standing visit that answers says no education: it stands again.
    assert _follow_ups(worker, child_id) == ["schedule_education"]


def test_a_merge_keeps_the_follow_up_the_duplicates_visit_found(app, town, login):
    from .test_duplicates_and_tasks import _twin
    twin = _twin(app, town, "a1", "430699201501010011")
    worker, head = login("worker_a"), login("head_a")
    post_visit(head, twin, "a2", {"prevention_education": False}, hours_ago=2)
    post_visit(worker, town.children["a1"], "a1", {"guardian_present": True}, hours_ago=1)
    assert _follow_ups(head, twin) == ["schedule_education"]
    merged = head.post(f"/api/children/{twin}/merge", json={"into": town.children["a1"]})
    assert merged.status_code == 200, merged.get_json()
    assert _follow_ups(head, town.children["a1"]) == ["schedule_education"]


def _follow_ups(api, child_id):
    return api.get(f"/api/children/{child_id}").get_json()["follow_ups"]
