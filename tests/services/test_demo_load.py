"""`flask demo-data`: a whole invented town, every printed login works, --if-empty does nothing."""
import re

from sqlalchemy import func, select

from server.extensions import db
from server.models import (
    CATEGORIES,
    RISK_LEVELS,
    ROLES,
    VENUE_TYPES,
    AuditEvent,
    Child,
    Clue,
    Grid,
    Household,
    Inspection,
    Plan,
    Town,
    User,
    Venue,
    Village,
    Visit,
)
from server.services.audit import verify_chain

LOGIN_LINE = re.compile(r"^  (\w+)\s+(\S+)\s+(\S+)$")
COUNTED = (Town, Village, Grid, Household, Child, Venue, User, AuditEvent)


def counts() -> dict:
    return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def test_demo_data_loads_a_whole_town_and_every_login_works(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo-data", "--seed", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "演示账号（仅用于演示，数据均为虚构）："
    logins = [LOGIN_LINE.match(line).groups() for line in lines[1:]]
    with app.app_context():
        loaded = counts()
        assert loaded["town"] == 1
        assert loaded["village"] >= 5 and loaded["grid"] >= 20
        assert loaded["child"] >= 1500 and loaded["venue"] >= 40
        categories = {c for cats in db.session.scalars(select(Child.categories)) for c in cats}
        assert categories == set(CATEGORIES)
        assert set(db.session.scalars(select(Child.risk_level).distinct())) == set(RISK_LEVELS)
        per_type = dict(db.session.execute(select(Venue.type, func.count()).group_by(Venue.type)).all())
        assert set(per_type) == set(VENUE_TYPES) and min(per_type.values()) >= 1
        users = dict(db.session.execute(select(User.username, User.role)).all())
        assert set(users.values()) == set(ROLES)
        assert sorted((u, r) for r, u, _ in logins) == sorted(users.items())
        assert verify_chain()["ok"]
        events = loaded["audit_event"]
    assert len({p for _, _, p in logins}) == len(logins)
    for role, username, password in logins:
        response = app.test_client().post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, (username, response.get_json())
        assert response.get_json()["user"]["role"] == role
    with app.app_context():
        assert counts() == {**loaded, "audit_event": events + len(logins)}
        before = counts()

    again = runner.invoke(args=["demo-data", "--seed", "1", "--if-empty"])
    assert (again.exit_code, again.output) == (0, "a town is already set up; no demo loaded\n")
    with app.app_context():
        assert counts() == before


def test_if_empty_loads_an_empty_database_and_no_activity_leaves_the_month_out(app):
    result = app.test_cli_runner().invoke(args=["demo-data", "--if-empty", "--seed", "2", "--no-activity"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("演示账号（仅用于演示，数据均为虚构）：\n")
    with app.app_context():
        assert counts()["child"] >= 1500
        field_work = (Visit, Inspection, Plan, Clue)
        assert [db.session.scalar(select(func.count()).select_from(m)) for m in field_work] == [0, 0, 0, 0]
