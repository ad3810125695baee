"""The server's own checks of a visit or inspection: where, when, and how fast the worker moved."""
import bisect
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, select, union_all

from ..config import settings
from ..extensions import db
from ..models import Inspection, Visit, stands
from . import batching
from .geo import distance_m, spherical_km


def location_flags(fix: dict | None, target: dict | None) -> tuple[list[str], float | None]:
    """Return (flags, distance in metres) of a GPS fix against the place it claims to be."""
    if not fix or fix.get("lat") is None:
        return ["no_location"], None
    if not target or target.get("lat") is None:
        return [], None
    distance = distance_m((fix["lat"], fix["lon"]), (target["lat"], target["lon"]))
    return (["location_mismatch"] if distance > _allowance_m(fix) else []), round(distance, 1)


def _allowance_m(fix: dict) -> float:
    """Return how far from the household or venue a fix may fall: TRUST_MIN_DISTANCE_M, or twice
    the accuracy the phone claims, counted up to TRUST_MAX_ACCURACY_M."""
    return max(settings()["TRUST_MIN_DISTANCE_M"], _error_m(fix))


def _error_m(fix: dict) -> float:
    # Twice the claimed accuracy: a fix falls that far from where it was taken; a claim past the
    # cap excuses nothing more.
    return 2 * min(fix.get("accuracy_m") or 0, settings()["TRUST_MAX_ACCURACY_M"])


def journey_slack_m(a: dict, b: dict) -> float:
    """Return how much of the distance between two fixes may be their error, not a journey: each
    fix's error as the location check allows it, or TRUST_MIN_DISTANCE_M for precise fixes (the
    floor once, for the pair: two precise fixes 300 m apart at one moment are two places)."""
    return max(settings()["TRUST_MIN_DISTANCE_M"], _error_m(a) + _error_m(b))


def clock_skewed(device_time: datetime | None, received_at: datetime) -> bool:
    """Say whether the device's clock, as it sent it, was off by more than TRUST_CLOCK_SKEW."""
    return device_time is not None and abs(device_time - received_at) > settings()["TRUST_CLOCK_SKEW"]


def time_flags(at: datetime, received_at: datetime, device_time: datetime | None,
               made: datetime | None = None) -> list[str]:
    """Flag a skewed device clock, a time in the future, and an entry made long after the fact.

    `made`: when the record was first received (`filing.made_no_later_than`); for a correction, when its
    original was. A correction of a visit entered on time is no late entry, and one dating the visit
    after the server first heard of it puts it in the future.
    """
    config, flags, made = settings(), [], made or received_at
    if clock_skewed(device_time, received_at):
        flags.append("clock_skew")
    if at - made > config["TRUST_CLOCK_SKEW"]:
        flags.append("future_time")
    if made - at > config["TRUST_LATE_ENTRY"]:
        flags.append("late_entry")
    return flags


class Track:
    """One worker's visits and inspections by time: where the travel check finds neighbours.

    `window` loads every standing record with a fix in a span (a visit an amendment replaced is
    not where anyone was; one without a fix says nothing of where) and the nearest such one beyond
    each edge, so any moment inside the span finds its true neighbours; `around` is the span of one
    moment. Records of a run are added as they are made, so each op sees exactly what it would
    see applied alone.
    """

    # Each kind with the plain column that is null exactly when its record has no fix: a visit's
    # location is only stored encrypted, and its ciphertext is null when there is none.
    MODELS = ((Visit, Visit.worker_id, Visit.visited_at, Visit.location_ct),
              (Inspection, Inspection.inspector_id, Inspection.inspected_at, Inspection.lat))

    def __init__(self, start: datetime | None = None, end: datetime | None = None):
        self.start, self.end = start, end
        self.times: dict[type, list[tuple[datetime, str]]] = {Visit: [], Inspection: []}
        self.points: dict[str, dict | None] = {}

    @classmethod
    def around(cls, worker_id: str, at: datetime, replaces: str | None = None) -> "Track":
        """Load the worker's records at `at` and the nearest on each side but the one `replaces`."""
        return cls.window(worker_id, at, at, replaces)

    @classmethod
    def window(cls, worker_id: str, start: datetime, end: datetime,
               replaces: str | None = None) -> "Track":
        """Load the worker's records from `start` to `end` and the nearest beyond each edge."""
        track = cls(start, end)
        for model, *_ in cls.MODELS:
            track.times[model] = _window_rows(model, worker_id, start, end, replaces)
        track._sort()
        return track

    def _sort(self) -> None:
        for model in self.times:
            self.times[model] = sorted(set(self.times[model]))

    def covers(self, at: datetime) -> bool:
        """Say whether the nearest records on both sides of `at` are in this track."""
        return self.start is not None and self.start <= at <= self.end

    def add(self, model: type, at: datetime, record_id: str, point: dict | None) -> None:
        """Take in a record made in this run, with its point."""
        bisect.insort(self.times[model], (at, record_id))
        self.points[record_id] = point

    def neighbours(self, at: datetime, skip: set[str]) -> list[tuple[datetime, dict]]:
        """Return the nearest records with a fix on each side of `at`, of each kind but `skip`: every
        one made at the nearest moment, since records made at one moment are all as near (which of
        them came first by id says nothing, and a run and its ops one by one must agree)."""
        found = []
        for model, times in self.times.items():
            for side in (_at_or_before(times, at), _at_or_after(times, at)):
                nearest = None
                for moment, record_id in side:
                    if nearest is not None and moment != nearest:
                        break
                    point = None if record_id in skip else self._point(model, record_id)
                    if point:
                        found.append((moment, point))
                        nearest = moment
        return found

    def _point(self, model: type, record_id: str) -> dict | None:
        if record_id not in self.points:
            self.points[record_id] = _point_of(db.session.get(model, record_id))
        return self.points[record_id]


