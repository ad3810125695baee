"""The audit chain: 1,000 mixed operations verify; any edited column or deleted event is named."""
import random
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, delete, func, insert, select, text, update

from server.crypto import get_cipher
from server.extensions import db
from server.models import AuditEvent
from server.services import audit, batching

from .. import factories
from ..conftest import ENGINES, database_url, make_app

OPERATIONS = 1000
TABLE = AuditEvent.__table__


def chain_rows() -> list:
    return db.session.execute(select(TABLE).order_by(TABLE.c.seq)).all()


def id_number(n: int) -> str:
    born = date(2015, 3, 1) + timedelta(days=n % 200)
    return factories.valid_id_number(f"430699{born:%Y%m%d}{n % 1000:03d}")


def run_operations(app, town, login, rng: random.Random) -> dict:
    """Perform OPERATIONS audited operations over HTTP; return how many of each action ran."""
    clients = {name: login(name) for name in ("worker_a", "head_a", "admin")}
    done = {"login": 3}
    households = [town.households["a1"]]  # worker_a covers grid a1 only
    children = [town.children["a1"]]
    venues = [town.venues["a"]]
    grids = [town.grids["a1"]]

    def count(action):
        done[action] = done.get(action, 0) + 1

    n = 3
    while n < OPERATIONS:
        roll = rng.random()
        worker = clients["worker_a"]
        if roll < 0.04:  # logins and failures are few: argon2 makes each cost ~0.1 s
            name = rng.choice(("worker_a", "head_a", "admin"))
            clients[name] = login(name)
            count("login")
        elif roll < 0.08:
            response = app.test_client().post("/api/auth/login", json={
                "username": f"nobody{n}", "password": "wrong-password-1"})
            assert response.status_code == 401
            count("login_failed")
        elif roll < 0.40:
            response = worker.post("/api/households", json={
                "grid_id": rng.choice(grids), "address": f"测试镇a1组{n}号",
                "guardians": [{"name": f"监护人{n}", "relation": "母亲", "phone": f"139{n:08d}"}]})
            assert response.status_code == 201, response.get_json()
            households.append(response.get_json()["id"])
            count("household.create")
        elif roll < 0.55:
            response = worker.edit(f"/api/households/{rng.choice(households)}",
                                   {"address": f"改后地址{n}号"})
            assert response.status_code == 200, response.get_json()
            count("household.update")
        elif roll < 0.72:
            response = worker.post("/api/children", json={
                "household_id": rng.choice(households), "name": f"孩子{n}",
                "id_number": id_number(n), "categories": ["left_behind"]})
            assert response.status_code == 201, response.get_json()
            children.append(response.get_json()["id"])
            count("child.create")
        elif roll < 0.84:
            response = worker.edit(f"/api/children/{rng.choice(children)}", {"notes": f"备注{n}"})
            assert response.status_code == 200, response.get_json()
            count("child.update")
        elif roll < 0.88:
            response = clients["admin"].post("/api/venues", json={
                "village_id": town.villages["a"], "type": "hotel", "name": f"宾馆{n}",
                "contact_phone": f"137{n:08d}"})
            assert response.status_code == 201, response.get_json()
            venues.append(response.get_json()["id"])
            count("venue.create")
        elif roll < 0.92:
            response = clients["head_a"].edit(f"/api/venues/{rng.choice(venues)}", {"name": f"改名{n}"})
            assert response.status_code == 200, response.get_json()
            count("venue.update")
        else:
            reviewer = clients[rng.choice(("head_a", "admin"))]
            response = reviewer.post(f"/api/children/{rng.choice(children)}/reveal", json={
                "field": rng.choice(("id_number", "guardian_phones")), "reason": f"核实第{n}次走访信息"})
            assert response.status_code == 200, response.get_json()
            count("reveal")
        n += 1
    return done


