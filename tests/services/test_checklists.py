"""Tests for checklist templates and risk rules loaded from data files."""

import json
import shutil

import pytest

from server.models import MEASURE_KINDS
from server.services import checklists, risk_rules
from server.services.checklists import (
    VENUE_TYPES,
    home_visit_template,
    load_templates,
    severity_deadline_days,
    template_for_venue_type,
)
from server.services.risk_rules import load_rules as load_risk_rules

FIVE_MUSTS = {
    "verify_identity",
    "ask_guardian",
    "patrol_visitors",
    "report_suspicious",
    "contact_guardian",
}
HOME_VISIT_KEYS = {
    "guardian_present",
    "guardian_away_months",
    "entrusted_guardian_ok",
    "in_school",
    "injury_signs",
    "emotional_change",
    "unknown_adult_contact",
    "online_risk",
    "ran_away",
    "domestic_violence_alcohol",
    "safe_housing",
    "prevention_education",
    "needs",
}


def item_keys(template):
    return {item["key"] for item in template["items"]}


def edit_json(path, change):
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_templates_load_with_expected_keys():
    templates = load_templates()
    assert set(templates) == {
        "lodging",
        "esports_hotel",
        "internet_cafe",
        "entertainment",
        "home_visit",
    }
    for key, template in templates.items():
        assert template["key"] == key
        assert template["version"] >= 1
        assert template["title"]
        for item in template["items"]:
            assert item["label"] and item["help"]


@pytest.mark.parametrize("venue_type", VENUE_TYPES)
def test_every_venue_type_has_a_template(venue_type):
    template = template_for_venue_type(venue_type)
    assert venue_type in template["venue_types"]


@pytest.mark.parametrize("venue_type", VENUE_TYPES)
def test_every_venue_template_has_common_items(venue_type):
    keys = item_keys(template_for_venue_type(venue_type))
    assert {"staff_checks_done", "mandatory_report_known"} <= keys


def test_venue_type_mapping():
    assert template_for_venue_type("hotel")["key"] == "lodging"
    assert template_for_venue_type("cinema")["key"] == "lodging"
    assert template_for_venue_type("esports_hotel")["key"] == "esports_hotel"
    assert template_for_venue_type("internet_cafe")["key"] == "internet_cafe"
    for venue_type in ("bar", "ktv", "other"):
        assert template_for_venue_type(venue_type)["key"] == "entertainment"


def test_unknown_venue_type_raises():
    with pytest.raises(ValueError):
        template_for_venue_type("sauna")


@pytest.mark.parametrize("venue_type", ["hotel", "esports_hotel", "cinema"])
def test_five_musts_in_lodging_templates(venue_type):
    assert FIVE_MUSTS <= item_keys(template_for_venue_type(venue_type))


def test_esports_includes_all_lodging_items():
    lodging = item_keys(template_for_venue_type("hotel"))
    esports = item_keys(template_for_venue_type("esports_hotel"))
    assert lodging <= esports
    assert {"esports_no_minors", "esports_zone_separate", "minor_sign"} <= esports


def test_internet_cafe_items():
    keys = item_keys(template_for_venue_type("internet_cafe"))
    assert {
        "no_minors_admitted",
        "minor_sign",
        "no_minor_staff",
        "id_check",
        "age_doubt_check",
    } <= keys


def test_entertainment_items():
    keys = item_keys(template_for_venue_type("ktv"))
    assert {
        "no_paid_companionship",
        "no_minors_admitted",
        "no_minor_staff",
        "no_alcohol_to_minors",
    } <= keys


def test_labels_match_reference():
    lodging = {item["key"]: item for item in template_for_venue_type("hotel")["items"]}
    assert (
        lodging["verify_identity"]["label"]
        == "查验入住未成年人身份，并如实登记、报送信息"
    )
    assert lodging["verify_identity"]["severity"] == "high"
    assert lodging["staff_trained"]["severity"] == "low"
    bar = {item["key"]: item for item in template_for_venue_type("bar")["items"]}
    assert bar["no_paid_companionship"]["label"] == "无组织、强迫、引诱未成年人有偿陪侍"


