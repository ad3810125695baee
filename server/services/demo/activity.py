"""A month of invented field work in the demo town, so every screen of the demo has something on it.

Each record goes through the services a phone's push or a click goes through (schemas, trust
flags, risk levels, schedules, plan drafts, audit), at the moment it would have reached the
server (`replaying_at`). Visits and inspections are planned first, from the generated town and
its own seeded random numbers; what they lead to (a plan draft approved two days later, its first
progress a week after that) is queued behind them, and everything is then applied in time order.
"""
from __future__ import annotations

import heapq
import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from ...extensions import db
from ...models import Plan, User, replaying_at
from ...schemas import casework as cs
from .. import batching, casework, checklists, clues, inspections, plans, schedule, visits
from .families import KM_PER_DEG_LAT, offset_point
from .generate import DemoTown
from .identity import new_id

DAYS = 30
VISIT_NOTES = (
    "监护人在家，孩子状态良好，已讲解防性侵知识。",
    "孩子在做作业，祖父母身体尚可，家中整洁。",
    "与监护人交流孩子近期在校情况，无异常。",
    "提醒监护人留意孩子上网情况，约定下次走访时间。",
    "孩子情绪低落，已与班主任沟通，需持续关注。",
)
CLUE_DESCRIPTION = "走访发现孩子手臂有多处淤青，孩子称是被邻居成年男子拉扯所致，情绪紧张。"
PROGRESS_NOTE = "已上门谈心，联系学校心理老师跟进，监护人同意每周电话反馈。"
MISPLACED_VISITS = 3  # fixes a kilometre and more from home: the village heads' review queue
UNLOCATED_VISITS = 2  # no GPS fix at all
FAIL_SHARE = 0.12
SYNC_EVERY_DAYS = 3
APPROVED_SHARE = 0.9  # the rest of the drafts wait for the village head


@dataclass(order=True)
class _Job:
    at: datetime
    order: int
    kind: str = field(compare=False)
    args: tuple = field(compare=False)


class _Replay:
    """The queue of what happens, in time order, and what each kind of job does."""

    def __init__(self, rng: random.Random, town: DemoTown, now: datetime):
        self.rng, self.now, self.jobs, self.counter = rng, now, [], itertools.count()
        self.users = {u.username: u for u in db.session.scalars(select(User))}
        self.heads = {spec["village_id"]: self.users[spec["username"]] for spec in town.users
                      if spec["role"] == "village_head"}
        self.followed: set[str] = set()
        self.clue_filed = False

    def push(self, at: datetime, kind: str, *args) -> None:
        if at < self.now:  # what would happen later has not happened yet
            heapq.heappush(self.jobs, _Job(at, next(self.counter), kind, args))

    def run(self) -> None:
        while self.jobs:
            job = heapq.heappop(self.jobs)
            with replaying_at(job.at):
                getattr(self, job.kind)(job.at, *job.args)

    def round(self, at: datetime, worker_name: str, data: list[dict]) -> None:
        """One sync of a worker's phone: the visits since the last, applied as a push applies them."""
        worker, schema = self.users[worker_name], cs.VisitCreateSchema()
        items = [schema.load(item) for item in data]
        with batching.run():
            visits.prefetch_visits(worker, items)
            made = [visits.record_visit(worker, item) for item in items]
        for plan_id in _drafts(made, self.followed):
            if self.rng.random() < APPROVED_SHARE:
                # Approved two days on; the first progress a week after that.
                self.push(at + timedelta(days=2, hours=1), "approve", plan_id, self.heads[worker.village_id])
                self.push(at + timedelta(days=9, hours=3), "progress", plan_id, worker)
        hurt = [visit for visit in made if (visit.answers or {}).get("injury_signs")]
        if hurt and not self.clue_filed:
            self.clue_filed = True
            self.push(at + timedelta(minutes=10), "clue", worker, hurt[0])

    def operation(self, at: datetime, inspector_name: str, data: dict) -> None:
        inspector = self.users[inspector_name]
        members = [self.users[name].id for name in data.pop("members")]
        casework.create_operation(inspector, cs.OperationCreateSchema().load({**data, "member_ids": members}))

    def inspection(self, at: datetime, inspector_name: str, data: dict) -> None:
        inspections.record_inspection(self.users[inspector_name], cs.InspectionCreateSchema().load(data))

    def approve(self, at: datetime, plan_id: str, head: User) -> None:
        plans.approve_plan(head, plan_id)

    def progress(self, at: datetime, plan_id: str, helper: User) -> None:
        plans.add_progress(helper, cs.ProgressCreateSchema().load(
            {"plan_id": plan_id, "at": at.isoformat(), "note": PROGRESS_NOTE}))

    def clue(self, at: datetime, worker: User, visit) -> None:
        clues.file_clue(worker, cs.ClueCreateSchema().load(_clue(visit)))