@pytest.fixture(scope="module", params=ENGINES)
def chained(request, tmp_path_factory):
    """Per engine, once for the module: the factories' town and 1,000 audited operations."""
    url = database_url(request.param, tmp_path_factory.mktemp(request.param))
    app = make_app(url)
    with app.app_context():
        town = factories.build_town()

    def login(username, password=factories.PASSWORD):
        client = factories.ApiClient(app.test_client())
        client.login(username, password)
        return client

    done = run_operations(app, town, login, random.Random(42))
    with app.app_context():
        by_action = dict(db.session.execute(
            select(AuditEvent.action, func.count()).group_by(AuditEvent.action)).all())
        rows = chain_rows()
    assert by_action == done
    assert sum(done.values()) == len(rows) == OPERATIONS
    assert all(done.get(a, 0) > 10 for a in ("login_failed", "household.update", "child.create", "reveal"))
    admin = login("admin")
    with app.app_context():
        rows = chain_rows()
    yield {"app": app, "rows": rows, "admin": admin}
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if request.param == "postgresql":
        name = url.rsplit("/", 1)[1]
        admin_engine = create_engine(url.rsplit("/", 1)[0] + "/test", isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


@pytest.fixture
def chain(chained):
    """The module's chain; each test leaves it exactly as it found it."""
    app = chained["app"]
    yield chained
    with app.app_context():
        assert chain_rows() == chained["rows"], "a test left the chain changed"
        assert audit.verify_chain()["ok"]


def restore(app, rows) -> None:
    """Put the original events back, whatever a test edited or deleted."""
    with app.app_context():
        db.session.execute(delete(TABLE))
        db.session.execute(insert(TABLE), [dict(r._mapping) for r in rows])
        db.session.commit()


def verify_everywhere(app, admin) -> tuple[dict, int, str]:
    """Verify through GET /api/audit/verify and `flask audit verify`: (answer, exit code, output)."""
    response = admin.get("/api/audit/verify")
    assert response.status_code == 200
    with app.app_context():
        service = audit.verify_chain(batch=97)
    assert response.get_json() == service
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return service, result.exit_code, result.output


def test_a_thousand_operations_verify(chain):
    app, rows = chain["app"], chain["rows"]
    # verifying is not itself audited: the count is the same each time it is asked
    answer, code, output = verify_everywhere(app, chain["admin"])
    expected_events = OPERATIONS + 1  # and the admin's login of the fixture
    with app.app_context():
        head = audit.chain_head()
        assert db.session.scalar(select(func.count()).select_from(TABLE)) == expected_events
    assert answer == {"ok": True, "events": expected_events, "head": head}
    assert (code, output) == (0, f"ok: {expected_events} events, head {head}\n")
    assert rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:]))
    assert len({r.hash for r in rows}) == len(rows)


def _reason_of_another_event(event, rows):
    other = next(r for r in rows if r.reason_ct is not None and r.seq != event.seq)
    return bytes(other.reason_ct)


TAMPERS = {
    "action": (lambda e, rows: {"action": "login"}, "hash does not match the event's contents"),
    "detail": (lambda e, rows: {"detail": {**e.detail, "field": "nothing"}},
               "hash does not match the event's contents"),
    "actor_id": (lambda e, rows: {"actor_id": next(r.actor_id for r in rows
                                                   if r.actor_id not in (None, e.actor_id))},
                 "hash does not match the event's contents"),
    "actor_id_null": (lambda e, rows: {"actor_id": None}, "hash does not match the event's contents"),
    "at": (lambda e, rows: {"at": e.at + timedelta(seconds=1)}, "hash does not match the event's contents"),
    "entity_id": (lambda e, rows: {"entity_id": rows[0].id}, "hash does not match the event's contents"),
    "device_id": (lambda e, rows: {"device_id": "another-phone"}, "hash does not match the event's contents"),
    "prev_hash": (lambda e, rows: {"prev_hash": rows[0].hash}, "prev_hash does not match the previous event"),
    "hash": (lambda e, rows: {"hash": "f" * 64}, "hash does not match the event's contents"),
    "reason_ct_other_text": (lambda e, rows: {"reason_ct": get_cipher().encrypt(
        "随便看看".encode(), "audit_event", "reason", e.id)}, "hash does not match the event's contents"),
    "reason_ct_moved": (lambda e, rows: {"reason_ct": _reason_of_another_event(e, rows)},
                        "reason cannot be decrypted"),
    "reason_ct_null": (lambda e, rows: {"reason_ct": None}, "hash does not match the event's contents"),
}


