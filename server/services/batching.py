"""A run of creates applied together: lookups prefetched once, one flush at the end.

Sync push applies consecutive creates of a kind that has a prefetch (visits) as one run.
Inside `run()` nothing flushes until the end: `save_record` and the audit chain keep their
state in memory, and lookups are answered from what the prefetch loaded and from what the run
has made so far (`memo`: each child's latest visit, open plans; `tracks`: the worker's travel
track), so each op sees exactly what it would see applied alone. Outside a run every service
behaves as it always has. The caller wraps a run in a savepoint; if anything in it fails, it
rolls back and applies the ops one by one.
"""
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..extensions import db

KEY = "hulei.run"


@dataclass
class Run:
    """What a run knows: scoped records, unused ids, the audit head, lookups it keeps current."""

    known: dict[tuple[type, str], object] = field(default_factory=dict)
    absent: set[tuple[type, str]] = field(default_factory=set)
    audit_head: str | None = None
    tracks: dict[str, object] = field(default_factory=dict)
    memo: dict[object, object] = field(default_factory=dict)


def active() -> Run | None:
    """Return the run in progress on this session, if any."""
    return db.session.info.get(KEY)


@contextmanager
def run() -> Iterator[Run]:
    """Apply writes with deferred flushing; flush once on leaving."""
    if active() is not None:
        raise RuntimeError("runs do not nest")
    current = Run()
    db.session.info[KEY] = current
    try:
        with db.session.no_autoflush:
            yield current
        db.session.flush()
    finally:
        db.session.info.pop(KEY, None)


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
