"""One-on-one assistance plans (一对一帮扶) and their progress entries."""
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto import EncryptedField
from ..extensions import db
from .base import UTCDateTime, Versioned, ciphertext, id_column
from .facts import Amendable

MEASURE_KINDS = ("legal_aid", "judicial_aid", "living_aid", "medical", "psychological",
                 "school_transfer", "temporary_guardianship", "other")
PLAN_STATUSES = ("draft", "active", "closed")


class Plan(Versioned, db.Model):
    """An assistance plan for one child, with one named helper and measures."""

    __tablename__ = "plan"
    # A child's plans by status: "no active plan" is asked of every high-risk child (the to-do),
    # which a planner without statistics would otherwise answer from every active plan in town.
    __table_args__ = (Index("ix_plan_child_id_status", "child_id", "status"),)
    id: Mapped[str] = id_column()
    child_id: Mapped[str] = mapped_column(ForeignKey("child.id"))
    grid_id: Mapped[str] = mapped_column(ForeignKey("grid.id"), index=True)
    village_id: Mapped[str] = mapped_column(ForeignKey("village.id"), index=True)
    helper_id: Mapped[str | None] = mapped_column(ForeignKey("user.id"), index=True)
    risk_factors: Mapped[list] = mapped_column(JSON, default=list)
    measures_ct: Mapped[bytes | None] = ciphertext()
    measures = EncryptedField("json")
    review_every_days: Mapped[int] = mapped_column(Integer, default=30)
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    approved_by: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_review_due: Mapped[date | None] = mapped_column(Date, index=True)
    outcome_ct: Mapped[bytes | None] = ciphertext()
    outcome = EncryptedField()
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PlanProgress(Amendable, Versioned, db.Model):
    """A progress entry on a plan, written from the phone; a fact."""

    __tablename__ = "plan_progress"
    id: Mapped[str] = id_column()
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"), index=True)
    grid_id: Mapped[str] = mapped_column(ForeignKey("grid.id"), index=True)
    village_id: Mapped[str] = mapped_column(ForeignKey("village.id"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note_ct: Mapped[bytes | None] = ciphertext()
    note = EncryptedField()
    kind: Mapped[str] = mapped_column(String(20), default="progress")
