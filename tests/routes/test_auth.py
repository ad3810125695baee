"""Login, sessions, throttling, CSRF and cookie flags, through the HTTP API."""
import unicodedata
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from server.extensions import db
from server.models import AuditEvent, LoginFailure, User, UserSession, utcnow
from server.services import auth as auth_service
from server.services.passwords import hash_password
from tests import factories
from tests.conftest import make_app

from ..sync.test_push_pull_basics import op, push
from .helpers import CSRF_FAILED, UNAUTHORIZED, assert_error, snapshot

COOKIE = "hulei_session"
INVALID = {"error": {"code": "invalid_credentials", "message": "用户名或密码错误"}}
NEW_PASSWORD = "Huai-hua-xiang-2025"


def _login(client, username, password=factories.PASSWORD):
    return client.post("/api/auth/login", json={"username": username, "password": password})


def _cookie(client) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def _replay(app, cookie_value: str):
    """A fresh client carrying only a copied session cookie."""
    fresh = app.test_client()
    fresh.set_cookie(COOKIE, cookie_value)
    return fresh


def _sessions(app, user_id: str) -> list:
    with app.app_context():
        return db.session.scalars(select(UserSession).where(UserSession.user_id == user_id)).all()


def test_login_and_me_return_the_user_and_csrf_token(app, town, client):
    response = _login(client, "worker_a")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"user", "csrf_token", "recovery_key_id"}
    assert len(body["csrf_token"]) >= 32
    with app.app_context():
        town_id = db.session.get(User, town.users["worker_a"]).town_id
    assert body["user"] == {
        "id": town.users["worker_a"], "username": "worker_a", "display_name": "测试worker_a",
        "role": "grid_worker", "active": True, "must_change_password": False,
        "scope": {"town_id": town_id, "village_id": town.villages["a"],
                  "grid_ids": [town.grids["a1"]], "unit_id": None}, "unit_member_ids": [], "unit_name": None,
    }
    me = client.get("/api/auth/me")
    assert me.status_code == 200
    assert me.get_json() == body


def test_an_inspectors_session_names_every_account_of_their_unit(app, town, client):
    """The phone follows up the rectifications the inspector's unit found, as the server's to-do does."""
    with app.app_context():
        inspector = db.session.get(User, town.users["inspector"])
        colleague = factories.add_user(town, "inspector_2", "inspector", inspector.town_id,
                                       unit_id=inspector.unit_id)
        factories.add_user(town, "inspector_3", "inspector", inspector.town_id,
                           unit_id=db.session.get(User, town.users["police"]).unit_id)
        db.session.commit()
        expected = sorted([inspector.id, colleague.id])
    body = _login(client, "inspector").get_json()
    assert (body["user"]["unit_member_ids"], body["user"]["unit_name"]) == (expected, "测试市场监管所")
    assert client.get("/api/auth/me").get_json()["user"]["unit_member_ids"] == expected


def test_me_when_logged_out_is_401(town, client):
    assert_error(client.get("/api/auth/me"), 401, "unauthorized")
    assert client.get("/api/auth/me").get_json() == UNAUTHORIZED


def test_unknown_user_and_wrong_password_get_the_same_answer(town, client):
    unknown = _login(client, "nobody_here", factories.PASSWORD)
    wrong = _login(client, "worker_a", "Not-the-password-9")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json() == INVALID
    assert client.get_cookie(COOKIE) is None or client.get("/api/auth/me").status_code == 401


def test_repeated_failures_throttle_one_account_only(app, town, client):
    wrong = "Wrong-horse-battery-1"
    for _ in range(5):
        response = _login(client, "worker_a", wrong)
        assert (response.status_code, response.get_json()) == (401, INVALID)

    blocked = _login(client, "worker_a", factories.PASSWORD)
    error = assert_error(blocked, 429, "too_many_attempts")
    assert error["message"] == "登录失败次数过多，请稍后再试"
    retry_after = blocked.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit()
    assert 0 < int(retry_after) <= 15 * 60
    # the throttle keys on the account, whatever the case or padding of the typed name
    assert _login(client, " WORKER_A ", factories.PASSWORD).status_code == 429
    assert client.get("/api/auth/me").status_code == 401

    other = app.test_client()
    assert _login(other, "head_a").status_code == 200
    assert other.get("/api/auth/me").get_json()["user"]["username"] == "head_a"

    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "login_failed")).all()
        assert len(events) == 5
        assert {e.actor_id for e in events} == {town.users["worker_a"]}
        failures = db.session.scalars(select(LoginFailure)).all()
        assert len(failures) == 5
        assert {f.account_key for f in failures} == {auth_service.account_key("worker_a")}
    stored = repr(snapshot(app, ("audit_event", "login_failure")))
    for secret in ("worker_a", "WORKER_A", wrong, factories.PASSWORD):
        assert secret not in stored


