"""The one place that decides what a user may see and touch."""
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import and_, false, func, or_, select, true
from sqlalchemy.sql import ColumnElement

from ..errors import ApiError, not_found
from ..extensions import db
from ..models import (
    AuditEvent,
    ChangeLog,
    Child,
    Clue,
    Household,
    Inspection,
    JointOperation,
    PlaceLeft,
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


def require_write(user, model, doing: str = "提交此类记录") -> None:
    """Refuse (403 `not_allowed`) a role that may not write `model` at all; `doing` says what it may not do."""
    if not can_write(user, model):
        raise ApiError(403, "not_allowed", f"您的角色不能{doing}")


def can_read(user, model) -> bool:
    """Say whether the role may read `model` at all."""
    return model in ROLE_MODELS.get(getattr(user, "role", None), set())


def scoped_select(user, model, include_deleted: bool = False):
    """Return a select of the live rows of `model` in the user's scope."""
    query = select(model).where(visible(user, model))
    if not include_deleted and hasattr(model, "deleted_at"):
        query = query.where(model.deleted_at.is_(None))
    return query


def find_scoped(user, model, record_id: str, include_deleted: bool = False):
    """Return one record in the user's scope, or None: a missing one, one out of scope and (unless
    `include_deleted`) a deleted one alike."""
    record = batching.known(model, record_id)
    if record is not None:
        return record
    return db.session.scalar(scoped_select(user, model, include_deleted).where(model.id == str(record_id)))


def sees(user, model, record_id: str) -> bool:
    """Say whether a live record of `model` with this id is in the user's scope."""
    return find_scoped(user, model, record_id) is not None


MERGED = "该儿童是重复登记，已被合并到另一条登记：请在保留的登记上查看和修改"


def get_scoped(user, model, record_id: str, include_deleted: bool = False, merged_says: str = MERGED):
    """Return one record in scope, or raise the 404 that out-of-scope records also get (`gone`);
    `merged_says` what a merged one's refusal says (a phone's edit is told to give it up)."""
    record = find_scoped(user, model, record_id, include_deleted)
    if record is None:
        raise gone(user, model, record_id, merged_says)
    return record


def gone(user, model, record_id: str, merged_says: str) -> ApiError:
    """Return the refusal of a record not in scope: not found, or, for one in scope merged into the
    record it duplicated (a merged record stays where it was), `merged_says`. Nothing more is said
    of a record the user never could see."""
    if hasattr(model, "merged_into_id"):
        retired = find_scoped(user, model, record_id, include_deleted=True)
        if retired is not None and merged(retired):
            return ApiError(404, "merged", merged_says)
    return not_found()


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
    """What a phone held: the change-log position its pulls reached, as its signed pull cursor says."""

    seq: int


def held_at(user, model, record_id: str, held: Held, removed: bool = False) -> tuple[object, tuple] | None:
    """Return a live record the phone held that is out of the user's reach now (or one merged into
    another since: it lives on in the record it was merged into; with `removed`, one deleted since),
    with the place the phone knew it in; or None.

    What a phone recorded of a record it held stays the phone's record: a visit made offline
    before the phone heard of the child's move, or of its worker's move to other grids, is still
    the worker's visit (filing). The place the phone knew is the one the record's first move
    after the position left (every move keeps the place left, `PlaceLeft`), or, if it has not
    moved since, where it is. That place must lie in the user's scope at the position, read from
    the user's own moves, not from the cursor. Once the user has left that scope, the record must
    have been there before the user left (or be the user's own). When it moved since, before or
    after the user's own move, does not matter: the place it left is where it was at the position.
    """
    record = db.session.get(model, str(record_id))
    if record is None or getattr(record, "deleted_at", None) is not None and not (merged(record) or removed):
        return None
    then = scope_at(user, held.seq)
    if then is None:
        return None
    scope_then, moved_at = then
    left = db.session.execute(select(PlaceLeft.seq, PlaceLeft.village_id, PlaceLeft.grid_id).where(
        PlaceLeft.entity == model.__tablename__, PlaceLeft.entity_id == str(record_id),
        PlaceLeft.seq > held.seq).order_by(PlaceLeft.seq).limit(1)).first()
    place = (left.village_id, left.grid_id) if left is not None else (record.village_id, record.grid_id)
    was = as_user(scope_then)
    if not (can_read(was, model) and place_in_scope(was, *place)):
        return None
    if moved_at is not None and not _had_before(user, model, record.id, moved_at):
        return None
    return record, place


def merged(record) -> bool:
    """Say whether a record was retired by merging it into another (a child registered twice)."""
    return getattr(record, "merged_into_id", None) is not None


def survivor(model, record):
    """Return the live record `record` was merged into, following merges merged on in turn; None
    if that record is gone, or the merges run in a circle."""
    seen = {record.id}
    while merged(record):
        record = db.session.get(model, record.merged_into_id)
        if record is None or record.id in seen:
            return None
        seen.add(record.id)
    return record if record.deleted_at is None else None


def scope_at(user, seq: int) -> tuple[dict, int | None] | None:
    """Return the user's scope at change-log position `seq` and the audit event of the move that
    left it (None: it is the user's scope now), read from the user's moves (`users.update_user`
    records each with a position of its own); None when that cannot be told: a move recorded
    without its position (before moves recorded one) that may have come after `seq`."""
    moves = db.session.execute(select(AuditEvent.seq, AuditEvent.at, AuditEvent.detail).where(
        AuditEvent.entity == "user", AuditEvent.entity_id == user.id,
        AuditEvent.action == "user.update").order_by(AuditEvent.seq)).all()
    since = _NOT_READ
    for event, at, detail in moves:
        detail = detail or {}
        if not SCOPE_FIELDS & set(detail.get("fields") or ()):
            continue
        move = detail.get("scope")
        if move is None:
            if since is _NOT_READ:
                since = _position_time(seq)
            if since is None or at >= since:
                return None
        elif move["seq"] > seq:
            return move["from"], event
    return snapshot(user), None


_NOT_READ = object()


def _position_time(seq: int) -> datetime | None:
    # Read from the rows at or before it: earlier if those were superseded, which only widens
    # what counts as after; with no row left, None.
    return db.session.scalar(select(func.max(ChangeLog.at)).where(ChangeLog.seq <= seq))


def _had_before(user, model, record_id: str, event: int) -> bool:
    """Say whether a record was created before audit event `event` (the chain is written under the
    writers' lock, so its order is the order of the writes), or by the user: a correction of a
    fact the user filed after the move. A record with no creation event came with the demo load."""
    created = db.session.execute(select(AuditEvent.seq, AuditEvent.actor_id).where(
        AuditEvent.entity == model.__tablename__, AuditEvent.entity_id == record_id,
        AuditEvent.action == f"{model.__tablename__}.create").limit(1)).first()
    return created is None or created.seq < event or created.actor_id == user.id


def out_of_reach(user, record) -> bool:
    """Say whether a record of a child lies outside the user's scope where it is (a fact filed
    through `held_at`), by its place alone."""
    return type(record) in CHILD_RECORDS and not place_in_scope(user, record.village_id, record.grid_id)


def place_in_scope(user, village_id: str | None, grid_id: str | None = None) -> bool:
    """Say whether `user` may write a record placed in this village and grid."""
    if user.role == "town_admin":
        return True
    if user.role == "grid_worker":
        return grid_id is not None and grid_id in user.grid_ids
    if user.role == "village_head":
        return village_id is not None and village_id == user.village_id
    return False
