"""Serve a bench database from its own process, as a deployed server runs apart from its clients.

    HULEI_BENCH_DATABASE_URL=... HULEI_BENCH_MASTER_KEY=... HULEI_BENCH_SECRET_KEY=... python -m bench.serve

The database must be migrated and seeded already. Prints the port it listens on, then serves
(`serving_app` and werkzeug's threaded server, as `make run` does) until terminated.
"""
import logging
import os
import signal
import sys

from werkzeug.serving import make_server

from server import serving_app


def main() -> None:
    app = serving_app("development", {
        "SQLALCHEMY_DATABASE_URI": os.environ["HULEI_BENCH_DATABASE_URL"],
        "SECRET_KEY": os.environ["HULEI_BENCH_SECRET_KEY"],
        "HULEI_MASTER_KEY": os.environ["HULEI_BENCH_MASTER_KEY"], "SKIP_KEY_CHECK": True,
        "SESSION_COOKIE_SECURE": False})
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
