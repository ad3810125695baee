"""Schemas of the checklist templates the phone fills in."""
from marshmallow import Schema, fields


class ChecklistOptionSchema(Schema):
    """One option of a multiple-choice home-visit item."""

    key = fields.String()
    label = fields.String()


class ChecklistItemSchema(Schema):
    """One item of a template: venue items carry a severity, home-visit items a kind."""

    key = fields.String()
    label = fields.String()
    help = fields.String()
    severity = fields.String()
    kind = fields.String()
    min = fields.Float()
    max = fields.Float()
    unit = fields.String()
    options = fields.List(fields.Nested(ChecklistOptionSchema))


class ChecklistTemplateSchema(Schema):
    """A versioned template; no venue types means the home-visit template."""

    key = fields.String()
    version = fields.Integer()
    title = fields.String()
    venue_types = fields.List(fields.String())
    items = fields.List(fields.Nested(ChecklistItemSchema))


class CluePromptFactorSchema(Schema):
    """One home-visit finding that is a sign of abuse: its key, label and the risk rules' condition."""

    key = fields.String()
    label = fields.String()
    when = fields.Dict()


class CluePromptSchema(Schema):
    """Which home-visit answers prompt a clue (强制报告) at once, and what the prompt says."""

    message = fields.String()
    factors = fields.List(fields.Nested(CluePromptFactorSchema))


class FollowUpSchema(Schema):
    """What a home visit's answers call for next (e.g. prevention education), and the unit that does it."""

    key = fields.String()
    detail = fields.String()
    unit = fields.String()
    when = fields.Dict()


class ChecklistsSchema(Schema):
    """The answer of GET /api/checklists."""

    templates = fields.List(fields.Nested(ChecklistTemplateSchema))
    clue_prompt = fields.Nested(CluePromptSchema)
    follow_ups = fields.List(fields.Nested(FollowUpSchema))
