// The app's small shared state (online, counts, last sync, user) with change listeners.
const state = {
  online: navigator.onLine, unsynced: 0, attention: 0, conflicts: 0, lastSync: null,
  syncing: false, syncError: null, needsLogin: false, passwordChanged: false, user: null, update: false,
};
const listeners = new Set();

export function get() { return state; }

export function set(patch) {
  Object.assign(state, patch);
  for (const fn of listeners) fn(state);
}

export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
