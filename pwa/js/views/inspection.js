// Record an inspection: the checklist for the venue type (the five musts first for lodging);
// a failed item gets a rectification deadline.
import { h, field, page, radios, isoNow, today, addDays, toast } from '../ui.js';
import * as store from '../store.js';
import { gpsWidget } from './visit.js';
import { RESULT, VENUE_TYPE } from '../i18n/zh-CN.js';

const DEADLINE_DAYS = { high: 7, medium: 15, low: 30 };
const FIVE_MUSTS = ['verify_identity', 'ask_guardian', 'patrol_visitors', 'report_suspicious', 'contact_guardian'];

function itemBlock(item, index) {
  const name = `r_${item.key}`;
  const deadline = h('input', { type: 'date', name: `d_${item.key}`, value: addDays(today(), DEADLINE_DAYS[item.severity] || 15) });
  const note = h('input', { name: `n_${item.key}`, autocomplete: 'off' });
  const failBox = h('div', { class: 'fail-box', hidden: true }, field('整改期限', deadline), field('问题说明', note));
  const group = radios(`${index + 1}. ${item.label}`, name, Object.entries(RESULT), null,
    (v) => { failBox.hidden = v !== 'fail'; });
  return { item, el: h('div', { class: 'check-item' }, group, item.help ? h('small', { class: 'hint' }, item.help) : null, failBox),
    read: (form) => {
      const picked = form.querySelector(`input[name="${name}"]:checked`);
      if (!picked) return null;
      const answer = { item: item.key, result: picked.value, note: note.value.trim() || null };
      if (picked.value === 'fail') answer.deadline = deadline.value || null;
      return answer;
    } };
}

export async function render(venueId) {
  const v = store.one('venue', venueId);
  if (!v) return page('未找到', h('p', {}, '这个场所不在本机数据中。'));
  const templates = (await store.reference('templates')) || [];
  const template = templates.find((t) => (t.venue_types || []).includes(v.type));
  if (!template) return page(`检查 ${v.name}`, h('p', { class: 'banner warn' }, '尚未下载检查清单，请联网同步后再检查。'));
  const lodging = template.key === 'lodging' || template.items.some((i) => FIVE_MUSTS.includes(i.key));
  const musts = template.items.filter((i) => FIVE_MUSTS.includes(i.key));
  const others = template.items.filter((i) => !FIVE_MUSTS.includes(i.key));
  const blocks = [...(lodging ? musts : []), ...(lodging ? others : template.items)].map(itemBlock);
  const gps = gpsWidget();
  const notes = h('textarea', { name: 'notes', rows: '3' });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'stack' }, gps.el,
    lodging ? h('section', { class: 'card', 'aria-labelledby': 'musts-h' }, h('h2', { id: 'musts-h' }, '“五必须”'),
      blocks.slice(0, musts.length).map((b) => b.el)) : null,
    h('section', { class: 'card', 'aria-labelledby': 'items-h' }, h('h2', { id: 'items-h' }, lodging ? '其他检查项' : template.title),
      blocks.slice(lodging ? musts.length : 0).map((b) => b.el)),
    field('检查情况', notes), error, h('button', { type: 'submit', class: 'btn primary wide' }, '保存检查'));
  form.addEventListener('input', () => form.setAttribute('data-dirty', ''));
  form.addEventListener('change', () => form.setAttribute('data-dirty', ''));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const answers = blocks.map((b) => b.read(form)).filter(Boolean);
    if (!answers.length) { error.textContent = '请至少填写一项检查结果'; return; }
    const data = { venue_id: venueId, inspected_at: isoNow(), template_version: template.version, answers,
      notes: notes.value || null };
    if (gps.fix.lat !== null) Object.assign(data, gps.fix);
    form.removeAttribute('data-dirty');
    await store.create('inspection', data);
    toast('检查已保存在本机，待同步');
    location.hash = '#/venues';
  });
  return page(`检查 ${v.name}`, h('p', {}, `${VENUE_TYPE[v.type] || v.type} · ${template.title}（第 ${template.version} 版）`), form);
}
