"""Joint enforcement: open violations, the monthly operation view, minors found in venues."""
from datetime import date, timedelta

from sqlalchemy import extract, select

from ..errors import ApiError
from ..extensions import db
from ..models import Child, Clue, Inspection, JointOperation, Venue, standing_ids, stands
from . import clues, schedule, scope, users
from .writes import assign, new_record, save_record

STALE_VENUE_DAYS = 90
MINOR_LIST_ROLES = ("village_head", "town_admin")  # who read the minors found awaiting registration


def _inspections(actor, venue_ids: set[str] | None = None) -> list[Inspection]:
    query = scope.scoped_select(actor, Inspection)
    if venue_ids is not None:
        query = query.where(Inspection.venue_id.in_(venue_ids))
    return list(db.session.scalars(query.order_by(Inspection.counted_at, Inspection.received_at,
                                                  Inspection.id)))


def check_venue_retypable(actor, venue: Venue, venue_type: str) -> None:
    """Refuse to change the type of a venue with failures still open: a re-inspection is checked
    against the new type's checklist, where the failed items of the old one may not be, so they
    could never be closed."""
    if venue_type != venue.type and violations_in(_inspections(actor, {venue.id}), schedule.local_today()):
        raise ApiError(409, "has_open_violations", "该场所还有未整改的问题，复查通过后才能更改场所类型")


def check_venue_removable(actor, venue: Venue) -> None:
    """Refuse to delete a venue with failures still open, but for the town office: deleting it
    closes them, and a village's own report would lose its overdue rectifications."""
    if actor.role != "town_admin" and violations_in(_inspections(actor, {venue.id}), schedule.local_today()):
        raise ApiError(409, "has_open_violations", "该场所还有未整改的问题，不能删除；停业请改为停业状态")


def _root(inspection: Inspection, by_id: dict[str, Inspection], standing: dict[str, str]) -> str:
    seen = {inspection.id}
    while (checked := standing.get(inspection.reinspection_of)) in by_id and checked not in seen:
        inspection = by_id[checked]
        seen.add(inspection.id)
    return inspection.id


def open_violations(actor, today: date) -> list[dict]:
    """Return each item whose latest check in its re-inspection chain failed, with that deadline.

    A re-inspection that passes an item closes it; one that fails it again carries it forward
    with its own deadline, so one problem is one violation.
    """
    return violations_in(_inspections(actor), today)


def rectification_states(actor, today: date) -> tuple[list[dict], set[tuple[str, str]]]:
    """Return the open violations in scope and the (inspection id, item) failures since rectified."""
    chains = _item_checks(_inspections(actor))
    return _open_in(chains, today), _rectified_in(chains)


def _item_checks(inspections: list[Inspection]) -> list[list[tuple[Inspection, dict]]]:
    """Return each item's pass and fail answers along its re-inspection chain, oldest first."""
    standing = standing_ids(inspections)
    by_id = {i.id: i for i in inspections}
    chains: dict[tuple[str, str], list[tuple[Inspection, dict]]] = {}
    for inspection in inspections:
        if standing[inspection.id] != inspection.id:
            continue
        root = _root(inspection, by_id, standing)
        for result in inspection.results or []:
            if result["result"] in ("pass", "fail"):
                chains.setdefault((root, result["item"]), []).append((inspection, result))
    order: dict[str, tuple] = {}
    for checks in chains.values():
        checks.sort(key=lambda check: _place_in_chain(check[0], by_id, standing, order))
    return list(chains.values())


def _place_in_chain(inspection: Inspection, by_id: dict[str, Inspection], standing: dict[str, str],
                    order: dict[str, tuple]) -> tuple:
    """Return where an inspection falls in its chain: at its own time, but never before the check it
    re-inspects, whatever the inspector's phone clock said (a clock running slow dates the
    re-inspection before the failure it closes)."""
    if inspection.id in order:
        return order[inspection.id]
    path, seen = [inspection], {inspection.id}
    while (checked := standing.get(path[-1].reinspection_of)) in by_id and checked not in seen \
            and checked not in order:
        path.append(by_id[checked])
        seen.add(checked)
    checked = standing.get(path[-1].reinspection_of)
    place = order.get(checked) if checked not in seen else None
    for step in reversed(path):
        own = (step.counted_at, step.received_at)
        place = (own, 0) if place is None else (max(own, place[0]), place[1] + 1)
        order[step.id] = place
    return place


