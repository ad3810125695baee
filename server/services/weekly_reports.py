"""The police station's weekly report (周报) of clues: filed, received and closed in an ISO week and
what still waits at its end; submitted once a week by the station, frozen with the audit head."""
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import ApiError, not_found, validation_error
from ..extensions import db
from ..models import CLUE_OUTCOMES, Clue, ReportSnapshot, Unit, new_id, standing_ids, utcnow
from . import audit, periods, schedule
from .reports import is_late, submission_status
from .users import display_names

READ_ROLES = ("police", "town_admin")
SUBMIT_ROLES = ("police",)


def _bounds(week: str) -> tuple[datetime, datetime]:
    try:
        return periods.week_bounds(week)
    except ValueError:
        raise validation_error({"week": ["周次无效"]}) from None


def figures(start: datetime, end: datetime, as_of: datetime) -> dict:
    """Count the town's clues for a week: a correction is not another clue, and counts as corrected."""
    clues = db.session.scalars(select(Clue).where(Clue.deleted_at.is_(None), Clue.created_at < end)).all()
    by_id, stand = {c.id: c for c in clues}, standing_ids(clues)
    standing = [c for c in clues if stand[c.id] == c.id]

    stop = min(end, as_of)

    def within(moment) -> bool:
        return moment is not None and start <= moment < stop

    def before(moment) -> bool:
        return moment is not None and moment < stop

    filed = [c for c in clues if c.amends_id is None and within(c.created_at)]
    closed = [c for c in standing if within(c.closed_at)]
    return {
        "filed": len(filed),
        "minors_found": sum(by_id[stand[c.id]].source_inspection_id is not None for c in filed),
        "received": sum(within(c.received_at) for c in standing),
        "closed": len(closed),
        "outcomes": {outcome: sum(c.outcome == outcome for c in closed) for outcome in CLUE_OUTCOMES},
        "waiting": sum(before(c.created_at) and not before(c.received_at) for c in standing),
        "open": sum(before(c.received_at) and not before(c.closed_at) for c in standing),
    }


def find_weekly(week: str, unit_id: str | None) -> ReportSnapshot | None:
    """Return a station's submitted weekly report (any station's with unit_id None), if any."""
    query = select(ReportSnapshot).where(ReportSnapshot.kind == "weekly", ReportSnapshot.period == week)
    if unit_id is not None:
        query = query.where(ReportSnapshot.unit_id == unit_id)
    return db.session.scalar(query.order_by(ReportSnapshot.submitted_at).limit(1))


def stations(week: str, due, unit_id: str | None = None) -> list[dict]:
    """Return each police station of the town (one station: `unit_id`'s only; who submitted for the
    others is the town office's to know) with whether, when and by whom it submitted the week."""
    query = select(Unit).where(Unit.kind == "police").order_by(Unit.name)
    units = db.session.scalars(query if unit_id is None else query.where(Unit.id == unit_id)).all()
    submitted = {s.unit_id: s for s in db.session.scalars(select(ReportSnapshot).where(
        ReportSnapshot.kind == "weekly", ReportSnapshot.period == week,
        ReportSnapshot.unit_id.in_([u.id for u in units])))}
    names = display_names(s.submitted_by for s in submitted.values())
    today = schedule.local_today()
    return [{"unit_id": unit.id, "name": unit.name,
             **submission_status(submitted.get(unit.id), names, due, today)} for unit in units]


def _answer(week: str, snapshot: ReportSnapshot | None, unit_id: str | None) -> dict:
    start, end = _bounds(week)
    header = {"period": week, "window_start": start.date(), "window_end": (end - timedelta(days=1)).date(),
              "due": end.date()}
    header["stations"] = stations(week, header["due"], unit_id)
    if snapshot is None:
        as_of = min(utcnow(), end)
        return {**header, "unit_id": unit_id, "submitted": False, "id": None, "as_of": as_of,
                "figures": figures(start, end, as_of), "audit_head": None, "submitted_by": None,
                "submitted_by_name": None, "submitted_at": None,
                "late": is_late(header["due"], None, schedule.local_today())}
    return {**header, "unit_id": snapshot.unit_id, "submitted": True, "id": snapshot.id,
            "as_of": snapshot.submitted_at, "figures": snapshot.figures, "audit_head": snapshot.audit_head,
            "submitted_by": snapshot.submitted_by,
            "submitted_by_name": display_names([snapshot.submitted_by]).get(snapshot.submitted_by),
            "submitted_at": snapshot.submitted_at, "late": is_late(header["due"], snapshot.submitted_at, None)}


def weekly_report(actor, week: str | None) -> dict:
    """Return a week's report (default: last week's): the station's own, or for the town office the
    first station's submission, else the figures as they stand; with every station's status."""
    if actor.role not in READ_ROLES:
        raise not_found()
    week = week or periods.last_week(schedule.local_today())
    unit_id = actor.unit_id if actor.role == "police" else None
    return _answer(week, find_weekly(week, unit_id), unit_id)


def submit_weekly(actor, week: str, device_id: str | None = None) -> dict:
    """Freeze a week's figures with the audit chain's head; the police station, once a week."""
    if actor.role not in READ_ROLES:
        raise not_found()
    if actor.role not in SUBMIT_ROLES or not actor.unit_id:
        raise ApiError(403, "report_not_allowed", "只有派出所可以提交周报")
    start, end = _bounds(week)
    if end.date() > schedule.local_today():
        # A week frozen before it ends would leave its last days' clues out of every week.
        raise validation_error({"week": ["该周尚未结束，周一起可提交"]})
    head = audit.locked_head()
    if find_weekly(week, actor.unit_id) is not None:
        raise _already_submitted(week)
    now = utcnow()
    snapshot = ReportSnapshot(id=new_id(), kind="weekly", period=week, unit_id=actor.unit_id,
                              figures=figures(start, end, min(now, end)), audit_head=head,
                              submitted_by=actor.id, submitted_at=now, window_start=start.date(),
                              window_end=(end - timedelta(days=1)).date(), due_on=end.date())
    try:
        db.session.add(snapshot)
        audit.record_report_submission(actor, snapshot, device_id, {
            "kind": "weekly", "period": week, "unit_id": actor.unit_id,
            "late": is_late(snapshot.due_on, now, None)})
        db.session.commit()
    except IntegrityError:  # a submission that raced this one won (the unique index)
        db.session.rollback()
        raise _already_submitted(week) from None
    return _answer(week, snapshot, actor.unit_id)


def _already_submitted(week: str) -> ApiError:
    return ApiError(409, "report_submitted", f"{week} 周报已提交，不能重复提交")
