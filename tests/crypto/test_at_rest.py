"""No name, ID number, phone, address or note is stored in plain text, on either engine."""
import random
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select, update

from server.extensions import db
from server.models import (
    Child,
    Clue,
    GuardianPhone,
    Household,
    PlanProgress,
    Town,
    Unit,
    User,
    Venue,
    Village,
    Visit,
)
from server.services.demo.activity import CLUE_DESCRIPTION, PROGRESS_NOTE, VISIT_NOTES
from server.services.demo.generate import build_demo_town
from server.services.demo.load import load_demo_town
from server.services.registry import household_phone_index

from .. import factories

SAMPLE = 200
REST_CHILD = {"name": "皇甫秋水", "id_number": factories.valid_id_number("43069920140707004"),
              "notes": "邻居反映夜里常听见哭声需回访", "school": "测试镇第二完全小学"}
REST_HOUSEHOLD = {"address": "测试镇b2组99号梧桐巷尽头", "phone": "13712345678", "guardian": "慕容长风"}
REVEAL_REASON = "核实欧阳家补助申请身份"


def _public_text() -> list[str]:
    """Strings the register stores in plain on purpose (place and venue names, usernames)."""
    with db.session.no_autoflush:
        texts = [*db.session.scalars(select(Town.name)), *db.session.scalars(select(Village.name)),
                 *db.session.scalars(select(Unit.name)), *db.session.scalars(select(User.username))]
        for venue in db.session.scalars(select(Venue)):
            texts += [venue.name, venue.address or "", venue.licence_no or ""]
    return texts


def _sample(values, rng, public: list[str]) -> list[str]:
    distinct = sorted({v for v in values if v and not any(v in p for p in public)})
    return rng.sample(distinct, min(SAMPLE, len(distinct)))


def secrets_by_kind(town, ids) -> dict[str, list[str]]:
    """~200 seeded values of each kind, the factories' secrets and the REST-written ones."""
    rng, public = random.Random(20240601), _public_text()
    phones = [g["phone"] for h in town.households for g in h["guardians"] if g.get("phone")]
    names = ([c["name"] for c in town.children] + [g["name"] for h in town.households for g in h["guardians"]]
             + [u["display_name"] for u in town.users] + [v["contact_name"] for v in town.venues])
    kinds = {
        "name": _sample(names, rng, public),
        "id_number": _sample([c["id_number"] for c in town.children], rng, public),
        "phone": _sample(phones + [v["contact_phone"] for v in town.venues], rng, public),
        "address": _sample([h["address"] for h in town.households], rng, public),
        "note": _sample([c["notes"] for c in town.children], rng, public),
    }
    for secret in ids.secrets.values():
        kinds["name"].append(secret["name"])
        kinds["id_number"].append(secret["id_number"])
        kinds["phone"].append(secret["phone"])
        kinds["address"].append(secret["address"])
        kinds["note"].append(secret["notes"])
    kinds["name"] += [REST_CHILD["name"], REST_HOUSEHOLD["guardian"], "发现可疑成年人多次接触"]
    kinds["id_number"].append(REST_CHILD["id_number"])
    kinds["phone"] += [REST_HOUSEHOLD["phone"], "13800000001", "13800000002"]
    kinds["address"].append(REST_HOUSEHOLD["address"])
    kinds["note"] += [REST_CHILD["notes"], REVEAL_REASON, "老板a"]
    kinds["note"] += [*VISIT_NOTES, CLUE_DESCRIPTION, PROGRESS_NOTE]  # the demo month's field work
    return kinds


def leaks(blob: bytes, kinds: dict[str, list[str]]) -> dict[str, list[str]]:
    found = {kind: [v for v in values if v.encode() in blob] for kind, values in kinds.items()}
    return {kind: values for kind, values in found.items() if values}


@pytest.fixture
def seeded(app, town, login):
    """The factories' town, the demo town beside it and a few records written over REST."""
    worker, admin = login("worker_a"), login("admin")
    response = worker.post("/api/households", json={
        "grid_id": town.grids["a1"], "address": "待更新的地址",
        "guardians": [{"name": REST_HOUSEHOLD["guardian"], "relation": "父亲",
                       "phone": REST_HOUSEHOLD["phone"]}]})
    assert response.status_code == 201, response.get_json()
    household_id = response.get_json()["id"]
    response = worker.edit(f"/api/households/{household_id}", {"address": REST_HOUSEHOLD["address"]})
    assert response.status_code == 200, response.get_json()
    response = worker.post("/api/children", json={"household_id": household_id, **REST_CHILD})
    assert response.status_code == 201, response.get_json()
    child_id = response.get_json()["id"]
    response = admin.post(f"/api/children/{child_id}/reveal",
                          json={"field": "id_number", "reason": REVEAL_REASON})
    assert response.get_json() == {"value": REST_CHILD["id_number"]}
    with app.app_context():
        # the demo town has its own 'admin'; keep the factories' one under another name
        db.session.execute(update(User).where(User.username == "admin").values(username="factory_admin"))
        db.session.commit()
        load_demo_town(seed=1, scale=1)
        demo = build_demo_town(1, 1)
        kinds = secrets_by_kind(demo, town)
    return {"demo": demo, "kinds": kinds, "child_id": child_id, "household_id": household_id}


