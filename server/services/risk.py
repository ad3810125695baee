"""Risk assessment from the rules in server/data/risk_rules.json, and the village head's override."""
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import String, select
from sqlalchemy.orm import aliased

from ..errors import ApiError
from ..extensions import db
from ..models import VISIT_FLAGS, Child, Visit, stands, utcnow
from . import audit, batching, plans, risk_rules, schedule, scope, views
from .writes import assign, save_record

LEVEL_ORDER = {"low": 0, "medium": 1, "high": 2}
OVERRIDE_ROLES = ("village_head",)
COMPARE = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gte": lambda a, b: a >= b,
           "gt": lambda a, b: a > b, "lte": lambda a, b: a <= b, "lt": lambda a, b: a < b}


def _compile(condition: dict) -> Callable[[dict, list], bool]:
    """Turn a rule condition into a test of (answers, categories)."""
    if "all" in condition:
        parts = [_compile(c) for c in condition["all"]]
        return lambda answers, categories: all(p(answers, categories) for p in parts)
    if "any" in condition:
        parts = [_compile(c) for c in condition["any"]]
        return lambda answers, categories: any(p(answers, categories) for p in parts)
    if "category" in condition:
        category = condition["category"]
        return lambda answers, categories: category in categories
    key, op = condition["answer"], condition["op"]
    if op == "any":
        return lambda answers, categories: isinstance(answers.get(key), list) and len(answers[key]) > 0
    expected, compare = condition["value"], COMPARE[op]
    expects_bool = isinstance(expected, bool)

    def holds(answers: dict, categories: list) -> bool:
        value = answers.get(key)
        return value is not None and isinstance(value, bool) == expects_bool and compare(value, expected)
    return holds


def _reads(condition: dict) -> frozenset:
    """The visit answers a rule condition reads."""
    parts = condition.get("all") or condition.get("any")
    if parts:
        return frozenset().union(*(_reads(c) for c in parts))
    return frozenset([condition["answer"]]) if "answer" in condition else frozenset()


@dataclass(frozen=True)
class _Rules:
    """The risk rules made ready to apply: factor tests, level rules as sets, the trust reason."""

    source: dict
    factors: tuple[tuple[str, Callable[[dict, list], bool]], ...]
    levels: tuple[tuple[str, frozenset, int], ...]
    default_level: str
    trust_flags: frozenset
    trust_reason: str
    clue_factors: frozenset
    # (key, test, the answers its condition reads)
    follow_ups: tuple[tuple[str, Callable[[dict, list], bool], frozenset], ...]


_prepared: list[_Rules] = []


def _rules() -> _Rules:
    # The rules are read once and shared (risk_rules.rules); prepare them once per reading.
    source = risk_rules.rules()
    if _prepared and _prepared[0].source is source:
        return _prepared[0]
    levels = tuple((rule["level"], frozenset(rule["any_of"]), 1) if "any_of" in rule
                   else (rule["level"], frozenset(rule["of"]), rule["min_count"])
                   for rule in source["level_rules"])
    trust = _trust(source)
    prepared = _Rules(source, tuple((f["key"], _compile(f["when"])) for f in source["factors"]),
                      levels, source["default_level"], frozenset(trust["flags"]), trust["reason"]["key"],
                      frozenset((source.get("clue_prompt") or {}).get("factors", ())),
                      tuple((f["key"], _compile(f["when"]), _reads(f["when"]))
                            for f in source.get("follow_ups") or []))
    _prepared[:] = [prepared]
    return prepared


def _trust(rules: dict) -> dict:
    trust = rules.get("trust") or {"flags": [], "reason": {"key": "unverified_visit"}}
    unknown = set(trust["flags"]) - set(VISIT_FLAGS)
    if unknown:
        raise ValueError(f"risk rules trust: unknown flags {sorted(unknown)}")
    return trust


