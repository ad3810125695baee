"""Every role against every record endpoint: out of scope looks exactly like nonexistent."""
import uuid

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent
from tests import factories

from .helpers import NOT_FOUND, assert_error, snapshot

ROLES = ("worker_a", "head_a", "inspector", "police", "admin")
KINDS = ("households", "children", "venues")

# What each role may read, by kind and key of the test town (households/children a1 a2 b1,
# venues a b).
SEES = {
    "worker_a": {"households": {"a1"}, "children": {"a1"}, "venues": set()},
    "head_a": {"households": {"a1", "a2"}, "children": {"a1", "a2"}, "venues": {"a"}},
    "inspector": {"households": set(), "children": set(), "venues": {"a", "b"}},
    "police": {"households": set(), "children": set(), "venues": {"a", "b"}},
    "admin": {"households": {"a1", "a2", "b1"}, "children": {"a1", "a2", "b1"},
              "venues": {"a", "b"}},
}
# PATCH bodies that would be valid for a record in scope.
EDITS = {"households": {"address": "越权修改的地址"}, "children": {"notes": "越权修改的备注"},
         "venues": {"name": "越权修改的名称"}}
REVEAL = {"field": "id_number", "reason": "核实户籍信息"}


def _ids(town, kind) -> dict:
    return {"households": town.households, "children": town.children, "venues": town.venues}[kind]


def _out_of_scope(town, role):
    for kind in KINDS:
        for key, record_id in _ids(town, kind).items():
            if key not in SEES[role][kind]:
                yield kind, key, record_id


def _in_scope(town, role):
    for kind in KINDS:
        for key, record_id in _ids(town, kind).items():
            if key in SEES[role][kind]:
                yield kind, key, record_id


@pytest.mark.parametrize("role", ROLES)
def test_out_of_scope_records_answer_like_nonexistent_ones(app, town, login, role):
    api = login(role)
    before = snapshot(app)
    targets = list(_out_of_scope(town, role))
    targets += [(kind, "missing", str(uuid.uuid4())) for kind in KINDS]
    assert len(targets) > len(KINDS) or role == "admin"   # the admin sees every record
    for kind, key, record_id in targets:
        url = f"/api/{kind}/{record_id}"
        for response in (api.get(url), api.patch(url, json=EDITS[kind]),
                         api.patch(url, json=EDITS[kind], headers={"If-Match": "1"})):
            assert (response.status_code, response.get_json()) == (404, NOT_FOUND), (kind, key)
        if kind == "children":
            response = api.post(f"/api/children/{record_id}/reveal", json=REVEAL)
            assert (response.status_code, response.get_json()) == (404, NOT_FOUND), key
    assert snapshot(app) == before


@pytest.mark.parametrize("role", ROLES)
def test_in_scope_records_are_readable(app, town, login, role):
    api = login(role)
    for kind, _key, record_id in _in_scope(town, role):
        response = api.get(f"/api/{kind}/{record_id}")
        assert response.status_code == 200
        assert response.get_json()["id"] == record_id


def test_police_may_read_venues_but_not_edit_them(app, town, login):
    api = login("police")
    before = snapshot(app)
    for key, venue_id in town.venues.items():
        assert api.get(f"/api/venues/{venue_id}").status_code == 200, key
        response = api.edit(f"/api/venues/{venue_id}", EDITS["venues"])
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND)
    assert snapshot(app) == before


@pytest.mark.parametrize("role", ROLES)
def test_lists_hold_exactly_the_rows_in_scope(app, town, login, role):
    api = login(role)
    for kind in KINDS:
        response = api.get(f"/api/{kind}")
        expected = {_ids(town, kind)[key] for key in SEES[role][kind]}
        if not expected:
            # a kind the role may not read at all answers 404, like an unknown endpoint
            assert (response.status_code, response.get_json()) == (404, NOT_FOUND), kind
            continue
        assert response.status_code == 200, kind
        body = response.get_json()
        assert {row["id"] for row in body["rows"]} == expected
        assert body["total"] == len(expected) and len(body["rows"]) == len(expected)
        assert (body["page"], body["per_page"]) == (1, 50)


@pytest.mark.parametrize("role", ["worker_a", "head_a"])
def test_list_filters_cannot_widen_the_scope(app, town, login, role):
    api = login(role)
    for query in (f"grid_id={town.grids['b1']}", f"village_id={town.villages['b']}",
                  f"household_id={town.households['b1']}"):
        body = api.get(f"/api/children?{query}").get_json()
        assert (body["rows"], body["total"]) == ([], 0), query
    body = api.get(f"/api/households?village_id={town.villages['b']}").get_json()
    assert (body["rows"], body["total"]) == ([], 0)


