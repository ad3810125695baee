"""A run's prefetch finds each child's latest standing visit whether or not the child's last visit
time is in step with its visits: the same visit the full search finds."""
from datetime import UTC, datetime, timedelta

import pytest

from server.extensions import db
from server.models import Child, Visit
from server.services import batching, risk

from ..factories import visit_by_worker_a

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _visit(town, counted: int, received: int = 0, **values) -> Visit:
    at = START + timedelta(hours=counted)
    visit = visit_by_worker_a(town, at, at + timedelta(minutes=5 + received), **values)
    db.session.add(visit)
    db.session.flush()
    return visit


def _prefetched(child_id: str) -> str | None:
    with batching.run() as run:
        risk.prefetch_latest_visits({child_id})
        found = run.memo[("latest_visit", child_id)]
    return None if found is None else found.id


@pytest.mark.parametrize("last_visit", ["none", "in_step", "later_than_all", "earlier_than_latest"])
def test_the_prefetch_finds_the_latest_standing_visit_whatever_the_last_visit_time_says(
        ctx, town, last_visit):
    first, tied_early, tied_late = _visit(town, 1), _visit(town, 3, 0), _visit(town, 3, 2)
    replaced = _visit(town, 5)
    _visit(town, 2, amends_id=replaced.id)  # its correction, made earlier: the latest is the later of the tie
    _visit(town, 6, deleted_at=START)
    child = db.session.get(Child, town.children["a1"])
    child.last_visit_at = {"none": None, "in_step": tied_late.counted_at,
                           "later_than_all": START + timedelta(days=9),
                           "earlier_than_latest": first.counted_at}[last_visit]
    db.session.flush()
    assert risk.latest_visit(child.id).id == tied_late.id
    assert _prefetched(child.id) == tied_late.id
    assert tied_early.id != tied_late.id
    db.session.rollback()


def test_the_prefetch_finds_none_for_a_child_never_visited(ctx, town):
    assert _prefetched(town.children["a1"]) is None
    db.session.rollback()
