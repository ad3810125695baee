"""Home visits (走访): facts, never edited in place; a correction amends with a reason."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto import EncryptedField
from ..extensions import db
from .base import UTCDateTime, Versioned, ciphertext, id_column
from .facts import Amendable

VISIT_FLAGS = ("location_mismatch", "no_location", "clock_skew", "future_time", "late_entry",
               "impossible_travel")


class Visit(Amendable, Versioned, db.Model):
    """One visit to a child: where and when, the checklist answers, and the server's flags."""

    __tablename__ = "visit"
    __table_args__ = (Index("ix_visit_child_counted", "child_id", "counted_at", "received_at"),
                      Index("ix_visit_worker_id_visited_at", "worker_id", "visited_at"))
    id: Mapped[str] = id_column()
    child_id: Mapped[str | None] = mapped_column(ForeignKey("child.id"), index=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("household.id"), index=True)
    grid_id: Mapped[str] = mapped_column(ForeignKey("grid.id"), index=True)
    village_id: Mapped[str] = mapped_column(ForeignKey("village.id"), index=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime)  # facts.counted_time
    location_ct: Mapped[bytes | None] = ciphertext()
    location = EncryptedField("json")
    distance_m: Mapped[float | None] = mapped_column(Float)
    template_version: Mapped[int | None] = mapped_column(Integer)
    answers_ct: Mapped[bytes | None] = ciphertext()
    answers = EncryptedField("json")
    notes_ct: Mapped[bytes | None] = ciphertext()
    notes = EncryptedField()
    follow_up: Mapped[bool] = mapped_column(Boolean, default=False)
    flags: Mapped[list] = mapped_column(JSON, default=list)
    review_status: Mapped[str] = mapped_column(String(20), default="none", index=True)
    review_note_ct: Mapped[bytes | None] = ciphertext()
    review_note = EncryptedField()
    reviewed_by: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
