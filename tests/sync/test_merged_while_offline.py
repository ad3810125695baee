"""A fact recorded on a phone about a child the village head then merged into the child it
duplicates (the phone was offline and still held the duplicate) is filed on the child it was merged
into: the same child, registered once now. Only a phone that could have filed it on the duplicate
(in the caller's scope, or held by the phone) gets that far; the record takes the surviving
child's household, grid and village, and the phone pulls it under that child."""
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, Child, Clue, Visit, utcnow

from ..factories import valid_id_number
from ..workflow.helpers import post_visit
from .test_moved_while_offline import OUT_OF_REACH, WORKER_PHONE, _visit, push_holding
from .test_push_pull_basics import op, pull_all, push

HEAD_PHONE = "phone-head-a-0001"


def _twin(api, household_id: str, **extra) -> str:
    """Register child a1 (欧阳明月, born 2015-01-01) a second time, in `household_id`."""
    twin = str(uuid.uuid4())
    made = push(api, [op("child", "create", twin, {"household_id": household_id, "name": "欧阳明月",
                                                   "sex": "F", "birth_date": "2015-01-01",
                                                   "categories": ["migrant"], **extra})])
    assert made["results"][0]["status"] == "applied", made
    return twin


def _new_household(api, grid_id: str) -> str:
    household = str(uuid.uuid4())
    made = push(api, [op("household", "create", household, {"grid_id": grid_id, "address": "新村3号"})])
    assert made["results"][0]["status"] == "applied", made
    return household


def _merge(api, duplicate: str, into: str) -> None:
    response = api.post(f"/api/children/{duplicate}/merge", json={"into": into})
    assert response.status_code == 200, response.get_json()


def _clue(child_id: str) -> dict:
    return op("clue", "create", str(uuid.uuid4()), {"child_id": child_id, "description": "疑似被陌生人接触",
                                                    "place": "村口"})


def _twin_of_a1(app, town, login):
    """Give child a1 an ID number; worker_b registers the same child in household b1: (worker_b, twin)."""
    id_number = valid_id_number("43069920150101002")
    with app.app_context():
        db.session.get(Child, town.children["a1"]).id_number = id_number
        db.session.commit()
    worker = login("worker_b", device_id="phone-worker-b-0001")
    twin = _twin(worker, town.households["b1"], id_number=id_number)
    return worker, twin


def test_a_visit_and_a_clue_recorded_on_a_merged_duplicate_are_filed_on_the_child_it_was_merged_into(
        app, town, login):
    worker = login("worker_a", device_id=WORKER_PHONE)
    twin = _twin(worker, _new_household(worker, town.grids["a1"]))
    _, cursor = pull_all(worker)
    head = login("head_a", device_id=HEAD_PHONE)
    _merge(head, twin, town.children["a1"])
    before = head.get(f"/api/children/{town.children['a1']}").get_json()

    visited = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    visit, clue = _visit(twin, visited), _clue(twin)
    assert push_holding(worker, cursor, [visit, clue]) == [("applied", None)] * 2
    assert [r["status"] for r in push(worker, [visit, clue])["results"]] == ["duplicate"] * 2

    stored = head.get(f"/api/visits/{visit['id']}").get_json()
    assert (stored["child_id"], stored["household_id"], stored["grid_id"], stored["village_id"]) == (
        town.children["a1"], town.households["a1"], town.grids["a1"], town.villages["a"])
    after = head.get(f"/api/children/{town.children['a1']}").get_json()
    assert datetime.fromisoformat(after["last_visit_at"]) == visited
    assert after["next_visit_due"] is not None and after["next_visit_due"] != before["next_visit_due"]
    with app.app_context():
        filed = db.session.get(Clue, clue["id"])
        assert (filed.child_id, filed.village_id, filed.reporter_id) == (
            town.children["a1"], town.villages["a"], town.users["worker_a"])
        events = {e.entity: e.detail for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_id.in_([visit["id"], clue["id"]]), AuditEvent.action.like("%.create")))}
        merged = {"duplicate": twin, "into": town.children["a1"]}
        assert (events["visit"]["merged"], events["clue"]["merged"]) == (merged, merged)
    # The phone is told the duplicate is gone and pulls the visit under the child it was merged into.
    later, _ = pull_all(worker, cursor)
    assert ("child", twin, "delete") in {(c["entity"], c["id"], c["action"]) for c in later}
    assert [(c["action"], c["data"]["child_id"]) for c in later if c["id"] == visit["id"]] == [
        ("upsert", town.children["a1"])]
    # Recorded through REST, as the head's screen does, it is filed the same way.
    assert post_visit(head, twin, "a1")["child_id"] == town.children["a1"]


