"""Save a record the one way every write goes: version, change log, audit event."""
from ..extensions import db
from . import audit, changes


def assign(record, data: dict) -> list[str]:
    """Set the given fields on `record`; return the names whose value changed."""
    changed = []
    for name, value in data.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed.append(name)
    return sorted(changed)


def save_record(actor, entity: str, record, action: str, changed: list[str] | None = None,
                device_id: str | None = None, moved_from: dict | None = None) -> None:
    """Flush a created or updated record, log the change and audit it (the caller commits)."""
    if action == "update":
        record.version = (record.version or 1) + 1
    db.session.add(record)
    db.session.flush()
    if moved_from:
        changes.log_change(entity, record, "evict", **moved_from)
    changes.log_change(entity, record, "delete" if action == "delete" else "upsert")
    audit.record_event(f"{entity}.{action}", actor, entity, record.id, device_id,
                       detail={"version": record.version, "fields": changed or []})
