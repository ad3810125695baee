"""A worker who forgot her password: the town admin sets a new one, and her phone's recovery key
(POST /api/auth/recovery-key) still opens what the phone holds unsynced."""
import base64

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, Device, LoginFailure, User
from tests import factories
from tests.routes.helpers import assert_error

NEW_PASSWORD = "Vergessen-neu-2026"
PHONE = "pwa-phone-worker-a-reset"


def _reset(admin, user_id, password=NEW_PASSWORD):
    return admin.post(f"/api/users/{user_id}/password", json={"new_password": password})


def _key(client, password=factories.PASSWORD) -> bytes:
    response = client.post("/api/auth/recovery-key", json={"password": password})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"recovery_key", "recovery_key_id"}
    assert client.get("/api/auth/me").get_json()["recovery_key_id"] == body["recovery_key_id"]
    assert response.headers["Cache-Control"] == "no-store"
    text = body["recovery_key"]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _actions(app, action):
    with app.app_context():
        rows = db.session.execute(select(AuditEvent.actor_id, AuditEvent.entity_id, AuditEvent.device_id,
                                         AuditEvent.detail).where(AuditEvent.action == action)).all()
        db.session.remove()
        return [tuple(row) for row in rows]


def _login_status(app, username, password, device_id=None):
    body = {"username": username, "password": password, **({"device_id": device_id} if device_id else {})}
    return app.test_client().post("/api/auth/login", json=body)


def test_the_admin_resets_a_forgotten_password_and_every_session_of_the_account_ends(app, town, login):
    worker = login("worker_a", device_id=PHONE)
    for _ in range(5):
        assert _login_status(app, "worker_a", "Forgot-it-again-1").status_code == 401
    assert _login_status(app, "worker_a", factories.PASSWORD).status_code == 429  # locked out
    admin = login("admin", device_id="pc-admin-reset")
    answer = _reset(admin, town.users["worker_a"])
    assert (answer.status_code, answer.get_data()) == (204, b"")
    assert worker.get("/api/auth/me").status_code == 401
    assert _login_status(app, "worker_a", factories.PASSWORD).status_code == 401
    with app.app_context():  # the lockout was lifted with the reset; the wrong old try counts one
        assert db.session.scalar(select(db.func.count()).select_from(LoginFailure)) == 1
    relogged = _login_status(app, "worker_a", NEW_PASSWORD, PHONE)
    assert (relogged.status_code, relogged.get_json()["user"]["must_change_password"]) == (200, True)
    assert _actions(app, "user.password_reset") == [(town.users["admin"], town.users["worker_a"],
                                                     "pc-admin-reset", {})]


def test_a_reset_is_the_town_admins_for_others_and_checks_the_new_password(app, town, login):
    admin = login("admin")
    with app.app_context():
        before = db.session.get(User, town.users["worker_a"]).password_hash
    weak = _reset(admin, town.users["worker_a"], "123")
    assert_error(weak, 422, "validation_error", field_names={"new_password"})
    assert_error(admin.post(f"/api/users/{town.users['worker_a']}/password", json={}), 422,
                 "validation_error", field_names={"new_password"})
    assert_error(admin.post(f"/api/users/{town.users['worker_a']}/password",
                            json={"new_password": NEW_PASSWORD, "old_password": "x"}), 422,
                 "validation_error", field_names={"old_password"})
    assert_error(_reset(admin, "no-such-user"), 404, "not_found")
    assert_error(_reset(admin, town.users["admin"]), 409, "own_account")
    for role in ("head_a", "worker_b"):
        assert_error(_reset(login(role), town.users["worker_a"]), 404, "not_found")  # not probed
    with app.app_context():
        assert db.session.get(User, town.users["worker_a"]).password_hash == before
    assert _actions(app, "user.password_reset") == []
    assert _login_status(app, "worker_a", factories.PASSWORD).status_code == 200


