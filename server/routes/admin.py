"""The town admin's accounts, devices and audit chain."""
from functools import wraps

from flask import Blueprint
from flask_login import login_required

from ..errors import ApiError
from ..schemas.admin import (
    AuditEventSchema,
    AuditQuerySchema,
    AuditVerifySchema,
    DeviceQuerySchema,
    DeviceSchema,
)
from ..schemas.auth import PasswordResetSchema, UserCreateSchema, UserSchema, UserUpdateSchema
from ..schemas.common import PageQuerySchema, dump_page, page_schema
from ..services import audit, devices, users
from .common import actor, api_doc, device_id, json_body, query_args

bp = Blueprint("admin", __name__, url_prefix="/api")


def town_admin_only(view):
    """Let only the town admin through; others get 404 so the endpoint cannot be probed."""
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if actor().role != "town_admin":
            raise ApiError(404)
        return view(*args, **kwargs)
    return wrapper


@bp.get("/users")
@api_doc(query=PageQuerySchema, response=page_schema(UserSchema))
@town_admin_only
def list_users():
    """List every account, a page at a time."""
    return dump_page(UserSchema(), users.list_users(query_args(PageQuerySchema())))


@bp.post("/users")
@api_doc(body=UserCreateSchema, response=UserSchema, status=201)
@town_admin_only
def create_user():
    """Create an account."""
    user = users.create_user(actor(), json_body(UserCreateSchema()))
    return UserSchema().dump(user), 201


@bp.post("/users/<user_id>/password")
@api_doc(body=PasswordResetSchema, status=204)
@town_admin_only
def reset_password(user_id: str):
    """Set the password of an account whose user forgot it; its sessions end."""
    data = json_body(PasswordResetSchema())
    users.reset_password(actor(), user_id, data["new_password"], device_id())
    return "", 204


@bp.patch("/users/<user_id>")
@api_doc(body=UserUpdateSchema, response=UserSchema)
@town_admin_only
def update_user(user_id: str):
    """Change an account's name, scope or active flag."""
    user = users.update_user(actor(), user_id, json_body(UserUpdateSchema(), partial=True),
                             device_id())
    return UserSchema().dump(user)


@bp.get("/devices")
@api_doc(query=DeviceQuerySchema, response=page_schema(DeviceSchema))
@town_admin_only
def list_devices():
    """Page through registered devices with their last login, push and pull."""
    return dump_page(DeviceSchema(), devices.list_devices(query_args(DeviceQuerySchema())))


@bp.post("/devices/<device_id>/revoke")
@api_doc(status=204)
@town_admin_only
def revoke_device(device_id: str):
    """Revoke a lost phone: its sessions end and its next sync wipes it."""
    devices.revoke_device(actor(), device_id)
    return "", 204


@bp.get("/audit")
@api_doc(query=AuditQuerySchema, response=page_schema(AuditEventSchema))
@town_admin_only
def list_audit():
    """Page through audit events, newest first."""
    args = query_args(AuditQuerySchema())
    return dump_page(AuditEventSchema(), audit.list_events(args))


@bp.get("/audit/verify")
@api_doc(response=AuditVerifySchema)
@town_admin_only
def verify_audit():
    """Verify the whole chain."""
    return AuditVerifySchema().dump(audit.verify_chain())
