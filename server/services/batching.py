"""A run of creates applied together: lookups prefetched once, one write per table at the end.

Sync push applies consecutive creates of a kind that has a prefetch (visits) as one run.
Inside `run()` nothing flushes until the end: `save_record` and the audit chain keep their
state in memory; new records of the kinds the run inserts in bulk, its audit events and its
op-ledger rows are queued as rows and written at the end, one insert per table (`insert_rows`),
in the order they were made (the change log gets their rows there too). Lookups are answered
from what the prefetch loaded and from what the run has made so far (`memo`: each child's
latest visit, open plans; `tracks`: the worker's travel track), so each op sees exactly what
it would see applied alone. Outside a run every service behaves as it always has. The caller
wraps a run in a savepoint; if anything in it fails, it rolls back and applies the ops one
by one.
"""
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import inspect

from ..database import insert_rows
from ..extensions import db
from . import changes

# Asked several times an op: a context variable answers without the scoped session's lookups.
_ACTIVE: ContextVar["Run | None"] = ContextVar("hulei_run", default=None)


@dataclass
class Run:
    """What a run knows: scoped records, unused ids, the audit head, lookups it keeps current."""

    known: dict[tuple[type, str], object] = field(default_factory=dict)
    absent: set[tuple[type, str]] = field(default_factory=set)
    audit_head: str | None = None
    tracks: dict[str, object] = field(default_factory=dict)
    memo: dict[object, object] = field(default_factory=dict)
    bulk: set[type] = field(default_factory=set)
    rows: dict[object, list[dict]] = field(default_factory=dict)
    created: list[object] = field(default_factory=list)


def active() -> Run | None:
    """Return the run in progress in this context (thread or request), if any."""
    return _ACTIVE.get()


@contextmanager
def run() -> Iterator[Run]:
    """Apply writes with deferred flushing; flush once on leaving."""
    if active() is not None:
        raise RuntimeError("runs do not nest")
    current = Run()
    token = _ACTIVE.set(current)
    try:
        with db.session.no_autoflush:
            yield current
        db.session.flush()
        _write_rows(current)
    finally:
        _ACTIVE.reset(token)


def _write_rows(current: Run) -> None:
    connection = db.session.connection()
    for table, rows in current.rows.items():
        insert_rows(connection, table, rows)
    changes.log_inserted(connection, current.created)


def insert_in_bulk(model: type) -> None:
    """Have the run in progress insert new records of `model` as rows at its end."""
    current = active()
    if current is not None:
        current.bulk.add(model)


def defer_insert(record) -> bool:
    """Queue a new record for the run's bulk insert if the run takes its kind; say if it did."""
    current = active()
    if current is None or type(record) not in current.bulk:
        return False
    current.rows.setdefault(record.__table__, []).append(row_values(record))
    current.created.append(record)
    return True


def defer_row(table, values: dict) -> bool:
    """Queue a row for the run's insert into `table`, if a run is in progress; say if it did."""
    current = active()
    if current is None:
        return False
    current.rows.setdefault(table, []).append(values)
    return True


def row_values(record) -> dict:
    """Return a new record's column values as the ORM would insert them (None takes the default)."""
    values = {}
    for key, name, default, primary in _columns(type(record)):
        value = record.__dict__.get(key)
        if value is None and default is not None:
            value = default.arg(None) if default.is_callable else default.arg
        if value is None and primary:
            continue
        values[name] = value
    return values


@cache
def _columns(model: type) -> tuple:
    return tuple((attr.key, attr.columns[0].key, attr.columns[0].default, attr.columns[0].primary_key)
                 for attr in inspect(model).column_attrs)


def remember(records, model: type) -> None:
    """Note records the run's actor may see, so scoped lookups of them need no query."""
    current = active()
    if current is not None:
        current.known.update({(model, record.id): record for record in records})


def known(model: type, record_id: str):
    """Return a record the run already knows to be in scope, or None."""
    current = active()
    return None if current is None else current.known.get((model, str(record_id)))


def note_absent(model: type, ids) -> None:
    """Note ids known to be unused, so creating them needs no existence query."""
    current = active()
    if current is not None:
        current.absent.update((model, str(i)) for i in ids)


def take_absent(model: type, record_id: str) -> bool:
    """Say (once) whether `record_id` is known to be unused in this run."""
    current = active()
    if current is None or (model, record_id) not in current.absent:
        return False
    current.absent.discard((model, record_id))
    return True
