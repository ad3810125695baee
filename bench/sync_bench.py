"""Sync throughput through the real HTTP server, against a bare-insert floor.

    .venv/bin/python -m bench.sync_bench [--pg URL] [--runs 3] [--ops 10000]

Each run builds a fresh database (SQLite file, and PostgreSQL when --pg or HULEI_TEST_POSTGRES
is given), serves `create_app` with werkzeug's threaded server on a free 127.0.0.1 port, and:

- push: 10,000 visit ops in batches of 500 over HTTP (login cookie + CSRF header), timed;
- floor: the same 10,000 encrypted Visit rows built as objects and written by one SQLAlchemy
  Core `insert()` in one transaction, on an equally seeded fresh database, timed;
- pull: a grid of 300 children (300 households, 3,000 visits) pulled from an empty cursor by a
  new device, all pages of 500, timed.

It prints the medians of the runs: push ops/s, floor rows/s, push/floor time ratio (target ≤ 3)
and the first full pull time (target < 1 s). Not part of the pytest suite.
"""
import argparse
import base64
import http.cookiejar
import json
import logging
import os
import random
import select
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from werkzeug.serving import make_server

from bench.common import database
from server import create_app
from server.extensions import db
from server.models import (
    AppliedOp,
    AuditEvent,
    ChangeLog,
    Child,
    Grid,
    Household,
    Town,
    User,
    Village,
    Visit,
    counted_time,
    new_id,
    utcnow,
)
from server.services import audit, passwords
from server.services import changes as changes_log

PASSWORD = "Bench-pass-2024-ok"
BATCH = 500
CHILDREN = 300
PULL_VISITS = 3000
ORIGIN = (28.2458, 113.0824)
ROOT = Path(__file__).resolve().parents[1]


# --- databases and the app ---------------------------------------------------------------

def make_app(url: str):
    """Build a migrated app on `url` with a throwaway master key."""
    from flask_migrate import upgrade

    app = create_app("development", {
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": base64.b64encode(os.urandom(32)).decode(),
        "HULEI_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(), "SKIP_KEY_CHECK": True,
        "SESSION_COOKIE_SECURE": False})
    with app.app_context():
        upgrade()
    return app