def assess_child(child: Child, latest_answers: dict | None, flags: list[str] | None) -> tuple[str, list[str]]:
    """Return (level, reason keys) of a child from its categories, latest answers and trust flags."""
    rules = _rules()
    answers, categories = latest_answers or {}, child.categories or []
    reasons = [key for key, holds in rules.factors if holds(answers, categories)]
    matched = set(reasons)
    level = next((lvl for lvl, of, least in rules.levels if len(of & matched) >= least),
                 rules.default_level)
    previous = child.risk_assessed or child.risk_level
    if flags and not rules.trust_flags.isdisjoint(flags):
        reasons.append(rules.trust_reason)
        if previous and LEVEL_ORDER[previous] > LEVEL_ORDER[level]:
            level = previous
    return level, reasons


def abuse_signs(answers: dict | None, categories: list | None = None) -> list[str]:
    """Return the keys of the signs of abuse (the rules' clue_prompt factors) that visit answers show."""
    rules = _rules()
    return [key for key, holds in rules.factors
            if key in rules.clue_factors and holds(answers or {}, categories or [])]


def _answered(reads: frozenset, answers: dict) -> bool:
    return not reads or any(answers.get(k) is not None for k in reads)


def _visit_order(visit: Visit) -> list[float]:
    return [visit.counted_at.timestamp(), visit.received_at.timestamp()]


def basis_after(basis: dict | None, visit: Visit, categories: list | None) -> dict:
    """Take a standing visit into a child's follow-up basis: for each follow-up, the latest standing
    visit that answered what its condition reads decides it ({key: {due, order, visit_id}}). A visit
    that leaves it unanswered (the items are optional; a phone without the checklist records notes
    only) decides nothing, and an earlier visit arriving late does not overrule a later one."""
    basis, answers, order, taken = {} if basis is None else basis, visit.answers or {}, None, None
    for key, holds, reads in _rules().follow_ups:
        if not _answered(reads, answers):
            continue
        order = order or _visit_order(visit)
        current = basis.get(key)
        if current is None or order >= current["order"]:
            taken = taken or dict(basis)
            taken[key] = {"due": holds(answers, categories or []), "order": order, "visit_id": visit.id}
    return basis if taken is None else taken  # the same object when the visit decided nothing


def follow_ups_from(basis: dict | None) -> list[str]:
    """The follow-up keys a basis holds due, in the rules' order."""
    return [key for key, *_ in _rules().follow_ups if (basis or {}).get(key, {}).get("due")]


def take_visit_follow_ups(child: Child, visit: Visit) -> list[str]:
    """Take a new visit into the child's follow-ups; return ["follow_ups"] if they changed. A
    correction may replace the visit that decided one: the child's standing visits are read again."""
    if visit.amends_id is not None or child.follow_up_basis is None:
        if batching.active() is not None:  # its visits are not all written yet: the op goes alone
            raise RuntimeError("a child's follow-ups are read again outside a run")
        return recompute_follow_ups(child)
    kept = child.follow_up_basis
    basis = basis_after(kept, visit, child.categories)
    return [] if basis is kept else keep_basis(child, basis)  # decided nothing: nothing changes


def standing_bases(children: list[Child]) -> dict[str, dict]:
    """The follow-up basis of each child's standing visits, taken oldest first, by child id."""
    categories = {c.id: c.categories for c in children}
    bases: dict[str, dict] = dict.fromkeys(categories, {})
    for visit in db.session.scalars(select(Visit).where(Visit.child_id.in_(categories), *stands(Visit))
                                    .order_by(Visit.counted_at, Visit.received_at)):
        bases[visit.child_id] = basis_after(bases[visit.child_id], visit, categories[visit.child_id])
    return bases


def recompute_follow_ups(child: Child) -> list[str]:
    """Work the child's follow-ups out from all its standing visits (after a correction, a merge, a
    change of categories); return ["follow_ups"] if they changed."""
    return keep_basis(child, standing_bases([child])[child.id])