def _places(town, *grid_keys):
    names = {"a": "测试A村", "b": "测试B村"}
    villages = []
    for v in ("a", "b"):
        grids = [{"id": town.grids[k], "name": f"第{k[1]}网格"} for k in grid_keys if k[0] == v]
        if grids:
            villages.append({"id": town.villages[v], "name": names[v], "grids": grids})
    return villages


@pytest.mark.parametrize("role, grids", [
    ("worker_a", ("a1",)),
    ("head_a", ("a1", "a2")),
    ("admin", ("a1", "a2", "b1", "b2")),
    # inspectors and police register venues by village anywhere in the town
    ("inspector", ("a1", "a2", "b1", "b2")),
    ("police", ("a1", "a2", "b1", "b2")),
])
def test_places_are_scoped(app, town, login, role, grids):
    body = login(role).get("/api/places").get_json()
    assert set(body) == {"villages"}
    got = [{"id": v["id"], "name": v["name"], "grids": v["grids"]} for v in body["villages"]]
    assert got == _places(town, *grids)


@pytest.mark.parametrize("role, key", [("head_a", "a1"), ("admin", "b1")])
def test_reveal_gives_the_plain_number_and_is_audited(app, town, login, role, key):
    api = login(role)
    reason = "民政核对户籍的理由说明"
    response = api.post(f"/api/children/{town.children[key]}/reveal",
                        json={"field": "id_number", "reason": reason})
    assert response.status_code == 200
    assert response.get_json() == {"value": factories.ID_NUMBERS[key]}
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal")).all()
        assert len(events) == 1
        event = events[0]
        assert (event.actor_id, event.entity, event.entity_id) == (
            town.users[role], "child", town.children[key])
        assert event.detail == {"field": "id_number"}
        assert event.reason == reason                       # kept, but only encrypted
    stored = repr(snapshot(app, ("audit_event",)))
    assert reason not in stored and reason.encode("utf-8").hex() not in stored
    assert factories.ID_NUMBERS[key] not in stored


def test_reveal_of_guardian_phones(app, town, login):
    response = login("head_a").post(f"/api/children/{town.children['a2']}/reveal",
                                    json={"field": "guardian_phones", "reason": "联系监护人核实"})
    assert response.status_code == 200
    assert response.get_json() == {"value": [town.secrets["a2"]["phone"]]}


def test_grid_worker_may_not_reveal(app, town, login):
    api = login("worker_a")
    before = snapshot(app)
    response = api.post(f"/api/children/{town.children['a1']}/reveal", json=REVEAL)
    assert_error(response, 403, "reveal_not_allowed")
    assert response.get_json()["error"]["message"] == "您的角色无权查看完整信息"
    assert snapshot(app) == before


def _masked_id(key):
    number = factories.ID_NUMBERS[key]
    return number[:6] + "*" * 8 + number[-4:]


def _masked_phone(phone):
    return phone[:3] + "****" + phone[-4:]


@pytest.mark.parametrize("role", ["worker_a", "head_a", "admin"])
def test_id_numbers_and_phones_are_masked_everywhere(app, town, login, role):
    api = login(role)
    seen = []
    for kind in KINDS:
        listing = api.get(f"/api/{kind}")
        if listing.status_code == 404:
            continue
        rows = listing.get_json()["rows"]
        singles = [api.get(f"/api/{kind}/{row['id']}").get_json() for row in rows]
        assert singles == rows
        seen += [(kind, row) for row in rows]
    by_id = {v: k for k, v in town.children.items()} | {v: k for k, v in town.households.items()}
    assert seen
    for kind, row in seen:
        if kind == "children":
            assert row["id_number"] == _masked_id(by_id[row["id"]])
        elif kind == "households":
            phone = town.secrets[by_id[row["id"]]]["phone"]
            assert [g["phone"] for g in row["guardians"]] == [_masked_phone(phone)]
            assert row["guardians"][0]["phone"].startswith("139****")
        else:
            assert row["contact_phone"] in ("138****0001", "138****0002")
    text = repr(seen)
    for key, secret in town.secrets.items():
        assert secret["id_number"] not in text and secret["phone"] not in text, key
    assert "13800000001" not in text and "13800000002" not in text
    assert seen[0][1] and _masked_id("a1") == "430699********0011"
