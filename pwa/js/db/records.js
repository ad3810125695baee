// The phone's records as the app reads them, and the local saves that queue their ops.
import { done, recordKey, sealOp, sealPhoto, sealRecord, tx, unsealKv, unsealRecord } from './idb.js';
import { forgetDraftIn } from './drafts.js';

export const allRecords = async () => (await heldRecords()).records;

/** Every record and the pull cursor they are as of, read in one transaction: what the phone
 *  holds, and the cursor that says so (store.js keeps it for the facts recorded on them). */
export async function heldRecords() {
  const [rows, cursorRow] = await tx(['records', 'meta'], 'readonly', (s) => Promise.all([
    done(s.records.getAll()), done(s.meta.get('kv:cursor'))])).then((p) => p);
  const records = await Promise.all(rows.map(async (row) => ({
    entity: row.entity, id: row.id, version: row.version, pending: row.pending,
    data: await unsealRecord(row.key, row),
  })));
  return { records, cursor: cursorRow ? await unsealKv('cursor', cursorRow) : null };
}

/** Save local records, their ops and any photos in one transaction (each op marks its record
 *  pending); photos are `{id, inspection_id, bytes}`. The drafts named in `drafts`, the typing
 *  the records were saved from, go in the same transaction: a tab dropped after the save would
 *  otherwise offer the typing again, to be saved a second time. Resolve false, writing nothing,
 *  when an edit's record is no longer on the phone: a pull took it off (evicted, or deleted)
 *  after the screen read it, and writing it back would leave it here unversioned, for nobody. */
export async function saveLocal(records, ops, photos = [], drafts = []) {
  const sealedRecords = await Promise.all(records.map((r) => sealRecord(r.entity, r.id, r.data)));
  const sealedOps = await Promise.all(ops.map((op) => sealOp(op)));
  const sealedPhotos = await Promise.all(photos.map(sealPhoto));
  const edited = new Set(ops.filter((op) => op.action !== 'create').map((op) => recordKey(op.entity, op.id)));
  const names = ['records', 'outbox', ...(photos.length ? ['photos'] : []), ...(drafts.length ? ['meta'] : [])];
  return tx(names, 'readwrite', (s) => Promise.all(sealedRecords.map((row) => done(s.records.get(row.key))))
    .then((olds) => {
      if (sealedRecords.some((row, i) => !olds[i] && edited.has(row.key))) return false;
      drafts.forEach((name) => forgetDraftIn(s.meta, name));
      sealedPhotos.forEach((row) => s.photos.put(row));
      sealedRecords.forEach((row, i) => {
        const old = olds[i];
        const mine = ops.filter((op) => recordKey(op.entity, op.id) === row.key);
        // An edit that rests on an older copy than the phone holds (its form drawn before a sync brought
        // another's change) keeps the record at that version, and the copy it holds aside as the
        // server's, as a pull keeps one for a record busy with edits: an edit queued after it rests
        // there too, and the change it did not see comes back as a conflict, not overwritten.
        const rests = mine.find((op) => op.action === 'update' && !op.chain && op.base_version != null);
        const behind = rests && old && !old.pending && old.version != null && old.version !== rests.base_version;
        const server = behind ? { version: old.version, iv: old.iv, ct: old.ct } : old && old.server;
        s.records.put({ ...row,
          version: behind ? rests.base_version : old ? old.version : (records[i].version ?? null),
          pending: (old ? old.pending : 0) + mine.length, ...(server ? { server } : {}) });
      });
      sealedOps.forEach((row) => s.outbox.add(row));
      return true;
    }));
}
