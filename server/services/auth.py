"""Log in and out, keep server-side sessions, throttle failures, change passwords."""
import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from ..crypto import get_cipher
from ..errors import ApiError, validation_error
from ..extensions import db
from ..models import Device, LoginFailure, User, UserSession, utcnow
from . import audit, changes, devices
from .passwords import dummy_verify, hash_password, needs_rehash, password_problems, verify_password

log = logging.getLogger(__name__)
LAST_SEEN_GRANULARITY = timedelta(seconds=60)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def account_key(username: str) -> str:
    """Return a keyed hash of a username, so failed attempts never store what was typed."""
    return get_cipher().blind_index(username.strip().lower(), "login_failure", "account")


def _throttle(key: str, settings: dict) -> None:
    since = utcnow() - settings["LOGIN_WINDOW"]
    count, oldest = db.session.execute(
        select(func.count(), func.min(LoginFailure.at))
        .where(LoginFailure.account_key == key, LoginFailure.at > since)
    ).one()
    if count >= settings["LOGIN_MAX_FAILURES"]:
        retry = int((oldest + settings["LOGIN_WINDOW"] - utcnow()).total_seconds()) + 1
        log.warning("login throttled for account key %s…", key[:8])
        raise ApiError(429, "too_many_attempts", "登录失败次数过多，请稍后再试",
                       headers={"Retry-After": str(max(retry, 1))})


def _claim_attempt(key: str, settings: dict) -> None:
    """Count this attempt as failed before the password is checked, under the writers' lock: checked
    and counted at once, guesses sent together cannot all pass the throttle while each one's slow
    password check runs. A login that succeeds clears the count."""
    changes.lock_writers()
    _throttle(key, settings)
    db.session.add(LoginFailure(account_key=key))
    db.session.commit()


def _clear_attempts(key: str) -> None:
    """The password was right: the attempt counts for nothing, whatever comes of what follows (a
    device refused, a new password refused), so the clear is committed at once."""
    _forget_failures(key)
    db.session.commit()


def _forget_failures(key: str) -> None:
    db.session.execute(delete(LoginFailure).where(LoginFailure.account_key == key))


def authenticate(username: str, password: str, settings: dict, device_id: str | None) -> User:
    """Return the user for these credentials, or raise 401 (same for unknown and wrong) or 429."""
    key = account_key(username)
    _claim_attempt(key, settings)
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        dummy_verify(password)
    if user is None or not verify_password(user.password_hash, password) or not user.active:
        audit.record_event("login_failed", actor_id=user.id if user else None, entity="user",
                           device_id=device_id, detail={"account": key[:16]})
        db.session.commit()
        raise ApiError(401, "invalid_credentials", "用户名或密码错误")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.verified_hash = user.password_hash  # what start_session checks is still the password
    _clear_attempts(key)
    return user


def start_session(user: User, device_id: str | None) -> str:
    """Create a server-side session (and register the device); return the cookie token."""
    # Before the device check: two logins naming one new device would both register it.
    changes.lock_writers()
    # The account as committed now: a password changed, or the account disabled, after the password
    # was checked ended every session, and must end this one too, which would otherwise take the new
    # session version.
    if _changed_since_checked(user, getattr(user, "verified_hash", None)):
        audit.record_event("login_failed", actor=user, entity="user", entity_id=user.id, device_id=device_id,
                           detail={"refused": "credentials_changed"})
        db.session.commit()
        raise ApiError(401, "invalid_credentials", "用户名或密码错误")
    if device_id:
        try:
            device = claim_device(user, device_id)
        except ApiError as refused:
            # A lost phone's holder who knows the password is worth an event (DESIGN: every
            # failed login is one).
            db.session.rollback()
            audit.record_event("login_failed", actor=user, entity="user", entity_id=user.id,
                               device_id=device_id, detail={"refused": refused.code})
            db.session.commit()
            raise
        device.last_login_at = utcnow()
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=_token_hash(token), user_id=user.id, device_id=device_id,
                               session_version=user.session_version))
    audit.record_event("login", actor=user, entity="user", entity_id=user.id, device_id=device_id)
    db.session.commit()
    user.session_token = token
    return token


def _changed_since_checked(user: User, checked_hash: str | None) -> bool:
    """Read the account again as committed now (the caller holds the writers' lock) and say whether
    its password is no longer the one checked, or it was disabled meanwhile: a change or a reset
    ended every session, and must refuse what the check was for."""
    db.session.refresh(user)
    return not user.active or user.password_hash != checked_hash


def claim_device(user: User, device_id: str) -> Device:
    """Return `user`'s device `device_id`, registering it on first use; refuse another's or a revoked one."""
    device = db.session.get(Device, device_id)
    if device is not None and device.user_id != user.id:
        raise ApiError(409, "device_in_use", "该设备已登记给其他账号，请先由管理员处理")
    if device is not None and device.revoked_at is not None:
        raise devices.revoked()
    if device is None:
        device = Device(id=device_id, user_id=user.id)
        db.session.add(device)
    return device


def bind_device(user: User, device_id: str) -> Device:
    """Give a session opened without a device (API.md: login's `device_id` is optional) the device
    its first push names, so that device's revoke ends it like any other."""
    device = claim_device(user, device_id)
    db.session.execute(update(UserSession).where(UserSession.token_hash == _token_hash(user.session_token))
                       .values(device_id=device_id))
    user.device_id = device_id
    return device