def test_failed_login_of_unknown_name_does_not_store_the_name(app, town, client):
    assert _login(client, "zhang.san.typo", "Some-typed-secret-7").status_code == 401
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).one()
        assert event.actor_id is None
    stored = repr(snapshot(app, ("audit_event", "login_failure")))
    assert "zhang.san.typo" not in stored and "Some-typed-secret-7" not in stored


def test_cookie_replayed_after_logout_is_refused(app, town, login):
    api = login("worker_a")
    copied = _cookie(api.client)
    assert _replay(app, copied).get("/api/auth/me").status_code == 200
    assert api.post("/api/auth/logout").status_code == 204
    assert api.get("/api/auth/me").get_json() == UNAUTHORIZED
    replayed = _replay(app, copied).get("/api/auth/me")
    assert (replayed.status_code, replayed.get_json()) == (401, UNAUTHORIZED)
    assert all(s.ended_at is not None for s in _sessions(app, town.users["worker_a"]))


def test_password_change_ends_every_session(app, town, login):
    api, other = login("head_a"), login("head_a")
    response = api.post("/api/auth/password",
                        json={"old_password": factories.PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 204
    assert api.get("/api/auth/me").get_json() == UNAUTHORIZED
    assert other.get("/api/auth/me").get_json() == UNAUTHORIZED
    assert _login(app.test_client(), "head_a", factories.PASSWORD).get_json() == INVALID
    assert _login(app.test_client(), "head_a", NEW_PASSWORD).status_code == 200
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.actor_id == town.users["head_a"])).all()
        assert "password_changed" in actions


@pytest.mark.parametrize("change", ["password", "disabled"])
def test_a_login_checked_before_a_password_change_or_disabling_gets_no_session(app, town, monkeypatch, change):
    """A phone logging in with the old password while the worker changes it elsewhere: its password
    was right when checked, but the change commits before its session starts. The change ended
    every session, and the one about to start must not take the new session version."""
    real_start = auth_service.start_session

    def changed_meanwhile(user, device_id):
        values = {"session_version": User.session_version + 1}
        values.update({"password_hash": hash_password(NEW_PASSWORD)} if change == "password"
                      else {"active": False})
        with db.engine.begin() as other:  # another request's transaction, committed in between
            other.execute(update(User).where(User.id == town.users["head_a"]).values(**values))
        return real_start(user, device_id)
    monkeypatch.setattr(auth_service, "start_session", changed_meanwhile)
    assert _login(app.test_client(), "head_a", factories.PASSWORD).get_json() == INVALID
    assert _sessions(app, town.users["head_a"]) == []
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).one()
        assert (event.actor_id, event.detail) == (town.users["head_a"], {"refused": "credentials_changed"})


@pytest.mark.parametrize("new_password, message", [
    ("password", "该密码过于常见，请换一个"),
    ("short1", "密码至少需要 8 个字符"),
    (factories.PASSWORD, "新密码不能与原密码相同"),
])
def test_weak_new_password_is_refused_and_nothing_changes(app, town, login, new_password, message):
    api = login("head_a")
    before = snapshot(app, ("user",))
    response = api.post("/api/auth/password",
                        json={"old_password": factories.PASSWORD, "new_password": new_password})
    error = assert_error(response, 422, "validation_error", field_names={"new_password"})
    assert message in error["fields"]["new_password"]
    assert snapshot(app, ("user",)) == before
    assert api.get("/api/auth/me").status_code == 200


def test_wrong_old_password_is_refused(app, town, login):
    api = login("head_a")
    before = snapshot(app, ("user",))
    response = api.post("/api/auth/password",
                        json={"old_password": "Not-my-password-1", "new_password": NEW_PASSWORD})
    assert_error(response, 422, "validation_error", fields={"old_password": ["原密码不正确"]})
    assert snapshot(app, ("user",)) == before
    assert api.get("/api/auth/me").status_code == 200


