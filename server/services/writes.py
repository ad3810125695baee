"""Save a record the one way every write goes: version, change log, audit event."""
from ..errors import ApiError
from ..extensions import db
from ..models import new_id
from . import audit, batching


def assign(record, data: dict) -> list[str]:
    """Set the given fields on `record`; return the names whose value changed."""
    changed = []
    for name, value in data.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed.append(name)
    return sorted(changed)


def save_record(actor, entity: str, record, action: str, changed: list[str] | None = None,
                device_id: str | None = None, detail: dict | None = None) -> None:
    """Flush a created, updated or deleted record and audit it (the flush logs the change); `detail`
    adds to what its audit event says."""
    if action in ("update", "delete"):
        record.version = (record.version or 1) + 1
    elif record.version is None:
        record.version = 1
    if not (action == "create" and batching.defer_insert(record)):
        db.session.add(record)
        if batching.active() is None:
            db.session.flush()
    audit.record_event(f"{entity}.{action}", actor, entity, record.id, device_id,
                       detail={"version": record.version, "fields": changed or [], **(detail or {})})


def unused_id(model, data: dict) -> str:
    """Take the client-made id out of `data` (or make one); refuse an id already used."""
    record_id = str(data.pop("id", None) or new_id())
    if not batching.take_absent(model, record_id) and db.session.get(model, record_id) is not None:
        raise ApiError(409, "id_exists", "该编号的记录已存在")
    return record_id


def new_record(model, data: dict):
    """Return a new record with the client-made id (or a fresh one); refuse an id already used."""
    return model(id=unused_id(model, data))
