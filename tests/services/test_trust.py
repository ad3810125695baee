"""The server's trust flags on visits and inspections, with real WGS-84 coordinates."""
import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from geopy.distance import geodesic

from server.extensions import db
from server.models import Household, Inspection, Venue, Visit
from server.services import trust
from server.services.geo import distance_m, wgs84_to_gcj02
from tests.sync.test_push_pull_basics import op

# A household in Changsha county, Hunan (WGS-84, as a phone's GPS gives it).
HOME = (28.2458, 113.0824)
DEVICE = "phone-trust-worker-a"
INSPECTOR_DEVICE = "phone-trust-inspector"
LOCATION_FLAGS = ("location_mismatch", "no_location")


def offset(point, metres, bearing=45.0):
    """Return the WGS-84 point `metres` from `point` along `bearing` (geodesic)."""
    target = geodesic(meters=metres).destination(point, bearing)
    return target.latitude, target.longitude


def gcj02_to_bd09(lat, lon):
    """Shift a GCJ-02 point the way Baidu maps (BD-09) do."""
    x_pi = math.pi * 3000.0 / 180.0
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * x_pi)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * x_pi)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def now():
    return datetime.now(UTC)


def iso(moment):
    return moment.isoformat()


def push_at(api, ops, device_time=None):
    """Push from the client's device with the device clock at `device_time` (default: now)."""
    response = api.post("/api/sync/push", json={
        "device_id": api.device_id, "device_time": iso(device_time or now()), "ops": ops})
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["applied"] * len(ops), results
    return results


def make_home(api, grid_id, point=HOME):
    """Register a household (at `point`, or with no location) and a child in it; return ids."""
    household_id, child_id = str(uuid.uuid4()), str(uuid.uuid4())
    place = {"lat": point[0], "lon": point[1]} if point else {}
    push_at(api, [op("household", "create", household_id,
                     {"grid_id": grid_id, "address": "槐花巷1号", **place}),
                  op("child", "create", child_id, {"household_id": household_id, "name": "小明",
                                                   "sex": "M", "categories": ["left_behind"]})])
    return household_id, child_id


def visit(api, child_id, fix=None, accuracy=10.0, at=None, device_time=None, coord_system=None, visit_id=None):
    """Push one visit and return it as GET /api/visits/{id} answers."""
    visit_id = visit_id or str(uuid.uuid4())
    data = {"child_id": child_id, "visited_at": iso(at or now() - timedelta(minutes=5)),
            "answers": {"guardian_present": True}}
    if fix is not None:
        data.update(lat=fix[0], lon=fix[1], accuracy_m=accuracy)
    if coord_system:
        data["coord_system"] = coord_system
    push_at(api, [op("visit", "create", visit_id, data)], device_time)
    response = api.get(f"/api/visits/{visit_id}")
    assert response.status_code == 200
    return response.get_json()


@pytest.fixture
def worker(town, login):
    return login("worker_a", device_id=DEVICE)


@pytest.fixture
def home(worker, town):
    """(household_id, child_id) of a household at HOME in worker_a's grid."""
    return make_home(worker, town.grids["a1"])


def test_fix_150_m_away_is_not_a_mismatch(worker, home):
    fix = offset(HOME, 150)
    body = visit(worker, home[1], fix, accuracy=10)
    assert body["flags"] == []
    assert body["distance_m"] == pytest.approx(150, abs=0.5)
    assert (body["lat"], body["lon"], body["accuracy_m"]) == (
        pytest.approx(fix[0], abs=1e-7), pytest.approx(fix[1], abs=1e-7), 10)
    assert body["review_status"] == "none"


def test_fix_2_km_away_is_a_mismatch(worker, home):
    body = visit(worker, home[1], offset(HOME, 2000, bearing=200), accuracy=10)
    assert body["flags"] == ["location_mismatch"]
    assert body["distance_m"] == pytest.approx(2000, abs=0.5)
    assert body["review_status"] == "pending"


def test_poor_accuracy_widens_the_allowance_to_twice_the_accuracy(worker, home):
    allowed = visit(worker, home[1], offset(HOME, 300), accuracy=200,
                    at=now() - timedelta(hours=3))
    assert (allowed["flags"], allowed["distance_m"]) == ([], pytest.approx(300, abs=0.5))
    tight = visit(worker, home[1], offset(HOME, 300), accuracy=100,
                  at=now() - timedelta(hours=1))
    assert (tight["flags"], tight["distance_m"]) == (["location_mismatch"],
                                                     pytest.approx(300, abs=0.5))


