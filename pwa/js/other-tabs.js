// The app's other open tabs on this phone: told when a sync here has finished, so that they show
// what it changed from IndexedDB without a sync of their own (syncs run one tab at a time).
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('hulei-sync') : null;

/** Tell the other tabs a sync finished, and whether it changed the store; no record data goes along. */
export function announceSync(changed) {
  if (channel) channel.postMessage({ type: 'synced', changed: Boolean(changed) });
}

/** Call `fn(changed)` each time another tab's sync finishes. */
export function onOtherSync(fn) {
  if (channel) channel.addEventListener('message', (e) => { if (e.data && e.data.type === 'synced') fn(e.data.changed); });
}
