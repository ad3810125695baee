"""Venue inspections from the field: each failed checklist item gets a rectification deadline, the
server's trust checks flag the inspection, and the venue's last inspection follows it (create only)."""
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from ..errors import validation_error
from ..extensions import db
from ..models import Inspection, JointOperation, Venue, counted_time, stands, utcnow
from . import changes, checklists, filing, schedule, scope, trust
from .writes import assign, save_record, unused_id


def _results(template: dict, answers: list[dict], inspected: date) -> tuple[list, dict]:
    items = {i["key"]: i for i in template["items"]}
    unknown = [a["item"] for a in answers if a["item"] not in items]
    if unknown:
        raise validation_error({"answers": [f"未知的检查项：{', '.join(unknown)}"]})
    keys = [a["item"] for a in answers]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise validation_error({"answers": [f"检查项重复：{', '.join(repeated)}"]})
    early = [a["item"] for a in answers
             if a["result"] == "fail" and a.get("deadline") and a["deadline"] < inspected]
    if early:
        raise validation_error({"answers": [f"整改期限不能早于检查日期：{', '.join(early)}"]})
    results, notes = [], {}
    for answer in answers:
        severity = items[answer["item"]]["severity"]
        deadline = answer.get("deadline")
        if answer["result"] == "fail" and deadline is None:
            deadline = inspected + timedelta(days=checklists.severity_deadline_days(severity))
        results.append({"item": answer["item"], "result": answer["result"], "severity": severity,
                        "deadline": deadline.isoformat() if answer["result"] == "fail" else None})
        if answer.get("note"):
            notes[answer["item"]] = answer["note"]
    return results, notes


def record_inspection(actor, data: dict, device_id: str | None = None,
                      device_time: datetime | None = None) -> Inspection:
    """Record a checklist inspection; each failed item gets a rectification deadline."""
    scope.require_write(actor, Inspection)
    venue = filing.in_scope(actor, Venue, data.pop("venue_id"), "venue_id", "场所不存在")
    template = checklists.template_for_venue_type(venue.type, data.get("template_version"))
    original = filing.correction_of(actor, Inspection, data, "venue_id", venue.id, "检查记录", "场所",
                                    author="inspector_id")
    # A correction re-checks what its original re-checked unless it says otherwise.
    reinspection_of = data.pop("reinspection_of", None) or (original.reinspection_of if original else None)
    if reinspection_of:
        first = filing.in_scope(actor, Inspection, reinspection_of, "reinspection_of", "被复查的检查记录不存在")
        if first.venue_id != venue.id:
            raise validation_error({"reinspection_of": ["复查须针对同一场所"]})
    if data.get("operation_id") is not None:
        changes.lock_writers()  # a delete of the operation pushed before this commits waits for it
        filing.in_scope(actor, JointOperation, data["operation_id"], "operation_id", "联合行动不存在")
    fix, now = filing.take_fix(data), utcnow()
    record_id = unused_id(Inspection, data)
    made = filing.made_no_later_than(Inspection, original, now)
    counted_at = counted_time(data["inspected_at"], made)
    # Deadlines run from the day the inspection counts as made: a phone dated a year ahead would
    # put every failure it found a year off.
    results, notes = _results(template, data.pop("answers"), schedule.local_date(counted_at))
    inspection = Inspection(id=record_id, venue_id=venue.id, village_id=venue.village_id,
                            inspector_id=actor.id, device_id=device_id, received_at=now,
                            template_key=template["key"], reinspection_of=reinspection_of,
                            amends_id=original.id if original is not None else None,
                            results=results, lat=(fix or {}).get("lat"), lon=(fix or {}).get("lon"),
                            accuracy_m=(fix or {}).get("accuracy_m"))
    inspection.answer_notes = notes or None
    assign(inspection, data)
    inspection.counted_at = counted_at
    if not inspection.template_version:
        inspection.template_version = template["version"]
    flags, inspection.distance_m = trust.location_flags(fix, {"lat": venue.lat, "lon": venue.lon})
    flags += trust.time_flags(inspection.inspected_at, now, device_time, made)
    flags += trust.travel_flags(actor.id, inspection.inspected_at, fix, inspection.id,
                                replaces=inspection.amends_id)
    inspection.flags = sorted(set(flags))
    save_record(actor, "inspection", inspection, "create", sorted(data), device_id)
    if original is not None:  # a corrected time may move the venue's last inspection either way
        last = last_inspected_at(venue.id)
    else:
        last = max(filter(None, (venue.last_inspected_at, inspection.counted_at)))
    changed = assign(venue, {"last_inspected_at": last})
    if changed:
        save_record(actor, "venue", venue, "update", changed, device_id)
    return inspection


def last_inspected_at(venue_id: str):
    """Return when the venue's latest standing inspection counts as made (None: never inspected)."""
    return db.session.scalar(select(func.max(Inspection.counted_at)).where(
        Inspection.venue_id == venue_id, *stands(Inspection)))
