// Give up a rejected op for good: it leaves the outbox (a create with the edits queued after it)
// and its record goes back to the server's state.
import * as api from './api.js';
import * as db from './db.js';
import * as store from './store.js';

const PATHS = { household: 'households', child: 'children', visit: 'visits', venue: 'venues',
  inspection: 'inspections', joint_operation: 'operations', plan: 'plans', plan_progress: 'plan_progress',
  staff_check: 'staff_checks', clue: 'clues' };

/** The queued photos of an inspection, waiting or refused (they go when its create is given up). */
export async function photosOf(inspectionId) {
  const rows = [...await db.photosByState('pending'), ...await db.photosByState('rejected')];
  return rows.filter((p) => p.inspection_id === inspectionId);
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

/** Say whether an earlier op on the same record is still queued: given up first, this one would
 *  take the record back to the server's state (or off the phone, under a refused create) while
 *  that op, and what it entered, still waits. */
export async function waitsOnEarlier(op) {
  return (await db.earlierOps(op.entity, op.id, op.seq)).length > 0;
}

/** The ops queued after a refused create on its record, which go with it when it is given up:
 *  never on the server, the record has nothing they could apply to. None after another op. */
export async function laterOps(op) {
  return op.action === 'create' ? db.laterOps(op.entity, op.id, op.seq) : [];
}

/** Drop a rejected op and take its record as the server has it, the ops queued after it still on
 *  top, or, after a create, dropped with it in the same transaction (`agreed`: the op ids of the
 *  later ops the user agreed to drop), as are an inspection's photos. Resolve whether the phone
 *  still holds the record, or 'changed', having changed nothing, when the later ops are not the
 *  agreed ones any more (another tab queued one); throw (an ApiError, status 0 offline) when the
 *  server's copy could not be read. */
export async function discard(op, agreed = []) {
  let record;
  let answer;
  // Photos are queued with their inspection only: none can join the list once it is read.
  const photos = op.entity === 'inspection' && op.action === 'create' ? (await photosOf(op.id)).map((p) => p.id) : [];
  // 'stale' or 'queued': a pull kept a newer copy, or an op was queued, while this one was read.
  do {
    record = { entity: op.entity, id: op.id, ...await serverState(op) };
    answer = await db.resolveConflict(op.op_id, null, record, photos, op.action === 'create' ? agreed : null);
  } while (answer === 'stale' || answer === 'queued');
  if (answer === 'changed') return answer;
  await store.load();
  return record.data !== null;
}
