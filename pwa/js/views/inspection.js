// Record an inspection: the checklist for the venue type (the five musts first for lodging; on a
// re-inspection, the items still open first), linked to today's joint operation, with optional
// photos; a failed item gets a rectification deadline.
import { h, field, page, radios, checkbox, isoNow, today, addDays, toast } from '../ui.js';
import * as store from '../store.js';
import { newId } from '../crypto.js';
import { fitPhoto, TOO_LARGE } from '../photos.js';
import { chainOf } from '../violations.js';
import { gpsWidget } from './visit.js';
import { todaysOperation } from './venues.js';
import { RESULT, VENUE_TYPE } from '../i18n/zh-CN.js';

const DEADLINE_DAYS = { high: 7, medium: 15, low: 30 };
const FIVE_MUSTS = ['verify_identity', 'ask_guardian', 'patrol_visitors', 'report_suspicious', 'contact_guardian'];

function itemBlock(item, index, open) {
  const name = `r_${item.key}`;
  const deadline = h('input', { type: 'date', name: `d_${item.key}`, min: today(),
    value: addDays(today(), DEADLINE_DAYS[item.severity] || 15) });
  const note = h('input', { name: `n_${item.key}`, autocomplete: 'off' });
  const failBox = h('div', { class: 'fail-box', hidden: true }, field('整改期限', deadline), field('问题说明', note));
  const group = radios(`${index + 1}. ${item.label}`, name, Object.entries(RESULT), null,
    (v) => { failBox.hidden = v !== 'fail'; });
  const previous = open ? h('p', { class: 'previous', 'data-testid': 'previous' },
    `原整改期限 ${open.deadline || '—'}${open.deadline && open.deadline < today() ? '（已逾期）' : ''}`,
    open.note ? ` · 原问题：${open.note}` : '') : null;
  return { item, el: h('div', { class: 'check-item' }, group, previous, item.help ? h('small', { class: 'hint' }, item.help) : null, failBox),
    read: (form) => {
      const picked = form.querySelector(`input[name="${name}"]:checked`);
      if (!picked) return null;
      const answer = { item: item.key, result: picked.value, note: note.value.trim() || null };
      if (picked.value === 'fail') answer.deadline = deadline.value || null;
      return answer;
    } };
}

function photoPicker() {
  const picked = [];
  const input = h('input', { type: 'file', accept: 'image/*', capture: 'environment', 'data-testid': 'photo-input' });
  const error = h('p', { class: 'error', role: 'alert', 'data-testid': 'photo-error' });
  const thumbs = h('ul', { class: 'thumbs', 'aria-live': 'polite' });
  const show = () => thumbs.replaceChildren(...picked.map((p, i) => h('li', {},
    h('img', { src: p.url, alt: `照片 ${i + 1}` }),
    h('button', { type: 'button', class: 'btn small', 'aria-label': `删除照片 ${i + 1}`,
      onclick: () => { URL.revokeObjectURL(p.url); picked.splice(i, 1); show(); } }, '删除'))));
  input.addEventListener('change', async () => {
    error.textContent = '';
    for (const file of [...input.files]) {
      const blob = await fitPhoto(file);
      if (blob) picked.push({ id: newId(), blob, url: URL.createObjectURL(blob) });
      else error.textContent = TOO_LARGE;
    }
    input.value = '';
    show();
  });
  return { picked, el: h('section', { class: 'card', 'aria-labelledby': 'photos-h' }, h('h2', { id: 'photos-h' }, '照片（可选）'),
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

export async function render(venueId, reinspectionOf) {
  const v = store.one('venue', venueId);
  if (!v) return page('未找到', h('p', {}, '这个场所不在本机数据中。'));
  const templates = (await store.reference('templates')) || [];
  const template = templates.find((t) => (t.venue_types || []).includes(v.type));
  if (!template) return page(`检查 ${v.name}`, h('p', { class: 'banner warn' }, '尚未下载检查清单，请联网同步后再检查。'));
  const target = reinspectionOf ? chainOf(venueId, reinspectionOf) : null;
  const open = target ? target.items : [];
  const { first, musts, others, lodging } = orderItems(template, open);
  const byItem = new Map(open.map((o) => [o.item, o]));
  const blocks = [...first, ...musts, ...others].map((item, i) => itemBlock(item, i, byItem.get(item.key)));
  const section = (id, title, list) => (list.length ? h('section', { class: 'card', 'aria-labelledby': id },
    h('h2', { id }, title), list.map((b) => b.el)) : null);
  const gps = gpsWidget();
  const op = todaysOperation();
  const opBox = op ? checkbox(`计入今日联合执法行动（牵头：${op.lead_unit}）`, 'in_operation', true) : null;
  const photos = photoPicker();
  const notes = h('textarea', { name: 'notes', rows: '3' });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'stack' },
    target ? h('p', { class: 'banner info' }, `复查 ${String(target.inspection.inspected_at).slice(0, 10)} 的检查：`
      + `${open.length} 项待整改，先逐项复查；合格的问题将销项。`) : null,
    gps.el, opBox,
    section('open-h', `待复查问题（${first.length}）`, blocks.slice(0, first.length)),
    section('musts-h', '“五必须”', blocks.slice(first.length, first.length + musts.length)),
    section('items-h', first.length || lodging ? '其他检查项' : template.title, blocks.slice(first.length + musts.length)),
    photos.el, field('检查情况', notes), error, h('button', { type: 'submit', class: 'btn primary wide' }, target ? '保存复查' : '保存检查'));
  form.addEventListener('input', () => form.setAttribute('data-dirty', ''));
  form.addEventListener('change', () => form.setAttribute('data-dirty', ''));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const answers = blocks.map((b) => b.read(form)).filter(Boolean);
    if (!answers.length) { error.textContent = '请至少填写一项检查结果'; return; }
    if (answers.some((a) => a.deadline && a.deadline < today())) { error.textContent = '整改期限不能早于今天'; return; }
    const data = { venue_id: venueId, inspected_at: isoNow(), template_version: template.version, answers,
      notes: notes.value || null };
    if (op && form.querySelector('input[name="in_operation"]').checked) data.operation_id = op.id;
    if (target) data.reinspection_of = target.inspection.id;
    if (gps.fix.lat !== null) Object.assign(data, gps.fix);
    const pics = await Promise.all(photos.picked.map(async (p) => ({ id: p.id, bytes: await p.blob.arrayBuffer() })));
    form.removeAttribute('data-dirty');
    await store.create('inspection', data, [], pics);
    photos.picked.forEach((p) => URL.revokeObjectURL(p.url));
    toast(pics.length ? `检查和 ${pics.length} 张照片已保存在本机，待同步` : '检查已保存在本机，待同步');
    location.hash = '#/venues';
  });
  const title = target ? `复查 ${v.name}` : `检查 ${v.name}`;
  return page(title, h('p', {}, `${VENUE_TYPE[v.type] || v.type} · ${template.title}（第 ${template.version} 版）`), form);
}
