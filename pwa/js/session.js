// First login online, offline unlock with the same password, wrong tries, logout and wipes.
import * as api from './api.js';
import * as db from './db.js';
import { deriveKey, ITERATIONS, newId, randomBytes, seal, unseal } from './crypto.js';
import * as state from './state.js';
import * as store from './store.js';

export const MAX_TRIES = 5;
const CHECK_AAD = 'meta:auth:check';
const WIPED = 'hulei-wiped';
const RETRY_END_MS = 60 * 1000;

let ending = Promise.resolve();
let connecting = Promise.resolve();

// Logging in, reconnecting and ending the server session run one at a time across tabs: the cookie
// is the browser's, so a logout sent by one tab ends the session of all.
const oneAtATime = (fn) => (navigator.locks ? navigator.locks.request('hulei-login', fn) : fn());

/** Open the local key with `password`, counting a wrong one: `{key}` or `{left}` tries. The
 *  MAX_TRIES-th wrong one wipes the phone, and the page with it (never resolves). */
async function openKey(auth, password) {
  const key = await deriveKey(password, auth.salt, auth.iterations);
  try {
    await unseal(key, auth.check, CHECK_AAD);
  } catch (e) {
    // Counted in one transaction, so tries in other tabs count too; null: one of them wiped the phone.
    const failures = await db.countFailure();
    if (failures === null || failures >= MAX_TRIES) {
      // As after a revoke (app.js): say how much was lost; the outbox's counts are readable without the key.
      await store.refreshCounts().catch(() => {});
      await wipe('tries', state.get().unsynced || 0);
    }
    return { left: MAX_TRIES - failures };
  }
  await db.countFailure(false);
  return { key };
}

/** Login online. On a phone without data (first login, or after a wipe) it sets up the local key
 *  and verifier. With the same user's data already here (another tab logged in meanwhile), the
 *  password must open that data's key, which is kept: a new one would leave it sealed for good. */
export async function login(username, password) {
  // One tab at a time: two first logins at once would register two devices, leave one an orphan
  // and let the later cookie replace the earlier tab's session. Second, a tab finds the first's
  // data and logs in keeping its key and device.
  return oneAtATime(() => loginOnce(username, password));
}

async function loginOnce(username, password) {
  const existing = await db.getAuth();
  if (existing && existing.username !== username) throw new Error('本机已有其他账号的数据，请先退出该账号');
  if (existing) return loginKeeping(existing, password);
  const deviceId = `pwa-${newId()}`;
  const answer = await api.post('/api/auth/login', { username, password, device_id: deviceId });
  api.setCsrf(answer.csrf_token);
  const salt = randomBytes(16);
  const key = await deriveKey(password, salt, ITERATIONS);
  const check = await seal(key, { ok: true, user_id: answer.user.id }, CHECK_AAD);
  if (!await db.createAuth({ username, user_id: answer.user.id, device_id: deviceId, salt, iterations: ITERATIONS,
    check, failures: 0 })) throw new Error('本机刚在另一个页面登录，请刷新页面后解锁');
  return openStore(key, answer.user);
}

/** Open the store with `key` for `user` (fresh from the server, or as this phone last saw it). */
async function openStore(key, user = null) {
  db.setKey(key);
  markUnlocked();
  stopEnding();
  if (user) await db.kvSet('user', user);
  const me = user || await db.kvGet('user');
  state.set({ user: me, ...(user ? { needsLogin: false } : {}) });
  return me;
}

async function loginKeeping(auth, password) {
  const opened = await openKey(auth, password);
  if (!opened.key) throw new Error(wrongPassword(opened.left));
  return openStore(opened.key, await relogin(password, auth));
}

export const wrongPassword = (left) => `密码错误，还可尝试 ${left} 次；用完后本机数据将被清除。`;

/** Unlock offline with the password: `{ok, user}`, or `{ok: false, left}` tries; after MAX_TRIES
 *  wrong tries the phone is wiped. */
export async function unlock(password) {
  const auth = await db.getAuth();
  const opened = await openKey(auth, password);
  if (!opened.key) return { ok: false, ...opened };
  const user = await openStore(opened.key);
  reconnectWhenOnline(auth, password);
  return { ok: true, user };
}

/** Settles once the server session an unlock reconnects is up, or could not be had: a sync waits
 *  for it rather than find no session and ask for the password again. */
