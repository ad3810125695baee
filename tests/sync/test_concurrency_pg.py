"""Concurrent pushes and pulls on PostgreSQL: overlapping batches apply each op once; a puller
running beside writers that commit in random order misses no change; logins sent together are
throttled as if sent one after another."""
import random
import threading
import time
import uuid
from collections import Counter as Tally
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text

from server.extensions import db
from server.models import AppliedOp, AuditEvent, Device, Household, User, Visit
from server.services import registry
from server.sync.pull import pull_changes
from tests import factories

from .test_push_pull_basics import op, push

THREADS = 8
pytestmark = pytest.mark.slow


@pytest.fixture
def pg_engine(engine_name):
    """These tests are about PostgreSQL's row locks and READ COMMITTED; SQLite has one writer."""
    if engine_name != "postgresql":
        pytest.skip("concurrency tests run on PostgreSQL only (SQLite serializes every writer)")
    return engine_name


def _pool(town, size: int = 200) -> list[dict]:
    ops = []
    for n in range(size):
        if n % 2:
            ops.append(op("household", "create", str(uuid.uuid4()),
                          {"grid_id": town.grids["a1"], "address": f"并发巷{n}号"}))
        else:
            ops.append(op("visit", "create", str(uuid.uuid4()),
                          {"child_id": town.children["a1"], "notes": f"并发{n}",
                           "visited_at": f"2025-06-01T{8 + n // 60:02d}:{n % 60:02d}:00+08:00"}))
    return ops


def test_overlapping_batches_apply_each_op_once(pg_engine, app, town, login):
    rng = random.Random(20261128)
    pool = _pool(town)
    batches: list[list[dict]] = [[] for _ in range(THREADS)]
    for item in pool:
        for index in rng.sample(range(THREADS), rng.randint(2, 4)):
            batches[index].append(item)
    for batch in batches:
        rng.shuffle(batch)
    clients = [login("worker_a", device_id=f"phone-worker-a-{n:04d}") for n in range(THREADS)]
    start = threading.Barrier(THREADS)

    def run(n: int) -> list[dict]:
        start.wait()
        return push(clients[n], batches[n])["results"]

    with ThreadPoolExecutor(THREADS) as executor:
        answers = list(executor.map(run, range(THREADS)))

    seen: dict[str, list[dict]] = {}
    for batch, results in zip(batches, answers):
        assert [r["op_id"] for r in results] == [o["op_id"] for o in batch]
        for result in results:
            seen.setdefault(result["op_id"], []).append(result)
    assert set(seen) == {o["op_id"] for o in pool}
    for item in pool:
        results = seen[item["op_id"]]
        statuses = Tally(r["status"] for r in results)
        assert statuses["applied"] == 1 and statuses["duplicate"] == len(results) - 1, results
        assert {(r["id"], r["version"]) for r in results} == {(item["id"], 1)}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AppliedOp)) == len(pool)
        created = {o["id"] for o in pool}
        households = set(db.session.scalars(select(Household.id).where(Household.id.in_(created))))
        visits = set(db.session.scalars(select(Visit.id)))
        assert households | visits == created and not households & visits
        events = Tally(db.session.scalars(select(AuditEvent.entity_id).where(
            AuditEvent.action.in_(["household.create", "visit.create"]))))
        assert set(events) == created and set(events.values()) == {1}


def _writer(app, user_id: str, grid_id: str, rounds: int, seed: int) -> set:
    """Create households in transactions that sleep between flush and commit; some roll back."""
    rng, committed = random.Random(seed), set()
    with app.app_context():
        actor = db.session.get(User, user_id)
        for n in range(rounds):
            made = [registry.create_household(actor, {"grid_id": grid_id,
                                                      "address": f"写者{seed}巷{n}-{k}号"}).id
                    for k in range(rng.randint(1, 3))]
            time.sleep(rng.uniform(0, 0.01))
            if rng.random() < 0.15:
                db.session.rollback()
                continue
            db.session.commit()
            committed.update(("household", record_id) for record_id in made)
        db.session.remove()
    return committed