def test_a_claimed_accuracy_widens_the_allowance_to_2_km_at_most(worker, home):
    """The phone reports its own accuracy: a claimed 100 km would have let a fix from anywhere pass."""
    far = visit(worker, home[1], offset(HOME, 111_000), accuracy=100_000, at=now() - timedelta(hours=9))
    assert (far["flags"], far["distance_m"]) == (["location_mismatch"], pytest.approx(111_000, abs=1))
    beyond = visit(worker, home[1], offset(HOME, 2500), accuracy=5000, at=now() - timedelta(hours=6))
    assert (beyond["flags"], beyond["distance_m"]) == (["location_mismatch"], pytest.approx(2500, abs=0.5))
    within = visit(worker, home[1], offset(HOME, 1900), accuracy=5000, at=now() - timedelta(hours=3))
    assert (within["flags"], within["distance_m"]) == ([], pytest.approx(1900, abs=0.5))


def test_no_fix_is_flagged_no_location(worker, home):
    body = visit(worker, home[1], None)
    assert (body["flags"], body["distance_m"], body["lat"], body["lon"]) == (
        ["no_location"], None, None, None)


@pytest.mark.parametrize(("skew", "flags"), [
    (timedelta(minutes=11), ["clock_skew"]), (-timedelta(minutes=11), ["clock_skew"]),
    (timedelta(minutes=9), []), (-timedelta(minutes=9), [])])
def test_device_clock_skew(worker, home, skew, flags):
    body = visit(worker, home[1], HOME, device_time=now() + skew)
    assert body["flags"] == flags


def test_visit_in_the_future_is_flagged(worker, home):
    body = visit(worker, home[1], HOME, at=now() + timedelta(hours=1))
    assert body["flags"] == ["future_time"]


@pytest.mark.parametrize(("days", "flags"), [(8, ["late_entry"]), (6, [])])
def test_late_entry(worker, home, days, flags):
    body = visit(worker, home[1], HOME, at=now() - timedelta(days=days))
    assert body["flags"] == flags
    received = datetime.fromisoformat(body["received_at"])
    visited = datetime.fromisoformat(body["visited_at"])
    assert timedelta(days=days) <= received - visited < timedelta(days=days, minutes=1)


@pytest.mark.parametrize(("gap", "flags"), [(timedelta(minutes=10), ["impossible_travel"]),
                                            (timedelta(hours=1), [])])
def test_travel_between_two_homes(worker, town, gap, flags):
    far = offset(HOME, 30_000, bearing=90)
    assert distance_m(HOME, far) == pytest.approx(30_000, abs=1)
    _, near_child = make_home(worker, town.grids["a1"], HOME)
    _, far_child = make_home(worker, town.grids["a1"], far)
    first_at = now() - timedelta(hours=2)
    first = visit(worker, near_child, HOME, at=first_at)
    second = visit(worker, far_child, far, at=first_at + gap)
    assert (first["flags"], second["flags"]) == ([], flags)
    assert (first["distance_m"], second["distance_m"]) == (0.0, 0.0)


# A record without a fix says nothing of where the worker was: the check looks past it to the
# nearest record that has one, on either side and of either kind.
FAR = offset(HOME, 50_000, bearing=0)


def test_a_visit_without_a_fix_in_between_does_not_hide_a_journey(worker, town):
    _, near_child = make_home(worker, town.grids["a1"], HOME)
    _, far_child = make_home(worker, town.grids["a1"], FAR)
    start = now() - timedelta(hours=3)
    home = visit(worker, near_child, HOME, at=start)
    blind = visit(worker, near_child, None, at=start + timedelta(minutes=5))
    away = visit(worker, far_child, FAR, at=start + timedelta(minutes=10))
    assert (home["flags"], blind["flags"], away["distance_m"]) == ([], ["no_location"], 0.0)
    assert away["flags"] == ["impossible_travel"]


def test_a_visit_without_a_fix_later_in_time_does_not_hide_a_journey(worker, town):
    """Recorded late: the record's later neighbour has no fix, the one after it is 50 km away."""
    _, near_child = make_home(worker, town.grids["a1"], HOME)
    _, far_child = make_home(worker, town.grids["a1"], FAR)
    start = now() - timedelta(hours=3)
    assert visit(worker, far_child, FAR, at=start + timedelta(minutes=10))["flags"] == []
    assert visit(worker, near_child, None, at=start + timedelta(minutes=5))["flags"] == ["no_location"]
    assert visit(worker, near_child, HOME, at=start)["flags"] == ["impossible_travel"]