def load_session(token: str, idle_timeout: timedelta, lifetime: timedelta) -> User | None:
    """Return the user of a live session token, or None when ended, idle, older than `lifetime`
    (a session kept busy, by a phone's syncs or a stolen cookie's requests, is never idle), stale or
    disabled."""
    row = db.session.get(UserSession, _token_hash(token))
    now = utcnow()
    if row is not None and row.device_id:
        device = db.session.get(Device, row.device_id)
        if device is not None and device.revoked_at is not None:
            raise devices.revoked()
    if row is None or row.ended_at is not None or now - row.last_seen_at > idle_timeout \
            or now - row.created_at > lifetime:
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.active or user.session_version != row.session_version:
        return None
    if now - row.last_seen_at > LAST_SEEN_GRANULARITY:
        table = UserSession.__table__
        changes.write_unlocked(update(table).where(table.c.token_hash == row.token_hash)
                               .values(last_seen_at=now))
        db.session.commit()
    user.session_token = token
    user.device_id = row.device_id
    return user


def end_session(user: User) -> None:
    """End the caller's session on the server, so a replayed cookie is refused."""
    if user.session_token:
        db.session.execute(update(UserSession).where(
            UserSession.token_hash == _token_hash(user.session_token)).values(ended_at=utcnow()))
    audit.record_event("logout", actor=user, entity="user", entity_id=user.id,
                       device_id=getattr(user, "device_id", None))
    db.session.commit()


def end_all_sessions(user: User) -> None:
    """Invalidate every session of a user (inside the caller's transaction)."""
    user.session_version = (user.session_version or 1) + 1


def change_password(user: User, old_password: str, new_password: str, settings: dict,
                    device_id: str | None = None) -> None:
    """Change the caller's password after checking the old one; end every session.

    A wrong old password counts as a failed login: a session left open (a borrowed PC) must not
    be a way to guess the password without the login's limit.
    """
    confirm_password(user, old_password, settings, device_id, "old_password", "原密码不正确",
                     "password_change_failed")
    if verify_password(user.password_hash, new_password):  # as stored: the same however it is composed
        # A password the town admin set (must_change_password) is one someone else knows: kept, it
        # would clear the mark unchanged.
        raise validation_error({"new_password": ["新密码不能与原密码相同"]})
    set_password(user, new_password, field="new_password")
    user.must_change_password = False
    end_all_sessions(user)
    audit.record_event("password_changed", actor=user, entity="user", entity_id=user.id)
    db.session.commit()


def confirm_password(user: User, password: str, settings: dict, device_id: str | None, field: str,
                     wrong: str, failed: str) -> None:
    """Check the signed-in user's own password again before something a live session alone must not
    get; a wrong one counts as a failed login (audited as `failed`) and is a 422 on `field` saying
    `wrong`."""
    key = account_key(user.username)
    _claim_attempt(key, settings)
    if not verify_password(user.password_hash, password):
        audit.record_event(failed, actor=user, entity="user", entity_id=user.id, device_id=device_id)
        db.session.commit()
        raise validation_error({field: [wrong]})
    _clear_attempts(key)


def recovery_key(user: User, device_id: str | None, password: str, settings: dict) -> bytes:
    """Return the key the caller's phone wraps its data key under besides the password, made on the
    first ask: a password reset by the town admin then still opens what the phone holds unsynced.
    Only the device's own user, on a session opened on that device, typing the password, gets it
    (a live cookie alone does not); a revoked device none.

    Under the writers' lock: two tabs of a phone setting up at once get the same key; and the account
    is read again as committed, so a reset or a disable that won the race refuses it.
    """
    if not device_id:
        raise ApiError(409, "no_device", "本次登录未登记设备，请在手机应用中重新登录")
    confirm_password(user, password, settings, device_id, "password", "密码不正确", "recovery_key_refused")
    checked = user.password_hash
    changes.lock_writers()
    if _changed_since_checked(user, checked):
        raise ApiError(401, "invalid_credentials", "用户名或密码错误")
    device = db.session.get(Device, device_id, populate_existing=True)
    if device is not None and device.revoked_at is not None:
        raise devices.revoked()
    if device is None or device.user_id != user.id:
        raise ApiError(403, "device_mismatch", "请在本设备上重新登录")
    if device.recovery_key is None:
        device.recovery_key = secrets.token_bytes(32)
    key = device.recovery_key
    audit.record_event("device.recovery_key", user, "device", device_id, device_id=device_id)
    db.session.commit()
    return key


def recovery_key_id(device_id: str | None) -> str | None:
    """Return the id of a device's recovery key (a digest of it; nothing of the key can be had from
    it), or None when the device has none."""
    device = db.session.get(Device, device_id) if device_id else None
    key = device.recovery_key if device is not None else None
    return None if key is None else key_id(key)


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"hulei:recovery-key-id:" + key).hexdigest()[:16]


def lift_lockout(username: str) -> None:
    """Forget an account's failed logins, in the caller's transaction (its password was reset)."""
    _forget_failures(account_key(username))


def set_password(user: User, password: str, field: str = "password") -> None:
    """Hash and set a password that passes the policy, or raise 422 naming the request's field."""
    problems = password_problems(password, user.username)
    if problems:
        raise validation_error({field: problems})
    user.password_hash = hash_password(password)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Compare CSRF tokens in constant time (as bytes: a header may hold any character)."""
    return bool(expected and given and hmac.compare_digest(
        expected.encode("utf-8", "surrogateescape"), given.encode("utf-8", "surrogateescape")))
