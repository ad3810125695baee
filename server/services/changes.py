"""Keep the latest change of each synced record per scope, numbered in commit order, for pull.

Every flush that inserts or modifies a synced record writes its change-log row here, so no
write path can forget it. Only the newest row per (record, village, grid) is kept: a first pull
reads each record once. When a record's grid or village changes, an `evict` row stays under the
scope it left; a soft delete leaves a `delete` row, its tombstone.
"""
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, event, insert, inspect, update
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import ChangeLog, Counter, utcnow

UNTRACKED = "hulei.untracked"
SYNCED = frozenset({"household", "child", "visit", "venue", "inspection", "joint_operation", "plan",
                    "plan_progress", "clue", "staff_check"})


def lock_writers() -> None:
    """Take the change counter's row lock (held to commit): writers that check, then write, queue here.

    A push takes it first, so concurrent pushes serialize cleanly and a retried op id always finds
    the ledger row of the push that applied it; a correction takes it before checking that its
    record is not corrected already.
    """
    db.session.execute(update(Counter).where(Counter.name == "change").values(value=Counter.value))


def reserve_seqs(connection, count: int, name: str = "change") -> int:
    """Take `count` counter values under the counter's row lock (held to commit); return the first."""
    last = connection.execute(
        update(Counter.__table__).where(Counter.__table__.c.name == name)
        .values(value=Counter.__table__.c.value + count).returning(Counter.__table__.c.value)
    ).scalar()
    if last is None:
        raise RuntimeError(f"counter {name!r} is missing; run the migrations")
    return last - count + 1


def _place(record) -> tuple[str | None, str | None]:
    return getattr(record, "village_id", None), getattr(record, "grid_id", None)


def _old_place(record) -> tuple[str | None, str | None] | None:
    state, old = inspect(record), []
    for name in ("village_id", "grid_id"):
        if name not in state.mapper.attrs:
            old.append(None)
            continue
        history = state.attrs[name].history
        old.append(history.deleted[0] if history.deleted else getattr(record, name))
    old_place = tuple(old)
    return None if old_place == _place(record) else old_place


def _entries(session: Session) -> list[tuple]:
    entries = []
    for record in session.new:
        if getattr(record, "__tablename__", None) in SYNCED:
            entries.append((record, "upsert", _place(record), True))
    for record in session.dirty:
        if getattr(record, "__tablename__", None) not in SYNCED:
            continue
        if not session.is_modified(record, include_collections=False):
            continue
        old = _old_place(record)
        if old is not None:
            entries.append((record, "evict", old, False))
        action = "delete" if getattr(record, "deleted_at", None) is not None else "upsert"
        entries.append((record, action, _place(record), False))
    return entries


def _same(column, value):
    return column.is_(None) if value is None else column == value


@contextmanager
def untracked(session) -> Iterator[None]:
    """Write without change-log rows: for re-encryption, which changes no value a phone holds."""
    session.info[UNTRACKED] = True
    try:
        yield
    finally:
        session.info.pop(UNTRACKED, None)


def _log_changes(session: Session, flush_context, instances) -> None:
    if session.info.get(UNTRACKED):
        return
    entries = _entries(session)
    if entries:
        _write(session.connection(), entries)


def log_inserted(connection, records: list) -> None:
    """Log new records written without the ORM's flush (a run's bulk insert)."""
    _write(connection, [(record, "upsert", _place(record), True) for record in records
                        if getattr(record, "__tablename__", None) in SYNCED])


def _write(connection, entries: list[tuple]) -> None:
    if not entries:
        return
    seq = reserve_seqs(connection, len(entries))
    table = ChangeLog.__table__
    superseded: dict[tuple, list[str]] = {}
    for record, _, place, is_new in entries:
        if not is_new:
            superseded.setdefault((record.__tablename__, *place), []).append(record.id)
    for (entity, village_id, grid_id), ids in superseded.items():
        connection.execute(delete(table).where(
            table.c.entity == entity, table.c.entity_id.in_(ids),
            _same(table.c.village_id, village_id), _same(table.c.grid_id, grid_id)))
    now = utcnow()
    connection.execute(insert(table), [
        {"seq": seq + offset, "entity": record.__tablename__, "entity_id": record.id,
         "action": action, "village_id": village_id, "grid_id": grid_id, "at": now}
        for offset, (record, action, (village_id, grid_id), _) in enumerate(entries)])


def track_changes(session) -> None:
    """Log every change of a synced record flushed through `session` (idempotent)."""
    if not event.contains(session, "before_flush", _log_changes):
        event.listen(session, "before_flush", _log_changes)
