"""Schemas of the village head's work: risk overrides, reviews of visits and locations, plan steps,
merges, to-dos."""
from marshmallow import Schema, fields, validate

from ..models import RISK_LEVELS
from ..services.risk import reason_labels
from .casework import PlanSchema, VisitSchema
from .common import Choice, PageQuerySchema, Reason, StrictSchema, Text
from .households import ChildSchema, HouseholdSchema


class RiskOverrideSchema(StrictSchema):
    """POST /api/children/{id}/risk-override: a level, or null to clear, and why."""

    level = Choice(RISK_LEVELS, required=True, allow_none=True)
    reason = Reason()


class ChildRiskSchema(ChildSchema):
    """A child with the assessment behind its level."""

    risk_assessed = fields.String()
    risk_override = fields.String()
    risk_override_reason = fields.String()
    risk_reason_labels = fields.Function(lambda c: reason_labels(c.risk_reasons or []))


class RiskReasonSchema(Schema):
    """One risk reason: its key (as in risk_reasons and a plan's risk_factors) and its label."""

    key = fields.String()
    label = fields.String()


class RiskReasonsSchema(Schema):
    """GET /api/risk-reasons."""

    reasons = fields.List(fields.Nested(RiskReasonSchema))


class ReviewQuerySchema(PageQuerySchema):
    """Filters of GET /api/review/visits."""

    status = Choice(("pending", "questioned", "accepted"))
    grid_id = fields.String()


class LocationQuerySchema(PageQuerySchema):
    """Filters of GET /api/review/locations."""

    grid_id = fields.String()


class HelpersQuerySchema(StrictSchema):
    """Filters of GET /api/helpers: the village and grid of the child the plan is for."""

    village_id = fields.String()
    grid_id = fields.String()


class ReviewDecisionSchema(StrictSchema):
    """POST /api/visits/{id}/review."""

    decision = Choice(("accept", "question"), required=True)
    note = Text(1000, allow_none=True, load_default=None)


class ReviewedVisitSchema(VisitSchema):
    """A visit with its review, the child's name and the name of the worker who made it."""

    reviewed_by = fields.String()
    reviewed_at = fields.DateTime()
    child_name = fields.Function(lambda v: getattr(v, "child_name", None))
    worker_name = fields.Function(lambda v: getattr(v, "worker_name", None))
    may_decide = fields.Function(lambda v: getattr(v, "may_decide", False))


class LocationDecisionSchema(StrictSchema):
    """POST /api/households/{id}/location-review."""

    decision = Choice(("confirm", "reject"), required=True)
    # The proposal decided on, as the head saw it: a correction of the visit may replace it meanwhile.
    visit_id = fields.String(required=True, validate=validate.Length(1, 64))


class ProposedLocationSchema(HouseholdSchema):
    """A household whose location a visit proposed, with its grid and the worker who made the visit."""

    grid_name = fields.Function(lambda h: getattr(h, "grid_name", None))
    worker_name = fields.Function(lambda h: getattr(h, "worker_name", None))
    # The village's located household nearest the proposal: {distance_m, address, household_id}.
    nearest = fields.Function(lambda h: getattr(h, "nearest", None))


class PlanStateSchema(PlanSchema):
    """A plan after a step of its workflow (approve, review, close)."""


class PlanCloseSchema(StrictSchema):
    """POST /api/plans/{id}/close."""

    outcome = Text(4000, 2, required=True)


class PlanReviewSchema(StrictSchema):
    """POST /api/plans/{id}/review."""

    note = Text(4000, 2, required=True)


class MergeSchema(StrictSchema):
    """POST /api/children/{id}/merge: the child this one duplicates."""

    into = fields.String(required=True, validate=validate.Length(min=1, max=36))


class DuplicateChildSchema(Schema):
    """One child of a duplicate group (masked)."""

    id = fields.String()
    name = fields.String()
    sex = fields.String()
    birth_date = fields.Date()
    id_number = fields.String()
    status = fields.String()
    village_id = fields.String()
    village_name = fields.String()
    grid_id = fields.String()
    grid_name = fields.String()
    household_id = fields.String()
    address = fields.String()
    created_at = fields.DateTime()
    last_visit_at = fields.DateTime()
    visits = fields.Integer(metadata={"description": "走访次数（更正与原记录算一次）"})
    open_plan = fields.Boolean(metadata={"description": "有草稿或执行中的帮扶计划"})


class DuplicateGroupSchema(Schema):
    """Children that look like one child registered twice, and why."""

    match = fields.String()
    children = fields.List(fields.Nested(DuplicateChildSchema))


class DuplicatesSchema(Schema):
    """GET /api/children/duplicates."""

    groups = fields.List(fields.Nested(DuplicateGroupSchema))


class HelperSchema(Schema):
    """A person who may be named a plan's helper."""

    id = fields.String()
    name = fields.Function(lambda u: u.display_name or u.username)
    role = fields.String()
    village_id = fields.String()


class HelpersSchema(Schema):
    """GET /api/helpers."""

    rows = fields.List(fields.Nested(HelperSchema))


class TaskSchema(Schema):
    """One item of the caller's to-do."""

    kind = fields.String()
    title = fields.String()
    due = fields.Date()
    overdue = fields.Boolean()
    entity = fields.String()
    entity_id = fields.String()
    village_id = fields.String()
    detail = fields.Dict()


class TasksSchema(Schema):
    """GET /api/tasks: the items (at most a page of each kind) and the count of each kind."""

    tasks = fields.List(fields.Nested(TaskSchema))
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    today = fields.Date()
