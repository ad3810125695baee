"""The writers' lock (changes.track_changes): every transaction that writes takes the change
counter before its first write, once, whatever way it writes; `write_unlocked` is the one way
around it; a read takes nothing."""
import re
from contextlib import contextmanager

from sqlalchemy import event, select, update

from server.extensions import db
from server.models import Device, Grid, User, UserSession
from server.services.changes import write_unlocked

WRITE = re.compile(r'\s*(INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)', re.IGNORECASE)


@contextmanager
def writes():
    """Collect (verb, table) of every write statement sent to the database, in order."""
    seen: list[tuple[str, str]] = []

    def note(conn, cursor, statement, params, context, executemany):
        match = WRITE.match(statement)
        if match:
            seen.append((match.group(1).split()[0].upper(), match.group(2)))
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


COUNTER = ("UPDATE", "counter")


def test_a_flushed_row_takes_the_counter_first_and_once(ctx, town):
    with writes() as seen:
        db.session.add(Device(id="phone-lock-0001", user_id=town.users["worker_a"]))
        db.session.flush()
        db.session.add(Device(id="phone-lock-0002", user_id=town.users["worker_a"]))
        db.session.commit()
    assert seen == [COUNTER, ("INSERT", "device"), ("INSERT", "device")]


def test_a_change_of_a_relationship_alone_takes_the_counter_first(ctx, town):
    worker = db.session.get(User, town.users["worker_a"])
    other = db.session.get(Grid, town.grids["a2"])
    with writes() as seen:
        worker.grids = [*worker.grids, other]
        db.session.commit()
    assert seen == [COUNTER, ("INSERT", "user_grid")]


def test_a_statement_written_through_the_session_takes_the_counter_before_flushing_pending_rows(ctx, town):
    end = update(UserSession).where(UserSession.user_id == town.users["worker_a"]).values(device_id=None)
    with writes() as alone:
        db.session.execute(end)
        db.session.commit()
    with writes() as after_pending:
        db.session.add(Device(id="phone-lock-0003", user_id=town.users["worker_a"]))
        db.session.execute(end)
        db.session.commit()
    assert alone == [COUNTER, ("UPDATE", "user_session")]
    assert after_pending == [COUNTER, ("INSERT", "device"), ("UPDATE", "user_session")]


def test_a_write_outside_the_lock_and_a_read_take_nothing(ctx, town):
    with writes() as seen:
        devices = Device.__table__
        write_unlocked(update(devices).where(devices.c.id == "none").values(last_pull_at=None))
        db.session.commit()
        db.session.scalars(select(User)).all()
        db.session.commit()
    assert seen == [("UPDATE", "device")]


def test_a_savepoint_rolled_back_gives_the_lock_up_and_the_next_write_takes_it_again(ctx, town):
    with writes() as seen:
        savepoint = db.session.begin_nested()
        db.session.add(Device(id="phone-lock-0004", user_id=town.users["worker_a"]))
        db.session.flush()
        savepoint.rollback()
        db.session.add(Device(id="phone-lock-0005", user_id=town.users["worker_a"]))
        db.session.commit()
    assert seen == [COUNTER, ("INSERT", "device"), COUNTER, ("INSERT", "device")]
    assert db.session.get(Device, "phone-lock-0004") is None


def test_a_pull_writes_only_its_note_on_the_device_outside_the_lock(app, town, login):
    worker = login("worker_a", device_id="phone-lock-pull")
    with app.app_context(), writes() as seen:
        assert worker.get("/api/sync/pull?limit=500").status_code == 200
    assert seen == [("UPDATE", "device")]
    with app.app_context():
        assert db.session.get(Device, "phone-lock-pull").last_pull_at is not None
        db.session.remove()
