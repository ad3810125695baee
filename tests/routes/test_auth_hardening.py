"""Accounts, logins, keys and secrets hardened: a case twin of a name, password guesses through a
session, the last town admin, a lost phone's login, a comma-separated key file, an empty secret."""
import base64
import os

import pytest
from sqlalchemy import func, select

from server import config as server_config
from server import create_app
from server.config import ConfigError
from server.extensions import db
from server.models import AuditEvent, User
from tests import factories
from tests.conftest import make_app
from tests.routes.helpers import assert_error

NEW_PASSWORD = "Huai-hua-xiang-2025"


def _login(client, username, password=factories.PASSWORD, device_id=None):
    body = {"username": username, "password": password}
    if device_id:
        body["device_id"] = device_id
    return client.post("/api/auth/login", json=body)


def _new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_name_differing_only_in_case_is_taken_so_no_twin_clears_anothers_login_throttle(app, town, login):
    """The throttle keys on the name whatever its case, and a successful login clears its count:
    a twin `Worker_A` logging in would clear the failures counted against `worker_a`."""
    admin = login("admin")
    twin = admin.post("/api/users", json={
        "username": "Worker_A", "password": NEW_PASSWORD, "display_name": "另一个人",
        "role": "grid_worker", "grid_ids": [town.grids["a2"]]})
    assert (twin.status_code, twin.get_json()) == (
        409, {"error": {"code": "username_taken", "message": "用户名已存在"}})
    attacker = app.test_client()
    for _ in range(5):
        assert _login(attacker, "worker_a", "Wrong-horse-battery-1").status_code == 401
    assert _login(app.test_client(), "worker_a").status_code == 429


def test_old_password_guesses_on_password_change_are_throttled(app, town, login):
    """API.md: login answers "429 after repeated failures", so a password can be guessed only a
    few times a window. POST /api/auth/password checks `old_password` (auth.change_password) with
    no throttle and no failure count: anyone holding a session (an unlocked phone, a borrowed PC)
    may test password guesses without limit and learn the password that opens every device."""
    api = login("head_a")
    for n in range(5):
        wrong = api.post("/api/auth/password",
                         json={"old_password": f"Guess-number-{n}-x", "new_password": NEW_PASSWORD})
        assert wrong.status_code == 422
    sixth = api.post("/api/auth/password",
                     json={"old_password": "Guess-number-6-x", "new_password": NEW_PASSWORD})
    assert (sixth.status_code, sixth.get_json()["error"]["code"]) == (429, "too_many_attempts")
    with app.app_context():
        failed = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "password_change_failed")).all()
    assert failed == ["password_change_failed"] * 5


def test_the_only_town_admin_cannot_disable_their_own_account(app, town, login):
    """DESIGN: the town admin "manages users", and where DESIGN is silent, "build what the people
    above would expect". users.update_user lets the sole town admin PATCH themselves to
    `active: false`: their sessions end, their devices are revoked, and no one is left who can
    manage accounts or re-enable anyone (the CLI cannot re-activate)."""
    admin = login("admin")
    response = admin.patch(f"/api/users/{town.users['admin']}", json={"active": False})
    assert (response.status_code, response.get_json()) == (
        409, {"error": {"code": "own_account", "message": "不能停用自己的账号"}})
    assert admin.get("/api/auth/me").status_code == 200


def test_a_refused_login_from_a_revoked_phone_is_audited(app, town, login):
    """DESIGN: "every login and failed login is an audit event". A login with the right password
    that names a revoked (lost) phone is refused 410 in auth.start_session/claim_device, after
    authenticate, and leaves no event: the admin never sees that someone holding the lost phone
    and the password tried to get in."""
    login("worker_a", device_id="phone-lost-1")
    admin = login("admin")
    assert admin.post("/api/devices/phone-lost-1/revoke").status_code == 204
    with app.app_context():
        before = db.session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    refused = _login(app.test_client(), "worker_a", device_id="phone-lost-1")
    assert refused.status_code == 410
    with app.app_context():
        events = db.session.execute(select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.device_id,
                                           AuditEvent.detail).where(AuditEvent.seq > before)).all()
    assert events == [("login_failed", town.users["worker_a"], "phone-lost-1", {"refused": "device_revoked"})]


