"""Facts from the field: visits, inspections, plan progress and clues (create only)."""
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import exists, func, select

from ..errors import ApiError, validation_error
from ..extensions import db
from ..models import (
    Child,
    Clue,
    Household,
    Inspection,
    JointOperation,
    Plan,
    PlanProgress,
    Venue,
    Visit,
    counted_time,
    stands,
    utcnow,
)
from . import batching, changes, checklists, plans, risk, schedule, scope, trust
from .geo import to_wgs84
from .registry import unused_id
from .review import REVIEWABLE
from .writes import assign, save_record


def _in_scope(actor, model, record_id: str, field: str, message: str):
    return _held(actor, model, record_id, field, message, None)[0]


def _held(actor, model, record_id: str, field: str, message: str,
          held: scope.Held | None, removed: bool = False) -> tuple[object, tuple | None]:
    """Return the record a fact is about, in scope, or one the filing phone held (`held`: its pull
    position) that has moved out of the actor's reach since, with the place the phone knew it in;
    refuse anything else as out of scope. A phone offline for a week must not lose a visit because
    the household moved to another grid meanwhile. Nor because the head merged the child it named
    into the child it duplicates (`duplicates.merge_children`): the fact is filed on that one.
    `removed`: a record in scope deleted since (not merged) is returned as it is, deleted."""
    found = _reachable(actor, model, record_id, held, removed)
    if found is None:
        raise validation_error({field: [message]})
    record, place = found
    if not scope.merged(record):
        return found
    survivor = scope.survivor(model, record)
    if survivor is None:
        raise validation_error({field: [message]})
    return survivor, place or (record.village_id, record.grid_id)


def _reachable(actor, model, record_id: str, held: scope.Held | None,
               removed: bool = False) -> tuple[object, tuple | None] | None:
    """Return the record named, live or merged into another (or deleted, with `removed`), if in scope
    or held (`scope.held_at`), with the place the phone knew it in when it is out of reach now; or None."""
    record = scope.find_scoped(actor, model, record_id, include_deleted=True)
    live = record is not None and getattr(record, "deleted_at", None) is None
    if live or record is not None and removed and not scope.merged(record):
        return record, None
    # A run knows only what it prefetched (the child's latest visit among them): refused there,
    # the op is applied again on its own, where the record's move or merge is looked up.
    if batching.active() is not None:
        return None
    if record is not None and scope.merged(record):
        return record, None
    return scope.held_at(actor, model, record_id, held) if held is not None else None


def _held_child(actor, child_id: str, held: scope.Held | None,
                removed: bool = False) -> tuple[Child, tuple | None, dict]:
    """Return the child a fact names (`_held`), the place the phone knew it in, and what the fact's
    audit event adds when the child named was merged into the one returned."""
    child, left = _held(actor, Child, child_id, "child_id", "儿童不存在或不在您的管辖范围内", held, removed)
    merged = {"merged": {"duplicate": str(child_id), "into": child.id}} if child.id != str(child_id) else {}
    return child, left, merged


def _left_with(record, place: tuple | None) -> None:
    # Filed under the record's new place, the fact leaves the place the phone knew, as its record did.
    if place is not None and place != (record.village_id, record.grid_id):
        changes.log_left(record, place)


def _require_writer(actor, model) -> None:
    if not scope.can_write(actor, model):
        raise ApiError(403, "not_allowed", "您的角色不能提交此类记录")


def _amended(actor, model, data: dict, same: str, value, label: str, target: str, find=None,
             held: scope.Held | None = None, author: str | None = None):
    """Take a correction's `amends` out of `data` and return the record it corrects, or None.

    The record must be one the actor may see (`find` for a kind the filer cannot read back; `held`:
    or one the filing phone held, moved out of reach since, as its child did), of the same child,
    venue or plan, recorded by the actor (`author` names the field saying who recorded it: a fact
    is its author's word, and a correction takes the original's place), and still standing: a
    replaced record is corrected through the one that replaced it, so one thing that happened
    never has two standing records.
    """
    amends = data.pop("amends", None)
    if not amends:
        return None
    # The lock before the read: two corrections of one record, or a correction and the police
    # receiving the clue it corrects, at the same moment, are then checked one after the other.
    changes.lock_writers()
    missing = f"被更正的{label}不存在"
    if find is None:
        original, _ = _held(actor, model, amends, "amends", missing, held)
    elif (original := find(amends)) is None:
        raise validation_error({"amends": [missing]})
    if getattr(original, same) != value or not (data.get("amend_reason") or "").strip():
        raise validation_error({"amend_reason": [f"更正须针对同一{target}并写明理由"]})
    if author is not None:
        _require_author(actor, original, author, label)
    if db.session.scalar(select(exists().where(model.amends_id == original.id))):
        raise validation_error({"amends": [f"该{label}已被更正，请更正最新的一条"]})
    return original


