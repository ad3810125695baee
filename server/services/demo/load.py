"""Load the generated demo town into the database, encrypted like any other record."""
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import select

from ...extensions import db
from ...models import (
    Child,
    Grid,
    GuardianPhone,
    Household,
    Town,
    Unit,
    User,
    Venue,
    Village,
    replaying_at,
    utcnow,
)
from .. import audit
from ..passwords import hash_password
from ..registry import household_phone_index
from .activity import record_demo_activity
from .generate import build_demo_town

BATCH = 2000
REGISTERED_DAYS_AGO = 60


def town_exists() -> bool:
    """Say whether any town is loaded."""
    return db.session.scalar(select(Town.id).limit(1)) is not None


def _places(town) -> None:
    db.session.add(Town(id=town.town["id"], name=town.town["name"]))
    for v in town.villages:
        db.session.add(Village(id=v["id"], town_id=town.town["id"], name=v["name"], kind=v["kind"],
                               lat=v["lat"], lon=v["lon"]))
        db.session.add_all(Grid(id=g["id"], village_id=v["id"], name=g["name"]) for g in v["grids"])
    db.session.add_all(Unit(id=u["id"], town_id=town.town["id"], name=u["name"], kind=u["kind"])
                       for u in town.units)
    db.session.flush()


def _users(town) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        hashes = list(pool.map(hash_password, (u["password"] for u in town.users)))
    grids = {g.id: g for g in db.session.scalars(select(Grid))}
    for spec, password_hash in zip(town.users, hashes):
        user = User(id=str(uuid.uuid5(uuid.UUID(town.town["id"]), spec["username"])), username=spec["username"],
                    role=spec["role"], town_id=town.town["id"], village_id=spec["village_id"],
                    unit_id=spec["unit_id"], password_hash=password_hash)
        user.display_name = spec["display_name"]
        user.grids = [grids[g] for g in spec["grid_ids"]]
        db.session.add(user)
    db.session.flush()


def _households(town) -> None:
    for h in town.households:
        household = Household(id=h["id"], grid_id=h["grid_id"], village_id=h["village_id"],
                              family_type=h["family_type"])
        household.address = h["address"]
        household.location = None if h["lat"] is None else {"lat": h["lat"], "lon": h["lon"]}
        household.guardians = h["guardians"]
        db.session.add(household)
    db.session.flush()
    for h in town.households:
        phones = {household_phone_index(g["phone"]) for g in h["guardians"] if g.get("phone")}
        db.session.add_all(GuardianPhone(household_id=h["id"], phone_bidx=p) for p in phones)
    db.session.flush()


def _children(town) -> None:
    for c in town.children:
        child = Child(id=c["id"], household_id=c["household_id"], grid_id=c["grid_id"],
                      village_id=c["village_id"], sex=c["sex"], categories=c["categories"],
                      status=c["status"], risk_level=c["risk_level"],
                      risk_reasons=c["risk_reasons"], birth_year=c["birth_date"].year)
        child.name = c["name"]
        child.id_number = c["id_number"]
        child.birth_date = c["birth_date"]
        child.school = c["school"] or None
        child.notes = c["notes"] or None
        db.session.add(child)
    db.session.flush()


def _venues(town) -> None:
    for v in town.venues:
        venue = Venue(id=v["id"], village_id=v["village_id"], type=v["type"], name=v["name"],
                      licence_no=v["licence_no"], address=v["address"], lat=v["lat"], lon=v["lon"],
                      status=v["status"])
        venue.contact_name = v["contact_name"]
        venue.contact_phone = v["contact_phone"]
        db.session.add(venue)
    db.session.flush()


def load_demo_town(seed: int = 1, scale: int = 1, activity: bool = True) -> list[dict]:
    """Generate and store a demo town in one transaction; return each login.

    The town is registered two months back; with `activity`, the past month's field work
    follows (`activity.record_demo_activity`), up to now.
    """
    town, now = build_demo_town(seed=seed, scale=scale), utcnow()
    with replaying_at(now - timedelta(days=REGISTERED_DAYS_AGO)):
        _places(town)
        _users(town)
        _households(town)
        _children(town)
        _venues(town)
        audit.record_event("demo.load", detail={
            "seed": seed, "scale": scale, "villages": len(town.villages),
            "households": len(town.households), "children": len(town.children),
            "venues": len(town.venues), "users": len(town.users)})
    if activity:
        record_demo_activity(town, seed, now)
    db.session.commit()
    return [{"username": u["username"], "password": u["password"], "role": u["role"]}
            for u in town.users]
