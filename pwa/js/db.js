// The only module that knows the IndexedDB schema. Every record and outbox entry is AES-GCM
// ciphertext; only ids, kinds, versions, pending counts and op states stay in clear. A record
// with pending ops keeps the newest server copy a pull brought in `server` ({version, iv, ct},
// or {version, deleted}) until its conflict is settled or, no longer busy, a pull replaces it.
import { newId, seal, unseal, sealBytes, unsealBytes } from './crypto.js';

const NAME = 'hulei';
const VERSION = 2;
let dbPromise = null;
let key = null;

// Schema upgrades, one step per version; never drops the outbox.
const UPGRADES = [
  (db) => {
    db.createObjectStore('meta', { keyPath: 'k' });
    db.createObjectStore('records', { keyPath: 'key' }).createIndex('entity', 'entity');
    const outbox = db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
    outbox.createIndex('state', 'state');
    outbox.createIndex('op_id', 'op_id', { unique: true });
  },
  // v2: inspection photos waiting for upload (sealed bytes; id, inspection id and state in clear).
  (db) => {
    db.createObjectStore('photos', { keyPath: 'id' }).createIndex('state', 'state');
  },
];

function open() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(NAME, VERSION);
      req.onupgradeneeded = (e) => {
        for (let v = e.oldVersion; v < VERSION; v += 1) UPGRADES[v](req.result, req.transaction);
      };
      req.onsuccess = () => {
        const db = req.result;
        db.onversionchange = () => { db.close(); dbPromise = null; location.reload(); };
        resolve(db);
      };
      req.onerror = () => reject(req.error);
    });
  }
  return dbPromise;
}

const done = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });

/** Run `fn(stores)` in one transaction; resolve with its result when the transaction commits. */
async function tx(names, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(names, mode);
    const stores = Object.fromEntries(names.map((n) => [n, t.objectStore(n)]));
    let result;
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transaction aborted'));
    result = fn(stores, t);
  });
}

const recordKey = (entity, id) => `${entity}:${id}`;
const aadRecord = (k) => `records:${k}`;
const aadOp = (opId) => `outbox:${opId}`;
const aadKv = (name) => `meta:kv:${name}`;
const aadPhoto = (id, inspectionId) => `photos:${id}:${inspectionId}`;

export function setKey(k) { key = k; }
export function hasKey() { return key !== null; }

// ---- plaintext unlock data (salt, iterations, verifier, failures, device id) ----
export async function getAuth() {
  return tx(['meta'], 'readonly', (s) => done(s.meta.get('auth'))).then((p) => p);
}

/** Count a wrong password, or clear the count (`wrong` false), in one transaction: tabs may try at
 *  once. Resolve the count, null when the auth row is gone (wiped meanwhile). */
export async function countFailure(wrong = true) {
  return tx(['meta'], 'readwrite', (s) => done(s.meta.get('auth')).then((auth) => {
    if (!auth) return null;
    const failures = wrong ? (auth.failures || 0) + 1 : 0;
    s.meta.put({ ...auth, failures });
    return failures;
  }));
}

/** Write the first auth row; refused (false) when one exists already (another tab logged in). */
export async function createAuth(auth) {
  return tx(['meta'], 'readwrite', (s, t) => {
    const req = s.meta.add({ ...auth, k: 'auth' });
    req.onerror = (e) => { e.preventDefault(); e.stopPropagation(); t.abort(); };
  }).then(() => true, () => false);
}

// ---- encrypted small values: user, cursor, templates, places, last sync ----
export async function kvGet(name) {
  const row = await tx(['meta'], 'readonly', (s) => done(s.meta.get(`kv:${name}`))).then((p) => p);
  return row ? unseal(key, row, aadKv(name)) : null;
}

export async function kvSet(name, value) {
  const box = await seal(key, value, aadKv(name));
  await tx(['meta'], 'readwrite', (s) => { s.meta.put({ k: `kv:${name}`, ...box }); });
}

async function sealKv(name, value) {
  return { k: `kv:${name}`, ...(await seal(key, value, aadKv(name))) };
}

// ---- records ----
export async function allRecords() {
  const rows = await tx(['records'], 'readonly', (s) => done(s.records.getAll())).then((p) => p);
  return Promise.all(rows.map(async (row) => ({
    entity: row.entity, id: row.id, version: row.version, pending: row.pending,
    data: await unseal(key, row, aadRecord(row.key)),
  })));
}

