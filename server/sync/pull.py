"""Answer a pull: the caller's changes after a cursor, in commit order, with evictions."""
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import and_, delete, func, not_, or_, select, update

from ..errors import ApiError
from ..extensions import db
from ..models import ChangeLog, Counter, utcnow
from ..schemas.dumping import dumper
from ..services import scope
from .cursor import decode, encode, head_seq, scope_of
from .entities import ENTITIES

FLOOR = "tombstone_floor"


def pull_changes(actor, device, token: str | None, limit: int) -> dict:
    """Return up to `limit` changes after the cursor, the next cursor, and whether more wait."""
    decoded = decode(token)
    current = scope_of(actor)
    seq, prior = decoded if decoded else (0, current)
    if decoded and seq < tombstone_floor():
        raise ApiError(410, "resync_required", "本机数据过旧，需要重新完整同步")
    device.last_pull_at = utcnow()
    if prior is not None and prior != current:
        changes = _rescope(actor, prior, seq)
        db.session.commit()
        return {"changes": changes, "cursor": encode(seq, current), "more": True}
    head = head_seq()
    rows = db.session.scalars(
        select(ChangeLog).where(ChangeLog.seq > seq, ChangeLog.seq <= head,
                                scope.change_visible(actor))
        .order_by(ChangeLog.seq).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    changes = _materialize(rows)
    next_seq = rows[-1].seq if more else head
    db.session.commit()
    return {"changes": changes, "cursor": encode(next_seq, current), "more": more}


def _as_user(prior: dict):
    return SimpleNamespace(role=prior.get("r"), village_id=prior.get("v"),
                           grid_ids=list(prior.get("g") or []), is_authenticated=True)


def _rescope(actor, prior: dict, seq: int) -> list[dict]:
    old, new = scope.change_visible(_as_user(prior)), scope.change_visible(actor)
    upto = ChangeLog.seq <= seq
    # The phone may hold any live record of its old scope, also one whose row moved past the
    # cursor (changed, deleted or moved away since): only tombstones it already read are skipped.
    evicted = db.session.scalars(
        select(ChangeLog).where(and_(old, not_(new)),
                                or_(ChangeLog.action == "upsert", ChangeLog.seq > seq))
        .order_by(ChangeLog.seq)).all()
    added = db.session.scalars(select(ChangeLog).where(upto, and_(new, not_(old)))
                               .order_by(ChangeLog.seq)).all()
    keys = dict.fromkeys((r.entity, r.entity_id) for r in evicted)
    gone = [{"entity": entity, "id": entity_id, "version": None, "action": "evict", "data": None}
            for entity, entity_id in keys]
    return gone + _materialize(added)


def _materialize(rows: list[ChangeLog]) -> list[dict]:
    ids: dict[str, set[str]] = {}
    for row in rows:
        ids.setdefault(row.entity, set()).add(row.entity_id)
    records = {}
    for name, wanted in ids.items():
        model = ENTITIES[name].model
        for record in db.session.scalars(select(model).where(model.id.in_(wanted))):
            records[(name, record.id)] = record
    dumps = {name: dumper(ENTITIES[name].schema) for name in ids}
    changes = []
    for row in rows:
        record = records.get((row.entity, row.entity_id))
        change = {"entity": row.entity, "id": row.entity_id,
                  "version": record.version if record else None, "action": row.action, "data": None}
        if row.action == "upsert" and (record is None or record.deleted_at is not None):
            change["action"] = "delete"
        elif row.action == "upsert":
            change["data"] = dumps[row.entity](record)
        changes.append(change)
    return changes


def tombstone_floor() -> int:
    """Return the newest position whose tombstones have been pruned."""
    return db.session.scalar(select(Counter.value).where(Counter.name == FLOOR)) or 0


def prune_tombstones(retention_days: int) -> int:
    """Drop delete and evict rows older than the retention; cursors before them must resync."""
    cutoff = utcnow() - timedelta(days=retention_days)
    doomed = (ChangeLog.action.in_(("delete", "evict")), ChangeLog.at < cutoff)
    newest = db.session.scalar(select(func.max(ChangeLog.seq)).where(*doomed))
    if newest is None:
        return 0
    count = db.session.execute(delete(ChangeLog).where(*doomed)).rowcount
    if db.session.get(Counter, FLOOR) is None:
        db.session.add(Counter(name=FLOOR, value=newest))
    else:
        db.session.execute(update(Counter).where(Counter.name == FLOOR)
                           .values(value=func.greatest(Counter.value, newest)
                                   if db.session.get_bind().dialect.name == "postgresql"
                                   else func.max(Counter.value, newest)))
    db.session.commit()
    return count
