"""The travel track of a span: every standing record with a fix in it, and those at the nearest
moment beyond each edge, whether that moment is near the span or far from it (or there is none)."""
from datetime import UTC, datetime, timedelta

import pytest

from server.extensions import db
from server.models import Visit
from server.services import trust

from ..factories import visit_by_worker_a

START = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
END = START + timedelta(hours=8)


def _visit(town, at: datetime, fix: bool = True, **values) -> str:
    visit = visit_by_worker_a(town, at, **values)
    if fix:
        visit.location = {"lat": 28.2, "lon": 113.1, "accuracy_m": 10}
    db.session.add(visit)
    db.session.flush()
    return visit.id


@pytest.mark.parametrize("before_days", [None, 1, 10])
@pytest.mark.parametrize("after_days", [None, 1, 10])
def test_the_track_holds_the_span_and_the_nearest_moment_beyond_each_edge(ctx, town, before_days, after_days):
    inside = [_visit(town, START), _visit(town, START + timedelta(hours=3)), _visit(town, END)]
    expected = set(inside)
    if before_days is not None:
        at = START - timedelta(days=before_days)
        expected |= {_visit(town, at), _visit(town, at)}  # two at the nearest moment: both
        _visit(town, at - timedelta(days=3))
        replaced = _visit(town, at + timedelta(hours=1))  # nearer, but corrected: no longer stands
        _visit(town, at - timedelta(days=40), amends_id=replaced)  # the correction, far earlier
        _visit(town, at + timedelta(hours=2), fix=False)  # nearer, but says nothing of where
    if after_days is not None:
        at = END + timedelta(days=after_days)
        expected.add(_visit(town, at))
        _visit(town, at + timedelta(hours=5))
        _visit(town, at - timedelta(hours=1), deleted_at=START)
    track = trust.Track.window(town.users["worker_a"], START, END)
    held = {record_id for _, record_id in track.times[Visit]}
    assert held == expected
    db.session.rollback()
