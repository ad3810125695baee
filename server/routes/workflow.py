"""The village head's work: risk overrides, the visit review queue, plan approval and closing."""
from flask import Blueprint, request
from flask_login import login_required

from ..extensions import db
from ..schemas import workflow as ws
from ..schemas.common import dump_page, page_schema
from ..schemas.households import HouseholdSchema
from ..services import duplicates, plans, review, risk, tasks
from ..services.masking import masked_for
from ..sync.entities import ENTITIES
from .common import actor, api_doc, device_id, json_body, query_args

bp = Blueprint("workflow", __name__, url_prefix="/api")
SEEN_VERSION = {"name": "If-Match", "required": False, "schema": {"type": "string"},
                "description": "审批人看到的计划版本号（version）；计划此后被修改则拒绝审批"}
SEEN_REFUSAL = {"409": "version_conflict：计划已被他人修改；plan_not_draft：不是草稿"}


def _risk(child) -> dict:
    return masked_for(actor(), "child", ws.ChildRiskSchema().dump(child))


@bp.post("/children/<child_id>/risk-override")
@api_doc(body=ws.RiskOverrideSchema, response=ws.ChildRiskSchema)
@login_required
def override_risk(child_id: str):
    """Set or clear the village head's risk level for a child, with a reason (audited)."""
    data = json_body(ws.RiskOverrideSchema())
    child = risk.set_override(actor(), child_id, data["level"], data["reason"], device_id())
    return _risk(child)


@bp.get("/children/<child_id>/risk")
@api_doc(response=ws.ChildRiskSchema)
@login_required
def child_risk(child_id: str):
    """Return a child's level with the assessment, override and reasons behind it."""
    return _risk(risk.child_risk(actor(), child_id))


@bp.get("/risk-reasons")
@api_doc(response=ws.RiskReasonsSchema)
@login_required
def risk_reasons():
    """Return the label of every risk reason key."""
    return ws.RiskReasonsSchema().dump({"reasons": risk.reason_catalogue()})


@bp.get("/review/visits")
@api_doc(query=ws.ReviewQuerySchema, response=page_schema(ws.ReviewedVisitSchema))
@login_required
def review_queue():
    """List the visits waiting for the village head: flagged ones, and corrections of visits under review."""
    args = query_args(ws.ReviewQuerySchema())
    return dump_page(ws.ReviewedVisitSchema(), review.review_queue(actor(), args))


@bp.post("/visits/<visit_id>/review")
@api_doc(body=ws.ReviewDecisionSchema, response=ws.ReviewedVisitSchema)
@login_required
def review_visit(visit_id: str):
    """Accept a flagged visit, or question it back to the worker with a note."""
    data = json_body(ws.ReviewDecisionSchema())
    visit = review.review_visit(actor(), visit_id, data["decision"], data["note"], device_id())
    return ws.ReviewedVisitSchema().dump(visit)


@bp.get("/review/locations")
@api_doc(query=ws.LocationQuerySchema, response=page_schema(ws.ProposedLocationSchema))
@login_required
def location_queue():
    """List the households whose location a visit proposed, waiting for the village head."""
    args = query_args(ws.LocationQuerySchema())
    body = dump_page(ws.ProposedLocationSchema(), review.location_queue(actor(), args))
    body["rows"] = [masked_for(actor(), "household", row) for row in body["rows"]]
    return body


@bp.post("/households/<household_id>/location-review")
@api_doc(body=ws.LocationDecisionSchema, response=HouseholdSchema)
@login_required
def review_location(household_id: str):
    """Confirm a household's proposed location, or reject it (a later visit may propose again)."""
    data = json_body(ws.LocationDecisionSchema())
    household = review.review_location(actor(), household_id, data["decision"], data["visit_id"],
                                       device_id())
    return ENTITIES["household"].shown(actor(), household)


@bp.get("/helpers")
@api_doc(query=ws.HelpersQuerySchema, response=ws.HelpersSchema)
@login_required
def list_helpers():
    """List the people the caller may name as a plan's helper (of one village with village_id; its
    head and the grid workers of one grid with grid_id)."""
    args = query_args(ws.HelpersQuerySchema())
    return ws.HelpersSchema().dump({"rows": plans.plan_helpers(actor(), args.get("village_id"),
                                                                args.get("grid_id"))})


@bp.post("/plans/<plan_id>/approve")
@api_doc(response=ws.PlanStateSchema, headers=[SEEN_VERSION], refusals=SEEN_REFUSAL)
@login_required
def approve_plan(plan_id: str):
    """Approve a draft plan: it becomes active with its first review date."""
    plan = plans.approve_plan(actor(), plan_id, device_id(), request.headers.get("If-Match"))
    db.session.commit()
    return ws.PlanStateSchema().dump(plan)


@bp.post("/plans/<plan_id>/review")
@api_doc(body=ws.PlanReviewSchema, response=ws.PlanStateSchema)
@login_required
def review_plan(plan_id: str):
    """Record a plan's periodic review; the next one falls due after its cadence."""
    data = json_body(ws.PlanReviewSchema())
    plan = plans.review_plan(actor(), plan_id, data["note"], device_id())
    db.session.commit()
    return ws.PlanStateSchema().dump(plan)


@bp.post("/plans/<plan_id>/close")
@api_doc(body=ws.PlanCloseSchema, response=ws.PlanStateSchema)
@login_required
def close_plan(plan_id: str):
    """Close a plan with its outcome."""
    data = json_body(ws.PlanCloseSchema())
    plan = plans.close_plan(actor(), plan_id, data["outcome"], device_id())
    db.session.commit()
    return ws.PlanStateSchema().dump(plan)


@bp.get("/tasks")
@api_doc(response=ws.TasksSchema)
@login_required
def list_tasks():
    """Return the caller's to-do list."""
    return ws.TasksSchema().dump(tasks.list_tasks(actor()))


@bp.get("/children/duplicates")
@api_doc(response=ws.DuplicatesSchema)
@login_required
def list_duplicates():
    """List children in scope that look registered twice."""
    return ws.DuplicatesSchema().dump(duplicates.find_duplicates(actor()))


@bp.post("/children/<child_id>/merge")
@api_doc(body=ws.MergeSchema, response=ws.ChildRiskSchema)
@login_required
def merge_child(child_id: str):
    """Merge a duplicate child into the one it duplicates (audited); answer the survivor."""
    data = json_body(ws.MergeSchema())
    survivor = duplicates.merge_children(actor(), child_id, data["into"], device_id())
    return _risk(survivor)
