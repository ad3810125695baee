"""Schemas of the ledgers: their filters and the page they answer."""
from marshmallow import Schema, ValidationError, fields, validates_schema

from ..models import CATEGORIES, RISK_LEVELS
from .common import Choice, PageQuerySchema, Text


class LedgerQuerySchema(PageQuerySchema):
    """Filters of GET /api/ledgers/{name}; format csv or xlsx exports (audited)."""

    village_id = fields.String()
    grid_id = fields.String()
    category = Choice(CATEGORIES)
    risk_level = Choice(RISK_LEVELS)
    overdue = fields.Boolean(load_default=False)
    follow_up = fields.Boolean(load_default=False)  # children a visit found wanting a follow-up
    q = Text(50, 1)
    format = Choice(("json", "csv", "xlsx"), load_default="json")
    unmasked = fields.Boolean(load_default=False)
    reason = Text(500)

    @validates_schema
    def unmasked_only_for_files(self, data, **kwargs):
        if data.get("unmasked") and data.get("format") == "json":
            raise ValidationError("只有导出文件时可以选择不脱敏", "unmasked")


class LedgerColumnSchema(Schema):
    """One column: the key of the rows' values and its Chinese header."""

    key = fields.String()
    label = fields.String()


class LedgerSchema(Schema):
    """A ledger page: title, columns, rows (display values keyed by column, plus ids), paging."""

    title = fields.String()
    columns = fields.List(fields.Nested(LedgerColumnSchema))
    rows = fields.List(fields.Dict())
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
