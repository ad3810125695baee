"""Fixtures: an app per database engine, a client, a small town with a user of every role."""
import base64
import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from server import create_app
from server.extensions import db

from . import factories

PG_URL = os.environ.get("HULEI_TEST_POSTGRES")
ENGINES = ["sqlite", "postgresql"]


def _master_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _postgres_url(name: str) -> str:
    base = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.rsplit("/", 1)[0] + f"/{name}"


def database_url(engine: str, tmp_path) -> str:
    """Return a fresh, empty database URL for `engine`, or skip when it is not available."""
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'hulei.db'}"
    if not PG_URL:
        pytest.skip("PostgreSQL run skipped: set HULEI_TEST_POSTGRES "
                    "(e.g. postgresql://postgres@127.0.0.1:5432/test) to run it")
    return _postgres_url(f"hulei_test_{uuid.uuid4().hex[:12]}")


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


@pytest.fixture
def db_url(engine_name, tmp_path):
    """An empty database of the engine under test."""
    url = database_url(engine_name, tmp_path)
    yield url
    if engine_name == "postgresql":
        name = url.rsplit("/", 1)[1]
        admin = create_engine(url.rsplit("/", 1)[0] + "/test", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def app(db_url):
    """A migrated app on a fresh database."""
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