def test_keys_rotate_drops_the_old_key_from_a_comma_separated_key_file(db_url, tmp_path):
    """README: HULEI_MASTER_KEY_FILE holds "versioned entries `2:BASE64,1:BASE64` during a
    rotation", and `keys rotate` "keeps the old one until every row is done, then drops it".
    keys.finish_rotation splits the file on whitespace only, so `2:NEW,1:OLD` parses as version 2
    = "NEW,1:OLD" and is written back whole: the command says every value uses version 2, yet the
    old key stays in the file (and in every server following it)."""
    old, new = _new_key(), _new_key()
    key_file = tmp_path / "master.key"
    key_file.write_text(f"1:{old}\n", encoding="ascii")
    app = make_app(db_url, HULEI_MASTER_KEY=None, HULEI_MASTER_KEY_FILE=str(key_file))
    with app.app_context():
        factories.build_town()
    _dispose(app)
    key_file.write_text(f"2:{new},1:{old}\n", encoding="ascii")
    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": db_url, "HULEI_MASTER_KEY": None,
                              "HULEI_MASTER_KEY_FILE": str(key_file)})
    try:
        result = app.test_cli_runner().invoke(args=["keys", "rotate"])
        assert result.exit_code == 0, result.output
        assert "all values now use key version 2" in result.output
        assert old not in key_file.read_text(encoding="ascii")
    finally:
        _dispose(app)


def test_an_empty_secret_key_file_refuses_to_start(tmp_path, monkeypatch):
    """config.ConfigError: "A setting is missing or malformed; the server must not start";
    _secret_key: "never invent one"; STYLE: "settings that refuse to start when a required secret
    is missing". The Makefile's `python -c … > instance/secret_key` leaves an empty file when the
    command fails, and never regenerates an existing file; load_config then takes "" as the
    SECRET_KEY and the server starts without one (every login then fails with a 500)."""
    (tmp_path / "secret_key").write_text("\n", encoding="ascii")
    monkeypatch.setattr(server_config, "INSTANCE", tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="empty or shorter than 16 characters"):
        server_config.load_config("development")


def test_create_user_command_applies_the_username_rule_of_the_api(app, town):
    """API.md: `create-user USERNAME --role ROLE …` creates the account POST /api/users creates,
    whose UserCreateSchema allows only `^[A-Za-z0-9_.-]{3,64}$`. The command passes USERNAME to
    users.create_user unchecked: a name pasted with a trailing space is stored as typed and
    "created", yet login strips what is typed (auth.authenticate), so that account can never log
    in; a capitalised twin of an existing name ("ADMIN" beside "admin") is accepted too."""
    runner = app.test_cli_runner()
    refused = {name: runner.invoke(args=["create-user", name, "--role", "town_admin", "--password-stdin"],
                                   input=NEW_PASSWORD + "\n") for name in ("zhao.liu ", "ADMIN")}
    assert {name: (r.exit_code, r.output.strip()) for name, r in refused.items()} == {
        "zhao.liu ": (1, "Error: 提交的数据有误 {'username': ['用户名为 3 到 64 位字母、数字或 _.-']}"),
        "ADMIN": (1, "Error: 用户名已存在")}
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(User.username.in_(("zhao.liu ", "ADMIN")))) == 0