def test_a_phone_gets_one_recovery_key_that_outlives_a_reset_and_is_kept_sealed(app, town, login):
    worker = login("worker_a", device_id=PHONE)
    key = _key(worker)
    assert len(key) == 32 and _key(worker) == key
    admin = login("admin")
    assert _reset(admin, town.users["worker_a"]).status_code == 204
    assert worker.post("/api/auth/recovery-key", json={"password": NEW_PASSWORD}).status_code == 401
    assert _key(login("worker_a", NEW_PASSWORD, device_id=PHONE), NEW_PASSWORD) == key
    with app.app_context():
        stored = db.session.execute(select(Device.recovery_key_ct).where(Device.id == PHONE)).scalar_one()
        assert key not in stored and base64.b64encode(key) not in stored
    events = _actions(app, "device.recovery_key")
    assert events == [(town.users["worker_a"], PHONE, PHONE, {})] * 3
    # Another phone of hers has a key of its own.
    other = _key(login("worker_a", NEW_PASSWORD, device_id="pwa-phone-worker-a-second"), NEW_PASSWORD)
    assert len(other) == 32 and other != key


def test_only_a_session_on_its_device_gets_a_key_and_a_revoke_erases_it(app, town, login):
    no_device = login("worker_a")
    assert_error(no_device.post("/api/auth/recovery-key", json={"password": factories.PASSWORD}), 409,
                 "no_device")
    worker = login("worker_a", device_id=PHONE)
    _key(worker)
    admin = login("admin")
    assert admin.post(f"/api/devices/{PHONE}/revoke").status_code == 204
    with app.app_context():
        device = db.session.get(Device, PHONE)
        assert (device.recovery_key_ct, device.recovery_key) == (None, None)
        db.session.remove()
    assert_error(worker.post("/api/auth/recovery-key", json={"password": factories.PASSWORD}), 410,
                 "device_revoked")
    assert_error(_login_status(app, "worker_a", factories.PASSWORD, PHONE), 410, "device_revoked")
    assert len(_actions(app, "device.recovery_key")) == 1


def test_the_reset_password_command_resets_any_account_a_town_admins_own_included(app, town, login):
    admin = login("admin")
    runner = app.test_cli_runner()
    refused = {name: runner.invoke(args=["reset-password", name, "--password-stdin"], input=password + "\n")
               for name, password in (("nobody", NEW_PASSWORD), ("ADMIN", "12345678"))}
    assert {name: (r.exit_code, r.output.strip()) for name, r in refused.items()} == {
        "nobody": (1, "Error: 没有这个用户名的账号"),
        "ADMIN": (1, "Error: 提交的数据有误 {'new_password': ['该密码过于常见，请换一个', "
                  "'密码不能是连续的数字或键盘字母序列']}")}
    assert admin.get("/api/auth/me").status_code == 200
    done = runner.invoke(args=["reset-password", " ADMIN ", "--password-stdin"], input=NEW_PASSWORD + "\n")
    assert (done.exit_code, done.output) == (0, "password of ADMIN reset; its sessions ended\n")
    assert admin.get("/api/auth/me").status_code == 401
    assert _login_status(app, "admin", factories.PASSWORD).status_code == 401
    assert _login_status(app, "admin", NEW_PASSWORD).status_code == 200
    assert _actions(app, "user.password_reset") == [(None, town.users["admin"], None, {})]


def test_a_live_session_alone_gets_no_key_and_a_wrong_password_counts_as_a_failed_login(app, town, login):
    """A cookie left on a borrowed PC, or a tab whose logout failed, must not be enough to open what
    the phone holds: the password is asked again, and guesses meet the login's limit."""
    worker = login("worker_a", device_id=PHONE)
    assert_error(worker.post("/api/auth/recovery-key", json={}), 422, "validation_error",
                 field_names={"password"})
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert_error(worker.post("/api/auth/recovery-key", json={"password": "Guessed-wrong-1"}), 422,
                     "validation_error", {"password": ["密码不正确"]})
    assert_error(worker.post("/api/auth/recovery-key", json={"password": factories.PASSWORD}), 429,
                 "too_many_attempts")
    with app.app_context():
        assert db.session.get(Device, PHONE).recovery_key is None
    assert len(_actions(app, "recovery_key_refused")) == app.config["LOGIN_MAX_FAILURES"]
    assert _actions(app, "device.recovery_key") == []


