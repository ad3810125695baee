"""Ledger speed on a 20,000-child town with 200,000 visits.

    .venv/bin/python -m bench.ledger_bench [--pg URL] [--runs 21] [--scale 12]

Builds a fresh database (a SQLite file; PostgreSQL too when --pg or HULEI_TEST_POSTGRES is set),
loads the demo town at scale 12 (~20,000 children), then writes 10 visits a child with bulk
Core inserts (answers and locations AES-GCM encrypted like the app does), sets each child's last
visit and next due date, and gives half the high-risk children an active plan. Through the Flask
test client (the whole request path: session, scope, JSON; no network) it times the first page of
the children's ledger for a village head and for the town admin, name and initials searches, the
overdue filter, the to-do (/api/tasks, which reads every overdue child in scope to order them by the
day each fell due), and the whole ledger exported as XLSX and CSV by the town admin. Prints medians.
"""
import argparse
import base64
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, text, update

from bench.common import database
from server import create_app
from server.crypto import get_cipher
from server.extensions import db
from server.models import Child, Household, Plan, User, Visit
from server.services.demo.load import load_demo_town
from server.services.schedule import interval_days, local_zone

VISITS_PER_CHILD = 10
ANSWERS = ({"guardian_present": True, "in_school": True},
           {"guardian_present": False, "guardian_away_months": 8},
           {"emotional_change": True, "in_school": True},
           {"safe_housing": True, "prevention_education": False})


def make_app(url: str):
    """Return a migrated app on `url` with a fresh master key."""
    from flask_migrate import upgrade
    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": url, "SKIP_KEY_CHECK": True,
                              "HULEI_MASTER_KEY": base64.b64encode(os.urandom(32)).decode()})
    with app.app_context():
        upgrade()
    return app


def _visit_rows(children, workers: dict, rng: random.Random, now: datetime) -> list[dict]:
    cipher, rows = get_cipher(), []
    for child in children:
        for n in range(VISITS_PER_CHILD):
            visit_id = str(uuid.uuid4())
            at = now - timedelta(days=n * 60 + rng.randint(1, 50), minutes=rng.randint(0, 600))
            answers = json.dumps(rng.choice(ANSWERS), separators=(",", ":")).encode()
            location = json.dumps({"lat": 29.1, "lon": 113.2, "accuracy_m": 12}).encode()
            rows.append({"id": visit_id, "child_id": child.id, "household_id": child.household_id,
                         "grid_id": child.grid_id, "village_id": child.village_id,
                         "worker_id": workers.get(child.grid_id), "visited_at": at, "received_at": at,
                         "counted_at": at,
                         "answers_ct": cipher.encrypt(answers, "visit", "answers", visit_id),
                         "location_ct": cipher.encrypt(location, "visit", "location", visit_id),
                         "flags": [], "review_status": "none", "follow_up": False, "version": 1,
                         "created_at": now, "updated_at": now})
    return rows


def seed_visits(seed: int) -> int:
    """Write 10 visits a child with bulk Core inserts; set last visit and next due; add plans."""
    rng, now = random.Random(seed), datetime.now(local_zone())
    children = db.session.execute(select(Child.id, Child.household_id, Child.grid_id, Child.village_id,
                                         Child.risk_level)).all()
    workers = {}
    for user in db.session.scalars(select(User).where(User.role == "grid_worker")):
        for grid_id in user.grid_ids:
            workers.setdefault(grid_id, user.id)
    for start in range(0, len(children), 1000):
        rows = _visit_rows(children[start:start + 1000], workers, rng, now)
        db.session.execute(insert(Visit.__table__), rows)
    last = dict(db.session.execute(
        select(Visit.child_id, func.max(Visit.counted_at)).group_by(Visit.child_id)).all())
    table = Child.__table__
    db.session.execute(update(table).where(table.c.id == bindparam("cid")).values(
        last_visit_at=bindparam("last"), next_visit_due=bindparam("due")), [
        {"cid": c.id, "last": last[c.id],
         "due": last[c.id].astimezone(local_zone()).date() + timedelta(days=interval_days(c.risk_level))}
        for c in children])
    _seed_plans([c for c in children if c.risk_level == "high"][::2], workers, now)
    db.session.commit()
    return len(children) * VISITS_PER_CHILD


def _seed_plans(children, workers: dict, now: datetime) -> None:
    for child in children:
        plan = Plan(id=str(uuid.uuid4()), child_id=child.id, grid_id=child.grid_id,
                    village_id=child.village_id, helper_id=workers.get(child.grid_id), status="active",
                    approved_at=now, review_every_days=30, risk_factors=[],
                    next_review_due=now.date() + timedelta(days=30))
        plan.measures = [{"kind": "psychological", "detail": "心理干预（卫生院）：心理疏导", "due": None}]
        db.session.add(plan)


