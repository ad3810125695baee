"""Checklist templates and child risk rules, loaded and validated from versioned JSON data."""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..models import CATEGORIES as CHILD_CATEGORIES
from ..models import MEASURE_KINDS, RISK_LEVELS, VENUE_TYPES

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CHECKLISTS_DIR = DATA_DIR / "checklists"
RISK_RULES_PATH = DATA_DIR / "risk_rules.json"

SEVERITIES = ("high", "medium", "low")
SEVERITY_DEADLINE_DAYS = {"high": 7, "medium": 15, "low": 30}
ITEM_KINDS = ("bool", "number", "multi")
COMMON_VENUE_ITEMS = ("staff_checks_done", "mandatory_report_known")
CONDITION_OPS = ("eq", "ne", "gte", "gt", "lte", "lt", "any")

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def _fail(where: str, message: str) -> None:
    raise ValueError(f"{where}: {message}")


def _require_text(value: Any, where: str, field: str) -> None:
    if not isinstance(value, str) or not value.strip():
        _fail(where, f"'{field}' must be a non-empty string")


def _require_positive_int(value: Any, where: str, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        _fail(where, f"'{field}' must be a positive integer, got {value!r}")


def _validate_item(item: Any, where: str, is_home_visit: bool) -> None:
    if not isinstance(item, dict):
        _fail(where, "item must be an object")
    key = item.get("key")
    if not isinstance(key, str) or not _KEY_RE.match(key):
        _fail(where, f"item key {key!r} must be snake_case")
    where = f"{where} item '{key}'"
    _require_text(item.get("label"), where, "label")
    if "help" in item and not isinstance(item["help"], str):
        _fail(where, "'help' must be a string")
    if not is_home_visit:
        if item.get("severity") not in SEVERITIES:
            _fail(
                where,
                f"severity {item.get('severity')!r} must be one of {', '.join(SEVERITIES)}",
            )
        if "kind" in item:
            _fail(where, "venue items take 'severity', not 'kind'")
        return
    kind = item.get("kind")
    if kind not in ITEM_KINDS:
        _fail(where, f"kind {kind!r} must be one of {', '.join(ITEM_KINDS)}")
    if "severity" in item:
        _fail(where, "home-visit items take 'kind', not 'severity'")
    if kind == "number":
        for bound in ("min", "max"):
            value = item.get(bound)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float))
            ):
                _fail(where, f"'{bound}' must be a number")
    if kind == "multi":
        options = item.get("options")
        if not isinstance(options, list) or not options:
            _fail(where, "multi items need a non-empty 'options' list")
        seen: set[str] = set()
        for option in options:
            option_key = option.get("key") if isinstance(option, dict) else None
            if not isinstance(option_key, str) or not _KEY_RE.match(option_key):
                _fail(where, f"option key {option_key!r} must be snake_case")
            if option_key in seen:
                _fail(where, f"duplicate option key '{option_key}'")
            seen.add(option_key)
            _require_text(
                option.get("label"), f"{where} option '{option_key}'", "label"
            )
    elif "options" in item:
        _fail(where, "only multi items take 'options'")


def _validate_template(template: Any, where: str) -> None:
    if not isinstance(template, dict):
        _fail(where, "template must be a JSON object")
    key = template.get("key")
    if not isinstance(key, str) or not _KEY_RE.match(key):
        _fail(where, f"template key {key!r} must be snake_case")
    _require_positive_int(template.get("version"), where, "version")
    _require_text(template.get("title"), where, "title")
    venue_types = template.get("venue_types")
    if not isinstance(venue_types, list):
        _fail(where, "'venue_types' must be a list")
    for venue_type in venue_types:
        if venue_type not in VENUE_TYPES:
            _fail(where, f"unknown venue type {venue_type!r}")
    if len(set(venue_types)) != len(venue_types):
        _fail(where, "venue type listed twice")
    items = template.get("items")
    if not isinstance(items, list) or not items:
        _fail(where, "'items' must be a non-empty list")
    is_home_visit = not venue_types
    seen: set[str] = set()
    for item in items:
        _validate_item(item, where, is_home_visit)
        if item["key"] in seen:
            _fail(where, f"duplicate item key '{item['key']}'")
        seen.add(item["key"])
    if not is_home_visit:
        missing = [k for k in COMMON_VENUE_ITEMS if k not in seen]
        if missing:
            _fail(where, f"venue template lacks common items: {', '.join(missing)}")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: invalid JSON ({exc})") from exc


@lru_cache(maxsize=8)
def _load_templates_from(directory: Path) -> dict[str, dict]:
    paths = sorted(directory.glob("*.json"))
    if not paths:
        raise ValueError(f"{directory}: no checklist templates found")
    templates: dict[str, dict] = {}
    for path in paths:
        template = _read_json(path)
        _validate_template(template, str(path))
        if template["key"] in templates:
            _fail(str(path), f"duplicate template key '{template['key']}'")
        templates[template["key"]] = template

    owners: dict[str, list[str]] = {venue_type: [] for venue_type in VENUE_TYPES}
    for template in templates.values():
        for venue_type in template["venue_types"]:
            owners[venue_type].append(template["key"])
    for venue_type, keys in owners.items():
        if len(keys) != 1:
            found = ", ".join(keys) if keys else "none"
            _fail(
                str(directory),
                f"venue type '{venue_type}' must map to exactly one template (found: {found})",
            )
    home_visits = [t["key"] for t in templates.values() if not t["venue_types"]]
    if len(home_visits) != 1:
        _fail(
            str(directory),
            f"expected exactly one home-visit template, found {len(home_visits)}",
        )
    return templates


