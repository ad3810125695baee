"""Apply a pushed batch: each op once, in order, each in its own savepoint."""
import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import select, true, update

from ..errors import ApiError
from ..extensions import db
from ..models import AppliedOp, AuditEvent, Counter, Device, utcnow
from ..schemas.sync import OpSchema
from ..services import scope
from ..services.writes import save_record
from .cursor import head_cursor
from .entities import ENTITIES

log = logging.getLogger(__name__)
LOCATION_FIELDS = {"lat": "location", "lon": "location", "accuracy_m": "location"}


@dataclass(frozen=True)
class SyncContext:
    """Who pushed, from which device, and the device's clock."""

    device_id: str | None
    device_time: datetime | None


class Conflict(Exception):
    """A stale base_version that touches a field changed on the server meanwhile."""

    def __init__(self, current: dict):
        super().__init__("conflict")
        self.current = current


def check_device(actor, device_id: str) -> Device:
    """Return the caller's registered, unrevoked device, or raise."""
    device = db.session.get(Device, device_id)
    if device is not None and device.revoked_at is not None:
        raise ApiError(410, "device_revoked", "该设备已被停用，本机数据将被清除")
    if device is None or device.user_id != actor.id or getattr(actor, "device_id", None) != device_id:
        raise ApiError(403, "device_mismatch", "请在本设备上重新登录后再同步")
    return device


def push_batch(actor, envelope: dict) -> dict:
    """Apply every op of a batch in one transaction; answer one result per op, in order."""
    config = current_app.config
    if envelope["schema_version"] < config["SYNC_MIN_CLIENT_SCHEMA"]:
        raise ApiError(400, "client_outdated", "应用版本过旧，请先更新应用（数据不会丢失）")
    if len(envelope["ops"]) > config["SYNC_MAX_OPS"]:
        raise ApiError(413, "too_many_ops", f"每批最多 {config['SYNC_MAX_OPS']} 条操作")
    device = check_device(actor, envelope["device_id"])
    _lock_writers()
    ctx = SyncContext(device.id, envelope.get("device_time"))
    seen: set[str] = set()
    results = [_apply_one(actor, raw, ctx, seen) for raw in envelope["ops"]]
    device.last_push_at = utcnow()
    db.session.commit()
    return {"results": results, "cursor": head_cursor()}


def _lock_writers() -> None:
    # Take the change counter's row lock first, so concurrent pushes serialize cleanly and a
    # retried op id always finds the ledger row of the push that applied it.
    db.session.execute(update(Counter).where(Counter.name == "change").values(value=Counter.value))


def _rejected(op_id, errors: dict) -> dict:
    return {"op_id": op_id, "status": "rejected", "id": None, "version": None, "errors": errors}


def _apply_one(actor, raw, ctx: SyncContext, seen: set[str]) -> dict:
    op_id = raw.get("op_id") if isinstance(raw, dict) else None
    try:
        op = OpSchema().load(raw if isinstance(raw, dict) else {})
    except ValidationError as err:
        return _rejected(op_id, err.messages if isinstance(err.messages, dict) else {"_op": err.messages})
    op_id = str(op["op_id"])
    if op_id in seen:
        return _rejected(op_id, {"op_id": ["同一批次中重复的操作编号"]})
    seen.add(op_id)
    stored = db.session.get(AppliedOp, op_id)
    if stored is not None:
        if stored.user_id != actor.id:
            return _rejected(op_id, {"op_id": ["操作编号已被使用"]})
        # Only an applied op is a duplicate; a retried conflict or rejection answers as it did.
        return {**stored.result, "status": "duplicate"} if stored.result["status"] == "applied" \
            else stored.result
    result = _run_in_savepoint(actor, op, ctx)
    db.session.add(AppliedOp(op_id=op_id, user_id=actor.id, device_id=ctx.device_id,
                             entity=op["entity"], entity_id=str(op["id"]), result=result))
    db.session.flush()
    return result


def _run_in_savepoint(actor, op: dict, ctx: SyncContext) -> dict:
    op_id = str(op["op_id"])
    savepoint = db.session.begin_nested()
    try:
        record = _dispatch(actor, op, ctx)
        savepoint.commit()
        return {"op_id": op_id, "status": "applied", "id": record.id, "version": record.version}
    except Conflict as conflict:
        savepoint.rollback()
        return {"op_id": op_id, "status": "conflict", "id": str(op["id"]),
                "version": conflict.current.get("version"), "current": conflict.current}
    except ValidationError as err:
        savepoint.rollback()
        return _rejected(op_id, {"data": err.messages})
    except ApiError as err:
        savepoint.rollback()
        return _rejected(op_id, err.fields or {"_op": [err.message]})
    except Exception:
        savepoint.rollback()
        log.exception("sync op %s on %s failed", op_id, op["entity"])
        return _rejected(op_id, {"_op": ["服务器无法处理此操作，已记录，请联系管理员"]})


def _dispatch(actor, op: dict, ctx: SyncContext):
    entity = ENTITIES[op["entity"]]
    record_id, data = str(op["id"]), dict(op["data"])
    if "id" in data and str(data["id"]) != record_id:
        raise ApiError(422, fields={"id": ["与操作中的编号不一致"]})
    if op["action"] == "create":
        return entity.create(actor, entity.create_schema().load({**data, "id": record_id}), ctx)
    if entity.is_fact:
        raise ApiError(422, fields={"action": ["此类记录只能新增；更正请新建一条并注明理由"]})
    record = scope.get_scoped(actor, entity.model, record_id)
    if op["action"] == "delete":
        return _delete(actor, entity, record, op.get("base_version"), ctx)
    changes = entity.update_schema().load(data, partial=True)
    _check_base(entity, record, op.get("base_version"), _touched(changes), ctx.device_id)
    return entity.update(actor, record_id, changes, ctx.device_id)


def _touched(data: dict) -> set[str]:
    return {LOCATION_FIELDS.get(name, name) for name in data}


def _check_base(entity, record, base_version: int | None, touched: set[str], device_id) -> None:
    if base_version is None:
        raise ApiError(422, fields={"base_version": ["修改需提供所依据的版本号"]})
    if base_version == record.version:
        return
    if base_version > record.version or touched & changed_since(entity.name, record.id, base_version,
                                                                 device_id):
        raise Conflict(entity.schema().dump(record))


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
    if base_version is None or base_version != record.version:
        raise Conflict(entity.schema().dump(record))
    record.deleted_at = utcnow()
    save_record(actor, entity.name, record, "delete", ["deleted_at"], ctx.device_id)
    return record