def test_disabled_account_loses_its_session_and_cannot_log_in(app, town, login):
    worker, admin = login("worker_a"), login("admin")
    response = admin.patch(f"/api/users/{town.users['worker_a']}", json={"active": False})
    assert response.status_code == 200
    assert response.get_json()["active"] is False
    assert worker.get("/api/auth/me").get_json() == UNAUTHORIZED
    assert worker.get("/api/children").get_json() == UNAUTHORIZED
    refused = _login(app.test_client(), "worker_a")
    assert (refused.status_code, refused.get_json()) == (401, INVALID)
    assert admin.get("/api/auth/me").status_code == 200


def test_a_disabled_then_enabled_account_keeps_its_phone_and_what_it_had_not_synced(app, town, login):
    """A revoke wipes a phone, unsynced records included: disabling an account for a while must
    not, so its phone is refused (401) until the account is back, then pushes as before."""
    phone = login("worker_a", device_id="phone-suspended-1")
    admin = login("admin")
    assert admin.patch(f"/api/users/{town.users['worker_a']}", json={"active": False}).status_code == 200
    refused = phone.get("/api/sync/pull")
    assert (refused.status_code, refused.get_json()) == (401, UNAUTHORIZED)
    assert admin.patch(f"/api/users/{town.users['worker_a']}", json={"active": True}).status_code == 200
    again = login("worker_a", device_id="phone-suspended-1")
    pushed = push(again, [op("visit", "create", str(uuid.uuid4()), {
        "child_id": town.children["a1"], "visited_at": "2026-11-20T10:00:00+08:00"})])
    assert [r["status"] for r in pushed["results"]] == ["applied"]


def test_idle_session_expires(app, town, login, monkeypatch):
    api = login("worker_a")
    start = utcnow()

    def at(minutes):
        monkeypatch.setattr(auth_service, "utcnow", lambda: start + timedelta(minutes=minutes))

    at(20)
    assert api.get("/api/auth/me").status_code == 200     # activity slides the idle window
    at(45)
    assert api.get("/api/auth/me").status_code == 200
    at(45 + 31)                                            # default idle timeout: 30 minutes
    response = api.get("/api/auth/me")
    assert (response.status_code, response.get_json()) == (401, UNAUTHORIZED)
    at(45 + 32)
    assert api.get("/api/children").get_json() == UNAUTHORIZED


def test_a_session_kept_busy_still_ends_after_its_lifetime(app, town, login, monkeypatch):
    """A phone syncing every few minutes, or a stolen cookie replayed, is never idle: the session
    ends 12 hours after it began all the same (PERMANENT_SESSION_LIFETIME), and a login starts anew."""
    api = login("worker_a")
    start = utcnow()
    for minutes in range(20, 12 * 60, 20):
        monkeypatch.setattr(auth_service, "utcnow", lambda m=minutes: start + timedelta(minutes=m))
        assert api.get("/api/auth/me").status_code == 200
    monkeypatch.setattr(auth_service, "utcnow", lambda: start + timedelta(hours=12, minutes=1))
    assert (api.get("/api/auth/me").status_code, api.get("/api/children").get_json()) == (401, UNAUTHORIZED)
    monkeypatch.undo()
    assert login("worker_a").get("/api/auth/me").status_code == 200


def test_each_login_gets_its_own_session(app, town, client):
    assert _login(client, "worker_a").status_code == 200
    first = _cookie(client)
    assert _login(client, "worker_a").status_code == 200
    second = _cookie(client)
    assert first != second
    sessions = _sessions(app, town.users["worker_a"])
    assert len(sessions) == 2 and len({s.token_hash for s in sessions}) == 2
    # the earlier session was not logged out, so it still works; the new one too
    assert _replay(app, first).get("/api/auth/me").status_code == 200
    assert client.get("/api/auth/me").status_code == 200
    # a cookie set before login (fixation) is replaced, never adopted
    planted = app.test_client()
    planted.set_cookie(COOKIE, first)
    assert _login(planted, "head_a").status_code == 200
    assert _cookie(planted) not in (first, second)
    assert planted.get("/api/auth/me").get_json()["user"]["username"] == "head_a"
    assert _replay(app, first).get("/api/auth/me").get_json()["user"]["username"] == "worker_a"


