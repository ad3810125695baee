"""Apply a pushed batch: each op once, in order, each in its own savepoint."""
import logging
from dataclasses import dataclass, replace
from datetime import datetime

from marshmallow import ValidationError
from sqlalchemy import select, true
from sqlalchemy.exc import OperationalError

from ..config import settings
from ..database import is_transient
from ..errors import ApiError, flat_fields
from ..extensions import db
from ..models import AppliedOp, AuditEvent, Device, utcnow
from ..schemas.sync import OpSchema
from ..schemas.text import BAD_TEXT, Unusable, bad_text, text_problems
from ..services import auth, batching, changes, devices, scope
from ..services.writes import save_record
from .cursor import decode, encode
from .entities import ENTITIES
from .pull import tombstone_floor

log = logging.getLogger(__name__)
LOCATION_FIELDS = {"lat": "location", "lon": "location", "accuracy_m": "location"}
MERGED_EDIT = "该儿童是重复登记，已被合并到另一条登记，此修改无法保存：请放弃这条修改，在保留的登记上重新修改"


@dataclass(frozen=True)
class SyncContext:
    """Who pushed, from which device, the device's clock, and what it held (its pull cursor)."""

    device_id: str | None
    device_time: datetime | None
    held: scope.Held | None = None


class Conflict(Exception):
    """A stale base_version that touches a field changed on the server meanwhile."""

    def __init__(self, current: dict):
        super().__init__("conflict")
        self.current = current


def check_device(actor, device_id: str | None) -> Device | None:
    """Return the caller's registered, unrevoked device (None for a session opened without one,
    pulling), or raise. A session pushes as its own device only, or names one on its first push."""
    if getattr(actor, "device_id", None) is None and device_id:
        return auth.bind_device(actor, device_id)
    if not device_id:
        return None
    device = db.session.get(Device, device_id, populate_existing=True)  # as committed now, not at sign-in
    if device is not None and device.revoked_at is not None:
        raise devices.revoked()
    if device is None or device.user_id != actor.id or getattr(actor, "device_id", None) != device_id:
        raise ApiError(403, "device_mismatch", "请在本设备上重新登录后再同步")
    return device


def push_batch(actor, envelope: dict) -> dict:
    """Apply every op of a batch in one transaction; answer one result per op, in order."""
    config = settings()
    if envelope["schema_version"] < config["SYNC_MIN_CLIENT_SCHEMA"]:
        raise ApiError(400, "client_outdated", "应用版本过旧，请先更新应用（数据不会丢失）")
    if len(envelope["ops"]) > config["SYNC_MAX_OPS"]:
        raise ApiError(413, "too_many_ops", f"每批最多 {config['SYNC_MAX_OPS']} 条操作")
    # The lock first: a revoke waits for this push to end, or this push sees the revoke.
    changes.lock_writers()
    device = check_device(actor, envelope["device_id"])
    ctx = SyncContext(device.id, envelope.get("device_time"), _held(actor, envelope.get("cursor")))
    results, todo = _triage(actor, envelope["ops"])
    for group in _runs(todo):
        answers = _apply_run(actor, group, ctx) if len(group) > 1 else None
        if answers is None:
            answers = [_apply_one(actor, op, ctx) for _, op in group]
        for (index, _), answer in zip(group, answers):
            results[index] = answer
    device.last_push_at = utcnow()
    # Where the phone may pull from and miss nothing: the cursor it sent (the pull judges it: one
    # past the pruned tombstones answers 410 and the phone starts over), or, sending none, the start.
    # (The newest position would skip what others wrote before this push.)
    cursor = envelope["cursor"] or encode(actor.id, 0, scope.snapshot(actor), fresh=changes.head_seq())
    db.session.commit()
    return {"results": results, "cursor": cursor}


