"""One-on-one assistance plans: the automatic draft, approval, reviews and closing."""
from datetime import date, timedelta

from sqlalchemy import and_, exists, func, select

from ..errors import ApiError, validation_error
from ..extensions import db
from ..models import Child, Plan, PlanProgress, User, new_id, stands, utcnow
from . import audit, batching, filing, risk_rules, schedule, scope
from .writes import assign, save_record, unused_id

APPROVER_ROLES = ("village_head",)
HELPER_ROLES = ("grid_worker", "village_head")
OPEN_STATUSES = ("draft", "active")


def suggested_measures(reasons: list[str], answers: dict | None = None) -> list[dict]:
    """Return plan measures suggested by the reasons' measure groups and the needs chosen."""
    rules = risk_rules.rules()
    groups = {f["key"]: f["measure_group"] for f in rules["factors"]}
    found = [m for key in reasons if key in groups
             for m in rules["measure_groups"][groups[key]]["measures"]]
    found += [rules["needs_measures"][n] for n in (answers or {}).get("needs") or []
              if n in rules.get("needs_measures", {})]
    measures, seen = [], set()
    for m in found:
        if m["title"] not in seen:
            seen.add(m["title"])
            measures.append({"kind": m["kind"], "detail": f"{m['title']}（{m['unit']}）：{m['detail']}",
                             "due": None})
    return measures


def has_open_plan(child_id: str) -> bool:
    """Say whether the child has a draft or active plan (in a run, counting one proposed in it)."""
    # In a run a plan proposed earlier is not flushed yet: the run remembers it instead.
    run = batching.active()
    key = ("open_plan", child_id)
    if run is not None and key in run.memo:
        return run.memo[key]
    found = _open_plan(child_id) is not None
    if run is not None:
        run.memo[key] = found
    return found


def _open_plan(child_id: str) -> Plan | None:
    return db.session.scalar(select(Plan).where(
        Plan.child_id == child_id, Plan.status.in_(OPEN_STATUSES), Plan.deleted_at.is_(None)).limit(1))


def propose_plan(actor, child: Child, answers: dict | None, device_id: str | None = None) -> Plan | None:
    """Draft a plan for a child whose level needs one and who has no open plan."""
    required = risk_rules.rules()["plan"]["required_levels"]
    if child.risk_level not in required or child.status != "active" or has_open_plan(child.id):
        return None
    plan = Plan(id=new_id(), child_id=child.id, grid_id=child.grid_id, village_id=child.village_id,
                helper_id=actor.id if actor is not None and actor.role == "grid_worker" else None,
                risk_factors=list(child.risk_reasons or []), status="draft", review_every_days=30)
    plan.measures = suggested_measures(child.risk_reasons or [], answers)
    save_record(actor, "plan", plan, "create", ["measures", "risk_factors"], device_id)
    audit.record_event("plan.proposed", actor, "plan", plan.id, device_id,
                       detail={"child_id": child.id, "level": child.risk_level})
    run = batching.active()
    if run is not None:
        run.memo[("open_plan", child.id)] = True
    return plan


def plan_helpers(actor, village_id: str | None = None, grid_id: str | None = None) -> list[User]:
    """Return the active people who may be named a plan's helper: the actor's village (or the
    town for the town admin), narrowed to one village with `village_id`, and with `grid_id` to its
    head and the grid workers of that grid (check_helper)."""
    if not scope.can_read(actor, Plan):
        raise ApiError(404)
    query = select(User).where(User.active.is_(True), User.role.in_(HELPER_ROLES),
                               User.town_id == actor.town_id)
    if actor.role != "town_admin":
        query = query.where(User.village_id == actor.village_id)
    if village_id:
        query = query.where(User.village_id == village_id)
    people = db.session.scalars(query).all()
    if grid_id:
        people = [u for u in people if u.role != "grid_worker" or grid_id in u.grid_ids]
    return sorted(people, key=lambda u: (u.role != "grid_worker", u.display_name or u.username, u.id))


