"""The tamper-evident audit chain: append under a lock, verify from the first event."""
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC

from sqlalchemy import and_, exists, or_, select, text
from sqlalchemy.orm import aliased

from ..crypto import DecryptionError
from ..extensions import db
from ..models import AuditEvent, ReportSnapshot, new_id, utcnow
from . import batching, changes
from .listing import paginate

GENESIS = "0" * 64
ADVISORY_LOCK_KEY = 0x48554C4549
REPORT_SUBMIT = "report.submit"


def _sha256(body) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _digest(event: Mapping, reason: str | None) -> str:
    body = {
        "id": event["id"],
        "prev": event["prev_hash"],
        "at": event["at"].isoformat(),
        "actor": event["actor_id"],
        "action": event["action"],
        "entity": event["entity"],
        "entity_id": event["entity_id"],
        "device": event["device_id"],
        "detail": event["detail"] or {},
        "reason": None if reason is None else hashlib.sha256(reason.encode()).hexdigest(),
    }
    return _sha256(body)


def report_digest(snapshot) -> str:
    """Return the SHA-256 of what a submitted report froze (a ReportSnapshot or its table row)."""
    return _sha256({
        "id": snapshot.id, "kind": snapshot.kind, "period": snapshot.period,
        "village_id": snapshot.village_id, "unit_id": snapshot.unit_id, "figures": snapshot.figures,
        "audit_head": snapshot.audit_head, "submitted_by": snapshot.submitted_by,
        "submitted_at": snapshot.submitted_at.astimezone(UTC).isoformat(),
        "window_start": snapshot.window_start.isoformat(),
        "window_end": snapshot.window_end.isoformat(), "due_on": snapshot.due_on.isoformat()})


def _stored_reason(row) -> str | None:
    return AuditEvent.reason.open("audit_event", row.id, row.reason_ct)


def _lock_chain() -> None:
    # The change counter's row first, then the chain: the order every writer takes them in. A
    # push locks the counter and then audits; an audited edit that locked the chain first and
    # flushed its change-log rows afterwards would wait on the push while the push waited on it.
    changes.lock_writers()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})


def chain_head() -> str:
    """Return the hash of the newest event, or the genesis hash."""
    last = db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1))
    return last or GENESIS


def locked_head() -> str:
    """Lock the chain for this transaction and return its head (what a report freezes)."""
    _lock_chain()
    return chain_head()


def record_event(action: str, actor=None, entity: str | None = None, entity_id: str | None = None,
                 device_id: str | None = None, detail: dict | None = None,
                 reason: str | None = None, actor_id: str | None = None) -> None:
    """Append one event to the chain inside the caller's transaction (the caller commits).

    In a run the chain is locked once and its head kept in memory; the events are queued as
    rows and inserted in the order they were made when the run ends.
    """
    run = batching.active()
    if run is None or run.audit_head is None:
        _lock_chain()
        head = chain_head()
    else:
        head = run.audit_head
    event = {"id": new_id(), "at": utcnow(), "actor_id": actor.id if actor is not None else actor_id,
             "action": action, "entity": entity, "entity_id": entity_id, "device_id": device_id,
             "detail": detail or {}, "prev_hash": head}
    event["hash"] = _digest(event, reason)
    if run is None:
        row = AuditEvent(**event)
        row.reason = reason
        db.session.add(row)
        db.session.flush()
        return
    event["reason_ct"] = AuditEvent.reason.seal(AuditEvent.__tablename__, event["id"], reason)
    batching.defer_row(AuditEvent.__table__, event)
    run.audit_head = event["hash"]


def record_report_submission(actor, snapshot: ReportSnapshot, device_id: str | None, detail: dict) -> None:
    """Append a report's submission to the chain with the head it froze and the digest of its content."""
    record_event(REPORT_SUBMIT, actor, "report", snapshot.id, device_id,
                 detail={**detail, "audit_head": snapshot.audit_head, "digest": report_digest(snapshot)})


def verify_chain(batch: int = 1000) -> dict:
    """Walk the chain in order; return ok, the count and head, or the first event that breaks.

    A chain cut back at its tail still links up, so it is also checked against the heads the
    submitted reports printed: each must be in it, followed by that report's submission. Each
    submission must in turn still have its report, as the submission's digest recorded it.
    """
    table = AuditEvent.__table__
    prev, count, last_seq, mismatch = GENESIS, 0, 0, None
    while True:
        rows = db.session.execute(
            select(table).where(table.c.seq > last_seq).order_by(table.c.seq).limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            problem = _problem(row, prev)
            if problem:
                return {"ok": False, "events": count, "head": prev,
                        "broken_at": {"seq": row.seq, "id": row.id, "problem": problem}}
            prev, count, last_seq = row.hash, count + 1, row.seq
        mismatch = mismatch or _submission_mismatch(rows)
    broken = _report_cut_off() or mismatch
    if broken is not None:
        return {"ok": False, "events": count, "head": prev, "broken_at": broken}
    return {"ok": True, "events": count, "head": prev}


def _report_cut_off() -> dict | None:
    """Return the first submitted report whose printed head or submission the chain lacks."""
    head_event = aliased(AuditEvent)
    submitted = aliased(AuditEvent)
    snapshot = db.session.execute(select(ReportSnapshot.id, ReportSnapshot.period).where(or_(
        and_(ReportSnapshot.audit_head != GENESIS,
             ~exists().where(head_event.hash == ReportSnapshot.audit_head)),
        ~exists().where(submitted.action == REPORT_SUBMIT, submitted.entity_id == ReportSnapshot.id)))
        .order_by(ReportSnapshot.submitted_at).limit(1)).first()
    if snapshot is None:
        return None
    return {"seq": None, "id": snapshot.id,
            "problem": f"the chain lacks events up to the {snapshot.period} report submitted on it"}


def _submission_mismatch(events) -> dict | None:
    """Return the first report submitted in these events that is gone or differs from its digest."""
    submissions = [event for event in events if event.action == REPORT_SUBMIT]
    if not submissions:
        return None
    table = ReportSnapshot.__table__
    snapshots = {row.id: row for row in db.session.execute(
        select(table).where(table.c.id.in_([event.entity_id for event in submissions])))}
    for event in submissions:
        snapshot, detail = snapshots.get(event.entity_id), event.detail or {}
        if snapshot is None:
            return {"seq": event.seq, "id": event.id,
                    "problem": f"the {detail.get('period')} report submitted here is missing"}
        # Submissions recorded before the digest carry none; the chain's hash keeps one from being removed.
        if "digest" in detail and detail["digest"] != report_digest(snapshot):
            return {"seq": None, "id": snapshot.id,
                    "problem": f"the {snapshot.period} report differs from what its submission recorded"}
    return None


def _problem(row, prev: str) -> str | None:
    if row.prev_hash != prev:
        return "prev_hash does not match the previous event"
    try:
        digest = _digest(row._mapping, _stored_reason(row))
    except DecryptionError:
        return "reason cannot be decrypted"
    return None if digest == row.hash else "hash does not match the event's contents"


def list_events(args: dict):
    """Return a page of events, newest first, filtered by action, entity or actor."""
    query = select(AuditEvent)
    for name in ("action", "entity_id", "actor_id"):
        if args.get(name):
            query = query.where(getattr(AuditEvent, name) == args[name])
    return paginate(query, args["page"], args["per_page"], [AuditEvent.seq.desc()])
