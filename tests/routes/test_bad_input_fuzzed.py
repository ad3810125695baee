"""Bad input a fuzz of every endpoint found: it must get the envelope's 4xx (never a 500, never a
2xx that stores something invalid), with nothing written. "Today:" notes say what it did before."""
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from ..factories import valid_id_number
from .helpers import WRITE_TABLES, assert_error, snapshot

# The records these cases could write, on top of the suite's usual tables.
TABLES = WRITE_TABLES + ("visit", "inspection", "plan", "joint_operation")
NOW = datetime.now(timezone(timedelta(hours=8))).replace(microsecond=0).isoformat()
BAD_TEXT = ["含有无效字符"]


def _visit(town, **changes):
    return {"child_id": town.children["a1"], "visited_at": NOW, "lat": 29.1, "lon": 113.2,
            "accuracy_m": 10, "template_version": 1, "answers": {}, "notes": "n", **changes}


def _inspection(api, town, **changes):
    template = next(t for t in api.get("/api/checklists").get_json()["templates"]
                    if "hotel" in t.get("venue_types", []))
    return {"venue_id": town.venues["a"], "inspected_at": NOW, "lat": 29.1, "lon": 113.2,
            "answers": [{"item": template["items"][0]["key"], "result": "pass"}], **changes}


def _plan(town, **changes):
    return {"child_id": town.children["a1"], "helper_id": town.users["worker_a"],
            "measures": [{"kind": "medical", "detail": "d"}], "review_every_days": 30, **changes}


def _clue(town, **changes):
    return {"child_id": town.children["a1"], "description": "发现可疑情况", **changes}


def _op(entity, data, action="create", record_id=None, base_version=None):
    return {"op_id": str(uuid.uuid4()), "entity": entity, "action": action,
            "id": record_id or str(uuid.uuid4()), "base_version": base_version, "data": data}


def _push(api, device_id, ops):
    return api.post("/api/sync/push", json={"device_id": device_id, "device_time": NOW, "ops": ops})


# --- 1. template_version has no range: a huge one is a 500, a negative one is stored ------------

@pytest.mark.parametrize("value", [2 ** 63, 10 ** 30, 1e308, -5],
                         ids=["int64+1", "10**30", "1e308", "negative"])
@pytest.mark.parametrize("kind", ["visits", "inspections"])
def test_template_version_out_of_range_is_422(app, town, login, kind, value):
    api = login("worker_a" if kind == "visits" else "inspector")
    body = _visit(town) if kind == "visits" else _inspection(api, town)
    body["template_version"] = value
    before = snapshot(app, TABLES)
    response = api.post(f"/api/{kind}", json=body)
    assert_error(response, 422, "validation_error", field_names={"template_version"})
    assert snapshot(app, TABLES) == before


def test_template_version_out_of_range_in_a_push_is_refused_by_field(app, town, login):
    api = login("worker_a", device_id="phone-worker-a-01")
    before = snapshot(app, ("visit",))
    response = _push(api, "phone-worker-a-01", [_op("visit", _visit(town, template_version=2 ** 63))])
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()["results"][0]
    # Today: {"_op": ["服务器无法处理此操作，已记录，请联系管理员"]} after an OverflowError in the log.
    assert result["status"] == "rejected"
    assert set(result["errors"]) == {"template_version"}, result
    assert snapshot(app, ("visit",)) == before


# --- 2. integer list filters have no range: a huge value is a 500 -------------------------------

@pytest.mark.parametrize("url", ["/api/visits?template_version=99999999999999999999",
                                 "/api/inspections?template_version=99999999999999999999",
                                 "/api/plans?review_every_days=99999999999999999999"])
def test_huge_integer_filter_is_422(app, town, login, url):
    api = login("admin")
    name = url.split("?")[1].split("=")[0]
    assert_error(api.get(url), 422, "validation_error", field_names={name})


# --- 3. an empty-string reference skips the existence check and hits the foreign key: 500 -------

def _empty_reference_cases(api, town):
    return [
        ("POST", "/api/plans", _plan(town, helper_id=""), "helper_id"),
        ("POST", "/api/inspections", _inspection(api, town, operation_id=""), "operation_id"),
        ("POST", "/api/clues", _clue(town, source_visit_id=""), "source_visit_id"),
        ("POST", "/api/clues", _clue(town, source_inspection_id=""), "source_inspection_id"),
    ]


