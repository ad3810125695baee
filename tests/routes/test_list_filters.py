"""Record lists filter by query args named after the fields (API.md), and refuse any other."""
from ..factories import valid_id_number
from .helpers import assert_error


def _ids(api, url):
    response = api.get(url)
    assert response.status_code == 200, response.get_json()
    return sorted(row["id"] for row in response.get_json()["rows"])


def _created(api, url, body):
    response = api.post(url, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_lists_filter_by_the_fields_they_show(town, login):
    head, admin, police = login("head_a"), login("admin"), login("police")
    plan = head.post("/api/plans", json={"child_id": town.children["a1"], "helper_id": town.users["worker_a"],
                                         "risk_factors": ["无人照看"], "review_every_days": 30}).get_json()
    other = head.post("/api/plans", json={"child_id": town.children["a2"], "helper_id": town.users["head_a"],
                                          "risk_factors": ["无人照看"], "review_every_days": 30}).get_json()
    assert _ids(head, "/api/plans?status=active") == []
    assert _ids(head, "/api/plans?status=draft") == sorted([plan["id"], other["id"]])
    assert _ids(head, f"/api/plans?helper_id={town.users['head_a']}") == [other["id"]]
    check = {"person_name": "张三", "id_number": valid_id_number("43069919900101001"),
             "employer_kind": "venue", "employer_id": town.venues["a"], "checked_on": "2026-11-01"}
    clear, found = (_created(admin, "/api/staff_checks", {**check, "result": result})
                    for result in ("clear", "record_found"))
    assert _ids(admin, "/api/staff_checks?result=clear") == [clear["id"]]
    assert _ids(admin, f"/api/staff_checks?employer_id={town.venues['a']}&employer_kind=venue") == sorted(
        [clear["id"], found["id"]])
    operation = admin.post("/api/operations", json={"date": "2026-11-20", "lead_unit": "派出所"}).get_json()
    admin.post("/api/operations", json={"date": "2026-11-21", "lead_unit": "派出所"})
    assert _ids(admin, "/api/operations?date=2026-11-20") == [operation["id"]]
    assert _ids(police, "/api/clues?status=new") == [town.clues["a1"]]
    assert _ids(police, "/api/clues?status=closed") == []
    assert _ids(admin, "/api/households?family_type=normal") == []
    assert _ids(admin, f"/api/households?family_type=left_behind&grid_id={town.grids['a1']}") == [
        town.households["a1"]]
    assert_error(head.get("/api/plans?status=active&nickname=x"), 422, "validation_error",
                 field_names={"nickname"})
    assert_error(admin.get("/api/operations?date=20 November"), 422, "validation_error", field_names={"date"})
