// Record an inspection: the checklist for the venue type (the five musts first for lodging; on a
// re-inspection, the items still open first), linked to today's joint operation, with optional
// photos; a failed item gets a rectification deadline. Or correct one: a new inspection, prefilled
// from the original, that names it and why.
import { h, field, page, radios, checkbox, today, addDays, fmtDate, localDate, moveOn, onSave, toast } from '../ui.js';
import { amendFields, notAmendable } from '../amend.js';
import * as store from '../store.js';
import { newId } from '../crypto.js';
import * as drafts from '../drafts.js';
import { fitPhoto } from '../photos.js';
import { chainOf, openViolations } from '../violations.js';
import { beganAt, gpsWidget } from './visit.js';
import { duringOperation, todaysOperation } from './venues.js';
import { mayInspect, reinspections } from './venue.js';
import { RESULT, VENUE_TYPE } from '../i18n/zh-CN.js';

const DEADLINE_DAYS = { high: 7, medium: 15, low: 30 };
const FIVE_MUSTS = ['verify_identity', 'ask_guardian', 'patrol_visitors', 'report_suspicious', 'contact_guardian'];

/** One checklist item; a correction's (`before`, the original's answer) comes prefilled. */
function itemBlock(item, index, open, before, earliest) {
  const name = `r_${item.key}`;
  const deadline = h('input', { type: 'date', name: `d_${item.key}`, min: earliest,
    value: (before && before.deadline) || addDays(earliest, DEADLINE_DAYS[item.severity] || 15) });
  const note = h('input', { name: `n_${item.key}`, maxlength: '1000', autocomplete: 'off', value: (before && before.note) || null });
  const failBox = h('div', { class: 'fail-box', hidden: !before || before.result !== 'fail' },
    field('整改期限', deadline), field('问题说明', note));
  const group = radios(`${index + 1}. ${item.label}`, name, Object.entries(RESULT), before ? before.result : null,
    (v) => { failBox.hidden = v !== 'fail'; });
  const previous = open ? h('p', { class: 'previous', 'data-testid': 'previous' },
    `原整改期限 ${open.deadline || '—'}${open.deadline && open.deadline < today() ? '（已逾期）' : ''}`,
    open.note ? ` · 原问题：${open.note}` : '') : null;
  return { item, el: h('div', { class: 'check-item', 'data-label': `${index + 1}. ${item.label}` }, group, previous, item.help ? h('small', { class: 'hint' }, item.help) : null, failBox),
    read: (form) => {
      const picked = form.querySelector(`input[name="${name}"]:checked`);
      if (!picked) return null;
      // The note and deadline belong to a failure: an item switched to pass drops them.
      if (picked.value !== 'fail') return { item: item.key, result: picked.value, note: null };
      return { item: item.key, result: 'fail', note: note.value.trim() || null, deadline: deadline.value || null };
    } };
}

/** The photos of an inspection; `keepWith(form)` keeps them with the form's draft (drafts.js), so
 *  that the camera app, which may make the phone drop the tab, takes none of them. */
function photoPicker(amending) {
  const picked = [];
  let form = null;
  const input = h('input', { type: 'file', accept: 'image/*', capture: 'environment', 'data-testid': 'photo-input' });
  const error = h('p', { class: 'error', role: 'alert', 'data-testid': 'photo-error' });
  const thumbs = h('ul', { class: 'thumbs', 'aria-live': 'polite' });
  const add = (id, blob) => picked.push({ id, blob });
  // A thumbnail's address lives until its image has loaded: none is left behind by a form left.
  const thumb = (blob, alt) => {
    const src = URL.createObjectURL(blob);
    const release = () => URL.revokeObjectURL(src);
    return h('img', { src, alt, onload: release, onerror: release });
  };
  const show = () => thumbs.replaceChildren(...picked.map((p, i) => h('li', {},
    thumb(p.blob, `照片 ${i + 1}`),
    h('button', { type: 'button', class: 'btn small', 'aria-label': `删除照片 ${i + 1}`,
      onclick: () => {
        picked.splice(i, 1);
        if (form) drafts.removeFile(form, p.id);
        show();
      } }, '删除'))));
  input.addEventListener('change', async () => {
    error.textContent = '';
    for (const file of [...input.files]) {
      const { blob, problem } = await fitPhoto(file);
      if (problem) { error.textContent = problem; continue; }
      const id = newId();
      add(id, blob);
      if (form) drafts.addFile(form, id, blob);
    }
    input.value = '';
    show();
  });
  const keepWith = (f) => {
    form = f;
    drafts.keepFiles(f, (files) => { files.forEach((file) => add(file.id, file.blob)); show(); });
  };
  return { picked, keepWith, el: h('section', { class: 'card', 'aria-labelledby': 'photos-h' }, h('h2', { id: 'photos-h' }, '照片（可选）'),
    amending ? h('p', { class: 'hint' }, '原记录的照片仍在原记录上；需要时可在这里补拍。') : null,
    field('拍照或选择照片', input, '每张不超过 2 MB。照片加密保存在本机，检查同步后自动上传。'), error, thumbs) };
}

