// The typing of a form not yet saved, kept sealed on the phone as it is typed (db/drafts.js) and put
// back when its screen is drawn again: a tab the phone's browser dropped (the camera opened, a call,
// a reload, an update) loses none of it, nor the photos picked in it. A draft goes when its form is
// saved, when the worker chooses to leave the typing or discard it, or after KEEP_DAYS untouched.
import * as db from './db.js';
import { newId } from './crypto.js';
import { draftName, heldName } from './draft-names.js';

const DELAY = 400;
const KEEP_DAYS = 30;
// Never kept as typing: what cannot be put back into a control (files: a form hands its photos over
// itself, addFile), what must not be stored (passwords, and a control a form marks data-no-draft:
// a staff check's ID number), and what was not typed (buttons, and hidden values but those a form
// marks data-draft: where and when it began).
const SKIP = new Set(['password', 'file', 'submit', 'button', 'reset']);
const kept = new WeakMap();  // a form: { name, baseline, hidden, clashes, files, takeFiles, timer, typedAt, restoring, saving, done }
const waiting = new Set();  // forms typed in whose draft is not written yet
const beingSaved = new Map();  // the name of a draft whose form is being saved: how many saves run
const afterFailure = new Map();  // a draft's name: the restores of its forms drawn while it saved
let queue = Promise.resolve();  // every read and write in the order asked: a save's delete is never overtaken
let redraw = () => {};

const inOrder = (step) => {
  const next = queue.then(step);
  queue = next.catch(() => {});  // a draft that cannot be kept (storage full) costs the typing on screen nothing
  return next;
};
// The entry's name read when the queue comes to it: a form just drawn may not know it yet (draftName).
const forget = (entry) => inOrder(() => db.draftDelete(entry.name)).catch(() => {});

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const keptControl = (el) => el.name && !SKIP.has(el.type) && !el.hasAttribute('data-no-draft')
  && (el.type !== 'hidden' || el.hasAttribute('data-draft'));

/** The controls' values by name: text as typed, a checkbox or radio group as the values checked. */
function read(form) {
  const fields = {};
  for (const el of form.elements) {
    if (!keptControl(el)) continue;
    if (el.type === 'checkbox' || el.type === 'radio') {
      if (!fields[el.name]) fields[el.name] = [];
      if (el.checked) fields[el.name].push(el.value);
    } else fields[el.name] = el.value;
  }
  return fields;
}

/** Put `fields` into the form's controls as if typed, so that whatever the form keeps of its
 *  controls follows (a radio group's callback, the dirty mark); a hidden value's owner is told
 *  even of one unchanged. Say how many the worker can see changed. */
function write(form, fields) {
  let changed = 0;
  for (const el of form.elements) {
    if (!keptControl(el) || !(el.name in fields)) continue;
    const value = fields[el.name];
    if (el.type === 'hidden') {
      el.value = value;
      el.dispatchEvent(new Event('change', { bubbles: true }));
      continue;
    }
    if (el.type === 'checkbox' || el.type === 'radio') {
      const on = Array.isArray(value) && value.includes(el.value);
      if (el.checked === on) continue;
      el.checked = on;
      if (!on && el.type === 'radio') continue;  // a browser tells only the radio that was picked
    } else if (el.value !== value) {
      el.value = value;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    } else continue;
    el.dispatchEvent(new Event('change', { bubbles: true }));
    changed += 1;
  }
  return changed;
}

/** What a worker reads for control `name` holding `value`: its label, and the value as shown. A
 *  control inside an element marked `data-label` (a checklist item) is named with it. */
function described(form, name, value) {
  const control = form.querySelector(`[name="${CSS.escape(name)}"]`);
  if (!control) return { label: '（表单已无此项）', value: Array.isArray(value) ? value.join('、') : String(value) };
  const { label, value: shown } = labelled(form, name, value);
  const group = control.closest('[data-label]');
  const whole = group && !label.includes(group.dataset.label) ? `${group.dataset.label}：${label}` : label;
  return { label: whole, value: shown };
}