def test_a_correction_of_a_visit_the_merge_moved_still_names_the_duplicate(app, town, login):
    worker = login("worker_a", device_id=WORKER_PHONE)
    twin = _twin(worker, _new_household(worker, town.grids["a1"]))
    first = _visit(twin, notes="监护人不在家")
    assert [r["status"] for r in push(worker, [first])["results"]] == ["applied"]
    _, cursor = pull_all(worker)
    _merge(login("head_a", device_id=HEAD_PHONE), twin, town.children["a1"])

    fixed = _visit(twin, notes="监护人在家")
    fixed["data"].update(amends=first["id"], amend_reason="记错了")
    assert push_holding(worker, cursor, [fixed]) == [("applied", None)]
    with app.app_context():
        stored = db.session.get(Visit, fixed["id"])
        assert (stored.child_id, stored.amends_id, stored.notes) == (
            town.children["a1"], first["id"], "监护人在家")


def test_a_visit_on_a_duplicate_merged_into_a_child_of_another_village_is_filed_there_and_let_go(
        app, town, login):
    """worker_b held the duplicate in grid b1; the town office merged it into child a1 (same ID
    number): the visit, and a correction of one made before the merge, are child a1's, in grid a1,
    and worker_b's phone lets them go. The correction stays at the home its original was made at,
    as the original does (a merge re-points a visit's child, not where it was made)."""
    worker, twin = _twin_of_a1(app, town, login)
    first = _visit(twin, notes="监护人不在家")
    assert [r["status"] for r in push(worker, [first])["results"]] == ["applied"]
    _, cursor = pull_all(worker)
    _merge(login("admin", device_id="phone-admin-0001"), twin, town.children["a1"])

    visit, fixed = _visit(twin), _visit(twin, notes="监护人在家")
    fixed["data"].update(amends=first["id"], amend_reason="记错了")
    answer = worker.post("/api/sync/push", json={"device_id": worker.device_id, "cursor": cursor,
                                                 "ops": [visit, fixed]}).get_json()
    assert [(r["status"], r.get("out_of_scope")) for r in answer["results"]] == [("applied", True)] * 2
    again = push(worker, [visit, fixed])
    assert [(r["status"], r.get("out_of_scope")) for r in again["results"]] == [("duplicate", True)] * 2
    with app.app_context():
        stored = [db.session.get(Visit, v["id"]) for v in (first, visit, fixed)]
        assert [(v.child_id, v.household_id, v.grid_id, v.village_id) for v in stored] == [
            (town.children["a1"], town.households[home], town.grids["a1"], town.villages["a"])
            for home in ("b1", "a1", "b1")]
    later, _ = pull_all(worker, cursor)
    assert {(c["id"], c["action"]) for c in later if c["entity"] == "visit"} == {
        (first["id"], "evict"), (visit["id"], "evict"), (fixed["id"], "evict")}


def test_a_merge_opens_no_child_to_a_phone_that_could_not_file_on_the_duplicate(town, login):
    """The duplicate lived in grid a2: worker_a (grid a1, the surviving child's) never held it, nor
    did worker_b (village b); the village head's phone did."""
    head = login("head_a", device_id=HEAD_PHONE)
    twin = _twin(head, town.households["a2"])
    _, heads = pull_all(head)
    worker_a = login("worker_a", device_id=WORKER_PHONE)
    worker_b = login("worker_b", device_id="phone-worker-b-0001")
    (_, cursor_a), (_, cursor_b) = pull_all(worker_a), pull_all(worker_b)
    _merge(head, twin, town.children["a1"])

    assert push_holding(worker_a, cursor_a, [_visit(twin), _clue(twin)]) == [("rejected", OUT_OF_REACH)] * 2
    assert push_holding(worker_b, cursor_b, [_visit(twin), _clue(twin)]) == [("rejected", OUT_OF_REACH)] * 2
    assert worker_a.post("/api/visits", json={**_visit(twin)["data"]}).status_code == 422
    visit = _visit(twin)
    assert push_holding(head, heads, [visit]) == [("applied", None)]
    assert head.get(f"/api/visits/{visit['id']}").get_json()["child_id"] == town.children["a1"]


