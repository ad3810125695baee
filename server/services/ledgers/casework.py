"""The assistance-plan ledger (一对一帮扶台账) and the staff-check ledger (从业人员查询台账)."""
from datetime import date

from sqlalchemy import case, func, select

from ...extensions import db
from ...models import Child, Plan, PlanProgress, StaffCheck, Unit, Venue, stands
from .. import schedule, scope
from ..casework import standing_check_condition
from ..masking import mask_id_number, mask_name, masks_names
from ..users import display_names
from . import base
from .base import Column, Ledger
from .search import name_search

PLAN_COLUMNS = [Column("seq", "序号", 6), Column("child", "儿童姓名", 10), Column("village", "村/社区", 12),
                Column("grid", "网格", 12), Column("risk_level", "风险等级", 9),
                Column("helper", "帮扶责任人", 11), Column("measures", "帮扶措施", 40),
                Column("status", "状态", 9), Column("approved_by", "批准人", 10),
                Column("approved_on", "批准日期", 12), Column("next_review", "下次评估", 12),
                Column("progress", "进展记录", 9), Column("closed_on", "结案日期", 12)]
CHECK_COLUMNS = [Column("seq", "序号", 6), Column("person", "姓名", 10), Column("id_number", "身份证号", 21),
                 Column("employer", "单位/场所", 22), Column("checked_on", "查询日期", 12),
                 Column("result", "查询结果", 10), Column("next_due", "下次查询", 12),
                 Column("status", "状态", 8)]
PLAN_FILTERS = {"village_id", "grid_id", "category", "risk_level", "overdue", "q"}
CHECK_FILTERS = {"village_id", "overdue", "q"}
RESULTS = {"clear": "无犯罪记录", "record_found": "有记录"}


def _page(rows: list, args: dict, paged: bool) -> tuple[list, int]:
    if not paged:
        return rows, 0
    offset = (args["page"] - 1) * args["per_page"]
    return rows[offset:offset + args["per_page"]], offset


def _plans(actor, args: dict, today: date, unmasked: bool) -> list[tuple[Plan, Child]]:
    query = base.place_where(scope.scoped_select(actor, Plan), Plan, args)
    query = base.child_where(query.join(Child, Child.id == Plan.child_id), args)
    if args.get("overdue"):
        query = query.where(Plan.status == "active", Plan.next_review_due < today)
    # Drafts waiting for approval first, then the active plans, the closed ones last.
    waiting = case({"draft": 0, "active": 1}, value=Plan.status, else_=2)
    rows = db.session.execute(query.add_columns(Child).order_by(waiting, Plan.created_at, Plan.id)).all()
    if matches := name_search(actor, args, unmasked):
        rows = [r for r in rows if matches(r[1].name)]
    return [(r[0], r[1]) for r in rows]


def _plan_row(seq: int, plan: Plan, child: Child, names: dict, mask: bool) -> dict:
    measures = "；".join((m.get("detail") or "").split("：")[0] for m in plan.measures or [])
    return {"seq": seq, "id": plan.id, "child_id": child.id,
            "child": mask_name(child.name) if mask else child.name,
            "village": names["villages"].get(plan.village_id, ""), "grid": names["grids"].get(plan.grid_id, ""),
            "risk_level": base.RISK.get(child.risk_level, ""), "helper": names["users"].get(plan.helper_id, ""),
            "measures": measures, "status": base.PLAN_STATUS.get(plan.status, plan.status),
            "approved_by": names["users"].get(plan.approved_by, ""),
            "approved_on": base.day(schedule.local_date(plan.approved_at)),
            "next_review": base.day(plan.next_review_due), "progress": names["progress"].get(plan.id, 0),
            "closed_on": base.day(schedule.local_date(plan.closed_at))}


def build_plans_ledger(actor, args: dict, paged: bool = True, unmasked: bool = False) -> Ledger:
    """Build the assistance-plan ledger in the actor's scope."""
    base.require_readable(actor, Plan)
    base.check_filters(args, PLAN_FILTERS)
    rows = _plans(actor, args, schedule.local_today(), unmasked)
    page, offset = _page(rows, args, paged)
    ids = [p.id for p, _ in page]
    progress = dict(db.session.execute(select(PlanProgress.plan_id, func.count()).where(
        PlanProgress.plan_id.in_(ids), *stands(PlanProgress)).group_by(PlanProgress.plan_id)
    ).all()) if ids else {}
    names = {"villages": base.village_names(), "grids": base.grid_names(), "progress": progress,
             "users": display_names([p.helper_id for p, _ in page] + [p.approved_by for p, _ in page])}
    mask = (masks_names(actor) or not paged) and not unmasked
    built = [_plan_row(offset + i + 1, p, c, names, mask) for i, (p, c) in enumerate(page)]
    return Ledger("plans", base.title_of(actor, "plans", args), PLAN_COLUMNS, built, len(rows),
                  args.get("page", 1), args.get("per_page", len(built)))


def _employers(checks: list[StaffCheck]) -> dict[str, str]:
    ids = {c.employer_id for c in checks}
    names = dict(db.session.execute(select(Venue.id, Venue.name).where(Venue.id.in_(ids))).all()) if ids else {}
    if ids:
        names.update(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all())
    return names


def _check_status(check: StaffCheck, standing: bool, today: date) -> str:
    if not standing:
        return "已复查"
    return "逾期未查" if check.next_due and check.next_due < today else "正常"


def build_staff_checks_ledger(actor, args: dict, paged: bool = True, unmasked: bool = False) -> Ledger:
    """Build the staff-check ledger in the actor's scope; ID numbers always masked."""
    base.require_readable(actor, StaffCheck)
    base.check_filters(args, CHECK_FILTERS)
    today = schedule.local_today()
    query = base.place_where(scope.scoped_select(actor, StaffCheck), StaffCheck, args)
    if args.get("overdue"):
        query = query.where(StaffCheck.next_due < today, standing_check_condition())
    checks = list(db.session.scalars(query.order_by(StaffCheck.next_due, StaffCheck.id)))
    if matches := name_search(actor, args, unmasked):
        checks = [c for c in checks if matches(c.person_name)]
    page, offset = _page(checks, args, paged)
    employers, mask = _employers(page), not unmasked
    standing = set(db.session.scalars(select(StaffCheck.id).where(
        StaffCheck.id.in_([c.id for c in page]), standing_check_condition()))) if page else set()
    rows = [{"seq": offset + i + 1, "id": c.id,
             "person": mask_name(c.person_name) if mask else c.person_name,
             "id_number": mask_id_number(c.id_number) if mask else c.id_number,
             "employer": employers.get(c.employer_id, ""), "checked_on": base.day(c.checked_on),
             "result": RESULTS.get(c.result, c.result), "next_due": base.day(c.next_due),
             "status": _check_status(c, c.id in standing, today)}
            for i, c in enumerate(page)]
    return Ledger("staff_checks", base.title_of(actor, "staff_checks", args), CHECK_COLUMNS, rows, len(checks),
                  args.get("page", 1), args.get("per_page", len(rows)))
