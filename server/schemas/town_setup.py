"""The town file of `flask setup-town`: the town, its villages and their grids, its units."""
from marshmallow import ValidationError, fields, validate, validates_schema

from ..models import UNIT_KINDS, VILLAGE_KINDS, place_name_key
from .common import StrictSchema, Text


class _Name(fields.String):
    # Stored as matched: a grid typed again in full-width digits or with blanks around it would be a
    # second grid of the same name, which the tool never removes.
    def _deserialize(self, value, attr, data, **kwargs) -> str:
        return place_name_key(super()._deserialize(value, attr, data, **kwargs))


def _name() -> fields.String:
    name = Text(100, 1, required=True)
    return _Name(required=True, validate=[*name.validators, _trimmed])


def _trimmed(value: str) -> None:
    if value != value.strip():
        raise ValidationError("名称前后不能有空白")


def _once(names: list[str], field: str, errors: dict) -> None:
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        errors[field] = [f"重复的名称：{'、'.join(repeated)}"]


class VillageSetupSchema(StrictSchema):
    """A village (村) or community (社区) and its grids, by name."""

    name = _name()
    kind = fields.String(load_default="village", validate=validate.OneOf(VILLAGE_KINDS))
    grids = fields.List(_name(), required=True, validate=validate.Length(min=1, error="至少一个网格"))

    @validates_schema
    def _grids_once(self, data, **kwargs):
        errors: dict = {}
        _once(data.get("grids", []), "grids", errors)
        if errors:
            raise ValidationError(errors)


class UnitSetupSchema(StrictSchema):
    """A responsible unit (责任单位)."""

    name = _name()
    kind = fields.String(required=True, validate=validate.OneOf(UNIT_KINDS))


class TownSetupSchema(StrictSchema):
    """The whole file."""

    town = _name()
    villages = fields.List(fields.Nested(VillageSetupSchema), required=True,
                           validate=validate.Length(min=1, error="至少一个村或社区"))
    units = fields.List(fields.Nested(UnitSetupSchema), load_default=list)

    @validates_schema
    def _names_once(self, data, **kwargs):
        errors: dict = {}
        _once([v["name"] for v in data.get("villages", [])], "villages", errors)
        _once([u["name"] for u in data.get("units", [])], "units", errors)
        if errors:
            raise ValidationError(errors)