def test_deadlines_by_severity():
    assert severity_deadline_days("high") == 7
    assert severity_deadline_days("medium") == 15
    assert severity_deadline_days("low") == 30
    with pytest.raises(ValueError):
        severity_deadline_days("urgent")


def test_home_visit_template():
    template = home_visit_template()
    assert template["key"] == "home_visit"
    assert template["venue_types"] == []
    items = {item["key"]: item for item in template["items"]}
    assert set(items) == HOME_VISIT_KEYS
    assert items["guardian_away_months"]["kind"] == "number"
    assert items["injury_signs"]["kind"] == "bool"
    assert items["needs"]["kind"] == "multi"
    options = {option["key"]: option["label"] for option in items["needs"]["options"]}
    assert options == {
        "living": "生活",
        "medical": "医疗",
        "psychological": "心理",
        "legal": "法律",
        "schooling": "就学",
        "temporary_guardianship": "临时监护",
    }
    assert all("severity" not in item for item in template["items"])


def test_returned_templates_are_copies():
    template_for_venue_type("hotel")["items"].clear()
    assert template_for_venue_type("hotel")["items"]


def test_risk_rules_load():
    rules = load_risk_rules()
    assert rules["visit_interval_days"] == {"high": 30, "medium": 90, "low": 182}
    assert rules["plan"]["deadline_days"] == 7
    assert set(rules["clue_prompt"]["factors"]) == {
        "injury_signs",
        "unknown_adult_contact",
    }
    high_any = [
        r for r in rules["level_rules"] if r["level"] == "high" and "any_of" in r
    ]
    assert set(high_any[0]["any_of"]) == {"injury_signs", "unknown_adult_contact"}
    two_of = [r for r in rules["level_rules"] if r.get("min_count") == 2]
    assert set(two_of[0]["of"]) == {
        "entrusted_guardian_unable",
        "ran_away",
        "domestic_violence_alcohol",
        "online_risk",
        "emotional_change",
    }
    kinds = {
        m["kind"]
        for group in rules["measure_groups"].values()
        for m in group["measures"]
    }
    assert kinds <= set(MEASURE_KINDS)


def test_copied_data_still_valid(data_copy):
    assert set(load_templates()) == {
        "lodging",
        "esports_hotel",
        "internet_cafe",
        "entertainment",
        "home_visit",
    }
    assert load_risk_rules()["default_level"] == "low"


def test_duplicate_item_key_raises(data_copy):
    edit_json(
        data_copy / "lodging.json", lambda d: d["items"].append(dict(d["items"][0]))
    )
    with pytest.raises(ValueError, match="duplicate item key 'verify_identity'"):
        load_templates()


def test_bad_severity_raises(data_copy):
    edit_json(
        data_copy / "internet_cafe.json",
        lambda d: d["items"][0].update(severity="urgent"),
    )
    with pytest.raises(ValueError, match="severity"):
        load_templates()


def test_unmapped_venue_type_raises(data_copy):
    edit_json(
        data_copy / "entertainment.json", lambda d: d["venue_types"].remove("ktv")
    )
    with pytest.raises(ValueError, match="'ktv' must map to exactly one template"):
        load_templates()


def test_venue_type_in_two_templates_raises(data_copy):
    edit_json(
        data_copy / "internet_cafe.json", lambda d: d["venue_types"].append("bar")
    )
    with pytest.raises(ValueError, match="'bar' must map to exactly one template"):
        load_templates()


def test_missing_common_item_raises(data_copy):
    edit_json(
        data_copy / "lodging.json",
        lambda d: d.update(
            items=[i for i in d["items"] if i["key"] != "mandatory_report_known"]
        ),
    )
    with pytest.raises(ValueError, match="mandatory_report_known"):
        load_templates()


