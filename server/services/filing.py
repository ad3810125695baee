"""What every fact filed from the field goes through, whatever its kind: the record it names, in the
filer's scope or held by the filing phone; the filer's role; a correction's original and reason;
when it counts as made; and its location fix, in WGS-84."""
from datetime import datetime

from sqlalchemy import exists, select

from ..errors import validation_error
from ..extensions import db
from ..models import Child
from . import batching, changes, scope
from .geo import to_wgs84


def in_scope(actor, model, record_id: str, field: str, message: str):
    return held_record(actor, model, record_id, field, message, None)[0]


def held_record(actor, model, record_id: str, field: str, message: str,
          held: scope.Held | None, removed: bool = False) -> tuple[object, tuple | None]:
    """Return the record a fact is about, in scope, or one the filing phone held (`held`: its pull
    position) that has moved out of the actor's reach since, with the place the phone knew it in;
    refuse anything else as out of scope. A phone offline for a week must not lose a visit because
    the household moved to another grid meanwhile. Nor because the head merged the child it named
    into the child it duplicates (`duplicates.merge_children`): the fact is filed on that one.
    `removed`: a record in scope or held deleted since (not merged) is returned as it is, deleted."""
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
    return scope.held_at(actor, model, record_id, held, removed) if held is not None else None


def held_child(actor, child_id: str, held: scope.Held | None,
                removed: bool = False) -> tuple[Child, tuple | None, dict]:
    """Return the child a fact names (`held_record`), the place the phone knew it in, and what the fact's
    audit event adds when the child named was merged into the one returned."""
    child, left = held_record(actor, Child, child_id, "child_id", "儿童不存在或不在您的管辖范围内", held,
                              removed)
    merged = {"merged": {"duplicate": str(child_id), "into": child.id}} if child.id != str(child_id) else {}
    return child, left, merged


def left_with(record, place: tuple | None) -> None:
    # Filed under the record's new place, the fact leaves the place the phone knew, as its record did.
    if place is not None and place != (record.village_id, record.grid_id):
        changes.log_left(record, place)


def correction_of(actor, model, data: dict, same: str, value, label: str, target: str, find=None,
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
        original, _ = held_record(actor, model, amends, "amends", missing, held)
    elif (original := find(amends)) is None:
        raise validation_error({"amends": [missing]})
    if getattr(original, same) != value or not (data.get("amend_reason") or "").strip():
        raise validation_error({"amend_reason": [f"更正须针对同一{target}并写明理由"]})
    if author is not None:
        require_author(actor, original, author, label)
    if db.session.scalar(select(exists().where(model.amends_id == original.id))):
        raise validation_error({"amends": [f"该{label}已被更正，请更正最新的一条"]})
    return original


def made_no_later_than(model, original, now: datetime) -> datetime:
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


def require_author(actor, original, author: str, label: str) -> None:
    if getattr(original, author) != actor.id:
        raise validation_error({"amends": [f"只能更正本人记录的{label}"]})


def take_fix(data: dict) -> dict | None:
    lat, lon = data.pop("lat", None), data.pop("lon", None)
    system = data.pop("coord_system", "wgs84")
    accuracy = data.pop("accuracy_m", None)
    if lat is None:
        return None
    lat, lon = to_wgs84(lat, lon, system)
    return {"lat": round(lat, 7), "lon": round(lon, 7), "accuracy_m": accuracy}
