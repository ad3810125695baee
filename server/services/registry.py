"""Register and edit households, children and venues within the actor's scope."""
from datetime import datetime

from sqlalchemy import exists, select

from ..config import settings
from ..crypto import get_cipher
from ..errors import ApiError, not_found, validation_error
from ..extensions import db
from ..models import (
    Child,
    Clue,
    Grid,
    GuardianPhone,
    Household,
    Inspection,
    Plan,
    PlanProgress,
    StaffCheck,
    Venue,
    Village,
    Visit,
    utcnow,
)
from ..schemas.validators import birth_against_id_problem
from . import ageing, plans, risk, schedule, scope, trust
from .geo import to_wgs84
from .writes import assign, new_record, save_record


def _place_for_grid(actor, grid_id: str) -> Grid:
    grid = db.session.get(Grid, grid_id)
    if grid is None or not scope.place_in_scope(actor, grid.village_id, grid.id):
        raise validation_error({"grid_id": ["网格不存在或不在您的管辖范围内"]})
    return grid


def _in_wgs84(data: dict) -> dict:
    """Convert a lat/lon taken from a Chinese web map (coord_system gcj02 or bd09) to WGS-84, in place."""
    system = data.pop("coord_system", "wgs84")
    if system != "wgs84" and data.get("lat") is not None:
        lat, lon = to_wgs84(data["lat"], data["lon"], system)
        data.update(lat=round(lat, 7), lon=round(lon, 7))
    return data


def _set_location(data: dict) -> dict:
    _in_wgs84(data)
    if "lat" in data or "lon" in data:
        lat, lon = data.pop("lat", None), data.pop("lon", None)
        data["location"] = None if lat is None else {"lat": lat, "lon": lon}
    return data


def _index_guardian_phones(household: Household) -> None:
    db.session.flush()
    db.session.query(GuardianPhone).filter_by(household_id=household.id).delete()
    indexes = {household_phone_index(g["phone"]) for g in household.guardians or [] if g.get("phone")}
    for bidx in sorted(indexes):
        db.session.add(GuardianPhone(household_id=household.id, phone_bidx=bidx))


def household_phone_index(phone: str, version: int | None = None) -> str:
    """Return the blind index of a guardian phone."""
    return get_cipher().blind_index(GuardianPhone.normalize(phone), "guardian_phone", "phone", version)


def create_household(actor, data: dict, device_id: str | None = None) -> Household:
    """Register a household in a grid the actor covers."""
    grid = _place_for_grid(actor, data["grid_id"])
    household = new_record(Household, data)
    household.village_id = grid.village_id
    assign(household, _set_location(data))
    db.session.add(household)
    _index_guardian_phones(household)
    save_record(actor, "household", household, "create", sorted(data), device_id)
    return household


def update_household(actor, household_id: str, data: dict, device_id: str | None = None) -> Household:
    """Edit a household in scope; moving it to another grid evicts it from the old grid."""
    household = scope.get_scoped(actor, Household, household_id)
    if "grid_id" in data and data["grid_id"] != household.grid_id:
        data["village_id"] = _place_for_grid(actor, data["grid_id"]).village_id
    data = _set_location(data)
    if "location" in data:
        _check_location_change(actor, household.location, data["location"], household.proposed_location)
    changed = assign(household, data)
    if "location" in changed and household.proposed_location is not None:
        # A location set by hand settles the question a visit's proposal was waiting on.
        changed = sorted(changed + assign(household, {"proposed_location": None}))
    if "guardians" in changed:
        _index_guardian_phones(household)
    if "grid_id" in changed:
        for child in db.session.scalars(select(Child).where(Child.household_id == household.id)):
            moved = assign(child, {"grid_id": household.grid_id, "village_id": household.village_id})
            save_record(actor, "child", child, "update", moved, device_id)
            move_history(actor, child, device_id)
    save_record(actor, "household", household, "update", changed, device_id)
    return household


# A household's or venue's location is what every visit or inspection there is measured against
# (trust.location_flags): the worker or inspector whose records it checks may give one a place has
# not got, not move one it has, nor settle a proposal that waits for the head.
LOCATION_MOVERS = ("village_head", "town_admin")
LOCATION_LOCKED = "住户位置已确定或待负责人确认，网格员不能修改；如需更改请联系村/社区负责人"
VENUE_LOCATION_LOCKED = "场所位置已确定，检查人员不能修改；如需更改请联系村/社区负责人或镇平安办"


