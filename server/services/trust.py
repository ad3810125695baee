"""The server's own checks of a visit or inspection: where, when, and how fast the worker moved."""
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Inspection, Visit
from .geo import distance_m


def location_flags(fix: dict | None, target: dict | None) -> tuple[list[str], float | None]:
    """Return (flags, distance in metres) of a GPS fix against the place it claims to be."""
    if not fix or fix.get("lat") is None:
        return ["no_location"], None
    if not target or target.get("lat") is None:
        return [], None
    distance = distance_m((fix["lat"], fix["lon"]), (target["lat"], target["lon"]))
    allowed = max(current_app.config["TRUST_MIN_DISTANCE_M"], 2 * (fix.get("accuracy_m") or 0))
    return (["location_mismatch"] if distance > allowed else []), round(distance, 1)


def time_flags(at: datetime, received_at: datetime, device_time: datetime | None) -> list[str]:
    """Flag a skewed device clock, a time in the future, and an entry made long after the fact."""
    config, flags = current_app.config, []
    if device_time is not None and abs(device_time - received_at) > config["TRUST_CLOCK_SKEW"]:
        flags.append("clock_skew")
    if at - received_at > config["TRUST_CLOCK_SKEW"]:
        flags.append("future_time")
    if received_at - at > config["TRUST_LATE_ENTRY"]:
        flags.append("late_entry")
    return flags


def _neighbours(worker_id: str, at: datetime, record_id: str) -> list[tuple[datetime, dict]]:
    points = []
    for model, who, when in ((Visit, Visit.worker_id, Visit.visited_at),
                             (Inspection, Inspection.inspector_id, Inspection.inspected_at)):
        base = select(model).where(who == worker_id, model.id != record_id)
        for query in (base.where(when <= at).order_by(when.desc()).limit(1),
                      base.where(when >= at).order_by(when.asc()).limit(1)):
            record = db.session.scalar(query)
            point = _point_of(record) if record is not None else None
            if point:
                points.append((getattr(record, when.key), point))
    return points


def _point_of(record) -> dict | None:
    if isinstance(record, Visit):
        return record.location if record.location and record.location.get("lat") is not None else None
    return {"lat": record.lat, "lon": record.lon} if record.lat is not None else None


def travel_flags(worker_id: str, at: datetime, fix: dict | None, record_id: str) -> list[str]:
    """Flag two records by one worker that imply moving faster than the configured speed."""
    if not fix or fix.get("lat") is None:
        return []
    limit_kmh = current_app.config["TRUST_MAX_SPEED_KMH"]
    for other_at, point in _neighbours(worker_id, at, record_id):
        km = distance_m((fix["lat"], fix["lon"]), (point["lat"], point["lon"])) / 1000
        hours = abs((at - other_at).total_seconds()) / 3600
        slack_km = current_app.config["TRUST_MIN_DISTANCE_M"] / 1000
        if km > slack_km and (hours == 0 or km / hours > limit_kmh):
            return ["impossible_travel"]
    return []
