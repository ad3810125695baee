"""Clues (mandatory reports): filed from the field and sealed from everyone but the police, then
the police station's handling: received, then closed with an outcome; each step audited."""
from sqlalchemy import exists, select

from ..errors import ApiError, validation_error
from ..extensions import db
from ..models import Child, Clue, Household, Inspection, Village, Visit, stands, utcnow
from . import changes, filing, scope
from .writes import assign, save_record, unused_id

HANDLER_ROLES = ("police",)
STATED = ("stated_name", "stated_id_number")  # what a minor found in a venue said of themselves


def waiting(actor):
    """Return a select of the standing clues in scope that no one at the station has received yet."""
    return scope.scoped_select(actor, Clue).where(Clue.status == "new", *stands(Clue))


def _handled(actor, clue_id: str, status: str) -> Clue:
    clue = scope.get_scoped(actor, Clue, clue_id)
    if actor.role not in HANDLER_ROLES:
        raise ApiError(403, "clue_not_allowed", "只有派出所受理和办结线索")
    changes.lock_writers()  # a correction filed at the same moment checks under the same lock
    if db.session.scalar(select(exists().where(Clue.amends_id == clue.id))):
        raise ApiError(409, "clue_state", "该线索已被报告人更正，请处理更正后的线索")
    if clue.status != status:
        message = {"new": "该线索已受理", "received": "该线索尚未受理或已办结"}[status]
        raise ApiError(409, "clue_state", f"{message}，请刷新")
    return clue


def receive_clue(actor, clue_id: str, device_id: str | None = None) -> Clue:
    """Mark a new clue received by the caller's station."""
    clue = _handled(actor, clue_id, "new")
    changed = assign(clue, {"status": "received", "received_at": utcnow(), "received_by": actor.id})
    save_record(actor, "clue", clue, "update", changed, device_id)
    db.session.commit()
    return clue


def close_clue(actor, clue_id: str, outcome: str, note: str, device_id: str | None = None) -> Clue:
    """Close a received clue with its outcome and a note of what was done."""
    clue = _handled(actor, clue_id, "received")
    changed = assign(clue, {"status": "closed", "closed_at": utcnow(), "outcome": outcome})
    clue.outcome_note = note.strip()
    save_record(actor, "clue", clue, "update", sorted(changed + ["outcome_note"]), device_id)
    db.session.commit()
    return clue


def file_clue(actor, data: dict, device_id: str | None = None, device_time=None,
              held: scope.Held | None = None) -> Clue:
    """File a mandatory report; it is routed to the police and sealed from everyone else.

    The visit or inspection it came from is linked only if the reporter may see it, or (a visit)
    recorded it: otherwise a clue could claim an inspector's finding, or probe which record ids
    exist. One they may not see, or that does not exist (a visit the server refused, filed in the
    same push), is left off, and the report still goes to the police: a mandatory report is never
    refused for its link. The reporter's own visit is linked wherever its child lives now, and
    vouches for that child: the signs they saw are theirs to report after the child moved away.
    """
    original = filing.correction_of(actor, Clue, data, "reporter_id", actor.id, "线索", "报告人",
                                    find=lambda clue_id: _own_clue(actor, clue_id))
    if original is not None and original.status != "new":
        # The station's handling belongs to the clue it received; a correction would start afresh.
        raise validation_error({"amends": ["派出所已受理该线索，请直接联系派出所补充情况"]})
    record_id = unused_id(Clue, data)
    clue = Clue(id=record_id, reporter_id=actor.id, amends_id=original.id if original is not None else None)
    source = _link_sources(actor, data)
    child_id, merged = data.pop("child_id", None), {}
    if child_id and source is not None and source.child_id == str(child_id):
        child = db.session.get(Child, source.child_id)
    elif child_id:
        child, _, merged = filing.held_child(actor, child_id, held, removed=True)
    if child_id:
        clue.village_id = child.village_id
        name_subject(clue, child)
        if child.deleted_at is None:
            clue.child_id = child.id
        else:
            # Deleted since the phone held it (registered in error): the report goes all the same,
            # to the police of its village, unlinked; the audit event names the child it named.
            merged = {"child_removed": child.id}
    if original is not None:
        _carry_over(original, clue, data)
    assign(clue, data)
    named = ["subject"] if clue.subject else []
    save_record(actor, "clue", clue, "create", sorted([*data, *named]), device_id, merged)
    return clue


def name_subject(clue: Clue, child: Child) -> None:
    """Say in the clue whom it is about, as the register has the child now: the police act on it
    and read no child records (the town office reads it masked, as it reads the register). What a
    minor found in a venue said of themselves (`STATED`) stays beside it."""
    household = db.session.get(Household, child.household_id) if child.household_id else None
    village = db.session.get(Village, child.village_id) if child.village_id else None
    stated = {key: value for key, value in (clue.subject or {}).items() if key in STATED}
    clue.subject = {"name": child.name, "sex": child.sex,
                    "birth_date": child.birth_date.isoformat() if child.birth_date else None,
                    "village": village.name if village is not None else None,
                    "address": household.address if household is not None else None, **stated}


def _link_sources(actor, data: dict) -> Visit | None:
    """Keep in `data` the visit and the inspection the clue came from that it may link (left off
    otherwise); return the visit linked."""
    for field in ("source_visit_id", "source_inspection_id"):
        if data.get(field) is not None and not str(data[field]).strip():
            raise validation_error({field: ["来源记录编号不能为空"]})
    if data.get("source_inspection_id") is not None and not scope.sees(actor, Inspection,
                                                                       data["source_inspection_id"]):
        data["source_inspection_id"] = None
    if data.get("source_visit_id") is None:
        return None
    visit = scope.find_scoped(actor, Visit, data["source_visit_id"])
    if visit is None:
        own = db.session.get(Visit, str(data["source_visit_id"]))
        visit = own if own is not None and own.worker_id == actor.id and own.deleted_at is None else None
    data["source_visit_id"] = visit.id if visit is not None else None
    return visit


def _carry_over(original: Clue, clue: Clue, data: dict) -> None:
    """A correction keeps what the reporter did not restate: where the clue came from, where and
    when it happened, and its child and village (a minor found in a venue stays on the list of the
    head who registers minors there)."""
    for name in ("source_visit_id", "source_inspection_id", "place", "happened_at"):
        if data.get(name) is None and getattr(original, name) is not None:
            data[name] = getattr(original, name)
    if clue.child_id is None and clue.village_id is None:
        clue.child_id, clue.village_id, clue.subject = original.child_id, original.village_id, original.subject


def _own_clue(actor, clue_id: str) -> Clue | None:
    # A reporter cannot read clues back, so the one they correct is found among their own only.
    clue = db.session.get(Clue, str(clue_id))
    return clue if clue is not None and clue.reporter_id == actor.id and clue.deleted_at is None else None