def _check_location_change(actor, current, new, pending=None, message: str = LOCATION_LOCKED) -> None:
    """Refuse `actor` moving a place's location from `current` to `new` unless theirs to move."""
    if new == current or actor.role in LOCATION_MOVERS:
        return
    if current is not None or pending is not None:
        raise ApiError(403, "location_locked", message)


def move_history(actor, child: Child, device_id: str | None = None) -> None:
    """Take a moved child's visits, plans and their progress along to its new grid and village.

    A plan is mutable: its move is saved as an edit (version, audit event), which also clears the
    helper of an open plan who may not help in the new grid (plans.moved_plan_changes). Facts carry
    no version; they follow their child, whose audited edit records the move.
    """
    place = {"grid_id": child.grid_id, "village_id": child.village_id}
    child_plans = list(db.session.scalars(select(Plan).where(Plan.child_id == child.id)))
    _move_saved(actor, "plan", [(p, plans.moved_plan_changes(p, place)) for p in child_plans], device_id)
    facts = list(db.session.scalars(select(Visit).where(Visit.child_id == child.id)))
    if child_plans:
        facts += db.session.scalars(select(PlanProgress).where(
            PlanProgress.plan_id.in_([p.id for p in child_plans])))
    for record in facts:
        assign(record, place)
    db.session.flush()


def _move_saved(actor, kind: str, moves, device_id: str | None) -> None:
    """Carry mutable records to a new place, each (record, changes) move saved as one edit (version,
    audit event)."""
    for record, changes in moves:
        if moved := assign(record, changes):
            save_record(actor, kind, record, "update", moved, device_id)


def check_household_removable(actor, household: Household) -> None:
    """Refuse to delete a household whose children are registered: they would stay live under it."""
    live = exists().where(Child.household_id == household.id, Child.deleted_at.is_(None))
    if db.session.scalar(select(live)):
        raise ApiError(409, "has_children", "该户还有登记的儿童，请先将儿童迁到其他户或删除")


def check_child_removable(actor, child: Child) -> None:
    """Refuse to delete a child with an open plan: its helper would go on with a plan for no one."""
    if plans.has_open_plan(child.id):
        raise ApiError(409, "has_open_plan", "该儿童有未结案的帮扶计划，请先结案")


def _child_fields(data: dict) -> dict:
    if data.get("birth_date") is not None:
        data["birth_year"] = data["birth_date"].year
    elif "birth_date" in data:
        data["birth_year"] = None
    return data


def _check_birth_against_id(data: dict, child: Child | None = None) -> None:
    """Refuse a birth date and an ID number that disagree (the number holds the birth date): one of
    them was typed wrong, and the birth date decides when the child ages out. Checked when either is
    given; a child stored so before is left as it is until then."""
    if "birth_date" not in data and "id_number" not in data:
        return
    id_number = data["id_number"] if "id_number" in data else (child.id_number if child else None)
    born = data["birth_date"] if "birth_date" in data else (child.birth_date if child else None)
    problem = birth_against_id_problem(id_number, born)
    if problem:
        raise validation_error({"birth_date": [problem]})


def _registered_at(claimed: datetime | None, device_time: datetime | None) -> datetime:
    """Return when a child counts as registered: the time the phone says it was, if that lies within
    the last REGISTRATION_MAX_AGE (a phone out of coverage that long) and the phone's clock was
    right when it sent it; else now. Believing the phone can bring a first visit forward, never
    put it off."""
    now = utcnow()
    if claimed is None or trust.clock_skewed(device_time, now) \
            or not now - settings()["REGISTRATION_MAX_AGE"] <= claimed <= now:
        return now
    return claimed


def create_child(actor, data: dict, device_id: str | None = None,
                 device_time: datetime | None = None) -> Child:
    """Register a child in a household the actor may see."""
    try:
        household = scope.get_scoped(actor, Household, data["household_id"])
    except ApiError:
        raise validation_error({"household_id": ["户不存在或不在您的管辖范围内"]}) from None
    data["registered_at"] = _registered_at(data.get("registered_at"), device_time)
    data = _child_fields(data)
    _check_birth_against_id(data)
    ageing.check_aged_out(data.get("status"), data.get("birth_date"), data.get("birth_year"),
                          schedule.local_today())
    child = new_record(Child, data)
    child.grid_id, child.village_id = household.grid_id, household.village_id
    assign(child, data)
    # The rules score categories: a child registered disabled or disadvantaged is not left at low
    # until a first visit, and one whose level needs a plan gets a draft.
    risk.reassess(child, None)
    child.follow_ups, child.follow_up_basis = [], {}  # nothing to follow up before a first visit
    save_record(actor, "child", child, "create", sorted(data), device_id)
    plans.propose_plan(actor, child, {}, device_id)
    return child


