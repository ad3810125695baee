// First login online, offline unlock with the same password, wrong tries, logout and wipes.
import * as api from './api.js';
import * as db from './db.js';
import { deriveKey, ITERATIONS, newId, randomBytes, seal, unseal } from './crypto.js';
import * as state from './state.js';

export const MAX_TRIES = 5;
const CHECK_AAD = 'meta:auth:check';

/** First login on this phone (or after a wipe): online; sets up the local key and verifier. */
export async function login(username, password) {
  const existing = await db.getAuth();
  if (existing && existing.username !== username) throw new Error('本机已有其他账号的数据，请先退出该账号');
  const deviceId = existing ? existing.device_id : `pwa-${newId()}`;
  const answer = await api.post('/api/auth/login', { username, password, device_id: deviceId });
  api.setCsrf(answer.csrf_token);
  const salt = randomBytes(16);
  const key = await deriveKey(password, salt, ITERATIONS);
  const check = await seal(key, { ok: true, user_id: answer.user.id }, CHECK_AAD);
  db.setKey(key);
  await db.putAuth({ username, user_id: answer.user.id, device_id: deviceId, salt, iterations: ITERATIONS,
    check, failures: 0 });
  await db.kvSet('user', answer.user);
  state.set({ user: answer.user, needsLogin: false });
  return answer.user;
}

/** Unlock offline with the password; after MAX_TRIES wrong tries the phone is wiped. */
export async function unlock(password) {
  const auth = await db.getAuth();
  const key = await deriveKey(password, auth.salt, auth.iterations);
  try {
    await unseal(key, auth.check, CHECK_AAD);
  } catch (e) {
    const failures = (auth.failures || 0) + 1;
    if (failures >= MAX_TRIES) {
      await wipe();
      return { ok: false, wiped: true };
    }
    await db.putAuth({ ...auth, failures });
    return { ok: false, left: MAX_TRIES - failures };
  }
  db.setKey(key);
  if (auth.failures) await db.putAuth({ ...auth, failures: 0 });
  const user = await db.kvGet('user');
  state.set({ user });
  if (navigator.onLine) reconnect(auth, password).catch(() => {});
  return { ok: true, user };
}

/** With the password at hand and a network, make sure the server session is alive too. */
async function reconnect(auth, password) {
  try {
    const me = await api.get('/api/auth/me');
    api.setCsrf(me.csrf_token);
  } catch (e) {
    if (e.status !== 401) throw e;
    await relogin(password, auth);
  }
}

/** Log in to the server again (expired session); the local store is untouched. */
export async function relogin(password, auth = null) {
  const a = auth || await db.getAuth();
  const answer = await api.post('/api/auth/login', { username: a.username, password, device_id: a.device_id });
  api.setCsrf(answer.csrf_token);
  state.set({ needsLogin: false });
  return answer.user;
}

export async function deviceId() {
  const auth = await db.getAuth();
  return auth ? auth.device_id : null;
}

/** Remove everything this app keeps on the phone: the database, the caches, web storage. */
export async function wipe() {
  await db.wipe();
  if (self.caches) for (const name of await caches.keys()) await caches.delete(name);
  try { localStorage.clear(); sessionStorage.clear(); } catch (e) { /* not available */ }
  api.setCsrf(null);
  state.set({ user: null, unsynced: 0, attention: 0, conflicts: 0, lastSync: null });
}

export async function logout() {
  try { await api.post('/api/auth/logout'); } catch (e) { /* offline: the server session just expires */ }
  await wipe();
}
