// The outbox: ops queued in order, the answers a push brings back, and refused ops put back.
import { newId } from '../crypto.js';
import { done, recordKey, sealOp, sealRecord, tx, unsealOp, unsealRecord } from './idb.js';
import { forgetDraftIn } from './drafts.js';

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
  const found = await refusedOp(opId);
  if (!found) return;
  const { row, op } = found;
  const fresh = await sealOp({ ...op, op_id: newId() });
  await tx(['outbox'], 'readwrite', (s) => {
    done(s.outbox.get(row.seq)).then((now) => { if (now && now.op_id === opId) s.outbox.put({ ...fresh, seq: row.seq }); });
  });
}

/** The op `opId` while it is refused, `{row, op}` (the op without the server's answer), else null. */
async function refusedOp(opId) {
  const row = await tx(['outbox'], 'readonly', (s) => done(s.outbox.index('op_id').get(opId))).then((p) => p);
  if (!row || row.state !== 'rejected') return null;
  const { errors, current, ...op } = await unsealOp(row);
  void errors; void current;
  return { row, op };
}

const sameBox = (a, b) => (!a && !b) || Boolean(a && b && a.iv.length === b.iv.length && a.iv.every((x, i) => x === b.iv[i]));

/** Put a refused create back in the queue with the fields the user corrected (`data`, the whole
 *  record's), in its old place under a new op id (as retryOp), and the phone's copy of the record
 *  with it. The record keeps its id, so the visits and clues filed on it still name it. The draft
 *  named in `drafts` goes in the same transaction. Resolve false, having changed nothing, when the
 *  op is no longer refused (sent again or given up in another tab). */
export async function correctOp(opId, data, drafts = []) {
  for (;;) {
    const found = await refusedOp(opId);
    if (!found) return false;
    const { row, op } = found;
    const k = recordKey(op.entity, op.id);
    const held = await tx(['records'], 'readonly', (s) => done(s.records.get(k))).then((p) => p);
    // Only what the correction changed: an edit queued on the record since keeps its own fields.
    const changed = Object.fromEntries(Object.entries(data)
      .filter(([name, value]) => JSON.stringify(value) !== JSON.stringify(op.data[name])));
    const record = held && await sealRecord(op.entity, op.id, { ...await unsealRecord(k, held), ...changed });
    const fresh = await sealOp({ ...op, op_id: newId(), data });
    const answer = await tx(['outbox', 'records', ...(drafts.length ? ['meta'] : [])], 'readwrite',
      (s) => Promise.all([done(s.outbox.get(row.seq)), done(s.records.get(k))]).then(([now, rec]) => {
        if (!now || now.op_id !== opId || now.state !== 'rejected') return false;
        if (!sameBox(rec, held)) return 'again';  // the record was saved anew while this was sealed
        s.outbox.put({ ...fresh, seq: row.seq });
        if (record) s.records.put({ ...record, version: rec.version, pending: rec.pending, ...(rec.server ? { server: rec.server } : {}) });
        drafts.forEach((name) => forgetDraftIn(s.meta, name));
        return true;
      })).then((p) => p);
    if (answer !== 'again') return answer;
  }
}

// The field naming the record an op was filed on: refused for it alone, the op waits for that record.
const FILED_ON = [['child_id', 'child'], ['household_id', 'household'], ['reinspection_of', 'inspection']];

/** The records `op` was filed on, [{entity, id}]: its child or household, the inspection it re-checks. */
export const filedOn = (op) => FILED_ON.filter(([name]) => op.data && op.data[name])
  .map(([name, entity]) => ({ entity, id: op.data[name] }));

/** The record a refused op waits for, {entity, id}, or null: the child or household it was filed
 *  on, or the inspection it re-checks, when that alone was refused (not on the server, or not in
 *  reach), or its own record when an
 *  edit of it was refused as not found (its create refused). */
export function waitsFor(op) {
  const keys = Object.keys(op.errors || {});
  if (keys.length !== 1) return null;
  const on = FILED_ON.find(([name]) => keys[0] === name && op.data && op.data[name]);
  if (on) return { entity: on[1], id: op.data[on[0]] };
  return op.action !== 'create' && keys[0] === '_op' && String(op.errors._op) === '记录不存在'
    ? { entity: op.entity, id: op.id } : null;
}

/** Put back in the queue the refused ops that waited only for one of `made` ({entity, id}: records
 *  the server has just taken, a create refused once, then corrected or sent again). Their content
 *  was never refused; refused again for something else, they come back to the list. */
export async function retryWaiting(made) {
  if (!made.length || !(await outboxCounts()).rejected) return;
  const waiting = (await outboxByState('rejected')).filter((op) => {
    const on = waitsFor(op);
    return on && made.some((r) => r.entity === on.entity && r.id === on.id);
  });
  for (const op of waiting) await retryOp(op.op_id);
}
