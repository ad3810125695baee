"""Set up a real town's places: its villages and grids, and its units, from the town file.

Run again with a longer file to add villages, grids or units: what exists (by name) is kept as it
is, nothing is renamed, moved or removed, so no record, account or phone loses its place. One town
a database: a file naming another town is refused (the demo town included). Everything the file
says is checked before anything is written.
"""
from sqlalchemy import select

from ..errors import validation_error
from ..extensions import db
from ..models import Grid, Town, Unit, Village, place_name_key
from . import audit, changes

_KIND_NAMES = {"village": "村", "community": "社区"}


def set_up_town(data: dict) -> dict:
    """Add what the loaded town file names and the database lacks; return the counts added and the totals."""
    changes.lock_writers()  # two runs at once would each add what the other is adding
    towns = db.session.scalars(select(Town)).all()
    if any(place_name_key(town.name) != data["town"] for town in towns):
        raise validation_error({"town": [f"本系统已有镇“{towns[0].name}”，一个系统只管一个镇"]})
    town = towns[0] if towns else None
    villages = {place_name_key(v.name): v for v in db.session.scalars(select(Village))}
    units = {place_name_key(u.name): u for u in db.session.scalars(select(Unit))}
    _refuse_other_kinds(data, villages, units)
    added = {"town": 0, "villages": 0, "grids": 0, "units": 0}
    if town is None:
        town = Town(name=data["town"])
        db.session.add(town)
        db.session.flush()
        added["town"] = 1
    for wanted in data["villages"]:
        village = villages.get(wanted["name"])
        if village is None:
            village = Village(town_id=town.id, name=wanted["name"], kind=wanted["kind"])
            db.session.add(village)
            db.session.flush()
            added["villages"] += 1
        have = {place_name_key(g.name) for g in village.grids}
        for name in wanted["grids"]:
            if name not in have:
                db.session.add(Grid(village_id=village.id, name=name))
                added["grids"] += 1
    for wanted in data["units"]:
        if wanted["name"] not in units:
            db.session.add(Unit(town_id=town.id, name=wanted["name"], kind=wanted["kind"]))
            added["units"] += 1
    db.session.flush()
    if any(added.values()):
        audit.record_event("town.setup", entity="town", entity_id=town.id, detail={"added": added})
    db.session.commit()
    return {"town": town.name, "added": added, "totals": _totals()}


def _refuse_other_kinds(data: dict, villages: dict, units: dict) -> None:
    """Refuse a file that calls a village or unit already set up something else: it is not changed."""
    errors: dict[str, list[str]] = {}
    for wanted in data["villages"]:
        village = villages.get(wanted["name"])
        if village is not None and village.kind != wanted["kind"]:
            errors.setdefault("villages", []).append(
                f"“{village.name}”已登记为{_KIND_NAMES.get(village.kind, village.kind)}，不改动")
    for wanted in data["units"]:
        unit = units.get(wanted["name"])
        if unit is not None and unit.kind != wanted["kind"]:
            errors.setdefault("units", []).append(f"“{unit.name}”已登记为另一类单位（{unit.kind}），不改动")
    if errors:
        raise validation_error(errors)


def _totals() -> dict:
    villages = db.session.scalars(select(Village)).all()
    return {"villages": len(villages), "grids": sum(len(v.grids) for v in villages),
            "units": len(db.session.scalars(select(Unit.id)).all())}
