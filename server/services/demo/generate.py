"""Pure, deterministic generator of an invented demo township (no database, no Flask); only its
people's passwords are new each time."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date

from server.models import VENUE_TYPES
from server.services.demo import names
from server.services.demo.families import (
    KM_PER_DEG_LAT,
    Context,
    build_household,
    offset_point,
)
from server.services.demo.identity import (
    HOME_REGION_CODE,
    IdNumberIssuer,
    PhoneIssuer,
    make_password,
    new_id,
)

DEMO_CENTRE = (29.1, 113.2)
DEMO_AS_OF = date(2026, 9, 1)
VILLAGES_PER_SCALE = 8
VILLAGE_RADIUS_KM = 10.0
VENUES_PER_TYPE = 6
ROLES = ("grid_worker", "village_head", "inspector", "police", "town_admin")
UNIT_SPECS = (
    ("{short}派出所", "police"),
    ("{short}市场监管所", "market"),
    ("{town}民政办", "civil_affairs"),
    ("{town}中心学校", "school"),
    ("{town}卫生院", "health"),
    ("{short}司法所", "justice"),
    ("{town}妇联", "womens_federation"),
    ("{town}平安办", "town_office"),
)
INSPECTOR_UNITS = ("market", "police", "civil_affairs")
_LICENCE_PREFIX = {
    "hotel": "TX",
    "esports_hotel": "TX",
    "cinema": "DY",
    "internet_cafe": "WW",
    "bar": "YL",
    "ktv": "YL",
    "other": "GS",
}


@dataclass
class DemoTown:
    """An invented township: plain JSON-able dicts (dates as datetime.date)."""

    town: dict
    villages: list[dict] = field(default_factory=list)
    units: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    households: list[dict] = field(default_factory=list)
    children: list[dict] = field(default_factory=list)
    venues: list[dict] = field(default_factory=list)
    as_of: date = DEMO_AS_OF


def _distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    dlat = (a[0] - b[0]) * KM_PER_DEG_LAT
    dlon = (a[1] - b[1]) * KM_PER_DEG_LAT * math.cos(math.radians(a[0]))
    return math.hypot(dlat, dlon)


def _village_centres(
    rng: random.Random, kinds: list[str], scale: int
) -> list[tuple[float, float]]:
    spread = math.sqrt(scale)
    placed: list[tuple[float, float]] = []
    for kind in kinds:
        radius = (2.0 if kind == "community" else VILLAGE_RADIUS_KM * 0.9) * spread
        for _ in range(30):
            point = offset_point(rng, *DEMO_CENTRE, radius)
            if all(_distance_km(point, other) >= 1.2 for other in placed):
                break
        placed.append(point)
    return placed


def _build_villages(rng: random.Random, scale: int) -> list[dict]:
    pairs = names.village_names(rng, VILLAGES_PER_SCALE * scale)
    centres = _village_centres(rng, [kind for _, kind in pairs], scale)
    villages = []
    for index, ((name, kind), (lat, lon)) in enumerate(
        zip(pairs, centres, strict=True)
    ):
        count = 6 if kind == "community" else rng.randint(5, 6)
        grids = [
            {"id": new_id(rng), "name": f"第{names.chinese_number(i)}网格"}
            for i in range(1, count + 1)
        ]
        villages.append(
            {
                "id": new_id(rng),
                "name": name,
                "kind": kind,
                "lat": lat,
                "lon": lon,
                "grids": grids,
                "has_school": kind == "village" and index % 2 == 0,
            }
        )
    return villages


# The demo town is loaded by every `make run` on an empty database: passwords the seed decided would
# be known to anyone with the repository, on every install. They come from the system's randomness.
_PASSWORDS = random.SystemRandom()


def _user(
    rng: random.Random,
    username: str,
    role: str,
    village_id=None,
    grid_ids=(),
    unit_id=None,
) -> dict:
    display = names.adult_name(rng, names.pick_surname(rng), rng.choice("MF"))
    return {
        "username": username,
        "password": make_password(_PASSWORDS),
        "role": role,
        "display_name": display,
        "village_id": village_id,
        "grid_ids": list(grid_ids),
        "unit_id": unit_id,
    }


def _build_users(
    rng: random.Random, villages: list[dict], units: dict[str, str], scale: int
) -> list[dict]:
    grid_pairs = [(v, g) for v in villages for g in v["grids"]]
    extra = 3 * scale
    width = max(2, len(str(len(grid_pairs) + extra)))
    users = [
        _user(rng, f"grid{n:0{width}d}", "grid_worker", v["id"], [g["id"]])
        for n, (v, g) in enumerate(grid_pairs, 1)
    ]
    for n in range(len(grid_pairs) + 1, len(grid_pairs) + extra + 1):
        village = rng.choice(villages)
        first = rng.randrange(len(village["grids"]) - 1)
        pair = [g["id"] for g in village["grids"][first : first + 2]]
        users.append(
            _user(rng, f"grid{n:0{width}d}", "grid_worker", village["id"], pair)
        )
    width = max(2, len(str(len(villages))))
    users += [
        _user(rng, f"head{n:0{width}d}", "village_head", v["id"])
        for n, v in enumerate(villages, 1)
    ]
    for n in range(1, 5 + scale):
        unit = units[INSPECTOR_UNITS[(n - 1) % len(INSPECTOR_UNITS)]]
        users.append(_user(rng, f"inspector{n:02d}", "inspector", unit_id=unit))
    users += [
        _user(rng, f"police{n:02d}", "police", unit_id=units["police"]) for n in (1, 2)
    ]
    users.append(_user(rng, "admin", "town_admin", unit_id=units["town_office"]))
    return users


def _venue_name(
    rng: random.Random, kind: str, village: dict, short: str, used: set[str]
) -> str:
    suffix = rng.choice(names.VENUE_SUFFIXES[kind])
    name = (
        f"{short}{suffix}"
        if kind == "hotel" and rng.random() < 0.15
        else rng.choice(names.VENUE_WORDS) + suffix
    )
    place = village["name"].removesuffix("社区").removesuffix("村")
    for candidate in (
        name,
        place + name,
        *(f"{place}{name}{names.chinese_number(i)}店" for i in range(2, 99)),
    ):
        if candidate not in used:
            used.add(candidate)
            return candidate
    raise RuntimeError("venue names exhausted")


def _build_venues(
    ctx: Context, villages: list[dict], short: str, scale: int
) -> list[dict]:
    rng = ctx.rng
    weights = [4 if v["kind"] == "community" else 1 for v in villages]
    kinds = [k for k in VENUE_TYPES for _ in range(VENUES_PER_TYPE * scale)]
    venues, used = [], set()
    for index, kind in enumerate(kinds, 1):
        village = rng.choices(villages, weights=weights)[0]
        if village["kind"] == "community":
            street = rng.choice(names.STREETS)
            address = f"{ctx.town_name}{village['name']}{street}{rng.randint(1, 300)}号"
        else:
            address = f"{ctx.town_name}{village['name']}{rng.randint(1, 12)}组{rng.randint(1, 80)}号"
        lat, lon = offset_point(rng, village["lat"], village["lon"], 1.0)
        prefix = _LICENCE_PREFIX[kind]
        status = rng.choices(("open", "suspended", "closed"), weights=(86, 7, 7))[0]
        venues.append(
            {
                "id": new_id(rng),
                "village_id": village["id"],
                "type": kind,
                "name": _venue_name(rng, kind, village, short, used),
                "licence_no": f"{prefix}{HOME_REGION_CODE}{rng.randint(2015, 2026)}{index:05d}",
                "address": address,
                "lat": lat,
                "lon": lon,
                "contact_name": names.adult_name(
                    rng, names.pick_surname(rng), rng.choice("MF")
                ),
                "contact_phone": ctx.phones.issue(),
                "status": status,
            }
        )
    return venues


def build_demo_town(
    seed: int = 1, scale: int = 1, *, as_of: date = DEMO_AS_OF
) -> DemoTown:
    """Return an invented township; identical for the same seed, scale and as_of, but for the passwords."""
    if scale < 1:
        raise ValueError("scale must be >= 1")
    rng = random.Random(seed)
    town_name = names.TOWN_NAMES[(seed - 1) % len(names.TOWN_NAMES)]
    short = town_name.removesuffix("镇")
    ctx = Context(
        rng=rng,
        ids=IdNumberIssuer(rng),
        phones=PhoneIssuer(rng),
        as_of=as_of,
        town_name=town_name,
    )
    town = {"id": new_id(rng), "name": town_name}
    units = [
        {
            "id": new_id(rng),
            "name": pattern.format(town=town_name, short=short),
            "kind": kind,
        }
        for pattern, kind in UNIT_SPECS
    ]
    villages = _build_villages(rng, scale)
    households, children = [], []
    for village in villages:
        for grid in village["grids"]:
            for number in rng.sample(range(1, 120), rng.randint(17, 23)):
                household, kids = build_household(ctx, village, grid, number)
                households.append(household)
                children.extend(kids)
    users = _build_users(rng, villages, {u["kind"]: u["id"] for u in units}, scale)
    venues = _build_venues(ctx, villages, short, scale)
    for village in villages:
        del village["has_school"]
    return DemoTown(town, villages, units, users, households, children, venues, as_of)