function orderItems(template, open) {
  const lodging = template.key === 'lodging' || template.items.some((i) => FIVE_MUSTS.includes(i.key));
  const openKeys = new Set(open.map((o) => o.item));
  const first = template.items.filter((i) => openKeys.has(i.key));
  const rest = template.items.filter((i) => !openKeys.has(i.key));
  const musts = lodging ? rest.filter((i) => FIVE_MUSTS.includes(i.key)) : [];
  const others = rest.filter((i) => !musts.includes(i));
  return { first, musts, others, lodging };
}

/** Today's joint operation for a new inspection; for a correction, the original's, if it had one. */
function operationBox(original) {
  if (!original) {
    const op = todaysOperation();
    return op && { id: op.id, op, el: checkbox(`计入今日联合执法行动（牵头：${op.lead_unit}）`, 'in_operation', true) };
  }
  if (!original.operation_id) return null;
  const op = store.one('joint_operation', original.operation_id);
  return { id: original.operation_id, el: checkbox(op ? `计入 ${op.date} 的联合执法行动（牵头：${op.lead_unit}）`
    : '计入原记录所属的联合执法行动', 'in_operation', true) };
}

/** What keeps the inspection from being saved, or ''. */
function refusal(data, amending) {
  if (!data.answers.length) return '请至少填写一项检查结果';
  const day = amending ? localDate(new Date(data.inspected_at)) : today();
  if (data.answers.some((a) => a.deadline && a.deadline < day)) return amending ? '整改期限不能早于检查日期' : '整改期限不能早于今天';
  return '';
}

