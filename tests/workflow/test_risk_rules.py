"""The risk evaluator reads server/data/risk_rules.json; expected levels worked out from CHECKLISTS.md."""
from types import SimpleNamespace

import pytest

from server.services.plans import suggested_measures
from server.services.risk import assess_child, reason_labels


def child(categories=(), assessed=None, level="low"):
    """Return the fields of a child that the evaluator reads."""
    return SimpleNamespace(categories=list(categories), risk_assessed=assessed, risk_level=level)


@pytest.mark.parametrize("categories, answers, expected", [
    ((), {}, ("low", [])),
    ((), {"injury_signs": True}, ("high", ["injury_signs"])),
    ((), {"unknown_adult_contact": True, "injury_signs": False}, ("high", ["unknown_adult_contact"])),
    ((), {"ran_away": True, "online_risk": True}, ("high", ["ran_away", "online_risk"])),
    ((), {"entrusted_guardian_ok": False, "domestic_violence_alcohol": True},
     ("high", ["entrusted_guardian_unable", "domestic_violence_alcohol"])),
    ((), {"emotional_change": True}, ("medium", ["emotional_change"])),
    (("disabled",), {}, ("medium", ["disabled"])),
    (("disadvantaged", "migrant"), {}, ("medium", ["disadvantaged"])),
    (("left_behind",), {"guardian_present": False, "guardian_away_months": 12},
     ("medium", ["guardian_away", "left_behind_long_term"])),
    (("left_behind",), {"guardian_present": False, "guardian_away_months": 8}, ("low", ["guardian_away"])),
    (("migrant",), {"guardian_present": False, "guardian_away_months": 12}, ("low", ["guardian_away"])),
    ((), {"in_school": False}, ("low", ["dropped_out"])),
    ((), {"entrusted_guardian_ok": None, "ran_away": False}, ("low", [])),
])
def test_levels_and_reasons_follow_the_rules(categories, answers, expected):
    assert assess_child(child(categories), answers, []) == expected


def test_a_flagged_visit_may_raise_but_never_lower_the_level():
    high = child(assessed="high", level="high")
    assert assess_child(high, {}, []) == ("low", [])
    assert assess_child(high, {}, ["location_mismatch"]) == ("high", ["unverified_visit"])
    low = child(assessed="low")
    assert assess_child(low, {"injury_signs": True}, ["no_location"]) == (
        "high", ["injury_signs", "unverified_visit"])


def test_reasons_have_chinese_labels():
    assert reason_labels(["injury_signs", "unverified_visit", "dropped_out"]) == [
        "身体有不明伤痕", "最近一次走访存在核验标记，复核前不降低风险等级", "未在校就读（辍学）"]


def test_measures_come_from_the_reasons_groups_and_the_needs_without_repeats():
    measures = suggested_measures(["injury_signs", "unknown_adult_contact", "emotional_change"],
                                  {"needs": ["legal", "medical"]})
    titles = [m["detail"].split("（")[0] for m in measures]
    assert titles == ["强制报告", "心理干预", "法律援助", "司法救助", "一站式取证", "医疗救治"]
    assert {m["kind"] for m in measures} <= {"other", "psychological", "legal_aid", "judicial_aid", "medical"}
    assert all(m["due"] is None for m in measures)


SYNTHETIC_RULES = {
    "factors": [
        {"key": "ne", "when": {"answer": "a", "op": "ne", "value": 1}},
        {"key": "lt", "when": {"answer": "n", "op": "lt", "value": 3}},
        {"key": "lte", "when": {"answer": "n", "op": "lte", "value": 3}},
        {"key": "gt", "when": {"answer": "n", "op": "gt", "value": 3}},
        {"key": "picked", "when": {"answer": "m", "op": "any"}},
        {"key": "either", "when": {"any": [{"category": "migrant"},
                                           {"answer": "b", "op": "eq", "value": True}]}},
    ],
    "level_rules": [{"level": "high", "of": ["lt", "picked", "either"], "min_count": 3},
                    {"level": "medium", "any_of": ["gt"]}],
    "default_level": "low",
    "trust": {"flags": ["no_location"], "reason": {"key": "unverified_visit"}},
}


@pytest.mark.parametrize("categories, answers, expected", [
    ((), {}, ("low", [])),
    ((), {"a": 2, "n": 2, "m": ["x"], "b": True}, ("high", ["ne", "lt", "lte", "picked", "either"])),
    (("migrant",), {"a": 1, "n": 3, "m": []}, ("low", ["lte", "either"])),
    ((), {"n": 4, "m": "x", "b": 1}, ("medium", ["gt"])),
    ((), {"n": True, "a": None}, ("low", [])),
])
def test_every_kind_of_condition_and_level_rule(monkeypatch, categories, answers, expected):
    """Each op, `any` over a multi answer, category and `any` combinators; `of`/`min_count` and `any_of`.

    A bool never compares with a number (`n: True` is not < 3; `b: 1` is not True), a missing
    or null answer never matches, and an empty or non-list multi answer is no `any`.
    """
    monkeypatch.setattr("server.services.risk_rules.rules", lambda: SYNTHETIC_RULES)
    assert assess_child(child(categories), answers, []) == expected
    level, reasons = expected
    assert assess_child(child(categories, assessed="high"), answers, ["no_location"]) == (
        "high", reasons + ["unverified_visit"])
