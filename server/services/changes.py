"""Keep the latest change of each synced record per scope, numbered in commit order, for pull.

Every flush that inserts or modifies a synced record writes its change-log row here, so no
write path can forget it. Only the newest row per (record, village, grid) is kept: a first pull
reads each record once. When a record's grid or village changes, an `evict` row stays under the
scope it left (and a `PlaceLeft` row, which no later change supersedes); a soft delete leaves
a `delete` row, its tombstone.
"""
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, event, insert, inspect, select, update
from sqlalchemy.orm import Session

from ..database import insert_rows
from ..extensions import db
from ..models import ChangeLog, Counter, PlaceLeft, utcnow

UNTRACKED = "hulei.untracked"
LOCK_OWNER = "hulei.writers_lock"
SYNCED = frozenset({"household", "child", "visit", "venue", "inspection", "joint_operation", "plan",
                    "plan_progress", "clue", "staff_check"})


def lock_writers() -> None:
    """Take the writers' lock now (the change counter's row, held to commit), before the reads a
    write depends on: writers that check, then write, queue here.

    A push takes it first, so concurrent pushes serialize cleanly and a retried op id always finds
    the ledger row of the push that applied it; a correction takes it before checking that its
    record is not corrected already. A writer that checks nothing need not call it: its first
    write takes it (`track_changes`).
    """
    _lock(db.session())


def write_unlocked(statement):
    """Run a write outside the writers' lock (on the connection, which the hooks below do not see):
    for one that locks a single row, waits on nothing else and commits at once, so it need not
    queue behind a push (a session's last-seen time, a pull's note on its device)."""
    return db.session.connection().execute(statement)


def _lock(session: Session) -> None:
    # Once a transaction, on the connection: a session-level statement would autoflush the
    # caller's pending rows, and take their locks, before the counter's.
    if session.info.get(LOCK_OWNER) is not None:
        return
    connection = session.connection()
    session.info[LOCK_OWNER] = session.get_nested_transaction() or session.get_transaction()
    table = Counter.__table__
    try:
        connection.execute(update(table).where(table.c.name == "change").values(value=table.c.value))
    except BaseException:
        session.info.pop(LOCK_OWNER, None)
        raise


def _lock_before_flush(session: Session, flush_context, instances) -> None:
    if session.info.get(LOCK_OWNER) is None and (session.new or session.deleted or any(
            session.is_modified(record) for record in session.dirty)):
        _lock(session)


def _lock_before_dml(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        _lock(state.session)


def _forget_lock(session: Session, transaction) -> None:
    # A savepoint rolled back releases what it locked; one released keeps it, but forgetting it
    # costs only a second, waitless UPDATE of a row this transaction already holds.
    if session.info.get(LOCK_OWNER) is transaction:
        session.info.pop(LOCK_OWNER, None)


def head_seq() -> int:
    """Return the newest change-log position (read under the writers' lock, none can pass it)."""
    return db.session.scalar(select(Counter.value).where(Counter.name == "change")) or 0


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


def log_left(record, place: tuple[str | None, str | None]) -> None:
    """Log that a record left `place`: a fact filed there for a record that has since moved on
    (`scope.held_at`) is taken off the phones that see only the place it left."""
    _write(db.session.connection(), [(record, "evict", place, False)])


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
    rows = [{"seq": seq + offset, "entity": record.__tablename__, "entity_id": record.id,
             "action": action, "village_id": village_id, "grid_id": grid_id, "at": now}
            for offset, (record, action, (village_id, grid_id), _) in enumerate(entries)]
    insert_rows(connection, table, rows)
    left = [{key: row[key] for key in ("seq", "entity", "entity_id", "village_id", "grid_id")}
            for row in rows if row["action"] == "evict"]
    if left:  # every place left, which the rows above keep only until the record's next change there
        connection.execute(insert(PlaceLeft.__table__), left)


def track_changes(session) -> None:
    """Log every change of a synced record flushed through `session`, and have every transaction
    that writes take the writers' lock before its first write (idempotent).

    The lock first, always: a writer that locked a row (a device, a session) and then the counter
    (its audit event, its change-log rows) would wait on a push that holds the counter and wants
    that row, while the push waited on it. `write_unlocked` is the one way around it.
    """
    for name, listener in (("before_flush", _lock_before_flush), ("before_flush", _log_changes),
                           ("do_orm_execute", _lock_before_dml),
                           ("after_transaction_end", _forget_lock)):
        if not event.contains(session, name, listener):
            event.listen(session, name, listener)
