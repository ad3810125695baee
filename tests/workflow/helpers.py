"""Helpers of the ledger and workflow suites: visits near a household, the town's local day."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
HOME = {"a1": (29.1, 113.2), "a2": (29.11, 113.2), "b1": (29.12, 113.2)}


def today():
    """Return the town's date, worked out here rather than by the code under test."""
    return datetime.now(TZ).date()


def visit_body(child_id: str, key: str, answers: dict | None = None, hours_ago: float = 1,
               located: bool = True) -> dict:
    """Return a visit as the phone posts it, at the child's household unless `located` is False."""
    at = datetime.now(TZ) - timedelta(hours=hours_ago)
    body = {"child_id": child_id, "visited_at": at.isoformat(), "answers": answers or {}}
    if located:
        lat, lon = HOME[key]
        body.update(lat=lat, lon=lon, accuracy_m=10)
    return body


def post_visit(api, child_id: str, key: str, answers: dict | None = None, **kwargs) -> dict:
    """Record a visit through the REST endpoint and return its answer."""
    response = api.post("/api/visits", json=visit_body(child_id, key, answers, **kwargs))
    assert response.status_code == 201, response.get_json()
    return response.get_json()
