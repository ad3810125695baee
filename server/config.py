"""Read Hulei's settings from the environment, once, into a plain dict."""
import os
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.globals import _cv_app

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the server must not start."""


def _read_secret_file(path: Path) -> str:
    """Return the stripped contents of a secret file, or raise a ConfigError naming only the path."""
    try:
        return path.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read secret file {path}: {exc.strerror}") from None


MIN_SECRET_KEY = 16


def _secret_key(env: dict) -> str:
    """Return SECRET_KEY from the environment or instance/secret_key; never invent one, and never
    start on an empty or short one (a secret file left empty by a failed generation)."""
    path = INSTANCE / "secret_key"
    if env.get("SECRET_KEY", "").strip():  # an empty one is unset, as the Makefile reads it
        key, where = env["SECRET_KEY"].strip(), "SECRET_KEY"
    elif path.exists():
        key, where = _read_secret_file(path), str(path)
    else:
        raise ConfigError(
            "SECRET_KEY is not set and instance/secret_key does not exist; "
            "run 'make run' once or set SECRET_KEY"
        )
    if len(key) < MIN_SECRET_KEY:
        raise ConfigError(f"{where} is empty or shorter than {MIN_SECRET_KEY} characters; "
                          "remove it and run 'make run', or set a longer SECRET_KEY")
    return key


def _due_day(env: dict) -> int:
    """Return the monthly report's cut-off day (HULEI_REPORT_DUE_DAY, 1 to 28, default 17)."""
    raw = env.get("HULEI_REPORT_DUE_DAY", "17")
    if not raw.isdigit() or not 1 <= int(raw) <= 28:
        raise ConfigError("HULEI_REPORT_DUE_DAY must be a day of the month from 1 to 28")
    return int(raw)


def base_config(env: dict | None = None) -> dict:
    """Build the settings every environment shares, from `env` (default: os.environ)."""
    env = dict(os.environ if env is None else env)
    https = env.get("HULEI_HTTPS") == "1"
    return {
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL")
        or f"sqlite:///{INSTANCE / 'hulei.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "HULEI_MASTER_KEY": env.get("HULEI_MASTER_KEY"),
        "HULEI_MASTER_KEY_FILE": env.get("HULEI_MASTER_KEY_FILE"),
        "SESSION_COOKIE_NAME": "hulei_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "HULEI_HTTPS": https,
        "IDLE_TIMEOUT": timedelta(minutes=int(env.get("HULEI_IDLE_MINUTES", "30"))),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_WINDOW": timedelta(minutes=15),
        "ROTATE_BATCH_SIZE": int(env.get("HULEI_ROTATE_BATCH", "500")),
        "ROTATE_PAUSE_SECONDS": int(env.get("HULEI_ROTATE_PAUSE_MS", "0")) / 1000,
        "JSON_AS_ASCII": False,
        "TRUST_MIN_DISTANCE_M": 200.0,
        # The phone reports its own accuracy: beyond this, a claimed accuracy widens the allowance no further.
        "TRUST_MAX_ACCURACY_M": 1000.0,
        "TRUST_CLOCK_SKEW": timedelta(minutes=10),
        "TRUST_LATE_ENTRY": timedelta(days=7),
        "TRUST_MAX_SPEED_KMH": 120.0,
        "TRUST_PROPOSE_ACCURACY_M": 50.0,
        # How long a phone may be out of coverage with a child it registered (registry._registered_at).
        "REGISTRATION_MAX_AGE": timedelta(days=30),
        "SYNC_MAX_OPS": 500,
        "PHOTO_MAX_BYTES": 2 * 1024 * 1024,
        "SYNC_MIN_CLIENT_SCHEMA": 1,
        "SYNC_TOMBSTONE_DAYS": 90,
        "REPORT_DUE_DAY": _due_day(env),
    }


def load_config(name: str | None = None, overrides: dict | None = None) -> dict:
    """Return the settings for `name` ('development', 'test' or 'production') plus overrides."""
    env = os.environ
    name = name or env.get("HULEI_ENV", "development")
    config = base_config()
    if name == "test":
        config.update(TESTING=True, SECRET_KEY="test-secret-key-not-for-production")
    else:
        config["SECRET_KEY"] = (overrides or {}).get("SECRET_KEY") or _secret_key(env)
    if name == "production" and not config["HULEI_HTTPS"]:
        config["SESSION_COOKIE_SECURE"] = env.get("HULEI_ALLOW_HTTP") != "1"
    config.update(overrides or {})
    config["HULEI_ENV"] = name
    return config


def running_app() -> Flask:
    """Return the app of the current application context, or raise RuntimeError.

    For what is asked many times a pushed visit (its trust checks and schedule, each field it
    seals): the context's variable costs a tenth of the `current_app` proxy. Flask is pinned
    (requirements.txt).
    """
    context = _cv_app.get(None)
    if context is None:
        raise RuntimeError("working outside of an application context")
    return context.app


def settings() -> dict:
    """Return the running app's settings (its config): how services and sync read them. Routes and
    the CLI, Flask's own layer, use `current_app`."""
    return running_app().config
