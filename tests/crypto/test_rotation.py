"""`keys rotate`: killed halfway and rerun, every value ends under the new key and nothing is lost."""
import base64
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text, update

from server import create_app, database
from server.crypto import MasterKeyError, encrypted_fields, get_cipher
from server.crypto.cipher import FieldCipher
from server.extensions import db
from server.models import (
    Attachment,
    AuditEvent,
    ChangeLog,
    Child,
    Clue,
    Device,
    GuardianPhone,
    Household,
    Inspection,
    JointOperation,
    KeyCanary,
    Plan,
    PlanProgress,
    StaffCheck,
    User,
    Venue,
    Visit,
    new_id,
)
from server.services import audit, keys
from server.services.demo.load import load_demo_town
from server.services.keys import encrypted_models
from server.services.registry import household_phone_index

from .. import factories
from ..conftest import make_app
from ..images import png

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "server"]
BATCH = 10
STAFF_ID = factories.valid_id_number("43069919800101123")


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def seed_every_encrypted_table(ids) -> None:
    """One row at least in each table that holds ciphertexts, every encrypted field filled."""
    now = datetime(2026, 9, 1, 8, 30, tzinfo=UTC)
    child = db.session.get(Child, ids.children["a1"])
    child.school = "测试镇中心小学"
    child.risk_override = "high"
    child.risk_override_reason = "村主任反映近期独居"
    household = db.session.get(Household, ids.households["a1"])
    household.proposed_location = {"lat": 29.2, "lon": 113.3}
    plan = Plan(id=new_id(), child_id=child.id, grid_id=child.grid_id, village_id=child.village_id,
                helper_id=ids.users["worker_a"], status="active")
    plan.measures = [{"kind": "psychological", "note": "每周心理疏导一次"}]
    plan.outcome = "情况好转"
    db.session.add(plan)
    db.session.flush()
    progress = PlanProgress(id=new_id(), plan_id=plan.id, grid_id=child.grid_id, village_id=child.village_id,
                            author_id=ids.users["worker_a"], at=now)
    progress.note = "已联系学校老师"
    visit = Visit(id=new_id(), child_id=child.id, household_id=household.id, grid_id=child.grid_id,
                  village_id=child.village_id, worker_id=ids.users["worker_a"], visited_at=now, received_at=now,
                  counted_at=now)
    visit.location = {"lat": 29.1, "lon": 113.2}
    visit.answers = {"guardian_present": True, "note": "祖父在家"}
    visit.notes = "孩子精神状态良好"
    visit.amend_reason = "补录时间"
    visit.review_note = "已核实"
    operation = JointOperation(id=new_id(), date=date(2026, 9, 1), lead_unit="测试派出所")
    operation.notes = "联合检查三家宾馆"
    db.session.add_all([progress, visit, operation])
    db.session.flush()
    inspection = Inspection(id=new_id(), venue_id=ids.venues["a"], village_id=ids.villages["a"],
                            operation_id=operation.id, inspector_id=ids.users["inspector"],
                            inspected_at=now, received_at=now, counted_at=now)
    inspection.answer_notes = {"register": "未登记未成年人入住"}
    inspection.notes = "责令整改"
    check = StaffCheck(id=new_id(), employer_kind="venue", employer_id=ids.venues["a"],
                       village_id=ids.villages["a"], checked_on=date(2026, 8, 1), result="clear")
    check.person_name = "前台员工周某"
    check.id_number = STAFF_ID
    clue = db.session.scalar(select(Clue))
    clue.place = "村口小卖部后院"
    clue.subject = {"name": "欧阳明月", "sex": "F", "birth_date": "2015-01-01", "village": "测试A村",
                    "address": "测试镇a1组2号槐花巷"}
    photo = Attachment(id=new_id(), entity="inspection", entity_id=inspection.id, village_id=ids.villages["a"],
                       mime="image/png", created_by=ids.users["inspector"])
    photo.content = png(text="整改前照片".encode())
    photo.size = len(photo.content)
    phone = Device(id="pwa-rotation-phone", user_id=ids.users["worker_a"])
    phone.recovery_key = bytes(range(32))
    db.session.add_all([inspection, check, photo, phone])
    for n in range(25):
        audit.record_event("reveal", actor_id=ids.users["admin"], entity="child", entity_id=child.id,
                           detail={"field": "id_number"}, reason=f"核实身份第{n}次")
    db.session.commit()


def plaintexts() -> dict:
    """Every encrypted value of every table, decrypted: {(table, id, field): value}."""
    values = {}
    for model in encrypted_models():
        fields = encrypted_fields(model)
        for row in db.session.scalars(select(model)):
            for field in fields:
                values[(model.__tablename__, row.id, field.name)] = field.__get__(row)
        db.session.expunge_all()
    return values