def test_invalid_json_raises(data_copy):
    (data_copy / "lodging.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="invalid JSON"):
        load_templates()


def test_risk_rule_with_unknown_answer_raises(data_copy):
    def change(rules):
        rules["factors"][0]["when"]["answer"] = "no_such_item"

    edit_json(risk_rules.RISK_RULES_PATH, change)
    with pytest.raises(ValueError, match="no_such_item"):
        load_risk_rules()


def test_risk_rule_with_bad_measure_kind_raises(data_copy):
    edit_json(
        risk_rules.RISK_RULES_PATH,
        lambda r: r["measure_groups"]["dropped_out"]["measures"][0].update(
            kind="prayer"
        ),
    )
    with pytest.raises(ValueError, match="measure kind"):
        load_risk_rules()


def _first_multi(template: dict) -> dict:
    return next(item for item in template["items"] if item["kind"] == "multi")


@pytest.mark.parametrize("path, change, loader, message", [
    ("home_visit.json", lambda d: _first_multi(d)["options"].append(dict(_first_multi(d)["options"][0])),
     load_templates, r"home_visit\.json item '\w+': duplicate option key '\w+'"),
    ("lodging.json", lambda d: d.update(key="Lodging"), load_templates,
     r"lodging\.json: template key 'Lodging' must be snake_case"),
    ("lodging.json", lambda d: d["items"][0].update(key="verify-identity"), load_templates,
     r"lodging\.json: item key 'verify-identity' must be snake_case"),
    (None, lambda r: r["factors"].append(dict(r["factors"][0])), load_risk_rules,
     r"risk_rules\.json: duplicate factor key '\w+'"),
    (None, lambda r: r["follow_ups"][0].update(key="Follow up"), load_risk_rules,
     r"risk_rules\.json follow-up 'Follow up': follow-up key 'Follow up' must be snake_case"),
])
def test_a_bad_or_repeated_key_is_refused_naming_the_file_and_place(data_copy, path, change, loader, message):
    edit_json(data_copy / path if path else risk_rules.RISK_RULES_PATH, change)
    with pytest.raises(ValueError, match=message):
        loader()


def release(directory, name: str, change) -> dict:
    """Release version 2 of the template in `name` as a release would: the version it replaces kept
    in the archive, the current file changed by `change`. Return version 1."""
    earlier = json.loads((directory / name).read_text(encoding="utf-8"))
    (directory / checklists.ARCHIVE).mkdir(exist_ok=True)
    (directory / checklists.ARCHIVE / name).write_text(json.dumps(earlier, ensure_ascii=False),
                                                       encoding="utf-8")
    edit_json(directory / name, lambda d: (d.update(version=2), change(d)))
    checklists.clear_caches()
    return earlier


def release_home_visit(directory) -> str:
    """Release version 2 of the home visit without its first need, the risk rules made for it;
    return the need dropped."""
    earlier = release(directory, "home_visit.json", lambda d: _first_multi(d)["options"].pop(0))
    dropped = _first_multi(earlier)["options"][0]["key"]
    edit_json(risk_rules.RISK_RULES_PATH,
              lambda r: (r["template"].update(version=2), r["needs_measures"].pop(dropped)))
    risk_rules.clear_cache()
    return dropped


def test_an_earlier_version_is_kept_and_records_answered_on_it_are_checked_by_it(data_copy):
    dropped = release_home_visit(data_copy)
    options = {version: {o["key"] for o in checklists.home_visit_items(version)["needs"]["options"]}
               for version in (1, 2, None, 3)}
    assert (dropped in options[1], dropped in options[2], options[None] == options[2] == options[3]) == (
        True, False, True)
    assert set(checklists.archived_in(data_copy)) == {("home_visit", 1)}
    assert load_templates()["home_visit"]["version"] == 2


@pytest.mark.parametrize("archived, message", [
    (None, r"template 'home_visit' lacks its earlier versions 1"),
    (2, r"archived template 'home_visit' version 2 is not an earlier version of a current template"),
])
def test_a_release_must_keep_every_earlier_version_and_only_those(data_copy, archived, message):
    edit_json(data_copy / "home_visit.json", lambda d: d.update(version=2))
    if archived is not None:
        (data_copy / checklists.ARCHIVE).mkdir()
        shutil.copy(data_copy / "home_visit.json", data_copy / checklists.ARCHIVE / "home_visit.json")
    checklists.clear_caches()
    with pytest.raises(ValueError, match=message):
        checklists.archived_in(data_copy)


def test_the_shipped_templates_keep_every_earlier_version():
    # Raises when a release bumps a version without archiving the one it replaces.
    archived = checklists.archived_in(checklists.CHECKLISTS_DIR)
    assert {key: v for key, v in archived} == {key: t["version"] - 1 for key, t in load_templates().items()
                                              if t["version"] > 1}
