"""Monthly reports (月报): the figures of a village or the town, submission frozen with the audit head,
who has submitted, and the XLSX export (audited like the ledgers)."""
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import ApiError, not_found, validation_error
from ..extensions import db
from ..models import ReportSnapshot, Town, Village, new_id, utcnow
from . import audit, periods, report_figures, schedule
from .users import display_names

READ_ROLES = ("village_head", "town_admin")
SUBMIT_ROLES = ("village_head",)


def find_snapshot(period: str, village_id: str | None = None,
                  unit_id: str | None = None) -> ReportSnapshot | None:
    """Return the submitted monthly report of a village (or unit) for a period, if any."""
    query = select(ReportSnapshot).where(ReportSnapshot.kind == "monthly", ReportSnapshot.period == period)
    query = query.where(ReportSnapshot.village_id == village_id) if village_id else query.where(
        ReportSnapshot.unit_id == unit_id)
    return db.session.scalar(query.order_by(ReportSnapshot.submitted_at).limit(1))


def _village(actor, village_id: str | None) -> Village | None:
    """Return the village asked for, None for the town; 404 for what the caller may not see."""
    if actor.role not in READ_ROLES:
        raise not_found()
    if actor.role == "village_head":
        village_id = village_id or actor.village_id
        if not actor.village_id or village_id != actor.village_id:
            raise not_found()
    if village_id is None:
        return None
    village = db.session.get(Village, village_id)
    if village is None:
        raise not_found()
    return village


def is_late(due: date, submitted_at: datetime | None, today) -> bool:
    """Say whether a report is late: submitted after its due date, or missing once it has passed."""
    return schedule.local_date(submitted_at) > due if submitted_at else today > due


def _header(period: str) -> dict:
    first, end = periods.window(period)
    return {"period": period, "window_start": first, "window_end": end - timedelta(days=1),
            "due": periods.report_due_date(period)}


def _frozen_header(snapshot: ReportSnapshot) -> dict:
    """Return the window and due date a report was submitted under."""
    return {"period": snapshot.period, "window_start": snapshot.window_start,
            "window_end": snapshot.window_end, "due": snapshot.due_on}


def _village_snapshots(period: str, villages: list[Village]) -> dict[str, ReportSnapshot]:
    """Return the submitted monthly reports of a period by village id, in one query."""
    query = select(ReportSnapshot).where(ReportSnapshot.kind == "monthly", ReportSnapshot.period == period,
                                         ReportSnapshot.village_id.in_([v.id for v in villages]))
    return {s.village_id: s for s in db.session.scalars(query)}


def _snapshot_answer(snapshot: ReportSnapshot, village: Village) -> dict:
    header = _frozen_header(snapshot)
    return {**header, "village_id": village.id, "village_name": village.name,
            "submitted": True, "id": snapshot.id, "as_of": snapshot.submitted_at, "figures": snapshot.figures,
            "audit_head": snapshot.audit_head, "submitted_by": snapshot.submitted_by,
            "submitted_by_name": display_names([snapshot.submitted_by]).get(snapshot.submitted_by),
            "submitted_at": snapshot.submitted_at, "late": is_late(header["due"], snapshot.submitted_at, None)}


def _as_of(period: str) -> datetime:
    return min(periods.window_bounds(period)[1], utcnow())


def _computed(period: str, village: Village, operations: dict) -> dict:
    as_of = _as_of(period)
    figures = {**report_figures.village_figures(village.id, period, as_of), "operations": operations}
    return {**_header(period), "village_id": village.id, "village_name": village.name, "submitted": False,
            "as_of": as_of, "figures": figures}


def village_report(period: str, village: Village) -> dict:
    """Return a village's report: the frozen snapshot once submitted, else computed from the records."""
    snapshot = find_snapshot(period, village_id=village.id)
    if snapshot is not None:
        return _snapshot_answer(snapshot, village)
    return _computed(period, village, report_figures.town_operations(period))


