"""Answer a pull: the caller's changes after a cursor, in commit order, with evictions."""
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import and_, delete, func, not_, or_, select, update

from ..errors import ApiError
from ..extensions import db
from ..models import ChangeLog, Counter, Device, PlaceLeft, utcnow
from ..services import devices, scope, views
from ..services.changes import head_seq, write_unlocked
from .cursor import SHAPE, Cursor, Rescope, decode, encode
from .entities import ENTITIES

FLOOR = "tombstone_floor"


def pull_changes(actor, device, token: str | None, limit: int) -> dict:
    """Return up to `limit` changes after the cursor, the next cursor, and whether more wait."""
    answer = _page(actor, token, limit)
    if device is not None:
        _note_pull(device.id)
    db.session.commit()
    return answer


def _note_pull(device_id: str) -> None:
    """Note the pull on its device unless it is revoked now: a revoke that committed while the page
    was read, or is committing, refuses the page (the UPDATE waits for it and reads the row again);
    a later one waits for this pull to commit. Outside the writers' lock: a pull waits on no
    other pull or push."""
    table = Device.__table__
    noted = write_unlocked(update(table).where(
        table.c.id == device_id, table.c.revoked_at.is_(None)).values(last_pull_at=utcnow()))
    if noted.rowcount != 1:
        raise devices.revoked()


def _page(actor, token: str | None, limit: int) -> dict:
    cursor = decode(token, actor.id)
    _check_position(cursor)
    answer = _answer(actor, cursor, limit)
    # Read again after the rows: a prune that committed meanwhile took tombstones this page would
    # have sent (PostgreSQL reads each statement as committed then; the prune changes both at once).
    _check_position(cursor)
    return answer


def _check_position(cursor: Cursor | None) -> None:
    """Refuse a cursor whose tombstones are pruned, or one ahead of the log (a database restored
    from a backup under the same key): either way the phone holds what the log cannot correct."""
    if cursor is None:
        return
    # Up to `fresh` (a first pull's pages) the phone needs no tombstones: only those after it count.
    if max(cursor.seq, cursor.fresh) < tombstone_floor():
        raise ApiError(410, "resync_required", "本机数据过旧，需要重新完整同步")
    if cursor.seq > head_seq():
        raise ApiError(410, "resync_required", "服务器数据已恢复到较早的状态，需要重新完整同步")


def _answer(actor, cursor: Cursor | None, limit: int) -> dict:
    current = scope.snapshot(actor)
    first = cursor is None
    if cursor is not None and cursor.shape != SHAPE:
        # The phone's records lack a field added since: everything in its scope is sent again, over
        # what it holds (nothing is wiped first); mid-move, it starts afresh.
        if cursor.rescope is not None or cursor.scope not in (None, current):
            raise ApiError(410, "resync_required", "应用已更新，需要重新完整同步本机数据")
        cursor = None
    if cursor is not None and cursor.rescope is not None and cursor.scope != current:
        # Moved again in the middle of a move: the phone's holdings are a mix; start afresh.
        raise ApiError(410, "resync_required", "您的管辖范围已变更，需要重新完整同步")
    if cursor is not None and cursor.rescope is None and cursor.scope not in (None, current):
        cursor = Cursor(cursor.seq, current, Rescope(cursor.scope, "evict", 0, head_seq()), fresh=cursor.fresh)
    tail = cursor.rescope if cursor is not None else None
    if tail is not None and tail.phase != "tail":
        return _rescope(actor, cursor, limit)
    seq = cursor.seq if cursor else 0
    head = head_seq()
    # A phone that held nothing, through every page of its first pull, needs no tombstones, and must
    # not learn the ids that left its scope.
    fresh = head if first else cursor.fresh if cursor else 0
    tombstones = ChangeLog.seq > fresh
    if tail is not None:
        # Before the move was seen, only where the phone was before it: the new scope's tombstones
        # there are of records that left it, or were deleted, before the phone came.
        tombstones = and_(tombstones, or_(ChangeLog.seq > tail.upto,
                                          scope.change_visible(scope.as_user(tail.prior))))
    rows = _log_rows(limit + 1, ChangeLog.seq > seq, ChangeLog.seq <= head, scope.change_visible(actor),
                     or_(ChangeLog.action == "upsert", tombstones))
    more = len(rows) > limit
    rows = rows[:limit]
    reached = rows[-1].seq if more else head
    still = tail if tail is not None and reached < tail.upto else None
    next_cursor = encode(actor.id, reached, current, still, fresh=fresh)
    return {"changes": _materialize(actor, rows), "cursor": next_cursor, "more": more}


