// The meta store: the plaintext unlock data and the encrypted small values.
import { done, sealKv, tx, unsealKv } from './idb.js';

// ---- plaintext unlock data (salt, iterations, wrapped data key, verifier, failures, device id) ----
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

const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Change the auth row by `fields` in one transaction, only while it still holds the key wrapping
 *  (salt) it had in `expected`: a new wrapping replaces the old at once, never leaving the phone
 *  with none that opens. Resolve the new row, or null when another tab changed the wrapping. */
export async function updateAuth(expected, fields) {
  return tx(['meta'], 'readwrite', (s) => done(s.meta.get('auth')).then((auth) => {
    if (!auth || !sameBytes(auth.salt, expected.salt)) return null;
    const row = { ...auth, ...fields };
    s.meta.put(row);
    return row;
  }));
}

/** Write the first auth row; refused (false) when one exists already (another tab logged in). */
export async function createAuth(auth) {
  return tx(['meta'], 'readwrite', (s, t) => {
    const req = s.meta.add({ ...auth, k: 'auth' });
    req.onerror = (e) => { e.preventDefault(); e.stopPropagation(); t.abort(); };
  }).then(() => true, () => false);
}

// ---- encrypted small values: user, cursor, templates, clue prompt, places, last sync ----
export async function kvGet(name) {
  const row = await tx(['meta'], 'readonly', (s) => done(s.meta.get(`kv:${name}`))).then((p) => p);
  return row ? unsealKv(name, row) : null;
}

export async function kvSet(name, value) {
  const row = await sealKv(name, value);
  await tx(['meta'], 'readwrite', (s) => { s.meta.put(row); });
}
