"""Schemas of households and children: one for answers, one for creates, one for queries."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from pypinyin import lazy_pinyin

from ..models import CATEGORIES, CHILD_STATUSES, RISK_LEVELS
from ..services.masking import mask_id_number, mask_phone
from ..services.schedule import first_visit_due
from .common import (
    Aware,
    Choice,
    Number,
    PageQuerySchema,
    Past,
    PersonName,
    Reason,
    RecordSchema,
    StrictSchema,
    Text,
    Uuid,
)
from .validators import validate_id_number, validate_lat, validate_lon, validate_phone

FAMILY_TYPES = ("normal", "single_parent", "reconstituted", "troubled", "left_behind", "migrant")


class GuardianSchema(StrictSchema):
    """A guardian of a household."""

    name = PersonName(50, 1, required=True)
    relation = Text(20, required=True)
    phone = fields.String(allow_none=True, validate=validate_phone)


COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")


class LocationMixin(StrictSchema):
    """lat and lon, both or neither, in WGS-84 or as a Chinese web map gives them (converted on save)."""

    lat = Number(allow_none=True, validate=validate_lat)
    lon = Number(allow_none=True, validate=validate_lon)
    coord_system = Choice(COORD_SYSTEMS)

    @validates_schema
    def both_or_neither(self, data, **kwargs):
        if ("lat" in data) != ("lon" in data) or (data.get("lat") is None) != (data.get("lon") is None):
            raise ValidationError("经纬度需同时提供", "lat")


class HouseholdCreateSchema(LocationMixin):
    """A household as a client creates it."""

    id = Uuid(load_default=None)
    grid_id = fields.String(required=True)
    address = Text(200, 1, required=True)
    family_type = Choice(FAMILY_TYPES, load_default="normal")
    guardians = fields.List(fields.Nested(GuardianSchema), load_default=list,
                            validate=validate.Length(max=10, error="最多 10 位监护人"))


class HouseholdUpdateSchema(HouseholdCreateSchema):
    """A household edit (partial)."""

    id = Uuid(dump_only=True)


class HouseholdSchema(RecordSchema):
    """A household as answers show it; phones masked."""

    grid_id = fields.String()
    village_id = fields.String()
    address = fields.String()
    family_type = fields.String()
    lat = fields.Function(lambda h: (h.location or {}).get("lat"))
    lon = fields.Function(lambda h: (h.location or {}).get("lon"))
    guardians = fields.Function(lambda h: [
        {**g, "phone": mask_phone(g.get("phone"))} for g in (h.guardians or [])])
    location_proposal = fields.Function(lambda h: h.proposed_location)


class HouseholdQuerySchema(PageQuerySchema):
    """Filters of GET /api/households."""

    grid_id = fields.String()
    village_id = fields.String()


class ChildCreateSchema(StrictSchema):
    """A child as a client creates it."""

    id = Uuid(load_default=None)
    household_id = fields.String(required=True)
    name = PersonName(50, 1, required=True)
    id_number = fields.String(allow_none=True, validate=validate_id_number)
    birth_date = Past(allow_none=True)
    sex = Choice(("F", "M"), allow_none=True)
    school = Text(100, allow_none=True)
    categories = fields.List(Choice(CATEGORIES), load_default=list)
    status = Choice(CHILD_STATUSES, load_default="active")
    notes = Text(2000, allow_none=True)
    # When the phone registered it, offline perhaps; the server believes it within limits.
    registered_at = Aware(load_default=None, allow_none=True)


class ChildUpdateSchema(ChildCreateSchema):
    """A child edit (partial)."""

    id = Uuid(dump_only=True)
    registered_at = Aware(dump_only=True)


def name_initials(name: str | None) -> str:
    """Return the lower-case pinyin initials of a name ("oymy" for 欧阳明月), for search on the phone."""
    return "".join(s[0] for s in lazy_pinyin(name or "") if s and s[0].isalnum()).lower()


class ChildSchema(RecordSchema):
    """A child as answers show it; the ID number masked."""

    household_id = fields.String()
    grid_id = fields.String()
    village_id = fields.String()
    name = fields.String()
    name_initials = fields.Function(lambda c: name_initials(c.name))
    id_number = fields.Function(lambda c: mask_id_number(c.id_number))
    birth_date = fields.Date()
    sex = fields.String()
    school = fields.String()
    categories = fields.List(fields.String())
    status = fields.String()
    notes = fields.String()
    risk_level = fields.String()
    risk_reasons = fields.List(fields.String())
    follow_ups = fields.List(fields.String())  # the keys of GET /api/checklists' follow_ups
    next_visit_due = fields.Date()
    # A child never visited has no next_visit_due yet; the phone lists it overdue as the server does.
    first_visit_due = fields.Function(lambda c: _day(first_visit_due(c)))
    last_visit_at = fields.DateTime()
    registered_at = fields.DateTime()


def _day(day):
    return None if day is None else day.isoformat()


class ChildQuerySchema(PageQuerySchema):
    """Filters of GET /api/children."""

    grid_id = fields.String()
    village_id = fields.String()
    household_id = fields.String()
    category = Choice(CATEGORIES)
    risk_level = Choice(RISK_LEVELS)
    status = Choice(CHILD_STATUSES)


class RevealSchema(StrictSchema):
    """POST /api/children/{id}/reveal."""

    field = Choice(("id_number", "guardian_phones", "name"), required=True)
    reason = Reason("请写明查看理由（4 到 500 个字符）")


class RevealedSchema(Schema):
    """The revealed value."""

    value = fields.Raw()
