"""Scoped REST reads and writes of every synced record kind, from the one entity table."""

from flask import Blueprint, request
from flask_login import login_required

from ..errors import ApiError
from ..extensions import db
from ..models import Child
from ..schemas import casework as cs
from ..schemas import households as hs
from ..schemas import venues as vs
from ..schemas.common import PageQuerySchema, dump_page, filter_schema, page_schema
from ..services import listing, scope
from ..services.masking import masked_for
from ..sync.entities import ENTITIES
from ..sync.push import SyncContext
from .common import actor, device_id, json_body, query_args

bp = Blueprint("records", __name__, url_prefix="/api")

PATHS = {"households": "household", "children": "child", "visits": "visit", "venues": "venue",
         "inspections": "inspection", "operations": "joint_operation", "plans": "plan",
         "plan_progress": "plan_progress", "staff_checks": "staff_check", "clues": "clue"}
OWN_FILTERS = {"households": hs.HouseholdQuerySchema, "children": hs.ChildQuerySchema,
               "venues": vs.VenueQuerySchema, "visits": cs.VisitQuerySchema}
QUERIES = {path: filter_schema(ENTITIES[name].model, ENTITIES[name].schema,
                               OWN_FILTERS.get(path, PageQuerySchema)) for path, name in PATHS.items()}
MUTABLE = [path for path, name in PATHS.items() if not ENTITIES[name].is_fact]
ANY_PATH = f"<any({', '.join(PATHS)}):name>"
ANY_MUTABLE = f"<any({', '.join(MUTABLE)}):name>"


def _category_filter(query, value):
    return query.where(Child.categories.cast(db.String).like(f'%"{value}"%'))


FILTERS = {"children": {"category": _category_filter}}


def _entity(name: str, creating: bool = False):
    entity = ENTITIES[PATHS[name]]
    # A clue is filed by anyone and read back by almost no one: filing needs leave to write only.
    if not (scope.can_read(actor(), entity.model) or creating and scope.can_write(actor(), entity.model)):
        raise ApiError(404)
    return entity


def _check_if_match(record) -> None:
    # Without the version the edit rests on, a stale copy would overwrite newer edits unseen.
    expected = request.headers.get("If-Match")
    if expected is None:
        raise ApiError(428, "version_required", "请在 If-Match 中提供所修改记录的版本号")
    if expected.strip('"') != str(record.version):
        raise ApiError(409, "version_conflict", "记录已被他人修改，请刷新后再编辑")


@bp.get(f"/{ANY_PATH}")
@login_required
def list_resource(name: str):
    """List records of one kind in the caller's scope."""
    args = query_args(QUERIES[name]())
    entity = _entity(name)
    page = listing.list_records(actor(), entity.model, args, FILTERS.get(name))
    body = dump_page(entity.schema(), page)
    body["rows"] = [masked_for(actor(), entity.name, row) for row in body["rows"]]
    return body


@bp.get(f"/{ANY_PATH}/<record_id>")
@login_required
def get_resource(name: str, record_id: str):
    """Return one record in scope, or 404."""
    entity = _entity(name)
    return entity.shown(actor(), scope.get_scoped(actor(), entity.model, record_id))


@bp.post(f"/{ANY_PATH}")
@login_required
def create_resource(name: str):
    """Create a record in the caller's scope (facts too: a visit entered at the desk)."""
    entity = _entity(name, creating=True)
    data = json_body(entity.create_schema())
    record = entity.create(actor(), data, SyncContext(device_id(), None))
    db.session.commit()
    return entity.filed(actor(), record), 201


@bp.patch(f"/{ANY_MUTABLE}/<record_id>")
@login_required
def update_resource(name: str, record_id: str):
    """Edit a record in scope: If-Match must name the version the edit rests on (428 without)."""
    entity = _entity(name)
    stored = scope.get_scoped(actor(), entity.model, record_id)
    data = json_body(entity.update_schema(), partial=True)
    _check_if_match(stored)
    record = entity.update(actor(), record_id, data, device_id())
    db.session.commit()
    return entity.shown(actor(), record)


IF_MATCH = {"name": "If-Match", "required": True, "schema": {"type": "string"},
            "description": "所修改记录的版本号（version）"}
REFUSED_EDITS = {"409": "version_conflict：记录已被他人修改", "428": "version_required：缺少 If-Match"}


def _docs(kind: str, paths) -> dict:
    docs = {}
    for path in paths:
        entity = ENTITIES[PATHS[path]]
        if kind == "list":
            docs[path] = {"query": QUERIES[path], "response": page_schema(entity.schema)}
        elif kind == "get":
            docs[path] = {"response": entity.schema}
        elif kind == "create":
            docs[path] = {"body": entity.create_schema, "response": entity.schema, "status": 201}
        else:  # an edit is loaded partially and rests on If-Match
            docs[path] = {"body": entity.update_schema(partial=True), "response": entity.schema,
                          "headers": [IF_MATCH], "refusals": REFUSED_EDITS}
    return docs


list_resource.api_doc_by_resource = _docs("list", PATHS)
get_resource.api_doc_by_resource = _docs("get", PATHS)
create_resource.api_doc_by_resource = _docs("create", PATHS)
update_resource.api_doc_by_resource = _docs("update", MUTABLE)