def _failing_since_last_pass(checks: list[tuple[Inspection, dict]]) -> list[tuple[Inspection, dict]]:
    failing = []
    for check in reversed(checks):
        if check[1]["result"] != "fail":
            break
        failing.insert(0, check)
    return failing


def _deleted_venues(venue_ids: set[str]) -> set[str]:
    if not venue_ids:
        return set()
    return set(db.session.scalars(select(Venue.id).where(Venue.id.in_(venue_ids),
                                                         Venue.deleted_at.is_not(None))))


def violations_in(inspections: list[Inspection], today: date) -> list[dict]:
    """Return the open violations of these inspections (in inspection order), overdue on `today`.

    `failed_at` names every check that failed the item since it last passed, the open one last.
    A deleted venue can no longer be re-inspected, so its failures are no longer open.
    """
    return _open_in(_item_checks(inspections), today)


def _open_in(chains: list[list[tuple[Inspection, dict]]], today: date) -> list[dict]:
    failing = [f for f in map(_failing_since_last_pass, chains) if f]
    deleted = _deleted_venues({f[-1][0].venue_id for f in failing})
    violations = []
    for chain in failing:
        inspection, item = chain[-1]
        if inspection.venue_id in deleted:
            continue
        deadline = date.fromisoformat(item["deadline"]) if item.get("deadline") else None
        violations.append({
            "inspection_id": inspection.id, "venue_id": inspection.venue_id,
            "village_id": inspection.village_id, "inspector_id": inspection.inspector_id,
            "item": item["item"], "severity": item.get("severity"), "deadline": deadline,
            "overdue": deadline is not None and deadline < today,
            "failed_at": [i.id for i, _ in chain]})
    return violations


def _rectified_in(chains: list[list[tuple[Inspection, dict]]]) -> set[tuple[str, str]]:
    """Return the (inspection id, item) failures of these chains that a later check passed."""
    rectified = set()
    for checks in chains:
        still_failing = len(_failing_since_last_pass(checks))
        rectified |= {(i.id, item["item"]) for i, item in checks[:len(checks) - still_failing]
                      if item["result"] == "fail"}
    return rectified


def for_my_unit(actor, violations: list[dict]) -> list[dict]:
    """Keep the violations an inspector's or officer's own unit found, or they themselves (one with no
    unit follows up their own); all for others."""
    if actor.role not in ("inspector", "police"):
        return violations
    members = users.unit_members(actor.unit_id) | {actor.id}
    return [v for v in violations if v["inspector_id"] in members]


def overdue_rectifications(actor, today: date) -> list[dict]:
    """Return overdue violations: all for the town admin, else those found by the caller's unit."""
    overdue = [v for v in open_violations(actor, today) if v["overdue"]]
    return overdue if actor.role == "town_admin" else for_my_unit(actor, overdue) if actor.role in (
        "inspector", "police") else []


def stale_venues(actor, today: date) -> list[Venue]:
    """Return open venues in scope not inspected for 90 days (or never)."""
    cutoff = today - timedelta(days=STALE_VENUE_DAYS)
    venues = db.session.scalars(scope.scoped_select(actor, Venue).where(Venue.status == "open"))
    return [v for v in venues
            if v.last_inspected_at is None or schedule.local_date(v.last_inspected_at) <= cutoff]


def operation_month(actor, year: int, month: int) -> dict:
    """Return the month's operations and which open venues they covered."""
    if not scope.can_read(actor, JointOperation):
        raise ApiError(404)
    operations = list(db.session.scalars(
        scope.scoped_select(actor, JointOperation)
        .where(extract("year", JointOperation.date) == year,
               extract("month", JointOperation.date) == month)
        .order_by(JointOperation.date)))
    ids = {o.id for o in operations}
    # As the inspection stands: a correction filed outside the operation takes its venue out of it.
    inspections = scope.scoped_select(actor, Inspection).with_only_columns(Inspection.venue_id)
    covered = set(db.session.scalars(inspections.where(Inspection.operation_id.in_(ids), *stands(Inspection))))
    venues = list(db.session.scalars(scope.scoped_select(actor, Venue)
                                     .where(Venue.status == "open").order_by(Venue.name)))
    return {"month": f"{year:04d}-{month:02d}", "operations": operations,
            "covered": [v for v in venues if v.id in covered],
            "uncovered": [v for v in venues if v.id not in covered]}