/** The form of a new inspection, a re-inspection of `target`, or a correction of `original`. */
function inspectionForm(v, template, target, original) {
  const open = target ? target.items : [];
  const { first, musts, others, lodging } = orderItems(template, open);
  const byItem = new Map(open.map((o) => [o.item, o]));
  const before = new Map(((original && original.answers) || []).map((a) => [a.item, a]));
  // The server's rule: no deadline before the day of the inspection (a correction keeps its day).
  const earliest = original ? localDate(new Date(original.inspected_at)) : today();
  const blocks = [...first, ...musts, ...others].map((item, i) => itemBlock(item, i, byItem.get(item.key),
    before.get(item.key), earliest));
  const section = (id, title, list) => (list.length ? h('section', { class: 'card', 'aria-labelledby': id },
    h('h2', { id }, title), list.map((b) => b.el)) : null);
  const kind = original && original.reinspection_of ? '复查记录' : '检查记录';
  const amend = original ? amendFields(original, { kind, at: 'inspected_at', atLabel: '检查时间' }) : null;
  const gps = gpsWidget(original, '该场所');
  const opBox = operationBox(original);
  const photos = photoPicker(Boolean(original));
  const notes = h('textarea', { name: 'notes', rows: '3', maxlength: '4000', value: original ? original.notes || '' : null });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'stack', 'data-draft': 'inspection' }, amend && amend.el,
    target ? h('p', { class: 'banner info' }, `复查 ${fmtDate(target.inspection.inspected_at)} 的检查：`
      + `${open.length} 项待整改，先逐项复查；合格的问题将销项。`) : null,
    gps.el, opBox && opBox.el,
    section('open-h', `待复查问题（${first.length}）`, blocks.slice(0, first.length)),
    section('musts-h', '“五必须”', blocks.slice(first.length, first.length + musts.length)),
    section('items-h', first.length || lodging ? '其他检查项' : template.title, blocks.slice(first.length + musts.length)),
    photos.el, field('检查情况', notes), error,
    h('button', { type: 'submit', class: 'btn primary wide' }, original ? '保存更正' : target ? '保存复查' : '保存检查'));
  const began = beganAt(form);
  onSave(form, async () => {
    const correction = amend ? amend.read() : {};
    if (!correction) return false;
    const answers = blocks.map((b) => b.read(form)).filter(Boolean);
    const data = { venue_id: v.id, inspected_at: began(), template_version: template.version, answers,
      notes: notes.value || null, ...correction };
    const joined = opBox && form.querySelector('input[name="in_operation"]').checked;
    // Typing put back from another day (drafts.js) is dated then: today's operation was not its own.
    const day = localDate(new Date(data.inspected_at));
    error.textContent = refusal(data, Boolean(original))
      || (joined && !original && !duringOperation(opBox.op, data.inspected_at)
        ? `这次检查开始于 ${day}，不能计入今日联合执法行动，请取消勾选。` : '');
    if (error.textContent) return false;
    if (joined) data.operation_id = opBox.id;
    const recheck = target ? target.inspection.id : original && original.reinspection_of;
    if (recheck) data.reinspection_of = recheck;
    if (gps.fix.lat !== null) Object.assign(data, gps.fix);
    const pics = await Promise.all(photos.picked.map(async (p) => ({ id: p.id, bytes: await p.blob.arrayBuffer() })));
    await store.create('inspection', data, [], pics, form);
    const what = original ? '更正' : '检查';
    toast(pics.length ? `${what}和 ${pics.length} 张照片已保存在本机，待同步` : `${what}已保存在本机，待同步`);
    moveOn(form, original ? `#/venue/${v.id}` : '#/venues');
  });
  photos.keepWith(form);
  return form;
}

/** `#/inspect/{venue}`, `#/inspect/{venue}/{inspection to re-inspect}`, `#/inspect/{venue}/amend/{inspection}`. */
export async function render(venueId, arg, amendsId) {
  const v = store.one('venue', venueId);
  if (!v) return page('未找到', h('p', {}, '这个场所不在本机数据中。'));
  if (!mayInspect()) {
    return page(v.name, h('p', { class: 'banner warn' }, '场所检查由联合执法队员记录。'),
      h('p', {}, h('a', { class: 'btn link', href: `#/venue/${venueId}` }, '查看该场所的检查记录')));
  }
  const original = arg === 'amend' ? store.one('inspection', amendsId) : null;
  if (arg === 'amend') {
    const ours = original && original.venue_id === venueId ? original : null;
    const why = notAmendable('inspection', ours, '检查记录', 'inspector_id');
    if (why) return page(`更正检查 ${v.name}`, h('p', { class: 'banner warn' }, why), h('a', { href: `#/venue/${venueId}` }, '返回场所'));
  }
  const templates = (await store.reference('templates')) || [];
  const template = templates.find((t) => (t.venue_types || []).includes(v.type));
  if (!template) return page(`检查 ${v.name}`, h('p', { class: 'banner warn' }, '尚未下载检查清单，请联网同步后再检查。'));
  const target = arg && arg !== 'amend' ? chainOf(venueId, arg) : null;
  const title = original ? `更正检查 ${v.name}` : target ? `复查 ${v.name}` : `检查 ${v.name}`;
  // A new inspection closes no earlier failure (only a re-inspection of its chain does).
  const open = original || target ? [] : openViolations(venueId);
  return page(title, h('p', {}, `${VENUE_TYPE[v.type] || v.type} · ${template.title}（第 ${template.version} 版）`),
    open.length ? h('p', { class: 'banner warn', 'data-testid': 'open-before' },
      `该场所有 ${open.length} 项待整改。新的检查不会为这些问题销项，整改情况请在复查中记录：`,
      reinspections(v, open)) : null,
    inspectionForm(v, template, target, original));
}