def _made_by(model, original, now: datetime) -> datetime:
    """Return the latest a fact can have been made: when it arrived, or for a correction, when the
    first record of what it corrects arrived (what happened was recorded then; a correction from a
    phone whose clock still runs ahead must not move it later)."""
    first, seen = original, set()
    while first is not None and first.id not in seen:
        seen.add(first.id)
        if first.amends_id is None:
            return min(now, first.received_at)
        first = db.session.get(model, first.amends_id)
    return now


def _require_author(actor, original, author: str, label: str) -> None:
    if getattr(original, author) != actor.id:
        raise validation_error({"amends": [f"只能更正本人记录的{label}"]})


def _fix(data: dict) -> dict | None:
    lat, lon = data.pop("lat", None), data.pop("lon", None)
    system = data.pop("coord_system", "wgs84")
    accuracy = data.pop("accuracy_m", None)
    if lat is None:
        return None
    lat, lon = to_wgs84(lat, lon, system)
    return {"lat": round(lat, 7), "lon": round(lon, 7), "accuracy_m": accuracy}


def _check_home_visit_answers(answers: dict, version: int | None) -> None:
    items = checklists.home_visit_items(version)
    errors = {}
    for key, value in answers.items():
        item = items.get(key)
        if item is None:
            errors[key] = ["未知的走访项目"]
        elif item["kind"] == "bool" and not isinstance(value, bool) and value is not None:
            errors[key] = ["应为是或否"]
        elif item["kind"] == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
            errors[key] = ["应为数字"]
        elif item["kind"] == "multi" and (not isinstance(value, list) or not all(
                isinstance(v, str) for v in value) or not set(value) <= {o["key"] for o in item["options"]}):
            errors[key] = ["选项无效"]
    if errors:
        raise validation_error({"answers": errors})


def record_visit(actor, data: dict, device_id: str | None = None,
                 device_time: datetime | None = None, held: scope.Held | None = None) -> Visit:
    """Record a home visit with the server's trust flags; update the child's schedule."""
    _require_writer(actor, Visit)
    child, left, merged = _held_child(actor, data.pop("child_id"), held)
    _check_home_visit_answers(data.get("answers") or {}, data.get("template_version"))
    original = _amended(actor, Visit, data, "child_id", child.id, "走访记录", "儿童", held=held,
                        author="worker_id")
    amends = original.id if original is not None else None
    household = _visited_home(child, original)
    fix, now = _fix(data), utcnow()
    visit = Visit(id=unused_id(Visit, data), child_id=child.id, household_id=household.id,
                  grid_id=child.grid_id, village_id=child.village_id, worker_id=actor.id,
                  device_id=device_id, received_at=now, amends_id=amends)
    assign(visit, data)
    made = _made_by(Visit, original, now)
    visit.counted_at = counted_time(visit.visited_at, made)
    visit.location = fix
    flags, visit.distance_m = trust.location_flags(fix, household.location)
    flags += trust.time_flags(visit.visited_at, now, device_time, made)
    track = trust.run_track(actor.id)
    flags += trust.travel_flags(actor.id, visit.visited_at, fix, visit.id, track, replaces=amends)
    visit.flags = sorted(set(flags))
    # A review not over (flagged, or questioned back) is not settled by its worker's correction:
    # the correction waits for the head, flagged or not.
    unsettled = original is not None and original.review_status in REVIEWABLE
    visit.review_status = "pending" if visit.flags or unsettled else "none"
    save_record(actor, "visit", visit, "create", sorted(data), device_id, merged)
    _left_with(visit, left)
    if track is not None:
        track.add(Visit, visit.visited_at, visit.id, fix)
    _propose_household_location(actor, household, visit, fix, device_id, replaces=amends)
    _after_visit(actor, child, visit, device_id)
    return visit


