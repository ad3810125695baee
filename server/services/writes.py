"""Save a record the one way every write goes: version, change log, audit event."""
from ..extensions import db
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