def keep_basis(child: Child, basis: dict) -> list[str]:
    """Keep `basis` as the child's and set its follow-ups from it; return ["follow_ups"] if they changed."""
    # The basis is bookkeeping derived from the visits, saved with the child; the edit people see,
    # audit and pull is of follow_ups.
    if basis is not child.follow_up_basis:
        child.follow_up_basis = basis
    return assign(child, {"follow_ups": follow_ups_from(basis)})


def rules_version() -> int:
    """The version of the risk rules in force (server/data/risk_rules.json)."""
    return _rules().source["version"]


def follow_up_catalogue() -> list[dict]:
    """Return each follow-up with what it asks, the unit that does it and its condition, for the
    phone to show and to work out offline as the server does."""
    return [{"key": f["key"], "detail": f["detail"], "unit": f["unit"], "when": f["when"]}
            for f in risk_rules.rules().get("follow_ups") or []]


def follow_up_condition():
    """The filter of children whose visits call for a follow-up (a list holding any key)."""
    return Child.follow_ups.cast(String).like('%"%')


def clue_prompt() -> dict:
    """Return what prompts a clue at once, for the phone to ask offline as the server does: the
    message, and each prompting factor with its label and condition."""
    rules = risk_rules.rules()
    keys = rules["clue_prompt"]["factors"]
    return {"message": rules["clue_prompt"]["message"],
            "factors": [{"key": f["key"], "label": f["label"], "when": f["when"]}
                        for f in rules["factors"] if f["key"] in keys]}


def reason_labels(keys: list[str]) -> list[str]:
    """Return the Chinese labels of risk reason keys, in order."""
    labels = {r["key"]: r["label"] for r in reason_catalogue()}
    return [labels.get(key, key) for key in keys]


def reason_catalogue() -> list[dict]:
    """Return every risk reason key with its Chinese label, in the rules' order."""
    rules = risk_rules.rules()
    reason = _trust(rules)["reason"]
    return [{"key": f["key"], "label": f["label"]} for f in rules["factors"]] + [
        {"key": reason["key"], "label": reason.get("label", reason["key"])}]


def _latest_order(visit) -> tuple:
    return visit.counted_at.desc(), visit.received_at.desc()


def latest_visit(child_id: str) -> Visit | None:
    """Return the child's latest visit that no amendment replaced."""
    run = batching.active()
    if run is not None and ("latest_visit", child_id) in run.memo:
        return run.memo[("latest_visit", child_id)]
    return db.session.scalar(select(Visit).where(Visit.child_id == child_id, *stands(Visit))
                             .order_by(*_latest_order(Visit)).limit(1))


_CANDIDATE = aliased(Visit)  # built once: a new alias adapts every column again


def prefetch_latest_visits(child_ids: set[str]) -> None:
    """Load each child's latest visit once for a run; the run's visits then keep it current."""
    run = batching.active()
    if run is None or not child_ids:
        return
    found = _latest_at_last_visit(child_ids)
    ids, rest = list(found.values()), child_ids - found.keys()
    if rest:
        candidate = _CANDIDATE
        latest_id = select(candidate.id).where(candidate.child_id == Child.id, *stands(candidate)) \
            .order_by(*_latest_order(candidate)).limit(1).correlate(Child).scalar_subquery()
        ids += [i for i in db.session.scalars(select(latest_id).where(Child.id.in_(rest))) if i]
    latest = views.read(Visit, ids) if ids else []
    run.memo.update({("latest_visit", child_id): None for child_id in child_ids})
    run.memo.update({("latest_visit", visit.child_id): visit for visit in latest})