async function sealRecord(entity, id, data) {
  const k = recordKey(entity, id);
  return { key: k, entity, id, ...(await seal(key, data, aadRecord(k))) };
}

async function sealOp(op, state = 'pending') {
  return { op_id: op.op_id, state, ...(await seal(key, op, aadOp(op.op_id))) };
}

async function sealPhoto(p) {
  return { id: p.id, inspection_id: p.inspection_id, state: 'pending',
    ...(await sealBytes(key, p.bytes, aadPhoto(p.id, p.inspection_id))) };
}

/** Save local records, their ops and any photos in one transaction (each op marks its record
 *  pending); photos are `{id, inspection_id, bytes}`. */
export async function saveLocal(records, ops, photos = []) {
  const sealedRecords = await Promise.all(records.map((r) => sealRecord(r.entity, r.id, r.data)));
  const sealedOps = await Promise.all(ops.map((op) => sealOp(op)));
  const sealedPhotos = await Promise.all(photos.map(sealPhoto));
  const names = ['records', 'outbox', ...(photos.length ? ['photos'] : [])];
  await tx(names, 'readwrite', (s) => {
    sealedPhotos.forEach((row) => s.photos.put(row));
    sealedRecords.forEach((row, i) => {
      done(s.records.get(row.key)).then((old) => {
        const opsFor = ops.filter((op) => recordKey(op.entity, op.id) === row.key).length;
        s.records.put({ ...row, version: old ? old.version : (records[i].version ?? null),
          pending: (old ? old.pending : 0) + opsFor, ...(old && old.server ? { server: old.server } : {}) });
      });
    });
    sealedOps.forEach((row) => s.outbox.add(row));
  });
}

// ---- outbox ----
export async function outboxByState(state, limit) {
  const rows = await tx(['outbox'], 'readonly',
    (s) => done(s.outbox.index('state').getAll(IDBKeyRange.only(state), limit))).then((p) => p);
  return Promise.all(rows.map(async (row) => ({ seq: row.seq, state: row.state,
    ...(await unseal(key, row, aadOp(row.op_id))) })));
}

export async function outboxCounts() {
  return tx(['outbox'], 'readonly', (s) => {
    const idx = s.outbox.index('state');
    return Promise.all(['pending', 'rejected', 'conflict'].map((st) => done(idx.count(IDBKeyRange.only(st)))));
  }).then((p) => p).then(([pending, rejected, conflict]) => ({ pending, rejected, conflict }));
}

/** Apply one push answer: applied and duplicate ops leave the outbox and set their record's
 *  version; rejected and conflict ops stay, with the server's reasons, for the user to handle. */
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
          if (op.entity === 'clue' || op.action === 'delete') { s.records.delete(k); return; }
          // An applied edit may have been merged with another phone's: keep the version this phone
          // saw until a pull brings the merged record, so a later edit cannot claim to have seen it.
          const version = op.action === 'create' ? (r.version ?? row.version) : row.version;
          s.records.put({ ...row, version, pending: Math.max(0, row.pending - 1) });
        });
      });
    }
  });
}

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

// A server delete is final; otherwise the higher version is the newer copy.
const newerThan = (kept, version) => Boolean(kept) && (kept.deleted || kept.version > version);

/** The newest server copy a pull kept aside for a busy record, `{version, data}` (data null: the
 *  server deleted it); null when none came, undefined when the phone holds no such record. */
