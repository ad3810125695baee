"""Web-map coordinates back to WGS-84, in China, at the edge of the region the maps shift, and beyond."""
import pytest

from server.services.geo import distance_m, gcj02_to_wgs84, to_wgs84, wgs84_to_gcj02
from tests.services.test_trust import gcj02_to_bd09

POINTS = {
    "Changsha county": (28.2458, 113.0824),
    "Mohe, shifted out of the region": (53.549, 122.5),
    "Pamir edge": (39.3, 73.67),
    "Tokyo, never shifted": (35.68, 139.69),
}


@pytest.mark.parametrize("name", POINTS)
def test_a_point_from_a_web_map_comes_back_where_it_was_taken(name):
    point = POINTS[name]
    gcj = wgs84_to_gcj02(*point)
    assert distance_m(point, gcj02_to_wgs84(*gcj)) < 0.5
    assert distance_m(point, to_wgs84(*gcj02_to_bd09(*gcj), "bd09")) < 0.5


def test_the_edge_point_is_shifted_out_of_the_region_by_the_map():
    gcj = wgs84_to_gcj02(*POINTS["Mohe, shifted out of the region"])
    assert gcj[0] > 53.55 and distance_m(POINTS["Mohe, shifted out of the region"], gcj) > 500
