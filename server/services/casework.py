"""Assistance plans, joint operations and staff record checks: mutable records with versions."""
from datetime import timedelta

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased

from ..errors import ApiError, validation_error
from ..extensions import db
from ..models import Child, Inspection, JointOperation, Plan, StaffCheck, Unit, User, Venue, stands
from . import audit, changes, plans, schedule, scope
from .writes import assign, new_record, save_record

STAFF_RECHECK_DAYS = 365
STAFF_CHECK_IMPLIED = (("checked_on", "next_due"),)  # an edit of the check date sets the next one


def create_plan(actor, data: dict, device_id: str | None = None) -> Plan:
    """Draft an assistance plan for a child in scope."""
    scope.require_write(actor, Plan, "修改此类记录")
    try:
        child = scope.get_scoped(actor, Child, data.pop("child_id"))
    except ApiError:
        raise validation_error({"child_id": ["儿童不存在或不在您的管辖范围内"]}) from None
    if data.get("helper_id") is not None:
        plans.check_helper(data["helper_id"], child.village_id, child.grid_id)
    changes.lock_writers()  # two plans drafted at once for one child would both find none open
    if plans.has_open_plan(child.id):
        raise ApiError(409, "plan_exists", "该儿童已有未结案的帮扶计划，请在该计划上修改")
    plan = new_record(Plan, data)
    plan.child_id, plan.grid_id, plan.village_id = child.id, child.grid_id, child.village_id
    assign(plan, _measures(data))
    save_record(actor, "plan", plan, "create", sorted(data), device_id)
    return plan


def _measures(data: dict) -> dict:
    if "measures" in data:
        data["measures"] = [{**m, "due": m["due"].isoformat() if m.get("due") else None}
                            for m in data["measures"]]
    return data


def update_plan(actor, plan_id: str, data: dict, device_id: str | None = None) -> Plan:
    """Edit a plan in scope: a draft, or an approved plan by its approver; never a closed one."""
    scope.require_write(actor, Plan, "修改此类记录")
    plan = scope.get_scoped(actor, Plan, plan_id)
    check_plan_editable(actor, plan)
    if data.get("helper_id") is not None:
        plans.check_helper(data["helper_id"], plan.village_id, plan.grid_id)
    changed = assign(plan, _measures(data))
    if "review_every_days" in changed:
        changed += assign(plan, {"next_review_due": plans.rescheduled_review(plan)})
    save_record(actor, "plan", plan, "update", sorted(changed), device_id)
    return plan


def check_plan_editable(actor, plan: Plan) -> None:
    """Refuse to edit or delete a closed plan, or an approved one unless an approver does it.

    An approved plan is what its approver approved: a change of its helper or measures by anyone
    else would stand without approval.
    """
    if plan.status == "closed":
        raise ApiError(409, "plan_closed", "帮扶计划已结案，不能修改")
    if plan.status != "draft" and actor.role not in plans.APPROVER_ROLES:
        raise ApiError(403, "plan_not_allowed", "已批准的帮扶计划只能由村/社区负责人修改")


def _check_members(actor, member_ids: list[str] | None) -> None:
    """Refuse team members who are not active people of the actor's town."""
    wanted = set(member_ids or [])
    found = set(db.session.scalars(select(User.id).where(
        User.id.in_(wanted), User.town_id == actor.town_id, User.active.is_(True)))) if wanted else set()
    if wanted - found:
        raise validation_error({"member_ids": ["成员不存在或已停用"]})


def create_operation(actor, data: dict, device_id: str | None = None) -> JointOperation:
    """Record a joint enforcement operation."""
    scope.require_write(actor, JointOperation, "修改此类记录")
    _check_members(actor, data.get("member_ids"))
    _check_day(data)
    operation = new_record(JointOperation, data)
    assign(operation, data)
    save_record(actor, "joint_operation", operation, "create", sorted(data), device_id)
    return operation


def update_operation(actor, operation_id: str, data: dict, device_id: str | None = None):
    """Edit a joint operation."""
    scope.require_write(actor, JointOperation, "修改此类记录")
    operation = scope.get_scoped(actor, JointOperation, operation_id)
    if "member_ids" in data:
        _check_members(actor, data["member_ids"])
    _check_day(data)
    changed = assign(operation, data)
    save_record(actor, "joint_operation", operation, "update", changed, device_id)
    return operation


