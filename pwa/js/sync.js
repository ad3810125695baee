// Outbox push (oldest first, in batches) and pull (each batch with its cursor), one tab at a time.
import * as api from './api.js';
import * as db from './db.js';
import * as otherTabs from './other-tabs.js';
import * as photos from './photos.js';
import * as session from './session.js';
import * as store from './store.js';
import * as state from './state.js';
import { inWords, isoNow } from './ui.js';

const BATCH = 100;
const PULL_LIMIT = 500;
const EVERY_MS = 3 * 60 * 1000;
const MAX_BACKOFF_MS = 5 * 60 * 1000;
let failures = 0;
let retryTimer = null;
let current = null;  // the sync running in this tab, which a caller asking for one waits on
let again = false;
let waiting = null;  // this tab waiting for another tab's sync to end
let changed = false;  // whether this sync wrote to the store: other tabs then read it again

/** Start the schedule: now, on `online`, every few minutes while open. */
let started = false;

export function start() {
  if (started) return sync();
  started = true;
  addEventListener('online', () => { state.set({ online: true }); sync(); });
  addEventListener('offline', () => state.set({ online: false }));
  setInterval(() => sync(), EVERY_MS);
  return sync();
}

/** Run one sync, one tab at a time. Asked while this tab's sync runs (a retried or settled op), it
 *  runs once more after it: that one may have pushed before the op was queued. Asked while another
 *  tab's runs, it waits for that one and then sends what it left unsent, if anything. */
export function sync() {
  clearTimeout(retryTimer);
  if (!navigator.onLine) { state.set({ online: false }); return Promise.resolve(); }
  if (current) { again = true; return current; }
  if (!navigator.locks) return run();
  return navigator.locks.request('hulei-sync', { ifAvailable: true }, (lock) => (lock ? run() : afterOther()));
}

/** Another tab's sync holds the lock and may be past its push (the outbox is shared): once it lets
 *  go, run here if something is still waiting to be sent; what it pulled the store reads anyway. */
function afterOther() {
  if (!waiting) {
    waiting = navigator.locks.request('hulei-sync', async () => {
      waiting = null;
      if (db.hasKey() && await unsent()) await run();
    }).catch(() => { waiting = null; });
  }
  return waiting;
}

async function unsent() {
  const [ops, photoQueue] = await Promise.all([db.outboxCounts(), db.photoCounts()]);
  return ops.pending + photoQueue.pending > 0;
}

function run() {
  current = (async () => {
    try {
      do {
        again = false;
        await once();
      } while (again && navigator.onLine);
    } finally {
      current = null;
    }
  })();
  return current;
}

async function once() {
  await session.connected();
  if (!db.hasKey()) return;
  state.set({ syncing: true, online: true });
  changed = false;
  try {
    if (!api.hasCsrf()) api.setCsrf((await api.get('/api/auth/me')).csrf_token);
    await pushAll();
    await refreshReference();
    await pullAll();
    if (await photos.uploadQueued()) changed = true;
    failures = 0;
    const lastSync = new Date().toISOString();
    await db.kvSet('lastSync', lastSync);
    state.set({ lastSync, syncError: null, needsLogin: false });
  } catch (e) {
    await handle(e);
  } finally {
    // Busy until the screens can show what the sync brought: the store is read again first.
    if (db.hasKey()) {
      await store.load().catch(() => {});
      otherTabs.announceSync(changed);
    }
    state.set({ syncing: false });
  }
}

async function handle(e) {
  if (!db.hasKey()) return;  // wiped meanwhile (a revoked device: api.js)
  if (e.status === 401 || e.code === 'device_mismatch') {
    api.setCsrf(null);
    state.set({ needsLogin: true, syncError: null });
    return;
  }
  if (e.code === 'csrf_failed') api.setCsrf(null);
  if (e.retryable || e.code === 'csrf_failed' || !(e instanceof api.ApiError)) {
    failures += 1;
    const delay = Math.min(MAX_BACKOFF_MS, 2000 * 2 ** (failures - 1)) * (0.75 + Math.random() / 2);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => sync(), delay);
    state.set({ syncError: `同步失败，${Math.round(delay / 1000)} 秒后重试：${inWords(e)}` });
    return;
  }
  if (e.code === 'client_outdated') lookForUpdate();
  state.set({ syncError: e.message });
}

/** Have the browser look for a new release now, which the app then offers ('有新版本', app.js): on
 *  its own it looks only on a navigation or once a day. */
function lookForUpdate() {
  if (!navigator.serviceWorker) return;
  navigator.serviceWorker.getRegistration().then((reg) => reg && reg.update()).catch(() => {});
}