def test_a_fact_follows_a_chain_of_merges_and_no_circle(app, town, login):
    worker = login("worker_a", device_id=WORKER_PHONE)
    household = _new_household(worker, town.grids["a1"])
    first, second, third, fourth = (_twin(worker, household) for _ in range(4))
    _, cursor = pull_all(worker)
    head = login("head_a", device_id=HEAD_PHONE)
    _merge(head, first, second)
    _merge(head, second, town.children["a1"])

    visit = _visit(first)
    assert push_holding(worker, cursor, [visit]) == [("applied", None)]
    assert head.get(f"/api/visits/{visit['id']}").get_json()["child_id"] == town.children["a1"]
    # Merges no merge_children could make, running in a circle, lead nowhere.
    with app.app_context():
        for duplicate, into in ((third, fourth), (fourth, third)):
            child = db.session.get(Child, duplicate)
            child.merged_into_id, child.deleted_at = into, utcnow()
        db.session.commit()
    assert push_holding(worker, cursor, [_visit(third)]) == [("rejected", OUT_OF_REACH)]


def test_a_clue_on_a_child_deleted_meanwhile_goes_to_the_police_unlinked(app, town, login):
    """A mandatory report is never refused for its link: the head deleted the child registered in
    error while the phone was offline; the clue reaches the police of its village without the child,
    and its audit event names the child it named. A visit on it is still refused: no child, no visit."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    twin = _twin(worker, _new_household(worker, town.grids["a1"]))
    _, cursor = pull_all(worker)
    head = login("head_a", device_id=HEAD_PHONE)
    assert push(head, [op("child", "delete", twin, base_version=1)])["results"][0]["status"] == "applied"
    clue, visit = _clue(twin), _visit(twin)
    assert push_holding(worker, cursor, [clue, visit]) == [("applied", None), ("rejected", OUT_OF_REACH)]
    shown = login("police").get(f"/api/clues/{clue['id']}").get_json()
    assert (shown["child_id"], shown["village_id"], shown["description"]) == (
        None, town.villages["a"], "疑似被陌生人接触")
    with app.app_context():
        detail = db.session.scalar(select(AuditEvent.detail).where(
            AuditEvent.action == "clue.create", AuditEvent.entity_id == clue["id"]))
        assert detail["child_removed"] == twin
    outsider = login("worker_b", device_id="phone-worker-b-0001")
    assert push_holding(outsider, None, [_clue(twin)]) == [("rejected", OUT_OF_REACH)]


def test_a_clue_on_a_child_moved_out_of_reach_and_then_deleted_still_goes_to_the_police(app, town, login):
    """The child the phone held left its grid, then the head deleted it: the report still reaches the
    police of the village the child was in, unlinked, as one on a child deleted in the phone's grid."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    twin = _twin(worker, _new_household(worker, town.grids["a1"]))
    _, cursor = pull_all(worker)
    head = login("head_a", device_id=HEAD_PHONE)
    moved = push(head, [op("child", "update", twin, {"household_id": town.households["a2"]}, base_version=1)])
    assert moved["results"][0]["status"] == "applied", moved
    gone = push(head, [op("child", "delete", twin, base_version=moved["results"][0]["version"])])
    assert gone["results"][0]["status"] == "applied", gone
    clue, visit = _clue(twin), _visit(twin)
    assert push_holding(worker, cursor, [clue, visit]) == [("applied", None), ("rejected", OUT_OF_REACH)]
    shown = login("police").get(f"/api/clues/{clue['id']}").get_json()
    assert (shown["child_id"], shown["village_id"]) == (None, town.villages["a"])
    outsider = login("worker_b", device_id="phone-worker-b-0001")
    assert push_holding(outsider, None, [_clue(twin)]) == [("rejected", OUT_OF_REACH)]


