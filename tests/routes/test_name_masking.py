"""The town office sees "children masked unless revealed with a reason" (DESIGN): people's names
reach it masked through every read, as in its ledgers; a village head sees them whole."""
import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent
from server.services.masking import mask_name

from ..sync.test_push_pull_basics import op, pull_all, push
from ..workflow import ledger_town
from .helpers import assert_error


def _flagged_visit(town, login) -> str:
    worker = login("worker_a", device_id="phone-mask-worker-a")
    visit_id = str(uuid.uuid4())
    answer = push(worker, [op("visit", "create", visit_id, {
        "child_id": town.children["a1"], "visited_at": "2026-11-28T09:00:00+08:00"})])  # no fix: flagged
    assert answer["results"][0]["status"] == "applied"
    return visit_id


def test_the_town_admin_reads_every_name_masked_and_reveals_one_with_a_reason(app, town, login):
    _flagged_visit(town, login)
    admin = login("admin", device_id="phone-mask-admin")
    child_url = f"/api/children/{town.children['a1']}"
    child = admin.get(child_url).get_json()
    assert (child["name"], child["id_number"]) == ("欧**月", "430699********0011")
    assert {r["id"]: r["name"] for r in admin.get("/api/children?per_page=500").get_json()["rows"]} == {
        town.children["a1"]: "欧**月", town.children["a2"]: "司**雨", town.children["b1"]: "诸**东"}
    household = admin.get(f"/api/households/{town.households['a1']}").get_json()
    assert household["guardians"] == [{"name": "监****山", "relation": "祖父", "phone": "139****0000"}]
    assert admin.get(f"/api/venues/{town.venues['a']}").get_json()["contact_name"] == "老*a"
    review = admin.get("/api/review/visits").get_json()["rows"]
    assert [r["child_name"] for r in review] == ["欧**月"]
    changes, _ = pull_all(admin)
    pulled = json.dumps(changes, ensure_ascii=False)
    for name in ("欧阳明月", "司马小雨", "诸葛晓东", "监护人欧大山", "老板a"):
        assert name not in pulled
    push(login("head_a", device_id="phone-mask-head-a"),
         [op("child", "update", town.children["a1"], {"notes": "村里改的"}, base_version=1)])
    conflict = push(admin, [op("child", "update", town.children["a1"], {"notes": "镇里改的"}, base_version=1)])
    assert [(r["status"], r["current"]["name"]) for r in conflict["results"]] == [("conflict", "欧**月")]
    revealed = admin.post(f"{child_url}/reveal", json={"field": "name", "reason": "核对走访对象身份"})
    assert revealed.get_json() == {"value": "欧阳明月"}
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reveal"))
        assert (event.entity_id, event.actor_id, event.detail) == (
            town.children["a1"], town.users["admin"], {"field": "name"})
    assert_error(admin.patch(child_url, json={"name": child["name"]}, headers={"If-Match": "2"}),
                 422, "validation_error", fields={"name": ["姓名中不能有 *：脱敏显示的姓名不能作为修改提交"]})


def test_a_village_head_reads_the_names_of_its_village_whole(town, login):
    _flagged_visit(town, login)
    head = login("head_a", device_id="phone-mask-head-a")
    assert head.get(f"/api/children/{town.children['a1']}").get_json()["name"] == "欧阳明月"
    household = head.get(f"/api/households/{town.households['a1']}").get_json()
    assert household["guardians"][0]["name"] == "监护人欧大山"
    assert [r["child_name"] for r in head.get("/api/review/visits").get_json()["rows"]] == ["欧阳明月"]
    changes, _ = pull_all(head)
    assert "欧阳明月" in json.dumps(changes, ensure_ascii=False)


def test_the_town_admin_reads_a_childs_risk_and_a_merge_masked_and_no_initials(app, town, login):
    from ..workflow.test_duplicates_and_tasks import _twin

    admin = login("admin", device_id="phone-mask-admin")
    child_url = f"/api/children/{town.children['a1']}"
    assert [admin.get(child_url).get_json()[k] for k in ("name", "name_initials")] == ["欧**月", "o**y"]
    risk = admin.get(f"{child_url}/risk").get_json()
    assert (risk["name"], risk["name_initials"], risk["id_number"]) == ("欧**月", "o**y", "430699********0011")
    twin = _twin(app, town, "a1", "430699201501010011")
    merged = admin.post(f"/api/children/{twin}/merge", json={"into": town.children["a1"]}).get_json()
    assert (merged["id"], merged["name"], merged["name_initials"]) == (town.children["a1"], "欧**月", "o**y")
    changes, _ = pull_all(admin)
    children = [c["data"] for c in changes if c["entity"] == "child" and c["action"] == "upsert"]
    assert {c["name_initials"] for c in children} == {"o**y", "s**y", "z**d"}
    head_view = login("head_a").get(f"{child_url}/risk").get_json()
    assert (head_view["name"], head_view["name_initials"]) == ("欧阳明月", "oymy")


def test_the_month_view_of_joint_operations_shows_venue_contacts_masked_to_the_town_admin(town, login):
    admin, head = login("admin"), login("head_a")
    assert admin.get(f"/api/venues/{town.venues['a']}").get_json()["contact_name"] == "老*a"
    month = datetime.now(UTC).strftime("%Y-%m")
    body = admin.get(f"/api/operations/month?month={month}").get_json()
    assert {v["id"]: v["contact_name"] for v in body["covered"] + body["uncovered"]} == {
        town.venues["a"]: "老*a", town.venues["b"]: "老*b"}
    shown = head.get(f"/api/operations/month?month={month}").get_json()
    assert {v["contact_name"] for v in shown["covered"] + shown["uncovered"]} == {"老板a"}


@pytest.mark.parametrize("ledger, key, name, hidden, initials", [
    ("children", "name", "欧阳明月", "阳明", "oymy"),
    ("plans", "child", "欧阳明月", "阳明", "oymy"),
    ("staff_checks", "person", "王小二", "小", "wxe"),
])
def test_the_ledger_search_matches_a_name_the_town_admin_sees_masked_only_as_shown(
        app, town, login, ledger, key, name, hidden, initials):
    """The hidden characters and the initials of a masked name would answer, one search at a
    time and with no reveal, what the mask hides; the name as shown still finds the row."""
    with app.app_context():
        ledger_town.build(town)
    admin = login("admin")
    [target] = [r["id"] for r in admin.get(f"/api/ledgers/{ledger}").get_json()["rows"]
                if r[key] == mask_name(name)]

    def found(api, q: str) -> bool:
        response = api.get(f"/api/ledgers/{ledger}?q={q}")
        assert response.status_code == 200, response.get_json()
        return target in [r["id"] for r in response.get_json()["rows"]]
    assert [found(admin, q) for q in (hidden, initials, mask_name(name), name[0])] == [False, False, True, True]
    reader = login("head_a" if ledger != "staff_checks" else "inspector")
    assert [found(reader, q) for q in (hidden, initials)] == [True, True]
