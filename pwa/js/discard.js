// Give up a rejected op for good: it leaves the outbox (a create with the edits queued after it)
// and its record goes back to the server's state.
import * as api from './api.js';
import * as db from './db.js';
import * as store from './store.js';

const PATHS = { household: 'households', child: 'children', visit: 'visits', venue: 'venues',
  inspection: 'inspections', joint_operation: 'operations', plan: 'plans', plan_progress: 'plan_progress',
  staff_check: 'staff_checks', clue: 'clues' };

/** What giving up `op` takes with it: a create's photos (an inspection's) and the ops queued after
 *  it on its record (`ops`: db.recordOps(), read once for this and waitsOnEarlier()), which cannot
 *  apply without it. Read once, to say so to the user and to hand to discard() as what they agreed
 *  to; photos are queued with their inspection only, so none can join later. */
export async function loss(op, ops) {
  if (op.action !== 'create') return { photoIds: [], laterIds: [] };
  const rows = op.entity === 'inspection'
    ? [...await db.photosByState('pending'), ...await db.photosByState('rejected')] : [];
  return { photoIds: rows.filter((p) => p.inspection_id === op.id).map((p) => p.id),
    laterIds: ops.filter((o) => o.seq > op.seq).map((o) => o.op_id) };
}

/** What else waits on the record a refused create makes: the records filed on it (a child's visits
 *  and reports, a household's children and what is filed on those, an inspection's re-inspection),
 *  counted by kind, each once. Giving the create up does not take them: they can no longer go and
 *  stay to be handled one by one, which the worker is told before agreeing. */
export async function waitingOn(op) {
  const counts = {};
  if (op.action !== 'create') return counts;
  const gone = new Set([`${op.entity}:${op.id}`]);
  for (const o of await db.queuedOps()) {  // oldest first: a record comes before what is filed on it
    const key = `${o.entity}:${o.id}`;
    // Only a create is filed on a record; an edit naming it (a child moved into a household) is not.
    if (o.action !== 'create' || gone.has(key) || !db.filedOn(o).some((r) => gone.has(`${r.entity}:${r.id}`))) continue;
    gone.add(key);
    counts[o.entity] = (counts[o.entity] || 0) + 1;
  }
  return counts;
}

/** The server's state of a rejected op's record, `{version, data}` (data null: none): the copy a
 *  pull kept aside; none for a record the server never took or the phone no longer holds (moved
 *  out of scope); else read from the server, since the phone's copy holds the edit given up. */
async function serverState(op) {
  const kept = await db.keptCopy(op.entity, op.id);
  if (kept) return kept;
  if (kept === undefined || op.action === 'create') return { version: null, data: null };
  try {
    const record = await api.get(`/api/${PATHS[op.entity]}/${encodeURIComponent(op.id)}`);
    return { version: record.version, data: record };
  } catch (e) {
    if (e.status === 404) return { version: null, data: null };
    throw e;
  }
}

/** Say whether an earlier op on the same record (`ops`: db.recordOps()) is still queued: given
 *  up first, this one would take the record back to the server's state (or off the phone, under a
 *  refused create) while that op, and what it entered, still waits. */
export const waitsOnEarlier = (op, ops) => ops.some((o) => o.seq < op.seq);

/** Drop a rejected op and take its record as the server has it, the ops queued after it still on
 *  top, or, after a create, with what `loss(op)` named (`agreed`) in the same transaction. Resolve whether the phone still holds the record, or 'changed', having changed
 *  nothing, when the ops after a create are not the ones agreed to any more (another tab queued
 *  one); throw (an ApiError, status 0 offline) when the server's copy could not be read. */
export async function discard(op, agreed) {
  const { photoIds, laterIds } = agreed;
  let record;
  let answer;
  // 'stale' or 'queued': a pull kept a newer copy, or an op was queued, while this one was read.
  do {
    record = { entity: op.entity, id: op.id, ...await serverState(op) };
    answer = await db.resolveConflict(op.op_id, null, record, photoIds, op.action === 'create' ? laterIds : null);
  } while (answer === 'stale' || answer === 'queued');
  if (answer === 'changed') return answer;
  await store.load();
  return answer === 'back' || record.data !== null;
}