def test_session_cookie_flags_over_http(town, client):
    response = _login(client, "worker_a")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert "Strict-Transport-Security" not in response.headers


@pytest.fixture
def https_app(db_url):
    app = make_app(db_url, SESSION_COOKIE_SECURE=True, HULEI_HTTPS=True)
    with app.app_context():
        factories.build_town()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_session_cookie_flags_and_hsts_over_https(https_app):
    client = https_app.test_client()
    response = client.post("/api/auth/login", base_url="https://localhost",
                           json={"username": "worker_a", "password": factories.PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    health = client.get("/api/health", base_url="https://localhost")
    assert health.headers["Strict-Transport-Security"] == "max-age=31536000"


@pytest.mark.parametrize("token", [None, "", "not-the-token"])
def test_state_change_without_the_csrf_token_is_refused(app, town, login, token):
    api = login("worker_a")
    headers = {} if token is None else {"X-CSRF-Token": token}
    before = snapshot(app)
    household = {"grid_id": town.grids["a1"], "address": "新登记的一户"}
    responses = [
        api.client.post("/api/households", json=household, headers=headers),
        api.client.patch(f"/api/households/{town.households['a1']}", json={"address": "改了"},
                         headers=headers),
        api.client.post(f"/api/children/{town.children['a1']}/reveal",
                        json={"field": "id_number", "reason": "核实身份信息"}, headers=headers),
        api.client.post("/api/auth/password", headers=headers,
                        json={"old_password": factories.PASSWORD, "new_password": NEW_PASSWORD}),
        api.client.post("/api/auth/logout", headers=headers),
    ]
    for response in responses:
        assert (response.status_code, response.get_json()) == (403, CSRF_FAILED)
    assert snapshot(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 7
    assert api.get("/api/auth/me").status_code == 200      # logout without the token did nothing
    assert api.post("/api/households", json=household).status_code == 201


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_a_request_another_site_sends_the_browser_on_is_refused_get_included(app, town, login, site):
    """SameSite=Lax sends the cookie on another site's link: an audited, unmasked export by a GET
    would land on the admin's disk with a reason the other site chose. The browser says where a
    request came from (Sec-Fetch-Site); only the app's own pages, or none, may ask."""
    admin = login("admin")
    before = snapshot(app)
    foreign = {"Sec-Fetch-Site": site}
    export = "/api/ledgers/children?format=csv&unmasked=1&reason=对方网站写的理由"
    for response in (admin.get(export, headers=foreign), admin.get("/api/children", headers=foreign),
                     admin.post(f"/api/children/{town.children['a1']}/reveal", headers=foreign,
                                json={"field": "id_number", "reason": "核实身份信息"})):
        assert_error(response, 403, "cross_site")
        assert response.get_json()["error"]["message"] == "拒绝来自其他网站的请求，请在本系统中操作"
    assert snapshot(app) == before
    for own in ({"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}, {}):
        assert admin.get("/api/children", headers=own).status_code == 200
    assert admin.get(export, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    assert snapshot(app) != before  # the export itself is audited


def test_csrf_token_of_another_session_is_refused(app, town, login):
    mine, theirs = login("worker_a"), login("worker_a")
    before = snapshot(app)
    response = mine.client.post("/api/households", headers={"X-CSRF-Token": theirs.csrf},
                                json={"grid_id": town.grids["a1"], "address": "新登记的一户"})
    assert (response.status_code, response.get_json()) == (403, CSRF_FAILED)
    assert snapshot(app) == before


def test_the_same_password_composed_otherwise_is_refused_too(app, town, login):
    """Passwords are compared as stored (Unicode NFC): ä typed as a + combining diaeresis is the same one."""
    composed = "Kräftig-Passwort-2024"
    api = login("head_a")
    assert api.post("/api/auth/password",
                    json={"old_password": factories.PASSWORD, "new_password": composed}).status_code == 204
    api = login("head_a", composed)
    before = snapshot(app, ("user",))
    response = api.post("/api/auth/password", json={"old_password": composed,
                                                    "new_password": unicodedata.normalize("NFD", composed)})
    assert_error(response, 422, "validation_error", fields={"new_password": ["新密码不能与原密码相同"]})
    assert snapshot(app, ("user",)) == before