def test_a_visit_on_a_merged_duplicate_filed_out_of_reach_is_let_go_whatever_cursor_the_phone_sent(
        app, town, login):
    """The duplicate is still the phone's to file on (in its grid, merged): a push with no cursor, or
    with one of a first pull not yet through, files the visit on the child in village a all the same,
    and the phone is told to let it go, as with a full cursor."""
    worker, twin = _twin_of_a1(app, town, login)
    _merge(login("admin", device_id="phone-admin-0001"), twin, town.children["a1"])
    first_page = worker.get("/api/sync/pull?limit=1").get_json()
    assert first_page["more"]

    for cursor in (None, first_page["cursor"]):
        visit = _visit(twin)
        answer = worker.post("/api/sync/push", json={"device_id": worker.device_id, "cursor": cursor,
                                                     "ops": [visit]}).get_json()
        assert [(r["status"], r.get("out_of_scope")) for r in answer["results"]] == [("applied", True)]
        assert [(r["status"], r.get("out_of_scope")) for r in push(worker, [visit])["results"]] == [
            ("duplicate", True)]
        with app.app_context():
            assert db.session.get(Visit, visit["id"]).child_id == town.children["a1"]


MERGED_EDIT = "该儿童是重复登记，已被合并到另一条登记，此修改无法保存：请放弃这条修改，在保留的登记上重新修改"


def test_an_edit_of_a_duplicate_merged_meanwhile_is_refused_saying_it_was_merged(app, town, login):
    """The worker changed the duplicate offline while the head merged it: the edit cannot apply to a
    retired record, and the refusal says why (not 记录不存在, which leaves the worker holding a child
    the server no longer has without knowing what happened to it), whether the child it was merged
    into is in the phone's reach or not. A phone that never held it learns nothing."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    twin = _twin(worker, _new_household(worker, town.grids["a1"]))
    _, cursor = pull_all(worker)
    _merge(login("head_a", device_id=HEAD_PHONE), twin, town.children["a1"])
    edit = op("child", "update", twin, {"school": "测试镇中心小学"}, base_version=1)
    gone = op("child", "delete", twin, base_version=1)
    assert push_holding(worker, cursor, [edit, gone]) == [("rejected", {"_op": [MERGED_EDIT]})] * 2
    outsider = login("worker_b", device_id="phone-worker-b-0001")
    assert push_holding(outsider, None, [op("child", "update", twin, {"school": "一小"}, base_version=1)]) == [
        ("rejected", {"_op": ["记录不存在"]})]

    worker_b, other = _twin_of_a1(app, town, login)
    _, held = pull_all(worker_b)
    _merge(login("admin", device_id="phone-admin-0001"), other, town.children["a1"])
    for cursor in (held, None):
        edit = op("child", "update", other, {"school": "测试镇中心小学"}, base_version=1)
        assert push_holding(worker_b, cursor, [edit]) == [("rejected", {"_op": [MERGED_EDIT]})]
    with app.app_context():
        assert (db.session.get(Child, twin).school, db.session.get(Child, other).school) == (None, None)


MERGED_READ = "该儿童是重复登记，已被合并到另一条登记：请在保留的登记上查看和修改"


def test_a_merged_duplicate_asked_for_at_the_desk_is_said_to_be_merged(app, town, login):
    """A head who opens, edits or reveals the duplicate merged a moment ago (a link kept, another tab)
    is told it was merged, as a phone's edit is, not 记录不存在; one who never could see it learns nothing."""
    worker = login("worker_a", device_id=WORKER_PHONE)
    twin = _twin(worker, _new_household(worker, town.grids["a1"]))
    head = login("head_a", device_id=HEAD_PHONE)
    _merge(head, twin, town.children["a1"])
    answers = [head.get(f"/api/children/{twin}"),
               head.patch(f"/api/children/{twin}", json={"school": "一小"}, headers={"If-Match": "1"}),
               head.post(f"/api/children/{twin}/reveal", json={"field": "name", "reason": "核对重复登记"})]
    assert [(a.status_code, a.get_json()["error"]["code"], a.get_json()["error"]["message"])
            for a in answers] == [(404, "merged", MERGED_READ)] * 3
    outsider = login("head_b", device_id="phone-head-b-0001")
    answer = outsider.get(f"/api/children/{twin}")
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (404, "not_found")
    with app.app_context():
        assert db.session.get(Child, twin).school is None