def _held(actor, token: str | None) -> scope.Held | None:
    """Return what the pushing phone held, as its pull cursor says (signed for the caller), or None:
    no cursor, one that is not the caller's or cannot be read, one no pull answered with (scopeless),
    one of a first pull not yet through (its position is not what the phone held: the pages send
    records as they stand now; a push's answer to a phone that sent none is such a start), or one
    older than the pruned tombstones (the moves since are not all known)."""
    try:
        cursor = decode(token, actor.id)
    except ApiError:
        return None
    if cursor is None or cursor.scope is None or cursor.fresh > cursor.seq or cursor.seq < tombstone_floor():
        return None
    return scope.Held(cursor.seq)


def _rejected(op_id, errors) -> dict:
    return {"op_id": op_id, "status": "rejected", "id": None, "version": None, "errors": flat_fields(errors)}


def _triage(actor, raws: list) -> tuple[list, list[tuple[int, dict]]]:
    """Answer the ops that need no work (malformed, repeated, already applied); list the rest."""
    schema, parsed = OpSchema(), []
    for raw in raws:
        if isinstance(raw, Unusable):
            parsed.append(_unusable(raw.item))
            continue
        try:
            parsed.append(schema.load(raw if isinstance(raw, dict) else {}))
        except ValidationError as err:
            op_id = raw.get("op_id") if isinstance(raw, dict) else None
            parsed.append(_rejected(op_id, err.messages if isinstance(err.messages, dict)
                                    else {"_op": err.messages}))
    ids = [str(op["op_id"]) for op in parsed if "status" not in op]
    stored = {row.op_id: row for row in db.session.scalars(
        select(AppliedOp).where(AppliedOp.op_id.in_(ids)))} if ids else {}
    results, todo, seen = [None] * len(raws), [], set()
    for index, op in enumerate(parsed):
        if "status" in op:
            results[index] = op
            continue
        op_id = str(op["op_id"])
        if op_id in seen:
            results[index] = _rejected(op_id, {"op_id": ["同一批次中重复的操作编号"]})
        elif op_id in stored:
            results[index] = _stored_answer(actor, stored[op_id])
        else:
            todo.append((index, op))
        seen.add(op_id)
    return results, todo


def _unusable(raw) -> dict:
    """Refuse an op holding unusable text, naming the fields that hold it (in its data, or the op's own)."""
    op = raw if isinstance(raw, dict) else {}
    data = op.get("data")
    problems = text_problems(data) if isinstance(data, dict) else {}
    problems.update(text_problems({key: value for key, value in op.items()
                                   if key != "data" or not isinstance(data, dict)}))
    op_id = op.get("op_id")
    return _rejected(op_id if isinstance(op_id, str) and not bad_text(op_id) else None,
                     problems or {"_op": [BAD_TEXT]})


def _stored_answer(actor, stored: AppliedOp) -> dict:
    if stored.user_id != actor.id:
        return _rejected(stored.op_id, {"op_id": ["操作编号已被使用"]})
    # Only an applied op is a duplicate; a retried conflict or rejection answers as it did, a
    # conflict with the record as the caller may see it now (the ledger keeps no copy of it).
    result = stored.result
    if result["status"] == "applied" and result.get("out_of_scope"):
        return _let_go_still(actor, stored)
    if result["status"] == "applied":
        return {**result, "status": "duplicate"}
    if result["status"] == "conflict":
        return {**result, "current": _current(actor, ENTITIES[stored.entity], stored.entity_id)}
    return result


def _let_go_still(actor, stored: AppliedOp) -> dict:
    """Answer a retried fact that was filed out of the phone's reach as it stands now: its record
    may have come back since, and a phone that pulled it back must not be told to let it go."""
    answer = {**stored.result, "status": "duplicate"}
    record = db.session.get(ENTITIES[stored.entity].model, stored.entity_id)
    if record is not None and not scope.out_of_reach(actor, record):
        del answer["out_of_scope"]
    return answer


