"""Every model, re-exported so Alembic and services import them from one place."""
from .base import new_id, replaying_at, utcnow
from .cases import CLUE_OUTCOMES, CLUE_STATUSES, Clue, StaffCheck
from .facts import counted_time, standing_ids, stands
from .households import CATEGORIES, CHILD_STATUSES, RISK_LEVELS, Child, GuardianPhone, Household
from .places import UNIT_KINDS, VILLAGE_KINDS, Grid, Town, Unit, Village, place_name_key
from .plans import MEASURE_KINDS, PLAN_STATUSES, Plan, PlanProgress
from .records import AppliedOp, AuditEvent, ChangeLog, Counter, KeyCanary, PlaceLeft, ReportSnapshot
from .users import ROLES, Device, LoginFailure, User, UserSession, user_grid
from .venues import VENUE_TYPES, Attachment, Inspection, JointOperation, Venue
from .visits import VISIT_FLAGS, Visit

__all__ = [
    "CATEGORIES", "CHILD_STATUSES", "CLUE_OUTCOMES", "CLUE_STATUSES", "MEASURE_KINDS",
    "PLAN_STATUSES", "RISK_LEVELS", "ROLES", "UNIT_KINDS", "VENUE_TYPES", "VILLAGE_KINDS", "VISIT_FLAGS",
    "AppliedOp",
    "Attachment", "AuditEvent", "ChangeLog", "Child", "Clue", "Counter", "Device", "Grid",
    "GuardianPhone", "Household", "Inspection", "JointOperation", "KeyCanary", "LoginFailure",
    "PlaceLeft", "Plan", "PlanProgress", "ReportSnapshot", "StaffCheck", "Town", "Unit", "User", "UserSession",
    "Venue", "Visit", "Village", "counted_time", "new_id", "place_name_key", "replaying_at", "user_grid",
    "standing_ids", "stands", "utcnow",
]
