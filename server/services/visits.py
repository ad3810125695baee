"""Home visits from the field: checked against the child's checklist, flagged by the server's trust
checks, and taken into the child's schedule and assessment (create only; a correction replaces)."""
from datetime import UTC, datetime

from sqlalchemy import select

from ..config import settings
from ..errors import validation_error
from ..extensions import db
from ..models import Child, Household, Visit, counted_time, utcnow
from . import batching, checklists, filing, risk, scope, trust
from .review import REVIEWABLE
from .writes import assign, save_record, unused_id


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
    scope.require_write(actor, Visit)
    child, left, merged = filing.held_child(actor, data.pop("child_id"), held)
    _check_home_visit_answers(data.get("answers") or {}, data.get("template_version"))
    original = filing.correction_of(actor, Visit, data, "child_id", child.id, "走访记录", "儿童",
                                    held=held, author="worker_id")
    amends = original.id if original is not None else None
    household = _visited_home(child, original)
    fix, now = filing.take_fix(data), utcnow()
    visit = Visit(id=unused_id(Visit, data), child_id=child.id, household_id=household.id,
                  grid_id=child.grid_id, village_id=child.village_id, worker_id=actor.id,
                  device_id=device_id, received_at=now, amends_id=amends)
    assign(visit, data)
    made = filing.made_no_later_than(Visit, original, now)
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
    filing.left_with(visit, left)
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
    # No phone's fix is exact: an accuracy of 0 is one made up (a location-faking app), not a good fix.
    if not accuracy or accuracy > settings()["TRUST_PROPOSE_ACCURACY_M"] \
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
