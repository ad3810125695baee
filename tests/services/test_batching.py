"""A run's bulk rows: `row_values` gives the row the ORM's own flush would have inserted."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from server.database import insert_rows, is_transient
from server.extensions import db
from server.models import AppliedOp, AuditEvent, Visit, new_id, utcnow
from server.services import audit, batching

from ..factories import visit_by_worker_a

TIMESTAMPS = ("created_at", "updated_at")


def _visit(town, **values) -> Visit:
    visit = visit_by_worker_a(town, datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
                              datetime(2026, 11, 2, 10, 0, tzinfo=UTC), **values)
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


def _event(town, **values) -> dict:
    event = {"id": new_id(), "at": datetime(2026, 11, 2, 10, 0, 0, 250000, tzinfo=UTC),
             "actor_id": town.users["worker_a"], "action": "visit.create", "entity": "visit",
             "entity_id": new_id(), "device_id": "phone-0001",
             "detail": {"version": 1, "fields": ["answers", "notes"], "说明": "例行"}, "prev_hash": "0" * 64,
             "reason_ct": None}
    event.update(values)
    event["hash"] = audit._digest(event, None)
    return event


def _stored_event(event_id: str) -> dict:
    row = db.session.execute(select(AuditEvent.__table__).where(AuditEvent.id == event_id)).mappings().one()
    return {k: v for k, v in row.items() if k not in ("seq", "id", "entity_id", "hash")}


def test_rows_inserted_in_bulk_are_stored_as_a_core_insert_stores_them(ctx, town):
    """On PostgreSQL `insert_rows` writes by COPY: times, JSON, text, numbers, bytes and nulls are
    stored as the Core insert stores them; rows that leave out a column with a model default, or
    differ in their columns, are inserted by Core, defaults and all."""
    values = {"flags": ["late_entry"], "review_status": "pending", "follow_up": True, "version": 3,
              "device_id": None, "distance_m": 12.5, "template_version": 2}
    by_copy, by_core = _visit(town, **values), _visit(town, **values)
    insert_rows(db.session.connection(), Visit.__table__, [batching.row_values(by_copy)])
    db.session.execute(insert(Visit.__table__), [batching.row_values(by_core)])
    assert _comparable(_stored(by_copy.id)) == _comparable(_stored(by_core.id))
    assert _stored(by_copy.id)["visited_at"] == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    db.session.expunge_all()
    stored = db.session.get(Visit, by_copy.id)
    assert (stored.answers, stored.location, stored.notes) == (
        {"home_alone": False}, {"lat": 29.1, "lon": 113.2, "accuracy_m": 8}, "监护人在家")

    reason = AuditEvent.reason.seal("audit_event", "x", "补录")
    copied, cored = _event(town, reason_ct=reason), _event(town, reason_ct=reason)
    insert_rows(db.session.connection(), AuditEvent.__table__, [copied])
    db.session.execute(insert(AuditEvent.__table__), [cored])
    assert _stored_event(copied["id"]) == _stored_event(cored["id"])
    assert AuditEvent.reason.open("audit_event", "x", _stored_event(copied["id"])["reason_ct"]) == "补录"

    # Left out: `detail` (a model default, {}: Core inserts them) or `device_id` (none: COPY does).
    plain, short = [_event(town) for _ in range(2)], [_event(town) for _ in range(2)]
    for event in plain:
        del event["detail"]
    for event in short:
        del event["device_id"]
    before = db.session.execute(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)).scalar()
    insert_rows(db.session.connection(), AuditEvent.__table__, plain)
    insert_rows(db.session.connection(), AuditEvent.__table__, short)
    assert [_stored_event(e["id"])["detail"] for e in plain] == [{}, {}]
    assert [_stored_event(e["id"])["device_id"] for e in short] == [None, None]
    numbered = db.session.execute(select(AuditEvent.id).where(AuditEvent.seq > before)
                                  .order_by(AuditEvent.seq)).scalars().all()
    assert numbered == [e["id"] for e in plain + short]  # in the order the rows came
    db.session.rollback()


def test_a_row_refused_in_bulk_raises_as_a_core_insert_does_and_writes_nothing(ctx, town):
    row = {"op_id": new_id(), "user_id": town.users["worker_a"], "device_id": "phone-0001", "entity": "visit",
           "entity_id": new_id(), "result": {"status": "applied"}, "applied_at": utcnow()}
    fresh = {**row, "op_id": new_id()}
    savepoint = db.session.begin_nested()
    with pytest.raises(IntegrityError):
        insert_rows(db.session.connection(), AppliedOp.__table__, [fresh, row, row])
    savepoint.rollback()
    assert db.session.get(AppliedOp, fresh["op_id"]) is None
    insert_rows(db.session.connection(), AppliedOp.__table__, [fresh])
    assert db.session.get(AppliedOp, fresh["op_id"]).result == {"status": "applied"}
    db.session.rollback()


@pytest.mark.parametrize(("refusal", "lost"), [
    ("DeadlockDetected", False), ("LockNotAvailable", False), ("OperationalError", True)])
def test_a_copy_that_meets_a_deadlock_or_a_lost_connection_fails_as_a_statement_would(
        ctx, town, engine_name, monkeypatch, refusal, lost):
    """A deadlock or lock wait in a bulk write is transient (the push answers 503 and the phone
    resends); a connection lost during COPY is also invalidated, not handed to the next request."""
    if engine_name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    import psycopg
    error = getattr(psycopg.errors, refusal, None) or psycopg.OperationalError
    message = "server closed the connection unexpectedly" if lost else "deadlock detected"

    def refuse(self, statement, *args, **kwargs):
        if lost:
            self.connection.close()
        raise error(message)
    row = {"op_id": new_id(), "user_id": town.users["worker_a"], "device_id": "phone-0001", "entity": "visit",
           "entity_id": new_id(), "result": {"status": "applied"}, "applied_at": utcnow()}
    connection = db.session.connection()
    monkeypatch.setattr(psycopg.Cursor, "copy", refuse)
    with pytest.raises(OperationalError) as raised:
        insert_rows(connection, AppliedOp.__table__, [row])
    assert is_transient(raised.value)
    assert raised.value.connection_invalidated is lost
    assert connection.invalidated is lost
    monkeypatch.undo()
    db.session.rollback()
    assert db.session.get(AppliedOp, row["op_id"]) is None
