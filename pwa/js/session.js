// First login online, offline unlock with the same password, wrong tries, a password changed on
// another device, logout and wipes.
import * as api from './api.js';
import * as db from './db.js';
import { ITERATIONS, importDataKey, importRecoveryKey, newDataKeyBytes, newId, openDataKey, seal, unseal, unwrapDataKey,
  unwrapForRecovery, wrapDataKey, wrapForRecovery } from './crypto.js';
import * as state from './state.js';
import * as store from './store.js';
import { T } from './i18n/zh-CN.js';

export const MAX_TRIES = 5;
const CHECK_AAD = 'meta:auth:check';
const WIPED = 'hulei-wiped';
const RETRY_END_MS = 60 * 1000;

let ending = Promise.resolve();
let connecting = Promise.resolve();
// The data is sealed with a random data key, kept wrapped by a key derived from the password: a
// password changed on another device re-wraps that small blob, never the records. It is kept
// wrapped under this device's recovery key too, which only the server holds and gives only to a
// session of this user on this device: a password the worker forgot, reset by the town admin, still
// opens what the phone holds unsynced. A revoke erases that key on the server.
let kek = null;  // opens the data key's wrapping, while this tab has the data open
let changedTo = null;  // {password, user}: the server took it, the data here does not open with it yet
// The id of this device's recovery key as the last login or /me named it (null: none yet).
let serverKeyId = null;

// Logging in, reconnecting and ending the server session run one at a time across tabs: the cookie
// is the browser's, so a logout sent by one tab ends the session of all.
const oneAtATime = (fn) => (navigator.locks ? navigator.locks.request('hulei-login', fn) : fn());

/** Open the local data with `password`, counting nothing: `{key, auth}` or null. A phone set up
 *  before data keys were wrapped, or wrapped under fewer PBKDF2 iterations than now, gets its key
 *  (the same bytes: no record is sealed again) wrapped under the password anew on the way. */
async function tryOpen(auth, password) {
  let opened;
  let key;
  try {
    opened = await openDataKey(auth, password);
    key = await importDataKey(opened.raw);
    await unseal(key, auth.check, CHECK_AAD);
  } catch (e) {
    return null;
  }
  if (opened.kek && auth.iterations >= ITERATIONS) {
    kek = opened.kek;
    return { key, auth };
  }
  const wrapping = await wrapDataKey(password, opened.raw);
  const row = await db.updateAuth(auth, wrapping.fields);
  if (!row) {  // another tab wrapped it meanwhile
    const now = await db.getAuth();
    return now && now.wrapped ? tryOpen(now, password) : null;
  }
  kek = wrapping.kek;
  return { key, auth: row };
}

/** Open the local data with `password`: `{key, auth}`. One that does not open it but that the server
 *  takes was changed on another device: `{changed: true}`, no try counted, the previous one is to be
 *  asked (unlockPrevious). Otherwise a wrong try is counted: `{left, unchecked}` (the server could
 *  not be asked). The MAX_TRIES-th wrong one wipes the phone, and the page with it (never resolves). */
async function openKey(auth, password) {
  const opened = await tryOpen(auth, password);
  if (opened) {
    await db.countFailure(false);
    return opened;
  }
  const server = await serverTakes(auth, password);
  if (server) return await recover(auth, password, server.recoveryKey) || { changed: true };
  // Counted in one transaction, so tries in other tabs count too; null: one of them wiped the phone.
  const failures = await db.countFailure();
  if (failures === null || failures >= MAX_TRIES) {
    // As after a revoke (app.js): say how much was lost; the outbox's counts are readable without the key.
    await store.refreshCounts().catch(() => {});
    await wipe('tries', state.get().unsynced || 0);
  }
  return { left: MAX_TRIES - failures, unchecked: server === null };
}

/** Whether the server takes `password` for this phone's user: `{recoveryKey}` (null when there is
 *  none to have), its session opened and the password held in memory until the previous one is
 *  given; false; null when it cannot tell (offline, throttled, failing), and the try counts as
 *  before. The key is asked for in the same turn as the login: a logout of a locked tab retrying
 *  meanwhile would end the session first. */
async function serverTakes(auth, password) {
  if (!navigator.onLine) return null;
  try {
    return await oneAtATime(async () => {
      changedTo = { password, user: await serverLogin(auth, password) };
      const held = auth.recovery ? await recoveryKey(password).catch(() => null) : null;
      return { recoveryKey: held && held.key };
    });
  } catch (e) {
    return e.status === 401 ? false : null;
  }
}

/** This device's recovery key, from the server: the session must be this user's on this device,
 *  and the password is asked again (a live session alone gets no key). */
async function recoveryKey(password) {
  const answer = await api.post('/api/auth/recovery-key', { password });
  return { key: await importRecoveryKey(answer.recovery_key), id: answer.recovery_key_id };
}

