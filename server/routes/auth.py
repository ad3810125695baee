"""Log in, log out, who am I, change my password, my phone's recovery key."""
import base64

from flask import Blueprint, current_app, session
from flask_login import login_required, login_user, logout_user

from ..schemas.auth import (
    LoginSchema,
    PasswordChangeSchema,
    RecoveryKeyRequestSchema,
    RecoveryKeySchema,
    SessionSchema,
)
from ..security import new_csrf_token
from ..services import auth, users
from .common import actor, api_doc, device_id, json_body

bp = Blueprint("auth", __name__, url_prefix="/api/auth")


@bp.post("/login")
@api_doc(body=LoginSchema, response=SessionSchema)
def login():
    """Check credentials, start a fresh server-side session, return the user and CSRF token."""
    data = json_body(LoginSchema())
    user = auth.authenticate(data["username"], data["password"], current_app.config,
                             data.get("device_id"))
    session.clear()
    auth.start_session(user, data.get("device_id"))
    user.device_id = data.get("device_id")
    login_user(user)
    return _session(user, new_csrf_token(), data.get("device_id"))


@bp.post("/logout")
@api_doc(status=204)
@login_required
def logout():
    """End this session on the server and clear the cookie."""
    auth.end_session(actor())
    logout_user()
    session.clear()
    return "", 204


@bp.get("/me")
@api_doc(response=SessionSchema)
@login_required
def me():
    """Return the logged-in user and the CSRF token."""
    return _session(actor(), session.get("csrf") or new_csrf_token(), device_id())


def _session(user, csrf_token: str, device: str | None) -> dict:
    user.unit_member_ids = sorted(users.unit_members(user.unit_id))
    user.unit_name = users.unit_name(user.unit_id)
    return SessionSchema().dump({"user": user, "csrf_token": csrf_token,
                                 "recovery_key_id": auth.recovery_key_id(device)})


@bp.post("/password")
@api_doc(body=PasswordChangeSchema, status=204)
@login_required
def change_password():
    """Change my password; every session of mine ends, this one included."""
    data = json_body(PasswordChangeSchema())
    auth.change_password(actor(), data["old_password"], data["new_password"], current_app.config, device_id())
    logout_user()
    session.clear()
    return "", 204


@bp.post("/recovery-key")
@api_doc(body=RecoveryKeyRequestSchema, response=RecoveryKeySchema)
@login_required
def recovery_key():
    """The key this session's device wraps its data key under besides the password (audited)."""
    data = json_body(RecoveryKeyRequestSchema())
    key = auth.recovery_key(actor(), device_id(), data["password"], current_app.config)
    return RecoveryKeySchema().dump({"recovery_key": base64.urlsafe_b64encode(key).rstrip(b"=").decode(),
                                     "recovery_key_id": auth.key_id(key)})
