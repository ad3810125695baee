"""Alembic: one head; upgrade, downgrade and upgrade again; the models match the migrations."""
import base64
import os
import warnings
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from server import create_app
from server.extensions import db
from server.models import AppliedOp, Clue, Inspection, ReportSnapshot, new_id, utcnow

from .factories import build_town

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def bare_app(url: str):
    """An app on an empty database, nothing migrated yet."""
    return create_app("test", {"SQLALCHEMY_DATABASE_URI": url, "SKIP_KEY_CHECK": True,
                               "HULEI_MASTER_KEY": base64.b64encode(os.urandom(32)).decode()})


def town_at(revision: str):
    """The test town in a database at an older `revision`: built with today's models at the head,
    then migrated down, since today's models may hold columns the older schema lacks."""
    upgrade()
    town = build_town()
    db.session.commit()
    db.session.remove()
    downgrade(revision=revision)
    return town


def script() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


@contextmanager
def sqlite_blind_to_expression_indexes():
    """SQLite cannot reflect an index on an expression (the user table's lower(username)), so
    comparing models with it warns that the index is skipped; PostgreSQL compares it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        yield


def differences() -> list:
    """What autogenerate would write: every difference between the models and the database."""
    with db.engine.connect() as conn, sqlite_blind_to_expression_indexes():
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        return compare_metadata(context, db.metadata)


def test_exactly_one_head_and_one_base():
    scripts = script()
    assert len(scripts.get_heads()) == 1, scripts.get_heads()
    assert len(scripts.get_bases()) == 1, scripts.get_bases()
    revisions = list(scripts.walk_revisions())
    assert revisions[-1].down_revision is None
    assert all(r.down_revision is not None for r in revisions[:-1])


def test_upgrade_check_downgrade_upgrade(empty_db_url):
    app = bare_app(empty_db_url)
    head = script().get_current_head()
    model_tables = set(db.metadata.tables)
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []
        upgrade()
        assert set(inspect(db.engine).get_table_names()) == model_tables | {"alembic_version"}
        with db.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
        assert differences() == []
        downgrade(revision="base")
        assert inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        assert set(inspect(db.engine).get_table_names()) == model_tables | {"alembic_version"}
        assert differences() == []
        db.session.remove()
        db.engine.dispose()


def test_flask_db_check_finds_nothing_to_generate(empty_db_url):
    app = bare_app(empty_db_url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    with sqlite_blind_to_expression_indexes():  # alembic logs its verdict; 1 on a diff
        result = app.test_cli_runner().invoke(args=["db", "check"])
    assert (result.exit_code, result.exception) == (0, None), result.output
    with app.app_context():  # the same check sees a database that drifted from the models
        index = inspect(db.engine).get_indexes("child")[0]["name"]
        with db.engine.begin() as conn:
            conn.execute(text(f"DROP INDEX {index}"))
        db.engine.dispose()
    with sqlite_blind_to_expression_indexes():
        drifted = app.test_cli_runner().invoke(args=["db", "check"])
    assert drifted.exit_code == 1
    with app.app_context():
        db.engine.dispose()


def test_reports_submitted_before_0007_get_the_window_of_the_cut_off_setting(empty_db_url):
    """Revision 0007 fills the window and due date that older snapshots lack, then requires them."""
    app = bare_app(empty_db_url)
    app.config["REPORT_DUE_DAY"] = 20
    with app.app_context():
        town = town_at("0006")
        old = ReportSnapshot(id=new_id(), kind="monthly", period="2026-01", village_id=town.villages["a"],
                             figures={}, audit_head="0" * 64, submitted_by=town.users["head_a"])
        kept = ReportSnapshot(id=new_id(), kind="monthly", period="2026-01", village_id=town.villages["b"],
                              figures={}, audit_head="0" * 64, submitted_by=town.users["head_b"],
                              window_start=date(2025, 12, 17), window_end=date(2026, 1, 16),
                              due_on=date(2026, 1, 17))
        db.session.add_all([old, kept])
        old_id, kept_id = old.id, kept.id
        db.session.commit()
        db.session.remove()
        upgrade()
        snapshot = ReportSnapshot
        rows = db.session.execute(select(snapshot.id, snapshot.window_start, snapshot.window_end,
                                         snapshot.due_on)).all()
        db.session.remove()
        assert sorted(rows) == sorted([(old_id, date(2025, 12, 20), date(2026, 1, 19), date(2026, 1, 20)),
                                       (kept_id, date(2025, 12, 17), date(2026, 1, 16), date(2026, 1, 17))])
        assert not any(c["nullable"] for c in inspect(db.engine).get_columns("report_snapshot")
                       if c["name"] in ("window_start", "window_end", "due_on"))
        db.engine.dispose()


def test_0008_drops_the_stored_copy_of_conflicted_records_from_the_op_ledger(empty_db_url):
    """Conflict answers stored before 0008 held the record in the clear; the rest stay as they were."""
    app = bare_app(empty_db_url)
    with app.app_context():
        town = town_at("0007")
        conflict = {"op_id": "c", "status": "conflict", "id": "x", "version": 2,
                    "current": {"name": "欧阳明月", "version": 2}}
        applied = {"op_id": "a", "status": "applied", "id": "y", "version": 1}
        for op_id, result in (("c", conflict), ("a", applied)):
            db.session.add(AppliedOp(op_id=op_id, user_id=town.users["worker_a"], entity="child",
                                     entity_id=result["id"], result=result))
        db.session.commit()
        db.session.remove()
        upgrade()
        rows = dict(db.session.execute(select(AppliedOp.op_id, AppliedOp.result)).all())
        db.session.remove()
        db.engine.dispose()
    assert rows == {"c": {key: value for key, value in conflict.items() if key != "current"}, "a": applied}


def test_0013_takes_every_child_registered_so_far_as_registered_when_created(empty_db_url):
    app = bare_app(empty_db_url)
    with app.app_context():
        town_at("0012")
        db.session.execute(text("UPDATE child SET created_at = '2026-03-04 05:06:07'"))
        db.session.commit()
        created = db.session.execute(text("SELECT id, created_at FROM child")).all()
        db.session.remove()
        upgrade()
        registered = db.session.execute(text("SELECT id, registered_at FROM child")).all()
        db.session.remove()
        assert len(created) > 1 and sorted(registered) == sorted(created)
        columns = inspect(db.engine).get_columns("child")
        assert [c["nullable"] for c in columns if c["name"] == "registered_at"] == [False]
        db.engine.dispose()


def test_0014_keeps_the_places_left_that_the_change_log_still_shows(empty_db_url):
    app = bare_app(empty_db_url)
    with app.app_context():
        town = town_at("0013")
        db.session.execute(text(
            "INSERT INTO change_log (seq, entity, entity_id, action, village_id, grid_id, at) VALUES "
            "(9001, 'child', :child, 'evict', :village, :grid, '2026-11-01 00:00:00'), "
            "(9002, 'child', :child, 'upsert', :village, :other, '2026-11-01 00:00:00')"),
            {"child": town.children["a1"], "village": town.villages["a"], "grid": town.grids["a1"],
             "other": town.grids["a2"]})
        db.session.commit()
        db.session.remove()
        upgrade()
        rows = db.session.execute(text("SELECT seq, entity, entity_id, village_id, grid_id FROM place_left")) \
            .all()
        db.session.remove()
        assert rows == [(9001, "child", town.children["a1"], town.villages["a"], town.grids["a1"])]
        db.engine.dispose()


def test_a_table_others_refer_to_is_rebuilt_without_losing_them(empty_db_url):
    """0009 rebuilds `inspection` on SQLite (batch mode); a clue found in an inspection refers to it."""
    app = bare_app(empty_db_url)
    with app.app_context():
        upgrade()
        town = build_town()
        inspection_id = new_id()
        db.session.add(Inspection(id=inspection_id, venue_id=town.venues["a"], village_id=town.villages["a"],
                                  inspector_id=town.users["inspector"], inspected_at=utcnow(),
                                  received_at=utcnow(), counted_at=utcnow(), results=[], flags=[]))
        db.session.flush()
        db.session.get(Clue, town.clues["a1"]).source_inspection_id = inspection_id
        db.session.commit()
        db.session.remove()
        downgrade(revision="0008")
        upgrade()
        clue = db.session.get(Clue, town.clues["a1"])
        assert (clue.source_inspection_id, db.session.get(Inspection, inspection_id).venue_id) == (
            inspection_id, town.venues["a"])
        sqlite = "sqlite" in empty_db_url
        foreign_keys = db.session.execute(text("PRAGMA foreign_keys")).scalar() if sqlite else 1
        assert foreign_keys == 1
        db.session.remove()
        db.engine.dispose()


def test_a_migration_that_leaves_a_broken_reference_on_sqlite_is_undone(tmp_path):
    """Migrations and the foreign-key check run in one transaction: a failed check leaves the revision."""
    app = bare_app(f"sqlite:///{tmp_path / 'broken.db'}")
    with app.app_context():
        upgrade(revision="0009")
        raw = db.engine.raw_connection()  # outside a transaction, where the pragma takes effect
        raw.driver_connection.execute("PRAGMA foreign_keys=OFF")
        raw.driver_connection.execute(
            "INSERT INTO village (id, town_id, name, kind, created_at, updated_at) "
            "VALUES ('v', 'nowhere', '孤村', 'village', '2026-11-01 00:00:00', '2026-11-01 00:00:00')")
        raw.driver_connection.execute("PRAGMA foreign_keys=ON")
        raw.close()
        try:
            upgrade()
        except (RuntimeError, SystemExit):
            pass
        else:
            raise AssertionError("the upgrade should have failed on the broken reference")
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0009"
            assert "received_at" not in {c["name"] for c in inspect(conn).get_columns("clue")}
        db.engine.dispose()


def test_0016_counts_each_stored_fact_as_made_at_its_time_or_when_received_if_dated_later(empty_db_url):
    app = bare_app(empty_db_url)
    with app.app_context():
        town = town_at("0015")
        child, household, grid = town.children["a1"], town.households["a1"], town.grids["a1"]
        insert = text("INSERT INTO visit (id, child_id, household_id, grid_id, village_id, worker_id, "
                      "visited_at, received_at, follow_up, flags, review_status, version, created_at, "
                      "updated_at) VALUES (:id, :child, :household, :grid, :village, :worker, :visited, "
                      ":received, false, '[]', 'none', 1, :received, :received)")
        for visit_id, visited in (("v-on-time", "2026-11-01 09:00:00"), ("v-ahead", "2027-11-01 09:00:00")):
            db.session.execute(insert, {"id": visit_id, "child": child, "household": household, "grid": grid,
                                        "village": town.villages["a"], "worker": town.users["worker_a"],
                                        "visited": visited, "received": "2026-11-02 10:00:00"})
        db.session.commit()
        db.session.remove()
        upgrade()
        counted = dict(db.session.execute(text(
            "SELECT id, counted_at FROM visit WHERE id IN ('v-on-time', 'v-ahead')")).all())
        db.session.remove()
        assert {key: str(value)[:19] for key, value in counted.items()} == {
            "v-on-time": "2026-11-01 09:00:00", "v-ahead": "2026-11-02 10:00:00"}
        for table in ("visit", "inspection"):
            columns = inspect(db.engine).get_columns(table)
            assert [c["nullable"] for c in columns if c["name"] == "counted_at"] == [False]
        db.engine.dispose()
