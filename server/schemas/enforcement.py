"""Schemas of the joint-enforcement views: month coverage, violations, minors found."""

from marshmallow import Schema, fields

from .casework import OperationSchema
from .common import Aware, StrictSchema, Text, Uuid
from .reports import Period
from .validators import validate_id_number
from .venues import VenueSchema


class MonthQuerySchema(StrictSchema):
    """?month=YYYY-MM."""

    month = Period(required=True)  # read as report periods are (periods.parse)


class MonthViewSchema(Schema):
    """A month's operations and the venues they covered."""

    month = fields.String()
    operations = fields.List(fields.Nested(OperationSchema))
    covered = fields.List(fields.Nested(VenueSchema))
    uncovered = fields.List(fields.Nested(VenueSchema))


class ViolationSchema(Schema):
    """One failed checklist item still open."""

    inspection_id = fields.String()
    venue_id = fields.String()
    village_id = fields.String()
    inspector_id = fields.String()
    item = fields.String()
    severity = fields.String()
    deadline = fields.Date()
    overdue = fields.Boolean()


class MinorFoundSchema(StrictSchema):
    """POST /api/inspections/{id}/minor-found."""

    id = Uuid(load_default=None)
    description = Text(4000, 1, required=True)
    name = Text(50, allow_none=True)
    id_number = fields.String(allow_none=True, validate=validate_id_number)
    found_at = Aware(allow_none=True)


class MinorFoundResultSchema(Schema):
    """The clue filed (never whether the minor is in the register)."""

    clue_id = fields.String()


class UnregisteredMinorSchema(Schema):
    """A minor found in a venue, awaiting registration (no clue content)."""

    clue_id = fields.String(attribute="id")
    village_id = fields.String()
    found_at = fields.DateTime(attribute="happened_at")


class LinkMinorSchema(StrictSchema):
    """POST /api/minors-found/{clue_id}/link."""

    child_id = fields.String(required=True)


class PhotoSchema(Schema):
    """A photo's metadata."""

    id = fields.String()
    inspection_id = fields.String(attribute="entity_id")
    mime = fields.String()
    size = fields.Integer()
    created_at = fields.DateTime()


class PhotoListSchema(Schema):
    """GET /api/inspections/{id}/photos."""

    rows = fields.List(fields.Nested(PhotoSchema))
