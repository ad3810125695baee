// Which draft an open form keeps its typing under. Two tabs open on one form must not share one:
// the last to type wrote over the other's, which that tab, dropped, then lost. A tab holds (a Web
// Lock, until it is gone) each name it keeps a draft under: its screen and form's, or, while
// another open tab holds that, the next free (`|2`, `|3`…). A draft left by a tab that is gone
// (its name free) is taken back by the next form drawn for that screen holding none of its own.
import * as db from './db.js';

const owned = new Map();  // a screen and form: the name this tab keeps its draft under
const REAPPEAR_MS = 1000;  // a tab reloaded: its old page may let its names go a moment late

/** The name this tab keeps the draft of screen-and-form `base` under, if it holds one already. */
export const heldName = (base) => (typeof owned.get(base) === 'string' ? owned.get(base) : null);

/** The name the form drawn for `base` keeps its draft under now: this tab's, or a gone tab's that
 *  holds a draft when this tab's holds none and `busy(name)` (its save runs) is false. */
export async function draftName(base, busy) {
  if (!navigator.locks) return base;  // no locks: one draft for the form, shared, as before
  if (!owned.has(base)) owned.set(base, claimFirst(base));
  const name = await owned.get(base);
  owned.set(base, name);
  if (busy(name) || await db.draftGet(name).catch(() => null)) return name;
  for (const other of await db.draftNames(base)) {
    if (other !== name && await hold(other, 0)) {
      owned.set(base, other);
      return other;
    }
  }
  return name;
}

async function claimFirst(base) {
  if (await hold(base, REAPPEAR_MS)) return base;
  for (let n = 2; ; n += 1) {
    if (await hold(`${base}|${n}`, 0)) return `${base}|${n}`;
  }
}

/** Hold the lock of draft `name` while this page lives, waiting for it at most `ms`; resolve whether it does. */
function hold(name, ms) {
  return new Promise((resolve) => {
    const stop = new AbortController();
    const options = ms ? { signal: stop.signal } : { ifAvailable: true };
    const timer = ms ? setTimeout(() => stop.abort(), ms) : null;
    navigator.locks.request(`hulei-draft:${name}`, options, (lock) => {
      clearTimeout(timer);
      resolve(Boolean(lock));
      return lock ? new Promise(() => {}) : null;
    }).catch(() => resolve(false));
  });
}
