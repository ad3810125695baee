"""Serve a bench database from its own process, as a deployed server runs apart from its clients.

    HULEI_BENCH_DATABASE_URL=... HULEI_BENCH_MASTER_KEY=... HULEI_BENCH_SECRET_KEY=... python -m bench.serve

With HULEI_BENCH_GC_STATS=1 it prints, when terminated, the time its garbage collections took.
The database must be migrated and seeded already. Prints the port it listens on, then serves
(`serving_app` and werkzeug's threaded server, as `make run` does) until terminated.
"""
import gc
import logging
import os
import signal
import sys
import time

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
    report = _gc_report() if os.environ.get("HULEI_BENCH_GC_STATS") else lambda: None

    def stop(*_):
        report()
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    print(server.server_port, flush=True)
    server.serve_forever()


def _gc_report():
    """Time the garbage collector's collections from now; return a function that prints them."""
    spent = {0: [0, 0.0], 1: [0, 0.0], 2: [0, 0.0]}
    started = [0.0]

    def timed(phase, info):
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[info["generation"]][0] += 1
            spent[info["generation"]][1] += time.perf_counter() - started[0]
    gc.callbacks.append(timed)
    return lambda: print("gc " + ", ".join(f"gen{g}: {n} collections {s:.3f} s"
                                           for g, (n, s) in spent.items()), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
