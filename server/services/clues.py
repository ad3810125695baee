"""The police station's handling of clues: received, then closed with an outcome; each step audited."""
from sqlalchemy import exists, select

from ..errors import ApiError
from ..extensions import db
from ..models import Clue, stands, utcnow
from . import changes, scope
from .writes import assign, save_record

HANDLER_ROLES = ("police",)


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