export const connected = () => connecting;

const UNLOCKED = 'hulei-unlocked';
let holding = false;

/** Hold, for this tab's life, the shared lock that says a tab here is unlocked. */
function markUnlocked() {
  if (holding || !navigator.locks) return;
  holding = true;
  navigator.locks.request(UNLOCKED, { mode: 'shared' }, () => new Promise(() => {}));
}

/** Say whether a tab on this phone is unlocked, or about to be (it shares the server session). */
async function unlockedAnywhere() {
  if (!navigator.locks) return false;
  const { held, pending } = await navigator.locks.query();
  return [...held, ...pending].some((lock) => lock.name === UNLOCKED);
}

function reconnectWhenOnline(auth, password) {
  const go = () => { connecting = reconnect(auth, password).catch(() => {}); };
  if (navigator.onLine) go();
  else addEventListener('online', go, { once: true });
}

/** With the password at hand and a network, make sure the server session is alive too. */
async function reconnect(auth, password) {
  await ending;
  await oneAtATime(async () => {
    try {
      const me = await api.get('/api/auth/me');
      api.setCsrf(me.csrf_token);
    } catch (e) {
      if (e.status !== 401) throw e;
      await relogin(password, auth);
    }
  });
}

/** Log in to the server again (expired session); the local store is untouched. */
export async function relogin(password, auth = null) {
  const a = auth || await db.getAuth();
  const answer = await api.post('/api/auth/login', { username: a.username, password, device_id: a.device_id });
  api.setCsrf(answer.csrf_token);
  state.set({ needsLogin: false });
  return answer.user;
}

/** Try once to end the server session: a locked phone must not leave a live session in the
 *  browser's cookie, which the app cannot clear itself. Resolve true once it is known over; never
 *  while a tab here is unlocked, as it works in that same session (a wipe calls logout itself). */
function endServerSession() {
  ending = oneAtATime(async () => (db.hasKey() || await unlockedAnywhere() ? false : logout()));
  return ending;
}

async function logout() {
  try {
    if (!api.hasCsrf()) api.setCsrf((await api.get('/api/auth/me')).csrf_token);
    await api.post('/api/auth/logout');
    return true;
  } catch (e) {
    return e.status === 401 || e.status === 410;  // no session left, or a revoked device's
  } finally {
    api.setCsrf(null);
  }
}

let retrying = null;

async function tryEnding() {
  if (await endServerSession() || db.hasKey()) stopEnding();
}

function stopEnding() {
  if (!retrying) return;
  clearInterval(retrying);
  retrying = null;
  removeEventListener('online', tryEnding);
}

/** While this tab is locked or at the login screen, end the server session now, again whenever the
 *  network returns and every minute, until the server says it is over or this tab unlocks. */
export function endServerSessionWhileLocked() {
  if (retrying || db.hasKey()) return;
  retrying = setInterval(tryEnding, RETRY_END_MS);
  addEventListener('online', tryEnding);
  tryEnding();
}

export async function deviceId() {
  const auth = await db.getAuth();
  return auth ? auth.device_id : null;
}

/** Remove what this app keeps on the phone (the database, web storage), try to end the server session,
 *  and load the app afresh, so that nothing of the session stays in memory (screens, dialogs, the
 *  store, searches). Only `reason` and the count of `lost` entries go along; never resolves. */
export async function wipe(reason, lost = 0) {
  await db.wipe();
  try {
    localStorage.clear();
    sessionStorage.clear();
    sessionStorage.setItem(WIPED, JSON.stringify({ reason, lost }));
  } catch (e) { /* not available */ }
  state.set({ user: null, unsynced: 0, attention: 0, conflicts: 0, lastSync: null });
  ending = logout();  // not behind the lock: a wipe may run inside a login, which holds it
  await ending;
  location.replace('/');
  return new Promise(() => {});
}

/** After a wipe's reload: drop the app's caches (the reload still needed them offline) and say why
 *  the phone was wiped, `{reason, lost}`, or null when it was not. */
export async function afterWipe() {
  let note = null;
  try {
    note = JSON.parse(sessionStorage.getItem(WIPED));
    sessionStorage.removeItem(WIPED);
  } catch (e) { /* not available */ }
  if (note && self.caches) for (const name of await caches.keys()) await caches.delete(name);
  return note;
}
