"""Schemas of venues."""
from marshmallow import fields

from ..models import VENUE_TYPES
from ..services.masking import mask_phone
from .common import Choice, PageQuerySchema, PersonName, RecordSchema, Text, Uuid
from .households import LocationMixin
from .validators import validate_phone


class VenueCreateSchema(LocationMixin):
    """A venue as a client registers it."""

    id = Uuid(load_default=None)
    village_id = fields.String(required=True)
    type = Choice(VENUE_TYPES, required=True)
    name = Text(200, 1, required=True)
    licence_no = Text(100, allow_none=True)
    address = Text(300, allow_none=True)
    contact_name = PersonName(50, allow_none=True)
    contact_phone = fields.String(allow_none=True, validate=validate_phone)
    status = Choice(("open", "closed"), load_default="open")


class VenueUpdateSchema(VenueCreateSchema):
    """A venue edit (partial)."""

    id = Uuid(dump_only=True)


class VenueSchema(RecordSchema):
    """A venue as answers show it; the contact phone masked."""

    village_id = fields.String()
    type = fields.String()
    name = fields.String()
    licence_no = fields.String()
    address = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    contact_name = fields.String()
    contact_phone = fields.Function(lambda v: mask_phone(v.contact_phone))
    status = fields.String()
    last_inspected_at = fields.DateTime()


class VenueQuerySchema(PageQuerySchema):
    """Filters of GET /api/venues."""

    village_id = fields.String()
    type = Choice(VENUE_TYPES)
    status = Choice(("open", "closed"))
