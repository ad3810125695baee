"""Tests for the pure, deterministic demo-data generator."""

import math
import random
import re
import uuid
from dataclasses import asdict
from datetime import date

import pytest

from server.services.demo import names
from server.services.demo.generate import (
    DEMO_AS_OF,
    DEMO_CENTRE,
    VENUE_TYPES,
    build_demo_town,
)

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CATEGORIES = {
    "left_behind",
    "migrant",
    "disadvantaged",
    "disabled",
    "single_parent",
    "reconstituted",
    "troubled_family",
}
FAMILY_TO_CATEGORY = {
    "left_behind": "left_behind",
    "migrant": "migrant",
    "single_parent": "single_parent",
    "reconstituted": "reconstituted",
    "troubled": "troubled_family",
}
ROLES = {"grid_worker", "village_head", "inspector", "police", "town_admin"}
PHONE_RE = re.compile(r"^1[3589]\d{9}$")


def _check_char(first17: str) -> str:
    return "10X98765432"[
        sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11
    ]


def _km(lat1, lon1, lat2, lon2):
    dlat = (lat1 - lat2) * 111.32
    dlon = (lon1 - lon2) * 111.32 * math.cos(math.radians(lat1))
    return math.hypot(dlat, dlon)


@pytest.fixture(scope="module")
def town():
    return build_demo_town(1, 1)


def test_same_seed_is_identical_but_for_the_passwords_and_leaves_global_random_alone(monkeypatch):
    def no_uuid4():
        raise AssertionError("uuid4 must not be used")

    monkeypatch.setattr(uuid, "uuid4", no_uuid4)
    state = random.getstate()
    first = build_demo_town(7, 1)
    assert random.getstate() == state
    second = build_demo_town(7, 1)
    # All but the passwords: the same seed on every install must not give the same logins.
    passwords = [(u.pop("password"), v.pop("password")) for u, v in zip(first.users, second.users)]
    assert second == first
    assert all(mine != theirs for mine, theirs in passwords)


def test_different_seed_differs(town):
    other = build_demo_town(2, 1)
    assert other != town
    assert other.children[0]["id"] != town.children[0]["id"]
    assert [c["name"] for c in other.children] != [c["name"] for c in town.children]


def test_scale_one_minimums(town):
    assert town.town["name"].endswith("镇")
    assert len(town.villages) >= 5
    assert all(len(v["grids"]) >= 4 for v in town.villages)
    assert sum(len(v["grids"]) for v in town.villages) >= 20
    assert len(town.children) >= 1500
    assert len(town.venues) >= 40
    venue_types = [v["type"] for v in town.venues]
    assert all(venue_types.count(t) >= 4 for t in VENUE_TYPES)
    assert set(venue_types) == set(VENUE_TYPES)
    assert {u["role"] for u in town.users} == ROLES
    assert {c for child in town.children for c in child["categories"]} == CATEGORIES
    assert {c["risk_level"] for c in town.children} == {"low", "medium", "high"}
    assert {u["kind"] for u in town.units} >= {
        "police",
        "market",
        "civil_affairs",
        "town_office",
    }


def test_distributions_are_plausible(town):
    children = town.children
    n = len(children)
    low = sum(c["risk_level"] == "low" for c in children) / n
    high = sum(c["risk_level"] == "high" for c in children) / n
    assert 0.6 < low < 0.8
    assert 0.03 < high < 0.14
    assert all((c["risk_level"] == "low") == (not c["risk_reasons"]) for c in children)
    assert 0.3 < sum(bool(c["notes"]) for c in children) / n < 0.5
    assert sum(len(c["categories"]) == 1 for c in children) > n / 2
    assert 0 < sum(len(c["categories"]) == 0 for c in children) < n / 5
    statuses = [c["status"] for c in children]
    assert statuses.count("active") > 0.9 * n
    assert statuses.count("moved_out") > 0
    assert statuses.count("aged_out") > 0
    none_coords = sum(h["lat"] is None for h in town.households) / len(town.households)
    assert 0.005 < none_coords < 0.08


def test_id_numbers_valid_and_unique(town):
    numbers = [c["id_number"] for c in town.children]
    assert len(set(numbers)) == len(numbers)
    for child in town.children:
        number = child["id_number"]
        assert len(number) == 18
        assert number[:17].isdigit()
        assert number[17] == _check_char(number[:17])
        assert number[6:14] == child["birth_date"].strftime("%Y%m%d")
        assert int(number[16]) % 2 == (1 if child["sex"] == "M" else 0)


def test_ages_and_status(town):
    for child in town.children:
        birth = child["birth_date"]
        age = (
            DEMO_AS_OF.year
            - birth.year
            - ((DEMO_AS_OF.month, DEMO_AS_OF.day) < (birth.month, birth.day))
        )
        assert 0 <= age <= 18
        assert (age == 18) == (child["status"] == "aged_out")
        if age < 6:
            assert child["school"] == ""


