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
  // A question left unanswered (结案？) is answered as Escape would: a save waiting on it is given up,
  // its typing kept as a draft; a save under way finishes. Then the phone locks.
  const asking = [...document.querySelectorAll('dialog[open]')];
  asking.forEach((dialog) => dialog.dispatchEvent(new Event('cancel', { cancelable: true })));
  if (asking.length || document.querySelector('form[data-saving]')) {
    setTimeout(check, 1000);
    return;
  }
  lock();
}

async function lock() {
  locking = true;
  // A control that keeps no draft (a staff check's ID number) loses its typing: the lock screen says so.
  const kept = drafts.keepsAll(document.body);
  await drafts.flushAll();
  const go = () => {
    sessionStorage.setItem(NOTE, kept ? 'kept' : 'partly');
    location.reload();
    return new Promise(() => {});  // the sync lock held until the page goes: no sync begins meanwhile
  };
  if (!navigator.locks) go();
  // A sync under way writes with the key: the lock waits for it, at the next check.
  else await navigator.locks.request('hulei-sync', { ifAvailable: true }, (held) => (held ? go() : null));
  locking = false;
}

/** Say, once, what the unlock screen tells of a lock for being left alone: null for none. */
export function idleNote() {
  const how = sessionStorage.getItem(NOTE);
  sessionStorage.removeItem(NOTE);
  if (how === null) return null;
  return `闲置超过 ${IDLE_MINUTES} 分钟，已自动锁定，以保护儿童信息。` + (how === 'kept'
    ? '解锁后回到原页面，未保存的填写内容会放回原处。'
    : '解锁后回到原页面；未保存的填写内容会放回原处，但身份证号等不在本机暂存的内容需要重新填写。');
}
