"""Schemas of the sync envelope: push batches, ops and pull queries."""
from marshmallow import Schema, fields, validate

from .common import Aware, Choice, DeviceId, StrictSchema, Uuid, Whole

ENTITY_NAMES = ("household", "child", "visit", "venue", "inspection", "joint_operation", "plan",
                "plan_progress", "clue", "staff_check")


class OpSchema(StrictSchema):
    """One operation of a push."""

    op_id = Uuid(required=True)
    entity = Choice(ENTITY_NAMES, required=True)
    action = Choice(("create", "update", "delete"), required=True)
    id = Uuid(required=True)
    base_version = Whole(1, allow_none=True, load_default=None)
    data = fields.Dict(load_default=dict)
    # The pull cursor when the phone recorded the op, where it differs from the push's: what the
    # phone held then (a pull may have taken the record off it since).
    cursor = fields.String(load_default=None, allow_none=True)


class PushSchema(StrictSchema):
    """POST /api/sync/push; ops are validated one by one so one bad op does not stop the rest."""

    device_id = DeviceId(required=True)
    device_time = Aware(allow_none=True)
    schema_version = fields.Integer(load_default=1)
    cursor = fields.String(load_default=None, allow_none=True)  # the phone's pull cursor: what it held
    ops = fields.List(fields.Raw(allow_none=True), required=True)


class OpResultSchema(Schema):
    """The answer to one op."""

    op_id = fields.String()
    status = fields.String()
    id = fields.String()
    version = fields.Integer()
    errors = fields.Dict()
    current = fields.Dict()
    # Applied for a record the phone held that is out of its scope now: the phone lets it go.
    out_of_scope = fields.Boolean()


class PushResultSchema(Schema):
    """The answer of a push."""

    results = fields.List(fields.Nested(OpResultSchema))
    cursor = fields.String()


class PullQuerySchema(StrictSchema):
    """GET /api/sync/pull."""

    cursor = fields.String(load_default=None)
    limit = fields.Integer(load_default=500, validate=validate.Range(
        min=1, max=500, error="每次 1 到 500 条"))


class ChangeSchema(Schema):
    """One change in a pull."""

    entity = fields.String()
    id = fields.String()
    version = fields.Integer()
    action = fields.String()
    data = fields.Dict(allow_none=True)


class PullResultSchema(Schema):
    """The answer of a pull."""

    changes = fields.List(fields.Nested(ChangeSchema))
    cursor = fields.String()
    more = fields.Boolean()