def test_two_visits_without_a_fix_in_a_row_do_not_hide_a_journey(worker, town):
    _, near_child = make_home(worker, town.grids["a1"], HOME)
    _, far_child = make_home(worker, town.grids["a1"], FAR)
    start = now() - timedelta(hours=3)
    assert visit(worker, near_child, HOME, at=start)["flags"] == []
    for minutes in (3, 6):
        assert visit(worker, near_child, None, at=start + timedelta(minutes=minutes))["flags"] == [
            "no_location"]
    assert visit(worker, far_child, FAR, at=start + timedelta(minutes=10))["flags"] == [
        "impossible_travel"]


def test_a_batch_with_a_visit_without_a_fix_in_between_does_not_hide_a_journey(worker, town):
    """The three visits pushed together are applied as one run, on the track prefetched for it."""
    _, near_child = make_home(worker, town.grids["a1"], HOME)
    _, far_child = make_home(worker, town.grids["a1"], FAR)
    start = now() - timedelta(hours=3)
    ids = [str(uuid.uuid4()) for _ in range(3)]
    visits = [(near_child, HOME, 0), (near_child, None, 5), (far_child, FAR, 10)]
    push_at(worker, [op("visit", "create", visit_id, {
        "child_id": child_id, "visited_at": iso(start + timedelta(minutes=minutes)),
        **({"lat": fix[0], "lon": fix[1], "accuracy_m": 10.0} if fix else {})})
        for visit_id, (child_id, fix, minutes) in zip(ids, visits)])
    assert [worker.get(f"/api/visits/{visit_id}").get_json()["flags"] for visit_id in ids] == [
        [], ["no_location"], ["impossible_travel"]]


def test_a_batch_after_a_stored_visit_without_a_fix_does_not_hide_a_journey(worker, town):
    """The track prefetched for a run reaches past a stored record without a fix at its edge."""
    _, near_child = make_home(worker, town.grids["a1"], HOME)
    _, far_child = make_home(worker, town.grids["a1"], FAR)
    start = now() - timedelta(hours=3)
    assert visit(worker, near_child, HOME, at=start)["flags"] == []
    assert visit(worker, near_child, None, at=start + timedelta(minutes=5))["flags"] == ["no_location"]
    ids = [str(uuid.uuid4()) for _ in range(2)]
    push_at(worker, [op("visit", "create", visit_id, {
        "child_id": far_child, "visited_at": iso(start + timedelta(minutes=minutes)),
        "lat": FAR[0], "lon": FAR[1], "accuracy_m": 10.0}) for visit_id, minutes in zip(ids, (10, 90))])
    assert [worker.get(f"/api/visits/{visit_id}").get_json()["flags"] for visit_id in ids] == [
        ["impossible_travel"], []]


def test_a_correction_does_not_hide_the_record_before_the_one_it_corrects(worker, town):
    """Correcting a visit at home into one 50 km away is still a journey from the visit before."""
    _, near_child = make_home(worker, town.grids["a1"], HOME)
    start = now() - timedelta(hours=3)
    assert visit(worker, near_child, HOME, at=start)["flags"] == []
    corrected = visit(worker, near_child, HOME, at=start + timedelta(minutes=5))
    fixed_id = str(uuid.uuid4())
    push_at(worker, [op("visit", "create", fixed_id, {
        "child_id": near_child, "visited_at": iso(start + timedelta(minutes=10)), "lat": FAR[0],
        "lon": FAR[1], "accuracy_m": 10.0, "amends": corrected["id"], "amend_reason": "补记定位"})])
    assert worker.get(f"/api/visits/{fixed_id}").get_json()["flags"] == [
        "impossible_travel", "location_mismatch"]


def test_an_inspection_without_a_fix_in_between_does_not_hide_a_journey(app, town, login, worker):
    """A town admin inspects a venue at HOME, inspects again without a fix, then visits 50 km away."""
    _place_venue(app, town.venues["a"], HOME)
    _, far_child = make_home(worker, town.grids["a1"], FAR)
    admin = login("admin", device_id="phone-trust-admin-01")
    start = now() - timedelta(hours=3)
    assert inspect(admin, town.venues["a"], HOME, at=start)["flags"] == []
    assert inspect(admin, town.venues["a"], None, at=start + timedelta(minutes=5))["flags"] == [
        "no_location"]
    assert visit(admin, far_child, FAR, at=start + timedelta(minutes=10))["flags"] == [
        "impossible_travel"]


