"""Fixtures: an app per database engine, a client, a small town with a user of every role."""
import atexit
import base64
import logging
import os
import shutil
import tempfile
import uuid

import pytest
from sqlalchemy import create_engine, make_url, text

from server import create_app, request_log
from server.extensions import db

from . import factories

PG_URL = os.environ.get("HULEI_TEST_POSTGRES")
ENGINES = ["sqlite", "postgresql"]


def _master_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _admin():
    return create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                         isolation_level="AUTOCOMMIT")


def _postgres_url(name: str, template: str | None = None) -> str:
    """Create database `name` (a copy of `template` if given) and return its URL."""
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()
    return str(admin.url.set(database=name).render_as_string(hide_password=False))


# Migrating a database takes half a second, copying a migrated one a few milliseconds: each test
# process migrates one database an engine, once, and gives every test a copy of it.
_TEMPLATES: dict[str, str] = {}


def _template(engine: str) -> str:
    """Return this process's migrated database of `engine`: a SQLite file, or a PostgreSQL name."""
    if engine not in _TEMPLATES:
        if engine == "sqlite":
            folder = tempfile.mkdtemp(prefix="hulei-template-")
            atexit.register(shutil.rmtree, folder, True)
            made, url = f"{folder}/hulei.db", f"sqlite:///{folder}/hulei.db"
        else:
            made = f"hulei_template_{uuid.uuid4().hex[:12]}"
            url = _postgres_url(made)
            atexit.register(_drop_postgres, made)
        app = make_app(url)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()  # a database copied from must have no one connected to it
        _TEMPLATES[engine] = made
    return _TEMPLATES[engine]


def _drop_postgres(name: str) -> None:
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def database_url(engine: str, tmp_path, migrated: bool = True) -> str:
    """Return a fresh database URL for `engine`, at the newest migration (or empty, if not
    `migrated`); skip when the engine is not available."""
    if engine == "sqlite":
        if migrated:
            shutil.copyfile(_template(engine), tmp_path / "hulei.db")
        return f"sqlite:///{tmp_path / 'hulei.db'}"
    if not PG_URL:
        pytest.skip("PostgreSQL run skipped: set HULEI_TEST_POSTGRES "
                    "(e.g. postgresql://postgres@127.0.0.1:5432/test) to run it")
    return _postgres_url(f"hulei_test_{uuid.uuid4().hex[:12]}", _template(engine) if migrated else None)


def make_app(url: str, **overrides):
    """Build a test app on `url` with its schema migrated."""
    from flask_migrate import upgrade

    config = {"SQLALCHEMY_DATABASE_URI": url, "HULEI_MASTER_KEY": _master_key(),
              "SKIP_KEY_CHECK": True}
    config.update(overrides)
    app = create_app("test", config)
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(params=ENGINES)
def engine_name(request):
    """Each SQL-touching test runs on SQLite and, when configured, PostgreSQL."""
    return request.param


def _database(engine_name, tmp_path, migrated: bool):
    url = database_url(engine_name, tmp_path, migrated)
    yield url
    if engine_name == "postgresql":
        _drop_postgres(make_url(url).database)


@pytest.fixture
def db_url(engine_name, tmp_path):
    """A database of the engine under test, at the newest migration."""
    yield from _database(engine_name, tmp_path, migrated=True)


@pytest.fixture
def empty_db_url(engine_name, tmp_path):
    """An empty database of the engine under test, nothing migrated."""
    yield from _database(engine_name, tmp_path, migrated=False)


@pytest.fixture
def app(db_url):
    """An app on a fresh database at the newest migration."""
    app = make_app(db_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An app context for service-level tests."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def town(app):
    """A small town: two villages of two grids each, records in each, a user of every role."""
    with app.app_context():
        return factories.build_town()


@pytest.fixture
def login(app):
    """Log a client in as a town user; return an ApiClient that sends the CSRF header."""
    def _login(username: str, password: str = factories.PASSWORD, device_id: str | None = None):
        client = factories.ApiClient(app.test_client())
        client.login(username, password, device_id)
        return client
    return _login


@pytest.fixture
def werkzeug_log():
    """Werkzeug's request logger without the query-string filter, whichever app installed it
    earlier in the process; the filters are put back after the test."""
    logger = logging.getLogger("werkzeug")
    kept = logger.filters[:]
    logger.filters = [f for f in kept if not isinstance(f, request_log.WithoutQuery)]
    yield logger
    logger.filters = kept


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """Copy the checklist data and the risk rules into a temp dir and point the loaders at them."""
    from server.services import checklists, risk_rules
    target = tmp_path / "checklists"
    shutil.copytree(checklists.CHECKLISTS_DIR, target)
    rules = tmp_path / "risk_rules.json"
    shutil.copy(risk_rules.RISK_RULES_PATH, rules)
    monkeypatch.setattr(checklists, "CHECKLISTS_DIR", target)
    monkeypatch.setattr(risk_rules, "RISK_RULES_PATH", rules)
    yield target
    checklists.clear_caches()
    risk_rules.clear_cache()