def town_report(period: str) -> dict:
    """Return the town total and each village: the total sums the villages, counts operations once
    and adds the staff checks of units, which belong to no village."""
    operations = report_figures.town_operations(period)
    units = report_figures.unit_staff_checks(period)
    villages = db.session.scalars(select(Village).order_by(Village.name)).all()
    snapshots = _village_snapshots(period, villages)
    rows = [{"village_id": v.id, "village_name": v.name, "submitted": True, "figures": snapshots[v.id].figures}
            if v.id in snapshots else _computed(period, v, operations) for v in villages]
    total = report_figures.sum_figures([{k: v for k, v in r["figures"].items() if k != "operations"}
                                        for r in rows] + [{"staff_checks": units}])
    town = db.session.scalar(select(Town.name).limit(1))
    return {**_header(period), "village_id": None, "village_name": town or "全镇", "submitted": False,
            "as_of": _as_of(period), "figures": {**total, "unit_staff_checks": units, "operations": operations},
            "villages": [{"village_id": r["village_id"], "name": r["village_name"], "submitted": r["submitted"],
                          "figures": r["figures"]} for r in rows]}


def monthly_report(actor, period: str, village_id: str | None = None) -> dict:
    """Return the report the caller asked for: a village's, or with no village the town admin's total."""
    village = _village(actor, village_id)
    return town_report(period) if village is None else village_report(period, village)


def submit_report(actor, period: str, village_id: str, device_id: str | None = None) -> dict:
    """Freeze a village's figures with the audit chain's head; the village head only, once a period."""
    village = _village(actor, village_id)
    if actor.role not in SUBMIT_ROLES or village is None:
        raise ApiError(403, "report_not_allowed", "只有村/社区负责人可以提交本村月报")
    if periods.is_future(period, schedule.local_today()):
        raise validation_error({"period": ["不能提交未来月份的月报"]})
    head = audit.locked_head()
    if find_snapshot(period, village_id=village.id) is not None:
        raise _already_submitted(village, period)
    computed = _computed(period, village, report_figures.town_operations(period))
    snapshot = ReportSnapshot(id=new_id(), kind="monthly", period=period, village_id=village.id,
                              figures=computed["figures"], audit_head=head, submitted_by=actor.id,
                              submitted_at=utcnow(), window_start=computed["window_start"],
                              window_end=computed["window_end"], due_on=computed["due"])
    try:
        db.session.add(snapshot)
        audit.record_report_submission(actor, snapshot, device_id, {
            "period": period, "village_id": village.id,
            "late": is_late(snapshot.due_on, snapshot.submitted_at, None)})
        db.session.commit()
    except IntegrityError:  # a submission that raced this one won (the unique index)
        db.session.rollback()
        raise _already_submitted(village, period) from None
    return _snapshot_answer(snapshot, village)


def _already_submitted(village: Village, period: str) -> ApiError:
    return ApiError(409, "report_submitted", f"{village.name}{period} 月报已提交，不能重复提交")


def report_status(actor, period: str) -> dict:
    """Return who has submitted a period's report and who is late (the town admin sees every village)."""
    if actor.role not in READ_ROLES:
        raise not_found()
    query = select(Village).order_by(Village.name)
    if actor.role == "village_head":
        query = query.where(Village.id == actor.village_id)
    today, due = schedule.local_today(), periods.report_due_date(period)
    villages = db.session.scalars(query).all()
    snapshots = _village_snapshots(period, villages)
    names = display_names(s.submitted_by for s in snapshots.values())
    rows = [{"village_id": village.id, "name": village.name,
             **submission_status(snapshots.get(village.id), names, due, today)} for village in villages]
    return {"period": period, "due": due, "villages": rows}


def submission_status(snapshot: ReportSnapshot | None, names: dict, due: date, today: date) -> dict:
    """Return whether a unit submitted (its snapshot or None), when, by whom, and whether it is late."""
    at = snapshot.submitted_at if snapshot else None
    return {"submitted": snapshot is not None, "submitted_at": at,
            "submitted_by": snapshot.submitted_by if snapshot else None,
            "submitted_by_name": names.get(snapshot.submitted_by) if snapshot else None,
            "late": is_late(snapshot.due_on if snapshot else due, at, today)}
