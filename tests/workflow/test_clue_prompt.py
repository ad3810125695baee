"""Signs of abuse found on a visit prompt a clue (强制报告) with the visit linked; until one is filed,
the visit stays in its worker's to-do (CHECKLISTS: risk rules)."""
import uuid
from datetime import timedelta

import pytest

from server.extensions import db
from server.models import Clue, utcnow

from ..sync.test_moved_while_offline import push_holding
from ..sync.test_push_pull_basics import op, pull_all, push
from .helpers import post_visit, visit_body

TITLE = "欧阳明月 走访发现侵害迹象，尚未报告线索"


@pytest.fixture(autouse=True)
def earlier_clue(app, town):
    """The test town's clue about a1 was filed a month ago: it reports none of these visits."""
    with app.app_context():
        db.session.get(Clue, town.clues["a1"]).created_at = utcnow() - timedelta(days=30)
        db.session.commit()


def _missing(api) -> tuple[int, list[tuple]]:
    body = api.get("/api/tasks").get_json()
    items = [t for t in body["tasks"] if t["kind"] == "clue_missing"]
    return body["counts"].get("clue_missing"), [(t["entity_id"], t["title"], t["detail"]["signs"])
                                                for t in items]


def _clue(api, visit_id: str | None, **fields):
    body = {"id": str(uuid.uuid4()), "description": "走访发现手臂有淤青", "source_visit_id": visit_id, **fields}
    return api.post("/api/clues", json=body)