def _templates() -> dict[str, dict]:
    return _load_templates_from(CHECKLISTS_DIR)


def load_templates() -> dict[str, dict]:
    """Return all checklist templates by template key (validated, cached; a fresh copy each call)."""
    return copy.deepcopy(_templates())


def template_for_venue_type(venue_type: str) -> dict:
    """Return the checklist template that applies to a venue type."""
    if venue_type not in VENUE_TYPES:
        raise ValueError(f"unknown venue type {venue_type!r}")
    for template in _templates().values():
        if venue_type in template["venue_types"]:
            return copy.deepcopy(template)
    raise ValueError(f"no template for venue type {venue_type!r}")


def _home_visit() -> dict:
    for template in _templates().values():
        if not template["venue_types"]:
            return template
    raise ValueError("no home-visit template")


def home_visit_template() -> dict:
    """Return the home-visit checklist template (a fresh copy)."""
    return copy.deepcopy(_home_visit())


def home_visit_items() -> dict[str, dict]:
    """Return the home-visit items by key, shared and cached: read them, never change them."""
    return {item["key"]: item for item in _home_visit()["items"]}


def severity_deadline_days(severity: str) -> int:
    """Return the default rectification deadline in days for an item severity."""
    try:
        return SEVERITY_DEADLINE_DAYS[severity]
    except (KeyError, TypeError):
        raise ValueError(f"unknown severity {severity!r}") from None


def _validate_condition(condition: Any, where: str, items: dict[str, dict]) -> None:
    if not isinstance(condition, dict) or len(condition) == 0:
        _fail(where, "condition must be a non-empty object")
    if "all" in condition or "any" in condition:
        parts = condition.get("all", condition.get("any"))
        if len(condition) != 1 or not isinstance(parts, list) or not parts:
            _fail(where, "'all'/'any' must be the only field and hold a non-empty list")
        for part in parts:
            _validate_condition(part, where, items)
        return
    if "category" in condition:
        if condition["category"] not in CHILD_CATEGORIES:
            _fail(where, f"unknown child category {condition['category']!r}")
        return
    answer = condition.get("answer")
    if answer not in items:
        _fail(where, f"condition refers to unknown home-visit item {answer!r}")
    op = condition.get("op")
    if op not in CONDITION_OPS:
        _fail(where, f"unknown operator {op!r}")
    kind = items[answer]["kind"]
    if op == "any":
        if kind != "multi":
            _fail(where, f"operator 'any' needs a multi item, '{answer}' is {kind}")
        return
    value = condition.get("value")
    if kind == "bool" and (op not in ("eq", "ne") or not isinstance(value, bool)):
        _fail(where, f"bool item '{answer}' needs eq/ne with true or false")
    if kind == "number" and (
        isinstance(value, bool) or not isinstance(value, (int, float))
    ):
        _fail(where, f"number item '{answer}' needs a numeric value")
    if kind == "multi":
        _fail(where, f"multi item '{answer}' only supports operator 'any'")


def _validate_measure(measure: Any, where: str) -> None:
    if not isinstance(measure, dict):
        _fail(where, "measure must be an object")
    if measure.get("kind") not in MEASURE_KINDS:
        _fail(
            where,
            f"measure kind {measure.get('kind')!r} must be one of {', '.join(MEASURE_KINDS)}",
        )
    for field in ("title", "detail", "unit"):
        _require_text(measure.get(field), where, field)