HELPER_RULE = "帮扶责任人应为本村/社区负责人，或负责该儿童所在网格的在岗网格员"


def helper_fits(helper_id: str, village_id: str, grid_id: str) -> bool:
    """Say whether the person is an active head of the child's village or grid worker of its grid: a
    worker of another grid would never see the plan, its reviews or its progress."""
    helper = db.session.get(User, helper_id)
    return not (helper is None or not helper.active or helper.role not in HELPER_ROLES
                or helper.village_id != village_id
                or helper.role == "grid_worker" and grid_id not in helper.grid_ids)


def check_helper(helper_id: str, village_id: str, grid_id: str) -> None:
    """Refuse a helper who does not fit the child's village and grid (helper_fits)."""
    if not helper_fits(helper_id, village_id, grid_id):
        raise validation_error({"helper_id": [HELPER_RULE]})


def _helper_released(plan: Plan, village_id: str, grid_id: str) -> dict:
    """Return the change that clears an open plan's helper who does not fit this place (helper_fits),
    for the village head to name another; else none. A closed plan keeps the helper it had."""
    if plan.status in OPEN_STATUSES and plan.deleted_at is None and plan.helper_id \
            and not helper_fits(plan.helper_id, village_id, grid_id):
        return {"helper_id": None}
    return {}


def moved_plan_changes(plan: Plan, place: dict) -> dict:
    """Return what a child's move to `place` changes on its plan: the place, and the helper of an
    open plan who may not help there (_helper_released)."""
    moves = plan.grid_id != place["grid_id"] or plan.village_id != place["village_id"]
    return {**place, **(_helper_released(plan, place["village_id"], place["grid_id"]) if moves else {})}


def release_helper(actor, user: User, device_id: str | None = None) -> None:
    """Clear the account as helper of each open plan it no longer fits after an edit of it (its
    grids, village or active flag), each plan saved as an edit by `actor` (_helper_released)."""
    helped = db.session.scalars(select(Plan).where(
        Plan.helper_id == user.id, Plan.status.in_(OPEN_STATUSES), Plan.deleted_at.is_(None))
        .order_by(Plan.id)).all()
    for plan in helped:
        if changed := assign(plan, _helper_released(plan, plan.village_id, plan.grid_id)):
            save_record(actor, "plan", plan, "update", changed, device_id)


def _plan_for_approver(actor, plan_id: str) -> Plan:
    plan = scope.get_scoped(actor, Plan, plan_id)
    if actor.role not in APPROVER_ROLES:
        raise ApiError(403, "plan_not_allowed", "只有村/社区负责人可以审批或结案帮扶计划")
    return plan


def approve_plan(actor, plan_id: str, device_id: str | None = None, seen_version: str | None = None) -> Plan:
    """Approve a draft: it becomes active, with its first review date. With `seen_version` (the
    version the head read), a draft changed since is refused: an approval stands for what was read."""
    plan = _plan_for_approver(actor, plan_id)
    if plan.status != "draft":
        raise ApiError(409, "plan_not_draft", "只有草稿状态的帮扶计划可以审批")
    if seen_version is not None and seen_version.strip('"') != str(plan.version):
        raise ApiError(409, "version_conflict", "帮扶计划已被他人修改，请刷新后再审批")
    if not plan.helper_id:
        raise validation_error({"helper_id": ["请先指定一名帮扶责任人"]})
    check_helper(plan.helper_id, plan.village_id, plan.grid_id)
    if not plan.measures:
        raise validation_error({"measures": ["请至少列出一项帮扶措施"]})
    now = utcnow()
    changed = assign(plan, {"status": "active", "approved_by": actor.id, "approved_at": now,
                            "next_review_due": _next_review(plan, now)})
    save_record(actor, "plan", plan, "update", changed, device_id)
    return plan


