"""Children registered twice: find them (same ID number, or same name, birth date and village), merge."""
from collections import defaultdict

from sqlalchemy import func, select

from ..errors import ApiError, validation_error
from ..extensions import db
from ..models import Child, Clue, Grid, Household, Plan, Village, Visit, stands, utcnow
from . import audit, changes, plans, registry, risk, scope
from .masking import mask_id_number, name_for
from .writes import assign, save_record

MERGE_ROLES = ("village_head", "town_admin")


def _require_role(actor) -> None:
    if not scope.can_read(actor, Child):
        raise ApiError(404)
    if actor.role not in MERGE_ROLES:
        raise ApiError(403, "merge_not_allowed", "只有村/社区负责人或镇平安办可以合并重复登记")


def _identity(row) -> tuple:
    name = Child.name.open("child", row.id, row.name_ct)
    birth = Child.birth_date.open("child", row.id, row.birth_date_ct)
    return name, birth


def _groups(rows) -> list[tuple[str, list]]:
    by_number, by_identity = defaultdict(list), defaultdict(list)
    for row in rows:
        if row.id_number_bidx:
            by_number[row.id_number_bidx].append(row)
        name, birth = _identity(row)
        if name and birth:
            by_identity[(name, birth, row.village_id)].append(row)
    groups = [("id_number", g) for g in by_number.values() if len(g) > 1]
    seen = {frozenset(r.id for r in g) for _, g in groups}
    groups += [("name_birth_village", g) for g in by_identity.values()
               if len(g) > 1 and frozenset(r.id for r in g) not in seen
               and len({r.id_number_bidx for r in g if r.id_number_bidx}) <= 1]
    return groups


def find_duplicates(actor) -> dict:
    """Return the groups of children in scope that look like one child registered twice."""
    _require_role(actor)
    query = scope.scoped_select(actor, Child).with_only_columns(
        Child.id, Child.name_ct, Child.birth_date_ct, Child.id_number_bidx, Child.village_id)
    groups = _groups(db.session.execute(query.order_by(Child.created_at, Child.id)).all())
    described = _described(actor, [r.id for _, g in groups for r in g])
    return {"groups": [{"match": match, "children": [described[r.id] for r in group]}
                       for match, group in groups]}


def _described(actor, ids: list[str]) -> dict[str, dict]:
    """Each child of `ids` as the head decides which to keep by: who, where, and its history."""
    if not ids:
        return {}
    children = {c.id: c for c in db.session.scalars(select(Child).where(Child.id.in_(ids)))}
    # A visit and its corrections are one visit, as the report counts them.
    visits = dict(db.session.execute(select(Visit.child_id, func.count()).where(
        Visit.child_id.in_(ids), *stands(Visit)).group_by(Visit.child_id)).all())
    open_plans = set(db.session.scalars(select(Plan.child_id).where(
        Plan.child_id.in_(ids), Plan.status.in_(plans.OPEN_STATUSES), Plan.deleted_at.is_(None))))
    households = {h.id: h for h in db.session.scalars(select(Household).where(
        Household.id.in_({c.household_id for c in children.values()})))}
    grids = dict(db.session.execute(select(Grid.id, Grid.name).where(
        Grid.id.in_({c.grid_id for c in children.values()}))).all())
    villages = dict(db.session.execute(select(Village.id, Village.name).where(
        Village.id.in_({c.village_id for c in children.values()}))).all())
    return {c.id: {
        "id": c.id, "name": name_for(actor, c.name), "sex": c.sex, "birth_date": c.birth_date,
        "id_number": mask_id_number(c.id_number), "status": c.status,
        "village_id": c.village_id, "village_name": villages.get(c.village_id),
        "grid_id": c.grid_id, "grid_name": grids.get(c.grid_id), "household_id": c.household_id,
        "address": households[c.household_id].address if c.household_id in households else None,
        "created_at": c.created_at, "last_visit_at": c.last_visit_at, "visits": visits.get(c.id, 0),
        "open_plan": c.id in open_plans} for c in children.values()}


