"""What a pushed visit's required checks cost: the push with some of them taken out, for comparison.

    .venv/bin/python -m bench.push_ablation [--runs 5] [--without geodesic,refresh,audit-hash,travel]

Not a way to run the server: each name replaces work the push must do, to measure its share.
- geodesic: the location check's distance on the sphere instead of geographiclib's geodesic;
- refresh: nothing done to the child after its visit (its last visit, reassessment, schedule and
  plan proposal);
- audit-hash: a random value for each audit event's hash instead of its SHA-256 over the event;
- travel: no impossible-travel check.

Each run pushes the sync bench's 10,000 visits (batches of 500) through the Flask test client on a
fresh SQLite database (no HTTP; CPU seconds of this process), each batch with the pull cursor the
phone reached, as the sync bench sends them; then times the bench's visit floor on another.
Prints both per run and the medians, with the checks in place and with them taken out.
"""
import argparse
import os
import statistics
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from unittest import mock

from bench import sync_bench
from bench.common import database
from server.services.geo import spherical_km

# Where each is looked up when a visit is pushed (trust holds its own name for distance_m).
OUT = {
    "geodesic": ("server.services.trust.distance_m", lambda a, b: spherical_km(a, b) * 1000),
    "refresh": ("server.services.visits._after_visit", lambda *args, **kwargs: None),
    "audit-hash": ("server.services.audit._digest", lambda event, reason: os.urandom(32).hex()),
    "travel": ("server.services.trust.travel_flags", lambda *args, **kwargs: []),
}


def push_cpu(count: int) -> float:
    """Push `count` visits in-process on a fresh database; return the CPU seconds of the pushes."""
    with database("sqlite", None) as url:
        app, ids = sync_bench._seeded_app(url)
        client = app.test_client()
        login = client.post("/api/auth/login", json={"username": "worker_push", "password": sync_bench.PASSWORD,
                                                     "device_id": "ablation-phone-01"})
        csrf = login.get_json()["csrf_token"]
        cursor, more = None, True
        while more:
            page = client.get("/api/sync/pull?limit=500" + (f"&cursor={cursor}" if cursor else "")).get_json()
            cursor, more = page["cursor"], page["more"]
        ops = sync_bench.visit_ops(ids["children"]["push"], count)
        start = time.process_time()
        for i in range(0, count, sync_bench.BATCH):
            answer = client.post("/api/sync/push", headers={"X-CSRF-Token": csrf}, json={
                "device_id": "ablation-phone-01", "device_time": datetime.now(UTC).isoformat(),
                "cursor": cursor, "ops": ops[i:i + sync_bench.BATCH]})
            if {r["status"] for r in answer.get_json()["results"]} != {"applied"}:
                raise RuntimeError("push not applied")
        spent = time.process_time() - start
        sync_bench.close(app)
        return spent


def floor_cpu(count: int) -> float:
    with database("sqlite", None) as url:
        app, ids = sync_bench._seeded_app(url)
        start = time.process_time()
        sync_bench.measure_floor(app, ids, count)
        spent = time.process_time() - start
        sync_bench.close(app)
        return spent


def measure(runs: int, count: int, without: list[str]) -> tuple[float, float]:
    pushes, floors = [], []
    for _ in range(runs):
        with ExitStack() as stack:
            for name in without:
                stack.enter_context(mock.patch(OUT[name][0], OUT[name][1]))
            pushes.append(push_cpu(count))
        floors.append(floor_cpu(count))
    label = "+".join(without) or "nothing"
    ratio = statistics.median(p / f for p, f in zip(pushes, floors))
    print(f"without {label:40} push CPU {' '.join(f'{p:.2f}' for p in pushes)} s, floor "
          f"{' '.join(f'{f:.2f}' for f in floors)} s; medians {statistics.median(pushes):.2f} / "
          f"{statistics.median(floors):.2f} s, ratio {ratio:.2f}")
    return statistics.median(pushes), statistics.median(floors)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--without", default=",".join(OUT))
    args = parser.parse_args(argv)
    without = [name for name in args.without.split(",") if name]
    unknown = set(without) - set(OUT)
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}; known: {', '.join(OUT)}")
    import logging
    logging.disable(logging.INFO)
    whole, _ = measure(args.runs, args.ops, [])
    cut, _ = measure(args.runs, args.ops, without)
    print(f"taking out {', '.join(without)} saves {100 * (1 - cut / whole):.0f} % of the push's CPU")


if __name__ == "__main__":
    main()
