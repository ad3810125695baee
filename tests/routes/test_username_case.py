"""One account a username whatever its case, held by the database: a twin written past
create_user, a twin already stored when the index arrives (revision 0012), two creates racing."""
from datetime import UTC, datetime

import pytest
from alembic import command
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import column, func, insert, select, table, text, update
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.models import AuditEvent, User, new_id, user_grid
from server.services import users
from tests import factories
from tests.test_migrations import bare_app, town_at

NEW_PASSWORD = "Huai-hua-xiang-2025"


def _twins(name: str) -> int:
    return db.session.scalar(select(func.count()).where(func.lower(User.username) == name.lower()))


def test_the_database_refuses_a_case_twin_written_past_create_user(app, town):
    with app.app_context():
        factories.add_user(factories.TownIds(), "ADMIN", "town_admin", None)
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert _twins("admin") == 1


# The user table as revision 0011 has it: today's model holds columns added since.
USER_AT_0011 = table("user", *(column(name) for name in (
    "id", "username", "display_name_ct", "role", "town_id", "password_hash", "session_version", "active",
    "created_at", "updated_at")))


def _stored_at_0011(username: str) -> None:
    user = User(id=new_id(), username=username, role="town_admin", password_hash="x")
    user.display_name = f"测试{username}"
    now = datetime.now(UTC).replace(tzinfo=None)
    db.session.execute(insert(USER_AT_0011).values(
        id=user.id, username=username, display_name_ct=user.display_name_ct, role="town_admin",
        town_id=None, password_hash="x", session_version=1, active=True, created_at=now, updated_at=now))


def test_the_upgrade_to_0012_stops_on_stored_case_twins_and_names_them(empty_db_url):
    app = bare_app(empty_db_url)
    with app.app_context():
        town = town_at("0011")
        for name in ("ADMIN", "Admin", "Worker_A"):
            _stored_at_0011(name)
        db.session.commit()
        db.session.remove()
        config = current_app.extensions["migrate"].migrate.get_config()
        with pytest.raises(RuntimeError) as refused:
            command.upgrade(config, "head")
        assert str(refused.value) == (
            "cannot make usernames unique whatever their case: 2 group(s) of accounts share a username "
            "differing only in case (ADMIN, Admin, admin; Worker_A, worker_a). Rename all but one account "
            "of each group, e.g. UPDATE \"user\" SET username = 'zhang2' WHERE username = 'Zhang'; then "
            "run the upgrade again")
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == "0011"
        assert db.session.scalar(select(func.count()).select_from(User)) == 10
        db.session.remove()
        for old, new in (("ADMIN", "admin2"), ("Admin", "admin3"), ("Worker_A", "worker_a2")):
            db.session.execute(update(User).where(User.username == old).values(username=new))
        db.session.commit()
        db.session.remove()
        upgrade()
        factories.add_user(factories.TownIds(), "Worker_A2", "grid_worker", None, town.villages["a"])
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


def test_a_create_racing_another_for_the_same_name_gets_the_usual_409_and_writes_nothing(
        app, town, login, monkeypatch):
    """The other create commits between this one's check and its insert: the unique index answers,
    and the caller gets what the check would have said."""
    checked = []

    def checked_before_the_other_committed(username):
        checked.append(username)
        if len(checked) == 1:
            # Committed, as the other create would; on SQLite a second connection would wait on
            # this request's own transaction.
            db.session.execute(User.__table__.insert().values(
                id=new_id(), username="zhang", role="town_admin", password_hash="x",
                session_version=1, active=True))
            db.session.commit()
            return False
        return _name_taken(username)

    _name_taken = users._name_taken
    monkeypatch.setattr(users, "_name_taken", checked_before_the_other_committed)
    admin = login("admin")
    with app.app_context():
        events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    answer = admin.post("/api/users", json={
        "username": "Zhang", "password": NEW_PASSWORD, "display_name": "张",
        "role": "grid_worker", "grid_ids": [town.grids["a2"]]})
    assert (answer.status_code, answer.get_json()) == (
        409, {"error": {"code": "username_taken", "message": "用户名已存在"}})
    assert checked == ["Zhang", "Zhang"]
    with app.app_context():
        assert db.session.scalars(select(User.username).where(func.lower(User.username) == "zhang")).all() == [
            "zhang"]
        assert db.session.scalar(select(func.count()).select_from(user_grid)
                                 .where(user_grid.c.grid_id == town.grids["a2"])) == 0
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events
