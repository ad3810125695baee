"""Report snapshots, the audit chain, the key canary and sync bookkeeping."""
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto import EncryptedField
from ..extensions import db
from .base import UTCDateTime, ciphertext, id_column, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class ReportSnapshot(db.Model):
    """A submitted monthly or weekly report, frozen with the audit head of that moment."""

    __tablename__ = "report_snapshot"
    # A village's monthly report, a station's weekly one: one a period each (a NULL is never equal).
    __table_args__ = (Index("uq_report_snapshot_kind_period_village_id", "kind", "period", "village_id",
                            unique=True),
                      Index("uq_report_snapshot_kind_period_unit_id", "kind", "period", "unit_id", unique=True))
    id: Mapped[str] = id_column()
    kind: Mapped[str] = mapped_column(String(10))
    period: Mapped[str] = mapped_column(String(10), index=True)
    village_id: Mapped[str | None] = mapped_column(ForeignKey("village.id"), index=True)
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("unit.id"))
    figures: Mapped[dict] = mapped_column(JSON)
    audit_head: Mapped[str] = mapped_column(String(64))
    submitted_by: Mapped[str] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)


class AuditEvent(db.Model):
    """One audited action; `hash` covers the event and the previous event's hash."""

    __tablename__ = "audit_event"
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    entity: Mapped[str | None] = mapped_column(String(30))
    entity_id: Mapped[str | None] = mapped_column(String(64), index=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    reason_ct: Mapped[bytes | None] = ciphertext()
    reason = EncryptedField()
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class KeyCanary(db.Model):
    """A known value encrypted under each key version, so a wrong master key stops the server."""

    __tablename__ = "key_canary"
    key_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class Counter(db.Model):
    """A named counter taken under a row lock inside the writing transaction (commit-ordered)."""

    __tablename__ = "counter"
    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class ChangeLog(db.Model):
    """One committed change of a synced record, in commit order, with the scope it belonged to."""

    __tablename__ = "change_log"
    seq: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[str] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(10))
    village_id: Mapped[str | None] = mapped_column(String(36), index=True)
    grid_id: Mapped[str | None] = mapped_column(String(36), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlaceLeft(db.Model):
    """A place a synced record left, at the change-log position of its move. The change log keeps
    one row a record and place, for pulls; these are every one, so where a record was at a phone's
    position can be told though it moved away and back since (scope.held_at)."""

    __tablename__ = "place_left"
    __table_args__ = (Index("ix_place_left_entity_entity_id_seq", "entity", "entity_id", "seq"),)
    seq: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[str] = mapped_column(String(36))
    village_id: Mapped[str | None] = mapped_column(String(36))
    grid_id: Mapped[str | None] = mapped_column(String(36))


class AppliedOp(db.Model):
    """The ledger of applied sync ops: a retried op id answers its first result again."""

    __tablename__ = "applied_op"
    op_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[str | None] = mapped_column(String(36))
    result: Mapped[dict] = mapped_column(JSON)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