/** The next batch: oldest first, stopping before a second op on a record already in it (an edit
 *  chained on an earlier one needs that one's resulting version as its base). A chained edit keeps
 *  `chain` (the push leaves it off the wire): one refused and sent again later (its record's
 *  registration refused, then corrected) takes the version its record has then. */
function nextBatch(ops) {
  const batch = [];
  const seen = new Set();
  for (const op of ops) {
    const k = `${op.entity}:${op.id}`;
    if (seen.has(k)) break;
    seen.add(k);
    const { seq, state: st, errors, current, ...wire } = op;
    void seq; void st; void errors; void current;
    if (op.chain) wire.base_version = (store.one(op.entity, op.id) || {})._version ?? null;
    batch.push(wire);
    if (batch.length >= BATCH) break;
  }
  return batch;
}

// A push answered 413 (body over the server's limit, or too many ops) is sent again in halves;
// an op refused so on its own can never go, and is set aside for the user like a rejection.
const TOO_LARGE = { _op: ['内容过大，服务器无法接收。请放弃此条，精简内容后重新录入。'] };

async function pushAll() {
  const deviceId = (await db.getAuth()).device_id;
  let size = BATCH;
  for (;;) {
    // The pull cursor says what this phone held: a fact it filed about a record that has left
    // its reach since is still taken (the record moved while the phone was offline).
    const cursor = (await db.kvGet('cursor')) || null;
    const ops = nextBatch(await db.outboxByState('pending', size));
    if (!ops.length) return;
    let answer;
    try {
      // An op's own cursor goes only where a pull has moved the phone's on since it was recorded;
      // the ops keep it, so one set aside keeps it for its retry.
      const sent = ops.map(({ cursor: own, chain, ...op }) => {
        void chain;
        return own && own !== cursor ? { ...op, cursor: own } : op;
      });
      answer = await api.post('/api/sync/push', { device_id: deviceId, device_time: isoNow(),
        schema_version: 1, cursor, ops: sent });
    } catch (e) {
      if (e.status !== 413) throw e;
      if (ops.length > 1) { size = Math.ceil(ops.length / 2); continue; }
      answer = { results: [{ op_id: ops[0].op_id, status: 'rejected', errors: TOO_LARGE }] };
      size = BATCH;
    }
    await db.applyPush(ops, answer.results);
    await sendWaiting(ops, answer.results);
    changed = true;
    await store.load();
  }
}

/** A create the server took at last (refused, then corrected or sent again): the visits and clues
 *  refused for want of its record go again now, on their own, as the loop above pushes them. A
 *  button for it would ask the worker nothing they have not already decided. */
async function sendWaiting(ops, results) {
  const taken = new Set(results.filter((r) => r.status === 'applied' || r.status === 'duplicate').map((r) => r.op_id));
  await db.retryWaiting(ops.filter((op) => op.action === 'create' && taken.has(op.op_id)));
}

function fetchPage(cursor) {
  const q = new URLSearchParams({ limit: String(PULL_LIMIT) });
  if (cursor) q.set('cursor', cursor);
  return api.get(`/api/sync/pull?${q}`);
}

/** Pull every page; the next page is fetched while this one is encrypted and written. Told to
 *  start over (410 resync_required), at the first page or a later one, it does, once. */
async function pullAll(resynced = false) {
  try {
    let answer = await fetchPage(resynced ? null : await db.kvGet('cursor'));
    for (;;) {
      const next = answer.more ? fetchPage(answer.cursor) : null;
      if (next) next.catch(() => {});
      await db.applyPull(answer.changes, answer.cursor, !answer.more);
      if (answer.changes.length) changed = true;
      if (!next) return;
      answer = await next;
    }
  } catch (e) {
    if (e.code !== 'resync_required' || resynced) throw e;
    await db.resetForResync();
    changed = true;
    await pullAll(true);
  }
}

/** The checklist templates with the answers that prompt a clue or call for a follow-up, and the places
 *  tree, kept for offline forms. */
async function refreshReference() {
  const soft = (p) => api.get(p).catch((e) => {
    if (e.retryable || e.status === 401 || e.code === 'device_revoked') throw e;
    return null;
  });
  const [checklists, places] = await Promise.all([soft('/api/checklists'), soft('/api/places')]);
  if (checklists) await db.kvSet('templates', checklists.templates);
  if (checklists && checklists.clue_prompt) await db.kvSet('cluePrompt', checklists.clue_prompt);
  if (checklists && checklists.follow_ups) await db.kvSet('followUps', checklists.follow_ups);
  if (places) await db.kvSet('places', places.villages);
}