def timed(client, url: str, runs: int) -> tuple[float, float, int]:
    """Return the median and worst milliseconds of `runs` GETs and the answer's total."""
    times, total = [], None
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.get_data(as_text=True)[:200]}")
        total = _total(response.get_json()) if response.is_json else len(response.data)
    return statistics.median(times), max(times), total


def _total(body: dict) -> int:
    # A ledger page counts its rows; the to-do counts the children whose visit is overdue.
    return body["total"] if "total" in body else body["counts"]["overdue_visit"]


def login(app, username: str, password: str):
    """Return a test client logged in as `username`."""
    client = app.test_client()
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    if response.status_code != 200:
        raise RuntimeError(f"login {username}: {response.get_json()}")
    return client


def _pick_head(logins: list[dict]) -> tuple[str, str, str]:
    counts = db.session.execute(select(Child.village_id, func.count()).group_by(Child.village_id)
                                .order_by(func.count().desc())).first()
    head = db.session.scalar(select(User).where(User.role == "village_head", User.village_id == counts[0]))
    password = next(entry["password"] for entry in logins if entry["username"] == head.username)
    return head.username, password, counts[0]


def _queries(village_id: str) -> tuple[str, str]:
    from pypinyin import lazy_pinyin
    child = db.session.scalar(select(Child).where(Child.village_id == village_id).order_by(Child.id).limit(1))
    return child.name[1:], "".join(s[0] for s in lazy_pinyin(child.name))


def run(engine: str, url: str, args) -> dict:
    """Seed one database and time the ledger on it."""
    app, figures = make_app(url), {"engine": engine}
    with app.app_context():
        start = time.perf_counter()
        logins = load_demo_town(seed=1, scale=args.scale, activity=False)  # its own 10 visits a child
        figures["visits"] = seed_visits(seed=1)
        figures["seed_s"] = time.perf_counter() - start
        if engine == "postgresql":  # as autovacuum has by the time anyone asks: plans from statistics
            db.session.commit()
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        figures["children"] = db.session.scalar(select(func.count()).select_from(Child))
        figures["households"] = db.session.scalar(select(func.count()).select_from(Household))
        head_name, head_password, village_id = _pick_head(logins)
        figures["village_children"] = db.session.scalar(
            select(func.count()).select_from(Child).where(Child.village_id == village_id))
        name_part, initials = _queries(village_id)
        admin = next(entry for entry in logins if entry["role"] == "town_admin")
    head, town = login(app, head_name, head_password), login(app, admin["username"], admin["password"])
    cases = [("head: first page", head, "/api/ledgers/children", args.runs),
             ("admin: first page (whole town)", town, "/api/ledgers/children", args.runs),
             ("admin: page 200 of 50", town, "/api/ledgers/children?page=200", args.runs),
             ("admin: overdue=1", town, "/api/ledgers/children?overdue=1", args.runs),
             ("head: q=given name", head, f"/api/ledgers/children?q={name_part}", args.runs),
             ("head: q=initials", head, f"/api/ledgers/children?q={initials}", args.runs),
             ("admin: q=given name (whole town)", town, f"/api/ledgers/children?q={name_part}", args.runs),
             ("admin: q=initials (whole town)", town, f"/api/ledgers/children?q={initials}", args.runs),
             ("head: to-do (/api/tasks)", head, "/api/tasks", args.runs),
             ("admin: to-do, whole town (/api/tasks)", town, "/api/tasks", args.runs),
             ("admin: XLSX export, whole town", town, "/api/ledgers/children?format=xlsx", args.export_runs),
             ("admin: CSV export, whole town", town, "/api/ledgers/children?format=csv", args.export_runs)]
    figures["cases"] = [(label, *timed(client, path, runs)) for label, client, path, runs in cases]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return figures


def report(figures: dict) -> None:
    """Print one engine's figures."""
    print(f"\n{figures['engine']}: {figures['children']} children, {figures['households']} households, "
          f"{figures['visits']} visits (seeded in {figures['seed_s']:.0f} s); "
          f"largest village {figures['village_children']} children")
    for label, median, worst, total in figures["cases"]:
        print(f"  {label:<36} median {median:8.1f} ms   worst {worst:8.1f} ms   ({total})")


def main(argv=None) -> None:
    """Run the benchmark on SQLite and, when configured, PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("HULEI_TEST_POSTGRES"))
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--export-runs", type=int, default=3)
    parser.add_argument("--scale", type=int, default=12)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    for engine in engines:
        if engine == "postgresql" and not args.pg:
            print("PostgreSQL skipped: give --pg or set HULEI_TEST_POSTGRES", file=sys.stderr)
            continue
        with database(engine, args.pg) as url:
            report(run(engine, url, args))


if __name__ == "__main__":
    main()