def _visited_home(child: Child, original: Visit | None) -> Household:
    """Return the home a visit was made at: the child's, or for a correction the one its original
    was made at (the child may have moved since; the fix was taken there, not at the new home)."""
    household_id = original.household_id if original is not None else child.household_id
    return batching.known(Household, household_id) or db.session.get(Household, household_id)


def prefetch_visits(actor, items: list[dict]) -> None:
    """Load once what a run of visits looks up: children in scope, their homes, used ids, the track."""
    batching.insert_in_bulk(Visit)
    child_ids = {str(item["child_id"]) for item in items}
    children = db.session.scalars(scope.scoped_select(actor, Child).where(Child.id.in_(child_ids))).all()
    batching.remember(children, Child)
    homes = db.session.scalars(select(Household).where(
        Household.id.in_({c.household_id for c in children}))).all()
    batching.remember(homes, Household)
    risk.prefetch_latest_visits({c.id for c in children})
    ids = {str(item["id"]) for item in items if item.get("id")}
    used = set(db.session.scalars(select(Visit.id).where(Visit.id.in_(ids))))
    batching.note_absent(Visit, ids - used)
    trust.prefetch_track(actor.id, [item["visited_at"] for item in items])


def _propose_household_location(actor, household: Household, visit: Visit, fix: dict | None,
                                device_id, replaces: str | None = None) -> None:
    """Propose a household without a location the fix of an accurate visit, for the village head
    to confirm (`review.review_location`); one proposal waits at a time. A correction of the visit
    that proposed it takes its place: its fix if accurate enough, else none. A visit flagged as
    impossible travel proposes nothing: its fix or its time is in doubt, and a wrong location once
    confirmed would pass visits made there and flag the true ones."""
    # Most households have a location: the only field a visit's push opens here. A correction's
    # home may have been removed since its child moved out.
    if household.location or household.deleted_at is not None:
        return
    proposal = household.proposed_location
    withdrawn = proposal is not None and replaces is not None and proposal.get("visit_id") == replaces
    if proposal is not None and not withdrawn:
        return
    accuracy = (fix or {}).get("accuracy_m")
    if accuracy is None or accuracy > current_app.config["TRUST_PROPOSE_ACCURACY_M"] \
            or "impossible_travel" in visit.flags:
        if withdrawn:
            household.proposed_location = None
            save_record(actor, "household", household, "update", ["proposed_location"], device_id)
        return
    household.proposed_location = {**fix, "visit_id": visit.id, "worker_id": actor.id,
                                   "visited_at": visit.visited_at.astimezone(UTC).isoformat()}
    save_record(actor, "household", household, "update", ["proposed_location"], device_id)


def _after_visit(actor, child: Child, visit: Visit, device_id) -> None:
    risk.refresh_after_visit(actor, child, visit, device_id)


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
    _require_writer(actor, Inspection)
    venue = _in_scope(actor, Venue, data.pop("venue_id"), "venue_id", "场所不存在")
    template = checklists.template_for_venue_type(venue.type, data.get("template_version"))
    original = _amended(actor, Inspection, data, "venue_id", venue.id, "检查记录", "场所",
                        author="inspector_id")
    # A correction re-checks what its original re-checked unless it says otherwise.
    reinspection_of = data.pop("reinspection_of", None) or (original.reinspection_of if original else None)
    if reinspection_of:
        first = _in_scope(actor, Inspection, reinspection_of, "reinspection_of", "被复查的检查记录不存在")
        if first.venue_id != venue.id:
            raise validation_error({"reinspection_of": ["复查须针对同一场所"]})
    if data.get("operation_id") is not None:
        _in_scope(actor, JointOperation, data["operation_id"], "operation_id", "联合行动不存在")
    fix, now = _fix(data), utcnow()
    record_id = unused_id(Inspection, data)
    results, notes = _results(template, data.pop("answers"), schedule.local_date(data["inspected_at"]))
    inspection = Inspection(id=record_id, venue_id=venue.id, village_id=venue.village_id,
                            inspector_id=actor.id, device_id=device_id, received_at=now,
                            template_key=template["key"], reinspection_of=reinspection_of,
                            amends_id=original.id if original is not None else None,
                            results=results, lat=(fix or {}).get("lat"), lon=(fix or {}).get("lon"),
                            accuracy_m=(fix or {}).get("accuracy_m"))
    inspection.answer_notes = notes or None
    assign(inspection, data)
    made = _made_by(Inspection, original, now)
    inspection.counted_at = counted_time(inspection.inspected_at, made)
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


