"""Bring a stored "last visit" or "last inspection" back in line with the facts that stand.

A child's last visit and a venue's last inspection are stored as the latest counted time of their
standing facts, kept as each fact arrives. Rows written before migration 0016 counted a visit dated
ahead by a wrong phone clock at that time, so the child's schedule stayed a year out and no one was
told to visit. `make run` runs this at each start: it finds only the records whose stored time
differs from their facts, and sets each as an audited edit of the system's, so phones pull it.
"""
from sqlalchemy import func, select

from ..extensions import db
from ..models import Child, Inspection, Venue, Visit
from ..models.facts import stands
from . import changes, inspections, risk
from .writes import assign, save_record


def _latest_counted(model, owner_column):
    return select(owner_column, func.max(model.counted_at).label("latest")) \
        .where(*stands(model)).group_by(owner_column).subquery()


def _differing(record_model, stored, fact_model, owner_column) -> list[str]:
    latest = _latest_counted(fact_model, owner_column)
    rows = db.session.execute(
        select(record_model.id, stored, latest.c.latest)
        .outerjoin(latest, latest.c[owner_column.key] == record_model.id)
        .where(record_model.deleted_at.is_(None))).all()
    return [row.id for row in rows if row[1] != row.latest]


def _set_each(model, ids: list[str], set_from_facts) -> int:
    db.session.commit()
    done = 0
    for record_id in ids:
        # One record a transaction, read under the writers' lock: a fact arriving at the same moment
        # is seen, not overwritten.
        changes.lock_writers()
        done += set_from_facts(db.session.get(model, record_id, populate_existing=True))
        db.session.commit()
    return done


def _set_last_inspection(venue: Venue) -> bool:
    changed = assign(venue, {"last_inspected_at": inspections.last_inspected_at(venue.id)})
    if changed:
        save_record(None, "venue", venue, "update", changed)
    return bool(changed)


def recount_last_visits() -> int:
    """Set each child's last visit, assessment and schedule from its latest standing visit where the
    stored last visit differs; return how many children changed."""
    return _set_each(Child, _differing(Child, Child.last_visit_at, Visit, Visit.child_id),
                     lambda child: risk.retake_last_visit(None, child))


def work_out_follow_ups() -> int:
    """Set the follow-ups of each child who has none worked out yet (stored before migration 0020)
    from its latest standing visit; return how many children changed."""
    ids = list(db.session.scalars(select(Child.id).where(Child.follow_ups.is_(None),
                                                         Child.deleted_at.is_(None))))
    return _set_each(Child, ids, _set_follow_ups)


def _set_follow_ups(child: Child) -> bool:
    if child.follow_ups is not None:  # worked out meanwhile, by a visit
        return False
    latest = risk.latest_visit(child.id)
    changed = assign(child, {"follow_ups": risk.follow_ups_of(latest.answers if latest else None,
                                                                 child.categories)})
    save_record(None, "child", child, "update", changed)
    return True


def recount_last_inspections() -> int:
    """Set each venue's last inspection from its latest standing inspection where the stored one
    differs; return how many venues changed."""
    return _set_each(Venue, _differing(Venue, Venue.last_inspected_at, Inspection, Inspection.venue_id),
                     _set_last_inspection)