def _rescope(actor, cursor: Cursor, limit: int) -> dict:
    """Page through a move between scopes: evict what left, then send what came, in log order.

    The phone may hold any live record of its old scope, also one whose row moved past the
    cursor (changed, deleted or moved away since): only tombstones it already read are skipped.
    What came is read up to the cursor's position; anything newer follows in the normal pull, the
    move's tail up to where it was seen (a tombstone there is sent only if the phone may hold it).
    """
    state, seq = cursor.rescope, cursor.seq
    held = max(seq, cursor.fresh)  # tombstones up to here: of records the phone no longer holds, or never did
    old, new = scope.change_visible(scope.as_user(state.prior)), scope.change_visible(actor)
    changes: list[dict] = []
    if state.phase == "evict":
        rows = _log_rows(limit + 1, and_(old, not_(new)), ChangeLog.seq > state.after,
                         or_(ChangeLog.action == "upsert", ChangeLog.seq > held))
        keys = dict.fromkeys((r.entity, r.entity_id) for r in rows[:limit])
        changes = [{"entity": entity, "id": entity_id, "version": None, "action": "evict", "data": None}
                   for entity, entity_id in keys]
        if len(rows) > limit:
            return _rescope_page(actor, changes, cursor, replace(state, after=rows[limit - 1].seq))
        state = replace(state, phase="add", after=0)
    room = limit - len(changes)
    if room == 0:
        return _rescope_page(actor, changes, cursor, state)
    # Only what stands there now: the phone never held what left the new scope, or was deleted in
    # it, before it came, and must not learn those ids (as a first pull does not).
    rows = _log_rows(room + 1, ChangeLog.seq <= seq, ChangeLog.seq > state.after, and_(new, not_(old)),
                     ChangeLog.action == "upsert")
    if len(rows) > room:
        return _rescope_page(actor, changes + _materialize(actor, rows[:room]), cursor,
                             replace(state, after=rows[room - 1].seq))
    # The normal pull follows from the cursor, up to where the move was seen as its tail (`_answer`).
    tail = replace(state, phase="tail", after=0) if state.upto > seq else None
    return {"changes": changes + _materialize(actor, rows),
            "cursor": encode(actor.id, seq, cursor.scope, tail, cursor.fresh), "more": True}


def _rescope_page(actor, changes: list[dict], cursor: Cursor, state: Rescope) -> dict:
    return {"changes": changes, "cursor": encode(actor.id, cursor.seq, cursor.scope, state, cursor.fresh),
            "more": True}


def _log_rows(limit: int, *where) -> list:
    """Return the first `limit` change-log rows matching `where` in log order (columns, not objects)."""
    return db.session.execute(
        select(ChangeLog.seq, ChangeLog.entity, ChangeLog.entity_id, ChangeLog.action).where(*where)
        .order_by(ChangeLog.seq).limit(limit)).all()


def _seen(actor, ids: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Return the records of `ids` (by kind) that the caller sees now, deleted or not."""
    seen = set()
    for name, wanted in ids.items():
        model = ENTITIES[name].model
        query = scope.scoped_select(actor, model, include_deleted=True).where(model.id.in_(wanted))
        seen.update((name, record_id) for record_id in db.session.scalars(query.with_only_columns(model.id)))
    return seen


def _materialize(actor, rows: list) -> list[dict]:
    """Turn log rows into changes, each record as the caller sees it now: an evicted record still
    seen (moved within the scope: a village head's household from one grid to another) is not
    taken off the phone in between, unless it has been deleted since (its tombstone, where it went,
    may be one the phone is not told of: a move's tail); one that has left the scope since its row
    was read is evicted, not sent (PostgreSQL reads each statement as committed then)."""
    ids: dict[str, set[str]] = {}
    for row in rows:
        ids.setdefault(row.entity, set()).add(row.entity_id)
    records = {}
    for name, wanted in ids.items():
        for record in views.read(ENTITIES[name].model, wanted):
            records[(name, record.id)] = record
    seen = _seen(actor, ids)  # after the records: one that moves away once read is evicted, not sent

    def gone(key) -> bool:
        return records.get(key) is None or records[key].deleted_at is not None
    rows = [row for row in rows if row.action != "evict" or (row.entity, row.entity_id) not in seen
            or gone((row.entity, row.entity_id))]
    changes = []
    for row in rows:
        record = records.get((row.entity, row.entity_id))
        change = {"entity": row.entity, "id": row.entity_id,
                  "version": record.version if record else None, "action": row.action, "data": None}
        if row.action == "evict" and (row.entity, row.entity_id) in seen:
            change["action"] = "delete"
        elif row.action == "upsert" and gone((row.entity, row.entity_id)):
            change["action"] = "delete"
        elif row.action == "upsert" and (row.entity, row.entity_id) not in seen:
            change["action"] = "evict"
        elif row.action == "upsert":
            change["data"] = ENTITIES[row.entity].shown(actor, record)
        changes.append(change)
    return changes


def tombstone_floor() -> int:
    """Return the newest position whose tombstones have been pruned."""
    return db.session.scalar(select(Counter.value).where(Counter.name == FLOOR)) or 0


def prune_tombstones(retention_days: int) -> int:
    """Drop delete and evict rows older than the retention, and the places left up to the new
    floor; cursors before them must resync."""
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
    db.session.flush()
    # A push's cursor below the floor tells nothing of what the phone held (push._held).
    db.session.execute(delete(PlaceLeft).where(PlaceLeft.seq <= tombstone_floor()))
    db.session.commit()
    return count
