"""A run's bulk rows: `row_values` gives the row the ORM's own flush would have inserted."""
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from server.extensions import db
from server.models import Visit, new_id, utcnow
from server.services import batching

TIMESTAMPS = ("created_at", "updated_at")


def _visit(town, **values) -> Visit:
    visit = Visit(id=new_id(), child_id=town.children["a1"], household_id=town.households["a1"],
                  grid_id=town.grids["a1"], village_id=town.villages["a"], worker_id=town.users["worker_a"],
                  visited_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
                  received_at=datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
                  counted_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC), **values)
    visit.location = {"lat": 29.1, "lon": 113.2, "accuracy_m": 8}
    visit.answers = {"home_alone": False}
    visit.notes = "监护人在家"
    return visit


def _stored(visit_id: str) -> dict:
    return dict(db.session.execute(select(Visit.__table__).where(Visit.id == visit_id)).mappings().one())


def _comparable(row: dict) -> dict:
    # Ciphertexts bind the row id, so equal values encrypt differently in two rows.
    return {k: v for k, v in row.items() if k not in ("id", *TIMESTAMPS) and not k.endswith("_ct")}


def test_bulk_row_equals_the_orm_insert_with_defaults_and_with_explicit_values(ctx, town):
    for values in ({}, {"flags": ["late_entry"], "review_status": "pending", "follow_up": True, "version": 3,
                        "device_id": "phone-0001", "distance_m": 12.5, "template_version": 2}):
        by_orm, by_row = _visit(town, **values), _visit(town, **values)
        before = utcnow()
        db.session.add(by_orm)
        db.session.flush()
        db.session.execute(insert(Visit.__table__), [batching.row_values(by_row)])
        orm_row, bulk_row = _stored(by_orm.id), _stored(by_row.id)
        assert _comparable(bulk_row) == _comparable(orm_row)
        for name in TIMESTAMPS:  # the same default, called at insert time
            assert before - timedelta(seconds=1) <= bulk_row[name] <= utcnow()
        assert {k for k, v in orm_row.items() if v is None} == {k for k, v in bulk_row.items() if v is None}
        db.session.expunge_all()  # read the stored ciphertexts, not the plaintext the objects keep
        stored = db.session.get(Visit, by_row.id)
        assert (stored.answers, stored.location, stored.notes) == (
            {"home_alone": False}, {"lat": 29.1, "lon": 113.2, "accuracy_m": 8}, "监护人在家")
    db.session.rollback()
