"""Bring a stored "last visit" or "last inspection" back in line with the facts that stand.

A child's last visit and a venue's last inspection are stored as the latest counted time of their
standing facts, kept as each fact arrives. Rows written before migration 0016 counted a visit dated
ahead by a wrong phone clock at that time, so the child's schedule stayed a year out and no one was
told to visit. `make run` runs this at each start: it finds only the records whose stored time
differs from their facts, and sets each as an audited edit of the system's, so phones pull it.
"""
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import Child, Counter, Inspection, Venue, Visit
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
    """Work out the follow-ups of each child stored before they were kept (migration 0020 left them
    NULL) from its standing visits, oldest first, as they are kept visit by visit. A child with none
    gets an empty list in one plain update, with the basis: NULL and [] say the same to everyone
    (the phone reads a missing list as empty), so there is no edit to audit or to pull. A child with
    some gets them as an audited edit of the system's, which phones pull. Return how many have some."""
    ids = list(db.session.scalars(select(Child.id).where(Child.follow_up_basis.is_(None),
                                                         Child.deleted_at.is_(None))))
    found: dict[str, dict] = {}
    for start in range(0, len(ids), 500):
        bases = risk.standing_bases(list(db.session.scalars(
            select(Child).where(Child.id.in_(ids[start:start + 500])))))
        db.session.expunge_all()
        for child_id, basis in bases.items():
            if risk.follow_ups_from(basis):
                found[child_id] = basis
            else:
                db.session.execute(update(Child).where(Child.id == child_id, Child.follow_up_basis.is_(None))
                                   .values(follow_ups=[], follow_up_basis=basis))
        db.session.commit()

    def set_found(child: Child) -> bool:
        if child.follow_up_basis is not None:  # a visit worked them out meanwhile
            return False
        child.follow_up_basis = found[child.id]
        save_record(None, "child", child, "update",
                    assign(child, {"follow_ups": risk.follow_ups_from(found[child.id])}))
        return True

    return _set_each(Child, list(found), set_found)


RULES_APPLIED = "risk_rules"  # the counter row: the version of the risk rules children were assessed under
RULES_CHUNK = 200


def assess_under_new_rules() -> int:
    """Once a new version of the risk rules is in force, assess every child again and work its
    follow-ups out again from its standing visits: else a child kept the level and follow-ups of the
    old rules until its next visit, up to a quarter away, in the ledgers, reports and to-do lists.
    Each change is an audited edit of the system's, which phones pull; a child raised to high risk
    gets a draft plan proposed. Return how many children changed (0 when the rules are those last
    applied: the version is kept in the counter table, 1 from migration 0021, the version every
    database before it was assessed under; a database without the row has the version in force
    noted, as what it stores was assessed under it)."""
    version = risk.rules_version()
    applied = db.session.get(Counter, RULES_APPLIED)
    if applied is not None and applied.value == version:
        return 0
    if applied is None:
        db.session.add(Counter(name=RULES_APPLIED, value=version))
        db.session.commit()
        return 0
    ids = list(db.session.scalars(select(Child.id).where(Child.deleted_at.is_(None)).order_by(Child.id)))
    done = 0
    for start in range(0, len(ids), RULES_CHUNK):
        db.session.commit()
        changes.lock_writers()  # a visit arriving meanwhile is seen, not overwritten
        # Read again under the lock: one merged or deleted since the ids were read is left be.
        children = list(db.session.scalars(select(Child).where(Child.id.in_(ids[start:start + RULES_CHUNK]),
                                                               Child.deleted_at.is_(None))
                                           .execution_options(populate_existing=True)))
        bases = risk.standing_bases(children)
        for child in children:
            before = child.version
            risk.refresh_child(None, child, None, risk.keep_basis(child, bases[child.id]))
            done += child.version != before
    db.session.merge(Counter(name=RULES_APPLIED, value=version))
    db.session.commit()
    return done


def recount_last_inspections() -> int:
    """Set each venue's last inspection from its latest standing inspection where the stored one
    differs; return how many venues changed."""
    return _set_each(Venue, _differing(Venue, Venue.last_inspected_at, Inspection, Inspection.venue_id),
                     _set_last_inspection)
