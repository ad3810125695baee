"""The server refuses to start without a master key, or with one that does not fit the database."""
import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from server import create_app
from server.crypto import MasterKeyError
from server.extensions import db
from server.models import KeyCanary

from ..conftest import make_app

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "server"]
NO_KEY = ("no master key: set HULEI_MASTER_KEY (base64 of 32 random bytes) or HULEI_MASTER_KEY_FILE; "
          "'make run' creates instance/master.key on first start")
WRONG_KEY = ("the master key (version 1) does not match this database; "
             "check HULEI_MASTER_KEY or HULEI_MASTER_KEY_FILE")
NO_VERSION = "none of the configured master key versions matches this database"


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def start(url: str, key: str | None, key_file: str | None = None):
    """Build the app the way a real start does: with the key check."""
    return create_app("test", {"SQLALCHEMY_DATABASE_URI": url, "HULEI_MASTER_KEY": key,
                               "HULEI_MASTER_KEY_FILE": key_file})


def run_flask(args: list[str], url: str, key: str | None = None, key_file: str | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HULEI_", "DATABASE_URL"))}
    env.update(SECRET_KEY="test-secret-key-not-for-production", DATABASE_URL=url)
    if key is not None:
        env["HULEI_MASTER_KEY"] = key
    if key_file is not None:
        env["HULEI_MASTER_KEY_FILE"] = key_file
    return subprocess.run(FLASK + args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def assert_no_key_material(text: str, *keys: str) -> None:
    for key in keys:
        raw = base64.b64decode(key)
        assert key not in text and key[:12] not in text
        assert raw.hex() not in text and repr(raw) not in text


@pytest.fixture
def migrated(db_url):
    """A migrated database whose key canary was written under KEY; return (url, KEY)."""
    key = new_key()
    app = make_app(db_url, HULEI_MASTER_KEY=key)
    with app.app_context():
        db.engine.dispose()
    app = start(db_url, key)  # the first real start writes the canary
    with app.app_context():
        assert db.session.scalars(select(KeyCanary.key_version)).all() == [1]
        db.session.remove()
        db.engine.dispose()
    return db_url, key


def test_no_master_key_refuses_to_start(tmp_path):
    with pytest.raises(MasterKeyError) as err:
        start(f"sqlite:///{tmp_path / 'hulei.db'}", None)
    assert str(err.value) == NO_KEY


def test_no_master_key_stops_the_command_line(tmp_path):
    result = run_flask(["db", "upgrade"], f"sqlite:///{tmp_path / 'hulei.db'}")
    assert result.returncode != 0
    assert f"MasterKeyError: {NO_KEY}" in result.stderr
    assert not (tmp_path / "hulei.db").exists() or "Running upgrade" not in result.stderr


def test_right_key_starts_and_is_checked_each_time(migrated):
    url, key = migrated
    for _ in range(2):
        app = start(url, key)
        with app.app_context():
            assert db.session.scalars(select(KeyCanary.key_version)).all() == [1]
            db.session.remove()
            db.engine.dispose()


def test_wrong_key_refuses_to_start(migrated):
    url, key = migrated
    wrong = new_key()
    with pytest.raises(MasterKeyError) as err:
        start(url, wrong)
    assert str(err.value) == WRONG_KEY
    assert_no_key_material(str(err.value), key, wrong)
    with pytest.raises(MasterKeyError) as err:  # the right key as version 1 beside a wrong one
        start(url, f"2:{new_key()},1:{wrong}")
    assert str(err.value) == WRONG_KEY


def test_key_of_another_version_only_refuses_to_start(migrated):
    url, key = migrated
    other = new_key()
    with pytest.raises(MasterKeyError) as err:
        start(url, f"2:{other}")
    assert str(err.value) == NO_VERSION
    assert_no_key_material(str(err.value), key, other)


def test_wrong_key_in_a_key_file_refuses_to_start(migrated, tmp_path):
    url, key = migrated
    wrong = new_key()
    path = tmp_path / "master.key"
    path.write_text(f"1:{wrong}\n", encoding="ascii")
    with pytest.raises(MasterKeyError) as err:
        start(url, None, str(path))
    assert str(err.value) == WRONG_KEY


def test_wrong_key_stops_the_command_line_without_printing_keys(migrated):
    url, key = migrated
    wrong = new_key()
    result = run_flask(["audit", "verify"], url, key=wrong)
    assert result.returncode != 0
    assert f"MasterKeyError: {WRONG_KEY}" in result.stderr
    assert "ok:" not in result.stdout
    assert_no_key_material(result.stdout + result.stderr, key, wrong)
    result = run_flask(["audit", "verify"], url, key=key)
    assert (result.returncode, result.stdout.split(":")[0]) == (0, "ok"), result.stderr