/** Wrap the data key, open in this tab, under this device's recovery key too: once, and again
 *  when the server names another key than the one it is wrapped under (a database restored from
 *  before it). Not waited for: a login or sync never waits on it. With no network or session at
 *  hand it is left for the next time the phone connects. */
function keepRecoverable(password) {
  (async () => {
    const auth = await db.getAuth();
    if (!auth || !auth.wrapped || !kek || (auth.recovery && auth.recoveryId === serverKeyId)) return;
    const raw = await unwrapDataKey(kek, auth.wrapped);
    const held = await recoveryKey(password);
    await db.updateAuth(auth, { recovery: await wrapForRecovery(held.key, raw), recoveryId: held.id });
    serverKeyId = held.id;
  })().catch(() => { /* the next connection tries again */ });
}

/** A password the server took opens no data here (reset by the town admin, or changed on another
 *  device): open the data with this device's recovery key (`recoveryKey`, from serverTakes) and
 *  wrap it under that password, which unlocks the phone from now on. `{key, auth}`, or null when
 *  the phone keeps no such wrapping or the server no key for it (the previous password is then
 *  asked for). */
async function recover(auth, password, recoveryKey) {
  if (!auth.recovery || !recoveryKey) return null;
  let raw;
  let key;
  try {
    raw = await unwrapForRecovery(recoveryKey, auth.recovery);
    key = await importDataKey(raw);
    await unseal(key, auth.check, CHECK_AAD);
  } catch (e) {
    return null;
  }
  const wrapping = await wrapDataKey(password, raw);
  const row = await db.updateAuth(auth, { ...wrapping.fields, refused: false, failures: 0 });
  if (!row) {  // another tab re-wrapped it meanwhile, under this password most likely
    const now = await db.getAuth();
    const opened = now && await tryOpen(now, password);
    if (opened) changedTo = null;
    return opened || null;
  }
  kek = wrapping.kek;
  changedTo = null;
  state.set({ passwordChanged: false });
  return { key, auth: row };
}

/** Login online. On a phone without data (first login, or after a wipe) it sets up the local key
 *  and verifier. With the same user's data already here (another tab logged in meanwhile), the
 *  password must open that data's key, which is kept: a new one would leave it sealed for good.
 *  Resolves `{user}`, or `{changed: true}` as unlock does. */
export async function login(username, password) {
  // One tab at a time: two first logins at once would register two devices, leave one an orphan
  // and let the later cookie replace the earlier tab's session. Second, a tab finds the first's
  // data and logs in keeping its key and device.
  const first = await oneAtATime(() => loginOnce(username, password));
  const done = first.user ? first : await loginKeeping(first.existing, password);
  if (done.user) keepRecoverable(password);
  return done;
}

async function loginOnce(username, password) {
  const existing = await db.getAuth();
  if (existing && existing.username !== username) throw new Error('本机已有其他账号的数据，请先退出该账号');
  if (existing) return { existing };
  const deviceId = `pwa-${newId()}`;
  const answer = await api.post('/api/auth/login', { username, password, device_id: deviceId });
  api.setCsrf(answer.csrf_token);
  serverKeyId = answer.recovery_key_id ?? null;
  const raw = newDataKeyBytes();
  const [key, wrapping] = await Promise.all([importDataKey(raw), wrapDataKey(password, raw)]);
  const check = await seal(key, { ok: true, user_id: answer.user.id }, CHECK_AAD);
  if (!await db.createAuth({ username, user_id: answer.user.id, device_id: deviceId, ...wrapping.fields,
    check, failures: 0 })) throw new Error('本机刚在另一个页面登录，请刷新页面后解锁');
  kek = wrapping.kek;
  return { user: await openStore(key, answer.user) };
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
  if (opened.changed) return opened;
  if (!opened.key) throw new Error(wrongPassword(opened.left, opened.unchecked));
  return { user: await openStore(opened.key, await oneAtATime(() => loginAsHere(opened.auth, password))) };
}

export const wrongPassword = (left, unchecked = false) => `密码错误，还可尝试 ${left} 次；用完后本机数据将被清除。${
  unchecked ? '未能与服务器核对：如果密码刚在其他设备修改过，请联网后再输入新密码。' : ''}`;

/** Unlock offline with the password: `{ok, user}`; `{ok: false, changed: true}` for a password
 *  changed on another device (unlockPrevious); or `{ok: false, left, unchecked}` tries: after
 *  MAX_TRIES wrong tries the phone is wiped. */
export async function unlock(password) {
  const auth = await db.getAuth();
  const opened = await openKey(auth, password);
  if (!opened.key) return { ok: false, ...opened };
  const user = await openStore(opened.key);
  reconnectWhenOnline(opened.auth, password);
  return { ok: true, user };
}

/** After a password the server took but the data here does not open (changed on another device):
 *  open the data with the `previous` one and wrap its key under the new, so that from then on only
 *  the new one unlocks the phone. `{ok, user}`, or `{ok: false}` for a previous one that does not
 *  open it either, not counted: whoever typed the new one has shown the server who they are. */
