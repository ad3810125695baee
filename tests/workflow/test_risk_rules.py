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