# How far beyond each edge of a window the nearest record is looked for first.
NEAR = timedelta(days=2)
_EVER = (datetime(1800, 1, 1, tzinfo=UTC), datetime(2300, 1, 1, tzinfo=UTC))


def _window_rows(model: type, worker_id: str, start: datetime, end: datetime,
                 replaces: str | None) -> list[tuple[datetime, str]]:
    """Return (time, id) of the worker's records of `model` in the window and at the nearest moment
    beyond each edge. The nearest is looked for within NEAR of each edge first, then, for a side with
    none there, through the worker's whole history: a short index range whatever the planner's
    statistics (a new PostgreSQL database has none, and searched the whole history of both sides, 12 ms
    a batch late in the bench's push). Within NEAR the nearest found is the nearest of all."""
    params = {"worker": worker_id, "start": start, "end": end, "replaces": replaces or "",
              "since": start - NEAR, "until": end + NEAR}
    rows = [(t, i) for i, t in db.session.execute(_window_query(model, WINDOW), params)]
    missing = tuple(side for side, found in (("before", any(t < start for t, _ in rows)),
                                             ("after", any(t > end for t, _ in rows))) if not found)
    if missing:
        params.update(since=_EVER[0], until=_EVER[1])
        rows += [(t, i) for i, t in db.session.execute(_window_query(model, missing), params)]
    return rows


WINDOW = ("span", "before", "after")


@cache
def _window_query(model: type, parts: tuple[str, ...] = WINDOW):
    """The statement `Track.window` runs for one kind, built once (it is long to build and key): the
    records in the span, at the nearest moment before it (from `since`), after it (up to `until`)."""
    who, when, fix = {m: (w, t, f) for m, w, t, f in Track.MODELS}[model]
    worker, start, end = bindparam("worker"), bindparam("start"), bindparam("end")
    live = (*stands(model), fix.is_not(None))
    mine = select(model.id, when).where(who == worker, *live)
    # The record being replaced still stands: the neighbour past it is the true one.
    other = model.id != bindparam("replaces")
    # Nearest first by the (worker, time) index: the scan stops at the first record that counts.
    before = select(when).where(who == worker, when < start, when >= bindparam("since"), other, *live) \
        .order_by(when.desc()).limit(1).scalar_subquery()
    after = select(when).where(who == worker, when > end, when <= bindparam("until"), other, *live) \
        .order_by(when).limit(1).scalar_subquery()
    # Index ranges, not one OR of them: with the OR the planner walks every record of the worker,
    # and a worker's history only grows.
    ranges = {"span": mine.where(when >= start, when <= end), "before": mine.where(when == before),
              "after": mine.where(when == after)}
    return union_all(*(ranges[part] for part in parts))


def _at_or_before(times, at):
    """Yield the entries of `times` at or before `at`, nearest first."""
    index = bisect.bisect_right(times, (at, "\uffff"))
    while index > 0:
        index -= 1
        yield times[index]


def _at_or_after(times, at):
    """Yield the entries of `times` at or after `at`, nearest first."""
    index = bisect.bisect_left(times, (at, ""))
    while index < len(times):
        yield times[index]
        index += 1


def run_track(worker_id: str) -> Track | None:
    """Return the worker's track prefetched for the run in progress, if any."""
    run = batching.active()
    return None if run is None else run.tracks.get(worker_id)


def prefetch_track(worker_id: str, moments: list[datetime]) -> None:
    """Load the worker's track around a run's moments, once for the whole run."""
    run = batching.active()
    if run is not None and moments:
        run.tracks[worker_id] = Track.window(worker_id, min(moments), max(moments))


def _point_of(record) -> dict | None:
    if record is None:
        return None
    if isinstance(record, Visit):
        return record.location if record.location and record.location.get("lat") is not None else None
    return {"lat": record.lat, "lon": record.lon, "accuracy_m": record.accuracy_m} \
        if record.lat is not None else None


def travel_flags(worker_id: str, at: datetime, fix: dict | None, record_id: str,
                 track: Track | None = None, replaces: str | None = None) -> list[str]:
    """Flag two records by one worker that imply moving faster than the configured speed.

    A correction is not checked against the record it `replaces`: correcting a wrong fix or time
    is not a journey. Each fix counts as anywhere within its error of where it was taken
    (`journey_slack_m`): the journey is the shortest the two fixes allow, so two visits a minute
    apart whose fixes each place them at one home are not one.
    """
    if not fix or fix.get("lat") is None:
        return []
    limit_kmh = settings()["TRUST_MAX_SPEED_KMH"]
    if track is None or not track.covers(at):
        db.session.flush()
        track = Track.around(worker_id, at, replaces)
    for other_at, point in track.neighbours(at, {record_id, replaces} - {None}):
        hours = abs((at - other_at).total_seconds()) / 3600
        slack_km = journey_slack_m(fix, point) / 1000
        if not _may_exceed((fix["lat"], fix["lon"]), (point["lat"], point["lon"]), hours,
                           limit_kmh, slack_km):
            continue
        km = distance_m((fix["lat"], fix["lon"]), (point["lat"], point["lon"])) / 1000 - slack_km
        if km > 0 and (hours == 0 or km / hours > limit_kmh):
            return ["impossible_travel"]
    return []


def _may_exceed(a, b, hours: float, limit_kmh: float, slack_km: float) -> bool:
    # The sphere is within 0.6 % of the ellipsoid; only pairs that might flag get the geodesic.
    km = spherical_km(a, b) * 1.01 - slack_km
    return km > 0 and (hours == 0 or km / hours > limit_kmh)
