"""Joint-enforcement views: a month's coverage, open violations, minors found in venues."""
from flask import Blueprint
from flask_login import login_required

from ..errors import ApiError
from ..extensions import db
from ..models import Inspection
from ..schemas import enforcement as es
from ..schemas.common import PageQuerySchema, dump_page, page_schema
from ..services import enforcement, schedule, scope
from ..services.listing import page_of
from ..services.masking import masked_for
from .common import actor, api_doc, device_id, json_body, query_args

bp = Blueprint("enforcement", __name__, url_prefix="/api")


@bp.get("/operations/month")
@api_doc(query=es.MonthQuerySchema, response=es.MonthViewSchema)
@login_required
def operation_month():
    """Return a month's joint operations and which venues they covered."""
    year, month = map(int, query_args(es.MonthQuerySchema())["month"].split("-"))
    body = es.MonthViewSchema().dump(enforcement.operation_month(actor(), year, month))
    for key in ("covered", "uncovered"):
        body[key] = [masked_for(actor(), "venue", venue) for venue in body[key]]
    return body


@bp.get("/violations")
@api_doc(query=PageQuerySchema, response=page_schema(es.ViolationSchema))
@login_required
def list_violations():
    """Return failed items not yet closed by a passing re-inspection, a page at a time."""
    args = query_args(PageQuerySchema())
    if not scope.can_read(actor(), Inspection):
        raise ApiError(404)
    rows = enforcement.open_violations(actor(), schedule.local_today())
    return dump_page(es.ViolationSchema(), page_of(rows, args["page"], args["per_page"]))


@bp.post("/inspections/<inspection_id>/minor-found")
@api_doc(body=es.MinorFoundSchema, response=es.MinorFoundResultSchema, status=201)
@login_required
def minor_found(inspection_id: str):
    """File a clue for a minor found during an inspection; link the child when known."""
    data = json_body(es.MinorFoundSchema())
    result = enforcement.report_minor_found(actor(), inspection_id, data, device_id())
    db.session.commit()
    return es.MinorFoundResultSchema().dump(result), 201


@bp.get("/minors-found")
@api_doc(query=PageQuerySchema, response=page_schema(es.UnregisteredMinorSchema))
@login_required
def unregistered_minors():
    """List minors found in venues of my village that still need registering, a page at a time."""
    args = query_args(PageQuerySchema())
    rows = enforcement.unregistered_minor_clues(actor())
    return dump_page(es.UnregisteredMinorSchema(), page_of(rows, args["page"], args["per_page"]))


@bp.post("/minors-found/<clue_id>/link")
@api_doc(body=es.LinkMinorSchema, status=204)
@login_required
def link_minor(clue_id: str):
    """Link a minor found in a venue to the child registered for them."""
    data = json_body(es.LinkMinorSchema())
    enforcement.link_minor(actor(), clue_id, data["child_id"], device_id())
    db.session.commit()
    return "", 204
