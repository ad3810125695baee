"""Browser-test fixtures: a real server on a free 127.0.0.1 port and Chromium through playwright."""
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from server.extensions import db

from .. import factories
from ..conftest import database_url, make_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 1, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
         "permissions": ["geolocation"],
         "geolocation": {"latitude": 29.11, "longitude": 113.2, "accuracy": 12}}
SKIP_REASON = ("browser tests skipped: /usr/bin/chromium not found "
               "(apt-get install chromium; .ci/run installs it)")


def pytest_collection_modifyitems(config, items):
    """Mark every test here that drives Chromium as a browser test; skip them when it is missing."""
    here = Path(__file__).parent
    missing = not CHROMIUM.exists()
    for item in items:
        if Path(str(item.fspath)).parent == here and {"browser", "pw"} & set(item.fixturenames):
            item.add_marker(pytest.mark.browser)
            if missing:
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@dataclass
class LiveServer:
    """A running test server and its town; `overrides` serves other bytes at a path (a new release)."""

    url: str
    app: object
    ids: factories.TownIds
    overrides: dict = field(default_factory=dict)


def _with_overrides(app, overrides: dict):
    def wsgi(environ, start_response):
        body = overrides.get(environ.get("PATH_INFO"))
        if body is None:
            return app(environ, start_response)
        start_response("200 OK", [("Content-Type", "text/javascript; charset=utf-8"),
                                  ("Cache-Control", "no-cache"), ("Content-Length", str(len(body)))])
        return [body]
    return wsgi


@pytest.fixture
def live_server(tmp_path):
    """The app on a fresh SQLite file with the factories town, served on a free port in a thread."""
    app = make_app(database_url("sqlite", tmp_path))
    with app.app_context():
        ids = factories.build_town()
    overrides: dict = {}
    server = make_server("127.0.0.1", 0, _with_overrides(app, overrides), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, ids, overrides)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def pw():
    """The playwright driver (one per run)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(pw):
    """A fresh headless Chromium."""
    chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    yield chromium
    chromium.close()


def persistent(pw, user_data_dir, **options):
    """Launch Chromium with a profile directory that survives a close (an installed phone app)."""
    return pw.chromium.launch_persistent_context(str(user_data_dir), executable_path=str(CHROMIUM),
                                                 args=CHROMIUM_ARGS, headless=True,
                                                 **{**PHONE, **options})
