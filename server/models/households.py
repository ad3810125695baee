"""Households (户) and children (儿童) of the register."""
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto import EncryptedField
from ..crypto.normalize import normalize_id_number, normalize_phone
from ..extensions import db
from .base import UTCDateTime, Versioned, ciphertext, id_column, utcnow

CATEGORIES = ("left_behind", "migrant", "disadvantaged", "disabled", "single_parent",
              "reconstituted", "troubled_family")
RISK_LEVELS = ("low", "medium", "high")
CHILD_STATUSES = ("active", "moved_out", "aged_out")


class Household(Versioned, db.Model):
    """A household in a grid: address, location and guardians, all encrypted."""

    __tablename__ = "household"
    id: Mapped[str] = id_column()
    grid_id: Mapped[str] = mapped_column(ForeignKey("grid.id"), index=True)
    village_id: Mapped[str] = mapped_column(ForeignKey("village.id"), index=True)
    family_type: Mapped[str | None] = mapped_column(String(30))
    address_ct: Mapped[bytes | None] = ciphertext()
    address = EncryptedField()
    location_ct: Mapped[bytes | None] = ciphertext()
    location = EncryptedField("json")
    guardians_ct: Mapped[bytes | None] = ciphertext()
    guardians = EncryptedField("json")
    proposed_location_ct: Mapped[bytes | None] = ciphertext()
    proposed_location = EncryptedField("json")


class GuardianPhone(db.Model):
    """Blind index of each guardian phone of a household, for duplicate and equality search."""

    __tablename__ = "guardian_phone"
    household_id: Mapped[str] = mapped_column(ForeignKey("household.id", ondelete="CASCADE"),
                                              primary_key=True)
    phone_bidx: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)

    @staticmethod
    def normalize(value: str) -> str:
        """Return the phone as it is indexed."""
        return normalize_phone(value)


class Child(Versioned, db.Model):
    """A child of the register: identity encrypted, only ledger groupings in plain."""

    __tablename__ = "child"
    id: Mapped[str] = id_column()
    household_id: Mapped[str] = mapped_column(ForeignKey("household.id"), index=True)
    grid_id: Mapped[str] = mapped_column(ForeignKey("grid.id"), index=True)
    village_id: Mapped[str] = mapped_column(ForeignKey("village.id"), index=True)
    name_ct: Mapped[bytes | None] = ciphertext()
    name = EncryptedField()
    id_number_ct: Mapped[bytes | None] = ciphertext()
    id_number_bidx: Mapped[str | None] = mapped_column(String(32), index=True)
    id_number = EncryptedField(blind_index="id_number_bidx", normalize=normalize_id_number)
    birth_date_ct: Mapped[bytes | None] = ciphertext()
    birth_date = EncryptedField("date")
    birth_year: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(1))
    school_ct: Mapped[bytes | None] = ciphertext()
    school = EncryptedField()
    categories: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    notes_ct: Mapped[bytes | None] = ciphertext()
    notes = EncryptedField()
    risk_level: Mapped[str] = mapped_column(String(10), default="low", index=True)
    risk_reasons: Mapped[list] = mapped_column(JSON, default=list)
    # What its visits call for (risk rules' follow_ups), and for each the visit that decided it
    # (risk.basis_after); None until worked out (migration 0020).
    follow_ups: Mapped[list | None] = mapped_column(JSON(none_as_null=True), default=list)
    follow_up_basis: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), default=dict)
    risk_override: Mapped[str | None] = mapped_column(String(10))
    risk_override_reason_ct: Mapped[bytes | None] = ciphertext()
    risk_override_reason = EncryptedField()
    risk_assessed: Mapped[str | None] = mapped_column(String(10))
    risk_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_visit_due: Mapped[date | None] = mapped_column(Date, index=True)
    last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the worker registered the child (the phone's time, if believable): one registered out of
    # coverage is due for its first visit from that day, not from when the server received it.
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    merged_into_id: Mapped[str | None] = mapped_column(ForeignKey("child.id"), index=True)