def test_a_correction_is_not_a_journey_from_the_record_it_corrects(worker, home):
    """Correcting a fix taken 30 km off (a stale GPS reading) a minute later is not impossible travel."""
    _, child_id = home
    wrong_at = now() - timedelta(hours=2)
    wrong = visit(worker, child_id, offset(HOME, 30_000, bearing=90), at=wrong_at)
    assert wrong["flags"] == ["location_mismatch"]
    fixed_id = str(uuid.uuid4())
    push_at(worker, [op("visit", "create", fixed_id, {
        "child_id": child_id, "visited_at": iso(wrong_at + timedelta(minutes=1)), "lat": HOME[0],
        "lon": HOME[1], "accuracy_m": 10.0, "amends": wrong["id"], "amend_reason": "定位漂移，重新定位"})])
    fixed = worker.get(f"/api/visits/{fixed_id}").get_json()
    assert (fixed["amends"], fixed["flags"], fixed["distance_m"]) == (wrong["id"], [], 0.0)
    # Another record as close in time is still a journey.
    assert visit(worker, child_id, offset(HOME, 30_000, bearing=90),
                 at=wrong_at + timedelta(minutes=2))["flags"] == ["impossible_travel", "location_mismatch"]


def test_a_visit_replaced_by_a_correction_is_no_neighbour_of_later_records(worker, home):
    """Once corrected, a stale fix 30 km off is not where the worker was: visits minutes before
    it, alone or as a run in one batch, are not impossible travel."""
    _, child_id = home
    wrong_at = now() - timedelta(hours=2)
    wrong = visit(worker, child_id, offset(HOME, 30_000, bearing=90), at=wrong_at)
    push_at(worker, [op("visit", "create", str(uuid.uuid4()), {
        "child_id": child_id, "visited_at": iso(wrong_at + timedelta(minutes=1)), "lat": HOME[0],
        "lon": HOME[1], "accuracy_m": 10.0, "amends": wrong["id"], "amend_reason": "定位漂移，重新定位"})])
    assert visit(worker, child_id, HOME, at=wrong_at - timedelta(minutes=3))["flags"] == []
    run = [str(uuid.uuid4()) for _ in range(2)]
    push_at(worker, [op("visit", "create", visit_id, {
        "child_id": child_id, "visited_at": iso(wrong_at - timedelta(minutes=minutes)),
        "lat": HOME[0], "lon": HOME[1], "accuracy_m": 10.0}) for visit_id, minutes in zip(run, (2, 4))])
    assert [worker.get(f"/api/visits/{visit_id}").get_json()["flags"] for visit_id in run] == [[], []]


@pytest.mark.parametrize("far_id", ["00000000-0000-4000-8000-000000000000",
                                    "ffffffff-ffff-4fff-bfff-ffffffffffff"])
def test_every_record_made_at_the_nearest_moment_is_a_neighbour(worker, town, far_id):
    """Two visits recorded at one moment, at home and 100 km off: a visit at home half an hour later
    is checked against both, whichever id sorts first (a run and the same ops one by one had
    disagreed on such a tie, the id deciding which one was looked at)."""
    far = offset(HOME, 100_000, bearing=90)
    _, near_child = make_home(worker, town.grids["a1"], HOME)
    _, far_child = make_home(worker, town.grids["a1"], far)
    at = now() - timedelta(hours=3)
    near_id = "77777777-7777-4777-8777-777777777777"
    assert visit(worker, near_child, HOME, at=at, visit_id=near_id)["flags"] == []
    assert visit(worker, far_child, far, at=at, visit_id=far_id)["flags"] == ["impossible_travel"]
    assert visit(worker, near_child, HOME, at=at + timedelta(minutes=30))["flags"] == ["impossible_travel"]


def test_travel_is_per_worker(town, login, worker):
    """Another worker's visit far away at the same time is not this worker's travel."""
    far = offset(HOME, 30_000, bearing=90)
    _, near_child = make_home(worker, town.grids["a1"], HOME)
    _, far_child = make_home(worker, town.grids["a1"], far)
    head = login("head_a", device_id="phone-trust-head-a")
    at = now() - timedelta(hours=2)
    assert visit(worker, near_child, HOME, at=at)["flags"] == []
    assert visit(head, far_child, far, at=at + timedelta(minutes=10))["flags"] == []


