"""List the phones and PCs users logged in from; revoke lost ones."""
from sqlalchemy import select, update

from ..errors import ApiError
from ..extensions import db
from ..models import Device, User, UserSession, utcnow
from . import audit, changes
from .listing import Page, paginate


def revoked() -> ApiError:
    """The answer to anything a revoked device asks: the phone wipes itself on it (pwa api.js)."""
    return ApiError(410, "device_revoked", "该设备已被停用，本机数据将被清除")


def list_devices(args: dict) -> Page:
    """Return a page of devices, newest first, each with its user's username, name and role (town admin)."""
    query = select(Device)
    if args.get("user_id"):
        query = query.where(Device.user_id == args["user_id"])
    if "revoked" in args:
        query = query.where(Device.revoked_at.isnot(None) if args["revoked"]
                            else Device.revoked_at.is_(None))
    page = paginate(query, args["page"], args["per_page"], [Device.created_at.desc(), Device.id])
    users = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_({device.user_id for device in page.rows})))}
    for device in page.rows:
        user = users.get(device.user_id)
        device.username = user.username if user is not None else None
        device.display_name = user.display_name if user is not None else None
        device.role = user.role if user is not None else None
    return page


def revoke_device(actor, device_id: str) -> None:
    """Mark a device revoked and end its sessions.

    Under the writers' lock, taken first as every writer takes it: a push from the device holds
    it from before its device check to its commit, so the push ends before the revoke or is
    refused after it, and the two never wait on each other's rows.
    """
    changes.lock_writers()
    device = db.session.get(Device, device_id)
    if device is None:
        raise ApiError(404)
    now = utcnow()
    if device.revoked_at is None:
        device.revoked_at, device.revoked_by = now, actor.id
    device.recovery_key = None  # what the phone holds unsynced opens no more with a password reset
    db.session.execute(update(UserSession).where(UserSession.device_id == device_id,
                                                 UserSession.ended_at.is_(None)).values(ended_at=now))
    audit.record_event("device.revoke", actor, "device", device_id)
    db.session.commit()

