"""Risk assessment from the rules in server/data/risk_rules.json, and the village head's override."""
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from ..errors import ApiError
from ..extensions import db
from ..models import VISIT_FLAGS, Child, Visit, utcnow
from . import audit, batching, checklists, plans, schedule, scope
from .writes import assign, save_record

LEVEL_ORDER = {"low": 0, "medium": 1, "high": 2}
OVERRIDE_ROLES = ("village_head",)
COMPARE = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gte": lambda a, b: a >= b,
           "gt": lambda a, b: a > b, "lte": lambda a, b: a <= b, "lt": lambda a, b: a < b}


def _holds(condition: dict, answers: dict, categories: list) -> bool:
    if "all" in condition:
        return all(_holds(c, answers, categories) for c in condition["all"])
    if "any" in condition:
        return any(_holds(c, answers, categories) for c in condition["any"])
    if "category" in condition:
        return condition["category"] in categories
    value = answers.get(condition["answer"])
    if value is None:
        return False
    if condition["op"] == "any":
        return isinstance(value, list) and len(value) > 0
    if isinstance(value, bool) != isinstance(condition["value"], bool):
        return False
    return COMPARE[condition["op"]](value, condition["value"])


def _level_of(rules: dict, matched: list[str]) -> str:
    for rule in rules["level_rules"]:
        if "any_of" in rule and set(rule["any_of"]) & set(matched):
            return rule["level"]
        if "of" in rule and len(set(rule["of"]) & set(matched)) >= rule["min_count"]:
            return rule["level"]
    return rules["default_level"]


def _trust(rules: dict) -> dict:
    trust = rules.get("trust") or {"flags": [], "reason": {"key": "unverified_visit"}}
    unknown = set(trust["flags"]) - set(VISIT_FLAGS)
    if unknown:
        raise ValueError(f"risk rules trust: unknown flags {sorted(unknown)}")
    return trust


def assess_child(child: Child, latest_answers: dict | None, flags: list[str] | None) -> tuple[str, list[str]]:
    """Return (level, reason keys) of a child from its categories, latest answers and trust flags."""
    rules = checklists.risk_rules()
    answers, categories = latest_answers or {}, list(child.categories or [])
    reasons = [f["key"] for f in rules["factors"] if _holds(f["when"], answers, categories)]
    level = _level_of(rules, reasons)
    trust = _trust(rules)
    previous = child.risk_assessed or child.risk_level
    if set(flags or []) & set(trust["flags"]):
        reasons.append(trust["reason"]["key"])
        if previous and LEVEL_ORDER[previous] > LEVEL_ORDER[level]:
            level = previous
    return level, reasons


def reason_labels(keys: list[str]) -> list[str]:
    """Return the Chinese labels of risk reason keys, in order."""
    labels = {r["key"]: r["label"] for r in reason_catalogue()}
    return [labels.get(key, key) for key in keys]


def reason_catalogue() -> list[dict]:
    """Return every risk reason key with its Chinese label, in the rules' order."""
    rules = checklists.risk_rules()
    reason = _trust(rules)["reason"]
    return [{"key": f["key"], "label": f["label"]} for f in rules["factors"]] + [
        {"key": reason["key"], "label": reason.get("label", reason["key"])}]


def _latest_order(visit) -> tuple:
    return visit.visited_at.desc(), visit.received_at.desc()


def _standing(visit) -> tuple:
    amendment = aliased(Visit)
    return visit.deleted_at.is_(None), ~exists().where(amendment.amends_id == visit.id)


def latest_visit(child_id: str) -> Visit | None:
    """Return the child's latest visit that no amendment replaced."""
    run = batching.active()
    if run is not None and ("latest_visit", child_id) in run.memo:
        return run.memo[("latest_visit", child_id)]
    return db.session.scalar(select(Visit).where(Visit.child_id == child_id, *_standing(Visit))
                             .order_by(*_latest_order(Visit)).limit(1))


