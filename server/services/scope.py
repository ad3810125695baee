"""The one place that decides what a user may see and touch."""
from dataclasses import dataclass
from types import SimpleNamespace

from sqlalchemy import and_, false, func, or_, select, true
from sqlalchemy.sql import ColumnElement

from ..errors import not_found
from ..extensions import db
from ..models import (
    AuditEvent,
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


# The fields of an account whose change moves its user between scopes (services/users.py).
SCOPE_FIELDS = frozenset({"village_id", "grid_ids", "unit_id"})


@dataclass(frozen=True)
class Held:
    """What a phone held: the change-log position its pulls reached and the scope they read, as
    its signed pull cursor says."""

    seq: int
    scope: dict


def held_at(user, model, record_id: str, held: Held) -> tuple[object, tuple] | None:
    """Return a live record the phone held that has moved out of the user's reach since, with the
    place the phone knew it in; or None.

    What a phone recorded of a record it held stays the phone's record: a visit made offline
    before the phone heard of the child's move is still the worker's visit (fieldwork). The place
    the phone knew is the one the record's first move after the position left (each move leaves an
    `evict` row under the place left); it must lie in the cursor's scope, and that scope must still
    have been the user's at the position: after a change of the user's own scope, a cursor's scope
    is the new one over an old position, so nothing is taken on its word. The change log keeps one
    row a place, so a record that moved there and away again since counts as where it went first.
    """
    record = db.session.get(model, str(record_id))
    if record is None or getattr(record, "deleted_at", None) is not None:
        return None
    left = db.session.execute(select(ChangeLog.village_id, ChangeLog.grid_id).where(
        ChangeLog.entity == model.__tablename__, ChangeLog.entity_id == str(record_id),
        ChangeLog.action == "evict", ChangeLog.seq > held.seq)
        .order_by(ChangeLog.seq).limit(1)).first()
    then = as_user(held.scope)
    if left is None or not (can_read(then, model) and place_in_scope(then, *left)) \
            or _rescoped_since(user, held.seq):
        return None
    return record, tuple(left)


def _rescoped_since(user, seq: int) -> bool:
    """Say whether the user's own scope may have changed after change-log position `seq` (the
    position's time read from the rows at or before it: earlier if those were superseded, which
    only widens what counts as after; no row left, it may have)."""
    since = db.session.scalar(select(func.max(ChangeLog.at)).where(ChangeLog.seq <= seq))
    if since is None:
        return True
    edits = db.session.scalars(select(AuditEvent.detail).where(
        AuditEvent.entity == "user", AuditEvent.entity_id == user.id,
        AuditEvent.action == "user.update", AuditEvent.at >= since))
    return any(SCOPE_FIELDS & set((detail or {}).get("fields") or ()) for detail in edits)


def place_in_scope(user, village_id: str | None, grid_id: str | None = None) -> bool:
    """Say whether `user` may write a record placed in this village and grid."""
    if user.role == "town_admin":
        return True
    if user.role == "grid_worker":
        return grid_id is not None and grid_id in user.grid_ids
    if user.role == "village_head":
        return village_id is not None and village_id == user.village_id
    return False