@pytest.mark.parametrize("case", range(4), ids=["plan.helper_id", "inspection.operation_id",
                                                "clue.source_visit_id", "clue.source_inspection_id"])
def test_empty_reference_id_is_422(app, town, login, case):
    api = login("admin")
    method, url, body, field = _empty_reference_cases(api, town)[case]
    writer = login({"/api/plans": "worker_a", "/api/inspections": "inspector",
                    "/api/clues": "worker_a"}[url])
    before = snapshot(app, TABLES)
    response = writer.client.open(url, method=method, json=body, headers={"X-CSRF-Token": writer.csrf})
    assert_error(response, 422, "validation_error", field_names={field})
    assert snapshot(app, TABLES) == before


def test_empty_helper_id_on_a_plan_edit_is_422(app, town, login):
    api = login("worker_a")
    plan = api.post("/api/plans", json=_plan(town)).get_json()
    before = snapshot(app, TABLES)
    response = api.patch(f"/api/plans/{plan['id']}", json={"helper_id": ""},
                         headers={"If-Match": str(plan["version"])})
    assert_error(response, 422, "validation_error", field_names={"helper_id"})
    assert snapshot(app, TABLES) == before


def test_empty_helper_id_in_a_push_is_refused_by_field(app, town, login):
    api = login("worker_a", device_id="phone-worker-a-01")
    before = snapshot(app, ("plan",))
    response = _push(api, "phone-worker-a-01", [_op("plan", _plan(town, helper_id=""))])
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()["results"][0]
    assert result["status"] == "rejected"
    assert set(result["errors"]) == {"helper_id"}, result
    assert snapshot(app, ("plan",)) == before


# --- 4. one op holding NUL refuses the whole push (API.md: one bad op does not stop the rest) -----

def test_one_op_with_unusable_text_does_not_refuse_the_batch(app, town, login):
    api = login("worker_a", device_id="phone-worker-a-01")
    good = _op("clue", _clue(town))
    bad = _op("clue", _clue(town, description="可疑\x00情况"))
    response = _push(api, "phone-worker-a-01", [good, bad])
    # Today: 422 {"fields": {"ops": ["含有无效字符"]}}: the good op is refused with it, and a phone
    # whose outbox holds such an op sends the same refused batch at every sync.
    assert response.status_code == 200, response.get_data(as_text=True)
    first, second = response.get_json()["results"]
    assert (first["op_id"], first["status"]) == (good["op_id"], "applied")
    assert (second["op_id"], second["status"]) == (bad["op_id"], "rejected")
    assert second["errors"] == {"description": BAD_TEXT}


# --- 5. integer fields truncate a fraction silently ------------------------------------------------

def test_fractional_integer_is_refused_not_truncated(app, town, login):
    api = login("worker_a")
    before = snapshot(app, TABLES)
    response = api.post("/api/plans", json=_plan(town, review_every_days=1.5))
    # Today: 201 with review_every_days stored as 1.
    assert_error(response, 422, "validation_error", fields={"review_every_days": ["应为整数"]})
    assert snapshot(app, TABLES) == before


# --- 6. blank names are stored --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["", "   "], ids=["empty", "spaces"])
def test_user_display_name_cannot_be_blanked(app, town, login, name):
    api = login("admin")
    before = snapshot(app)
    response = api.patch(f"/api/users/{town.users['worker_b']}", json={"display_name": name})
    # Today: 200 with "display_name": "" (a create requires it, and fills a blank one in).
    assert_error(response, 422, "validation_error", field_names={"display_name"})
    assert snapshot(app) == before


@pytest.mark.parametrize("kind, body_of, field", [
    ("children", lambda t: {"household_id": t.households["a1"], "name": "   "}, "name"),
    ("venues", lambda t: {"village_id": t.villages["a"], "type": "hotel", "name": "   "}, "name"),
    ("households", lambda t: {"grid_id": t.grids["a1"], "address": "   "}, "address"),
], ids=["child.name", "venue.name", "household.address"])
def test_whitespace_only_required_text_is_422(app, town, login, kind, body_of, field):
    api = login("admin")
    before = snapshot(app, TABLES)
    response = api.post(f"/api/{kind}", json=body_of(town))
    assert_error(response, 422, "validation_error", field_names={field})
    assert snapshot(app, TABLES) == before


