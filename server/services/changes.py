"""Record each committed change of a synced record in commit order, for pull and audit."""
from sqlalchemy import update

from ..extensions import db
from ..models import ChangeLog, Counter


def next_seq(name: str = "change") -> int:
    """Take the next value of a counter under its row lock, held until this transaction ends."""
    value = db.session.execute(
        update(Counter).where(Counter.name == name).values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar()
    if value is None:
        db.session.add(Counter(name=name, value=1))
        db.session.flush()
        value = 1
    return value


def log_change(entity: str, record, action: str = "upsert", village_id: str | None = None,
               grid_id: str | None = None) -> ChangeLog:
    """Append a change-log row for `record`, scoped to its own (or the given) village and grid."""
    row = ChangeLog(
        seq=next_seq(), entity=entity, entity_id=record.id, action=action,
        village_id=village_id if village_id is not None else getattr(record, "village_id", None),
        grid_id=grid_id if grid_id is not None else getattr(record, "grid_id", None),
    )
    db.session.add(row)
    return row


def next_seq_block(count: int, name: str = "change") -> int:
    """Reserve `count` consecutive counter values under the row lock; return the first."""
    last = db.session.execute(
        update(Counter).where(Counter.name == name).values(value=Counter.value + count)
        .returning(Counter.value)
    ).scalar()
    return last - count + 1
