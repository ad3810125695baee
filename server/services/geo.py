"""Distances on the WGS-84 ellipsoid and conversion from Chinese web-map coordinates."""
import math

from geographiclib.geodesic import Geodesic
from geopy.distance import geodesic

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


_WGS84 = geodesic().ELLIPSOID  # geopy's WGS-84: (a km, b km, f)
_GEOD = Geodesic(_WGS84[0], _WGS84[2])
_MEAN_RADIUS_KM = 6371.0088


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the geodesic distance in metres between two (lat, lon) points in range.

    The geodesic geopy computes (its WGS-84, through geographiclib), asked for the distance
    only; the points come validated, so the parsing in `geodesic.measure` (a fifth of its
    time) is skipped.
    """
    return _GEOD.Inverse(a[0], a[1], b[0], b[1], Geodesic.DISTANCE)["s12"] * 1000


def spherical_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the great-circle distance in km on the mean sphere (within 0.6 % of the geodesic)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * _MEAN_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _outside_china(lat: float, lon: float) -> bool:
    return not (73.66 < lon < 135.05 and 3.86 < lat < 53.55)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _gcj02_shift(lat: float, lon: float) -> tuple[float, float]:
    """Return the (dlat, dlon) GCJ-02 adds to a WGS-84 point, as if it were in China."""
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return dlat, dlon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """Shift a WGS-84 point the way Chinese web maps (GCJ-02) do."""
    if _outside_china(lat, lon):
        return lat, lon
    dlat, dlon = _gcj02_shift(lat, lon)
    return lat + dlat, lon + dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """Invert GCJ-02 by fixed-point iteration (error well under a metre).

    Where the web map shifted the point is decided by the WGS-84 point it came from, not by the
    shifted one: near the edge of the region a point in China is shifted out of it, and one just
    outside, unshifted, lies where a shifted point from inside could have landed.
    """
    wlat, wlon = lat, lon
    for _ in range(10):
        dlat, dlon = _gcj02_shift(wlat, wlon)
        wlat, wlon = lat - dlat, lon - dlon
    return (lat, lon) if _outside_china(wlat, wlon) else (wlat, wlon)


def bd09_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """Convert Baidu's BD-09 to GCJ-02."""
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def to_wgs84(lat: float, lon: float, system: str = "wgs84") -> tuple[float, float]:
    """Return a point in WGS-84, converting from GCJ-02 or BD-09 when named."""
    if system == "gcj02":
        return gcj02_to_wgs84(lat, lon)
    if system == "bd09":
        return gcj02_to_wgs84(*bd09_to_gcj02(lat, lon))
    return lat, lon