def plaintexts_before_rotation() -> dict:
    """The plaintexts, less the rotation's own audit event (its empty reason)."""
    rotated = set(db.session.scalars(select(AuditEvent.id).where(AuditEvent.action == "keys.rotated")))
    return {key: value for key, value in plaintexts().items()
            if not (key[0] == "audit_event" and key[1] in rotated)}


def versions() -> dict:
    """The key version of every stored ciphertext: {(table, column): {version: count}}."""
    found: dict = {}
    for model in encrypted_models():
        for field in encrypted_fields(model):
            column = getattr(model, field.column_attr)
            for (blob,) in db.session.execute(select(column).where(column.is_not(None))):
                per = found.setdefault((model.__tablename__, field.name), {})
                version = FieldCipher.version_of(bytes(blob))
                per[version] = per.get(version, 0) + 1
    return found


def find_child(id_number: str) -> list[str]:
    indexes = Child.id_number.lookup_indexes(Child, id_number)
    return db.session.scalars(select(Child.id).where(Child.id_number_bidx.in_(indexes))).all()


def dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def start(url: str, key: str | None = None, key_file: Path | None = None):
    """An app built like a real start (the key canary is checked)."""
    return create_app("test", {"SQLALCHEMY_DATABASE_URI": url, "HULEI_MASTER_KEY": key,
                               "HULEI_MASTER_KEY_FILE": None if key_file is None else str(key_file)})