def _latest_at_last_visit(child_ids: set[str]) -> dict[str, str]:
    """Return the latest standing visit's id of each child that has one at or after its last visit
    time, by child id. Whenever any standing visit is there, the latest of them is the child's latest:
    every other counts earlier. That range is a short index lookup on any engine, where the search
    through all of a child's visits is planned by statistics (a new PostgreSQL database has none:
    25 ms a batch late in the bench's push, this range 6.8 ms). A child whose last visit time is not
    kept (none yet, or out of step) is left to the search."""
    found: dict[str, str] = {}
    for visit_id, child_id in db.session.execute(
            select(Visit.id, Visit.child_id).join(Child, Child.id == Visit.child_id)
            .where(Child.id.in_(child_ids), Visit.counted_at >= Child.last_visit_at, *stands(Visit))
            .order_by(*_latest_order(Visit))):
        found.setdefault(child_id, visit_id)
    return found


def _take_into_latest(visit: Visit) -> None:
    run = batching.active()
    key = ("latest_visit", visit.child_id)
    if run is None or key not in run.memo:
        return
    if visit.amends_id is not None:
        raise RuntimeError("an amendment is applied on its own, not in a run")
    current = run.memo[key]
    if current is None or (visit.counted_at, visit.received_at) >= (current.counted_at, current.received_at):
        run.memo[key] = visit


_LOOK_UP = object()


def reassess(child: Child, visit: Visit | None) -> list[str]:
    """Set the child's assessment, level and next visit from its categories and latest standing
    visit (None: not visited yet); return the names of the fields that changed."""
    answers = (visit.answers or {}) if visit else {}
    flags = visit.flags if visit is not None and visit.review_status != "accepted" else []
    level, reasons = assess_child(child, answers, flags)
    changed = assign(child, {"risk_assessed": level, "risk_reasons": reasons})
    effective = child.risk_override or level
    if effective != child.risk_level:
        changed += assign(child, {"risk_level": effective, "risk_changed_at": utcnow()})
    return changed + assign(child, {"next_visit_due": schedule.next_visit_due(child)})


def refresh_child(actor, child: Child, device_id: str | None = None, changed=(), latest=_LOOK_UP) -> None:
    """Re-run the assessment, set level and schedule, save, and propose a plan when one is needed.

    `latest` is the child's latest standing visit when the caller has already read it; `changed`
    names fields the caller changed and saves with the assessment, as one update.
    """
    visit = latest_visit(child.id) if latest is _LOOK_UP else latest
    if not changed and _refreshed_alike(child, visit):
        return
    changed = list(changed) + reassess(child, visit)
    if changed:
        save_record(actor, "child", child, "update", sorted(set(changed)), device_id)
    plans.propose_plan(actor, child, (visit.answers or {}) if visit else {}, device_id)
    _note_refreshed(child, visit)


def _refreshed_alike(child: Child, visit: Visit | None) -> bool:
    """Say whether a run refreshed this child already from the same latest visit, and nothing has
    changed the child since: the refresh would find nothing to change and no plan to propose."""
    run = batching.active()
    seen = None if run is None else run.memo.get(("refreshed", child.id))
    return seen is not None and seen[0] is visit and seen[1] == child.version


def _note_refreshed(child: Child, visit: Visit | None) -> None:
    run = batching.active()
    if run is not None:
        run.memo[("refreshed", child.id)] = (visit, child.version)


def refresh_after_visit(actor, child: Child, visit: Visit, device_id: str | None = None) -> None:
    """Take a new visit into the child's last visit, follow-ups, assessment and schedule."""
    _take_into_latest(visit)
    retake_last_visit(actor, child, device_id, take_visit_follow_ups(child, visit))


def retake_last_visit(actor, child: Child, device_id: str | None = None, changed=()) -> bool:
    """Set the child's last visit from its latest standing visit, then its assessment and schedule
    from that visit; say whether the last visit moved. An amendment that corrects a wrong visit
    time moves it, and the schedule with it. `changed` names fields the caller changed."""
    latest = latest_visit(child.id)
    moved = assign(child, {"last_visit_at": latest.counted_at if latest is not None else None})
    refresh_child(actor, child, device_id, [*changed, *moved], latest)
    return bool(moved)


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
