"""The one place that decides what a user may see and touch."""
from sqlalchemy import false, select, true
from sqlalchemy.sql import ColumnElement

from ..errors import not_found
from ..extensions import db
from ..models import (
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
    if user.role == "grid_worker":
        return model.grid_id.in_(user.grid_ids) if user.grid_ids else false()
    if user.role == "village_head" and model is not JointOperation:
        return model.village_id == user.village_id
    return true()


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
    query = scoped_select(user, model, include_deleted).where(model.id == str(record_id))
    record = db.session.scalar(query)
    if record is None:
        raise not_found()
    return record


def place_in_scope(user, village_id: str | None, grid_id: str | None = None) -> bool:
    """Say whether `user` may write a record placed in this village and grid."""
    if user.role == "town_admin":
        return True
    if user.role == "grid_worker":
        return grid_id is not None and grid_id in user.grid_ids
    if user.role == "village_head":
        return village_id is not None and village_id == user.village_id
    return False