def test_the_right_password_refused_for_its_phone_does_not_count_as_a_guess(app, town, login):
    """Each attempt is counted before the password is checked; the right one clears the count, and
    stays cleared when the session is then refused for its phone (a revoked one, here six times)."""
    login("worker_a", device_id="phone-lost-2")
    assert login("admin").post("/api/devices/phone-lost-2/revoke").status_code == 204
    for _ in range(app.config["LOGIN_MAX_FAILURES"] + 1):
        assert _login(app.test_client(), "worker_a", device_id="phone-lost-2").status_code == 410
    assert _login(app.test_client(), "worker_a", device_id="phone-new-2").status_code == 200


def _grid_worker(admin, name: str, **scope):
    return admin.post("/api/users", json={"username": name, "password": NEW_PASSWORD,
                                          "display_name": "新网格员", "role": "grid_worker", **scope})


def test_a_grid_worker_gets_the_grids_named_in_their_own_village_or_a_clear_refusal(app, town, login):
    """Grid names repeat in every village (第1网格): by name, a grid was any village's, and the
    worker silently became that village's, pulling its children. Named twice, a grid was a 500."""
    admin = login("admin")
    a, b = town.villages["a"], town.villages["b"]
    made = _grid_worker(admin, "worker_b2", village_id=b, grid_ids=["第1网格"])
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["scope"] | {"town_id": None} == {
        "town_id": None, "village_id": b, "grid_ids": [town.grids["b1"]], "unit_id": None}
    twice = _grid_worker(admin, "worker_a3", grid_ids=[town.grids["a1"], town.grids["a1"], "第2网格"],
                         village_id=a)
    assert twice.status_code == 201, twice.get_json()
    assert sorted(twice.get_json()["scope"]["grid_ids"]) == sorted([town.grids["a1"], town.grids["a2"]])
    patched = admin.patch(f"/api/users/{town.users['worker_a']}",
                          json={"grid_ids": [town.grids["a2"], town.grids["a2"]]})
    assert (patched.status_code, patched.get_json()["scope"]["grid_ids"]) == (200, [town.grids["a2"]])
    # An account's grids named without a village are looked up in its own village.
    patched = admin.patch(f"/api/users/{town.users['worker_a']}", json={"grid_ids": ["第1网格"]})
    assert (patched.status_code, patched.get_json()["scope"]["grid_ids"]) == (200, [town.grids["a1"]])
    one_village = "网格员的网格须在同一村/社区（与所填村/社区一致）"
    for scope, message in (({"grid_ids": ["第1网格"]}, "有多个“第1网格”，请用编号指定"),
                           ({"grid_ids": [town.grids["a1"], town.grids["b1"]]}, one_village),
                           ({"village_id": a, "grid_ids": [town.grids["b1"]]}, one_village)):
        assert_error(_grid_worker(admin, "worker_x9", **scope), 422, "validation_error",
                     fields={"grid_ids": [message]})
    with app.app_context():
        assert db.session.scalars(select(User).where(User.username == "worker_x9")).all() == []


def test_a_grid_workers_village_cannot_be_moved_away_from_their_grids(app, town, login):
    """A grid worker's village is the village of their grids: an edit naming another village alone
    left the worker in grid a1 but of village B, offered village B's people as plan helpers, and
    took the worker off as helper of the plans of their own grid."""
    admin = login("admin")
    before = admin.get("/api/users?per_page=500").get_json()["rows"]
    for scope in ({"village_id": town.villages["b"]}, {"village_id": None}):
        assert_error(admin.patch(f"/api/users/{town.users['worker_a']}", json=scope), 422,
                     "validation_error", fields={"village_id": ["网格员的村/社区须与其网格所在的村/社区一致"]})
    assert admin.get("/api/users?per_page=500").get_json()["rows"] == before
    helpers = login("worker_a").get("/api/helpers").get_json()["rows"]
    assert {h["village_id"] for h in helpers} == {town.villages["a"]}
    moved = admin.patch(f"/api/users/{town.users['worker_a']}",
                        json={"village_id": town.villages["b"], "grid_ids": [town.grids["b1"]]})
    assert (moved.status_code, moved.get_json()["scope"]["village_id"]) == (200, town.villages["b"])
