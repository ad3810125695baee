// Record a home visit, or correct one: the server's checklist template, GPS with its accuracy,
// notes, follow-up; a correction is a new visit that names the one it amends and why.
import { h, field, page, radios, checkbox, isoNow, moveOn, onSave, toast } from '../ui.js';
import * as store from '../store.js';
import { amendFields, notAmendable } from '../amend.js';
import { askForClue, cluePrompt, signsOf } from '../clue-prompt.js';

function showFix(out, fix, prefix) {
  const acc = fix.accuracy_m == null ? '精度未知' : `精度 ±${Math.round(fix.accuracy_m)} 米`;
  out.textContent = `${prefix}：${Number(fix.lat).toFixed(5)}, ${Number(fix.lon).toFixed(5)}，${acc}`;
}

/** The GPS fix of a visit or inspection. `kept` (a correction's original) keeps that fix: a correction
 *  written later elsewhere must not be placed where the phone is now unless asked for a new fix at `place`.
 *  The fix goes with the form's draft (drafts.js): typing put back keeps the fix taken where it began. */
export function gpsWidget(kept = null, place = '儿童家中') {
  const fix = { lat: null, lon: null, accuracy_m: null };
  const out = h('p', { class: 'gps', 'aria-live': 'polite', 'data-testid': 'gps' }, '正在获取定位…');
  const held = h('input', { type: 'hidden', name: 'fix', 'data-draft': '' });
  const hold = () => { held.value = fix.lat === null ? '' : JSON.stringify(fix); };
  let asked = 0;  // the newest request: an older one answering late, or one a draft overtook, is not taken
  let original = null;  // a correction's fix, as held
  const take = () => {
    if (!navigator.geolocation) { out.textContent = '本机不支持定位'; return; }
    const mine = ++asked;
    out.textContent = '正在获取定位…';
    navigator.geolocation.getCurrentPosition((p) => {
      if (mine !== asked) return;
      Object.assign(fix, { lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: Math.round(p.coords.accuracy) });
      hold();
      showFix(out, fix, '已定位');
    }, (e) => { if (mine === asked) out.textContent = `无法定位（${e.message || e.code}），可不带定位保存`; },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  };
  held.addEventListener('change', () => {  // a draft put back: the fix taken where its typing began
    asked += 1;
    if (!held.value) {
      Object.assign(fix, { lat: null, lon: null, accuracy_m: null });
      out.textContent = kept ? '原记录没有定位，更正也不带定位。' : `开始填写时未能定位。只有人在${place}时才点“重新定位”。`;
      return;
    }
    Object.assign(fix, JSON.parse(held.value));
    showFix(out, fix, held.value === original ? '沿用原记录的定位' : '沿用开始填写时的定位');
  });
  const again = h('button', { type: 'button', class: 'btn small' }, '重新定位');
  again.addEventListener('click', take);
  if (!kept) take();
  else if (kept.lat != null && kept.lon != null) {
    Object.assign(fix, { lat: kept.lat, lon: kept.lon, accuracy_m: kept.accuracy_m ?? null });
    hold();
    original = held.value;
    showFix(out, fix, '沿用原记录的定位');
  } else out.textContent = '原记录没有定位，更正也不带定位。';
  const hint = kept ? h('small', { class: 'hint' }, `只有人在${place}时才点“重新定位”。`) : null;
  return { fix, el: h('div', { class: 'card' }, h('h2', {}, '定位'), out, hint, again, held) };
}

/** Note in `form` when the worker began the record, the first thing typed: the time a record saved
 *  from it claims, kept with its draft (drafts.js), so typing put back later is not dated then.
 *  Call before onSave. Returns the time to save, in ISO 8601. */
export function beganAt(form) {
  const began = h('input', { type: 'hidden', name: 'began', 'data-draft': '' });
  form.addEventListener('input', () => { if (!began.value) began.value = isoNow(); });
  form.append(began);
  return () => began.value || isoNow();
}

/** One checklist item's control, prefilled with `value`; in a correction (`amending`) an item the
 *  original left unanswered stays unanswered unless the worker answers it. */
function itemControl(item, value, amending) {
  const name = `a_${item.key}`;
  if (item.kind === 'bool') {
    return { el: radios(item.label, name, [['true', '是'], ['false', '否']], typeof value === 'boolean' ? String(value) : null),
      read: (f) => { const v = f.querySelector(`input[name="${name}"]:checked`); return v ? v.value === 'true' : undefined; } };
  }
  if (item.kind === 'number') {
    const input = h('input', { type: 'number', name, inputmode: 'numeric', min: item.min, max: item.max,
      value: typeof value === 'number' ? String(value) : null });
    const unit = item.unit && !item.label.includes(item.unit) ? `（${item.unit}）` : '';
    return { el: field(`${item.label}${unit}`, input, item.help),
      read: () => (input.value === '' ? undefined : Number(input.value)) };
  }
  const picked = Array.isArray(value) ? value : [];
  return { el: h('fieldset', { class: 'choices' }, h('legend', {}, item.label),
    (item.options || []).map((o) => checkbox(o.label, `${name}:${o.key}`, picked.includes(o.key)))),
  read: (f) => {
    const keys = (item.options || []).filter((o) => f.querySelector(`input[name="${name}:${o.key}"]`).checked).map((o) => o.key);
    return keys.length || !amending || value !== undefined ? keys : undefined;
  } };
}

/** The head's note on a questioned visit, shown above the correction's reason. */
function reviewNote(original) {
  if (original.review_status !== 'questioned') return null;
  return h('p', { class: 'banner warn', 'data-testid': 'review-note' }, `负责人意见：${original.review_note || '（无）'}`);
}

/** The checklist answers; without a downloaded checklist a correction keeps the original's as they were. */
function readAnswers(form, controls, template, before) {
  const answers = template ? {} : { ...before };
  for (const x of controls) { const v = x.read(form); if (v !== undefined) answers[x.item.key] = v; }
  return answers;
}

export async function render(childId, amendsId) {
  const c = store.one('child', childId);
  if (!c) return page('未找到', h('p', {}, '这个儿童不在本机数据中。'));
  const original = amendsId ? store.one('visit', amendsId) : null;
  if (amendsId) {
    const ours = original && original.child_id === childId ? original : null;
    const why = notAmendable('visit', ours, '走访记录', 'worker_id');
    if (why) return page(`更正走访 ${c.name}`, h('p', { class: 'banner warn' }, why), h('a', { href: `#/child/${childId}` }, '返回儿童详情'));
  }
  const templates = (await store.reference('templates')) || [];
  const template = templates.find((t) => !t.venue_types || !t.venue_types.length);
  const gps = gpsWidget(original);
  const before = (original && original.answers) || {};
  const controls = template ? template.items.map((item) => ({ item, ...itemControl(item, before[item.key], Boolean(original)) })) : [];
  const notes = h('textarea', { name: 'notes', rows: '4', maxlength: '4000', value: original ? original.notes || '' : null });
  const followUp = checkbox('需要跟进', 'follow_up', original && original.follow_up);
  const amend = original ? amendFields(original, { kind: '走访记录', at: 'visited_at', atLabel: '走访时间',
    extra: reviewNote(original) }) : null;
  const form = h('form', { class: 'stack', 'data-draft': 'visit' }, amend && amend.el, gps.el,
    template ? h('div', { class: 'card' }, h('h2', {}, `${template.title}（第 ${template.version} 版）`), controls.map((x) => x.el))
      : h('p', { class: 'banner warn' }, '尚未下载走访清单，联网同步后可填写清单；现在可只记录备注。'),
    field('走访情况', notes), followUp,
    h('button', { type: 'submit', class: 'btn primary wide' }, original ? '保存更正' : '保存走访'));
  const began = beganAt(form);
  onSave(form, async () => {
    const correction = amend ? amend.read() : {};
    if (!correction) return false;
    const data = { child_id: childId, visited_at: began(),
      template_version: template ? template.version : (original ? original.template_version ?? null : null),
      answers: readAnswers(form, controls, template, before), notes: notes.value || null, follow_up: form.querySelector('input[name="follow_up"]').checked,
      ...correction };
    if (gps.fix.lat !== null) Object.assign(data, gps.fix);
    const visitId = await store.create('visit', data, [], [], form);
    toast(original ? '更正已保存在本机，待同步' : '走访已保存在本机，待同步');
    moveOn(form, `#/child/${childId}`);
    // A correction asks again only for signs its original did not show: those were asked about then.
    const prompt = await cluePrompt();
    const shown = original ? signsOf(prompt, original.answers, c).map((s) => s.key) : [];
    const signs = signsOf(prompt, data.answers, c);
    if (signs.some((s) => !shown.includes(s.key))) askForClue(prompt, signs, childId, visitId);
  });
  return page(original ? `更正走访 ${c.name}` : `走访 ${c.name}`, form);
}
