"""Clues (强制报告) routed to the police, and staff record checks (从业查询)."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto import EncryptedField
from ..crypto.normalize import normalize_id_number
from ..extensions import db
from .base import UTCDateTime, Versioned, ciphertext, id_column
from .facts import Amendable

CLUE_STATUSES = ("new", "received", "closed")
CLUE_OUTCOMES = ("case_filed", "no_case", "referred", "other")


class Clue(Amendable, Versioned, db.Model):
    """A mandatory report of suspected abuse; sealed: only police and the town office read it.

    The police station receives it (new → received) and closes it with an outcome and a note."""

    __tablename__ = "clue"
    id: Mapped[str] = id_column()
    reporter_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    child_id: Mapped[str | None] = mapped_column(ForeignKey("child.id"), index=True)
    village_id: Mapped[str | None] = mapped_column(ForeignKey("village.id"), index=True)
    description_ct: Mapped[bytes | None] = ciphertext()
    description = EncryptedField()
    place_ct: Mapped[bytes | None] = ciphertext()
    place = EncryptedField()
    happened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_by: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_note_ct: Mapped[bytes | None] = ciphertext()
    outcome_note = EncryptedField()
    # Who the report is about, as the register had the child when it was filed (name, sex, birth
    # date, village, address): the police act on it and read no child records.
    subject_ct: Mapped[bytes | None] = ciphertext()
    subject = EncryptedField("json")
    source_visit_id: Mapped[str | None] = mapped_column(ForeignKey("visit.id"))
    source_inspection_id: Mapped[str | None] = mapped_column(ForeignKey("inspection.id"))


class StaffCheck(Versioned, db.Model):
    """A pre-employment or periodic record check of someone who works close to minors."""

    __tablename__ = "staff_check"
    id: Mapped[str] = id_column()
    person_name_ct: Mapped[bytes | None] = ciphertext()
    person_name = EncryptedField()
    id_number_ct: Mapped[bytes | None] = ciphertext()
    id_number_bidx: Mapped[str | None] = mapped_column(String(32), index=True)
    id_number = EncryptedField(blind_index="id_number_bidx", normalize=normalize_id_number)
    employer_kind: Mapped[str] = mapped_column(String(10))
    employer_id: Mapped[str] = mapped_column(String(36), index=True)
    village_id: Mapped[str | None] = mapped_column(ForeignKey("village.id"), index=True)
    checked_on: Mapped[date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(20))
    next_due: Mapped[date | None] = mapped_column(Date, index=True)
