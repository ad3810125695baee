"""Children leave the register's active list at 18 (DESIGN: status "aged out at 18")."""
from datetime import date

from sqlalchemy import select

from ..errors import validation_error
from ..extensions import db
from ..models import Child
from . import changes
from .writes import assign, save_record

ADULT_AGE = 18
NOT_YET_ADULT = "未满18周岁或未登记出生日期，不能标记为已满18周岁"


def eighteenth_birthday(born: date) -> date:
    """Return the day a child born on `born` turns 18 (one born on 29 February, on 1 March)."""
    try:
        return born.replace(year=born.year + ADULT_AGE)
    except ValueError:
        return date(born.year + ADULT_AGE, 3, 1)


def turned_18(birth_date: date | None, birth_year: int | None, today: date) -> bool:
    """Say whether a child born on `birth_date` (else at the latest in `birth_year`) has turned 18 by
    `today`; one whose birth is not registered has not, as far as anyone can tell."""
    earliest = birth_date or (date(birth_year, 1, 1) if birth_year else None)
    return earliest is not None and eighteenth_birthday(earliest) <= today


def check_aged_out(status: str | None, birth_date: date | None, birth_year: int | None, today: date) -> None:
    """Refuse the status aged out for a child who cannot have turned 18 by `today` (born this late in
    the year given, or on the date given) or whose birth is not registered: it takes the child off
    the visit schedule, the plans and the report's active children."""
    if status == "aged_out" and not turned_18(birth_date, birth_year, today):
        raise validation_error({"status": [NOT_YET_ADULT]})


def age_out(today: date) -> int:
    """Mark every active child who has turned 18 by `today` aged out, each an audited edit of the
    system's (no actor), so phones pull it and the child leaves the visit schedule; return how many.

    Only children born in or before the year that turns 18 are opened (their birth date is
    encrypted); one with a birth year and no date turns 18 at the end of that year.
    """
    ids = db.session.scalars(select(Child.id).where(
        Child.status == "active", Child.deleted_at.is_(None),
        Child.birth_year <= today.year - ADULT_AGE)).all()
    db.session.commit()
    aged = 0
    for child_id in ids:
        # One child a transaction, read under the writers' lock: an edit of the child at the same
        # moment is seen, not overwritten, and cannot undo the others.
        changes.lock_writers()
        child = db.session.get(Child, child_id, populate_existing=True)
        born = child.birth_date or (date(child.birth_year, 12, 31) if child.birth_year else None)
        if child.status == "active" and born is not None and eighteenth_birthday(born) <= today:
            save_record(None, "child", child, "update", assign(child, {"status": "aged_out"}))
            aged += 1
        db.session.commit()
    return aged
