// The pull side: server changes applied with their cursor, copies kept aside for busy records,
// and the resync that starts the pull over.
import { done, recordKey, sealKv, sealRecord, tx, unsealRecord } from './idb.js';
import { outboxCounts, queuedOps } from './outbox.js';

/** How many of `ops`, read before this transaction, are still queued (a seq is never reused). */
const stillQueued = (outbox, ops) => Promise.all(ops.map((op) => done(outbox.count(op.seq))))
  .then((counts) => counts.reduce((a, b) => a + b, 0));

/** Apply a pulled batch and its cursor in one transaction; local records with pending ops keep
 *  their data and base version so the push can still detect a conflict, and the server's copy
 *  aside, since the cursor moves past it. */
export async function applyPull(changes, cursor) {
  const sealed = await Promise.all(changes.map((c) => (c.action === 'upsert'
    ? sealRecord(c.entity, c.id, c.data) : null)));
  const cursorRow = await sealKv('cursor', cursor);
  // Decrypted only when something is queued: after a push the outbox is mostly empty.
  const { pending, rejected, conflict } = await outboxCounts();
  const queued = pending + rejected + conflict ? await queuedOps() : [];
  await tx(['records', 'meta', 'outbox'], 'readwrite', (s) => {
    changes.forEach((c, i) => {
      const k = recordKey(c.entity, c.id);
      // An evict drops a record even with ops queued; coming back, it is busy with them again.
      const back = () => stillQueued(s.outbox, queued.filter((op) => recordKey(op.entity, op.id) === k))
        .then((pending) => (pending ? { ...sealed[i], version: c.version, pending } : undefined));
      done(s.records.get(k)).then((found) => (found || !sealed[i] ? found : back())).then((row) => {
        const busy = row && row.pending > 0;
        if (c.action === 'upsert' && !busy) {
          // An online action's answer (a received clue) may have brought a newer copy than this page.
          if (!(row && row.version > c.version)) s.records.put({ ...sealed[i], version: c.version, pending: 0 });
        } else if (c.action === 'evict' || (c.action === 'delete' && !busy)) s.records.delete(k);
        // Busy is known only here, so the kept copy is the box sealed for the record (same AAD):
        // a pull of thousands of records seals each once.
        else if (c.action === 'upsert') {
          s.records.put({ ...row, server: { version: c.version, iv: sealed[i].iv, ct: sealed[i].ct } });
        } else if (c.action === 'delete') s.records.put({ ...row, server: { version: c.version, deleted: true } });
      });
    });
    s.meta.put(cursorRow);
  });
}

/** Keep the server's copy of a record an online action answered with (a received clue), unless
 *  this phone has unsynced ops on it or already holds a newer copy; the cursor stays, so the next
 *  pull brings the same version again. */
export async function putServerRecord(entity, id, version, data) {
  const sealed = await sealRecord(entity, id, data);
  await tx(['records'], 'readwrite', (s) => {
    done(s.records.get(sealed.key)).then((row) => {
      if (row && (row.pending > 0 || row.version > version)) return;
      s.records.put({ ...sealed, version, pending: 0 });
    });
  });
}

/** 410 resync_required: forget the cursor and every record without pending ops; keep the outbox. */
export async function resetForResync() {
  await tx(['records', 'meta'], 'readwrite', (s) => {
    s.meta.delete('kv:cursor');
    done(s.records.getAll()).then((rows) => rows.filter((r) => !r.pending).forEach((r) => s.records.delete(r.key)));
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