function labelled(form, name, value) {
  const els = [...form.elements].filter((el) => el.name === name);
  const labelOf = (el) => {
    const label = el.id && form.querySelector(`label[for="${CSS.escape(el.id)}"]`);
    return label ? label.textContent : '';
  };
  const legend = (el) => {
    const group = el.closest('fieldset');
    const title = group && group.querySelector('legend');
    return title ? title.textContent : '';
  };
  const [first] = els;
  if (first.tagName === 'SELECT') {
    const option = [...first.options].find((o) => o.value === value);
    return { label: labelOf(first), value: option ? option.textContent : value };
  }
  if (first.type === 'radio') {
    const picked = els.filter((el) => value.includes(el.value)).map(labelOf);
    return { label: legend(first), value: picked.join('、') || '（未选）' };
  }
  if (first.type === 'checkbox') {
    const label = [legend(first), labelOf(first)].filter(Boolean).join('：');
    return { label, value: value.length ? '是' : '否' };
  }
  return { label: labelOf(first), value };
}

/** Keep the typing in `form`, drawn for the screen at the address now shown, and put back what an
 *  earlier copy of it left unsaved: each control the worker changed then, unless what the form
 *  starts from changed there meanwhile (a sync brought another's edit, a day passed), which is
 *  never overwritten unseen; and the hidden values marked data-draft (where and when it began) as
 *  they were. Then `restored(at, clashes, interrupted)` says so: `at` in ms, `clashes` the typing
 *  not put back, as [{label, value}], kept with the draft until typed over, saved or discarded,
 *  and `interrupted` when the tab was dropped while it saved (it may have been saved). The form
 *  then holds unsaved typing. A form is known by its address and `data-draft`, else by its
 *  controls' names: a screen may hold several. A form drawn anew while its own save runs (the
 *  screen redrawn by it) takes its draft back only if that save fails. */
export function keep(form, restored) {
  const names = [...new Set([...form.elements].map((el) => el.name).filter(Boolean))].sort();
  const base = `${location.hash}|${form.dataset.draft || names.join(',')}`;
  const entry = { name: heldName(base) || base, baseline: read(form), timer: null, clashes: {}, files: [], takeFiles: null };
  // Every read and write of the draft queues after this: the name is known by then.
  inOrder(async () => { entry.name = await draftName(base, (name) => beingSaved.has(name)); }).catch(() => {});
  entry.hidden = new Set([...form.elements].filter((el) => el.type === 'hidden').map((el) => el.name));
  kept.set(form, entry);
  const typed = () => {
    if (entry.restoring) return;
    entry.typedAt = Date.now();
    clearTimeout(entry.timer);
    waiting.add(form);
    entry.timer = setTimeout(() => flush(form), DELAY);
  };
  form.addEventListener('input', typed);
  form.addEventListener('change', typed);
  const restore = () => inOrder(() => db.draftGet(entry.name)).then((draft) => {
    if (!draft) return;
    // Typing begun in this copy meanwhile (drawn again while a save ran, which then failed) is newer
    // than the draft and stays, where and when it began too; the draft's typing in the controls
    // it is in is shown beside it, the rest put back.
    const now = form.hasAttribute('data-dirty') ? read(form) : null;
    const typedHere = (n) => Boolean(now) && !same(now[n], entry.baseline[n]);
    const { at, base, fields, files = [] } = draft;
    const edited = Object.keys(fields).filter((n) => !entry.hidden.has(n) && !same(fields[n], base[n]));
    // Typed over something that changed since, or into a control the form no longer has (a
    // checklist updated meanwhile): shown, not written.
    const moved = (n) => !(n in entry.baseline)
      || (!same(base[n], entry.baseline[n]) && !same(fields[n], entry.baseline[n]));
    const back = edited.filter((n) => !moved(n) && !typedHere(n));
    for (const n of edited.filter(moved)) entry.clashes[n] = { base: base[n], value: fields[n] };
    const beside = edited.filter((n) => !moved(n) && typedHere(n) && !same(fields[n], now[n]));
    const clashes = [...Object.entries(entry.clashes), ...beside.map((n) => [n, { value: fields[n] }])]
      .map(([n, c]) => described(form, n, c.value));
    entry.restoring = true;  // the draft keeps the time it was typed
    const changed = write(form, pick(fields, back));
    if (!changed && !clashes.length && !files.length) {  // nothing left to put back: where and when it began neither
      entry.restoring = false;
      if (now) flush(form);
      else forget(entry);
      return;
    }
    if (!now) write(form, pick(fields, entry.hidden));
    if (files.length) putFilesBack(form, entry, files, Boolean(draft.saving));
    entry.restoring = false;
    form.setAttribute('data-dirty', '');  // leaving asks; leaving or discarding forgets the draft
    if (!now) entry.typedAt = at;
    restored(at, clashes, Boolean(draft.saving));
    if (now) flush(form);  // the draft holds the form as it is now, not the typing it took back
  }).catch(() => {});
  if (!beingSaved.has(entry.name)) restore();
  else afterFailure.set(entry.name, [...(afterFailure.get(entry.name) || []), restore]);
}

