// Opens the IndexedDB database and seals its rows; the modules in db/ are the only ones that know
// its schema. Every record and outbox entry is AES-GCM ciphertext; only ids, kinds, versions,
// pending counts and op states stay in clear. A record with pending ops keeps the newest server
// copy a pull brought in `server` ({version, iv, ct}, or {version, deleted}) until one of its ops
// is applied (the copy is older than the server's record then), its conflict is settled or, no
// longer busy, a pull replaces it.
import { seal, unseal, sealBytes, unsealBytes } from '../crypto.js';

const NAME = 'hulei';
const VERSION = 2;
let dbPromise = null;
let key = null;
let upgrades = { hold: () => false, blocked: () => {} };

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

/** What this tab does when another one opens a newer release's database: `hold()` says whether it
 *  keeps its connection (the upgrade waits for it) and reloads later on its own; otherwise it closes
 *  and reloads at once. `blocked()`: this tab's own upgrade waits for another tab. */
export function onUpgrade(hold, blocked) { upgrades = { hold, blocked }; }

function open() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(NAME, VERSION);
      req.onupgradeneeded = (e) => {
        for (let v = e.oldVersion; v < VERSION; v += 1) UPGRADES[v](req.result, req.transaction);
      };
      req.onblocked = () => upgrades.blocked();
      req.onsuccess = () => {
        const db = req.result;
        db.onversionchange = (e) => {
          // A wipe in another tab (no new version) goes at once: its data is being removed anyway.
          if (e.newVersion !== null && upgrades.hold()) return;
          db.close();
          dbPromise = null;
          location.reload();
        };
        resolve(db);
      };
      req.onerror = () => reject(req.error);
    });
  }
  return dbPromise;
}

export const done = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });

/** Run `fn(stores)` in one transaction; resolve with its result when the transaction commits. */
export async function tx(names, mode, fn) {
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

export const recordKey = (entity, id) => `${entity}:${id}`;
const aadRecord = (k) => `records:${k}`;
const aadOp = (opId) => `outbox:${opId}`;
const aadKv = (name) => `meta:kv:${name}`;
const aadDraft = (name) => `meta:draft:${name}`;
const aadPhoto = (id, inspectionId) => `photos:${id}:${inspectionId}`;

export function setKey(k) { key = k; }
export function hasKey() { return key !== null; }

// ---- rows sealed with the key, each bound to its place ----
export async function sealKv(name, value) {
  return { k: `kv:${name}`, ...(await seal(key, value, aadKv(name))) };
}

export const unsealKv = (name, row) => unseal(key, row, aadKv(name));

export const sealDraft = (name, value) => seal(key, value, aadDraft(name));
export const unsealDraft = (name, row) => unseal(key, row, aadDraft(name));
export const sealDraftFile = (name, id, bytes) => sealBytes(key, bytes, `${aadDraft(name)}#${id}`);
export const unsealDraftFile = (name, id, row) => unsealBytes(key, row, `${aadDraft(name)}#${id}`);

export async function sealRecord(entity, id, data) {
  const k = recordKey(entity, id);
  return { key: k, entity, id, ...(await seal(key, data, aadRecord(k))) };
}

/** A record's data from its row, or from the server copy (`row.server`) kept under the same key. */
export const unsealRecord = (k, box) => unseal(key, box, aadRecord(k));

export async function sealOp(op, state = 'pending') {
  return { op_id: op.op_id, state, ...(await seal(key, op, aadOp(op.op_id))) };
}

export const unsealOp = (row) => unseal(key, row, aadOp(row.op_id));

export async function sealPhoto(p) {
  return { id: p.id, inspection_id: p.inspection_id, state: 'pending',
    ...(await sealBytes(key, p.bytes, aadPhoto(p.id, p.inspection_id))) };
}

export const unsealPhoto = (row) => unsealBytes(key, row, aadPhoto(row.id, row.inspection_id));

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
