"""Visits that show signs of abuse with no clue (强制报告) filed from them: the to-do's safety net
for a prompt to report that the worker put off (稍后)."""
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import exists, func, select

from ..extensions import db
from ..models import Child, Clue, Visit, stands
from . import risk, scope

REPORTED_BEFORE = timedelta(days=1)


class Unreported(NamedTuple):
    """A standing visit of the worker's whose answers show signs of abuse, and the signs; its village
    only while the visit is in the worker's scope."""

    id: str
    child_id: str | None
    village_id: str | None
    visited_at: datetime
    signs: list[str]


def unreported_visits(actor) -> list[Unreported]:
    """Return the caller's own standing visits that show signs of abuse and that no standing clue
    reports: one naming the visit or a visit it corrects (a correction is the same visit, reported
    once), or one about its child filed since the day before it; oldest first.

    Wherever the child lives now: the one who saw the signs owes the report, and a move of the child
    out of her grids (its visits go along) must not take the reminder away, nor tell her where to.
    """
    if not scope.can_read(actor, Visit):
        return []
    named = exists().where(Clue.source_visit_id == Visit.id, *stands(Clue))
    query = select(Visit.id, Visit.amends_id, Visit.answers_ct, Visit.child_id, Visit.village_id,
                   Visit.grid_id, Visit.visited_at, Visit.counted_at).where(
        Visit.worker_id == actor.id, *stands(Visit), ~named)
    rows = db.session.execute(query.order_by(Visit.visited_at, Visit.id)).all()
    categories = dict(db.session.execute(select(Child.id, Child.categories).where(
        Child.id.in_({r.child_id for r in rows if r.child_id}))).all()) if rows else {}
    shown = []
    # Answers are sealed, so the signs are read here, not matched in SQL.
    for row in rows:
        signs = risk.abuse_signs(Visit.answers.open(Visit.__tablename__, row.id, row.answers_ct),
                                 categories.get(row.child_id))
        if signs:
            shown.append((row, signs))
    reported = _reported_through_corrections({row.id: row.amends_id for row, _ in shown}) \
        | _reported_about_the_child(actor, [row for row, _ in shown])
    return [Unreported(row.id, row.child_id,
                       row.village_id if scope.place_in_scope(actor, row.village_id, row.grid_id) else None,
                       row.visited_at, signs)
            for row, signs in shown if row.id not in reported]


def _reported_about_the_child(actor, rows: list) -> set[str]:
    """Of these visits, those a standing clue the worker filed about the same child that names no
    visit reports, filed since the day before the visit: clues filed before the phone linked them, or
    from the child's page. A clue linked to another visit reports that one. Another's clue about the
    child is about what they saw, and sealed: it neither reports the worker's signs nor shows here."""
    children = {r.child_id for r in rows if r.child_id}
    latest = dict(db.session.execute(select(Clue.child_id, func.max(Clue.created_at)).where(
        Clue.child_id.in_(children), Clue.reporter_id == actor.id, Clue.source_visit_id.is_(None),
        *stands(Clue))
        .group_by(Clue.child_id)).all()) if children else {}
    return {r.id for r in rows if r.child_id in latest and latest[r.child_id] >= r.counted_at - REPORTED_BEFORE}


def _reported_through_corrections(amends: dict[str, str | None]) -> set[str]:
    """Of these visits (id: the visit it corrects), those a standing clue reports through a visit
    earlier in their chain of corrections."""
    parent = dict(amends)
    frontier = {a for a in parent.values() if a}
    while frontier:
        rows = db.session.execute(select(Visit.id, Visit.amends_id).where(Visit.id.in_(frontier))).all()
        parent.update({r.id: r.amends_id for r in rows})
        frontier = {r.amends_id for r in rows if r.amends_id and r.amends_id not in parent}
    earlier = set(parent) - set(amends)
    named = set(db.session.scalars(select(Clue.source_visit_id).where(
        Clue.source_visit_id.in_(earlier), *stands(Clue)))) if earlier else set()
    reported = set()
    for visit_id in amends:
        current, seen = parent.get(visit_id), {visit_id}
        while current and current not in seen:
            if current in named:
                reported.add(visit_id)
                break
            seen.add(current)
            current = parent.get(current)
    return reported
