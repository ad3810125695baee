"""The caller's to-do: overdue visits, visits and locations to review, signs of abuse not reported,
follow-ups a visit called for, plans missing, without a helper or due, deadlines, reports."""
from datetime import timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..models import Child, Plan, Visit
from . import clues, deadlines, periods, plans, review, risk, schedule, scope, unreported, weekly_reports
from .masking import name_for

LIMIT = 50
CHILD_ROLES = ("grid_worker", "village_head", "town_admin")
HEAD_ROLES = ("village_head", "town_admin")


def _count_and_first(query, order) -> tuple[int, list]:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return total, list(db.session.scalars(query.order_by(*order).limit(LIMIT)))


def _children(ids) -> dict[str, Child]:
    ids = {i for i in ids if i}
    return {c.id: c for c in db.session.scalars(select(Child).where(Child.id.in_(ids)))} if ids else {}


def _name(actor, child: Child | None) -> str:
    if child is None:
        return ""
    return name_for(actor, child.name)


def _overdue_visits(actor, today) -> tuple[int, list[dict]]:
    """The children whose visit is overdue, the longest overdue first: the day each fell due is its
    next_visit_due or, never visited, its first_visit_due, which SQL cannot order by on both engines,
    so the (few) columns of every overdue child are read and sorted here."""
    columns = (Child.id, Child.status, Child.next_visit_due, Child.last_visit_at, Child.registered_at,
               Child.risk_level)
    overdue = scope.scoped_select(actor, Child).where(schedule.overdue_condition(today))
    rows = db.session.execute(overdue.with_only_columns(*columns)).all()
    first = sorted(rows, key=lambda r: (schedule.visit_due(r), r.registered_at, r.id))[:LIMIT]
    children = _children(r.id for r in first)
    return len(rows), [_overdue_visit(actor, children[r.id]) for r in first]


def _overdue_visit(actor, child: Child) -> dict:
    return {"kind": "overdue_visit", "title": f"{_name(actor, child)} 走访逾期",
            "due": schedule.visit_due(child), "overdue": True, "entity": "child", "entity_id": child.id,
            "village_id": child.village_id,
            "detail": {"risk_level": child.risk_level, "grid_id": child.grid_id}}


def _follow_ups(actor, today) -> tuple[int, list[dict]]:
    """The children a visit found wanting a follow-up (prevention education not received): it stands
    until a visit finds it done. Those visited longest ago first."""
    query = scope.scoped_select(actor, Child).where(Child.status == "active", risk.follow_up_condition())
    total, children = _count_and_first(query, [func.coalesce(Child.last_visit_at, Child.registered_at),
                                               Child.id])
    catalogue = {f["key"]: f for f in risk.follow_up_catalogue()}
    return total, [_follow_up(actor, c, [catalogue[k] for k in c.follow_ups if k in catalogue])
                   for c in children]


def _follow_up(actor, child: Child, wanted: list[dict]) -> dict:
    return {"kind": "follow_up_due", "title": f"{_name(actor, child)} {'；'.join(f['detail'] for f in wanted)}",
            "due": None, "overdue": False, "entity": "child", "entity_id": child.id,
            "village_id": child.village_id,
            "detail": {"grid_id": child.grid_id,
                       "follow_ups": [{key: f[key] for key in ("key", "detail", "unit")} for f in wanted]}}


def _questioned_visits(actor, today) -> tuple[int, list[dict]]:
    amended = select(Visit.amends_id).where(Visit.amends_id.is_not(None))
    query = scope.scoped_select(actor, Visit).where(
        Visit.worker_id == actor.id, Visit.review_status == "questioned", Visit.id.not_in(amended))
    total, visits = _count_and_first(query, [Visit.reviewed_at, Visit.id])
    children = _children(v.child_id for v in visits)
    return total, [{"kind": "visit_questioned",
                    "title": f"{_name(actor, children.get(v.child_id))} 走访记录存疑",
                    "due": None, "overdue": False, "entity": "visit", "entity_id": v.id,
                    "village_id": v.village_id, "detail": {"note": v.review_note, "child_id": v.child_id}}
                   for v in visits]


def _clues_missing(actor, today) -> tuple[int, list[dict]]:
    """My visits that found signs of abuse and no clue yet: the report was due at once."""
    visits = unreported.unreported_visits(actor)
    children = _children(v.child_id for v in visits[:LIMIT])
    return len(visits), [{"kind": "clue_missing",
                          "title": f"{_name(actor, children.get(v.child_id))} 走访发现侵害迹象，尚未报告线索",
                          "due": None, "overdue": True, "entity": "visit", "entity_id": v.id,
                          "village_id": v.village_id,
                          "detail": {"child_id": v.child_id, "visited_at": v.visited_at.isoformat(),
                                     "signs": v.signs}}
                         for v in visits[:LIMIT]]


def _plan_items(actor, kind: str, title: str, query, today) -> tuple[int, list[dict]]:
    total, found = _count_and_first(query, [Plan.next_review_due, Plan.created_at, Plan.id])
    children = _children(p.child_id for p in found)
    return total, [{"kind": kind, "title": f"{_name(actor, children.get(p.child_id))} {title}",
                    "due": p.next_review_due, "overdue": bool(p.next_review_due and p.next_review_due < today),
                    "entity": "plan", "entity_id": p.id, "village_id": p.village_id,
                    "detail": {"child_id": p.child_id, "status": p.status}} for p in found]