def test_puller_beside_writers_misses_no_change(pg_engine, app, town):
    with app.app_context():
        db.session.add(Device(id="phone-puller-0001", user_id=town.users["worker_a"]))
        db.session.commit()
    done = threading.Event()
    seen: set[tuple[str, str]] = set()
    pages = []

    def puller():
        rng = random.Random(7)
        with app.app_context():
            actor = db.session.get(User, town.users["worker_a"])
            cursor = None
            while True:
                finished = done.is_set()
                while True:
                    device = db.session.get(Device, "phone-puller-0001")
                    page = pull_changes(actor, device, cursor, rng.choice((1, 5, 50)))
                    seen.update((c["entity"], c["id"]) for c in page["changes"]
                                if c["action"] == "upsert")
                    pages.append(len(page["changes"]))
                    cursor = page["cursor"]
                    if not page["more"]:
                        break
                if finished:
                    break
                time.sleep(rng.uniform(0, 0.005))
            db.session.remove()

    with ThreadPoolExecutor(5) as executor:
        reader = executor.submit(puller)
        writers = [executor.submit(_writer, app, town.users["worker_a"], town.grids["a1"], 25, seed)
                   for seed in range(4)]
        committed = set().union(*(w.result() for w in writers))
        done.set()
        reader.result()
    assert committed and len([p for p in pages if p]) > 4, "the puller ran beside the writers"
    seeded = {("household", town.households["a1"]), ("child", town.children["a1"])}
    assert seen == committed | seeded


def test_an_audited_edit_and_a_push_take_the_writers_locks_in_one_order(pg_engine, app, town, login):
    """An edit that audits first and flushes its change-log rows later (a risk override does) and a
    push (the change counter first, then the chain) once waited on each other: a deadlock."""
    from server.services import audit
    from server.services.writes import save_record

    worker, beside = login("worker_a", device_id="phone-worker-a-lockorder"), Beside()

    def audited_edit() -> None:
        with app.app_context():
            try:
                admin = db.session.get(User, town.users["admin"])
                audit.record_event("test.first", admin, "child", town.children["a1"])
                beside.hold()
                home = db.session.get(Household, town.households["a1"])
                home.address = "锁顺序测试巷1号"
                save_record(admin, "household", home, "update", ["address"])
                db.session.commit()
            finally:
                db.session.remove()

    _, pushed = beside.run(audited_edit, lambda: _push_one(worker, town, str(uuid.uuid4()), "并发新户1号"))
    assert [r["status"] for r in pushed.get_json()["results"]] == ["applied"]
    with app.app_context():
        assert audit.verify_chain()["ok"]
        assert db.session.get(Household, town.households["a1"]).address == "锁顺序测试巷1号"
        db.session.remove()


class Beside:
    """Run `first` in a thread until it calls `hold()` (a row of its locked), then `second` here;
    `first` goes on once `second` waits on one of its locks or has finished. Deadlocked, one of
    the two answers 503."""

    def __init__(self):
        self.reached, self.started, self.finished = threading.Event(), threading.Event(), threading.Event()

    def hold(self) -> None:
        self.reached.set()
        assert self.started.wait(timeout=30)
        with db.engine.connect() as watcher:
            deadline = time.monotonic() + 30
            while not self.finished.is_set() and not _waiting_on_a_lock(watcher):
                assert time.monotonic() < deadline, "the second neither waited on a lock nor finished"
                time.sleep(0.01)

    def run(self, first, second):
        answers = []
        thread = threading.Thread(target=lambda: answers.append(first()))
        thread.start()
        assert self.reached.wait(timeout=30)
        self.started.set()
        try:
            answer = second()
        finally:
            self.finished.set()
        thread.join(timeout=60)
        return answers[0] if answers else None, answer


