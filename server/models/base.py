"""Column types and mixins shared by every model."""
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String, TypeDecorator
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

_REPLAYED_AT: ContextVar[datetime | None] = ContextVar("hulei_replayed_at", default=None)


def utcnow() -> datetime:
    """Return the current time, aware, in UTC (inside `replaying_at`, the moment replayed)."""
    return _REPLAYED_AT.get() or datetime.now(UTC)


@contextmanager
def replaying_at(moment: datetime) -> Iterator[None]:
    """Have everything done inside happen at `moment`, as if it arrived then: the demo town's
    month of field work is recorded through the same services a phone's push goes through."""
    if moment.tzinfo is None:
        raise ValueError("a replayed moment must be aware")
    # In UTC, as utcnow() is: the audit chain hashes the time it was given, and reads back UTC.
    token = _REPLAYED_AT.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _REPLAYED_AT.reset(token)


def new_id() -> str:
    """Return a new random (version 4) UUID string, as `str(uuid.uuid4())` does in a third of its time
    (one is made for each audit event: one or two a pushed visit)."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


_VARIANT = "89ab"


class UTCDateTime(TypeDecorator):
    """Store times as naive UTC; hand them back aware in UTC on every engine."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def id_column() -> Mapped[str]:
    """Return a UUID-string primary key column."""
    return mapped_column(String(36), primary_key=True, default=new_id)


def ciphertext(nullable: bool = True) -> Mapped[bytes | None]:
    """Return a column that holds one EncryptedField's ciphertext."""
    return mapped_column(LargeBinary, nullable=nullable)


class Timestamped:
    """created_at and updated_at, kept by the server."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Versioned(Timestamped):
    """A mutable synced record: version for optimistic concurrency, soft delete for tombstones.

    The services set each new version (`save_record`); every UPDATE also requires the version it
    was read at, so of two writers that read the same version the second fails (StaleDataError,
    answered 409) instead of silently overwriting the first, even when both passed their checks.
    """

    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.version, "version_id_generator": False}