def test_every_edited_column_of_a_middle_event_is_named(chain):
    app, rows = chain["app"], chain["rows"]
    middle = next(r for r in rows[len(rows) // 2:]
                  if r.action == "reveal" and r.actor_id and r.device_id is None)
    index = rows.index(middle)
    for name, (change, problem) in TAMPERS.items():
        try:
            with app.app_context():
                changed = change(middle, rows)
                db.session.execute(update(TABLE).where(TABLE.c.seq == middle.seq).values(**changed))
                db.session.commit()
            answer, code, output = verify_everywhere(app, chain["admin"])
            assert answer == {"ok": False, "events": index, "head": rows[index - 1].hash,
                              "broken_at": {"seq": middle.seq, "id": middle.id, "problem": problem}}, name
            assert (code, output) == (1, f"BROKEN at event {middle.seq} ({middle.id}): {problem}\n"), name
        finally:
            restore(app, rows)
        answer, code, _ = verify_everywhere(app, chain["admin"])
        assert (answer["ok"], code) == (True, 0), name


def test_a_rewritten_event_with_a_fresh_hash_breaks_the_next_one(chain):
    app, rows = chain["app"], chain["rows"]
    index = len(rows) // 2
    try:
        with app.app_context():
            stored = db.session.get(AuditEvent, rows[index].seq)
            stored.action = "login"
            stored.hash = audit._digest(
                {c.key: getattr(stored, c.key) for c in AuditEvent.__table__.columns}, stored.reason)
            db.session.commit()
        answer, code, output = verify_everywhere(app, chain["admin"])
    finally:
        restore(app, rows)
    nxt, problem = rows[index + 1], "prev_hash does not match the previous event"
    assert answer["head"] != rows[index].hash
    assert answer == {"ok": False, "events": index + 1, "head": answer["head"],
                      "broken_at": {"seq": nxt.seq, "id": nxt.id, "problem": problem}}
    assert (code, output) == (1, f"BROKEN at event {nxt.seq} ({nxt.id}): {problem}\n")


@pytest.mark.parametrize("where", ["first", "a third in", "second to last"])
def test_a_deleted_event_is_detected(chain, where):
    app, rows = chain["app"], chain["rows"]
    index = {"first": 0, "a third in": len(rows) // 3, "second to last": len(rows) - 2}[where]
    try:
        with app.app_context():
            db.session.execute(delete(TABLE).where(TABLE.c.seq == rows[index].seq))
            db.session.commit()
        answer, code, output = verify_everywhere(app, chain["admin"])
    finally:
        restore(app, rows)
    nxt, problem = rows[index + 1], "prev_hash does not match the previous event"
    assert answer == {"ok": False, "events": index, "head": rows[index - 1].hash if index else audit.GENESIS,
                      "broken_at": {"seq": nxt.seq, "id": nxt.id, "problem": problem}}
    assert (code, output) == (1, f"BROKEN at event {nxt.seq} ({nxt.id}): {problem}\n")


def test_a_deleted_last_event_changes_the_published_head(chain):
    """Only the head printed in reports shows a cut tail: verify answers a shorter chain's head."""
    app, rows = chain["app"], chain["rows"]
    try:
        with app.app_context():
            db.session.execute(delete(TABLE).where(TABLE.c.seq == rows[-1].seq))
            db.session.commit()
        answer, code, _ = verify_everywhere(app, chain["admin"])
    finally:
        restore(app, rows)
    assert answer == {"ok": True, "events": len(rows) - 1, "head": rows[-2].hash}
    assert answer["head"] != rows[-1].hash and code == 0


THREADS = 20
PER_THREAD = 6


def test_concurrent_appends_leave_one_linear_chain(app, engine_name, town):
    if engine_name == "sqlite":
        pytest.skip("concurrent writers: PostgreSQL (SQLite serializes writers with BEGIN IMMEDIATE)")
    barrier = threading.Barrier(THREADS)
    errors = []

    def append(thread: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                for n in range(PER_THREAD):
                    audit.record_event("test.concurrent", actor_id=town.users["admin"],
                                       detail={"thread": thread, "n": n}, reason=f"并发{thread}-{n}")
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # reported below, with the thread
            errors.append((thread, repr(exc)))

    threads = [threading.Thread(target=append, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with app.app_context():
        rows = chain_rows()
        answer = audit.verify_chain()
    total = THREADS * PER_THREAD
    assert answer == {"ok": True, "events": total, "head": rows[-1].hash}
    assert len(rows) == total
    assert len({r.prev_hash for r in rows}) == total
    assert sorted((r.detail["thread"], r.detail["n"]) for r in rows) == [
        (t, n) for t in range(THREADS) for n in range(PER_THREAD)]
    # the threads really interleaved: some thread's events are not all adjacent
    assert any(rows[i].detail["thread"] != rows[i + 1].detail["thread"] for i in range(total - 1))


def test_events_of_a_run_are_written_at_its_end_in_order_with_their_reasons(app, town):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(TABLE))
        with batching.run():
            audit.record_event("test.in_run", actor_id=town.users["admin"], entity="x", entity_id="1",
                               detail={"n": 1}, reason="运行中的理由")
            audit.record_event("test.in_run", actor_id=town.users["admin"], entity="x", entity_id="2",
                               detail={"n": 2})
            assert db.session.scalar(select(func.count()).select_from(TABLE)) == before
        db.session.commit()
        written = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "test.in_run")
                                     .order_by(AuditEvent.seq)).all()
        assert [(e.entity_id, e.detail, e.reason) for e in written] == [
            ("1", {"n": 1}, "运行中的理由"), ("2", {"n": 2}, None)]
        assert written[1].prev_hash == written[0].hash
        assert audit.verify_chain() == {"ok": True, "events": before + 2, "head": written[1].hash}