def rotate_env(url: str, key_file: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HULEI_", "DATABASE_URL"))}
    env.update(DATABASE_URL=url, HULEI_MASTER_KEY_FILE=str(key_file), HULEI_ROTATE_BATCH=str(BATCH),
               HULEI_ROTATE_PAUSE_MS="20", SECRET_KEY="test-secret-key-not-for-production")
    return env


def child_versions(engine) -> tuple[int, int]:
    """(children at version 2, all children) as another process sees them."""
    with engine.connect() as conn:
        blobs = conn.execute(text("SELECT name_ct FROM child")).scalars().all()
        conn.rollback()
    return sum(FieldCipher.version_of(bytes(b)) == 2 for b in blobs), len(blobs)


def kill_halfway(url: str, key_file: Path) -> subprocess.CompletedProcess:
    """Start `keys rotate`, SIGKILL it once some but not all children use the new key."""
    watcher = create_engine(url)
    proc = subprocess.Popen(FLASK + ["keys", "rotate"], cwd=ROOT, env=rotate_env(url, key_file),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            done, total = child_versions(watcher)
            if BATCH * 3 <= done < total - BATCH * 3:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        watcher.dispose()
    assert proc.returncode == -signal.SIGKILL, f"not killed halfway: {proc.returncode} {out} {err}"
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture
def file_keyed(db_url, tmp_path):
    """A key FILE keyring at version 1, the factories' town, the demo town and every encrypted table."""
    old = new_key()
    key_file = tmp_path / "master.key"
    key_file.write_text(f"1:{old}\n", encoding="ascii")
    app = make_app(db_url, HULEI_MASTER_KEY=None, HULEI_MASTER_KEY_FILE=str(key_file))
    with app.app_context():
        ids = factories.build_town()
        db.session.execute(update(User).where(User.username == "admin").values(username="factory_admin"))
        db.session.commit()
        load_demo_town(seed=1, scale=1, activity=False)  # every table is seeded just below
        seed_every_encrypted_table(ids)
        before = plaintexts()
        chain = audit.verify_chain()
    dispose(app)
    app = start(db_url, key_file=key_file)  # the first real start writes the version-1 canary
    with app.app_context():
        assert db.session.scalars(select(KeyCanary.key_version)).all() == [1]
    dispose(app)
    return {"url": db_url, "key_file": key_file, "old": old, "ids": ids, "before": before, "chain": chain}


def test_rotation_killed_halfway_then_resumed_loses_nothing(file_keyed):
    url, key_file, old, ids = (file_keyed[k] for k in ("url", "key_file", "old", "ids"))
    before, chain = file_keyed["before"], file_keyed["chain"]
    assert chain["ok"] and chain["events"] >= 26
    assert {table for table, _, _ in before} == {m.__tablename__ for m in encrypted_models_of_app(url, old)}

    kill_halfway(url, key_file)
    lines = key_file.read_text(encoding="ascii").split()
    assert [line.split(":")[0] for line in lines] == ["2", "1"] and lines[1] == f"1:{old}"
    new = lines[0].split(":", 1)[1]
    assert len(base64.b64decode(new, validate=True)) == 32 and new != old

    halfway = start(url, key_file=key_file)
    with halfway.app_context():
        child_versions_now = versions()[("child", "name")]
        assert set(child_versions_now) == {1, 2}, child_versions_now
        assert plaintexts() == before  # mixed versions, every value still reads
        assert sorted(db.session.scalars(select(KeyCanary.key_version))) == [1, 2]
        assert find_child(factories.ID_NUMBERS["a1"]) == [ids.children["a1"]]
    dispose(halfway)

    result = subprocess.run(FLASK + ["keys", "rotate"], cwd=ROOT, env=rotate_env(url, key_file),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "all values now use key version 2\n"
    assert key_file.read_text(encoding="ascii") == f"2:{new}\n"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"

    fresh = start(url, key=f"2:{new}")  # only the new key; the canary check passes
    with fresh.app_context():
        assert {v for per in versions().values() for v in per} == {2}
        assert plaintexts_before_rotation() == before
        assert db.session.scalars(select(KeyCanary.key_version)).all() == [2]
        assert find_child(factories.ID_NUMBERS["b1"]) == [ids.children["b1"]]
        assert find_child(factories.ID_NUMBERS["a2"].lower()) == [ids.children["a2"]]
        demo_child = db.session.scalars(
            select(Child).where(Child.id.not_in(ids.children.values())).limit(1)).one()
        assert find_child(demo_child.id_number) == [demo_child.id]
        staff = db.session.scalars(select(StaffCheck.id).where(StaffCheck.id_number_bidx.in_(
            StaffCheck.id_number.lookup_indexes(StaffCheck, STAFF_ID)))).all()
        assert len(staff) == 1
        assert db.session.scalars(select(Venue.id).where(Venue.contact_phone_bidx.in_(
            Venue.contact_phone.lookup_indexes(Venue, "13800000001")))).all() == [ids.venues["a"]]
        phone = db.session.get(Household, ids.households["b1"]).guardians[0]["phone"]
        assert db.session.scalars(select(GuardianPhone.household_id).where(
            GuardianPhone.phone_bidx == household_phone_index(phone))).all() == [ids.households["b1"]]
        assert_rotation_audited(chain)
    dispose(fresh)

    with pytest.raises(MasterKeyError) as err:  # the old key alone no longer opens the database
        start(url, key=f"1:{old}")
    assert str(err.value) == "none of the configured master key versions matches this database"


def assert_rotation_audited(chain_before: dict) -> None:
    """The chain is whole and ends with one rotation event for key version 2."""
    after = audit.verify_chain()
    assert (after["ok"], after["events"]) == (True, chain_before["events"] + 1)
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert (event.action, event.detail["version"]) == ("keys.rotated", 2)
    assert event.detail["reencrypted"]["child"] > 0


def encrypted_models_of_app(url: str, key: str):
    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": url, "HULEI_MASTER_KEY": f"1:{key}",
                              "SKIP_KEY_CHECK": True})
    with app.app_context():
        models = encrypted_models()
    dispose(app)
    return models


def raw_rows() -> dict:
    meta = db.metadata.tables
    return {name: sorted(tuple(repr(v) for v in row) for row in db.session.execute(select(table)).all())
            for name, table in meta.items()}


def test_a_running_server_follows_the_key_file_through_a_rotation(file_keyed, monkeypatch):
    """A server started before `keys rotate` reads the new ciphertexts and writes with the new key."""
    url, key_file = file_keyed["url"], file_keyed["key_file"]
    running = start(url, key_file=key_file)
    client = running.test_client()
    assert client.get("/api/health").status_code == 200
    result = subprocess.run(FLASK + ["keys", "rotate"], cwd=ROOT, env=rotate_env(url, key_file),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    new_version = int(key_file.read_text(encoding="ascii").split(":")[0])
    with running.app_context():
        assert get_cipher().keyring.current == 1  # not yet: no request has come in since
    assert client.get("/api/health").status_code == 200
    with running.app_context():
        assert get_cipher().keyring.current == new_version == 2
        assert sorted(get_cipher().keyring.keys) == [2]
        assert plaintexts_before_rotation() == file_keyed["before"]
        household = db.session.get(Household, file_keyed["ids"].households["a1"])
        household.address = "轮换后新写的地址"
        db.session.commit()
        blob = db.session.scalar(text("SELECT address_ct FROM household WHERE id = :id"),
                                 {"id": household.id})
        assert get_cipher().version_of(bytes(blob)) == 2
    key_file.write_text("garbage\n", encoding="ascii")  # a broken file is not taken up
    assert client.get("/api/health").status_code == 200
    with running.app_context():
        assert get_cipher().keyring.current == 2
        in_use = get_cipher().keyring.keys
    # Nor a well-formed file of another database's key: its canary does not open with it. It is
    # checked once, not again on each request (each check takes the database's write lock).
    checks, real = [], database.check_canaries
    monkeypatch.setattr(database, "check_canaries",
                        lambda engine, cipher: checks.append(1) or real(engine, cipher))
    key_file.write_text(f"2:{new_key()}\n", encoding="ascii")
    for _ in range(3):
        assert client.get("/api/health").status_code == 200
    assert checks == [1]
    with running.app_context():
        assert get_cipher().keyring.keys == in_use
        db.session.expire_all()
        assert db.session.get(Household, file_keyed["ids"].households["a1"]).address == "轮换后新写的地址"
    dispose(running)


def test_rotate_with_one_key_in_the_variable_is_refused_and_changes_nothing(app):
    with app.app_context():
        factories.build_town()
        before = raw_rows()
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 1
    assert result.output == ("Error: HULEI_MASTER_KEY holds one key: add the new one as 'N:BASE64,1:OLD' "
                             "(or use HULEI_MASTER_KEY_FILE) and run again\n")
    with app.app_context():
        assert raw_rows() == before


def test_rotate_with_two_keys_in_the_variable(db_url):
    old, new = new_key(), new_key()
    app = make_app(db_url, HULEI_MASTER_KEY=old)
    with app.app_context():
        ids = factories.build_town()
        before = plaintexts()
        chain = audit.verify_chain()
        stamps = dict(db.session.execute(select(Child.id, Child.updated_at)).all())
        change_head = db.session.scalar(select(func.max(ChangeLog.seq)))
    dispose(app)
    both = make_app(db_url, HULEI_MASTER_KEY=f"2:{new},1:{old}")
    result = both.test_cli_runner().invoke(args=["keys", "rotate"])
    assert (result.exit_code, result.output) == (0, "all values now use key version 2\n"
                                                    "remove the old key versions from HULEI_MASTER_KEY\n")
    dispose(both)
    fresh = start(db_url, key=f"2:{new}")
    with fresh.app_context():
        assert {v for per in versions().values() for v in per} == {2}
        assert plaintexts_before_rotation() == before
        assert find_child(factories.ID_NUMBERS["a1"]) == [ids.children["a1"]]
        assert db.session.scalars(select(KeyCanary.key_version)).all() == [2]
        assert_rotation_audited(chain)
        # Re-encryption is no edit: no record looks changed and no phone has anything to pull.
        assert dict(db.session.execute(select(Child.id, Child.updated_at)).all()) == stamps
        assert db.session.scalar(select(func.max(ChangeLog.seq))) == change_head
    dispose(fresh)


def test_rotation_does_not_overwrite_a_concurrent_edit(db_url, engine_name):
    """A row edited (not yet committed) while rotation reaches it keeps the edit."""
    if engine_name == "sqlite":
        pytest.skip("SQLite: BEGIN IMMEDIATE lets one writer at a time, rotation included")
    old, new = new_key(), new_key()
    app = make_app(db_url, HULEI_MASTER_KEY=old)
    with app.app_context():
        ids = factories.build_town()
    dispose(app)
    both = make_app(db_url, HULEI_MASTER_KEY=f"2:{new},1:{old}")
    child_id = ids.children["a1"]
    with both.app_context():
        cipher = both.extensions["hulei_cipher"]
        edited = cipher.encrypt("改过的备注".encode(), "child", "notes", child_id, version=1)
    writer = create_engine(url_of(both))
    results = []
    with writer.connect() as conn:
        conn.execute(text("UPDATE child SET notes_ct = :b WHERE id = :id"), {"b": edited, "id": child_id})

        def rotate():
            with both.app_context():
                results.append(keys.rotate_all(batch=500))
                db.session.remove()

        thread = threading.Thread(target=rotate)
        thread.start()
        deadline = time.monotonic() + 30
        with writer.connect() as watch:
            while time.monotonic() < deadline:
                waiting = watch.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()")).scalar()
                watch.rollback()
                if waiting:
                    break
                time.sleep(0.02)
        assert waiting, "rotation never reached the edited row"
        conn.commit()
    thread.join(timeout=60)
    writer.dispose()
    assert results and results[0]["remaining"] == 0
    with both.app_context():
        child = db.session.get(Child, child_id)
        assert (child.notes, FieldCipher.version_of(child.notes_ct)) == ("改过的备注", 2)
    dispose(both)


def url_of(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"]
