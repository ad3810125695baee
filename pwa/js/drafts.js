// The typing of a form not yet saved, kept sealed on the phone as it is typed (db/drafts.js) and put
// back when its screen is drawn again: a tab the phone's browser dropped (the camera opened, a call,
// a reload, an update) loses none of it. A draft goes when its form is saved, when the worker
// chooses to leave the typing or discard it, or after KEEP_DAYS untouched.
import * as db from './db.js';

const DELAY = 400;
const KEEP_DAYS = 30;
// Never kept: what cannot be put back (files), what must not be stored (passwords), and what was
// not typed (hidden values and buttons).
const SKIP = new Set(['password', 'file', 'hidden', 'submit', 'button', 'reset']);
const kept = new WeakMap();  // a form: { name, baseline, timer, restoring }
const waiting = new Set();  // forms typed in whose draft is not written yet
let queue = Promise.resolve();  // every read and write in the order asked: a save's delete is never overtaken
let redraw = () => {};

const inOrder = (step) => {
  const next = queue.then(step);
  queue = next.catch(() => {});  // a draft that cannot be kept (storage full) costs the typing on screen nothing
  return next;
};

/** The controls' values by name: text as typed, a checkbox or radio group as the values checked. */
function read(form) {
  const fields = {};
  for (const el of form.elements) {
    if (!el.name || SKIP.has(el.type)) continue;
    if (el.type === 'checkbox' || el.type === 'radio') {
      if (!fields[el.name]) fields[el.name] = [];
      if (el.checked) fields[el.name].push(el.value);
    } else fields[el.name] = el.value;
  }
  return fields;
}

/** Put `fields` into the form's controls as if typed, so that whatever the form keeps of its
 *  controls follows (a radio group's callback, the dirty mark); say how many changed. */
function write(form, fields) {
  let changed = 0;
  for (const el of form.elements) {
    if (!el.name || SKIP.has(el.type) || !(el.name in fields)) continue;
    const value = fields[el.name];
    if (el.type === 'checkbox' || el.type === 'radio') {
      const on = Array.isArray(value) && value.includes(el.value);
      if (el.checked === on) continue;
      el.checked = on;
    } else if (el.value !== value) {
      el.value = value;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    } else continue;
    el.dispatchEvent(new Event('change', { bubbles: true }));
    changed += 1;
  }
  return changed;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** What a worker reads for control `name` holding `value`: its label, and the value as shown. */
function described(form, name, value) {
  const els = [...form.elements].filter((el) => el.name === name);
  const labelOf = (el) => {
    const label = el.id && form.querySelector(`label[for="${CSS.escape(el.id)}"]`);
    return label ? label.textContent : '';
  };
  const group = els[0].closest('fieldset');
  if (els[0].type !== 'checkbox' && els[0].type !== 'radio') return { label: labelOf(els[0]), value };
  const picked = els.filter((el) => value.includes(el.value)).map(labelOf);
  if (els.length === 1 && els[0].type === 'checkbox') return { label: labelOf(els[0]), value: picked.length ? '是' : '否' };
  return { label: group ? group.querySelector('legend').textContent : '', value: picked.join('、') || '（未选）' };
}

/** Keep the typing in `form`, drawn for the screen at the address now shown, and put back what an
 *  earlier copy of it left unsaved: each control the worker changed then, unless what the form
 *  starts from changed there meanwhile (a sync brought another's edit), which is never overwritten
 *  unseen. Then `restored(at, clashes)` says so, `at` in ms and `clashes` the typing not put back,
 *  as [{label, value}]. A form is known by its address and `data-draft`, else by its controls'
 *  names: a screen may hold several forms. */
export function keep(form, restored) {
  const names = [...new Set([...form.elements].map((el) => el.name).filter(Boolean))].sort();
  const entry = { name: `${location.hash}|${form.dataset.draft || names.join(',')}`, baseline: read(form), timer: null };
  kept.set(form, entry);
  const typed = () => {
    if (entry.restoring) return;
    clearTimeout(entry.timer);
    waiting.add(form);
    entry.timer = setTimeout(() => flush(form), DELAY);
  };
  form.addEventListener('input', typed);
  form.addEventListener('change', typed);
  inOrder(() => db.draftGet(entry.name)).then((draft) => {
    // Typing begun meanwhile is newer than the draft, and is kept over it.
    if (!draft || form.hasAttribute('data-dirty')) return;
    const { base, fields } = draft.value;
    const edited = Object.keys(fields).filter((n) => n in entry.baseline && !same(fields[n], base[n]));
    const moved = (n) => !same(base[n], entry.baseline[n]) && !same(fields[n], entry.baseline[n]);
    entry.restoring = true;  // the draft keeps the time it was typed
    const changed = write(form, Object.fromEntries(edited.filter((n) => !moved(n)).map((n) => [n, fields[n]])));
    entry.restoring = false;
    const clashes = edited.filter(moved).map((n) => described(form, n, fields[n]));
    if (changed || clashes.length) restored(draft.at, clashes);
  }).catch(() => {});
}

/** Write the draft of `form` now; a form holding what it was drawn with has none to keep. */
export function flush(form) {
  const entry = kept.get(form);
  if (!entry) return Promise.resolve();
  clearTimeout(entry.timer);
  waiting.delete(form);
  const fields = read(form);
  return inOrder(() => (same(fields, entry.baseline) ? db.draftDelete(entry.name)
    : db.draftPut(entry.name, { base: entry.baseline, fields }))).catch(() => {});
}

/** Write every draft not yet written: the page may be dropped next (hidden, left, updated). */
export function flushAll() {
  return Promise.all([...waiting].map(flush));
}

/** Forget the draft of `form`: it was saved, or the worker chose to lose it. */
export function drop(form) {
  const entry = kept.get(form);
  if (!entry) return Promise.resolve();
  clearTimeout(entry.timer);
  waiting.delete(form);
  return inOrder(() => db.draftDelete(entry.name)).catch(() => {});
}

/** Forget the drafts of the forms in `node`, a screen the worker left without saving. */
export function dropIn(node) {
  return Promise.all([...(node ? node.querySelectorAll('form') : [])].map(drop));
}

/** What draws the screen shown anew (app.js): a discarded draft's form as it was first drawn. */
export function onDiscard(fn) { redraw = fn; }

/** Throw away what was put back into `form`, the other forms' typing kept, and draw it anew. */
export async function discard(form) {
  await flushAll();
  await drop(form);
  form.removeAttribute('data-dirty');
  redraw();
}

/** Forget the drafts nobody came back to. */
export function prune() {
  return inOrder(() => db.draftsPrune(Date.now() - KEEP_DAYS * 86400000)).catch(() => {});
}

addEventListener('pagehide', flushAll);
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') flushAll(); });