def _validate_risk_rules(rules: Any, where: str, template: dict) -> None:
    if not isinstance(rules, dict):
        _fail(where, "risk rules must be a JSON object")
    _require_positive_int(rules.get("version"), where, "version")
    ref = rules.get("template")
    if (
        not isinstance(ref, dict)
        or ref.get("key") != template["key"]
        or ref.get("version") != template["version"]
    ):
        _fail(
            where,
            f"rules are for template {ref!r}, loaded home-visit template is "
            f"{template['key']} v{template['version']}",
        )
    if sorted(rules.get("levels") or []) != sorted(RISK_LEVELS):
        _fail(where, f"'levels' must be {list(RISK_LEVELS)}")
    items = {item["key"]: item for item in template["items"]}

    groups = rules.get("measure_groups")
    if not isinstance(groups, dict) or not groups:
        _fail(where, "'measure_groups' must be a non-empty object")
    for group_key, group in groups.items():
        group_where = f"{where} measure group '{group_key}'"
        if not isinstance(group, dict):
            _fail(group_where, "must be an object")
        _require_text(group.get("label"), group_where, "label")
        measures = group.get("measures")
        if not isinstance(measures, list) or not measures:
            _fail(group_where, "'measures' must be a non-empty list")
        for measure in measures:
            _validate_measure(measure, group_where)

    factors = rules.get("factors")
    if not isinstance(factors, list) or not factors:
        _fail(where, "'factors' must be a non-empty list")
    factor_keys: set[str] = set()
    for factor in factors:
        key = factor.get("key") if isinstance(factor, dict) else None
        if not isinstance(key, str) or not _KEY_RE.match(key):
            _fail(where, f"factor key {key!r} must be snake_case")
        if key in factor_keys:
            _fail(where, f"duplicate factor key '{key}'")
        factor_keys.add(key)
        factor_where = f"{where} factor '{key}'"
        _require_text(factor.get("label"), factor_where, "label")
        _validate_condition(factor.get("when"), factor_where, items)
        if factor.get("measure_group") not in groups:
            _fail(
                factor_where, f"unknown measure group {factor.get('measure_group')!r}"
            )

    def check_factor_refs(keys: Any, ref_where: str) -> None:
        if not isinstance(keys, list) or not keys:
            _fail(ref_where, "factor list must be non-empty")
        for key in keys:
            if key not in factor_keys:
                _fail(ref_where, f"unknown factor {key!r}")

    level_rules = rules.get("level_rules")
    if not isinstance(level_rules, list) or not level_rules:
        _fail(where, "'level_rules' must be a non-empty list")
    for index, rule in enumerate(level_rules):
        rule_where = f"{where} level rule {index}"
        if not isinstance(rule, dict) or rule.get("level") not in RISK_LEVELS:
            _fail(rule_where, f"level must be one of {', '.join(RISK_LEVELS)}")
        if "any_of" in rule:
            check_factor_refs(rule["any_of"], rule_where)
        elif "of" in rule:
            check_factor_refs(rule["of"], rule_where)
            _require_positive_int(rule.get("min_count"), rule_where, "min_count")
            if rule["min_count"] > len(rule["of"]):
                _fail(rule_where, "'min_count' exceeds the number of listed factors")
        else:
            _fail(rule_where, "needs 'any_of' or 'min_count' with 'of'")
    if rules.get("default_level") not in RISK_LEVELS:
        _fail(where, "'default_level' must be a risk level")

    intervals = rules.get("visit_interval_days")
    if not isinstance(intervals, dict) or set(intervals) != set(RISK_LEVELS):
        _fail(
            where, f"'visit_interval_days' must give days for {', '.join(RISK_LEVELS)}"
        )
    for level, days in intervals.items():
        _require_positive_int(days, where, f"visit_interval_days.{level}")

    plan = rules.get("plan")
    if not isinstance(plan, dict):
        _fail(where, "'plan' must be an object")
    _require_positive_int(plan.get("deadline_days"), where, "plan.deadline_days")
    required = plan.get("required_levels")
    if not isinstance(required, list) or any(
        level not in RISK_LEVELS for level in required
    ):
        _fail(where, "'plan.required_levels' must list risk levels")

    clue = rules.get("clue_prompt")
    if not isinstance(clue, dict):
        _fail(where, "'clue_prompt' must be an object")
    check_factor_refs(clue.get("factors"), f"{where} clue_prompt")
    _require_text(clue.get("message"), f"{where} clue_prompt", "message")

    for follow_up in rules.get("follow_ups") or []:
        key = follow_up.get("key") if isinstance(follow_up, dict) else None
        follow_where = f"{where} follow-up {key!r}"
        if not isinstance(key, str) or not _KEY_RE.match(key):
            _fail(follow_where, "key must be snake_case")
        _validate_condition(follow_up.get("when"), follow_where, items)
        _require_text(follow_up.get("detail"), follow_where, "detail")
        _require_text(follow_up.get("unit"), follow_where, "unit")

    needs_item = items.get("needs")
    needs_measures = rules.get("needs_measures")
    if needs_item is not None:
        options = {option["key"] for option in needs_item.get("options", [])}
        if not isinstance(needs_measures, dict) or set(needs_measures) != options:
            _fail(
                where,
                f"'needs_measures' must cover exactly the needs options: {', '.join(sorted(options))}",
            )
        for option_key, measure in needs_measures.items():
            _validate_measure(measure, f"{where} needs measure '{option_key}'")


@lru_cache(maxsize=8)
def _load_risk_rules_from(path: Path, checklists_dir: Path) -> dict:
    rules = _read_json(path)
    template = next(
        t for t in _load_templates_from(checklists_dir).values() if not t["venue_types"]
    )
    _validate_risk_rules(rules, str(path), template)
    return rules


def load_risk_rules() -> dict:
    """Return the child risk rules, validated against the home-visit template (cached; a fresh copy)."""
    return copy.deepcopy(risk_rules())


def risk_rules() -> dict:
    """Return the child risk rules, shared and cached: read them, never change them."""
    return _load_risk_rules_from(RISK_RULES_PATH, CHECKLISTS_DIR)


def clear_caches() -> None:
    """Forget loaded templates and rules so the next call re-reads the data files."""
    _load_templates_from.cache_clear()
    _load_risk_rules_from.cache_clear()
