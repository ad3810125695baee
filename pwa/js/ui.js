// Building DOM from text only: every string goes in as a text node, never as markup.
import { ApiError } from './api.js';
import * as drafts from './drafts.js';

export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : String(kid));
  }
  return el;
}

/** The tag of a record's sync state (store.syncState): refused by the server, or waiting to sync. */
export function syncTag(state) {
  if (state === 'refused') return h('span', { class: 'tag high', 'data-testid': 'refused-tag' }, '被退回，待处理');
  return state === 'pending' ? h('span', { class: 'tag' }, '待同步') : null;
}

let uid = 0;
export const nextId = (p = 'f') => `${p}-${++uid}`;

/** A labelled form control. */
export function field(label, control, hint) {
  if (!control.id) control.id = nextId();
  const hintEl = hint ? h('small', { id: `${control.id}-hint`, class: 'hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintEl);
}

/** Show `message` under a form control, tied to it for a screen reader, until it is typed in
 *  (null: take it away now). */
export function fieldProblem(control, message) {
  const id = `${control.id || (control.id = nextId())}-error`;
  const box = control.closest('.field') || control.parentElement;
  const old = box.querySelector(`[id="${id}"]`);
  if (old) old.remove();
  const described = (control.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== id);
  if (message) {
    box.append(h('small', { id, class: 'error', 'data-testid': 'field-problem' }, message));
    described.push(id);
    control.setAttribute('aria-invalid', 'true');
    control.addEventListener('input', () => fieldProblem(control, null), { once: true });
  } else control.removeAttribute('aria-invalid');
  if (described.length) control.setAttribute('aria-describedby', described.join(' '));
  else control.removeAttribute('aria-describedby');
}

/** Show each of `problems` ({control name: message, or null for none}) at its control in `form`;
 *  say whether any was shown, the first one focused unless `focus` is false. */
export function showProblems(form, problems, focus = true) {
  let first = null;
  for (const [name, message] of Object.entries(problems)) {
    const control = form.elements[name];
    if (!control || !control.closest) continue;
    fieldProblem(control, message);
    if (message && !first) first = control;
  }
  if (first && focus) first.focus();
  return first !== null;
}

/** Have typing in `form` mark it dirty, which keeps a background sync or another tab's from
 *  redrawing the screen under it and asks the worker before leaving it (app.js); whoever submits it
 *  removes the mark. */
export function holdTyping(form) {
  const dirty = () => form.setAttribute('data-dirty', '');
  form.addEventListener('input', dirty);
  form.addEventListener('change', dirty);
}

/** Wire a form to `save(form)`. Typing marks the form dirty, which keeps a background sync from
 *  re-rendering it (app.js) until a save has succeeded; the save runs as `whileSaving`, its submit
 *  buttons disabled. `save` resolves false when it refused or was cancelled; the form is then enabled
 *  again for the user to correct and retry, as when it throws (the phone could not store it), which
 *  the form then says. After a save the screen moves on or is redrawn, so the buttons stay disabled. */
export function onSave(form, save) {
  holdTyping(form);
  drawnAt(form);
  drafts.keep(form, (at, clashes, interrupted) => restoredNote(form, at, clashes, interrupted));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    whileSaving(form, async () => {
      const buttons = [...form.querySelectorAll('button[type="submit"]')];
      const enable = (on) => buttons.forEach((b) => { b.disabled = !on; });
      enable(false);
      form.querySelectorAll('[data-not-saved]').forEach((el) => el.remove());
      const draft = await drafts.saving(form);  // the worker may leave while it saves, and the save fail
      let saved = false;
      try {
        saved = (await save(form)) !== false;
      } catch (err) {
        // An answer from the server (an online save) is said as it always is (app.js); anything else
        // failing here is the phone's storage (full, or its transaction aborted), with nothing
        // written: the typing is all that is left of the record.
        draft.failed();
        enable(true);
        if (err instanceof ApiError) throw err;
        notSaved(form, buttons[0], err);
        return;
      }
      if (saved) {
        form.removeAttribute('data-dirty');
        draft.saved();
        return;
      }
      draft.failed();
      enable(true);
      // Refused (by the server, or the form's own check) after the worker left: what the form
      // would have said is nowhere to be seen, so say it where they are.
      if (!form.isConnected) {
        const said = [...form.querySelectorAll('[role="alert"]')].map((el) => el.textContent.trim()).find(Boolean);
        toast(`刚才填写的内容未保存${said ? `：${said.replace(/[。！]$/, '')}` : ''}。内容已暂存在本机，回到原页面即可继续。`);
      }
    });
  });
}

/** Run `save()` with `form` marked `data-saving`, which holds its screen from a background redraw
 *  (app.js) so that the form stays on it until it moves on (moveOn). A call while one runs, a
 *  second tap, is ignored: each save of a new record makes a new id, so it would queue it twice. */
