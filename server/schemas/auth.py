"""Schemas of login, the current user and password changes."""
from marshmallow import Schema, fields, validate

from ..models import ROLES
from .common import Choice, DeviceId, StrictSchema, Text


class LoginSchema(StrictSchema):
    """POST /api/auth/login."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    device_id = DeviceId()


class PasswordChangeSchema(StrictSchema):
    """POST /api/auth/password."""

    old_password = fields.String(required=True, validate=validate.Length(max=256))
    new_password = fields.String(required=True, validate=validate.Length(max=256))


class PasswordResetSchema(StrictSchema):
    """POST /api/users/{id}/password (town admin)."""

    new_password = fields.String(required=True, validate=validate.Length(max=256))


class ScopeSchema(Schema):
    """What a user covers."""

    town_id = fields.String(allow_none=True)
    village_id = fields.String(allow_none=True)
    grid_ids = fields.List(fields.String())
    unit_id = fields.String(allow_none=True)


class UserSchema(Schema):
    """A user as answers show it."""

    id = fields.String()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    active = fields.Boolean()
    must_change_password = fields.Boolean()  # the town admin set it: the app asks for one's own
    scope = fields.Method("get_scope")

    def get_scope(self, user) -> dict:
        return ScopeSchema().dump({"town_id": user.town_id, "village_id": user.village_id,
                                   "grid_ids": user.grid_ids, "unit_id": user.unit_id})


class SessionUserSchema(UserSchema):
    """The user a session answer names, with what the phone needs of their unit."""

    # Whose findings are the unit's to follow up (an inspector's rectifications), as the to-do has it.
    unit_member_ids = fields.List(fields.String())
    unit_name = fields.String(allow_none=True)  # the unit whose own staff an inspector checks


class SessionSchema(Schema):
    """The answer of login and /me."""

    user = fields.Nested(SessionUserSchema)
    csrf_token = fields.String()
    # Names the session device's recovery key (null: none yet): a phone whose wrapping was made
    # under another (a database restored from before it) makes it again.
    recovery_key_id = fields.String(allow_none=True)


class RecoveryKeyRequestSchema(StrictSchema):
    """POST /api/auth/recovery-key: the password again (a live session alone gets no key)."""

    password = fields.String(required=True, validate=validate.Length(max=256))


class RecoveryKeySchema(Schema):
    """The answer of POST /api/auth/recovery-key: 32 random bytes, base64url without padding, and
    the id sessions name it by."""

    recovery_key = fields.String()
    recovery_key_id = fields.String()


class UserCreateSchema(StrictSchema):
    """POST /api/users (town admin)."""

    username = fields.String(required=True)  # the rule is the service's, shared with create-user
    password = fields.String(required=True, validate=validate.Length(max=256))
    display_name = Text(50, required=True)
    role = Choice(ROLES, required=True)
    village_id = fields.String(allow_none=True)
    grid_ids = fields.List(fields.String(), load_default=list)
    unit_id = fields.String(allow_none=True)


class UserUpdateSchema(StrictSchema):
    """PATCH /api/users/{id} (town admin)."""

    display_name = Text(50, 1)
    active = fields.Boolean()
    village_id = fields.String(allow_none=True)
    grid_ids = fields.List(fields.String())
    unit_id = fields.String(allow_none=True)