def _plans_due(actor, today) -> tuple[int, list[dict]]:
    query = scope.scoped_select(actor, Plan).where(
        Plan.status == "active", Plan.next_review_due <= today + timedelta(days=deadlines.SOON_DAYS))
    if actor.role == "grid_worker":
        query = query.where(Plan.helper_id == actor.id)
    return _plan_items(actor, "plan_review_due", "帮扶计划待评估", query, today)


def _plans_to_approve(actor, today) -> tuple[int, list[dict]]:
    query = scope.scoped_select(actor, Plan).where(Plan.status == "draft")
    return _plan_items(actor, "plan_approval", "帮扶计划待审批", query, today)


def _plans_without_helper(actor, today) -> tuple[int, list[dict]]:
    """Active plans with no helper (plans._helper_released: a child's move, or an edit of the
    helper's account, took them from a helper who no longer fits); a draft without one waits in
    plan_approval, whose approval asks for one."""
    query = scope.scoped_select(actor, Plan).where(Plan.status == "active", Plan.helper_id.is_(None))
    return _plan_items(actor, "plan_helper_missing", "帮扶计划待指定帮扶责任人", query, today)


def _plans_missing(actor, today) -> tuple[int, list[dict]]:
    query = scope.scoped_select(actor, Child).where(plans.missing_plan_condition())
    total, children = _count_and_first(query, [Child.risk_changed_at, Child.created_at, Child.id])
    return total, [{"kind": "plan_missing", "title": f"{_name(actor, c)} 高风险超过7天未落实帮扶计划",
                    "due": None, "overdue": True, "entity": "child", "entity_id": c.id,
                    "village_id": c.village_id, "detail": {"risk_level": c.risk_level}} for c in children]


def _waiting(actor, query, kind: str, title: str, entity: str) -> tuple[int, list[dict]]:
    """One to-do that counts what waits in a queue (flagged visits, proposed locations, new clues)."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return total, ([{"kind": kind, "title": title.format(total), "due": None, "overdue": False,
                     "entity": entity, "entity_id": None, "village_id": actor.village_id,
                     "detail": {"count": total}}] if total else [])


def _review_pending(actor, today) -> tuple[int, list[dict]]:
    return _waiting(actor, review.awaiting_review(actor), "review_pending", "{} 条走访记录待审核", "review")


def _clues_waiting(actor, today) -> tuple[int, list[dict]]:
    return _waiting(actor, clues.waiting(actor), "clue_new", "{} 条线索待受理", "clue")


def _weekly_due(actor, today) -> tuple[int, list[dict]]:
    week = periods.last_week(today)
    if weekly_reports.find_weekly(week, actor.unit_id) is not None:
        return 0, []
    monday, due = periods.week_window(week)
    sunday = due - timedelta(days=1)
    # People read the week by its days; its code (2026-W48) stays the task's entity_id.
    title = f"上周（{monday.month}月{monday.day}日至{sunday.month}月{sunday.day}日）周报待提交"
    return 1, [{"kind": "weekly_report_due", "title": title, "due": due, "overdue": today > due,
                "entity": "weekly_report", "entity_id": week, "village_id": None, "detail": {"period": week}}]


def _location_pending(actor, today) -> tuple[int, list[dict]]:
    return _waiting(actor, review.location_pending(actor), "location_pending", "{} 户住址位置待确认",
                    "review_location")


SOURCES = {
    "grid_worker": (("clue_missing", _clues_missing), ("overdue_visit", _overdue_visits),
                    ("visit_questioned", _questioned_visits), ("plan_review_due", _plans_due),
                    ("follow_up_due", _follow_ups)),
    # A head's own visits are reviewed, and may be questioned, by the town office (review.py).
    "village_head": (("clue_missing", _clues_missing), ("overdue_visit", _overdue_visits),
                     ("visit_questioned", _questioned_visits), ("review_pending", _review_pending),
                     ("location_pending", _location_pending),
                     ("plan_missing", _plans_missing), ("plan_approval", _plans_to_approve),
                     ("plan_helper_missing", _plans_without_helper), ("plan_review_due", _plans_due),
                     ("follow_up_due", _follow_ups)),
    "town_admin": (("clue_missing", _clues_missing), ("overdue_visit", _overdue_visits),
                   ("review_pending", _review_pending),
                   ("plan_missing", _plans_missing), ("plan_helper_missing", _plans_without_helper),
                   ("plan_review_due", _plans_due), ("follow_up_due", _follow_ups),
                   ("clue_new", _clues_waiting)),
    "police": (("clue_new", _clues_waiting), ("weekly_report_due", _weekly_due)),
}


def list_tasks(actor) -> dict:
    """Return the caller's to-do: at most 50 items of each kind, and the count of each kind."""
    today = schedule.local_today()
    tasks, counts = [], {}
    for kind, source in SOURCES.get(actor.role, ()):
        counts[kind], items = source(actor, today)
        tasks += items
    for kinds, items in ((("rectification",), deadlines.rectification_tasks(actor, today)),
                         (("report_due",), deadlines.report_tasks(actor, today)),
                         ((), deadlines.venue_tasks(actor, today)),
                         ((), deadlines.staff_check_tasks(actor, today)),
                         ((), deadlines.minor_tasks(actor, today))):
        counts.update(dict.fromkeys(kinds, 0))
        for item in items:
            counts[item["kind"]] = counts.get(item["kind"], 0) + 1
            if counts[item["kind"]] <= LIMIT:
                tasks.append(item)
    return {"tasks": tasks, "counts": counts, "today": today}