def _waiting_on_a_lock(watcher) -> bool:
    watcher.rollback()  # a fresh snapshot of pg_stat_activity each look
    return bool(watcher.execute(text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'")).scalar())


def _held_at(monkeypatch, beside: Beside, action: str) -> None:
    """Hold the request that audits `action` just before its audit event."""
    from server.services import audit

    real = audit.record_event

    def held(name, *args, **kwargs):
        if name == action:
            beside.hold()
        return real(name, *args, **kwargs)
    monkeypatch.setattr(audit, "record_event", held)


def _push_one(api, town, record_id: str, address: str):
    return api.post("/api/sync/push", json={"device_id": api.device_id, "ops": [
        op("household", "create", record_id, {"grid_id": town.grids["a1"], "address": address})]})


def test_a_login_and_a_push_from_one_device_take_the_writers_locks_in_one_order(
        pg_engine, app, town, login, monkeypatch):
    """A login updated its device row and then audited (the change counter); a push from the same
    device holds the counter and updates the device row at its end: they deadlocked."""
    from server.services import auth

    worker, beside = login("worker_a", device_id="phone-worker-a-relogin"), Beside()
    real_claim = auth.claim_device

    def held_claim(user, device_id):
        device = real_claim(user, device_id)
        device.last_login_at = auth.utcnow()
        db.session.flush()  # the device row is now locked, as at the login's audit
        beside.hold()
        return device
    monkeypatch.setattr(auth, "claim_device", held_claim)

    def second_login() -> int:
        with app.test_client() as client:
            return client.post("/api/auth/login", json={
                "username": "worker_a", "password": factories.PASSWORD,
                "device_id": "phone-worker-a-relogin"}).status_code

    logged_in, pushed = beside.run(second_login,
                                   lambda: _push_one(worker, town, str(uuid.uuid4()), "重登巷1号"))
    assert (logged_in, pushed.status_code) == (200, 200)
    assert [r["status"] for r in pushed.get_json()["results"]] == ["applied"]


def test_a_revoke_beside_a_push_from_the_device_lets_it_finish_first_or_refuses_it(
        pg_engine, app, town, login, monkeypatch):
    """A revoke updated the device row and then audited; a push from the device holds the counter
    and updates the device row at its end: they deadlocked. Now the push waits for the revoke
    and is refused, as a push after it is."""
    worker, admin = login("worker_a", device_id="phone-worker-a-revoked-midway"), login("admin")
    beside = Beside()
    _held_at(monkeypatch, beside, "device.revoke")  # the device row is updated and flushed by then
    home = str(uuid.uuid4())
    revoked, pushed = beside.run(lambda: admin.post("/api/devices/phone-worker-a-revoked-midway/revoke"),
                                 lambda: _push_one(worker, town, home, "停用巷1号"))
    assert (revoked.status_code, pushed.status_code, pushed.get_json()["error"]["code"]) == (
        204, 410, "device_revoked")
    with app.app_context():
        assert db.session.get(Household, home) is None
        db.session.remove()


def test_a_logout_beside_a_revoke_of_its_device_take_the_writers_locks_in_one_order(
        pg_engine, app, town, login, monkeypatch):
    """A logout ended its session row and then audited (the counter); a revoke takes the counter
    and then ends the device's sessions: with the revoke taking the counter first, they deadlocked."""
    worker, admin = login("worker_a", device_id="phone-worker-a-logout-revoke"), login("admin")
    beside = Beside()
    _held_at(monkeypatch, beside, "logout")  # the session row is updated by then
    logged_out, revoked = beside.run(lambda: worker.post("/api/auth/logout"),
                                     lambda: admin.post("/api/devices/phone-worker-a-logout-revoke/revoke"))
    assert (logged_out.status_code, revoked.status_code) == (204, 204)


def test_a_pull_beside_a_revoke_of_its_device_is_refused_when_the_revoke_commits_first(
        pg_engine, app, town, login, monkeypatch):
    """A pull read its page and then noted itself on the device, while a revoke of the device
    committed between the two: the page went out to a phone already revoked. The pull now notes
    itself at its end with an UPDATE that matches only an unrevoked device, and a page read across
    a revoke is refused."""
    from server.sync import pull

    worker, admin = login("worker_a", device_id="phone-worker-a-pull-revoke"), login("admin")
    beside, real = Beside(), pull._note_pull

    def held_note(device_id):
        beside.hold()  # the page is read; the revoke runs and commits meanwhile
        return real(device_id)
    monkeypatch.setattr(pull, "_note_pull", held_note)
    pulled, revoked = beside.run(lambda: worker.get("/api/sync/pull?limit=500"),
                                 lambda: admin.post("/api/devices/phone-worker-a-pull-revoke/revoke"))
    assert (pulled.status_code, pulled.get_json()["error"]["code"], revoked.status_code) == (
        410, "device_revoked", 204)
    with app.app_context():
        device = db.session.get(Device, "phone-worker-a-pull-revoke")
        assert device.revoked_at is not None and device.last_pull_at is None
        db.session.remove()


def test_a_key_rotation_beside_a_push_take_the_writers_locks_in_one_order(
        pg_engine, app, town, login, monkeypatch):
    """A push edited two households, the later id first; a rotation batch locking households in id
    order (FOR UPDATE) took the earlier one and waited on the later, while the push waited on the
    earlier: a deadlock. The rotation now takes the writers' lock before it locks a batch."""
    from server.services import keys
    from server.sync import push as pushing

    worker, beside = login("worker_a", device_id="phone-worker-a-rotation"), Beside()
    other = str(uuid.uuid4())
    created = push(worker, [op("household", "create", other,
                               {"grid_id": town.grids["a1"], "address": "轮换巷2号"})])["results"]
    assert [r["status"] for r in created] == ["applied"]
    low, high = sorted([town.households["a1"], other])
    with app.app_context():
        versions = {h: db.session.get(Household, h).version for h in (low, high)}
        db.session.remove()
    real_dispatch = pushing._dispatch

    def held_dispatch(actor, item, ctx):
        if item["id"] == low:  # the later id is edited and flushed by now
            beside.hold()
        return real_dispatch(actor, item, ctx)
    monkeypatch.setattr(pushing, "_dispatch", held_dispatch)

    def rotate() -> dict:
        with app.app_context():
            try:
                return keys.rotate_all()
            finally:
                db.session.remove()

    edits = [op("household", "update", h, {"address": f"轮换巷{n}号改"}, base_version=versions[h])
             for n, h in ((1, high), (2, low))]
    pushed, rotated = beside.run(
        lambda: worker.post("/api/sync/push", json={"device_id": worker.device_id, "ops": edits}), rotate)
    assert (pushed.status_code, rotated["remaining"]) == (200, 0)
    assert [r["status"] for r in pushed.get_json()["results"]] == ["applied", "applied"]
    with app.app_context():
        assert {db.session.get(Household, h).address for h in (low, high)} == {"轮换巷1号改", "轮换巷2号改"}
        db.session.remove()


def test_a_pull_beside_a_revoke_committing_waits_for_it_and_is_refused(
        pg_engine, app, town, login, monkeypatch):
    """A revoke has updated the device row and not yet committed when the pull notes itself on the
    device: the pull waits for the revoke and answers 410, sending no page to a revoked phone."""
    worker, admin = login("worker_a", device_id="phone-worker-a-revoke-pull"), login("admin")
    beside = Beside()
    _held_at(monkeypatch, beside, "device.revoke")  # the device row is updated and flushed by then
    revoked, pulled = beside.run(lambda: admin.post("/api/devices/phone-worker-a-revoke-pull/revoke"),
                                 lambda: worker.get("/api/sync/pull?limit=500"))
    assert (revoked.status_code, pulled.status_code, pulled.get_json()["error"]["code"]) == (
        204, 410, "device_revoked")


def test_guesses_sent_together_are_throttled_as_one_after_another(pg_engine, app, town):
    """Each guess is counted before its slow password check, under the writers' lock: twelve sent
    at once get at most LOGIN_MAX_FAILURES checks, the rest 429, and the right password then too."""
    guesses = 12
    start = threading.Barrier(guesses)

    def guess(n: int) -> int:
        client = app.test_client()
        start.wait()
        answer = client.post("/api/auth/login", json={"username": "worker_a", "password": f"猜的密码{n}"})
        return answer.status_code

    with ThreadPoolExecutor(guesses) as executor:
        answers = Tally(executor.map(guess, range(guesses)))
    limit = app.config["LOGIN_MAX_FAILURES"]
    assert answers == {401: limit, 429: guesses - limit}
    right = app.test_client().post("/api/auth/login", json={"username": "worker_a",
                                                             "password": factories.PASSWORD})
    assert right.status_code == 429

