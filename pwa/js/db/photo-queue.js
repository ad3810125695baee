// The photos store: inspection photos waiting for upload, sealed, read one at a time.
import { done, tx, unsealPhoto } from './idb.js';

export async function photoIds(state) {
  return tx(['photos'], 'readonly', (s) => done(s.photos.index('state').getAllKeys(IDBKeyRange.only(state))))
    .then((p) => p);
}

/** The photos in one state, without their bytes: `{id, inspection_id, error_code}`. */
export async function photosByState(state) {
  const rows = await tx(['photos'], 'readonly', (s) => done(s.photos.index('state').getAll(IDBKeyRange.only(state))))
    .then((p) => p);
  return rows.map((r) => ({ id: r.id, inspection_id: r.inspection_id, error_code: r.error_code || null }));
}

/** One queued photo with its bytes decrypted (read one at a time: photos are large). */
export async function photo(id) {
  const row = await tx(['photos'], 'readonly', (s) => done(s.photos.get(id))).then((p) => p);
  if (!row) return null;
  return { id: row.id, inspection_id: row.inspection_id, state: row.state, error_code: row.error_code || null,
    bytes: await unsealPhoto(row) };
}

export async function photoCounts() {
  return tx(['photos'], 'readonly', (s) => {
    const idx = s.photos.index('state');
    return Promise.all(['pending', 'rejected'].map((st) => done(idx.count(IDBKeyRange.only(st)))));
  }).then((p) => p).then(([pending, rejected]) => ({ pending, rejected }));
}

/** Set a photo's state: 'rejected' (with the server's error code) keeps it for the user, 'pending' retries. */
export async function markPhoto(id, state, errorCode = null) {
  await tx(['photos'], 'readwrite', (s) => {
    done(s.photos.get(id)).then((row) => { if (row) s.photos.put({ ...row, state, error_code: errorCode }); });
  });
}

export async function deletePhoto(id) {
  await tx(['photos'], 'readwrite', (s) => { s.photos.delete(id); });
}