def update_child(actor, child_id: str, data: dict, device_id: str | None = None) -> Child:
    """Edit a child in scope; a new household moves the child with its grid."""
    child = scope.get_scoped(actor, Child, child_id)
    if "household_id" in data and data["household_id"] != child.household_id:
        try:
            household = scope.get_scoped(actor, Household, data["household_id"])
        except ApiError:
            raise validation_error({"household_id": ["户不存在或不在您的管辖范围内"]}) from None
        data.update(grid_id=household.grid_id, village_id=household.village_id)
    data = _child_fields(data)
    _check_birth_against_id(data, child)
    status, born = data.get("status", child.status), data.get("birth_date", child.birth_date)
    year, today = data.get("birth_year", child.birth_year), schedule.local_today()
    if "status" not in data and status == "aged_out" and born != child.birth_date \
            and not ageing.turned_18(born, year, today):
        # A corrected birth date shows the child is not 18 yet: back on the schedule (the app's
        # form has no status to send with it).
        data["status"] = status = "active"
    if (status, born) != (child.status, child.birth_date):
        ageing.check_aged_out(status, born, year, today)
    changed = assign(child, data)
    if "categories" in changed:  # the rules score categories: the edit saves with its new assessment
        risk.refresh_child(actor, child, device_id, changed + risk.recompute_follow_ups(child))
    else:
        save_record(actor, "child", child, "update", changed, device_id)
    if "grid_id" in changed:
        move_history(actor, child, device_id)
    return child


def _check_venue_village(actor, village_id: str) -> None:
    allowed = actor.role in ("town_admin", "inspector") or (
        actor.role == "village_head" and actor.village_id == village_id)
    if not allowed or db.session.get(Village, village_id) is None:
        raise validation_error({"village_id": ["村/社区不存在或不在您的管辖范围内"]})


def create_venue(actor, data: dict, device_id: str | None = None) -> Venue:
    """Register a venue (town admin, village head of its village, or an inspector)."""
    _check_venue_village(actor, data["village_id"])
    venue = new_record(Venue, data)
    assign(venue, _in_wgs84(data))
    save_record(actor, "venue", venue, "create", sorted(data), device_id)
    return venue


def update_venue(actor, venue_id: str, data: dict, device_id: str | None = None) -> Venue:
    """Edit a venue in scope."""
    venue = scope.get_scoped(actor, Venue, venue_id)
    if actor.role == "police":
        raise not_found()
    if "village_id" in data:
        _check_venue_village(actor, data["village_id"])
    if "type" in data:
        from .enforcement import check_venue_retypable  # enforcement builds on registry's records
        check_venue_retypable(actor, venue, data["type"])
    data = _in_wgs84(data)
    if "lat" in data or "lon" in data:
        placed = (venue.lat, venue.lon) if venue.lat is not None else None
        moved = (data.get("lat", venue.lat), data.get("lon", venue.lon))
        _check_location_change(actor, placed, None if moved == (None, None) else moved,
                               message=VENUE_LOCATION_LOCKED)
    changed = assign(venue, data)
    save_record(actor, "venue", venue, "update", changed, device_id)
    if "village_id" in changed:
        _move_venue_history(actor, venue, device_id)
    return venue


def _move_venue_history(actor, venue: Venue, device_id: str | None) -> None:
    """Take a moved venue's inspections, its staff's checks and the clues of minors found there
    but not yet linked to a child along to its new village, whose head now links them. A staff
    check is mutable: its move is saved as an edit; facts follow the venue's audited edit."""
    place = {"village_id": venue.village_id}
    checks = db.session.scalars(select(StaffCheck).where(
        StaffCheck.employer_kind == "venue", StaffCheck.employer_id == venue.id)).all()
    _move_saved(actor, "staff_check", [(c, place) for c in checks], device_id)
    inspections = list(db.session.scalars(select(Inspection).where(Inspection.venue_id == venue.id)))
    facts = list(inspections)
    if inspections:
        facts += db.session.scalars(select(Clue).where(
            Clue.source_inspection_id.in_([i.id for i in inspections]), Clue.child_id.is_(None)))
    for record in facts:
        assign(record, place)
    db.session.flush()
