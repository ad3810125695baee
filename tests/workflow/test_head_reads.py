"""The reads behind the village head's screens: a child's assessment, and who may help on a plan."""
from ..routes.helpers import assert_error
from .helpers import post_visit


def test_child_risk_shows_assessment_override_and_labels_in_scope(app, town, login):
    worker, head = login("worker_a"), login("head_a")
    post_visit(worker, town.children["a1"], "a1", {"emotional_change": True})
    url = f"/api/children/{town.children['a1']}/risk"
    body = head.get(url).get_json()
    assert {k: body[k] for k in ("id", "risk_level", "risk_assessed", "risk_override",
                                 "risk_override_reason", "risk_reasons", "risk_reason_labels")} == {
        "id": town.children["a1"], "risk_level": "medium", "risk_assessed": "medium", "risk_override": None,
        "risk_override_reason": None, "risk_reasons": ["emotional_change"],
        "risk_reason_labels": ["情绪、行为明显异常"]}
    head.post(f"/api/children/{town.children['a1']}/risk-override",
              json={"level": "high", "reason": "学校反映近期多次缺课"})
    body = head.get(url).get_json()
    assert (body["risk_level"], body["risk_assessed"], body["risk_override"], body["risk_override_reason"]) == (
        "high", "medium", "high", "学校反映近期多次缺课")
    assert body["id_number"] == "430699********0011"
    assert_error(login("head_b").get(url), 404, "not_found")
    assert_error(login("inspector").get(url), 404, "not_found")


def test_helpers_are_the_active_workers_and_head_of_the_village(app, town, login):
    rows = login("head_a").get("/api/helpers").get_json()["rows"]
    assert rows == [
        {"id": town.users["worker_a"], "name": "测试worker_a", "role": "grid_worker",
         "village_id": town.villages["a"]},
        {"id": town.users["head_a"], "name": "测试head_a", "role": "village_head",
         "village_id": town.villages["a"]}]
    admin_rows = login("admin").get("/api/helpers").get_json()["rows"]
    assert {r["name"] for r in admin_rows} == {"测试worker_a", "测试worker_b", "测试head_a", "测试head_b"}
    village_b = login("admin").get(f"/api/helpers?village_id={town.villages['b']}").get_json()["rows"]
    assert [r["name"] for r in village_b] == ["测试worker_b", "测试head_b"]
    assert login("head_a").get(f"/api/helpers?village_id={town.villages['b']}").get_json()["rows"] == []
    # For a plan of grid a2: the head, not worker_a (grid a1), who would never see the plan.
    for grid, names in (("a1", ["测试worker_a", "测试head_a"]), ("a2", ["测试head_a"])):
        rows = login("head_a").get(f"/api/helpers?grid_id={town.grids[grid]}").get_json()["rows"]
        assert [r["name"] for r in rows] == names
    assert_error(login("head_a").get("/api/helpers?unit_id=x"), 422, "validation_error",
                 field_names={"unit_id"})
    assert_error(login("inspector").get("/api/helpers"), 404, "not_found")


def test_risk_reasons_label_every_key_a_plan_or_child_may_carry(app, town, login):
    reasons = login("head_a").get("/api/risk-reasons").get_json()["reasons"]
    labels = {r["key"]: r["label"] for r in reasons}
    assert labels["injury_signs"] == "身体有不明伤痕"
    assert labels["unverified_visit"] == "最近一次走访存在核验标记，复核前不降低风险等级"
    assert [r["key"] for r in reasons][-1] == "unverified_visit" and len(labels) == len(reasons) == 14
