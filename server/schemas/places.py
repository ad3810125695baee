"""Schemas of villages and grids."""
from marshmallow import Schema, fields


class GridSchema(Schema):
    """A grid in the places tree."""

    id = fields.String()
    name = fields.String()


class VillageSchema(Schema):
    """A village with the grids the caller may see."""

    id = fields.String()
    name = fields.String()
    kind = fields.String()
    grids = fields.List(fields.Nested(GridSchema))


class PlacesSchema(Schema):
    """The answer of GET /api/places."""

    villages = fields.List(fields.Nested(VillageSchema))
