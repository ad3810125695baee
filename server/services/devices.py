"""Revoke lost devices."""
from sqlalchemy import update

from ..errors import ApiError
from ..extensions import db
from ..models import Device, UserSession, utcnow
from . import audit


def revoke_device(actor, device_id: str) -> None:
    """Mark a device revoked and end its sessions."""
    device = db.session.get(Device, device_id)
    if device is None:
        raise ApiError(404)
    now = utcnow()
    if device.revoked_at is None:
        device.revoked_at, device.revoked_by = now, actor.id
    db.session.execute(update(UserSession).where(UserSession.device_id == device_id,
                                                 UserSession.ended_at.is_(None)).values(ended_at=now))
    audit.record_event("device.revoke", actor, "device", device_id)
    db.session.commit()