export async function whileSaving(form, save) {
  if (form.hasAttribute('data-saving')) return;
  form.setAttribute('data-saving', '');
  try {
    await save();
  } finally {
    form.removeAttribute('data-saving');
  }
}

const homes = new WeakMap();  // a form: the address of the screen it was drawn for

/** Note that `form` belongs to the screen at the address now shown, for moveOn. */
export function drawnAt(form) {
  homes.set(form, location.hash);
}

/** After `form` saved, move on to `to` (an address, or a function that goes there), unless the
 *  worker has meanwhile left the form (a save on a slow phone takes a moment): the save must not
 *  take them away from where they went, even while that screen is still being drawn (the address
 *  has changed) or when it is the same screen opened anew (the form is no longer on it). Nothing
 *  else replaces a form while it saves (onSave). */
export function moveOn(form, to) {
  if (!form.isConnected || location.hash !== homes.get(form)) return;
  form.removeAttribute('data-dirty');  // saved: leaving it asks nothing (app.js)
  if (typeof to === 'function') to();
  else location.hash = to;
}

/** In words, a failure of the phone's own storage (`e` from IndexedDB), never the browser's English. */
export const storageProblem = (e) => (e && e.name === 'QuotaExceededError' ? '手机存储空间已满' : '本机存储读写出错');

/** In words the user reads, any error: a server's answer says itself, the phone's storage (a
 *  DOMException from IndexedDB) as above, anything else as not done. */
export const inWords = (e) => (e instanceof ApiError ? e.message
  : e instanceof DOMException ? storageProblem(e) : '操作未完成，请重试或刷新页面');

/** Say, until dismissed or the next save, that the form's record was not saved and what to do. */
function notSaved(form, before, err) {
  if (!form.isConnected) {  // left while it saved: the form is gone, say so where the worker is
    toast(`刚才填写的记录未保存：${storageProblem(err)}，请回到原页面重新填写。`);
    return;
  }
  const ok = h('button', { type: 'button', class: 'btn small' }, '知道了');
  const box = h('div', { class: 'banner warn', role: 'alert', 'data-not-saved': '' },
    h('span', {}, `未保存：${storageProblem(err)}，这条记录没有保存到本机。填写的内容仍在本页，请不要关闭本页；`
      + '清理手机存储空间（删除不用的照片、视频或应用）后回到本页，再点保存。'), ok);
  ok.addEventListener('click', () => box.remove());
  if (before) before.before(box);
  else form.append(box);
}

/** Say at the top of `form` that typing left unsaved at `at` (ms) was put back, with a way to
 *  throw it away; `clashes` ([{label, value}]), typing not put back because the record changed
 *  elsewhere meanwhile, is shown for the worker to weigh and copy; `interrupted`, the page was
 *  dropped while it saved: it may be saved already. */
function restoredNote(form, at, clashes, interrupted) {
  const saved = interrupted ? '上次保存时页面被关闭，这些内容可能已经保存，请先查看记录，避免重复提交。' : '';
  const discard = h('button', { type: 'button', class: 'btn small' }, '丢弃');
  const box = h('div', { class: 'banner info', role: 'status', 'data-testid': 'draft-restored' },
    h('span', {}, `已恢复 ${fmtTime(at)} 未保存的填写内容，请核对后再保存。${saved}`),
    clashes.length ? h('div', { 'data-testid': 'draft-clashes' },
      h('p', {}, '以下内容在您填写后已有变化（如他人更新），未自动填入。您当时填写的是：'),
      h('dl', { class: 'facts' }, clashes.map((c) => [h('dt', {}, c.label), h('dd', {}, c.value)]))) : null,
    discard);
  discard.addEventListener('click', async () => {
    if (await confirmDialog('丢弃这些内容？', '恢复的填写内容将被删除，无法找回。', '丢弃', '保留')) drafts.discard(form);
  });
  form.prepend(box);
}

/** Redraw a screen that stays after `form` saved on it: the store's reload passed it over while the
 *  form was still unsaved (app.js). Not while another of its forms holds typing; say whether it did. */
export function redrawSaved(screen, form, render) {
  const typing = screen && [...screen.querySelectorAll('form[data-dirty]')].some((f) => f !== form);
  if (!screen || !screen.isConnected || typing) return false;
  screen.replaceWith(render());
  return true;
}

/** A radio group in a fieldset with a legend. */
export function radios(legend, name, options, value, onchange) {
  return h('fieldset', { class: 'choices' }, h('legend', {}, legend),
    options.map(([v, text]) => {
      const id = nextId('r');
      return h('span', { class: 'choice' },
        h('input', { type: 'radio', id, name, value: v, checked: v === value, onchange: () => onchange && onchange(v) }),
        h('label', { for: id }, text));
    }));
}

