"""Venues, inspections and joint enforcement operations."""
from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto import EncryptedField
from ..crypto.normalize import normalize_phone
from ..extensions import db
from .base import UTCDateTime, Versioned, ciphertext, id_column, utcnow
from .facts import Amendable

VENUE_TYPES = ("hotel", "esports_hotel", "cinema", "internet_cafe", "bar", "ktv", "other")


class Venue(Versioned, db.Model):
    """A hotel, e-sports hotel, cinema, internet cafe, bar, KTV or other venue."""

    __tablename__ = "venue"
    id: Mapped[str] = id_column()
    village_id: Mapped[str] = mapped_column(ForeignKey("village.id"), index=True)
    type: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(200))
    licence_no: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    contact_name_ct: Mapped[bytes | None] = ciphertext()
    contact_name = EncryptedField()
    contact_phone_ct: Mapped[bytes | None] = ciphertext()
    contact_phone_bidx: Mapped[str | None] = mapped_column(String(32), index=True)
    contact_phone = EncryptedField(blind_index="contact_phone_bidx", normalize=normalize_phone)
    status: Mapped[str] = mapped_column(String(10), default="open")
    last_inspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JointOperation(Versioned, db.Model):
    """A monthly joint enforcement action (联合执法行动)."""

    __tablename__ = "joint_operation"
    id: Mapped[str] = id_column()
    date: Mapped[date] = mapped_column(Date, index=True)
    lead_unit: Mapped[str] = mapped_column(String(100))
    units: Mapped[list] = mapped_column(JSON, default=list)
    member_ids: Mapped[list] = mapped_column(JSON, default=list)
    notes_ct: Mapped[bytes | None] = ciphertext()
    notes = EncryptedField()


class Inspection(Amendable, Versioned, db.Model):
    """One checklist inspection of a venue; each failed item carries a rectification deadline."""

    __tablename__ = "inspection"
    __table_args__ = (Index("ix_inspection_inspector_id_inspected_at", "inspector_id",
                            "inspected_at"),)
    id: Mapped[str] = id_column()
    venue_id: Mapped[str] = mapped_column(ForeignKey("venue.id"), index=True)
    village_id: Mapped[str] = mapped_column(ForeignKey("village.id"), index=True)
    operation_id: Mapped[str | None] = mapped_column(ForeignKey("joint_operation.id"), index=True)
    inspector_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    inspected_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime)  # facts.counted_time
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    template_key: Mapped[str | None] = mapped_column(String(40))
    template_version: Mapped[int | None] = mapped_column(Integer)
    results: Mapped[list] = mapped_column(JSON, default=list)
    answer_notes_ct: Mapped[bytes | None] = ciphertext()
    answer_notes = EncryptedField("json")
    notes_ct: Mapped[bytes | None] = ciphertext()
    notes = EncryptedField()
    flags: Mapped[list] = mapped_column(JSON, default=list)
    reinspection_of: Mapped[str | None] = mapped_column(ForeignKey("inspection.id"), index=True)


class Attachment(db.Model):
    """A photo attached to an inspection, encrypted like every personal field."""

    __tablename__ = "attachment"
    id: Mapped[str] = id_column()
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[str] = mapped_column(String(36), index=True)
    village_id: Mapped[str | None] = mapped_column(ForeignKey("village.id"), index=True)
    mime: Mapped[str] = mapped_column(String(30))
    size: Mapped[int] = mapped_column(Integer)
    content_ct: Mapped[bytes | None] = ciphertext()
    content = EncryptedField("bytes")
    created_by: Mapped[str] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