def test_a_disable_or_reset_that_wins_the_race_refuses_the_key(app, town, login, monkeypatch):
    """The password is checked, then the account changes before the key is read under the lock."""
    from server.services import auth

    worker = login("worker_a", device_id=PHONE)
    real = auth.confirm_password

    def then_disabled(user, *args):
        real(user, *args)
        with app.app_context():  # another request, committed in between
            db.session.get(User, town.users["worker_a"]).active = False
            db.session.commit()
    monkeypatch.setattr(auth, "confirm_password", then_disabled)
    refused = worker.post("/api/auth/recovery-key", json={"password": factories.PASSWORD})
    assert refused.status_code == 401
    with app.app_context():
        assert db.session.get(Device, PHONE).recovery_key is None


def test_the_user_is_asked_to_change_a_password_the_admin_set_until_they_do(app, town, login):
    admin = login("admin")
    assert _reset(admin, town.users["worker_a"]).status_code == 204
    worker = login("worker_a", NEW_PASSWORD)
    assert worker.get("/api/auth/me").get_json()["user"]["must_change_password"] is True
    listed = {u["username"]: u for u in admin.get("/api/users?per_page=100").get_json()["rows"]}
    assert [listed[name]["must_change_password"] for name in ("worker_a", "worker_b")] == [True, False]
    own = "Nur-ich-weiss-es-7"
    changed = worker.post("/api/auth/password", json={"old_password": NEW_PASSWORD, "new_password": own})
    assert changed.status_code == 204
    again = login("worker_a", own)
    assert again.get("/api/auth/me").get_json()["user"]["must_change_password"] is False


def test_an_account_the_town_admin_creates_is_asked_for_its_own_password_one_made_by_the_command_not(
        app, town, login):
    admin = login("admin")
    made = admin.post("/api/users", json={"username": "new.worker", "password": NEW_PASSWORD,
                                          "display_name": "新网格员", "role": "grid_worker",
                                          "grid_ids": [town.grids["a1"]]})
    assert (made.status_code, made.get_json()["must_change_password"]) == (201, True)
    runner = app.test_cli_runner()
    done = runner.invoke(args=["create-user", "second.admin", "--role", "town_admin", "--password-stdin"],
                         input=NEW_PASSWORD + "\n")
    assert done.exit_code == 0, done.output
    listed = {u["username"]: u["must_change_password"]
              for u in admin.get("/api/users?per_page=100").get_json()["rows"]}
    assert (listed["new.worker"], listed["second.admin"]) == (True, False)


def test_a_session_names_its_devices_recovery_key_by_an_id_that_follows_the_key(app, town, login):
    """The phone compares the id with the one it wrapped under: a key the server no longer has (a
    database restored from before it) is made again and the phone wraps anew."""
    worker = login("worker_a", device_id=PHONE)
    assert worker.get("/api/auth/me").get_json()["recovery_key_id"] is None
    assert login("worker_a").get("/api/auth/me").get_json()["recovery_key_id"] is None  # no device
    first = worker.post("/api/auth/recovery-key", json={"password": factories.PASSWORD}).get_json()
    assert len(first["recovery_key_id"]) == 16 and first["recovery_key_id"] not in first["recovery_key"]
    again = _login_status(app, "worker_a", factories.PASSWORD, PHONE).get_json()
    assert again["recovery_key_id"] == first["recovery_key_id"]
    other = login("worker_a", device_id="pwa-phone-worker-a-other")
    _key(other)
    assert other.get("/api/auth/me").get_json()["recovery_key_id"] != first["recovery_key_id"]
    with app.app_context():
        db.session.get(Device, PHONE).recovery_key = None
        db.session.commit()
    assert worker.get("/api/auth/me").get_json()["recovery_key_id"] is None
    assert _key(worker) != base64.urlsafe_b64decode(first["recovery_key"] + "=")