def prefetch_latest_visits(child_ids: set[str]) -> None:
    """Load each child's latest visit once for a run; the run's visits then keep it current."""
    run = batching.active()
    if run is None or not child_ids:
        return
    candidate = aliased(Visit)
    latest_id = select(candidate.id).where(candidate.child_id == Child.id, *_standing(candidate)) \
        .order_by(*_latest_order(candidate)).limit(1).correlate(Child).scalar_subquery()
    ids = [i for i in db.session.scalars(select(latest_id).where(Child.id.in_(child_ids))) if i]
    latest = db.session.scalars(select(Visit).where(Visit.id.in_(ids))).all() if ids else []
    run.memo.update({("latest_visit", child_id): None for child_id in child_ids})
    run.memo.update({("latest_visit", visit.child_id): visit for visit in latest})


def _take_into_latest(visit: Visit) -> None:
    run = batching.active()
    key = ("latest_visit", visit.child_id)
    if run is None or key not in run.memo:
        return
    if visit.amends_id is not None:
        raise RuntimeError("an amendment is applied on its own, not in a run")
    current = run.memo[key]
    if current is None or (visit.visited_at, visit.received_at) >= (current.visited_at, current.received_at):
        run.memo[key] = visit


_LOOK_UP = object()


def refresh_child(actor, child: Child, device_id: str | None = None, changed=(), latest=_LOOK_UP) -> None:
    """Re-run the assessment, set level and schedule, save, and propose a plan when one is needed.

    `latest` is the child's latest standing visit when the caller has already read it.
    """
    visit = latest_visit(child.id) if latest is _LOOK_UP else latest
    answers = (visit.answers or {}) if visit else {}
    flags = visit.flags if visit is not None and visit.review_status != "accepted" else []
    level, reasons = assess_child(child, answers, flags)
    changed = list(changed) + assign(child, {"risk_assessed": level, "risk_reasons": reasons})
    effective = child.risk_override or level
    if effective != child.risk_level:
        changed += assign(child, {"risk_level": effective, "risk_changed_at": utcnow()})
    changed += assign(child, {"next_visit_due": schedule.next_visit_due(child)})
    if changed:
        save_record(actor, "child", child, "update", sorted(set(changed)), device_id)
    plans.propose_plan(actor, child, answers, device_id)


def refresh_after_visit(actor, child: Child, visit: Visit, device_id: str | None = None) -> None:
    """Take a new visit into the child's last visit, assessment and schedule."""
    _take_into_latest(visit)
    # The child's last visit is its latest standing one: an amendment that corrects a wrong
    # (say, future) visit time moves it back, and the schedule with it.
    latest = latest_visit(child.id)
    changed = assign(child, {"last_visit_at": latest.visited_at if latest is not None else None})
    refresh_child(actor, child, device_id, changed, latest)


def child_risk(actor, child_id: str) -> Child:
    """Return a child in scope, for a page that shows its assessment and override."""
    return scope.get_scoped(actor, Child, child_id)


def set_override(actor, child_id: str, level: str | None, reason: str,
                 device_id: str | None = None) -> Child:
    """Set (or, with level None, clear) the village head's risk level for a child, audited."""
    child = scope.get_scoped(actor, Child, child_id)
    if actor.role not in OVERRIDE_ROLES:
        raise ApiError(403, "override_not_allowed", "只有村/社区负责人可以调整风险等级")
    before = {"level": child.risk_level, "override": child.risk_override}
    child.risk_override = level
    child.risk_override_reason = reason if level else None
    audit.record_event("child.risk_override" if level else "child.risk_override_cleared", actor,
                       "child", child.id, device_id, reason=reason,
                       detail={"from": before, "to": level, "assessed": child.risk_assessed})
    refresh_child(actor, child, device_id, ["risk_override", "risk_override_reason"])
    db.session.commit()
    return child
