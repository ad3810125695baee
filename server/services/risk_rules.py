"""The child risk rules (factors, levels, visit intervals, plan measures), loaded from versioned JSON
data and checked against the home-visit template they ask about."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..models import CATEGORIES as CHILD_CATEGORIES
from ..models import MEASURE_KINDS, RISK_LEVELS
from . import checklists
from .datafiles import (
    DATA_DIR,
    fail,
    read_json,
    require_key,
    require_new_key,
    require_positive_int,
    require_text,
)

RISK_RULES_PATH = DATA_DIR / "risk_rules.json"
CONDITION_OPS = ("eq", "ne", "gte", "gt", "lte", "lt", "any")


def _validate_condition(condition: Any, where: str, items: dict[str, dict]) -> None:
    if not isinstance(condition, dict) or len(condition) == 0:
        fail(where, "condition must be a non-empty object")
    if "all" in condition or "any" in condition:
        parts = condition.get("all", condition.get("any"))
        if len(condition) != 1 or not isinstance(parts, list) or not parts:
            fail(where, "'all'/'any' must be the only field and hold a non-empty list")
        for part in parts:
            _validate_condition(part, where, items)
        return
    if "category" in condition:
        if condition["category"] not in CHILD_CATEGORIES:
            fail(where, f"unknown child category {condition['category']!r}")
        return
    answer = condition.get("answer")
    if answer not in items:
        fail(where, f"condition refers to unknown home-visit item {answer!r}")
    op = condition.get("op")
    if op not in CONDITION_OPS:
        fail(where, f"unknown operator {op!r}")
    kind = items[answer]["kind"]
    if op == "any":
        if kind != "multi":
            fail(where, f"operator 'any' needs a multi item, '{answer}' is {kind}")
        return
    value = condition.get("value")
    if kind == "bool" and (op not in ("eq", "ne") or not isinstance(value, bool)):
        fail(where, f"bool item '{answer}' needs eq/ne with true or false")
    if kind == "number" and (
        isinstance(value, bool) or not isinstance(value, (int, float))
    ):
        fail(where, f"number item '{answer}' needs a numeric value")
    if kind == "multi":
        fail(where, f"multi item '{answer}' only supports operator 'any'")


def _validate_measure(measure: Any, where: str) -> None:
    if not isinstance(measure, dict):
        fail(where, "measure must be an object")
    if measure.get("kind") not in MEASURE_KINDS:
        fail(
            where,
            f"measure kind {measure.get('kind')!r} must be one of {', '.join(MEASURE_KINDS)}",
        )
    for field in ("title", "detail", "unit"):
        require_text(measure.get(field), where, field)


def _validate_risk_rules(rules: Any, where: str, template: dict) -> None:
    if not isinstance(rules, dict):
        fail(where, "risk rules must be a JSON object")
    require_positive_int(rules.get("version"), where, "version")
    ref = rules.get("template")
    if (
        not isinstance(ref, dict)
        or ref.get("key") != template["key"]
        or ref.get("version") != template["version"]
    ):
        fail(
            where,
            f"rules are for template {ref!r}, loaded home-visit template is "
            f"{template['key']} v{template['version']}",
        )
    if sorted(rules.get("levels") or []) != sorted(RISK_LEVELS):
        fail(where, f"'levels' must be {list(RISK_LEVELS)}")
    items = {item["key"]: item for item in template["items"]}

    groups = rules.get("measure_groups")
    if not isinstance(groups, dict) or not groups:
        fail(where, "'measure_groups' must be a non-empty object")
    for group_key, group in groups.items():
        group_where = f"{where} measure group '{group_key}'"
        if not isinstance(group, dict):
            fail(group_where, "must be an object")
        require_text(group.get("label"), group_where, "label")
        measures = group.get("measures")
        if not isinstance(measures, list) or not measures:
            fail(group_where, "'measures' must be a non-empty list")
        for measure in measures:
            _validate_measure(measure, group_where)

    factors = rules.get("factors")
    if not isinstance(factors, list) or not factors:
        fail(where, "'factors' must be a non-empty list")
    factor_keys: set[str] = set()
    for factor in factors:
        key = require_new_key(factor.get("key") if isinstance(factor, dict) else None,
                              factor_keys, where, "factor")
        factor_where = f"{where} factor '{key}'"
        require_text(factor.get("label"), factor_where, "label")
        _validate_condition(factor.get("when"), factor_where, items)
        if factor.get("measure_group") not in groups:
            fail(
                factor_where, f"unknown measure group {factor.get('measure_group')!r}"
            )

    def check_factor_refs(keys: Any, ref_where: str) -> None:
        if not isinstance(keys, list) or not keys:
            fail(ref_where, "factor list must be non-empty")
        for key in keys:
            if key not in factor_keys:
                fail(ref_where, f"unknown factor {key!r}")

    level_rules = rules.get("level_rules")
    if not isinstance(level_rules, list) or not level_rules:
        fail(where, "'level_rules' must be a non-empty list")
    for index, rule in enumerate(level_rules):
        rule_where = f"{where} level rule {index}"
        if not isinstance(rule, dict) or rule.get("level") not in RISK_LEVELS:
            fail(rule_where, f"level must be one of {', '.join(RISK_LEVELS)}")
        if "any_of" in rule:
            check_factor_refs(rule["any_of"], rule_where)
        elif "of" in rule:
            check_factor_refs(rule["of"], rule_where)
            require_positive_int(rule.get("min_count"), rule_where, "min_count")
            if rule["min_count"] > len(rule["of"]):
                fail(rule_where, "'min_count' exceeds the number of listed factors")
        else:
            fail(rule_where, "needs 'any_of' or 'min_count' with 'of'")
    if rules.get("default_level") not in RISK_LEVELS:
        fail(where, "'default_level' must be a risk level")

    intervals = rules.get("visit_interval_days")
    if not isinstance(intervals, dict) or set(intervals) != set(RISK_LEVELS):
        fail(
            where, f"'visit_interval_days' must give days for {', '.join(RISK_LEVELS)}"
        )
    for level, days in intervals.items():
        require_positive_int(days, where, f"visit_interval_days.{level}")

    plan = rules.get("plan")
    if not isinstance(plan, dict):
        fail(where, "'plan' must be an object")
    require_positive_int(plan.get("deadline_days"), where, "plan.deadline_days")
    required = plan.get("required_levels")
    if not isinstance(required, list) or any(
        level not in RISK_LEVELS for level in required
    ):
        fail(where, "'plan.required_levels' must list risk levels")

    clue = rules.get("clue_prompt")
    if not isinstance(clue, dict):
        fail(where, "'clue_prompt' must be an object")
    check_factor_refs(clue.get("factors"), f"{where} clue_prompt")
    require_text(clue.get("message"), f"{where} clue_prompt", "message")

    for follow_up in rules.get("follow_ups") or []:
        key = follow_up.get("key") if isinstance(follow_up, dict) else None
        follow_where = f"{where} follow-up {key!r}"
        require_key(key, follow_where, "follow-up")
        _validate_condition(follow_up.get("when"), follow_where, items)
        require_text(follow_up.get("detail"), follow_where, "detail")
        require_text(follow_up.get("unit"), follow_where, "unit")

    needs_item = items.get("needs")
    needs_measures = rules.get("needs_measures")
    if needs_item is not None:
        options = {option["key"] for option in needs_item.get("options", [])}
        if not isinstance(needs_measures, dict) or set(needs_measures) != options:
            fail(
                where,
                f"'needs_measures' must cover exactly the needs options: {', '.join(sorted(options))}",
            )
        for option_key, measure in needs_measures.items():
            _validate_measure(measure, f"{where} needs measure '{option_key}'")


@lru_cache(maxsize=8)
def _load_risk_rules_from(path: Path, checklists_dir: Path) -> dict:
    rules = read_json(path)
    template = next(
        t for t in checklists.templates_in(checklists_dir).values() if not t["venue_types"]
    )
    _validate_risk_rules(rules, str(path), template)
    return rules


def load_rules() -> dict:
    """Return the child risk rules, validated against the home-visit template (cached; a fresh copy)."""
    return copy.deepcopy(rules())


def rules() -> dict:
    """Return the child risk rules, shared and cached: read them, never change them."""
    return _load_risk_rules_from(RISK_RULES_PATH, checklists.CHECKLISTS_DIR)


def clear_cache() -> None:
    """Forget the loaded rules so the next call re-reads the data file."""
    _load_risk_rules_from.cache_clear()