def assert_readable(app, seeded, town) -> None:
    """The secrets are there: every sampled value reads back through the models."""
    demo, kinds = seeded["demo"], seeded["kinds"]
    with app.app_context():
        children = {c.id: c for c in db.session.scalars(select(Child))}
        assert len(children) == len(demo.children) + 4
        for spec in demo.children:
            child = children[spec["id"]]
            assert (child.name, child.id_number, child.birth_date, child.notes or "") == (
                spec["name"], spec["id_number"], spec["birth_date"], spec["notes"])
        households = {h.id: h for h in db.session.scalars(select(Household))}
        for spec in demo.households:
            assert (households[spec["id"]].address, households[spec["id"]].guardians) == (
                spec["address"], spec["guardians"])
        for key, secret in town.secrets.items():
            child = children[town.children[key]]
            assert (child.name, child.id_number, child.notes) == (
                secret["name"], secret["id_number"], secret["notes"])
        rest = children[seeded["child_id"]]
        assert (rest.name, rest.id_number, rest.notes, rest.school) == (
            REST_CHILD["name"], REST_CHILD["id_number"], REST_CHILD["notes"], REST_CHILD["school"])
        assert households[seeded["household_id"]].address == REST_HOUSEHOLD["address"]
        readable = ({c.name for c in children.values()} | {c.id_number for c in children.values()}
                    | {c.notes for c in children.values()} | {h.address for h in households.values()}
                    | {v.notes for v in db.session.scalars(select(Visit))}
                    | {c.description for c in db.session.scalars(select(Clue))}
                    | {p.note for p in db.session.scalars(select(PlanProgress))})
        for kind in ("id_number", "address", "note"):
            assert set(kinds[kind]) - {REVEAL_REASON, "老板a"} <= readable, kind
        db.session.remove()


def assert_blind_index_lookup(app, seeded, town) -> None:
    demo = seeded["demo"]
    with app.app_context():
        for spec in random.Random(7).sample(demo.children, 20) + [{"id": seeded["child_id"], **REST_CHILD}]:
            for typed in (spec["id_number"], spec["id_number"].lower(),
                          f"{spec['id_number'][:6]} {spec['id_number'][6:14]}-{spec['id_number'][14:]}"):
                indexes = Child.id_number.lookup_indexes(Child, typed)
                found = db.session.scalars(select(Child.id).where(Child.id_number_bidx.in_(indexes))).all()
                assert found == [spec["id"]], typed
        missing = factories.valid_id_number("43069919990101999")
        assert db.session.scalars(select(Child.id).where(
            Child.id_number_bidx.in_(Child.id_number.lookup_indexes(Child, missing)))).all() == []
        phone = REST_HOUSEHOLD["phone"]
        assert db.session.scalars(select(GuardianPhone.household_id).where(
            GuardianPhone.phone_bidx == household_phone_index(f"+86 {phone[:3]}-{phone[3:]}"))).all() == [
            seeded["household_id"]]
        db.session.remove()


def test_nothing_personal_is_stored_in_plain_text(app, engine_name, seeded, town, db_url, tmp_path):
    kinds = seeded["kinds"]
    assert all(len(kinds[k]) >= SAMPLE for k in ("name", "id_number", "phone", "address")), {
        k: len(v) for k, v in kinds.items()}
    assert len(kinds["note"]) >= 15
    assert_readable(app, seeded, town)
    assert_blind_index_lookup(app, seeded, town)
    if engine_name == "sqlite":
        path = Path(db_url.removeprefix("sqlite:///"))
        wal = path.with_name(path.name + "-wal")
        with app.app_context():  # files as they are: connections open, WAL not checkpointed
            assert db.session.scalar(select(Child.id).limit(1))
            main, log = path.read_bytes(), wal.read_bytes()
            assert len(log) > 0 or len(main) > 1_000_000
            assert leaks(main, kinds) == {}
            assert leaks(log, kinds) == {}
            db.session.remove()
            db.engine.dispose()  # the last close checkpoints the WAL into the main file
        assert leaks(path.read_bytes(), kinds) == {}
        if wal.exists():
            assert leaks(wal.read_bytes(), kinds) == {}
    else:
        name = db_url.rsplit("/", 1)[1]
        dump = subprocess.run(["pg_dump", "-h", "127.0.0.1", "-U", "postgres", name],
                              capture_output=True, check=True, timeout=300).stdout
        assert b"COPY public.child " in dump and len(dump) > 1_000_000
        assert leaks(dump, kinds) == {}


def test_the_leak_check_would_see_plain_text(app, engine_name, db_url):
    """The same search finds a value stored in a plain column, on this engine."""
    marker = "明文泄露测试王小二430699201801010010"
    with app.app_context():
        db.session.add(Town(id="00000000-0000-4000-8000-000000000001", name=marker))
        db.session.commit()
        if engine_name == "sqlite":
            path = Path(db_url.removeprefix("sqlite:///"))
            blob = path.read_bytes() + path.with_name(path.name + "-wal").read_bytes()
        else:
            blob = subprocess.run(["pg_dump", "-h", "127.0.0.1", "-U", "postgres", db_url.rsplit("/", 1)[1]],
                                  capture_output=True, check=True, timeout=120).stdout
        db.session.remove()
    assert leaks(blob, {"name": [marker[:6]], "id_number": [marker[6:]]}) == {
        "name": [marker[:6]], "id_number": [marker[6:]]}
