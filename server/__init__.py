"""Hulei (护蕾): the field system of a township's child-protection campaign."""
import gc

from flask import Flask

from . import crypto, request_log
from .config import load_config
from .json_provider import IsoJSONProvider


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    """Build the app: settings, keys, extensions, blueprints, error handlers, commands."""
    app = Flask(__name__, static_folder=None)
    app.json = IsoJSONProvider(app)
    # A URL with an empty segment (/api//households, /api/children//risk: an empty id) is a 404
    # in the envelope, not werkzeug's 308 to the merged URL: that answer bypasses the error
    # handlers with an English HTML page, and would send an empty id on to another resource.
    # Set before any rule is added: a rule takes the map's setting when it is bound.
    app.url_map.merge_slashes = False
    app.config.from_mapping(load_config(config_name, overrides))
    crypto.init_app(app)
    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    return app


def serving_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    """Build the app of a serving process (`make run`), keep query strings out of its request log
    (`request_log`) and freeze its start-up heap.

    A server keeps what it loads at start (modules, the app, rules, pinyin tables: about
    300,000 objects) for life. Frozen, they drop out of the garbage collector's full
    collections, which otherwise walk them again and again while a push builds thousands of
    records (a 10,000-visit push spent 0.74 s in collections, 0.29 s frozen; bench/README.md).
    Not for tests, which build many apps: a frozen object that later dies is never collected.
    """
    app = create_app(config_name, overrides)
    request_log.install()
    gc.collect()
    gc.freeze()
    return app


def register_extensions(app: Flask) -> None:
    """Bind the database, migrations, login and security hooks; check the master key."""
    from . import database, models  # noqa: F401  (models register their tables)
    from .errors import register_errorhandlers
    from .extensions import db, login_manager, migrate
    from .security import register_security
    from .services.changes import track_changes

    db.init_app(app)
    track_changes(db.session)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    login_manager.init_app(app)
    register_security(app)
    register_errorhandlers(app)
    if not app.config.get("SKIP_KEY_CHECK"):
        with app.app_context():
            database.check_master_key(db.engine, app.extensions["hulei_cipher"])
        # A key file changed under the running server is checked the same way before it is taken up.
        app.extensions[crypto.KEY_CHECK] = lambda cipher: database.check_canaries(db.engine, cipher)


def register_blueprints(app: Flask) -> None:
    """Register every blueprint."""
    from .routes import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


def register_commands(app: Flask) -> None:
    """Register the command-line commands."""
    from .cli import COMMANDS

    for command in COMMANDS:
        app.cli.add_command(command)
