// Conflicted and refused ops settled: the server's newest copy read, the op replaced or dropped.
import { done, recordKey, sealOp, sealRecord, tx } from './idb.js';
import { queuedOps } from './outbox.js';
import { keptCopy, withOps } from './pull.js';

// A server delete is final; otherwise the higher version is the newer copy.
const newerThan = (kept, version) => Boolean(kept) && (kept.deleted || kept.version > version);

/** In the transaction of a give-up with no server copy at hand (`record.data` null), the row to
 *  keep, `pending` ops left on it, if the stored one is the server's: a pull brought the record
 *  back since it was read. The phone's own copy has ops pending and no live server copy aside.
 *  Kept, it shows the server's data, with none of the dropped op's edits; null: remove the row. */
function cameBack(row, pending) {
  if (!row) return null;
  const { server, ...rest } = row;
  if (server && !server.deleted) {
    return { ...rest, iv: server.iv, ct: server.ct, version: server.version, pending, ...(pending ? { server } : {}) };
  }
  return row.pending > 0 || server ? null : row;
}

/** The newest server copy of a conflicted op's record, `{version, data}` (data null when the
 *  server deleted it or this user may no longer see it): the push's answer, or what a later pull
 *  kept aside if that is newer. */
export async function serverCopy(op) {
  const kept = await keptCopy(op.entity, op.id);
  // No `current`: by the time a retried op was answered the record was gone for this user. No
  // record here: a pull evicted it since, out of this user's scope now.
  const answer = op.current && kept !== undefined ? { version: op.current.version, data: op.current }
    : { version: null, data: null };
  return newerThan(kept && { ...kept, deleted: kept.data === null }, answer.version ?? -Infinity) ? kept : answer;
}

/** Settle a conflict: replace the conflicted op with `newOp` (mine or merged, based on the server's
 *  version), in its place in the queue, or drop it (a conflicted or rejected op given up) and take
 *  the server's record as it is (`record.data` null: deleted there, or never there). Edits queued
 *  after it on the record still go after it and still show on the phone, on top of the settled
 *  record, unless `dropLater` (a refused create given up: they cannot apply without it) names
 *  them: the op ids of exactly those the user agreed to drop with it. `photoIds`, of a dropped
 *  create, go in the same transaction. Resolve, changing nothing, 'stale' when a newer server copy
 *  arrived after `record` was read, 'queued' when an op was queued since (read again), 'changed'
 *  when the edits after a create are no longer the ones agreed to; 'back', settled, when the record
 *  (`record.data` null) is on the phone as the server's again, a pull having brought it back. */
export async function resolveConflict(opId, newOp, record, photoIds = [], dropLater = null) {
  const sealedOp = newOp ? await sealOp(newOp) : null;
  const k = recordKey(record.entity, record.id);
  const seq = await tx(['outbox'], 'readonly', (s) => done(s.outbox.index('op_id').getKey(opId))).then((p) => p);
  if (seq === undefined) return 'settled';
  // The later ops matter when they show on the record, or go with it.
  const readLater = Boolean(record.data || dropLater);
  const after = readLater ? await queuedOps(seq) : [];
  const later = after.filter((op) => op.entity === record.entity && op.id === record.id);
  const agreed = dropLater && new Set(dropLater);
  if (agreed && (later.length !== agreed.size || later.some((op) => !agreed.has(op.op_id)))) return 'changed';
  const data = record.data && (dropLater ? record.data : withOps(record.data, later));
  const sealedRec = data ? await sealRecord(record.entity, record.id, data) : null;
  const names = ['records', 'outbox', ...(photoIds.length ? ['photos'] : [])];
  const seen = new Set(after.map((op) => op.seq));
  return tx(names, 'readwrite', (s) => done(s.outbox.get(seq)).then((now) => {
    if (!now || now.op_id !== opId) return 'settled';
    return done(s.records.get(k)).then((row) => (readLater
      ? done(s.outbox.getAllKeys(IDBKeyRange.lowerBound(seq, true))) : Promise.resolve([])).then((queued) => {
      if (sealedRec && newerThan(row && row.server, record.version)) return 'stale';
      // Ops are sealed, so one queued since `later` was read may be on this record: read again.
      if (queued.some((n) => !seen.has(n))) return 'queued';
      const gone = dropLater ? later.filter((op) => queued.includes(op.seq)) : [];
      if (sealedOp) s.outbox.put({ ...sealedOp, seq });
      else s.outbox.delete(seq);
      gone.forEach((op) => s.outbox.delete(op.seq));
      photoIds.forEach((id) => s.photos.delete(id));
      const pending = Math.max(0, (row ? row.pending : 1) - 1 - gone.length) + (sealedOp ? 1 : 0);
      const back = sealedRec ? null : cameBack(row, pending);
      if (sealedRec) s.records.put({ ...sealedRec, version: record.version, pending });
      else if (back) s.records.put(back);
      else s.records.delete(k);
      return back ? 'back' : 'settled';
    }));
  }));
}