export function checkbox(label, name, checked) {
  const id = nextId('c');
  return h('span', { class: 'choice' }, h('input', { type: 'checkbox', id, name, checked: Boolean(checked) }),
    h('label', { for: id }, label));
}

export function page(title, ...kids) {
  return h('section', { class: 'page' }, h('h1', { tabindex: '-1' }, title), kids);
}

export function toast(text) {
  const box = document.getElementById('toast');
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

/** Show a modal dialog titled `title` holding `content`; `cancel` runs on Esc or the back gesture.
 *  Returns `close()`, which takes it away. */
function modal(title, content, cancel, props = {}) {
  const titleId = nextId('dlg');
  const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, ...props }, h('h2', { id: titleId }, title), content);
  dlg.addEventListener('cancel', (e) => { e.preventDefault(); cancel(); });
  document.body.append(dlg);
  dlg.showModal();
  return () => { if (dlg.open) dlg.close(); dlg.remove(); };
}

/** A modal confirm built from text; resolves true or false. */
export function confirmDialog(title, message, okText, cancelText = '取消') {
  return new Promise((resolve) => {
    const close = (v) => { remove(); resolve(v); };
    const remove = modal(title, [h('p', {}, message),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'btn', onclick: () => close(false) }, cancelText),
        h('button', { type: 'button', class: 'btn danger', onclick: () => close(true) }, okText))], () => close(false));
  });
}

export const today = () => localDate(new Date());
export function localDate(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** Local time in ISO 8601 with its offset, as the API wants. */
export function isoNow(d = new Date()) {
  const p = (n) => String(Math.floor(Math.abs(n))).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  return `${localDate(d)}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
    + `${off >= 0 ? '+' : '-'}${p(off / 60)}:${p(off % 60)}`;
}

/** Order records by the moment in their field `at`, oldest first: ISO times whose offsets differ (the
 *  phone's +08:00, the server's UTC) are compared as moments, not as text; the same millisecond by the text. */
export const byTime = (at) => (a, b) => (Date.parse(a[at]) - Date.parse(b[at]))
  || String(a[at]).localeCompare(String(b[at]));
/** The same, newest first. */
export const byTimeNewest = (at) => (a, b) => byTime(at)(b, a);

/** The day of a moment (an ISO time, the server's in UTC) as the phone's clock reads it: an inspection
 *  made at 01:30 in the town is not dated the day before. */
export const fmtDate = (value) => (value ? localDate(new Date(value)) : '—');

export function fmtTime(value) {
  if (!value) return '—';
  const d = new Date(value);
  return `${localDate(d)} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

export function addDays(dateStr, days) {
  const d = new Date(`${dateStr}T12:00:00`);
  d.setDate(d.getDate() + days);
  return localDate(d);
}

/** A modal that shows one masked field after asking which (`choices`: [value, label] pairs) and why.
 *  `reveal(field, reason)` resolves the value, or throws an Error whose message the dialog says.
 *  The value is shown in the dialog only and goes with it: on close, on leaving the screen, or when
 *  the phone is put away. Resolves when it closes. */
export function revealDialog(title, choices, reveal) {
  return new Promise((resolve) => {
    const reason = h('textarea', { name: 'reason', rows: '2', maxlength: '500' });
    const out = h('p', { class: 'error', role: 'alert' });
    const shown = h('p', { class: 'revealed', 'data-testid': 'revealed', 'aria-live': 'polite' });
    const go = h('button', { type: 'submit', class: 'btn primary' }, '查看');
    const form = h('form', { novalidate: true },
      radios('查看哪一项', nextId('reveal'), choices, choices[0][0]),
      field('原因（必填）', reason, '每次查看都记入审计日志'), out, shown,
      h('div', { class: 'row' }, h('button', { type: 'button', class: 'btn', onclick: () => close() }, '关闭'), go));
    const away = () => { if (document.visibilityState === 'hidden') close(); };
    let remove = null;
    function close() {
      shown.textContent = '';
      removeEventListener('hashchange', close);
      document.removeEventListener('visibilitychange', away);
      remove();
      resolve();
    }
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      out.textContent = '';
      shown.textContent = '';
      const why = reason.value.trim();
      if (!why) {
        out.textContent = '请写明查看原因';
        reason.focus();
        return;
      }
      const picked = form.querySelector('input[type="radio"]:checked');
      const [which, label] = choices.find(([v]) => v === picked.value);
      go.disabled = true;
      try {
        const value = await reveal(which, why);
        const text = Array.isArray(value) ? value.join('、') : value;
        if (form.isConnected) shown.textContent = `${label}：${text || '（无）'}`;
      } catch (err) {
        if (form.isConnected) out.textContent = err.message;
      } finally {
        go.disabled = false;
      }
    });
    addEventListener('hashchange', close);
    document.addEventListener('visibilitychange', away);
    remove = modal(title, form, close, { 'data-testid': 'reveal-dialog' });
  });
}