export async function unlockPrevious(previous) {
  const auth = await db.getAuth();
  const opened = changedTo && auth && await tryOpen(auth, previous);
  if (!opened) return { ok: false };
  const { password, user } = changedTo;
  const row = await rewrap(opened.auth, password);
  changedTo = null;
  await db.countFailure(false);
  await openStore(opened.key, user);
  reconnectWhenOnline(row, password);  // the locked tab may have ended the session meanwhile
  return { ok: true, user };
}

/** The previous password is not at hand: forget the new one and end the session its check opened.
 *  The data stays on the phone, sealed, for a later unlock with the new one and then the previous. */
export function forgetNewPassword() {
  changedTo = null;
  tryEnding();
}

/** Wrap the data key, open in this tab, under `password` in place of the wrapping in `auth`, in
 *  one write: the old wrapping stays until the new one is stored. Resolves the new auth row. */
async function rewrap(auth, password) {
  const elsewhere = () => new Error('本机数据的密码刚在另一个页面更改，请刷新页面后再试。');
  // This tab's key opens the wrapping it read: another tab's since (a change made there) it does not.
  const raw = await unwrapDataKey(kek, auth.wrapped).catch(() => { throw elsewhere(); });
  const wrapping = await wrapDataKey(password, raw);
  const row = await db.updateAuth(auth, { ...wrapping.fields, refused: false });
  if (!row) throw elsewhere();
  kek = wrapping.kek;
  state.set({ passwordChanged: false });
  return row;
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
  const user = await oneAtATime(async () => {
    try {
      const me = await api.get('/api/auth/me');
      api.setCsrf(me.csrf_token);
      serverKeyId = me.recovery_key_id ?? null;
      return me.user;
    } catch (e) {
      if (e.status !== 401) throw e;
      const again = await loginAsHere(auth, password);
      state.set({ needsLogin: false });
      return again;
    }
  });
  await remember(user);
  keepRecoverable(password);
}

/** Keep the account as the server now has it (a password the town admin set, a new name), while
 *  the data is open here. */
async function remember(user) {
  if (!user || !db.hasKey()) return;
  await db.kvSet('user', user);
  state.set({ user });
}

/** Log in, on its own, with the password the local data opens with, unless the server has refused
 *  it before: changed on another device (or the account paused), sent again unasked it would only
 *  count toward the server's lockout. The worker typing it in the reconnect form sends it (relogin). */
async function loginAsHere(auth, password) {
  if (auth.refused) {
    state.set({ needsLogin: true, passwordChanged: true });
    throw new Error(T.passwordChanged);
  }
  return loginNoting(auth, password);
}

/** Log in to the server with `password`, which the local data in `auth` opens with, and remember
 *  whether the server took it. */
async function loginNoting(auth, password) {
  try {
    const user = await serverLogin(auth, password);
    if (auth.refused) await db.updateAuth(auth, { refused: false });
    return user;
  } catch (e) {
    if (e.status === 401) {
      await db.updateAuth(auth, { refused: true });
      state.set({ needsLogin: true, passwordChanged: true });
    }
    throw e;
  }
}

/** Log in to the server with this phone's device; the local store is untouched. */
async function serverLogin(auth, password) {
  const answer = await api.post('/api/auth/login', { username: auth.username, password, device_id: auth.device_id });
  api.setCsrf(answer.csrf_token);
  serverKeyId = answer.recovery_key_id ?? null;
  return answer.user;
}

/** Log in to the server again from the open app (its session ended). A password the local data
 *  does not open was changed on another device: the data key is wrapped under it before this
 *  resolves, so from then on it unlocks the phone and the previous one does not. */
export async function relogin(password) {
  return oneAtATime(async () => {
    const auth = await db.getAuth();
    const here = await tryOpen(auth, password);
    const user = await (here ? loginNoting(here.auth, password) : serverLogin(auth, password));
    if (!here) await rewrap(auth, password);
    state.set({ needsLogin: false, passwordChanged: false });
    return user;
  }).then(async (user) => {
    await remember(user);
    keepRecoverable(password);
    return user;
  });
}

/** Change the password, from the open app: the server ends every session, this one included; the
 *  data key is wrapped under the new password at once (from memory: this tab has it open), and the
 *  phone logs in again with it. Cut off after the change, the phone finds its session over and the
 *  reconnect form takes the new password, which the data already opens with. Resolves the user. */
export async function changePassword(oldPassword, newPassword) {
  return oneAtATime(async () => {
    const auth = await db.getAuth();
    await api.post('/api/auth/password', { old_password: oldPassword, new_password: newPassword });
    api.setCsrf(null);
    const row = await rewrap(auth, newPassword);
    let user;
    try {
      user = await serverLogin(row, newPassword);
    } catch (e) {
      state.set({ needsLogin: true });
      throw new Error('密码已修改，但未能重新连接服务器：请到“同步”页用新密码重新登录。');
    }
    await remember(user);
    state.set({ needsLogin: false, passwordChanged: false });
    return user;
  });
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