def _current(actor, entity, record_id: str) -> dict | None:
    try:
        record = scope.get_scoped(actor, entity.model, record_id)
    except ApiError:
        return None
    return entity.shown(actor, record)


def _runs(todo: list[tuple[int, dict]]) -> list[list[tuple[int, dict]]]:
    """Group consecutive creates of a kind with a prefetch into runs; every other op stands alone."""
    groups: list[list[tuple[int, dict]]] = []
    for item in todo:
        op = item[1]
        previous = groups[-1][-1][1] if groups else None
        if _runnable(op) and previous is not None and _runnable(previous) \
                and previous["entity"] == op["entity"]:
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _runnable(op: dict) -> bool:
    # An amendment changes which of the stored records stands; a run sees only what it made.
    return op["action"] == "create" and ENTITIES[op["entity"]].prefetch is not None \
        and not op["data"].get("amends")


def _ledger(actor, op: dict, ctx: SyncContext, result: dict) -> None:
    # A conflict's `current` is a record in the clear: the ledger is no place for it.
    kept = {key: value for key, value in result.items() if key != "current"}
    row = {"op_id": str(op["op_id"]), "user_id": actor.id, "device_id": ctx.device_id,
           "entity": op["entity"], "entity_id": str(op["id"]), "result": kept}
    if not batching.defer_row(AppliedOp.__table__, {**row, "applied_at": utcnow()}):
        db.session.add(AppliedOp(**row))


def _apply_run(actor, group: list[tuple[int, dict]], ctx: SyncContext) -> list[dict] | None:
    """Apply a run of creates in one savepoint with one flush; None if any op needs its own."""
    entity = ENTITIES[group[0][1]["entity"]]
    savepoint = db.session.begin_nested()
    try:
        with batching.run():
            schema = entity.create_schema()
            items = [schema.load(_create_data(op)) for _, op in group]
            entity.prefetch(actor, items)
            answers = []
            for (_, op), data in zip(group, items):
                record = entity.create(actor, data, ctx)
                answer = {"op_id": str(op["op_id"]), "status": "applied", "id": record.id,
                          "version": record.version}
                _ledger(actor, op, ctx, answer)
                answers.append(answer)
        savepoint.commit()
        return answers
    except Exception as err:  # noqa: BLE001 - any refusal is answered op by op, each in its own savepoint
        if _transient(err):
            raise
        savepoint.rollback()
        return None


def _apply_one(actor, op: dict, ctx: SyncContext) -> dict:
    if op["cursor"]:
        # What the phone held when it recorded the op, if that can be read; else what it holds now.
        ctx = replace(ctx, held=_held(actor, op["cursor"]) or ctx.held)
    result = _run_in_savepoint(actor, op, ctx)
    _ledger(actor, op, ctx, result)
    db.session.flush()
    return result


def _run_in_savepoint(actor, op: dict, ctx: SyncContext) -> dict:
    op_id = str(op["op_id"])
    savepoint = db.session.begin_nested()
    try:
        record = _dispatch(actor, op, ctx)
        savepoint.commit()
        answer = {"op_id": op_id, "status": "applied", "id": record.id, "version": record.version}
        if scope.out_of_reach(actor, record):
            # Filed for a record the phone held (scope.held_at), or for a duplicate merged into a
            # child out of its reach (with any cursor, or none): the phone lets it go.
            answer["out_of_scope"] = True
        return answer
    except Conflict as conflict:
        savepoint.rollback()
        return {"op_id": op_id, "status": "conflict", "id": str(op["id"]),
                "version": conflict.current.get("version"), "current": conflict.current}
    except ValidationError as err:
        savepoint.rollback()
        # Per field, as the services' own refusals are (API.md: "`errors` says why, per field").
        return _rejected(op_id, err.messages if isinstance(err.messages, dict) else {"_op": err.messages})
    except ApiError as err:
        savepoint.rollback()
        return _rejected(op_id, err.fields or {"_op": [err.message]})
    except Exception as err:
        if _transient(err):
            # A deadlock or a lost connection says nothing about the op: the ledger must not keep
            # it as refused. The whole batch fails (503) with nothing written; the phone resends it.
            raise
        savepoint.rollback()
        log.exception("sync op %s on %s failed", op_id, op["entity"])
        return _rejected(op_id, {"_op": ["服务器无法处理此操作，已记录，请联系管理员"]})