# --- 7. a child born in the future (or before 1900) -----------------------------------------------

@pytest.mark.parametrize("born", ["9999-12-31", "2099-01-01", "1899-12-31"])
def test_birth_date_in_the_future_is_422(app, town, login, born):
    api = login("worker_a")
    before = snapshot(app, TABLES)
    response = api.post("/api/children", json={"household_id": town.households["a1"], "name": "李小四",
                                               "birth_date": born})
    assert_error(response, 422, "validation_error", field_names={"birth_date"})
    assert snapshot(app, TABLES) == before


# --- 8. a name that displays as another -----------------------------------------------------------

def test_a_name_with_a_direction_override_is_422(app, town, login):
    """U+202E shows what follows reversed: 李\u202e四小 would read as another child's name."""
    api = login("worker_a")
    before = snapshot(app, TABLES)
    response = api.post("/api/children", json={"household_id": town.households["a1"], "name": "李\u202e四小"})
    assert_error(response, 422, "validation_error", fields={"name": ["姓名中不能有文字方向控制字符"]})
    assert snapshot(app, TABLES) == before


# --- 9. dates out of the work's years, a check dated ahead, a recheck before its check -----------

def _staff_check(town, **changes):
    return {"person_name": "前台员工", "id_number": valid_id_number("43069919900101001"),
            "employer_kind": "venue", "employer_id": town.venues["a"], "checked_on": "2026-03-01",
            "result": "clear", **changes}


@pytest.mark.parametrize("changes, fields", [
    ({"checked_on": "2099-01-01"}, {"checked_on": ["日期应在 1900 年到今天之间"]}),
    ({"next_due": "9999-12-31"}, {"next_due": ["日期应在 1900 至 2100 年之间"]}),
    ({"next_due": "2026-02-01"}, {"next_due": ["下次查询日期不能早于本次查询日期"]}),
], ids=["checked-ahead", "due-9999", "due-before-check"])
def test_a_staff_check_with_impossible_dates_is_422(app, town, login, changes, fields):
    api = login("inspector")
    before = snapshot(app, TABLES + ("staff_check",))
    assert_error(api.post("/api/staff_checks", json=_staff_check(town, **changes)), 422, "validation_error",
                 fields=fields)
    assert snapshot(app, TABLES + ("staff_check",)) == before


def test_plan_measures_and_operation_units_are_bounded(app, town, login):
    worker, inspector = login("worker_a"), login("inspector")
    before = snapshot(app, TABLES)
    many = [{"kind": "medical", "detail": "d"}] * 51
    assert_error(worker.post("/api/plans", json=_plan(town, measures=many)), 422, "validation_error",
                 fields={"measures": ["帮扶措施最多 50 项"]})
    far = [{"kind": "medical", "detail": "d", "due": "0001-01-01"}]
    assert_error(worker.post("/api/plans", json=_plan(town, measures=far)), 422, "validation_error",
                 fields={"measures.0.due": ["日期应在 1900 至 2100 年之间"]})
    for body, fields in (
            ({"date": "9999-12-31", "lead_unit": "派出所"}, {"date": ["日期应在 1900 年到今天之间"]}),
            # An operation is logged once carried out: one dated ahead would count as this month's.
            ({"date": (date.today() + timedelta(days=2)).isoformat(), "lead_unit": "派出所"},
             {"date": ["日期应在 1900 年到今天之间"]}),
            # The town's tomorrow, though already today east of it (Past alone let it by from 18:00).
            ({"date": (datetime.now(timezone(timedelta(hours=8))).date() + timedelta(days=1)).isoformat(),
              "lead_unit": "派出所"},
             {"date": ["日期应在 1900 年到今天之间"]}),
            ({"date": "2026-11-20", "lead_unit": "派出所", "units": ["  "]}, {"units.0": ["不能只有空白"]})):
        assert_error(inspector.post("/api/operations", json=body), 422, "validation_error", fields=fields)
    assert snapshot(app, TABLES) == before
