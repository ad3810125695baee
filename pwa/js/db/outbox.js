// The outbox: ops queued in order, the answers a push brings back, and refused ops put back.
import { newId } from '../crypto.js';
import { done, recordKey, sealOp, tx, unsealOp } from './idb.js';

export async function outboxByState(state, limit) {
  const rows = await tx(['outbox'], 'readonly',
    (s) => done(s.outbox.index('state').getAll(IDBKeyRange.only(state), limit))).then((p) => p);
  return Promise.all(rows.map(async (row) => ({ seq: row.seq, state: row.state, ...(await unsealOp(row)) })));
}

export async function outboxCounts() {
  return tx(['outbox'], 'readonly', (s) => {
    const idx = s.outbox.index('state');
    return Promise.all(['pending', 'rejected', 'conflict'].map((st) => done(idx.count(IDBKeyRange.only(st)))));
  }).then((p) => p).then(([pending, rejected, conflict]) => ({ pending, rejected, conflict }));
}

/** The ops queued after `seq` (0: all), oldest first, each with its seq. */
export async function queuedOps(seq = 0) {
  const rows = await tx(['outbox'], 'readonly', (s) => done(s.outbox.getAll(IDBKeyRange.lowerBound(seq, true))))
    .then((p) => p);
  return Promise.all(rows.map(async (row) => ({ ...(await unsealOp(row)), seq: row.seq })));
}

/** The ops queued on one record (in any state), oldest first, each with its seq. */
export const recordOps = async (entity, id) => (await queuedOps()).filter((op) => op.entity === entity && op.id === id);

/** Apply one push answer: applied and duplicate ops leave the outbox and set their record's
 *  version, dropping the server copy kept aside (or the record, when the server says it is out of
 *  this phone's scope now); rejected and conflict ops stay, with the server's reasons, for the
 *  user to handle. */
export async function applyPush(ops, results) {
  const byId = new Map(ops.map((op) => [op.op_id, op]));
  const kept = await Promise.all(results.filter((r) => r.status === 'rejected' || r.status === 'conflict')
    .map((r) => sealOp({ ...byId.get(r.op_id), errors: r.errors || null, current: r.current || null },
      r.status)));
  const keptById = new Map(kept.map((row) => [row.op_id, row]));
  await tx(['records', 'outbox'], 'readwrite', (s) => {
    for (const r of results) {
      const op = byId.get(r.op_id);
      if (!op) continue;
      done(s.outbox.index('op_id').getKey(r.op_id)).then((seq) => {
        if (seq === undefined) return;
        if (keptById.has(r.op_id)) { s.outbox.put({ ...keptById.get(r.op_id), seq }); return; }
        s.outbox.delete(seq);
        const k = recordKey(op.entity, op.id);
        done(s.records.get(k)).then((row) => {
          if (!row) return;
          // Out of scope: a fact filed for a record this phone held that has left its reach since.
          if (op.entity === 'clue' || op.action === 'delete' || r.out_of_scope) { s.records.delete(k); return; }
          // An applied edit may have been merged with another phone's: keep the version this phone
          // saw until a pull brings the merged record, so a later edit cannot claim to have seen it.
          const version = op.action === 'create' ? (r.version ?? row.version) : row.version;
          // A server copy kept aside predates this edit now on the server: a give-up reads it anew.
          const { server, ...rest } = row;
          void server;
          s.records.put({ ...rest, version, pending: Math.max(0, row.pending - 1) });
        });
      });
    }
  });
}

/** Put a rejected op back in the queue (after the user fixed what was wrong elsewhere) under a new
 *  op id, in its old place: the server answers an op id it has seen with its first answer, so the
 *  old id would be refused again however the cause was fixed. */
export async function retryOp(opId) {
  const row = await tx(['outbox'], 'readonly', (s) => done(s.outbox.index('op_id').get(opId))).then((p) => p);
  if (!row || row.state !== 'rejected') return;
  const { errors, current, ...op } = await unsealOp(row);
  void errors; void current;
  const fresh = await sealOp({ ...op, op_id: newId() });
  await tx(['outbox'], 'readwrite', (s) => {
    done(s.outbox.get(row.seq)).then((now) => { if (now && now.op_id === opId) s.outbox.put({ ...fresh, seq: row.seq }); });
  });
}
