// The pull side: server changes applied with their cursor, copies kept aside for busy records,
// and the resync that starts the pull over.
import { done, recordKey, sealKv, sealRecord, tx, unsealRecord } from './idb.js';
import { queuedOps } from './outbox.js';

/** A record's data as the phone shows it: `data` with the data of `ops` on it on top, in queue order. */
export const withOps = (data, ops) => ops.reduce((d, op) => ({ ...d, ...op.data }), data);

/** For each of `records` ({entity, id, data} from the server; null: none) with ops queued on it,
 *  what it shows if it comes back to a phone that no longer holds it (a pull evicted it): those
 *  ops, oldest first, and the server's data with theirs on top, sealed now, since crypto awaited
 *  inside the transaction that writes it would end it. */
async function comingBack(records) {
  const byKey = new Map();
  for (const op of await queuedOps()) {
    const k = recordKey(op.entity, op.id);
    byKey.set(k, [...(byKey.get(k) || []), op]);
  }
  return Promise.all(records.map(async (r) => {
    const ops = r ? byKey.get(recordKey(r.entity, r.id)) : null;
    if (!ops) return null;
    // Whether the phone still holds the record is known only in the transaction: one extra box
    // a record with ops queued, whatever the size of the pull.
    return { ops, box: await sealRecord(r.entity, r.id, withOps(r.data, ops)) };
  }));
}

/** In the transaction: the row of a record the phone no longer holds, come back as the server's
 *  `box` of `version`, with `back` from comingBack(): busy with its ops still queued, the server's
 *  copy kept aside as for any busy record; undefined when none is. It shows what the ops entered
 *  when they are all still queued, unchanged; else (one given up or replaced meanwhile) the
 *  server's data until the push. */
function backRow(outbox, back, box, version) {
  if (!back) return Promise.resolve(undefined);
  return Promise.all(back.ops.map((op) => done(outbox.get(op.seq)))).then((rows) => {
    const pending = rows.filter(Boolean).length;
    if (!pending) return undefined;
    const unchanged = rows.every((row, j) => row && row.op_id === back.ops[j].op_id);
    return { ...(unchanged ? back.box : box), version, pending, server: { version, iv: box.iv, ct: box.ct } };
  });
}

/** Apply a pulled batch and its cursor in one transaction; local records with pending ops keep
 *  their data and base version so the push can still detect a conflict, and the server's copy
 *  aside, since the cursor moves past it. */
export async function applyPull(changes, cursor, last = false) {
  const sealed = await Promise.all(changes.map((c) => (c.action === 'upsert'
    ? sealRecord(c.entity, c.id, c.data) : null)));
  const cursorRow = await sealKv('cursor', cursor);
  const backs = await comingBack(changes.map((c) => (c.action === 'upsert' ? c : null)));
  await tx(['records', 'meta', 'outbox'], 'readwrite', (s) => {
    changes.forEach((c, i) => {
      const k = recordKey(c.entity, c.id);
      // An evict drops a record even with ops queued; coming back, it is busy with them again.
      const orBack = (found) => found || backRow(s.outbox, backs[i], sealed[i], c.version);
      done(s.records.get(k)).then(orBack).then((row) => {
        const busy = row && row.pending > 0;
        if (c.action === 'upsert' && !busy) {
          // An online action's answer (a received clue) may have brought a newer copy than this page.
          if (!(row && row.version > c.version)) s.records.put({ ...sealed[i], version: c.version, pending: 0 });
          else if (row.stale) s.records.put(fresh(row));
        } else if (c.action === 'evict' || (c.action === 'delete' && !busy)) s.records.delete(k);
        // Busy is known only here, so the kept copy is the box sealed for the record (same AAD):
        // a pull of thousands of records seals each once.
        else if (c.action === 'upsert') {
          s.records.put({ ...fresh(row), server: { version: c.version, iv: sealed[i].iv, ct: sealed[i].ct } });
        } else if (c.action === 'delete') s.records.put({ ...row, server: { version: c.version, deleted: true } });
      });
    });
    s.meta.put(cursorRow);
    if (last) sweepAfterResync(s);
  });
}

const RESYNC = 'resync';
const fresh = ({ stale, ...row }) => row;

/** In a pull's last transaction: a resync under way ends here, and what it did not send again
 *  (deleted, or out of the scope, meanwhile) goes, but records with ops still queued. */
function sweepAfterResync(s) {
  done(s.meta.get(RESYNC)).then((flag) => {
    if (!flag) return;
    s.meta.delete(RESYNC);
    done(s.records.getAll()).then((rows) => rows.filter((r) => r.stale && !r.pending)
      .forEach((r) => s.records.delete(r.key)));
  });
}

/** Keep the server's copy of a record an online action answered with (a received clue), unless
 *  this phone has unsynced ops on it or already holds a newer copy; the cursor stays, so the next
 *  pull brings the same version again. A record a pull evicted with ops still queued on it comes
 *  back busy with them, as from a pull. */
export async function putServerRecord(entity, id, version, data) {
  const sealed = await sealRecord(entity, id, data);
  const [back] = await comingBack([{ entity, id, data }]);
  await tx(['records', 'outbox'], 'readwrite', (s) => {
    done(s.records.get(sealed.key)).then((row) => {
      const fresh = { ...sealed, version, pending: 0 };
      if (!row) backRow(s.outbox, back, sealed, version).then((busy) => s.records.put(busy || fresh));
      else if (!(row.pending > 0 || row.version > version)) s.records.put(fresh);
    });
  });
}

/** 410 resync_required: forget the cursor and pull everything again. The records stay until the
 *  pull has ended (a signal lost midway leaves the worker the register they had, not none): each
 *  is marked stale, the pull's copy replaces it, and its last page takes those it did not send
 *  (sweepAfterResync). The outbox stays. */
export async function resetForResync() {
  await tx(['records', 'meta'], 'readwrite', (s) => {
    s.meta.delete('kv:cursor');
    s.meta.put({ k: RESYNC, at: Date.now() });
    done(s.records.getAll()).then((rows) => rows.filter((r) => !r.pending)
      .forEach((r) => s.records.put({ ...r, stale: true })));
  });
}

/** The newest server copy a pull kept aside for a busy record, `{version, data}` (data null: the
 *  server deleted it); null when none came, undefined when the phone holds no such record. */
export async function keptCopy(entity, id) {
  const k = recordKey(entity, id);
  const row = await tx(['records'], 'readonly', (s) => done(s.records.get(k))).then((p) => p);
  if (!row || !row.server) return row ? null : undefined;
  return { version: row.server.version, data: row.server.deleted ? null : await unsealRecord(k, row.server) };
}