def _correct(api, child_id: str, original: dict, answers: dict) -> dict:
    body = {**visit_body(child_id, "a1", answers), "visited_at": original["visited_at"],
            "amends": original["id"], "amend_reason": "补充走访情况"}
    response = api.post("/api/visits", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_visit_with_signs_waits_in_its_workers_to_do_until_a_clue_names_it(town, login):
    worker, child = login("worker_a"), town.children["a1"]
    calm = post_visit(worker, child, "a1", {"injury_signs": False, "in_school": True}, hours_ago=3)
    hurt = post_visit(worker, child, "a1", {"injury_signs": True}, hours_ago=2)
    stranger = post_visit(worker, child, "a1", {"unknown_adult_contact": True}, hours_ago=1)
    body = worker.get("/api/tasks").get_json()
    items = [t for t in body["tasks"] if t["kind"] == "clue_missing"]
    assert items == [
        {"kind": "clue_missing", "title": TITLE, "due": None, "overdue": True, "entity": "visit",
         "entity_id": visit["id"], "village_id": town.villages["a"],
         "detail": {"child_id": child, "visited_at": visit["visited_at"], "signs": [sign]}}
        for visit, sign in ((hurt, "injury_signs"), (stranger, "unknown_adult_contact"))]
    assert body["counts"]["clue_missing"] == 2 and calm["id"] not in {t["entity_id"] for t in items}
    # The village head reads the visits but is not the one who found the signs.
    assert _missing(login("head_a")) == (0, [])

    assert _clue(worker, hurt["id"], child_id=child).status_code == 201
    assert _missing(worker) == (1, [(stranger["id"], TITLE, ["unknown_adult_contact"])])
    # Anyone's clue from the visit reports it: the town office filed this one.
    assert _clue(login("admin"), stranger["id"]).status_code == 201
    assert _missing(worker) == (0, [])


def test_a_correction_is_the_same_visit_reported_once(town, login):
    worker, child = login("worker_a"), town.children["a1"]
    # Signs corrected away: the superseded visit asks for nothing.
    mistaken = post_visit(worker, child, "a1", {"injury_signs": True}, hours_ago=5)
    assert _missing(worker)[0] == 1
    _correct(worker, child, mistaken, {"injury_signs": False})
    assert _missing(worker) == (0, [])
    # Reported, then corrected still showing signs: the clue names the visit the correction replaced.
    reported = post_visit(worker, child, "a1", {"injury_signs": True}, hours_ago=4)
    assert _clue(worker, reported["id"]).status_code == 201
    corrected = _correct(worker, child, reported, {"injury_signs": True, "in_school": False})
    twice = _correct(worker, child, corrected, {"injury_signs": True, "in_school": True})
    assert _missing(worker) == (0, [])
    # A correction that newly shows signs asks for its own clue.
    plain = post_visit(worker, child, "a1", {}, hours_ago=3)
    found = _correct(worker, child, plain, {"unknown_adult_contact": True})
    assert _missing(worker) == (1, [(found["id"], TITLE, ["unknown_adult_contact"])])
    assert twice["amends"] == corrected["id"]


def test_a_visit_and_the_clue_it_prompted_go_in_one_push_in_order(town, login):
    """The phone queues the visit, then the clue naming it: offline both wait, and ops apply in order."""
    worker = login("worker_a", device_id="phone-worker-a-clue")
    visit_id, clue_id = str(uuid.uuid4()), str(uuid.uuid4())
    answer = push(worker, [
        op("visit", "create", visit_id, visit_body(town.children["a1"], "a1", {"injury_signs": True})),
        op("clue", "create", clue_id, {"description": "手臂有淤青", "child_id": town.children["a1"],
                                       "source_visit_id": visit_id})])
    assert [(r["status"], r["id"]) for r in answer["results"]] == [("applied", visit_id), ("applied", clue_id)]
    assert login("police").get(f"/api/clues/{clue_id}").get_json()["source_visit_id"] == visit_id
    assert _missing(worker) == (0, [])


def test_a_clue_naming_a_visit_its_filer_cannot_see_is_filed_without_the_link(app, town, login):
    """A mandatory report is never refused for its link: one to another's visit (it would claim their
    finding), or to none the server has (a visit refused in the same push), is left off, and the
    police get the report, the same answer either way."""
    other = post_visit(login("worker_b"), town.children["b1"], "b1", {"injury_signs": True})
    worker, police = login("worker_a"), login("police")
    answers = [_clue(worker, visit_id) for visit_id in (other["id"], str(uuid.uuid4()))]
    assert [a.status_code for a in answers] == [201, 201]
    for answer in answers:
        clue = police.get(f"/api/clues/{answer.get_json()['id']}").get_json()
        assert (clue["description"], clue["source_visit_id"]) == ("走访发现手臂有淤青", None)


def test_a_report_filed_with_its_visit_in_one_push_reaches_the_police_when_the_visit_is_refused(
        app, town, login):
    """The phone queues the visit, then the clue its prompt opened; the server refuses the visit (here:
    its child is not in the worker's grids): the clue still applies, unlinked."""
    worker = login("worker_a", device_id="phone-worker-a-clue")
    visit_id, clue_id = str(uuid.uuid4()), str(uuid.uuid4())
    answer = push(worker, [
        op("visit", "create", visit_id, {**visit_body(town.children["b1"], "b1", {"injury_signs": True})}),
        op("clue", "create", clue_id, {"description": "手臂有淤青", "source_visit_id": visit_id})])
    assert [r["status"] for r in answer["results"]] == ["rejected", "applied"]
    clue = login("police").get(f"/api/clues/{clue_id}").get_json()
    assert (clue["description"], clue["source_visit_id"]) == ("手臂有淤青", None)


def test_the_phone_learns_which_answers_prompt_a_clue(town, login):
    prompt = login("worker_a").get("/api/checklists").get_json()["clue_prompt"]
    assert prompt == {
        "message": "本次走访发现疑似侵害迹象。依照强制报告制度，请立即报告线索。",
        "factors": [
            {"key": "injury_signs", "label": "身体有不明伤痕",
             "when": {"answer": "injury_signs", "op": "eq", "value": True}},
            {"key": "unknown_adult_contact", "label": "有陌生成年人频繁接触或给予财物",
             "when": {"answer": "unknown_adult_contact", "op": "eq", "value": True}}]}


def test_a_visit_is_reported_by_a_clue_about_its_child_filed_since_the_day_before(app, town, login):
    """Clues filed before the phone linked them, or from the child's page, name the child, not the
    visit: one about the same child filed since the day before the visit reports it. One filed long
    before it does not."""
    worker, child = login("worker_a"), town.children["a1"]
    hurt = post_visit(worker, child, "a1", {"injury_signs": True}, hours_ago=2)
    assert [item[0] for item in _missing(worker)[1]] == [hurt["id"]]
    filed = _clue(worker, None, child_id=child)
    assert filed.status_code == 201, filed.get_json()
    assert _missing(worker) == (0, [])
    with app.app_context():
        clue = db.session.get(Clue, filed.get_json()["id"])
        clue.created_at = utcnow() - timedelta(days=3)
        db.session.commit()
    assert [item[0] for item in _missing(worker)[1]] == [hurt["id"]]


def test_a_visit_dated_ahead_by_the_phone_is_reported_by_a_clue_filed_after_it_arrived(town, login):
    """A phone a year ahead dated the visit next year: a clue about the child filed after the visit
    arrived reports it, as the visit counts as made when it arrived."""
    worker, child = login("worker_a"), town.children["a1"]
    ahead = post_visit(worker, child, "a1", {"injury_signs": True}, hours_ago=-24 * 365)
    assert [item[0] for item in _missing(worker)[1]] == [ahead["id"]]
    filed = _clue(worker, None, child_id=child)
    assert filed.status_code == 201, filed.get_json()
    assert _missing(worker) == (0, [])


def test_another_persons_clue_about_the_child_does_not_report_the_workers_visit(app, town, login):
    """A clue that names no visit reports the visit of the one who filed it (before the phone linked
    them, or from the child's page). Another's clue about the child, filed meanwhile, is about what
    they saw: the worker's signs still wait for the worker's report, and the worker's to-do does not
    tell the worker that a sealed clue about the child was filed."""
    worker, child = login("worker_a"), town.children["a1"]
    hurt = post_visit(worker, child, "a1", {"injury_signs": True}, hours_ago=2)
    for someone in ("head_a", "admin"):
        filed = login(someone).post("/api/clues", json={"description": "学校反映孩子近期情绪异常",
                                                        "child_id": child})
        assert filed.status_code == 201, filed.get_json()
        assert _missing(worker) == (1, [(hurt["id"], TITLE, ["injury_signs"])])
    assert _clue(worker, None, child_id=child).status_code == 201
    assert _missing(worker) == (0, [])


def _move_household(town, login, mover: str, grid: str) -> None:
    """`mover` (the village head, or the town office to another village) moves household a1 to `grid`."""
    api = login(mover, device_id=f"phone-{mover}-move")
    shown = api.get(f"/api/households/{town.households['a1']}").get_json()
    moved = push(api, [op("household", "update", town.households["a1"], {"grid_id": town.grids[grid]},
                          base_version=shown["version"])])
    assert moved["results"][0]["status"] == "applied", moved


@pytest.mark.parametrize(("mover", "grid"), [("head_a", "a2"), ("admin", "b1")])
def test_signs_seen_before_the_child_moved_away_wait_in_the_workers_to_do_until_she_reports_them(
        town, login, mover, grid):
    """The worker put the report off; then the child's household moved out of her grids. The visit is
    still hers and the signs still unreported: the to-do keeps it, naming no place (where the child
    lives now is not hers to learn), and the clue her phone files from it, linked to the visit and
    naming no child (the phone let the child go), reports it."""
    worker, child = login("worker_a", device_id="phone-worker-a-clue"), town.children["a1"]
    hurt = post_visit(worker, child, "a1", {"injury_signs": True}, hours_ago=2)
    _, cursor = pull_all(worker)
    _move_household(town, login, mover, grid)
    later, cursor = pull_all(worker, cursor)
    # The phone lets the child go with its visits (and the plan the signs proposed).
    assert {(c["entity"], c["action"]) for c in later} == {("household", "evict"), ("child", "evict"),
                                                           ("visit", "evict"), ("plan", "evict")}
    assert {c["id"] for c in later if c["entity"] in ("child", "visit")} == {child, hurt["id"]}

    body = worker.get("/api/tasks").get_json()
    assert [t for t in body["tasks"] if t["kind"] == "clue_missing"] == [
        {"kind": "clue_missing", "title": TITLE, "due": None, "overdue": True, "entity": "visit",
         "entity_id": hurt["id"], "village_id": None,
         "detail": {"child_id": child, "visited_at": hurt["visited_at"], "signs": ["injury_signs"]}}]
    assert body["counts"]["clue_missing"] == 1
    assert worker.get(f"/api/visits/{hurt['id']}").status_code == 404

    clue_id = str(uuid.uuid4())
    filed = op("clue", "create", clue_id, {"description": "入户走访发现：身体有不明伤痕。",
                                           "source_visit_id": hurt["id"]})
    assert push_holding(worker, cursor, [filed]) == [("applied", None)]
    clue = login("police").get(f"/api/clues/{clue_id}").get_json()
    assert (clue["reporter_id"], clue["source_visit_id"], clue["child_id"]) == (
        town.users["worker_a"], hurt["id"], None)
    assert _missing(worker) == (0, [])


def test_a_clue_on_the_workers_own_visit_names_its_child_after_the_child_moved_away(town, login):
    """Filed at the desk, or from a phone that still holds the child: the worker's own visit vouches
    for its child, so the clue is not refused for naming a child out of her grids now; the police get
    both links, and her answer tells her nothing of where the child lives. Her visit vouches for its
    own child only: another child out of her reach is refused as before."""
    worker, child = login("worker_a"), town.children["a1"]
    hurt = post_visit(worker, child, "a1", {"injury_signs": True}, hours_ago=2)
    _move_household(town, login, "admin", "b1")
    stranger = _clue(worker, hurt["id"], child_id=town.children["b1"])
    assert (stranger.status_code, stranger.get_json()["error"]["fields"]) == (
        422, {"child_id": ["儿童不存在或不在您的管辖范围内"]})
    assert _missing(worker) == (1, [(hurt["id"], TITLE, ["injury_signs"])])

    filed = _clue(worker, hurt["id"], child_id=child)
    assert filed.status_code == 201, filed.get_json()
    answer = filed.get_json()
    assert (answer["source_visit_id"], answer["description"]) == (hurt["id"], "走访发现手臂有淤青")
    assert not {"child_id", "village_id", "grid_id"} & set(answer)
    clue = login("police").get(f"/api/clues/{answer['id']}").get_json()
    assert (clue["source_visit_id"], clue["child_id"], clue["village_id"]) == (
        hurt["id"], child, town.villages["b"])
    assert _missing(worker) == (0, [])