def record_demo_activity(town: DemoTown, seed: int, now: datetime) -> None:
    """Record the past month's visits, inspections, plans and a clue, each at its moment."""
    replay = _Replay(random.Random(seed * 7919 + 17), town, now)
    for at, kind, args in _visits(replay.rng, town, now) + _inspections(replay.rng, town, now):
        replay.push(at, kind, *args)
    replay.run()


def _drafts(visits: list, followed: set[str]) -> list[str]:
    """The plan drafts a sync's visits led to."""
    drafts = db.session.scalars(select(Plan.id).where(
        Plan.child_id.in_({visit.child_id for visit in visits}), Plan.status == "draft")).all()
    found = [plan_id for plan_id in drafts if plan_id not in followed]
    followed.update(found)
    return found


def _clue(visit) -> dict:
    return {"child_id": visit.child_id, "source_visit_id": visit.id,
            "happened_at": (visit.visited_at - timedelta(days=3)).isoformat(),
            "description": CLUE_DESCRIPTION}


def _working_moment(day: datetime, minutes: int) -> datetime:
    start = datetime.combine(day.date(), time(9), schedule.local_zone())
    return start.astimezone(UTC) + timedelta(minutes=minutes)


def _visits(rng: random.Random, town: DemoTown, now: datetime) -> list[tuple]:
    households = {h["id"]: h for h in town.households}
    villages = {v["id"]: v for v in town.villages}
    by_grid: dict[str, list[dict]] = {}
    for child in town.children:
        if child["status"] == "active":
            by_grid.setdefault(child["grid_id"], []).append(child)
    today = now.astimezone(schedule.local_zone())
    rounds = []
    for spec in sorted(town.users, key=lambda u: u["username"]):
        if spec["role"] != "grid_worker":
            continue
        name = spec["username"]
        days: dict[int, list[dict]] = {}
        for grid_id in spec["grid_ids"]:
            for child in by_grid.get(grid_id, []):
                for ago in _visit_days(rng, child["risk_level"]):
                    days.setdefault(ago, []).append(child)
        offset, syncs = rng.randrange(SYNC_EVERY_DAYS), {}
        for ago, children in sorted(days.items(), reverse=True):
            minutes, visits = rng.randint(0, 40), syncs.setdefault((ago + offset) // SYNC_EVERY_DAYS, [])
            for child in children:
                at = _working_moment(today - timedelta(days=ago), minutes)
                minutes += rng.randint(25, 50)
                household = households[child["household_id"]]
                visits.append({"child_id": child["id"], "visited_at": at.isoformat(), "template_version": 1,
                               "answers": _answers(rng, child, household), "notes": rng.choice(VISIT_NOTES),
                               "follow_up": child["risk_level"] == "high",
                               **_fix(rng, household, villages[child["village_id"]])})
        for visits in syncs.values():
            # The phone syncs once it has signal again, that evening or after.
            synced = datetime.fromisoformat(visits[-1]["visited_at"]) + timedelta(minutes=rng.randint(30, 240))
            rounds.append((min(synced, now - timedelta(minutes=5)), "round", (name, visits)))
    located = {c["id"] for c in town.children if households[c["household_id"]]["lat"] is not None}
    every = [data for _, _, (_, visits) in rounds for data in visits if data["child_id"] in located]
    odd = rng.sample(every, MISPLACED_VISITS + UNLOCATED_VISITS)
    for data in odd[:MISPLACED_VISITS]:
        data["lat"] = round(data["lat"] + 1.4 / KM_PER_DEG_LAT, 6)
    for data in odd[MISPLACED_VISITS:]:
        for key in ("lat", "lon", "accuracy_m"):
            del data[key]
    return rounds


def _visit_days(rng: random.Random, level: str) -> list[int]:
    # Days ago: high-risk children twice this month, the rest as the schedule and the worker's
    # time allow, so some are due and some overdue.
    if level == "high":
        return [rng.randint(2, 12), rng.randint(16, DAYS - 2)]
    if level == "medium":
        return [rng.randint(1, DAYS)] if rng.random() < 0.75 else []
    return [rng.randint(1, DAYS)] if rng.random() < 0.4 else []


def _fix(rng: random.Random, household: dict, village: dict) -> dict:
    if household["lat"] is None:  # a home not yet on the map: an accurate fix proposes one
        lat, lon = offset_point(rng, village["lat"], village["lon"], 1.5)
        return {"lat": lat, "lon": lon, "accuracy_m": float(rng.randint(10, 40))}
    metres = rng.uniform(0, 25)
    angle = rng.uniform(0, 2 * math.pi)
    lat = household["lat"] + metres * math.cos(angle) / 1000 / KM_PER_DEG_LAT
    lon = household["lon"] + metres * math.sin(angle) / 1000 / (
        KM_PER_DEG_LAT * math.cos(math.radians(household["lat"])))
    return {"lat": round(lat, 6), "lon": round(lon, 6), "accuracy_m": float(rng.randint(5, 30))}


def _answers(rng: random.Random, child: dict, household: dict) -> dict:
    """Answers that say what the child's generated level and reasons say, in the rules' terms."""
    reasons, level = set(child["risk_reasons"]), child["risk_level"]
    left_behind = household["family_type"] == "left_behind"
    answers = {"guardian_present": not (left_behind and "guardian_away" in reasons and rng.random() < 0.3),
               "in_school": "dropped_out" not in reasons, "injury_signs": "injury_signs" in reasons,
               "emotional_change": False, "unknown_adult_contact": False,
               "online_risk": "online_risk" in reasons, "ran_away": False,
               "domestic_violence_alcohol": "domestic_violence_alcohol" in reasons,
               "safe_housing": True, "prevention_education": rng.random() < 0.8}
    if left_behind:
        answers["guardian_away_months"] = rng.randint(14, 36) if level != "low" else rng.randint(2, 10)
        answers["entrusted_guardian_ok"] = "neglect" not in reasons
    if level == "high" and not answers["injury_signs"]:
        answers.update(emotional_change=True, ran_away=rng.random() < 0.5,
                       unknown_adult_contact=rng.random() < 0.3, online_risk=True)
    elif level == "medium" and not (answers["online_risk"] or answers["domestic_violence_alcohol"]):
        answers["emotional_change"] = True
    if level != "low":
        needs = [n for n, why in (("psychological", True), ("schooling", not answers["in_school"]),
                                  ("living", "economic_hardship" in reasons)) if why]
        answers["needs"] = needs
    return answers


def _inspections(rng: random.Random, town: DemoTown, now: datetime) -> list[tuple]:
    """This month's joint action and last month's: the inspectors check some of the town's venues;
    about one item in eight fails, with the deadline its severity gives."""
    inspectors = sorted(u["username"] for u in town.users if u["role"] == "inspector")
    venues = [v for v in town.venues if v["status"] == "open"]
    rng.shuffle(venues)
    today = now.astimezone(schedule.local_zone())
    planned, busy, months = [], {}, {}
    for n, venue in enumerate(venues[: 2 * len(venues) // 3]):
        inspector = inspectors[n % len(inspectors)]
        ago = rng.randint(1, min(today.day - 1, 10)) if today.day > 1 and n % 2 == 0 \
            else today.day + rng.randint(3, 20)
        # One inspector's venues of a day an hour and more apart: the town is wide.
        minutes = busy[(inspector, ago)] = busy.get((inspector, ago), -60) + rng.randint(60, 90)
        at = _working_moment(today - timedelta(days=ago), minutes)
        month = months.setdefault((at.year, at.month), {"id": new_id(rng), "first": at})
        month["first"] = min(month["first"], at)
        data = {"venue_id": venue["id"], "operation_id": month["id"], "inspected_at": at.isoformat(),
                "answers": _inspection_answers(rng, venue)}
        if venue["lat"] is not None:
            data.update(lat=round(venue["lat"] + rng.uniform(-1e-4, 1e-4), 6), lon=venue["lon"],
                        accuracy_m=15.0)
        planned.append((at + timedelta(minutes=rng.randint(5, 60)), "inspection", (inspector, data)))
    lead = next(u["name"] for u in town.units if u["kind"] == "town_office")
    units = [u["name"] for u in town.units if u["kind"] in ("police", "market", "civil_affairs")]
    for month in months.values():
        operation = {"id": month["id"], "date": schedule.local_date(month["first"]).isoformat(),
                     "lead_unit": lead, "units": units, "members": inspectors,
                     "notes": "每月联合执法行动：宾馆、网吧、KTV、酒吧等场所落实未成年人保护规定情况。"}
        planned.append((month["first"] - timedelta(hours=1), "operation", (inspectors[0], operation)))
    return planned


def _inspection_answers(rng: random.Random, venue: dict) -> list[dict]:
    template = checklists.template_for_venue_type(venue["type"])
    answers = [{"item": item["key"], "result": "fail" if rng.random() < FAIL_SHARE else "pass"}
               for item in template["items"]]
    for answer in answers:
        if answer["result"] == "fail":
            answer["note"] = "现场检查发现未落实，已责令限期整改。"
    return answers