def check_operation_removable(actor, operation: JointOperation) -> None:
    """Refuse to delete a joint operation an inspection that stands was made in: the inspection would
    name an operation that is gone, and the month would count it as its action no more."""
    if db.session.scalar(select(exists().where(Inspection.operation_id == operation.id, *stands(Inspection)))):
        raise ApiError(409, "has_inspections", "这次联合行动已有检查记录，不能删除；信息有误请修改")


def _check_day(data: dict) -> None:
    # Logged once carried out, on the town's day: one dated tomorrow (the schema's Past allows today
    # anywhere on earth) would count as the month's operation done a day early.
    if data.get("date") is not None and data["date"] > schedule.local_today():
        raise validation_error({"date": ["日期应在 1900 年到今天之间"]})


def _employer_village(actor, data: dict) -> str | None:
    kind, employer_id = data.get("employer_kind"), data.get("employer_id")
    if kind == "venue":
        venue = db.session.get(Venue, employer_id)
        reachable = actor.role in ("inspector", "town_admin") or (
            venue is not None and scope.place_in_scope(actor, venue.village_id))
        if venue is None or venue.deleted_at is not None or not reachable:
            raise validation_error({"employer_id": ["场所不存在或不在您的管辖范围内"]})
        return venue.village_id
    if db.session.get(Unit, employer_id) is None or actor.role == "village_head":
        raise validation_error({"employer_id": ["单位不存在或不在您的管辖范围内"]})
    return None


def create_staff_check(actor, data: dict, device_id: str | None = None) -> StaffCheck:
    """Register a staff record check for a unit or venue."""
    scope.require_write(actor, StaffCheck, "修改此类记录")
    village_id = _employer_village(actor, data)
    check = new_record(StaffCheck, data)
    check.village_id = village_id
    if data.get("next_due") is None:
        data["next_due"] = _recheck_due(data["checked_on"])
    assign(check, data)
    save_record(actor, "staff_check", check, "create", sorted(data), device_id)
    _alert_record_found(actor, check, device_id)
    return check


_LATER = aliased(StaffCheck)


def standing_check_condition():
    """The filter of staff checks no later check of the same person at the same employer replaced:
    a re-check a year on is a new check, and the latest of a person at an employer is what stands."""
    later = _LATER
    return ~exists().where(
        later.id_number_bidx == StaffCheck.id_number_bidx, later.employer_kind == StaffCheck.employer_kind,
        later.employer_id == StaffCheck.employer_id, later.deleted_at.is_(None), later.id != StaffCheck.id,
        or_(later.checked_on > StaffCheck.checked_on,
            and_(later.checked_on == StaffCheck.checked_on, later.created_at > StaffCheck.created_at)))


def _recheck_due(checked_on):
    """Return the day the next check falls due: a year from this one (STAFF_RECHECK_DAYS)."""
    return checked_on + timedelta(days=STAFF_RECHECK_DAYS)


def _alert_record_found(actor, check: StaffCheck, device_id: str | None) -> None:
    if check.result == "record_found":
        audit.record_event("alert.staff_record_found", actor, "staff_check", check.id, device_id,
                           detail={"employer_kind": check.employer_kind})


def update_staff_check(actor, check_id: str, data: dict, device_id: str | None = None):
    """Edit a staff check in scope."""
    scope.require_write(actor, StaffCheck, "修改此类记录")
    check = scope.get_scoped(actor, StaffCheck, check_id)
    if {"employer_kind", "employer_id"} & set(data):
        merged = {"employer_kind": check.employer_kind, "employer_id": check.employer_id, **data}
        data["village_id"] = _employer_village(actor, merged)
    for field, follows in STAFF_CHECK_IMPLIED:  # an edit of the check date sets the next one
        if field in data and follows not in data:
            data[follows] = _recheck_due(data[field])
    changed = assign(check, data)
    save_record(actor, "staff_check", check, "update", changed, device_id)
    if "result" in changed:
        _alert_record_found(actor, check, device_id)
    return check
