"""Server-owned fields in request bodies are refused by name, and nothing is written."""
import pytest

from server.models import Child, Household, User, Venue

from .helpers import assert_error, row_of, snapshot

UNKNOWN = ["不允许的字段"]

# Fields a client never sets: the server derives or owns them.
SERVER_OWNED = {
    "village_id": "VILLAGE_B", "risk_level": "high", "worker_id": "WORKER_B", "role": "town_admin",
    "version": 99, "id_number_bidx": "0" * 32, "created_at": "2000-01-01T00:00:00+00:00",
    "updated_at": "2000-01-01T00:00:00+00:00", "deleted_at": None, "risk_reasons": ["手工"],
    "risk_override": "low", "next_visit_due": "2099-01-01", "birth_year": 1990,
    "name_ct": "AAAA", "grid_id": "GRID_B1",
}
# grid_id is the household's own field and village_id the venue's own field: tested apart.
FORBIDDEN = {
    "households": [f for f in SERVER_OWNED if f not in ("grid_id", "name_ct", "risk_reasons",
                                                        "risk_override", "next_visit_due",
                                                        "birth_year", "id_number_bidx")]
    + ["address_ct", "guardians_ct"],
    "children": list(SERVER_OWNED),
    "venues": [f for f in SERVER_OWNED if f not in ("village_id", "grid_id", "name_ct")]
    + ["last_inspected_at", "contact_phone_ct"],
}
MODELS = {"households": Household, "children": Child, "venues": Venue}


def _value(town, value):
    return {"VILLAGE_B": town.villages["b"], "WORKER_B": town.users["worker_b"],
            "GRID_B1": town.grids["b1"]}.get(value, value) if isinstance(value, str) else value


def _extra(town, field):
    return {field: _value(town, SERVER_OWNED.get(field, "AAAA"))}


def _create_body(town, kind):
    return {"households": {"grid_id": town.grids["a1"], "address": "新登记的一户"},
            "children": {"household_id": town.households["a1"], "name": "新登记儿童"},
            "venues": {"village_id": town.villages["a"], "type": "ktv", "name": "新登记KTV"}}[kind]


def _edit_body(kind):
    return {"households": {"address": "改过的地址"}, "children": {"notes": "改过的备注"},
            "venues": {"name": "改过的名称"}}[kind]


def _target(town, kind):
    return {"households": town.households["a1"], "children": town.children["a1"],
            "venues": town.venues["a"]}[kind]


CASES = [(kind, field) for kind, fields in FORBIDDEN.items() for field in fields]


@pytest.mark.parametrize("kind, field", CASES)
def test_server_owned_field_in_a_create_is_refused(app, town, login, kind, field):
    api = login("admin")
    before = snapshot(app)
    response = api.post(f"/api/{kind}", json={**_create_body(town, kind), **_extra(town, field)})
    assert_error(response, 422, "validation_error", fields={field: UNKNOWN})
    assert snapshot(app) == before


# Given once, at registration (a phone out of coverage says when), and never edited afterwards.
CREATE_ONLY = [("children", "registered_at")]


@pytest.mark.parametrize("kind, field", CASES + [(kind, "id") for kind in MODELS] + CREATE_ONLY)
def test_server_owned_field_in_an_edit_is_refused(app, town, login, kind, field):
    api = login("admin")
    record_id = _target(town, kind)
    stored = row_of(app, MODELS[kind], record_id)
    before = snapshot(app)
    extra = {"id": record_id} if field == "id" else _extra(town, field)
    if field == "registered_at":
        extra = {field: "2026-11-01T08:00:00+08:00"}
    response = api.patch(f"/api/{kind}/{record_id}", json={**_edit_body(kind), **extra})
    assert_error(response, 422, "validation_error", fields={field: UNKNOWN})
    assert snapshot(app) == before
    assert row_of(app, MODELS[kind], record_id) == stored
    assert stored["version"] == 1


def test_grid_worker_cannot_place_records_outside_the_grid(app, town, login):
    api = login("worker_a")
    before = snapshot(app)
    grid_error = {"grid_id": ["网格不存在或不在您的管辖范围内"]}
    response = api.post("/api/households", json={"grid_id": town.grids["b1"], "address": "越界登记"})
    assert_error(response, 422, "validation_error", fields=grid_error)
    response = api.edit(f"/api/households/{town.households['a1']}", {"grid_id": town.grids["a2"]})
    assert_error(response, 422, "validation_error", fields=grid_error)
    household_error = {"household_id": ["户不存在或不在您的管辖范围内"]}
    response = api.post("/api/children", json={"household_id": town.households["b1"], "name": "越界"})
    assert_error(response, 422, "validation_error", fields=household_error)
    response = api.edit(f"/api/children/{town.children['a1']}", {"household_id": town.households["a2"]})
    assert_error(response, 422, "validation_error", fields=household_error)
    assert snapshot(app) == before


def test_village_head_cannot_move_a_venue_to_another_village(app, town, login):
    api = login("head_a")
    before = snapshot(app)
    error = {"village_id": ["村/社区不存在或不在您的管辖范围内"]}
    response = api.edit(f"/api/venues/{town.venues['a']}", {"village_id": town.villages["b"]})
    assert_error(response, 422, "validation_error", fields=error)
    response = api.post("/api/venues", json={"village_id": town.villages["b"], "type": "bar",
                                             "name": "越界登记"})
    assert_error(response, 422, "validation_error", fields=error)
    assert snapshot(app) == before
    assert row_of(app, Venue, town.venues["a"])["village_id"] == town.villages["a"]


USER_FIELDS = {"role": "town_admin", "version": 2, "created_at": "2000-01-01T00:00:00+00:00",
               "username": "renamed", "password": "Brand-new-pass-77", "password_hash": "x",
               "session_version": 9, "town_id": "TOWN", "id": "USER", "risk_level": "high",
               "id_number_bidx": "0" * 32, "worker_id": "WORKER_B"}


@pytest.mark.parametrize("field", sorted(USER_FIELDS))
def test_server_owned_field_in_a_user_edit_is_refused(app, town, login, field):
    api = login("admin")
    user_id = town.users["worker_a"]
    stored = row_of(app, User, user_id)
    before = snapshot(app)
    value = {"USER": user_id, "TOWN": stored["town_id"]}.get(USER_FIELDS[field], USER_FIELDS[field])
    value = _value(town, value)
    response = api.patch(f"/api/users/{user_id}", json={"display_name": "改名", field: value})
    assert_error(response, 422, "validation_error", fields={field: UNKNOWN})
    assert snapshot(app) == before
    assert row_of(app, User, user_id) == stored
    assert login("worker_a").get("/api/auth/me").get_json()["user"]["role"] == "grid_worker"
