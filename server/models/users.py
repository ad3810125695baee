"""Accounts, their grids, server-side sessions, devices and failed logins."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto import EncryptedField
from ..extensions import db
from .base import Timestamped, UTCDateTime, ciphertext, id_column, utcnow
from .places import Grid

ROLES = ("grid_worker", "village_head", "inspector", "police", "town_admin")

user_grid = Table(
    "user_grid",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("grid_id", ForeignKey("grid.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, Timestamped, db.Model):
    """A person who logs in, with one role and the places or unit it covers."""

    __tablename__ = "user"
    # Names differing only in case are one name (services.users.create_user); this holds it
    # against two creates racing and any write that bypasses the service.
    __table_args__ = (Index("uq_user_lower_username", text("lower(username)"), unique=True),)
    id: Mapped[str] = id_column()
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name_ct: Mapped[bytes | None] = ciphertext()
    display_name = EncryptedField()
    role: Mapped[str] = mapped_column(String(20))
    town_id: Mapped[str | None] = mapped_column(ForeignKey("town.id"))
    village_id: Mapped[str | None] = mapped_column(ForeignKey("village.id"), index=True)
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("unit.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set by a town admin's reset: the admin knows it; the app asks its user to choose their own.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    grids: Mapped[list[Grid]] = relationship(secondary=user_grid, order_by=Grid.name)

    session_token = None
    device_id = None

    def get_id(self) -> str | None:
        """Return the opaque session token flask-login keeps in the cookie."""
        return self.session_token

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def grid_ids(self) -> list[str]:
        """Return the ids of the grids this user covers."""
        return [g.id for g in self.grids]


class UserSession(db.Model):
    """A server-side login session; the cookie holds only its random token."""

    __tablename__ = "user_session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str | None] = mapped_column(String(64), index=True)
    session_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Device(Timestamped, db.Model):
    """A phone or PC a user logged in from; revoking it wipes it at its next sync."""

    __tablename__ = "device"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    # The phone keeps its data key wrapped under this too: a password reset by the town admin still
    # opens what it holds unsynced (devices.recovery_key). Erased when the device is revoked.
    recovery_key_ct: Mapped[bytes | None] = ciphertext()
    recovery_key = EncryptedField(kind="bytes")


class LoginFailure(db.Model):
    """One failed login, keyed by a keyed hash of the lowercased username."""

    __tablename__ = "login_failure"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_key: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