def test_gcj02_fix_is_converted_before_it_is_checked(worker, home):
    shifted = wgs84_to_gcj02(*HOME)
    assert 300 < distance_m(HOME, shifted) < 800
    converted = visit(worker, home[1], shifted, coord_system="gcj02",
                      at=now() - timedelta(hours=3))
    assert converted["flags"] == []
    assert converted["distance_m"] < 3
    assert distance_m(HOME, (converted["lat"], converted["lon"])) < 3
    raw = visit(worker, home[1], shifted, coord_system="wgs84", at=now() - timedelta(hours=1))
    assert raw["flags"] == ["location_mismatch"]
    assert raw["distance_m"] == pytest.approx(distance_m(HOME, shifted), abs=0.5)
    assert (raw["lat"], raw["lon"]) == (pytest.approx(shifted[0], abs=1e-7),
                                        pytest.approx(shifted[1], abs=1e-7))


def test_bd09_fix_is_converted_before_it_is_checked(worker, home):
    baidu = gcj02_to_bd09(*wgs84_to_gcj02(*HOME))
    assert 500 < distance_m(HOME, baidu) < 1500
    converted = visit(worker, home[1], baidu, coord_system="bd09", at=now() - timedelta(hours=3))
    assert converted["flags"] == []
    assert converted["distance_m"] < 3
    assert distance_m(HOME, (converted["lat"], converted["lon"])) < 3
    raw = visit(worker, home[1], baidu, at=now() - timedelta(hours=1))
    assert raw["flags"] == ["location_mismatch"]
    assert raw["distance_m"] == pytest.approx(distance_m(HOME, baidu), abs=0.5)


def test_household_and_venue_locations_from_web_maps_are_stored_in_wgs84(app, worker, town, login):
    household_id, venue_id = str(uuid.uuid4()), str(uuid.uuid4())
    gcj, baidu = wgs84_to_gcj02(*HOME), gcj02_to_bd09(*wgs84_to_gcj02(*HOME))
    push_at(worker, [op("household", "create", household_id, {
        "grid_id": town.grids["a1"], "address": "槐花巷2号", "lat": gcj[0], "lon": gcj[1],
        "coord_system": "gcj02"})])
    inspector = login("inspector", device_id=INSPECTOR_DEVICE)
    push_at(inspector, [op("venue", "create", venue_id, {
        "village_id": town.villages["a"], "type": "hotel", "name": "地图宾馆", "lat": baidu[0], "lon": baidu[1],
        "coord_system": "bd09"})])
    with app.app_context():
        stored = {"household": db.session.get(Household, household_id).location,
                  "venue": (lambda v: {"lat": v.lat, "lon": v.lon})(db.session.get(Venue, venue_id))}
    for place in stored.values():
        assert distance_m(HOME, (place["lat"], place["lon"])) < 3
    # An edit in WGS-84 (the default) is stored as given; the village head moves a venue placed.
    moved = offset(HOME, 100)
    push_at(login("head_a", device_id="phone-trust-head-a"),
            [op("venue", "update", venue_id, {"lat": moved[0], "lon": moved[1]}, base_version=1)])
    with app.app_context():
        venue = db.session.get(Venue, venue_id)
        assert (venue.lat, venue.lon) == moved


def _household_locations(app, household_id):
    with app.app_context():
        household = db.session.get(Household, household_id)
        return household.location, household.proposed_location


def test_household_without_location_gets_a_proposal_from_an_accurate_first_visit(
        app, worker, town):
    household_id, child_id = make_home(worker, town.grids["a1"], point=None)
    fix = offset(HOME, 10)
    body = visit(worker, child_id, fix, accuracy=30)
    assert (body["flags"], body["distance_m"]) == ([], None)
    assert _household_locations(app, household_id) == (
        None, {"lat": round(fix[0], 7), "lon": round(fix[1], 7), "accuracy_m": 30.0,
               "visit_id": body["id"], "worker_id": body["worker_id"],
               "visited_at": datetime.fromisoformat(body["visited_at"]).astimezone(UTC).isoformat()})
    later = visit(worker, child_id, offset(HOME, 500), accuracy=5,
                  at=now() - timedelta(minutes=1))
    assert later["flags"] == []
    assert _household_locations(app, household_id)[1]["lat"] == round(fix[0], 7)


@pytest.mark.parametrize("accuracy", [80, 0])
def test_household_without_location_gets_no_proposal_from_a_vague_or_made_up_fix(app, worker, town, accuracy):
    """80 m is too vague; 0 m is no phone's fix but a location-faking app's. The visit is kept either way."""
    household_id, child_id = make_home(worker, town.grids["a1"], point=None)
    body = visit(worker, child_id, offset(HOME, 10), accuracy=accuracy)
    assert (body["flags"], body["distance_m"], body["accuracy_m"]) == ([], None, accuracy)
    assert _household_locations(app, household_id) == (None, None)


