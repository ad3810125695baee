"""Schemas of audit events and the chain check."""
from marshmallow import Schema, fields

from .common import PageQuerySchema


class AuditQuerySchema(PageQuerySchema):
    """Filters of GET /api/audit."""

    action = fields.String()
    entity_id = fields.String()
    actor_id = fields.String()


class AuditEventSchema(Schema):
    """One audit event (the reason stays sealed)."""

    seq = fields.Integer()
    at = fields.DateTime()
    actor_id = fields.String()
    action = fields.String()
    entity = fields.String()
    entity_id = fields.String()
    device_id = fields.String()
    detail = fields.Dict()
    prev_hash = fields.String()
    hash = fields.String()


class AuditVerifySchema(Schema):
    """The answer of GET /api/audit/verify."""

    ok = fields.Boolean()
    events = fields.Integer()
    head = fields.String()
    broken_at = fields.Dict()


class DeviceQuerySchema(PageQuerySchema):
    """Filters of GET /api/devices."""

    user_id = fields.String()
    revoked = fields.Boolean()


class DeviceSchema(Schema):
    """A registered device and when it last logged in, pushed and pulled."""

    id = fields.String()
    user_id = fields.String()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    created_at = fields.DateTime()
    last_login_at = fields.DateTime()
    last_push_at = fields.DateTime()
    last_pull_at = fields.DateTime()
    revoked_at = fields.DateTime()
    revoked_by = fields.String()
    # The phone keeps its data key wrapped under the device's recovery key: a reset password opens it.
    recoverable = fields.Function(lambda device: device.recovery_key_ct is not None)