def test_phones_unique_and_valid(town):
    phones = [g["phone"] for h in town.households for g in h["guardians"]]
    phones += [v["contact_phone"] for v in town.venues]
    assert len(set(phones)) == len(phones)
    assert all(PHONE_RE.match(p) for p in phones)


def test_referential_integrity(town):
    villages = {v["id"]: v for v in town.villages}
    grid_village = {g["id"]: v["id"] for v in town.villages for g in v["grids"]}
    households = {h["id"]: h for h in town.households}
    units = {u["id"] for u in town.units}
    assert len(households) == len(town.households)
    for household in town.households:
        assert grid_village[household["grid_id"]] == household["village_id"]
        assert 1 <= len(household["guardians"])
    per_household = {}
    for child in town.children:
        household = households[child["household_id"]]
        assert child["grid_id"] == household["grid_id"]
        assert child["village_id"] == household["village_id"]
        per_household[household["id"]] = per_household.get(household["id"], 0) + 1
        if household["family_type"] in FAMILY_TO_CATEGORY:
            assert FAMILY_TO_CATEGORY[household["family_type"]] in child["categories"]
    assert set(per_household) == set(households)
    assert all(1 <= count <= 3 for count in per_household.values())
    for user in town.users:
        assert user["village_id"] is None or user["village_id"] in villages
        assert all(grid_village[g] == user["village_id"] for g in user["grid_ids"])
        assert user["unit_id"] is None or user["unit_id"] in units
    for venue in town.venues:
        assert venue["village_id"] in villages
    all_ids = [town.town["id"], *villages, *grid_village, *households, *units]
    all_ids += [c["id"] for c in town.children] + [v["id"] for v in town.venues]
    assert len(set(all_ids)) == len(all_ids)
    assert all(uuid.UUID(i).version == 4 for i in all_ids)


def test_users(town):
    usernames = [u["username"] for u in town.users]
    assert len(set(usernames)) == len(usernames)
    assert all(re.fullmatch(r"[a-z0-9]+", name) for name in usernames)
    assert "admin" in usernames
    grid_ids = {g["id"] for v in town.villages for g in v["grids"]}
    workers = [u for u in town.users if u["role"] == "grid_worker"]
    assert {g for u in workers for g in u["grid_ids"]} == grid_ids
    assert any(len(u["grid_ids"]) == 2 for u in workers)
    heads = [u for u in town.users if u["role"] == "village_head"]
    assert {u["village_id"] for u in heads} == {v["id"] for v in town.villages}
    unit_kind = {u["id"]: u["kind"] for u in town.units}
    for user in town.users:
        if user["role"] in ("inspector", "police", "town_admin"):
            assert user["unit_id"] is not None
    assert {unit_kind[u["unit_id"]] for u in town.users if u["role"] == "police"} == {
        "police"
    }
    passwords = [u["password"] for u in town.users]
    assert len(set(passwords)) == len(passwords)
    for password in passwords:
        assert len(password) >= 12
        assert re.search(r"[A-Za-z]", password) and re.search(r"\d", password)


def test_passwords_meet_policy(town):
    policy = pytest.importorskip("server.services.passwords")
    for user in town.users:
        assert policy.password_problems(user["password"], user["username"]) == []


def test_geography(town):
    for village in town.villages:
        assert _km(village["lat"], village["lon"], *DEMO_CENTRE) <= 10.5
    villages = {v["id"]: v for v in town.villages}
    for household in town.households:
        if household["lat"] is None:
            assert household["lon"] is None
            continue
        village = villages[household["village_id"]]
        assert (
            _km(household["lat"], household["lon"], village["lat"], village["lon"])
            <= 1.6
        )


def test_names_and_text(town):
    village_names = [v["name"] for v in town.villages]
    assert len(set(village_names)) == len(village_names)
    assert all(v["kind"] in ("village", "community") for v in town.villages)
    surnames = set(names.SURNAMES)
    for child in town.children:
        assert child["name"][0] in surnames and 2 <= len(child["name"]) <= 3
    for household in town.households:
        assert household["address"].startswith(town.town["name"])
    venue_names = [v["name"] for v in town.venues]
    assert len(set(venue_names)) == len(venue_names)
    assert all(v["status"] in ("open", "suspended", "closed") for v in town.venues)


def test_json_able_values(town):
    def walk(value):
        if isinstance(value, dict):
            assert all(isinstance(k, str) for k in value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            assert value is None or isinstance(value, (str, int, float, bool, date))

    walk({k: v for k, v in asdict(town).items() if k != "as_of"})


def test_scale_two_roughly_doubles(town):
    double = build_demo_town(1, 2)
    ratio = len(double.children) / len(town.children)
    assert 1.6 <= ratio <= 2.4
    assert len({v["name"] for v in double.villages}) == len(double.villages)


def test_county_scale_village_names_unique():
    pairs = names.village_names(random.Random(3), 8 * 34)
    assert len({name for name, _ in pairs}) == len(pairs) == 8 * 34


def test_invalid_scale():
    with pytest.raises(ValueError):
        build_demo_town(1, 0)