def _transient(err: Exception) -> bool:
    return isinstance(err, OperationalError) and is_transient(err)


def _op_data(op: dict) -> dict:
    data = dict(op["data"])
    if "id" in data and str(data["id"]) != str(op["id"]):
        raise ApiError(422, fields={"id": ["与操作中的编号不一致"]})
    return data


def _create_data(op: dict) -> dict:
    return {**_op_data(op), "id": str(op["id"])}


def _dispatch(actor, op: dict, ctx: SyncContext):
    entity = ENTITIES[op["entity"]]
    record_id, data = str(op["id"]), _op_data(op)
    if op["action"] == "create":
        return entity.create(actor, entity.create_schema().load(_create_data(op)), ctx)
    if entity.is_fact:
        raise ApiError(422, fields={"action": ["此类记录只能新增；更正请新建一条并注明理由"]})
    record = scope.get_scoped(actor, entity.model, record_id, merged_says=MERGED_EDIT)
    if op["action"] == "delete":
        return _delete(actor, entity, record, op.get("base_version"), ctx)
    changes = entity.update_schema().load(data, partial=True)
    _check_base(actor, entity, record, op.get("base_version"), _touched(entity, changes), ctx.device_id)
    return entity.update(actor, record_id, changes, ctx.device_id)


def _touched(entity, data: dict) -> set[str]:
    # The audit names the fields as stored: one `location` where a kind keeps its fix encrypted
    # (households), `lat` and `lon` where it keeps them as columns (venues).
    stored = LOCATION_FIELDS if hasattr(entity.model, "location") else {}
    named = {stored.get(name, name) for name in data}
    return named | {also for field, also in entity.implied if field in data}


def _check_base(actor, entity, record, base_version: int | None, touched: set[str], device_id) -> None:
    if base_version is None:
        raise ApiError(422, fields={"base_version": ["修改需提供所依据的版本号"]})
    if base_version == record.version:
        return
    if base_version > record.version or touched & changed_since(entity.name, record.id, base_version,
                                                                 device_id):
        raise Conflict(entity.shown(actor, record))


def changed_since(entity: str, record_id: str, version: int, device_id: str | None = None) -> set[str]:
    """Return the fields others changed on the server after `version`, read from the audit chain.

    A device has seen its own writes: an edit queued behind its own earlier edit of the same
    field, on the same base version, is not a conflict.
    """
    rows = db.session.scalars(select(AuditEvent.detail).where(
        AuditEvent.entity == entity, AuditEvent.entity_id == record_id,
        AuditEvent.action.in_([f"{entity}.update", f"{entity}.delete"]),
        AuditEvent.device_id.is_distinct_from(device_id) if device_id else true())).all()
    fields: set[str] = set()
    for detail in rows:
        if (detail or {}).get("version", 0) > version:
            fields.update(detail.get("fields") or [])
    return fields


def _delete(actor, entity, record, base_version: int | None, ctx: SyncContext):
    # Seeing a record is not leave to remove it: a delete needs what an edit of the kind needs.
    scope.require_write(actor, entity.model, "删除此类记录")
    for check in (entity.guard, entity.removable):
        if check is not None:
            check(actor, record)
    if base_version is None or base_version != record.version:
        raise Conflict(entity.shown(actor, record))
    record.deleted_at = utcnow()
    save_record(actor, entity.name, record, "delete", ["deleted_at"], ctx.device_id)
    return record