def operation_missing(today: date, day_of_warning: int = 20) -> bool:
    """Say whether the month is past its warning day with no joint operation yet."""
    if today.day <= day_of_warning:
        return False
    first = today.replace(day=1)
    return db.session.scalar(select(JointOperation.id).where(
        JointOperation.date >= first, JointOperation.date <= today,
        JointOperation.deleted_at.is_(None)).limit(1)) is None


def _match_child(actor, id_number: str | None) -> Child | None:
    if not id_number:
        return None
    indexes = Child.id_number.lookup_indexes(Child, id_number)
    child = db.session.scalar(select(Child).where(Child.id_number_bidx.in_(indexes),
                                                  Child.deleted_at.is_(None)).limit(1))
    # A link shows whom the number names where the filer reads the clue (the police, in its subject)
    # or the minors awaiting registration (a village head: one linked leaves that list). There it
    # links only a child the filer may read; any other waits as unregistered, for a head or the town
    # office to link. Else the form would look up the child register by ID number.
    if child is not None and (scope.can_read(actor, Clue) or actor.role in MINOR_LIST_ROLES) \
            and not scope.sees(actor, Child, child.id):
        return None
    return child


def report_minor_found(actor, inspection_id: str, data: dict, device_id: str | None = None) -> dict:
    """File a clue for a minor found in a venue; link the child when the ID number is registered
    (for a village head filing, registered in their own village).

    The answer is the same whether or not it is: the inspector, police or head who files it may
    not read the town's child register, and must not learn from this form who is in it.
    """
    inspection = scope.get_scoped(actor, Inspection, inspection_id)
    venue = db.session.get(Venue, inspection.venue_id)
    child = _match_child(actor, data.get("id_number"))
    clue = new_record(Clue, {"id": data.get("id")})
    clue.reporter_id, clue.source_inspection_id = actor.id, inspection.id
    clue.village_id = child.village_id if child else venue.village_id
    clue.child_id = child.id if child else None
    # What the minor said, kept apart from the reporter's words so that it is masked as the register is.
    stated = {"stated_name": data.get("name"), "stated_id_number": data.get("id_number")}
    clue.subject = {key: value for key, value in stated.items() if value} or None
    if child is not None:
        clues.name_subject(clue, child)
    clue.description = data["description"]
    clue.place = f"{venue.name}（{venue.address or '地址未登记'}）"
    clue.happened_at = data.get("found_at") or inspection.inspected_at
    named = ["subject"] if clue.subject else []
    save_record(actor, "clue", clue, "create", ["description", "place", "child_id", *named], device_id)
    return {"clue_id": clue.id}


def unregistered_minor_clues(actor) -> list[Clue]:
    """Return clues from venues whose minor is not yet linked, for the venue village's head."""
    if actor.role not in MINOR_LIST_ROLES:
        return []
    query = select(Clue).where(Clue.source_inspection_id.is_not(None), Clue.child_id.is_(None),
                               *stands(Clue))
    if actor.role == "village_head":
        query = query.where(Clue.village_id == actor.village_id)
    return list(db.session.scalars(query))


def link_minor(actor, clue_id: str, child_id: str, device_id: str | None = None) -> Clue:
    """Link a venue clue's minor to a registered child (the village head, after checking)."""
    clue = db.session.get(Clue, clue_id)
    if clue is None or clue not in unregistered_minor_clues(actor):
        raise ApiError(404)
    child = scope.get_scoped(actor, Child, child_id)
    changed = assign(clue, {"child_id": child.id, "village_id": child.village_id})
    clues.name_subject(clue, child)
    save_record(actor, "clue", clue, "update", changed + ["subject"], device_id)
    return clue
