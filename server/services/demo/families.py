"""Invented households, guardians and children for the demo-data generator."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from server.services.demo import names
from server.services.demo.identity import (
    HOME_REGION_CODE,
    OTHER_REGION_CODES,
    IdNumberIssuer,
    PhoneIssuer,
    new_id,
)
from server.services.demo.profiles import draw_risk, write_note

FAMILY_TYPES = (
    "normal",
    "left_behind",
    "single_parent",
    "reconstituted",
    "troubled",
    "migrant",
)
FAMILY_WEIGHTS = (22, 32, 14, 8, 6, 18)
FAMILY_CATEGORY = {
    "left_behind": "left_behind",
    "single_parent": "single_parent",
    "reconstituted": "reconstituted",
    "troubled": "troubled_family",
    "migrant": "migrant",
}
COUNTY_NAME = "湖滨县"
KM_PER_DEG_LAT = 111.32
HOUSEHOLD_RADIUS_KM = 1.5


@dataclass
class Context:
    """Shared state for one generation run (rng, issuers, reference date, names)."""

    rng: random.Random
    ids: IdNumberIssuer
    phones: PhoneIssuer
    as_of: date
    town_name: str


def offset_point(
    rng: random.Random, lat: float, lon: float, radius_km: float
) -> tuple[float, float]:
    """Return a random WGS-84 point within `radius_km` of (lat, lon), rounded to 6 places."""
    r = radius_km * math.sqrt(rng.random())
    theta = rng.random() * 2 * math.pi
    dlat = r * math.cos(theta) / KM_PER_DEG_LAT
    dlon = r * math.sin(theta) / (KM_PER_DEG_LAT * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def _guardian(ctx: Context, surname: str, sex: str, relation: str) -> dict:
    return {
        "name": names.adult_name(ctx.rng, surname, sex),
        "relation": relation,
        "phone": ctx.phones.issue(),
    }


def _guardians(ctx: Context, family_type: str) -> tuple[list[dict], str, str]:
    """Return (guardians, child surname, caretaker relation) for a family type."""
    rng = ctx.rng
    dad = names.pick_surname(rng)
    mum = names.pick_surname(rng, avoid=dad)

    def g(surname: str, sex: str, relation: str) -> dict:
        return _guardian(ctx, surname, sex, relation)

    child_surname, carer = dad, "父母"
    if family_type == "left_behind":
        r = rng.random()
        if r < 0.55:
            people, carer = [g(names.pick_surname(rng, dad), "F", "祖母")], "祖母"
            if rng.random() < 0.5:
                people.append(g(dad, "M", "祖父"))
        elif r < 0.75:
            people, carer = [g(names.pick_surname(rng, mum), "F", "外祖母")], "外祖母"
            if rng.random() < 0.5:
                people.append(g(mum, "M", "外祖父"))
        elif r < 0.88:
            people, carer = [g(dad, "M", "祖父")], "祖父"
        else:
            carer = rng.choice(("叔叔", "姑姑"))
            people = [g(dad, "M" if carer == "叔叔" else "F", carer)]
        people.append(g(dad, "M", "父亲"))
        if rng.random() < 0.5:
            people.append(g(mum, "F", "母亲"))
    elif family_type == "single_parent":
        if rng.random() < 0.6:
            people, carer = [g(mum, "F", "母亲")], "母亲"
            if rng.random() < 0.25:
                child_surname = mum
            if rng.random() < 0.3:
                people.append(g(names.pick_surname(rng, mum), "F", "外祖母"))
        else:
            people, carer = [g(dad, "M", "父亲")], "父亲"
            if rng.random() < 0.3:
                people.append(g(names.pick_surname(rng, dad), "F", "祖母"))
    elif family_type == "reconstituted":
        if rng.random() < 0.5:
            people, carer = [g(dad, "M", "父亲"), g(mum, "F", "继母")], "父亲和继母"
        else:
            step = names.pick_surname(rng, mum)
            people, carer = [g(mum, "F", "母亲"), g(step, "M", "继父")], "母亲和继父"
            child_surname = step if rng.random() < 0.3 else mum
    elif family_type == "troubled" and rng.random() < 0.3:
        people, carer = (
            [g(dad, "M", "父亲"), g(names.pick_surname(rng, dad), "F", "祖母")],
            "父亲和祖母",
        )
    else:
        people = [g(dad, "M", "父亲"), g(mum, "F", "母亲")]
        if family_type == "normal" and rng.random() < 0.2:
            people.append(g(names.pick_surname(rng, dad), "F", "祖母"))
    return people, child_surname, carer


def _birth_date(rng: random.Random, as_of: date, age: int) -> date:
    start = date(as_of.year - age - 1, as_of.month, as_of.day)
    return start + timedelta(days=rng.randint(1, 365))


def _school(ctx: Context, village: dict, age: int) -> str:
    if age < 6:
        return ""
    if age < 12:
        if village.get("has_school") and age < 10:
            return f"{village['name']}小学"
        return f"{ctx.town_name}中心小学"
    if age < 15:
        return f"{ctx.town_name}中学"
    if age < 18:
        return (
            f"{COUNTY_NAME}第一中学"
            if ctx.rng.random() < 0.7
            else f"{COUNTY_NAME}职业中专"
        )
    return ""


def build_household(
    ctx: Context, village: dict, grid: dict, number: int
) -> tuple[dict, list[dict]]:
    """Return one invented household in `grid` and its 1-3 children."""
    rng = ctx.rng
    family_type = rng.choices(FAMILY_TYPES, weights=FAMILY_WEIGHTS)[0]
    guardians, surname, carer = _guardians(ctx, family_type)
    if village["kind"] == "community":
        address = (
            f"{ctx.town_name}{village['name']}{rng.choice(names.STREETS)}{number}号"
        )
    else:
        address = f"{ctx.town_name}{village['name']}{rng.randint(1, 12)}组{number}号"
    lat, lon = offset_point(rng, village["lat"], village["lon"], HOUSEHOLD_RADIUS_KM)
    if rng.random() < 0.03:
        lat = lon = None
    household = {
        "id": new_id(rng),
        "grid_id": grid["id"],
        "village_id": village["id"],
        "address": address,
        "lat": lat,
        "lon": lon,
        "family_type": family_type,
        "guardians": guardians,
    }
    base = [FAMILY_CATEGORY[family_type]] if family_type in FAMILY_CATEGORY else []
    poor = rng.random() < (0.6 if family_type == "normal" else 0.1)
    region = (
        rng.choice(OTHER_REGION_CODES) if family_type == "migrant" else HOME_REGION_CODE
    )
    count = rng.choices((1, 2, 3), weights=(35, 45, 20))[0]
    low = rng.randint(0, 10)
    ages = sorted(rng.sample(range(low, low + 8), count), reverse=True)
    children, given_used = [], set()
    for age in ages:
        sex = "M" if rng.random() < 0.52 else "F"
        given = names.child_given_name(rng, sex)
        while given in given_used:
            given = names.child_given_name(rng, sex)
        given_used.add(given)
        status = "active"
        u = rng.random()
        if u < 0.015:
            status, age = "aged_out", 18
        elif u < 0.035:
            status = "moved_out"
        categories = base + (["disadvantaged"] if poor else [])
        if rng.random() < (0.25 if family_type == "normal" and not poor else 0.03):
            categories.append("disabled")
        birth = _birth_date(rng, ctx.as_of, age)
        level, reasons = (
            draw_risk(rng, categories, age) if status == "active" else ("low", [])
        )
        school = "" if "dropped_out" in reasons else _school(ctx, village, age)
        child = {
            "id": new_id(rng),
            "household_id": household["id"],
            "grid_id": grid["id"],
            "village_id": village["id"],
            "name": surname + given,
            "id_number": ctx.ids.issue(birth, sex, region),
            "birth_date": birth,
            "sex": sex,
            "school": school,
            "categories": categories,
            "status": status,
            "notes": "",
            "risk_level": level,
            "risk_reasons": reasons,
        }
        p_note = (
            {"low": 0.3, "medium": 0.6, "high": 0.9}[level]
            if status == "active"
            else 0.8
        )
        if rng.random() < p_note:
            child["notes"] = write_note(rng, child, family_type, carer)
        children.append(child)
    return household, children