export async function keptCopy(entity, id) {
  const k = recordKey(entity, id);
  const row = await tx(['records'], 'readonly', (s) => done(s.records.get(k))).then((p) => p);
  if (!row || !row.server) return row ? null : undefined;
  return { version: row.server.version, data: row.server.deleted ? null : await unseal(key, row.server, aadRecord(k)) };
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

/** The ops queued after `seq` (0: all), oldest first, each with its seq. */
async function queuedOps(seq = 0) {
  const rows = await tx(['outbox'], 'readonly', (s) => done(s.outbox.getAll(IDBKeyRange.lowerBound(seq, true))))
    .then((p) => p);
  return Promise.all(rows.map(async (row) => ({ ...(await unseal(key, row, aadOp(row.op_id))), seq: row.seq })));
}

/** How many of `ops`, read before this transaction, are still queued (a seq is never reused). */
const stillQueued = (outbox, ops) => Promise.all(ops.map((op) => done(outbox.count(op.seq))))
  .then((counts) => counts.reduce((a, b) => a + b, 0));

/** The ops queued after `seq` on one record, oldest first. */
export const laterOps = async (entity, id, seq) => (await queuedOps(seq)).filter((op) => op.entity === entity && op.id === id);

/** The ops on one record queued before `seq` (in any state). */
export const earlierOps = async (entity, id, seq) => (await queuedOps())
  .filter((op) => op.entity === entity && op.id === id && op.seq < seq);

/** Settle a conflict: replace the conflicted op with `newOp` (mine or merged, based on the server's
 *  version), in its place in the queue, or drop it (a conflicted or rejected op given up) and take
 *  the server's record as it is (`record.data` null: deleted there, or never there). Edits queued
 *  after it on the record still go after it and still show on the phone, on top of the settled
 *  record, unless `dropLater` (a refused create given up: they cannot apply without it) drops them
 *  too. `photoIds`, of a dropped create, go in the same transaction. Resolve 'stale', changing
 *  nothing, when a newer server copy arrived after `record` was read, or an op was queued since. */
export async function resolveConflict(opId, newOp, record, photoIds = [], dropLater = false) {
  const sealedOp = newOp ? await sealOp(newOp) : null;
  const k = recordKey(record.entity, record.id);
  const seq = await tx(['outbox'], 'readonly', (s) => done(s.outbox.index('op_id').getKey(opId))).then((p) => p);
  if (seq === undefined) return 'settled';
  const after = record.data || dropLater ? await queuedOps(seq) : [];
  const later = after.filter((op) => op.entity === record.entity && op.id === record.id);
  const data = record.data && (dropLater ? record.data : later.reduce((d, op) => ({ ...d, ...op.data }), record.data));
  const sealedRec = data ? await sealRecord(record.entity, record.id, data) : null;
  const names = ['records', 'outbox', ...(photoIds.length ? ['photos'] : [])];
  const seen = new Set(after.map((op) => op.seq));
  return tx(names, 'readwrite', (s) => done(s.outbox.get(seq)).then((now) => {
    if (!now || now.op_id !== opId) return 'settled';
    return done(s.records.get(k)).then((row) => (dropLater
      ? done(s.outbox.getAllKeys(IDBKeyRange.lowerBound(seq, true))) : Promise.resolve([])).then((queued) => {
      if (sealedRec && newerThan(row && row.server, record.version)) return 'stale';
      // Ops are sealed, so one queued since `later` was read may be on this record: read again.
      if (queued.some((n) => !seen.has(n))) return 'stale';
      const gone = later.filter((op) => queued.includes(op.seq));
      if (sealedOp) s.outbox.put({ ...sealedOp, seq });
      else s.outbox.delete(seq);
      gone.forEach((op) => s.outbox.delete(op.seq));
      photoIds.forEach((id) => s.photos.delete(id));
      const pending = Math.max(0, (row ? row.pending : 1) - 1 - gone.length) + (sealedOp ? 1 : 0);
      if (sealedRec) s.records.put({ ...sealedRec, version: record.version, pending });
      else s.records.delete(k);
      return 'settled';
    }));
  }));
}

/** Put a rejected op back in the queue (after the user fixed what was wrong elsewhere) under a new
 *  op id, in its old place: the server answers an op id it has seen with its first answer, so the
 *  old id would be refused again however the cause was fixed. */
export async function retryOp(opId) {
  const row = await tx(['outbox'], 'readonly', (s) => done(s.outbox.index('op_id').get(opId))).then((p) => p);
  if (!row || row.state !== 'rejected') return;
  const { errors, current, ...op } = await unseal(key, row, aadOp(row.op_id));
  void errors; void current;
  const fresh = await sealOp({ ...op, op_id: newId() });
  await tx(['outbox'], 'readwrite', (s) => {
    done(s.outbox.get(row.seq)).then((now) => { if (now && now.op_id === opId) s.outbox.put({ ...fresh, seq: row.seq }); });
  });
}

// ---- photos waiting for upload ----
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
    bytes: await unsealBytes(key, row, aadPhoto(row.id, row.inspection_id)) };
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

/** Close and delete the whole database (logout, revoked device, too many wrong passwords). */
export async function wipe() {
  key = null;
  if (dbPromise) {
    const db = await dbPromise.catch(() => null);
    if (db) db.close();
    dbPromise = null;
  }
  await new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(NAME);
    req.onsuccess = req.onerror = req.onblocked = () => resolve();
  });
}