const pick = (fields, names) => Object.fromEntries([...names].filter((n) => n in fields).map((n) => [n, fields[n]]));

// The draft's own list says which files are its and in what order. Put back after a save the tab
// dropped (`renew`), each takes a new id: that save may have queued it under the old one. The old
// copies go only once the draft lists the new: a tab dropped in between keeps one listed copy.
function putFilesBack(form, entry, ids, renew) {
  entry.files = [...ids, ...entry.files.filter((id) => !ids.includes(id))];
  let old = [];
  inOrder(async () => {
    const byId = new Map((await db.draftFiles(entry.name)).map((f) => [f.id, f]));
    const back = ids.filter((id) => byId.has(id)).map((id) => byId.get(id));
    if (!renew) return back;
    old = back;
    const fresh = back.map((f) => ({ ...f, id: newId() }));
    for (const f of fresh) await db.draftFilePut(entry.name, f.id, f.blob);
    return fresh;
  }).then((back) => {
    // Photos picked meanwhile stay listed after those put back.
    entry.files = [...back.map((f) => f.id), ...entry.files.filter((id) => !ids.includes(id))];
    if (entry.takeFiles) entry.takeFiles(back);
    return flush(form);
  }).then(() => inOrder(async () => {
    const listed = new Set(((await db.draftGet(entry.name)) || {}).files || []);
    for (const f of old) if (!listed.has(f.id)) await db.draftFileDelete(entry.name, f.id);
  })).catch(() => {});
}

/** Keep the files (photos) picked in `form` with its typing: `take([{id, blob}])` puts back those
 *  a dropped tab left. Call it as the form is drawn, after `keep`. */
export function keepFiles(form, take) {
  const entry = kept.get(form);
  if (entry) entry.takeFiles = take;
}

/** A file was picked in `form`: keep it, sealed, with the form's draft. */
export const addFile = (form, id, blob) => changeFiles(form, (ids) => [...ids, id],
  (name) => db.draftFilePut(name, id, blob));

/** A file picked in `form` was taken out again. */
export const removeFile = (form, id) => changeFiles(form, (ids) => ids.filter((f) => f !== id),
  (name) => db.draftFileDelete(name, id));

// The draft's list of files changes at once; its row follows the file's, in the queue's order.
function changeFiles(form, list, store) {
  const entry = kept.get(form);
  if (!entry) return Promise.resolve();
  entry.files = list(entry.files);
  return inOrder(() => store(entry.name)).then(() => flush(form)).catch(() => {});
}

/** Write the draft of `form` now; a form holding nothing typed has none to keep. Typing shown as a
 *  clash goes with it, with the value it was typed over, until the worker types in its control. */
