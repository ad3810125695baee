// The village head's part of a child's page: the assessment behind the level, plans, the override.
import { h, field, radios, onSave, toast } from '../ui.js';
import * as api from '../api.js';
import { PLAN_STATUS, RISK } from '../i18n/zh-CN.js';
import { decides, errorText, failure } from '../online.js';
import { sync } from '../sync.js';

function overrideForm(child, refresh) {
  let level = child.risk_override || '';
  const reason = h('textarea', { name: 'reason', rows: '2', required: true, minlength: '4', maxlength: '500' });
  const out = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'card', novalidate: true }, h('h3', {}, '调整风险等级'),
    radios('调整为', 'override', [['high', RISK.high], ['medium', RISK.medium], ['low', RISK.low], ['', '按系统评估']],
      level, (v) => { level = v; }),
    field('调整理由（必填，至少 4 个字）', reason, '理由会记入审计日志'), out,
    h('button', { type: 'submit', class: 'btn primary' }, '保存调整'));
  onSave(form, async () => {
    out.textContent = '';
    if (reason.value.trim().length < 4) { out.textContent = '请写明调整理由（至少 4 个字）'; return false; }
    try {
      await api.post(`/api/children/${child.id}/risk-override`, { level: level || null, reason: reason.value.trim() });
    } catch (err) { out.textContent = errorText(err); return false; }
    toast('风险等级已调整');
    await refresh();
    sync();
    return true;
  });
  return form;
}

async function fill(box, id) {
  let child; let plans;
  try {
    [child, plans] = await Promise.all([api.get(`/api/children/${id}/risk`),
      api.get(`/api/plans?child_id=${encodeURIComponent(id)}`).then((r) => r.rows)]);
  } catch (e) { box.replaceChildren(h('h2', {}, '风险评估与帮扶'), failure(e)); return; }
  const labels = child.risk_reason_labels || [];
  const row = (label, value) => [h('dt', {}, label), h('dd', {}, value || '—')];
  box.replaceChildren(h('h2', {}, '风险评估与帮扶'),
    h('dl', { class: 'facts', 'data-testid': 'risk' },
      row('风险等级', RISK[child.risk_level] || '未评估'), row('系统评估', RISK[child.risk_assessed]),
      child.risk_override ? row('负责人调整', `${RISK[child.risk_override]}：${child.risk_override_reason || ''}`) : null,
      row('评估理由', labels.length ? h('ul', {}, labels.map((l) => h('li', {}, l))) : '无')),
    plans.length ? h('ul', { class: 'list' }, plans.map((p) => h('li', {}, h('a', { class: 'item', href: `#/plan/${p.id}` },
      h('strong', {}, `帮扶计划（${PLAN_STATUS[p.status] || p.status}）`),
      h('span', { class: 'meta' }, p.next_review_due ? `下次评估 ${p.next_review_due}` : '查看计划')))))
      : h('p', {}, child.risk_level === 'high' ? '高风险，尚无帮扶计划。' : '暂无帮扶计划。'),
    ...(decides() ? [overrideForm(child, () => fill(box, id))] : []));
}

/** The panel, filled from the server when online; the rest of the page stays local. */
export function headPanel(id) {
  const box = h('section', { class: 'head-panel', 'aria-live': 'polite' }, h('h2', {}, '风险评估与帮扶'));
  if (!navigator.onLine) {
    box.append(h('p', { class: 'banner warn', role: 'status' }, '联网后可查看风险评估理由、帮扶计划和调整风险等级。'));
    return box;
  }
  box.append(h('p', { class: 'loading' }, '正在读取…'));
  fill(box, id);
  return box;
}
