"""Checklist templates (the venue checklists and the home visit), loaded and validated from versioned
JSON data; the child risk rules built on the home visit are in `risk_rules`."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..models import VENUE_TYPES
from .datafiles import (
    DATA_DIR,
    fail,
    read_json,
    require_key,
    require_new_key,
    require_positive_int,
    require_text,
)

CHECKLISTS_DIR = DATA_DIR / "checklists"
ARCHIVE = "archive"

SEVERITIES = ("high", "medium", "low")
SEVERITY_DEADLINE_DAYS = {"high": 7, "medium": 15, "low": 30}
ITEM_KINDS = ("bool", "number", "multi")
COMMON_VENUE_ITEMS = ("staff_checks_done", "mandatory_report_known")

def _validate_item(item: Any, where: str, is_home_visit: bool) -> None:
    if not isinstance(item, dict):
        fail(where, "item must be an object")
    key = require_key(item.get("key"), where, "item")
    where = f"{where} item '{key}'"
    require_text(item.get("label"), where, "label")
    if "help" in item and not isinstance(item["help"], str):
        fail(where, "'help' must be a string")
    if not is_home_visit:
        if item.get("severity") not in SEVERITIES:
            fail(
                where,
                f"severity {item.get('severity')!r} must be one of {', '.join(SEVERITIES)}",
            )
        if "kind" in item:
            fail(where, "venue items take 'severity', not 'kind'")
        return
    kind = item.get("kind")
    if kind not in ITEM_KINDS:
        fail(where, f"kind {kind!r} must be one of {', '.join(ITEM_KINDS)}")
    if "severity" in item:
        fail(where, "home-visit items take 'kind', not 'severity'")
    if kind == "number":
        for bound in ("min", "max"):
            value = item.get(bound)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float))
            ):
                fail(where, f"'{bound}' must be a number")
    if kind == "multi":
        options = item.get("options")
        if not isinstance(options, list) or not options:
            fail(where, "multi items need a non-empty 'options' list")
        seen: set[str] = set()
        for option in options:
            option_key = require_new_key(option.get("key") if isinstance(option, dict) else None,
                                         seen, where, "option")
            require_text(
                option.get("label"), f"{where} option '{option_key}'", "label"
            )
    elif "options" in item:
        fail(where, "only multi items take 'options'")


def _validate_template(template: Any, where: str) -> None:
    if not isinstance(template, dict):
        fail(where, "template must be a JSON object")
    require_key(template.get("key"), where, "template")
    require_positive_int(template.get("version"), where, "version")
    require_text(template.get("title"), where, "title")
    venue_types = template.get("venue_types")
    if not isinstance(venue_types, list):
        fail(where, "'venue_types' must be a list")
    for venue_type in venue_types:
        if venue_type not in VENUE_TYPES:
            fail(where, f"unknown venue type {venue_type!r}")
    if len(set(venue_types)) != len(venue_types):
        fail(where, "venue type listed twice")
    items = template.get("items")
    if not isinstance(items, list) or not items:
        fail(where, "'items' must be a non-empty list")
    is_home_visit = not venue_types
    seen: set[str] = set()
    for item in items:
        _validate_item(item, where, is_home_visit)
        require_new_key(item["key"], seen, where, "item")
    if not is_home_visit:
        missing = [k for k in COMMON_VENUE_ITEMS if k not in seen]
        if missing:
            fail(where, f"venue template lacks common items: {', '.join(missing)}")


@lru_cache(maxsize=8)
def templates_in(directory: Path) -> dict[str, dict]:
    paths = sorted(directory.glob("*.json"))
    if not paths:
        raise ValueError(f"{directory}: no checklist templates found")
    templates: dict[str, dict] = {}
    for path in paths:
        template = read_json(path)
        _validate_template(template, str(path))
        if template["key"] in templates:
            fail(str(path), f"duplicate template key '{template['key']}'")
        templates[template["key"]] = template

    owners: dict[str, list[str]] = {venue_type: [] for venue_type in VENUE_TYPES}
    for template in templates.values():
        for venue_type in template["venue_types"]:
            owners[venue_type].append(template["key"])
    for venue_type, keys in owners.items():
        if len(keys) != 1:
            found = ", ".join(keys) if keys else "none"
            fail(
                str(directory),
                f"venue type '{venue_type}' must map to exactly one template (found: {found})",
            )
    home_visits = [t["key"] for t in templates.values() if not t["venue_types"]]
    if len(home_visits) != 1:
        fail(
            str(directory),
            f"expected exactly one home-visit template, found {len(home_visits)}",
        )
    return templates


@lru_cache(maxsize=8)
def archived_in(directory: Path) -> dict[tuple[str, int], dict]:
    """Return the earlier versions of the templates in `directory`, kept in its `archive/`, by (key,
    version). A phone offline across a release answered on one of them: its visits and inspections
    are checked against the version they name, not refused for items the release renamed. Every
    earlier version of a current template must be kept."""
    current = templates_in(directory)
    archived: dict[tuple[str, int], dict] = {}
    for path in sorted((directory / ARCHIVE).glob("*.json")):
        template = read_json(path)
        _validate_template(template, str(path))
        key, version = template["key"], template["version"]
        if key not in current or version >= current[key]["version"]:
            fail(str(path), f"archived template '{key}' version {version} is not an earlier version "
                            "of a current template")
        if (key, version) in archived:
            fail(str(path), f"template '{key}' version {version} archived twice")
        archived[(key, version)] = template
    for key, template in current.items():
        missing = [v for v in range(1, template["version"]) if (key, v) not in archived]
        if missing:
            fail(str(directory / ARCHIVE), f"template '{key}' lacks its earlier versions "
                                           f"{', '.join(map(str, missing))}")
    return archived


def _templates() -> dict[str, dict]:
    return templates_in(CHECKLISTS_DIR)


def _as_of(template: dict, version: int | None) -> dict:
    """Return `template` as it stood at `version`, the one a record was answered on; as it stands
    now for no version, the current one, or one never released (newer than the current)."""
    if version is None or version == template["version"]:
        return template
    return archived_in(CHECKLISTS_DIR).get((template["key"], version), template)


def load_templates() -> dict[str, dict]:
    """Return all checklist templates by template key (validated, cached; a fresh copy each call)."""
    return copy.deepcopy(_templates())


def template_for_venue_type(venue_type: str, version: int | None = None) -> dict:
    """Return the checklist template that applies to a venue type (at `version`, see `_as_of`)."""
    if venue_type not in VENUE_TYPES:
        raise ValueError(f"unknown venue type {venue_type!r}")
    for template in _templates().values():
        if venue_type in template["venue_types"]:
            return copy.deepcopy(_as_of(template, version))
    raise ValueError(f"no template for venue type {venue_type!r}")


def _home_visit() -> dict:
    for template in _templates().values():
        if not template["venue_types"]:
            return template
    raise ValueError("no home-visit template")


def home_visit_template() -> dict:
    """Return the home-visit checklist template (a fresh copy)."""
    return copy.deepcopy(_home_visit())


def home_visit_items(version: int | None = None) -> dict[str, dict]:
    """Return the home-visit items by key (at `version`, see `_as_of`), shared and cached: read them,
    never change them."""
    return {item["key"]: item for item in _as_of(_home_visit(), version)["items"]}


def item_labels(template_key: str, version: int | None = None) -> dict[str, str]:
    """Return the label of each item of a template by key, as the version a record was answered on
    words it: keys shared by several templates (minor_sign) are worded by each its own way."""
    template = _templates().get(template_key)
    return {item["key"]: item["label"] for item in _as_of(template, version)["items"]} if template else {}


def severity_deadline_days(severity: str) -> int:
    """Return the default rectification deadline in days for an item severity."""
    try:
        return SEVERITY_DEADLINE_DAYS[severity]
    except (KeyError, TypeError):
        raise ValueError(f"unknown severity {severity!r}") from None


def clear_caches() -> None:
    """Forget loaded templates so the next call re-reads the data files."""
    templates_in.cache_clear()
    archived_in.cache_clear()