def add_progress(actor, data: dict, device_id: str | None = None, device_time=None,
                 held: scope.Held | None = None) -> PlanProgress:
    """Add a progress entry to a plan in scope."""
    _require_writer(actor, PlanProgress)
    plan, left = _held(actor, Plan, data.pop("plan_id"), "plan_id", "帮扶计划不存在", held)
    if plan.status == "closed":
        raise ApiError(409, "plan_closed", "帮扶计划已结案，不能再添加进展")
    original = _amended(actor, PlanProgress, data, "plan_id", plan.id, "进展记录", "帮扶计划", held=held)
    # A plan's review is the head's, whoever reviewed it then; other progress is its author's word.
    if original is not None and original.kind == "review":
        if actor.role not in plans.APPROVER_ROLES:
            raise ApiError(403, "not_allowed", "计划评估由村/社区负责人更正")
    elif original is not None:
        _require_author(actor, original, "author_id", "进展记录")
    record_id = unused_id(PlanProgress, data)
    progress = PlanProgress(id=record_id, plan_id=plan.id, grid_id=plan.grid_id,
                            village_id=plan.village_id, author_id=actor.id,
                            amends_id=original.id if original is not None else None,
                            kind=original.kind if original is not None else "progress")
    assign(progress, data)
    save_record(actor, "plan_progress", progress, "create", sorted(data), device_id)
    _left_with(progress, left)
    return progress


def file_clue(actor, data: dict, device_id: str | None = None, device_time=None,
              held: scope.Held | None = None) -> Clue:
    """File a mandatory report; it is routed to the police and sealed from everyone else.

    The visit or inspection it came from is linked only if the reporter may see it: otherwise a
    clue could claim an inspector's finding, or probe which record ids exist. One they may not see,
    or that does not exist (a visit the server refused, filed in the same push), is left off, and
    the report still goes to the police: a mandatory report is never refused for its link.
    """
    original = _amended(actor, Clue, data, "reporter_id", actor.id, "线索", "报告人",
                        find=lambda clue_id: _own_clue(actor, clue_id))
    if original is not None and original.status != "new":
        # The station's handling belongs to the clue it received; a correction would start afresh.
        raise validation_error({"amends": ["派出所已受理该线索，请直接联系派出所补充情况"]})
    record_id = unused_id(Clue, data)
    clue = Clue(id=record_id, reporter_id=actor.id, amends_id=original.id if original is not None else None)
    child_id, merged = data.pop("child_id", None), {}
    if child_id:
        child, _, merged = _held_child(actor, child_id, held, removed=True)
        clue.village_id = child.village_id
        if child.deleted_at is None:
            clue.child_id = child.id
        else:
            # Deleted since the phone held it (registered in error): the report goes all the same,
            # to the police of its village, unlinked; the audit event names the child it named.
            merged = {"child_removed": child.id}
    for field, model in (("source_visit_id", Visit), ("source_inspection_id", Inspection)):
        if data.get(field) is not None and not str(data[field]).strip():
            raise validation_error({field: ["来源记录编号不能为空"]})
        if data.get(field) is not None and not scope.sees(actor, model, data[field]):
            data[field] = None
    if original is not None:
        _carry_over(original, clue, data)
    assign(clue, data)
    save_record(actor, "clue", clue, "create", sorted(data), device_id, merged)
    return clue


def _carry_over(original: Clue, clue: Clue, data: dict) -> None:
    """A correction keeps what the reporter did not restate: where the clue came from, where and
    when it happened, and its child and village (a minor found in a venue stays on the list of the
    head who registers minors there)."""
    for name in ("source_visit_id", "source_inspection_id", "place", "happened_at"):
        if data.get(name) is None and getattr(original, name) is not None:
            data[name] = getattr(original, name)
    if clue.child_id is None and clue.village_id is None:
        clue.child_id, clue.village_id = original.child_id, original.village_id


def _own_clue(actor, clue_id: str) -> Clue | None:
    # A reporter cannot read clues back, so the one they correct is found among their own only.
    clue = db.session.get(Clue, str(clue_id))
    return clue if clue is not None and clue.reporter_id == actor.id and clue.deleted_at is None else None