function flush(form) {
  const entry = kept.get(form);
  if (!entry) return Promise.resolve();
  clearTimeout(entry.timer);
  waiting.delete(form);
  if (entry.done && !form.isConnected) return Promise.resolve();  // saved and gone: typing after the save goes with it
  const fields = read(form);
  const base = { ...entry.baseline };
  for (const [n, clash] of Object.entries(entry.clashes)) {
    if (!same(fields[n], entry.baseline[n])) {
      delete entry.clashes[n];
      continue;
    }
    fields[n] = clash.value;
    base[n] = clash.base;
  }
  const typedIn = entry.files.length > 0
    || Object.keys(fields).some((n) => !entry.hidden.has(n) && !same(fields[n], entry.baseline[n]));
  const value = { at: entry.typedAt || Date.now(), base, fields, ...(entry.files.length ? { files: [...entry.files] } : {}),
    ...(entry.saving ? { saving: true } : {}) };
  return inOrder(() => (typedIn ? db.draftPut(entry.name, value) : db.draftDelete(entry.name))).catch(() => {});
}

/** Write every draft not yet written, and again those of forms holding typing (a GPS fix may have
 *  come since), and `also`: the page may be dropped next (hidden, left, updated, redrawn). */
export function flushAll(also = null) {
  const forms = new Set([...waiting, ...document.querySelectorAll('form[data-dirty]'), also]);
  return Promise.all([...forms].filter((form) => form && kept.has(form)).map(flush));
}

/** `form` is being saved: write every draft (a save may redraw the screen), this one marked as
 *  saving before the save begins, and take nothing back into a copy of it drawn meanwhile.
 *  Resolves `{saved(), failed()}`, one of which is called when the save is over. */
export async function saving(form) {
  const entry = kept.get(form);
  if (entry) entry.saving = true;
  await flushAll(form);
  if (!entry) return { saved() {}, failed() {} };
  beingSaved.set(entry.name, (beingSaved.get(entry.name) || 0) + 1);
  const submitted = read(form);
  const over = () => {
    entry.saving = false;
    const left = beingSaved.get(entry.name) - 1;
    if (left) beingSaved.set(entry.name, left);
    else beingSaved.delete(entry.name);
    const restores = left ? [] : afterFailure.get(entry.name) || [];
    if (!left) afterFailure.delete(entry.name);
    return restores;
  };
  return {
    // Saved: the draft goes; a form still shown starts again from what it saved.
    saved() {
      entry.baseline = submitted;
      entry.clashes = {};
      entry.files = [];
      entry.done = !form.isConnected;
      forget(entry);
      over();
    },
    // Not saved: the draft stays, no longer marked, and a copy of the form drawn meanwhile takes it.
    failed() {
      const restores = over();
      flush(form);
      restores.forEach((restore) => restore());
    },
  };
}

/** The draft of `form` while its save runs, as a list ([] when none): a local save forgets it with
 *  the records it writes (db.saveLocal), so a tab dropped after the save does not offer it again. */
export function savingDraft(form) {
  const entry = form && kept.get(form);
  return entry && beingSaved.has(entry.name) ? [entry.name] : [];
}

/** Forget the draft of `form`: the worker chose to lose its typing. */
function drop(form) {
  const entry = kept.get(form);
  if (!entry) return Promise.resolve();
  clearTimeout(entry.timer);
  waiting.delete(form);
  return forget(entry);
}

/** Forget the drafts of the forms in `node`, a screen the worker left without saving, but those
 *  of a form being saved (or drawn again while it saves): it may yet be refused, and its typing is
 *  then all there is. */
export function dropIn(node) {
  const forms = [...(node ? node.querySelectorAll('form:not([data-saving])') : [])];
  return Promise.all(forms.filter((form) => !beingSaved.has((kept.get(form) || {}).name)).map(drop));
}

/** Say whether every form in `node` holding typing keeps it as a draft. */
export function keepsAll(node) {
  // A control never kept (data-no-draft: a staff check's ID number) holding typing is lost on a reload.
  return [...(node ? node.querySelectorAll('form[data-dirty], form[data-saving]') : [])]
    .every((f) => kept.has(f) && ![...f.querySelectorAll('[data-no-draft]')].some((el) => el.value));
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

/** Forget the drafts nobody came back to; before the first screen is drawn, which would take one back. */
export function prune() {
  return inOrder(() => db.draftsPrune(Date.now() - KEEP_DAYS * 86400000)).catch(() => {});
}

addEventListener('pagehide', () => flushAll());
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') flushAll(); });