def close(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def serving(app):
    """Serve `app`'s database from a separate process (`bench.serve`); yield its URL.

    A deployed server does not share its process with its clients: in one process the client's
    own JSON work and heap would hold the GIL and lengthen the server's garbage collections.
    With SAME_PROCESS set, the server runs in a thread of this process instead (as before).
    """
    if SAME_PROCESS:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join()
        return
    env = {**os.environ, "HULEI_BENCH_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "HULEI_BENCH_MASTER_KEY": app.config["HULEI_MASTER_KEY"],
           "HULEI_BENCH_SECRET_KEY": app.config["SECRET_KEY"]}
    with subprocess.Popen([sys.executable, "-m", "bench.serve"], env=env, stdout=subprocess.PIPE,
                          text=True, cwd=ROOT) as proc:
        try:
            ready, _, _ = select.select([proc.stdout], [], [], 60)
            line = proc.stdout.readline() if ready else ""
            if not line.strip().isdigit():
                raise RuntimeError(f"bench.serve did not start (exit code {proc.poll()}); see its errors above")
            SERVER_PID[0] = proc.pid
            yield f"http://127.0.0.1:{int(line)}"
        finally:
            SERVER_PID[0] = None
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


SAME_PROCESS = False
OLDEST_FIRST = False
SERVER_PID: list[int | None] = [None]


def server_cpu_s() -> float | None:
    """Return the CPU seconds the separate server process has used so far (Linux), else None."""
    pid = SERVER_PID[0]
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the town ----------------------------------------------------------------------------

def seed(app) -> dict:
    """Two grids of 300 households and children each; a worker for each grid."""
    ids = {"children": {}}
    with app.app_context():
        town = Town(id=new_id(), name="基准镇")
        village = Village(id=new_id(), town_id=town.id, name="基准村")
        db.session.add_all([town, village])
        password_hash = passwords.hash_password(PASSWORD)
        for key in ("push", "pull"):
            grid = Grid(id=new_id(), village_id=village.id, name=f"{key}网格")
            db.session.add(grid)
            db.session.flush()
            user = User(id=new_id(), username=f"worker_{key}", role="grid_worker",
                        town_id=town.id, village_id=village.id, password_hash=password_hash)
            user.display_name = f"网格员{key}"
            user.grids = [grid]
            db.session.add(user)
            children, kids = [], []
            for n in range(CHILDREN):
                household = Household(id=new_id(), grid_id=grid.id, village_id=village.id,
                                      family_type="left_behind")
                household.address = f"基准村{key}组{n}号"
                household.location = {"lat": ORIGIN[0] + n * 1e-4, "lon": ORIGIN[1]}
                household.guardians = [{"name": f"监护人{n}", "relation": "祖父",
                                        "phone": f"139{n:08d}"}]
                child = Child(id=new_id(), household_id=household.id, grid_id=grid.id,
                              village_id=village.id, sex="F", categories=["left_behind"],
                              birth_year=2015)
                child.name = f"儿童{key}{n}"
                child.birth_date = date(2015, 1, 1)
                db.session.add(household)
                kids.append(child)
                children.append((child.id, household.location))
            db.session.flush()
            db.session.add_all(kids)
            ids["children"][key] = children
            ids[f"grid_{key}"] = grid.id
            ids[f"worker_{key}"] = user.id
        ids["village"] = village.id
        db.session.commit()
    return ids


def visit_data(child_id: str, place: dict, n: int, now: datetime, count: int = 0) -> dict:
    """A plausible visit: at the household, a minute apart, an hour or more ago.

    The n-th op is n minutes older than the first, so a child's first op in the push is its
    latest visit; with OLDEST_FIRST (as a phone's outbox sends them) each op is a minute newer,
    becomes its child's latest visit and updates the child (one more audit event each).
    """
    minutes = count - n if OLDEST_FIRST else n
    return {"child_id": child_id, "visited_at": (now - timedelta(hours=1, minutes=minutes)).isoformat(),
            "lat": place["lat"] + 1e-5, "lon": place["lon"], "accuracy_m": 12.0,
            "template_version": 1, "answers": {"guardian_present": True, "in_school": True},
            "notes": f"第{n}次走访，监护人在家，孩子状态良好。", "follow_up": n % 7 == 0}


def visit_ops(children: list, count: int) -> list[dict]:
    now = datetime.now(UTC)
    return [{"op_id": str(uuid.uuid4()), "entity": "visit", "action": "create",
             "id": str(uuid.uuid4()), "base_version": None,
             "data": visit_data(*children[n % len(children)], n, now, count)} for n in range(count)]


# --- an HTTP client with a cookie jar ------------------------------------------------------

class Client:
    """A logged-in phone: cookie jar, CSRF token, device id."""

    def __init__(self, base: str, username: str, device_id: str):
        self.base, self.device_id = base, device_id
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        body = self.call("POST", "/api/auth/login", {"username": username, "password": PASSWORD,
                                                      "device_id": device_id}, csrf=False)
        self.csrf = body["csrf_token"]
        self.cursor = None  # the pull cursor, sent with each push as the field app sends it

    def call(self, method: str, path: str, body=None, csrf: bool = True) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if csrf:
            request.add_header("X-CSRF-Token", self.csrf)
        with self.opener.open(request, timeout=300) as response:
            return json.loads(response.read())

    def push(self, ops: list[dict]) -> dict:
        body = self.call("POST", "/api/sync/push", {
            "device_id": self.device_id, "device_time": datetime.now(UTC).isoformat(), "cursor": self.cursor,
            "ops": ops})
        statuses = {r["status"] for r in body["results"]}
        if statuses != {"applied"}:
            refused = [r for r in body["results"] if r["status"] != "applied"]
            raise RuntimeError(f"push not applied: {refused[:3]}")
        return body

    def pull_all(self) -> int:
        cursor, count = None, 0
        while True:
            path = "/api/sync/pull?limit=500" + (f"&cursor={cursor}" if cursor else "")
            body = self.call("GET", path)
            count += len(body["changes"])
            cursor = self.cursor = body["cursor"]
            if not body["more"]:
                return count


# --- the measurements ----------------------------------------------------------------------

def measure_push(app, ids: dict, count: int) -> tuple[float, float | None]:
    """Push `count` visits in batches of 500 over HTTP; return the seconds and the server's CPU seconds."""
    ops = visit_ops(ids["children"]["push"], count)
    with serving(app) as base:
        phone = Client(base, "worker_push", "bench-phone-push-0001")
        phone.pull_all()  # the field app pushes with the cursor its pulls reached
        cpu, start = server_cpu_s(), time.perf_counter()
        for i in range(0, count, BATCH):
            phone.push(ops[i:i + BATCH])
        elapsed = time.perf_counter() - start
        return elapsed, None if cpu is None else server_cpu_s() - cpu


def measure_floor(app, ids: dict, count: int, every_row: bool = False) -> float:
    """Build the same encrypted Visit rows and insert them with Core in one transaction.

    With `every_row`, also every other row a push of these visits writes, built the same bare
    way: each visit's audit event (hash-chained), its op-ledger row and its change-log row.
    """
    ops = visit_ops(ids["children"]["push"], count)
    with app.app_context():
        start = time.perf_counter()
        rows, events, ledger, changes, now = [], [], [], [], utcnow()
        head = audit.chain_head() if every_row else None
        first_seq = changes_log.reserve_seqs(db.session.connection(), count) if every_row else 0
        for n, item in enumerate(ops):
            data = item["data"]
            child_id = data["child_id"]
            visited_at = datetime.fromisoformat(data["visited_at"])
            visit = Visit(id=item["id"], child_id=child_id,
                          household_id=HOUSEHOLDS[child_id], grid_id=ids["grid_push"],
                          village_id=ids["village"], worker_id=ids["worker_push"],
                          device_id="bench-floor", visited_at=visited_at, received_at=now,
                          counted_at=counted_time(visited_at, now),
                          template_version=1, follow_up=data["follow_up"], flags=[],
                          review_status="none", distance_m=1.1, version=1,
                          created_at=now, updated_at=now)
            visit.location = {"lat": data["lat"], "lon": data["lon"],
                              "accuracy_m": data["accuracy_m"]}
            visit.answers = data["answers"]
            visit.notes = data["notes"]
            rows.append({c.key: getattr(visit, c.key) for c in Visit.__table__.columns
                         if getattr(visit, c.key) is not None})
            if not every_row:
                continue
            event = {"id": new_id(), "at": now, "actor_id": ids["worker_push"], "action": "visit.create",
                     "entity": "visit", "entity_id": visit.id, "device_id": "bench-floor",
                     "detail": {"version": 1, "fields": sorted(data)}, "prev_hash": head,
                     "reason_ct": None}
            event["hash"] = head = audit._digest(event, None)
            events.append(event)
            ledger.append({"op_id": item["op_id"], "user_id": ids["worker_push"],
                           "device_id": "bench-floor", "entity": "visit", "entity_id": visit.id,
                           "result": {"op_id": item["op_id"], "status": "applied", "id": visit.id,
                                      "version": 1}, "applied_at": now})
            changes.append({"seq": first_seq + n, "entity": "visit", "entity_id": visit.id,
                            "action": "upsert", "village_id": ids["village"],
                            "grid_id": ids["grid_push"], "at": now})
        db.session.execute(insert(Visit.__table__), rows)
        for table, more in ((AuditEvent.__table__, events), (AppliedOp.__table__, ledger),
                            (ChangeLog.__table__, changes)):
            if more:
                db.session.execute(insert(table), more)
        db.session.commit()
        return time.perf_counter() - start


HOUSEHOLDS: dict[str, str] = {}


def measure_pull(app, ids: dict) -> tuple[float, int]:
    """Seed 3,000 visits in the pull grid, then time a new device's first full pull."""
    with serving(app) as base:
        seeder = Client(base, "worker_pull", "bench-phone-pull-seed")
        ops = visit_ops(ids["children"]["pull"], PULL_VISITS)
        for i in range(0, PULL_VISITS, BATCH):
            seeder.push(ops[i:i + BATCH])
        phone = Client(base, "worker_pull", "bench-phone-pull-0001")
        start = time.perf_counter()
        count = phone.pull_all()
        return time.perf_counter() - start, count


def _seeded_app(url: str):
    app = make_app(url)
    ids = seed(app)
    with app.app_context():
        HOUSEHOLDS.update({c.id: c.household_id for c in db.session.scalars(
            db.select(Child).where(Child.grid_id == ids["grid_push"]))})
    return app, ids


def one_run(engine: str, pg_url: str | None, count: int) -> dict:
    result = {}
    with database(engine, pg_url) as url:
        app, ids = _seeded_app(url)
        result["push_s"], result["push_cpu_s"] = measure_push(app, ids, count)
        result["pull_s"], result["pulled"] = measure_pull(app, ids)
        close(app)
    with database(engine, pg_url) as url:
        app, ids = _seeded_app(url)
        result["floor_s"] = measure_floor(app, ids, count)
        close(app)
    with database(engine, pg_url) as url:
        app, ids = _seeded_app(url)
        result["floor_all_s"] = measure_floor(app, ids, count, every_row=True)
        close(app)
    return result


def report(engine: str, runs: list[dict], count: int) -> dict:
    push_s = statistics.median(r["push_s"] for r in runs)
    floor_s = statistics.median(r["floor_s"] for r in runs)
    ratio = statistics.median(r["push_s"] / r["floor_s"] for r in runs)
    pull_s = statistics.median(r["pull_s"] for r in runs)
    summary = {"engine": engine, "runs": len(runs), "push_ops_s": count / push_s,
               "floor_rows_s": count / floor_s, "ratio": ratio, "pull_s": pull_s,
               "pulled": runs[0]["pulled"]}
    print(f"{engine:10} push {summary['push_ops_s']:8.0f} ops/s   floor {summary['floor_rows_s']:8.0f}"
          f" rows/s   push/floor {ratio:5.2f}x (target <= 3)   first pull "
          f"{pull_s:5.2f} s for {summary['pulled']} changes (target < 1 s)")
    all_s = statistics.median(r["floor_all_s"] for r in runs)
    all_ratio = statistics.median(r["push_s"] / r["floor_all_s"] for r in runs)
    print(f"{'':10} for reference, not the target: every row the push writes for each visit (visit, "
          f"audit event, op ledger, change log; not the child updates) inserted the same bare way: "
          f"{count / all_s:.0f} visits/s, push/that floor {all_ratio:.2f}x")
    for n, r in enumerate(runs, 1):
        cpu = "" if r["push_cpu_s"] is None else f" (server CPU {r['push_cpu_s']:.2f} s)"
        print(f"{'':10} run {n}: push {r['push_s']:.2f} s{cpu}, floor {r['floor_s']:.2f} s "
              f"(every row {r['floor_all_s']:.2f} s), pull {r['pull_s']:.3f} s")
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("HULEI_TEST_POSTGRES"),
                        help="PostgreSQL URL of a database to create bench databases from")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--same-process", action="store_true",
                        help="serve from a thread of the bench's own process (the earlier harness)")
    parser.add_argument("--oldest-first", action="store_true",
                        help="push each child's visits oldest first, as a phone's outbox does")
    args = parser.parse_args(argv)
    global SAME_PROCESS, OLDEST_FIRST
    SAME_PROCESS, OLDEST_FIRST = args.same_process, args.oldest_first
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    random.seed(1)
    engines = ["sqlite"] + ([] if args.sqlite_only or not args.pg else ["postgresql"])
    summaries = []
    for engine in engines:
        runs = [one_run(engine, args.pg, args.ops) for _ in range(args.runs)]
        summaries.append(report(engine, runs, args.ops))
    ok = all(s["ratio"] <= 3 and s["pull_s"] < 1 for s in summaries)
    print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