def _match(duplicate: Child, survivor: Child) -> str | None:
    if duplicate.id_number_bidx and duplicate.id_number_bidx == survivor.id_number_bidx:
        return "id_number"
    if duplicate.id_number_bidx and survivor.id_number_bidx:
        return None
    same = (duplicate.name, duplicate.birth_date, duplicate.village_id) == (
        survivor.name, survivor.birth_date, survivor.village_id)
    return "name_birth_village" if same and duplicate.birth_date else None


def _repoint(actor, model, entity: str, duplicate: Child, survivor: Child, device_id) -> int:
    records = list(db.session.scalars(select(model).where(model.child_id == duplicate.id)))
    for record in records:
        repointed = {"child_id": survivor.id}
        if model is Clue:
            repointed["village_id"] = survivor.village_id
        save_record(actor, entity, record, "update", assign(record, repointed), device_id)
    return len(records)


def _check_one_open_plan(duplicate: Child, survivor: Child) -> None:
    """Refuse to merge two children who each have an open plan: the child would have two, as
    creating a plan refuses (two approvals, two helpers, counted twice); which stands is the head's
    to decide, by closing the other."""
    changes.lock_writers()  # a plan drafted for either child while this checks would slip past it
    if plans.has_open_plan(duplicate.id) and plans.has_open_plan(survivor.id):
        raise ApiError(409, "plan_exists", "两名儿童都有未结案的帮扶计划，请先将其中一份结案后再合并")


def _absorb(survivor: Child, duplicate: Child) -> list[str]:
    categories = set(survivor.categories or []) | set(duplicate.categories or [])
    changed = assign(survivor, {"categories": sorted(categories)})
    for name in ("id_number", "birth_date", "school"):
        if getattr(survivor, name) in (None, "") and getattr(duplicate, name) not in (None, ""):
            setattr(survivor, name, getattr(duplicate, name))
            changed.append(name)
    if "birth_date" in changed:  # the year goes with the date: the age-out job selects children by it
        changed += assign(survivor, {"birth_year": survivor.birth_date.year})
    latest = max(filter(None, (survivor.last_visit_at, duplicate.last_visit_at)), default=None)
    # One child registered twice was registered the first time: its first visit is due from then.
    first = min(survivor.registered_at, duplicate.registered_at)
    changed += assign(survivor, {"last_visit_at": latest, "registered_at": first})
    return changed


def merge_children(actor, duplicate_id: str, into_id: str, device_id: str | None = None) -> Child:
    """Merge a duplicate into the child it duplicates: histories re-pointed, the duplicate retired."""
    _require_role(actor)
    duplicate = scope.get_scoped(actor, Child, duplicate_id)
    survivor = scope.get_scoped(actor, Child, into_id)
    if duplicate.id == survivor.id:
        raise validation_error({"into": ["不能与自身合并"]})
    match = _match(duplicate, survivor)
    if match is None:
        raise validation_error({"into": ["两名儿童的身份证号或姓名、出生日期、村不一致，不能合并"]})
    _check_one_open_plan(duplicate, survivor)
    counts = {"visits": _repoint(actor, Visit, "visit", duplicate, survivor, device_id),
              "plans": _repoint(actor, Plan, "plan", duplicate, survivor, device_id),
              "clues": _repoint(actor, Clue, "clue", duplicate, survivor, device_id)}
    # The duplicate may have lived in another grid or village: its history goes where the survivor is.
    registry.move_history(actor, survivor, device_id)
    changed = _absorb(survivor, duplicate)
    retired = assign(duplicate, {"merged_into_id": survivor.id, "deleted_at": utcnow()})
    save_record(actor, "child", duplicate, "delete", retired, device_id)
    audit.record_event("child.merge", actor, "child", survivor.id, device_id,
                       detail={"duplicate": duplicate.id, "into": survivor.id, "match": match, **counts})
    # The duplicate's visits are the survivor's now: what they found wanting stands for it too.
    risk.refresh_child(actor, survivor, device_id, changed + risk.recompute_follow_ups(survivor))
    db.session.commit()
    return survivor