def test_household_with_a_location_gets_no_proposal(app, worker, home):
    visit(worker, home[1], offset(HOME, 20), accuracy=5)
    assert _household_locations(app, home[0]) == (
        {"lat": HOME[0], "lon": HOME[1]}, None)


# --- inspections: checked against the venue's own lat/lon -----------------------------------

def _place_venue(app, venue_id, point):
    with app.app_context():
        venue = db.session.get(Venue, venue_id)
        venue.lat, venue.lon = point
        db.session.commit()


def inspect(api, venue_id, fix, accuracy=10.0, at=None):
    inspection_id = str(uuid.uuid4())
    data = {"venue_id": venue_id, "inspected_at": iso(at or now() - timedelta(minutes=5)),
            "answers": [{"item": "verify_identity", "result": "pass"}]}
    if fix is not None:
        data.update(lat=fix[0], lon=fix[1], accuracy_m=accuracy)
    push_at(api, [op("inspection", "create", inspection_id, data)])
    response = api.get(f"/api/inspections/{inspection_id}")
    assert response.status_code == 200
    return response.get_json()


def test_inspection_location_is_checked_against_the_venue(app, town, login):
    _place_venue(app, town.venues["a"], HOME)
    api = login("inspector", device_id=INSPECTOR_DEVICE)
    near = inspect(api, town.venues["a"], offset(HOME, 150), at=now() - timedelta(hours=5))
    assert (near["flags"], near["distance_m"]) == ([], pytest.approx(150, abs=0.5))
    far = inspect(api, town.venues["a"], offset(HOME, 2000), at=now() - timedelta(hours=3))
    assert (far["flags"], far["distance_m"]) == (["location_mismatch"],
                                                 pytest.approx(2000, abs=0.5))
    blind = inspect(api, town.venues["a"], None, at=now() - timedelta(hours=1))
    assert (blind["flags"], blind["distance_m"]) == (["no_location"], None)


def test_inspection_of_a_venue_without_location_has_no_distance(town, login):
    api = login("inspector", device_id=INSPECTOR_DEVICE)
    body = inspect(api, town.venues["b"], HOME)
    assert (body["flags"], body["distance_m"]) == ([], None)


def test_inspection_then_visit_far_away_is_impossible_travel(app, town, login, worker, home):
    """Travel counts inspections and visits by one person alike (a head who inspects)."""
    _place_venue(app, town.venues["a"], offset(HOME, 30_000, bearing=270))
    admin = login("admin", device_id="phone-trust-admin-01")
    at = now() - timedelta(hours=2)
    assert inspect(admin, town.venues["a"], offset(HOME, 30_000, bearing=270), at=at)["flags"] == []
    assert visit(admin, home[1], HOME, at=at + timedelta(minutes=10))["flags"] == [
        "impossible_travel"]


def test_the_travel_track_reads_index_ranges_not_a_workers_whole_history(app, engine_name):
    """Each push batch and each visit reads the worker's track: with one OR of the span and its
    two neighbours SQLite walked every record the worker ever made; each branch must be a range,
    also in the second lookup of a side with nothing near the span."""
    if engine_name != "sqlite":
        pytest.skip("the plan asserted is SQLite's")
    with app.app_context():
        for model in (Visit, Inspection):
            for parts, searches in ((trust.WINDOW, 5), (("before",), 2), (("after",), 2),
                                    (("before", "after"), 4)):
                compiled = trust._window_query(model, parts).compile(db.engine)
                at = datetime(2026, 11, 1, tzinfo=UTC)
                params = compiled.construct_params({"worker": "w", "start": at, "end": at, "replaces": "",
                                                    "since": at - trust.NEAR, "until": at + trust.NEAR})
                values = [params[name] for name in compiled.positiontup]
                plan = [row[3] for row in db.session.connection().exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {compiled}", tuple(str(v) for v in values))]
                index = f"ix_{model.__tablename__}_{'worker' if model is Visit else 'inspector'}_id"
                reads = [step for step in plan if step.startswith(f"SEARCH {model.__tablename__} ")]
                # The span, each neighbour and the lookup under each: five for the whole window.
                assert len(reads) == searches, plan
                assert all(index in step and ("<" in step or ">" in step or "at=?" in step)
                           for step in reads), plan
