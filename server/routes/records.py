"""Scoped REST reads and writes of the registered records, one table of resources."""
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, request
from flask_login import login_required

from ..errors import ApiError
from ..extensions import db
from ..models import Child, Household, Venue
from ..schemas import households as hs
from ..schemas import venues as vs
from ..schemas.common import dump_page, page_schema
from ..services import listing, registry, scope
from .common import actor, device_id, json_body, query_args

bp = Blueprint("records", __name__, url_prefix="/api")


def _category_filter(query, value):
    return query.where(Child.categories.cast(db.String).like(f'%"{value}"%'))


@dataclass(frozen=True)
class Resource:
    """A REST resource: its model, schemas and the services that write it."""

    model: type
    schema: type
    query: type
    create_schema: type
    update_schema: type
    create: Callable
    update: Callable
    filters: dict | None = None


RESOURCES = {
    "households": Resource(Household, hs.HouseholdSchema, hs.HouseholdQuerySchema,
                           hs.HouseholdCreateSchema, hs.HouseholdUpdateSchema,
                           registry.create_household, registry.update_household),
    "children": Resource(Child, hs.ChildSchema, hs.ChildQuerySchema, hs.ChildCreateSchema,
                         hs.ChildUpdateSchema, registry.create_child, registry.update_child,
                         {"category": _category_filter}),
    "venues": Resource(Venue, vs.VenueSchema, vs.VenueQuerySchema, vs.VenueCreateSchema,
                       vs.VenueUpdateSchema, registry.create_venue, registry.update_venue),
}


def _resource(name: str) -> Resource:
    resource = RESOURCES.get(name)
    if resource is None:
        raise ApiError(404)
    return resource


def _check_if_match(record) -> None:
    expected = request.headers.get("If-Match")
    if expected is not None and expected.strip('"') != str(record.version):
        raise ApiError(409, "version_conflict", "记录已被他人修改，请刷新后再编辑")


@bp.get("/<any(households, children, venues):name>")
@login_required
def list_resource(name: str):
    """List records of a resource in the caller's scope."""
    resource = _resource(name)
    args = query_args(resource.query())
    if not scope.can_read(actor(), resource.model):
        raise ApiError(404)
    page = listing.list_records(actor(), resource.model, args, resource.filters)
    return dump_page(resource.schema(), page)


@bp.get("/<any(households, children, venues):name>/<record_id>")
@login_required
def get_resource(name: str, record_id: str):
    """Return one record in scope, or 404."""
    resource = _resource(name)
    return resource.schema().dump(scope.get_scoped(actor(), resource.model, record_id))


@bp.post("/<any(households, children, venues):name>")
@login_required
def create_resource(name: str):
    """Create a record in the caller's scope."""
    resource = _resource(name)
    if not scope.can_read(actor(), resource.model):
        raise ApiError(404)
    data = json_body(resource.create_schema())
    record = resource.create(actor(), data, device_id())
    db.session.commit()
    return resource.schema().dump(record), 201


@bp.patch("/<any(households, children, venues):name>/<record_id>")
@login_required
def update_resource(name: str, record_id: str):
    """Edit a record in scope; If-Match with the version guards against lost updates."""
    resource = _resource(name)
    record = scope.get_scoped(actor(), resource.model, record_id)
    _check_if_match(record)
    data = json_body(resource.update_schema(), partial=True)
    record = resource.update(actor(), record_id, data, device_id())
    db.session.commit()
    return resource.schema().dump(record)


list_resource.api_doc_by_resource = {
    n: {"query": r.query, "response": page_schema(r.schema), "status": 200} for n, r in RESOURCES.items()}
get_resource.api_doc_by_resource = {
    n: {"response": r.schema, "status": 200} for n, r in RESOURCES.items()}
create_resource.api_doc_by_resource = {
    n: {"body": r.create_schema, "response": r.schema, "status": 201} for n, r in RESOURCES.items()}
update_resource.api_doc_by_resource = {
    n: {"body": r.update_schema, "response": r.schema, "status": 200} for n, r in RESOURCES.items()}
