"""Facts (visits, inspections, plan progress, clues): never edited in place; a correction is a new
record that names the one it amends and says why, and the amended one no longer stands."""
from datetime import datetime
from functools import cache

from sqlalchemy import ForeignKey, exists, inspect
from sqlalchemy.orm import Mapped, aliased, declared_attr, mapped_column

from ..crypto import EncryptedField
from .base import ciphertext


class Amendable:
    """The record this one corrects, and why (encrypted: a reason can name people)."""

    @declared_attr
    def amends_id(cls) -> Mapped[str | None]:
        return mapped_column(ForeignKey(f"{cls.__tablename__}.id"), index=True)

    amend_reason_ct: Mapped[bytes | None] = ciphertext()
    amend_reason = EncryptedField()


def counted_time(made: datetime, received: datetime) -> datetime:
    """Return when a fact counts as made (its `counted_at`, stamped as it is received): the time the
    phone gave, or when the server received it if the phone dated it later. Nothing is made after
    it arrived: a clock running ahead must not put a fact past the ones that follow it (a child's
    latest visit, a venue's last inspection)."""
    return min(made, received)


def stands(record) -> tuple:
    """Return the conditions under which `record` (a fact's model or an alias of it) stands: not
    deleted, and no amendment replaced it. A replaced record no longer says what happened."""
    amendment = _amendment_of(inspect(record).mapper.class_)
    return record.deleted_at.is_(None), ~exists().where(amendment.amends_id == record.id)


@cache
def _amendment_of(model: type):
    # One alias a kind: building a fresh alias adapts every column again, on each statement built
    # (twice a pushed visit). Each use is its own EXISTS, so one alias name serves them all.
    return aliased(model)


def standing_ids(records) -> dict[str, str]:
    """Map each of these facts' ids to the id of the record that stands for it: itself, or the last
    correction in its chain of amendments (what `stands()` says in SQL, for records already loaded)."""
    replaced_by = {r.amends_id: r.id for r in records if r.amends_id}
    standing = {}
    for record in records:
        current, seen = record.id, {record.id}
        while current in replaced_by and replaced_by[current] not in seen:
            current = replaced_by[current]
            seen.add(current)
        standing[record.id] = current
    return standing
