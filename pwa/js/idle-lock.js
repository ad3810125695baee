// A phone left alone locks itself: after IDLE_MINUTES without a touch or a key in this page, the page
// reloads to the unlock screen, the data key gone from memory and the server session ended
// (session.endServerSessionWhileLocked). Typing is kept sealed as a draft and put back after the
// unlock, on the same screen; a save or a sync under way finishes first.
import * as db from './db.js';
import * as drafts from './drafts.js';

export const IDLE_MINUTES = 10;
const NOTE = 'hulei-idle-locked';
const ACTIVITY = ['pointerdown', 'keydown', 'input', 'wheel', 'touchstart'];
let last = Date.now();
let started = false;
let locking = false;

/** Watch for the page being left alone, from an unlock on (again after each, harmlessly). */
export function start() {
  last = Date.now();
  if (started) return;
  started = true;
  for (const type of ACTIVITY) addEventListener(type, () => { last = Date.now(); }, { capture: true, passive: true });
  setInterval(check, 15000);
  // Timers sleep with the screen: back from it, the phone locks before anything else is done.
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') check(); });
}

function check() {
  if (locking || !db.hasKey() || Date.now() - last < IDLE_MINUTES * 60000) return;
  if (document.querySelector('form[data-saving]')) return;  // asked again at the next check
  lock();
}

async function lock() {
  locking = true;
  await drafts.flushAll();
  const go = () => {
    sessionStorage.setItem(NOTE, '1');
    location.reload();
    return new Promise(() => {});  // the sync lock held until the page goes: no sync begins meanwhile
  };
  if (!navigator.locks) go();
  // A sync under way writes with the key: the lock waits for it, at the next check.
  else await navigator.locks.request('hulei-sync', { ifAvailable: true }, (held) => (held ? go() : null));
  locking = false;
}

/** Say, once, whether this page was locked for being left alone (the unlock screen says so). */
export function wasIdleLocked() {
  const was = sessionStorage.getItem(NOTE) !== null;
  sessionStorage.removeItem(NOTE);
  return was;
}