def _next_review(plan: Plan, now) -> date:
    return schedule.local_date(now) + timedelta(days=plan.review_every_days)


def rescheduled_review(plan: Plan) -> date | None:
    """Return an active plan's next review counted anew from its last review, else its approval
    (after its review interval changed)."""
    if plan.status != "active":
        return plan.next_review_due
    last = db.session.scalar(select(func.max(PlanProgress.at)).where(
        PlanProgress.plan_id == plan.id, PlanProgress.kind == "review", *stands(PlanProgress)))
    return _next_review(plan, last or plan.approved_at)


def review_plan(actor, plan_id: str, note: str, device_id: str | None = None) -> Plan:
    """Record the periodic review of an active plan and set the next review date."""
    plan = _plan_for_approver(actor, plan_id)
    if plan.status != "active":
        raise ApiError(409, "plan_not_active", "只有执行中的帮扶计划需要评估")
    now = utcnow()
    entry = PlanProgress(id=new_id(), plan_id=plan.id, grid_id=plan.grid_id, village_id=plan.village_id,
                         author_id=actor.id, at=now, kind="review")
    entry.note = note
    save_record(actor, "plan_progress", entry, "create", ["note"], device_id)
    changed = assign(plan, {"next_review_due": _next_review(plan, now)})
    save_record(actor, "plan", plan, "update", changed, device_id)
    return plan


def close_plan(actor, plan_id: str, outcome: str, device_id: str | None = None) -> Plan:
    """Close a plan with its outcome."""
    plan = _plan_for_approver(actor, plan_id)
    if plan.status == "closed":
        raise ApiError(409, "plan_closed", "帮扶计划已结案")
    plan.outcome = outcome
    changed = assign(plan, {"status": "closed", "closed_at": utcnow(), "next_review_due": None})
    save_record(actor, "plan", plan, "update", changed + ["outcome"], device_id)
    return plan


def missing_plan_condition(now=None):
    """Return the filter of children whose level needs a plan, past the deadline, with none active."""
    rules = risk_rules.rules()["plan"]
    cutoff = (now or utcnow()) - timedelta(days=rules["deadline_days"])
    active = exists().where(Plan.child_id == Child.id, Plan.status == "active", Plan.deleted_at.is_(None))
    return and_(Child.risk_level.in_(rules["required_levels"]), Child.status == "active",
                func.coalesce(Child.risk_changed_at, Child.created_at) < cutoff, ~active)


def add_progress(actor, data: dict, device_id: str | None = None, device_time=None,
                 held: scope.Held | None = None) -> PlanProgress:
    """Add a progress entry to a plan in scope."""
    scope.require_write(actor, PlanProgress)
    plan, left = filing.held_record(actor, Plan, data.pop("plan_id"), "plan_id", "帮扶计划不存在", held)
    if plan.status == "closed":
        raise ApiError(409, "plan_closed", "帮扶计划已结案，不能再添加进展")
    original = filing.correction_of(actor, PlanProgress, data, "plan_id", plan.id, "进展记录", "帮扶计划",
                                    held=held)
    # A plan's review is the head's, whoever reviewed it then; other progress is its author's word.
    if original is not None and original.kind == "review":
        if actor.role not in APPROVER_ROLES:
            raise ApiError(403, "not_allowed", "计划评估由村/社区负责人更正")
    elif original is not None:
        filing.require_author(actor, original, "author_id", "进展记录")
    record_id = unused_id(PlanProgress, data)
    progress = PlanProgress(id=record_id, plan_id=plan.id, grid_id=plan.grid_id,
                            village_id=plan.village_id, author_id=actor.id,
                            amends_id=original.id if original is not None else None,
                            kind=original.kind if original is not None else "progress")
    assign(progress, data)
    save_record(actor, "plan_progress", progress, "create", sorted(data), device_id)
    filing.left_with(progress, left)
    return progress
