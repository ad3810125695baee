"""Builders of test records and a JSON client that carries the CSRF token."""
from dataclasses import dataclass, field
from datetime import date, datetime

from server.extensions import db
from server.models import Child, Clue, Grid, Household, Town, Unit, User, Venue, Village, Visit, new_id
from server.services import passwords

PASSWORD = "Test-pass-2024-ok"
_HASH: dict[str, str] = {}

NAMES = {"a1": "欧阳明月", "a2": "司马小雨", "b1": "诸葛晓东"}
ID_NUMBERS = {"a1": "430699201501010011", "a2": "430699201602020024", "b1": "430699201703030035"}


def valid_id_number(body17: str) -> str:
    """Return body17 with its GB 11643 check character."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, weights)) % 11]


@dataclass
class TownIds:
    """Ids of the small test town."""

    villages: dict = field(default_factory=dict)
    grids: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    households: dict = field(default_factory=dict)
    children: dict = field(default_factory=dict)
    venues: dict = field(default_factory=dict)
    clues: dict = field(default_factory=dict)
    secrets: dict = field(default_factory=dict)


def _password_hash() -> str:
    if PASSWORD not in _HASH:
        _HASH[PASSWORD] = passwords.hash_password(PASSWORD)
    return _HASH[PASSWORD]


def add_user(ids: TownIds, username: str, role: str, town_id: str, village_id=None,
             grids=(), unit_id=None) -> User:
    """Add a user with the shared test password."""
    user = User(id=new_id(), username=username, role=role, town_id=town_id,
                village_id=village_id, unit_id=unit_id, password_hash=_password_hash())
    user.display_name = f"测试{username}"
    user.grids = list(grids)
    db.session.add(user)
    ids.users[username] = user.id
    return user


def build_town() -> TownIds:
    """Create the two-village test town and return its ids (needs an app context)."""
    ids = TownIds()
    town = Town(id=new_id(), name="测试镇")
    db.session.add(town)
    grids = {}
    for v in ("a", "b"):
        village = Village(id=new_id(), town_id=town.id, name=f"测试{v.upper()}村")
        db.session.add(village)
        ids.villages[v] = village.id
        for n in ("1", "2"):
            grid = Grid(id=new_id(), village_id=village.id, name=f"第{n}网格")
            db.session.add(grid)
            grids[v + n] = grid
            ids.grids[v + n] = grid.id
    unit = Unit(id=new_id(), town_id=town.id, name="测试派出所", kind="police")
    market = Unit(id=new_id(), town_id=town.id, name="测试市场监管所", kind="market")
    db.session.add_all([unit, market])
    db.session.flush()
    add_user(ids, "worker_a", "grid_worker", town.id, ids.villages["a"], [grids["a1"]])
    add_user(ids, "worker_b", "grid_worker", town.id, ids.villages["b"], [grids["b1"]])
    add_user(ids, "head_a", "village_head", town.id, ids.villages["a"])
    add_user(ids, "head_b", "village_head", town.id, ids.villages["b"])
    add_user(ids, "inspector", "inspector", town.id, unit_id=market.id)
    add_user(ids, "police", "police", town.id, unit_id=unit.id)
    add_user(ids, "admin", "town_admin", town.id)
    db.session.flush()
    for key, grid in (("a1", grids["a1"]), ("a2", grids["a2"]), ("b1", grids["b1"])):
        household = Household(id=new_id(), grid_id=grid.id, village_id=grid.village_id,
                              family_type="left_behind")
        household.address = f"测试镇{key}组{len(key)}号槐花巷"
        household.location = {"lat": 29.1 + len(ids.households) * 0.01, "lon": 113.2}
        phone = f"1390000{len(ids.households):04d}"
        household.guardians = [{"name": f"监护人{NAMES[key][0]}大山", "relation": "祖父",
                                "phone": phone}]
        db.session.add(household)
        db.session.flush()
        ids.households[key] = household.id
        child = Child(id=new_id(), household_id=household.id, grid_id=grid.id,
                      village_id=grid.village_id, sex="F", categories=["left_behind"],
                      birth_year=2015)
        child.name = NAMES[key]
        child.id_number = ID_NUMBERS[key]
        child.birth_date = date(2015, 1, 1)
        child.notes = f"父母在外务工{key}备注"
        db.session.add(child)
        db.session.flush()
        ids.children[key] = child.id
        ids.secrets[key] = {"name": NAMES[key], "id_number": ID_NUMBERS[key], "phone": phone,
                            "address": household.address, "notes": child.notes}
    for v in ("a", "b"):
        venue = Venue(id=new_id(), village_id=ids.villages[v], type="hotel",
                      name=f"测试{v}宾馆", status="open")
        venue.contact_name = f"老板{v}"
        venue.contact_phone = f"1380000000{1 if v == 'a' else 2}"
        db.session.add(venue)
        ids.venues[v] = venue.id
    clue = Clue(id=new_id(), reporter_id=ids.users["worker_a"], child_id=ids.children["a1"],
                village_id=ids.villages["a"])
    clue.description = "发现可疑成年人多次接触"
    db.session.add(clue)
    ids.clues["a1"] = clue.id
    db.session.commit()
    return ids


class ApiClient:
    """A test client that logs in and sends JSON with the CSRF header."""

    def __init__(self, client):
        self.client = client
        self.csrf = None
        self.device_id = None

    def login(self, username: str, password: str = PASSWORD, device_id: str | None = None):
        body = {"username": username, "password": password}
        if device_id:
            body["device_id"] = device_id
        response = self.client.post("/api/auth/login", json=body)
        assert response.status_code == 200, response.get_json()
        self.csrf = response.get_json()["csrf_token"]
        self.device_id = device_id
        return response

    def _headers(self, headers):
        merged = {"X-CSRF-Token": self.csrf} if self.csrf else {}
        merged.update(headers or {})
        return merged

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, json=None, headers=None, **kwargs):
        return self.client.post(url, json=json, headers=self._headers(headers), **kwargs)

    def patch(self, url, json=None, headers=None, **kwargs):
        return self.client.patch(url, json=json, headers=self._headers(headers), **kwargs)

    def edit(self, url, changes: dict):
        """PATCH `changes` as the app does: on the version it last read (If-Match)."""
        version = self.client.get(url).get_json().get("version")
        return self.patch(url, json=changes, headers={"If-Match": str(version)})

    def delete(self, url, headers=None, **kwargs):
        return self.client.delete(url, headers=self._headers(headers), **kwargs)


def visit_by_worker_a(town: TownIds, at: datetime, received_at: datetime | None = None, **values) -> Visit:
    """An unsaved visit by worker_a to child a1 at its home, made and counted at `at` and received
    then (or at `received_at`)."""
    return Visit(id=new_id(), child_id=town.children["a1"], household_id=town.households["a1"],
                 grid_id=town.grids["a1"], village_id=town.villages["a"], worker_id=town.users["worker_a"],
                 visited_at=at, counted_at=at, received_at=received_at or at, **values)
