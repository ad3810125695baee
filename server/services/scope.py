"""The one place that decides what a user may see and touch."""
from dataclasses import dataclass
from types import SimpleNamespace

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.sql import ColumnElement

from ..errors import not_found
from ..extensions import db
from ..models import (
    ChangeLog,
    Child,
    Clue,
    Household,
    Inspection,
    JointOperation,
    Plan,
    PlanProgress,
    StaffCheck,
    Venue,
    Visit,
)
from . import batching

CHILD_RECORDS = (Household, Child, Visit, Plan, PlanProgress)
ENFORCEMENT_RECORDS = (Venue, Inspection, JointOperation, StaffCheck)

ROLE_MODELS = {
    "grid_worker": set(CHILD_RECORDS),
    "village_head": set(CHILD_RECORDS) | set(ENFORCEMENT_RECORDS),
    "inspector": set(ENFORCEMENT_RECORDS),
    "police": {Clue, Venue, Inspection, JointOperation, StaffCheck},
    "town_admin": set(CHILD_RECORDS) | set(ENFORCEMENT_RECORDS) | {Clue},
}


def visible(user, model) -> ColumnElement[bool]:
    """Return the filter of the rows of `model` that `user` may see."""
    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    if model not in ROLE_MODELS.get(user.role, set()):
        return false()
    return _place_condition(user, model, getattr(model, "grid_id", None),
                            getattr(model, "village_id", None))


def _place_condition(user, model, grid_column, village_column) -> ColumnElement[bool]:
    if user.role == "grid_worker":
        return grid_column.in_(user.grid_ids) if user.grid_ids else false()
    if user.role == "village_head" and model is not JointOperation:
        return village_column == user.village_id
    return true()


def change_visible(user) -> ColumnElement[bool]:
    """Return the filter of the change-log rows that `user` pulls (the same rules as visible)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    conditions = [and_(ChangeLog.entity == model.__tablename__,
                       _place_condition(user, model, ChangeLog.grid_id, ChangeLog.village_id))
                  for model in ROLE_MODELS.get(user.role, set())]
    return or_(*conditions) if conditions else false()


WRITE_ROLES = {
    Household: {"grid_worker", "village_head", "town_admin"},
    Child: {"grid_worker", "village_head", "town_admin"},
    Visit: {"grid_worker", "village_head", "town_admin"},
    Plan: {"grid_worker", "village_head", "town_admin"},
    PlanProgress: {"grid_worker", "village_head", "town_admin"},
    Venue: {"inspector", "village_head", "town_admin"},
    Inspection: {"inspector", "town_admin"},
    JointOperation: {"inspector", "town_admin"},
    StaffCheck: {"inspector", "village_head", "town_admin"},
    Clue: set(ROLE_MODELS),
}


def can_write(user, model) -> bool:
    """Say whether the role may create or edit `model` at all (scope is checked per record)."""
    return getattr(user, "role", None) in WRITE_ROLES.get(model, set())


def can_read(user, model) -> bool:
    """Say whether the role may read `model` at all."""
    return model in ROLE_MODELS.get(getattr(user, "role", None), set())


def scoped_select(user, model, include_deleted: bool = False):
    """Return a select of the live rows of `model` in the user's scope."""
    query = select(model).where(visible(user, model))
    if not include_deleted and hasattr(model, "deleted_at"):
        query = query.where(model.deleted_at.is_(None))
    return query


def get_scoped(user, model, record_id: str, include_deleted: bool = False):
    """Return one record in scope, or raise the 404 that out-of-scope records also get."""
    record = batching.known(model, record_id)
    if record is not None:
        return record
    query = scoped_select(user, model, include_deleted).where(model.id == str(record_id))
    record = db.session.scalar(query)
    if record is None:
        raise not_found()
    return record


def snapshot(user) -> dict:
    """Return what a user's scope depends on (kept in pull cursors and in scope-change audit events)."""
    return {"r": user.role, "v": user.village_id, "g": sorted(user.grid_ids)}


def as_user(snapshot: dict):
    """Return a stand-in user with the scope of `snapshot`, for the filters above."""
    return SimpleNamespace(role=snapshot.get("r"), village_id=snapshot.get("v"),
                           grid_ids=list(snapshot.get("g") or []), is_authenticated=True)


@dataclass(frozen=True)
class Held:
    """What a phone held: the change-log position its pulls reached and the scopes it read under
    (two in the middle of a move between scopes), as its signed pull cursor says."""

    seq: int
    scopes: tuple[dict, ...]


def held_at(user, model, record_id: str, held: Held) -> tuple[object, tuple] | None:
    """Return a live record the phone held (in one of `held.scopes` at `held.seq`) that has left
    the user's reach since, with the place it was in then; or None.

    What a phone recorded of a record it held stays the phone's record: a visit made offline before
    the phone heard of the child's move, or of its worker's, is still the worker's visit
    (fieldwork). The place then is the one of the record's first move after the position (each
    move leaves an `evict` row under the place left), or its place now if it has not moved since.
    A record that moved there and away again while the phone was offline can be misplaced by the
    change log, which keeps one row a place: then it counts as where it went first.
    """
    record = db.session.get(model, str(record_id))
    if record is None or getattr(record, "deleted_at", None) is not None:
        return None
    left = db.session.execute(select(ChangeLog.village_id, ChangeLog.grid_id).where(
        ChangeLog.entity == model.__tablename__, ChangeLog.entity_id == str(record_id),
        ChangeLog.action == "evict", ChangeLog.seq > held.seq)
        .order_by(ChangeLog.seq).limit(1)).first()
    place = tuple(left) if left is not None else (record.village_id, getattr(record, "grid_id", None))
    if not any(can_read(as_user(then), model) and place_in_scope(as_user(then), *place)
               for then in held.scopes):
        return None
    return record, place


def place_in_scope(user, village_id: str | None, grid_id: str | None = None) -> bool:
    """Say whether `user` may write a record placed in this village and grid."""
    if user.role == "town_admin":
        return True
    if user.role == "grid_worker":
        return grid_id is not None and grid_id in user.grid_ids
    if user.role == "village_head":
        return village_id is not None and village_id == user.village_id
    return False
